/** The `npm start` command line: config, LAN addresses, the banner, the secret file, and the real process. */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { banner, readConfig } from '../../signal/cli.ts';
import { httpUrl, lanAddresses, reachableHosts } from '../../signal/lan.ts';
import { defaultStateDir, loadOrCreateSecret } from '../../signal/secret-file.ts';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'padmesh-cli-'));
  dirs.push(dir);
  return dir;
}

describe('readConfig', () => {
  it('takes flags over environment over defaults', () => {
    expect(readConfig([], {})).toEqual({ host: '0.0.0.0', port: 8080, capacity: 16 });
    expect(readConfig([], { HOST: '127.0.0.1', PORT: '9000', PADMESH_CAPACITY: '4' })).toEqual({
      host: '127.0.0.1',
      port: 9000,
      capacity: 4,
    });
    expect(readConfig(['--host', '::', '--port', '0', '--capacity', '8'], { HOST: 'x', PORT: '1' })).toEqual({
      host: '::',
      port: 0,
      capacity: 8,
    });
    expect(readConfig(['--help'], {})).toBe('help');
  });

  it('refuses bad values with a clear message', () => {
    expect(() => readConfig(['--port', 'eighty'], {})).toThrow(
      '--port must be a whole number from 0 to 65535, not "eighty"',
    );
    expect(() => readConfig([], { PORT: '70000' })).toThrow('--port');
    expect(() => readConfig(['--capacity', '0'], {})).toThrow('--capacity');
    expect(() => readConfig(['--colour', 'red'], {})).toThrow();
  });
});

describe('LAN addresses', () => {
  const interfaces = {
    lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
    docker0: [{ address: '172.17.0.1', family: 'IPv4', internal: false }],
    eth0: [{ address: '100.64.1.2', family: 'IPv4', internal: false }],
    wlan0: [
      { address: '192.168.1.23', family: 'IPv4', internal: false },
      { address: 'fe80::1', family: 'IPv6', internal: false },
    ],
  } as unknown as Parameters<typeof lanAddresses>[0];

  it('lists home-network addresses first, virtual interfaces last, no loopback or IPv6', () => {
    expect(lanAddresses(interfaces)).toEqual(['192.168.1.23', '100.64.1.2', '172.17.0.1']);
  });

  it('lists every LAN address for a wildcard host, else the host itself', () => {
    expect(reachableHosts('0.0.0.0', interfaces)).toEqual(['192.168.1.23', '100.64.1.2', '172.17.0.1']);
    expect(reachableHosts('192.168.1.23', interfaces)).toEqual(['192.168.1.23']);
  });

  it('formats URLs, with brackets for IPv6', () => {
    expect(httpUrl('192.168.1.23', 8080, '/join')).toBe('http://192.168.1.23:8080/join');
    expect(httpUrl('fe80::1', 8080, '/')).toBe('http://[fe80::1]:8080/');
    expect(httpUrl('host', 80, '')).toBe('http://host');
  });
});

describe('banner', () => {
  it('shows the DAW URLs, the join URL and the QR code', () => {
    const text = banner(['192.168.1.23', '10.0.0.5'], 8080, '▄▄▄\n█ █');
    expect(text).toContain('http://localhost:8080/daw');
    expect(text).toContain('http://192.168.1.23:8080/daw');
    expect(text).toContain('http://10.0.0.5:8080/daw');
    expect(text).toContain('Phones join at:       http://192.168.1.23:8080/join');
    expect(text).toContain('  ▄▄▄\n  █ █');
  });

  it('says what to do when there is no LAN', () => {
    expect(banner([], 8080, null)).toContain('No LAN address found');
  });
});

describe('the token secret file', () => {
  it('is created once (mode 0600) and read back after', () => {
    const dir = join(tempDir(), 'state');
    const secret = loadOrCreateSecret(dir);
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect(loadOrCreateSecret(dir)).toBe(secret);
    const file = join(dir, 'token-secret');
    expect(readFileSync(file, 'utf8').trim()).toBe(secret);
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('lives where the environment says', () => {
    expect(defaultStateDir({ PADMESH_STATE_DIR: '/x/y' })).toBe('/x/y');
    expect(defaultStateDir({ XDG_STATE_HOME: '/s' })).toBe(join('/s', 'padmesh'));
  });
});

/** Runs `tsx signal/main.ts`, collects its output, resolves once `until` appears in it. */
function run(args: string[], until: RegExp, env: NodeJS.ProcessEnv = {}) {
  const child = spawn(join('node_modules', '.bin', 'tsx'), ['signal/main.ts', ...args], {
    env: { ...process.env, PADMESH_STATE_DIR: tempDir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const seen = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${until} in time; output:\n${output}`)), 10_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (until.test(output)) {
        clearTimeout(timer);
        resolve(output);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', () => {
      clearTimeout(timer);
      if (until.test(output)) resolve(output);
      else reject(new Error(`exited without ${until}; output:\n${output}`));
    });
  });
  return { child, seen, exited };
}

describe('the server process', () => {
  it('prints its URLs and a QR code, serves, and stops cleanly on SIGTERM', async () => {
    const { child, seen, exited } = run(['--host', '127.0.0.1', '--port', '0'], /Ctrl-C stops the server/);
    const output = await seen;
    const port = Number(/localhost:(\d+)\/daw/.exec(output)?.[1]);
    expect(port).toBeGreaterThan(0);
    expect(output).toContain(`Phones join at:       http://127.0.0.1:${port}/join`);
    expect(output).toMatch(/[▄▀█]/); // the terminal QR code
    const health = await fetch(`http://127.0.0.1:${port}/healthz`).then((reply) => reply.json());
    expect(health).toMatchObject({ status: 'ok', protocol: 1 });
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  });

  it('exits with a usage message on a bad flag', async () => {
    const { seen, exited } = run(['--port', 'nope'], /must be a whole number/);
    expect(await seen).toContain('Usage: npm start');
    expect(await exited).toBe(2);
  });

  it('says so when the port is taken', async () => {
    const first = run(['--host', '127.0.0.1', '--port', '0'], /Ctrl-C stops the server/);
    const port = Number(/localhost:(\d+)\/daw/.exec(await first.seen)?.[1]);
    const second = run(['--host', '127.0.0.1', '--port', String(port)], /is in use/);
    expect(await second.seen).toContain(`Port ${port} is in use`);
    expect(await second.exited).toBe(1);
  });
});

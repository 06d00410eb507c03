/** The `npm start` command line: config, LAN addresses, the banner, the secret file, and the real process. */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { banner, readConfig } from '../../signal/cli.ts';
import { httpUrl, lanAddresses, reachableHosts } from '../../signal/lan.ts';
import { defaultStateDir, fileBanStore, loadOrCreateSecret } from '../../signal/state-dir.ts';
import { closeUdpSockets, freeUdpPort, stunAnswers, udpSocket } from '../helpers/udp.ts';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  closeUdpSockets();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'padmesh-cli-'));
  dirs.push(dir);
  return dir;
}

describe('readConfig', () => {
  it('takes flags over environment over defaults', () => {
    const defaults = { allowedHosts: [], trustProxy: false, httpsPort: null };
    expect(readConfig([], {})).toEqual({ host: '0.0.0.0', port: 8080, stunPort: 3478, capacity: 16, ...defaults });
    expect(
      readConfig([], { HOST: '127.0.0.1', PORT: '9000', PADMESH_STUN_PORT: '3479', PADMESH_CAPACITY: '4' }),
    ).toEqual({
      host: '127.0.0.1',
      port: 9000,
      stunPort: 3479,
      capacity: 4,
      ...defaults,
    });
    expect(
      readConfig(['--host', '::', '--port', '0', '--stun-port', '5000', '--capacity', '8'], {
        HOST: 'x',
        PORT: '1',
        PADMESH_STUN_PORT: '3479',
      }),
    ).toEqual({
      host: '::',
      port: 0,
      stunPort: 5000,
      capacity: 8,
      ...defaults,
    });
    expect(readConfig(['--help'], {})).toBe('help');
  });

  it('takes a Redis URL and a secret file for several instances, from flags or environment', () => {
    expect(readConfig([], {})).not.toHaveProperty('redis', expect.anything());
    expect(readConfig(['--redis', 'redis://10.0.0.5:6379', '--secret-file', '/run/padmesh/secret'], {})).toMatchObject({
      redis: 'redis://10.0.0.5:6379',
      secretFile: '/run/padmesh/secret',
    });
    expect(readConfig([], { REDIS_URL: 'rediss://cache:6380/0', PADMESH_SECRET_FILE: '/s' })).toMatchObject({
      redis: 'rediss://cache:6380/0',
      secretFile: '/s',
    });
    expect(() => readConfig(['--redis', 'http://cache:6379'], {})).toThrow(/redis:\/\//);
  });

  it('turns STUN off with port 0', () => {
    expect(readConfig(['--stun-port', '0'], {})).toMatchObject({ stunPort: null });
    expect(readConfig([], { PADMESH_STUN_PORT: '0' })).toMatchObject({ stunPort: null });
  });

  it('takes extra host names, repeated or from the environment, and the proxy switch', () => {
    expect(readConfig(['--allowed-host', 'jam.lan', '--allowed-host', '[fe80::1]', '--trust-proxy'], {})).toMatchObject(
      {
        allowedHosts: ['jam.lan', 'fe80::1'],
        trustProxy: true,
      },
    );
    expect(readConfig([], { PADMESH_ALLOWED_HOSTS: 'a.lan, b.lan,' })).toMatchObject({
      allowedHosts: ['a.lan', 'b.lan'],
    });
    expect(() => readConfig(['--allowed-host', 'http://x/'], {})).toThrow('--allowed-host');
  });

  it('serves HTTPS only when asked, on 8443 unless told otherwise', () => {
    expect(readConfig(['--https'], {})).toMatchObject({ port: 8080, httpsPort: 8443 });
    expect(readConfig(['--https', '--https-port', '0'], {})).toMatchObject({ httpsPort: 0 });
    expect(readConfig([], { PADMESH_HTTPS: '1', PADMESH_HTTPS_PORT: '9443' })).toMatchObject({ httpsPort: 9443 });
    expect(readConfig([], { PADMESH_HTTPS: 'no', PADMESH_HTTPS_PORT: '9443' })).toMatchObject({ httpsPort: null });
    expect(() => readConfig(['--https-port', '9443'], {})).toThrow('--https-port needs --https');
    expect(() => readConfig(['--https', '--https-port', 'x'], {})).toThrow('--https-port must be a whole number');
  });

  it('refuses bad values with a clear message', () => {
    expect(() => readConfig(['--port', 'eighty'], {})).toThrow(
      '--port must be a whole number from 0 to 65535, not "eighty"',
    );
    expect(() => readConfig([], { PORT: '70000' })).toThrow('--port');
    expect(() => readConfig(['--capacity', '0'], {})).toThrow('--capacity');
    expect(() => readConfig(['--stun-port', '65536'], {})).toThrow(
      '--stun-port must be a whole number from 0 to 65535',
    );
    expect(() => readConfig([], { PADMESH_STUN_PORT: 'on' })).toThrow('--stun-port');
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

  it('leaves virtual interfaces (containers, VPNs) out when asked: what /api/lan tells the DAW page', () => {
    const withVpn = { ...interfaces, tailscale0: [{ address: '100.101.1.1', family: 'IPv4', internal: false }] };
    expect(reachableHosts('0.0.0.0', withVpn as unknown as typeof interfaces, { virtual: false })).toEqual([
      '192.168.1.23',
      '100.64.1.2',
    ]);
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
    const text = banner(['192.168.1.23', '10.0.0.5'], 8080, '▄▄▄\n█ █', { on: true, port: 3478 });
    expect(text).toContain('http://localhost:8080/daw');
    expect(text).toContain('http://192.168.1.23:8080/daw');
    expect(text).toContain('http://10.0.0.5:8080/daw');
    expect(text).toContain('Phones join at:       http://192.168.1.23:8080/join');
    expect(text).toContain('  ▄▄▄\n  █ █');
  });

  it('says what to do when there is no LAN', () => {
    expect(banner([], 8080, null, { on: true, port: 3478 })).toContain('No LAN address found');
  });

  it('with HTTPS, sends phones to https and says what their browser will show', () => {
    const text = banner(['192.168.1.23'], 8080, null, { on: true, port: 3478 }, { port: 8443, fingerprint: 'AB:CD' });
    expect(text).toContain('DAW, on this laptop:  http://localhost:8080/daw');
    expect(text).toContain('Phones join at:       https://192.168.1.23:8443/join');
    expect(text).toContain('HTTPS on port 8443 (plain http stays on 8080)');
    expect(text).toContain('"visit this website"');
    expect(text).toContain('AB:CD');
    expect(banner(['192.168.1.23'], 8080, null, { on: true, port: 3478 })).not.toContain('https');
  });

  it('says whether STUN is on, and why not', () => {
    expect(banner([], 8080, null, { on: true, port: 3478 })).toContain('STUN on udp/3478');
    expect(banner([], 8080, null, { on: false, wanted: null })).toContain('STUN off (--stun-port 0)');
    expect(banner([], 8080, null, { on: false, wanted: 3478 })).toContain(
      'STUN off: udp/3478 could not be opened (see above); --stun-port picks another.',
    );
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

  it('tightens a folder and file it finds readable by others (they hold the secret)', () => {
    const dir = join(tempDir(), 'loose');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    writeFileSync(join(dir, 'token-secret'), 'an-old-secret-0123456789abcdef\n', { mode: 0o644 });
    chmodSync(join(dir, 'token-secret'), 0o644);
    expect(loadOrCreateSecret(dir)).toBe('an-old-secret-0123456789abcdef');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'token-secret')).mode & 0o777).toBe(0o600);
  });

  it('refuses, saying how to fix it, a loose folder of another user, a symbolic link, or a folder for a file', () => {
    const dir = join(tempDir(), 'theirs');
    mkdirSync(dir, { mode: 0o777 });
    chmodSync(dir, 0o777);
    const someoneElse = { uid: (process.getuid?.() ?? 0) + 4242 };
    expect(() => loadOrCreateSecret(dir, someoneElse)).toThrow(/belongs to user .*chmod 700/);
    expect(statSync(dir).mode & 0o777).toBe(0o777); // not touched
    const linked = join(tempDir(), 'linked');
    symlinkSync(tempDir(), linked);
    expect(() => loadOrCreateSecret(linked)).toThrow(/symbolic link/);
    const odd = join(tempDir(), 'odd');
    mkdirSync(join(odd, 'token-secret'), { recursive: true, mode: 0o700 });
    chmodSync(odd, 0o700);
    expect(() => loadOrCreateSecret(odd)).toThrow(/not a regular file/);
  });

  it('keeps the bans beside it, privately, written whole', () => {
    const dir = join(tempDir(), 'state');
    const store = fileBanStore(dir);
    expect(store.load()).toEqual([]);
    const records = [
      { room: 'ACDEF3', daw: 'd1', devices: ['x'], addresses: ['10.0.0.2'], peerIds: ['p'], expiresAt: null },
    ];
    store.save(records);
    expect(fileBanStore(dir).load()).toEqual(records);
    expect(statSync(join(dir, 'bans.json')).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).sort()).toEqual(['bans.json']);
  });

  it('lives where the environment says', () => {
    expect(defaultStateDir({ PADMESH_STATE_DIR: '/x/y' })).toBe('/x/y');
    expect(defaultStateDir({ XDG_STATE_HOME: '/s' })).toBe(join('/s', 'padmesh'));
  });
});

/**
 * Runs `signal/main.ts` (node with tsx's loader: one process, so killing it leaves no
 * orphan, as the `tsx` wrapper's child would be), collects its output, resolves once
 * `until` appears in it.
 */
function run(args: string[], until: RegExp, env: NodeJS.ProcessEnv = {}, waitMs = 10_000) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'signal/main.ts', ...args], {
    env: { ...process.env, PADMESH_STATE_DIR: tempDir(), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const seen = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${until} in time; output:\n${output}`)), waitMs);
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

/** Two starts of the real process, a certificate made in one: slower than the others on a busy machine. */
const HTTPS_START_MS = 30_000;

describe('the server process', () => {
  it('prints its URLs, a QR code and its STUN port, serves, and stops cleanly on SIGTERM', async () => {
    const stunPort = await freeUdpPort();
    const { child, seen, exited } = run(['--host', '127.0.0.1', '--port', '0'], /Ctrl-C stops the server/, {
      PADMESH_STUN_PORT: String(stunPort),
    });
    const output = await seen;
    const port = Number(/localhost:(\d+)\/daw/.exec(output)?.[1]);
    expect(port).toBeGreaterThan(0);
    expect(output).toContain(`Phones join at:       http://127.0.0.1:${port}/join`);
    expect(output).toMatch(/[▄▀█]/); // the terminal QR code
    expect(output).toContain(`STUN on udp/${stunPort}`);
    expect(await stunAnswers(stunPort)).toBe(true);
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
    const first = run(['--host', '127.0.0.1', '--port', '0', '--stun-port', '0'], /Ctrl-C stops the server/);
    const port = Number(/localhost:(\d+)\/daw/.exec(await first.seen)?.[1]);
    const second = run(['--host', '127.0.0.1', '--port', String(port), '--stun-port', '0'], /is in use/);
    expect(await second.seen).toContain(`Port ${port} is in use`);
    expect(await second.exited).toBe(1);
  });

  it('runs without STUN, and says why, when the STUN port is taken', async () => {
    const taken = (await udpSocket()).address().port;
    const { seen } = run(['--host', '127.0.0.1', '--port', '0', '--stun-port', String(taken)], /Ctrl-C stops/);
    const output = await seen;
    expect(output).toContain(`padmesh: STUN is off: UDP port ${taken} on 127.0.0.1 is in use`);
    expect(output).toContain(`STUN off: udp/${taken} could not be opened`);
    const port = Number(/localhost:(\d+)\/daw/.exec(output)?.[1]);
    const health = await fetch(`http://127.0.0.1:${port}/healthz`).then((reply) => reply.json());
    expect(health).toMatchObject({ status: 'ok' });
  });

  it(
    'with --https, makes a certificate once, keeps it, and serves phones over https',
    async () => {
      const stateDir = tempDir();
      const args = ['--host', '127.0.0.1', '--port', '0', '--stun-port', '0', '--https', '--https-port', '0'];
      const first = run(args, /Ctrl-C stops/, { PADMESH_STATE_DIR: stateDir }, HTTPS_START_MS);
      const output = await first.seen;
      expect(output).toContain(`making a new HTTPS certificate in ${stateDir} (none was kept)`);
      const httpsPort = Number(/Phones join at: +https:\/\/127\.0\.0\.1:(\d+)\/join/.exec(output)?.[1]);
      expect(httpsPort).toBeGreaterThan(0);
      expect(output).toContain('visit this website');
      const cert = readFileSync(join(stateDir, 'tls-cert.pem'), 'utf8');
      expect(statSync(join(stateDir, 'tls-key.pem')).mode & 0o777).toBe(0o600);
      // A client that trusts this certificate alone reaches it at the address the banner gives.
      const health = await new Promise<string>((resolve, reject) => {
        httpsGet({ host: '127.0.0.1', port: httpsPort, path: '/healthz', ca: cert }, (res) => {
          let body = '';
          res.on('data', (chunk: Buffer) => {
            body += chunk.toString();
          });
          res.on('end', () => resolve(body));
        }).on('error', reject);
      });
      expect(JSON.parse(health)).toMatchObject({ status: 'ok' });
      first.child.kill('SIGTERM');
      expect(await first.exited).toBe(0);
      // The next start keeps it: phones that accepted it are not asked again.
      const second = run(args, /Ctrl-C stops/, { PADMESH_STATE_DIR: stateDir }, HTTPS_START_MS);
      expect(await second.seen).not.toContain('making a new HTTPS certificate');
      expect(readFileSync(join(stateDir, 'tls-cert.pem'), 'utf8')).toBe(cert);
    },
    3 * HTTPS_START_MS,
  );

  it('runs without STUN when told to', async () => {
    const { seen } = run(['--host', '127.0.0.1', '--port', '0', '--stun-port', '0'], /Ctrl-C stops/);
    const output = await seen;
    expect(output).toContain('STUN off (--stun-port 0)');
    expect(output).not.toContain('padmesh: STUN is off');
  });
});

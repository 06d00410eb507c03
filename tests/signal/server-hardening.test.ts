/**
 * The server against what anyone on the WiFi (or a page in another tab) can send it, over real
 * sockets: forged UDP, idle and piled-up TCP connections, a rebuilt client, DNS rebinding,
 * squatting, guessing, floods, renames. Each case is from issue 9 and failed before its fix.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../signal/protocol.ts';
import type { BanStore } from '../../signal/server.ts';
import { Harness, joinMessage, TestClient, WAIT_MS } from '../helpers/clients.ts';
import { closeUdpSockets, stunAnswers } from '../helpers/udp.ts';

let harness: Harness | undefined;
const sockets: Socket[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await harness?.stop();
  harness = undefined;
  closeUdpSockets();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface Reply {
  status: number | string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A GET with the headers given (Host included), bounded in time; a refused connection is its error code. */
function get(port: number, path: string, headers: Record<string, string> = {}, localAddress?: string): Promise<Reply> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path, headers, ...(localAddress ? { localAddress } : {}) },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      },
    );
    req.setTimeout(WAIT_MS, () => req.destroy(new Error('timed out')));
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ status: error.code ?? error.message, headers: {}, body: '' }),
    );
    req.end();
  });
}

/** A raw TCP connection from `localAddress` that sends nothing; resolves once connected. */
function idleConnection(
  port: number,
  localAddress = '127.0.0.1',
): Promise<{ socket: Socket; received: () => string; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress });
    sockets.push(socket);
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      received += chunk;
    });
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.once('error', () => {});
    socket.once('connect', () => resolve({ socket, received: () => received, closed }));
    socket.once('error', reject);
  });
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function tempApp(html = '<!doctype html><title>padmesh</title><script src="/assets/app-1.js"></script>'): string {
  const dir = mkdtempSync(join(tmpdir(), 'padmesh-hardening-'));
  dirs.push(dir);
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), html);
  writeFileSync(join(dir, 'assets', 'app-1.js'), 'console.log("build 1")');
  return dir;
}

describe('crashes (issue 9, 1–2)', () => {
  it('survives a STUN datagram from source port 0 (forged: no socket has port 0)', async () => {
    harness = await Harness.start({ stunPort: 0 });
    const stunPort = harness.server.stunPort as number;
    // Only a raw socket can send from port 0: this test runs in the suite's own network namespace,
    // where it may open one. A valid Binding request, so that the server tries to answer it.
    const script = `
import socket, struct, sys
payload = bytes.fromhex('000100002112a442' + '0102030405060708090a0b0c')
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_UDP)
s.sendto(struct.pack('!HHHH', 0, ${stunPort}, 8 + len(payload), 0) + payload, ('127.0.0.1', 0))
`;
    const sent = spawnSync('python3', ['-c', script], { encoding: 'utf8', timeout: 10_000 });
    expect(sent.status, `python3 could not send from port 0: ${sent.stderr}`).toBe(0);
    // Still alive: it answers STUN and HTTP.
    expect(await stunAnswers(stunPort)).toBe(true);
    expect((await get(harness.server.port, '/healthz')).status).toBe(200);
  });

  it('closes connections that send nothing, and caps connections per address (429)', async () => {
    harness = await Harness.start({
      staticDir: tempApp(),
      limits: { maxConnectionsPerAddress: 4, idleConnectionMs: 300 },
    });
    const { port } = harness.server;
    const idle = await Promise.all([1, 2, 3, 4].map(() => idleConnection(port)));
    // Past the cap: told so, and closed.
    const extra = await idleConnection(port);
    await within(extra.closed, WAIT_MS, 'the connection over the cap to close');
    expect(extra.received()).toMatch(/^HTTP\/1\.1 429 /);
    // Another address is not held back by them.
    expect((await get(port, '/', {}, '127.0.0.2')).status).toBe(200);
    // The silent ones are closed after idleConnectionMs (a 0-byte connection used to stay forever).
    await within(Promise.all(idle.map((c) => c.closed)), WAIT_MS, 'the idle connections to close');
    expect((await get(port, '/')).status).toBe(200);
  });

  it('serves the build it started with when the client is rebuilt under it (old assets stay, no ENOENT)', async () => {
    const app = tempApp();
    harness = await Harness.start({ staticDir: app });
    const { port } = harness.server;
    expect((await get(port, '/assets/app-1.js')).body).toBe('console.log("build 1")');
    // A rebuild (or a second `npm start`'s build) replaces the hashed files.
    rmSync(join(app, 'assets', 'app-1.js'));
    writeFileSync(join(app, 'assets', 'app-2.js'), 'console.log("build 2")');
    writeFileSync(join(app, 'index.html'), '<!doctype html><script src="/assets/app-2.js"></script>');
    const old = await get(port, '/assets/app-1.js');
    expect(old.status).toBe(200);
    expect(old.body).toBe('console.log("build 1")');
    expect((await get(port, '/')).body).toContain('app-1.js'); // one consistent build until a restart
    expect((await get(port, '/assets/app-2.js')).status).toBe(404);
  });

  it('keeps serving when it runs out of open files, once the connections holding them go', async () => {
    // A server process of its own with only 96 open files, filled by idle connections from
    // many addresses (each under the per-address cap).
    const app = tempApp();
    const script = `
      import { createSignalServer } from ${JSON.stringify(join(process.cwd(), 'signal', 'server.ts'))};
      const server = await createSignalServer({ host: '127.0.0.1', port: 0, staticDir: ${JSON.stringify(app)},
        limits: { idleConnectionMs: 1000 } });
      console.log('PORT ' + server.port);`;
    const file = join(app, 'server.mts');
    writeFileSync(file, script);
    const { spawn } = await import('node:child_process');
    const child = spawn('prlimit', ['--nofile=96:96', process.execPath, '--import', 'tsx', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      output += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const port = await within(
        new Promise<number>((resolve) => {
          const check = setInterval(() => {
            const match = /PORT (\d+)/.exec(output);
            if (match) {
              clearInterval(check);
              resolve(Number(match[1]));
            }
          }, 20);
        }),
        20_000,
        `the server to start (${output})`,
      );
      const held = [];
      for (let i = 0; i < 120; i++) held.push(idleConnection(port, `127.0.1.${1 + (i % 60)}`).catch(() => null));
      await Promise.all(held);
      // Page loads while every file is taken: some are refused; none may end the process.
      for (let i = 0; i < 5; i++) await get(port, i % 2 ? '/' : '/assets/app-1.js');
      for (const socket of sockets.splice(0)) socket.destroy();
      // Once they are gone (or reaped as idle), pages load again.
      await expect.poll(async () => (await get(port, '/')).status, { timeout: 10_000 }).toBe(200);
      expect(child.exitCode, output).toBeNull();
    } finally {
      child.kill();
      await exited;
    }
  });
});

describe('DNS rebinding (issue 9, 3)', () => {
  it('answers only to names that are this machine’s own, on every route and the upgrade', async () => {
    harness = await Harness.start({ staticDir: tempApp(), allowedHosts: ['jam.lan'] });
    const { port } = harness.server;
    for (const path of ['/', '/daw', '/healthz', '/api/lan', '/assets/app-1.js']) {
      const rebound = await get(port, path, { Host: `attacker.example:${port}` });
      expect(rebound.status, path).toBe(403);
      expect(rebound.body, path).toContain('HOST_NOT_ALLOWED');
      expect(rebound.body, path).toContain('--allowed-host attacker.example');
    }
    for (const host of [
      `localhost:${port}`,
      `127.0.0.1:${port}`,
      `[::1]:${port}`,
      'LOCALHOST.',
      `jam.lan:${port}`,
      'app.localhost',
    ]) {
      expect((await get(port, '/healthz', { Host: host })).status, host).toBe(200);
    }
    for (const host of ['a b', 'evil.example:80x', '[::1', `127.0.0.1.attacker.example:${port}`]) {
      expect((await get(port, '/healthz', { Host: host })).status, JSON.stringify(host)).toBe(403);
    }
    // No Host at all (HTTP/1.0 allows it): nothing says it is for us.
    const bare = await idleConnection(port);
    bare.socket.write('GET /healthz HTTP/1.0\r\n\r\n');
    await within(bare.closed, WAIT_MS, 'the answer to a request without Host');
    expect(bare.received()).toMatch(/^HTTP\/1\.1 403 /);
    // The rebinding page's socket: its Origin agrees with its Host, and neither is ours.
    await expect(
      TestClient.open(harness.url, { headers: { Host: 'attacker.example' }, origin: 'http://attacker.example' }),
    ).rejects.toThrow('403');
    (await TestClient.open(harness.url, { origin: `http://127.0.0.1:${port}` })).close();
  });
});

describe('lockouts and takeovers (issue 9, 4–7)', () => {
  it('never holds back a join with a valid token, whatever others on its address guessed', async () => {
    harness = await Harness.start({ limits: { failedJoinRate: { perSecond: 0.001, burst: 3 } } });
    const { client: daw, welcome } = await harness.join({ role: 'daw' });
    const phone = await harness.join({ room: welcome.room, deviceId: 'resuming-phone-1' });
    const guesser = await harness.open();
    for (let i = 0; i < 3; i++) {
      guesser.send(joinMessage({ room: 'ACDEF3' }));
      await guesser.error();
    }
    guesser.send(joinMessage({ room: welcome.room }));
    expect(await guesser.error()).toMatchObject({ code: ErrorCode.RATE_LIMITED });
    // The DAW's tab reloads on the same address: its hostToken gets it in.
    daw.close();
    const back = await harness.join({ role: 'daw', room: welcome.room, hostToken: welcome.hostToken as string });
    expect(back.welcome.peerId).toBe(welcome.peerId);
    // So does a phone resuming with its token; a bad token is a guess like any other.
    phone.client.close();
    const resumed = await harness.join({
      room: welcome.room,
      deviceId: 'resuming-phone-1',
      resumeToken: phone.welcome.resumeToken,
    });
    expect(resumed.welcome.peerId).toBe(phone.welcome.peerId);
    const forged = await harness.open();
    forged.send(
      joinMessage({ room: welcome.room, deviceId: 'resuming-phone-1', resumeToken: `${phone.welcome.resumeToken}x` }),
    );
    expect(await forged.error()).toMatchObject({ code: ErrorCode.RATE_LIMITED });
  });

  it('gives a full room’s place to a newcomer, and makes a kick a ban that outlives a restart', async () => {
    const kept: { records: unknown } = { records: [] };
    const banStore: BanStore = {
      load: () => kept.records,
      save: (records) => {
        kept.records = JSON.parse(JSON.stringify(records));
      },
    };
    const secret = 'hardening-test-secret-0123456789';
    harness = await Harness.start({ secret, banStore, limits: { roomCapacity: 3 } });
    const { client: daw, welcome } = await harness.join({ role: 'daw' });
    // A squatter fills the room and drops its sockets: the places are held (away)…
    for (let i = 0; i < 3; i++) {
      const squat = await harness.join({ room: welcome.room }, { localAddress: '127.0.0.9' });
      squat.client.close();
    }
    // …but a newcomer takes the place of whoever has been away longest.
    const ana = await harness.join({ room: welcome.room, name: 'Ana' }, { localAddress: '127.0.0.2' });
    expect(await daw.next('member-left', (m) => m.reason === 'displaced')).toBeDefined();
    // Kicked: banned by device and address, so it cannot come back under another name.
    const mallory = await harness.join(
      { room: welcome.room, deviceId: 'mallory-phone-1' },
      { localAddress: '127.0.0.7' },
    );
    daw.send({ type: 'kick', peer: mallory.welcome.peerId });
    await mallory.client.closedWithin();
    const again = await harness.open({ localAddress: '127.0.0.7' });
    again.send(joinMessage({ room: welcome.room, deviceId: 'mallory-phone-2' }));
    expect(await again.error()).toMatchObject({ code: ErrorCode.BANNED });
    const sameDevice = await harness.open({ localAddress: '127.0.0.8' });
    sameDevice.send(joinMessage({ room: welcome.room, deviceId: 'mallory-phone-1' }));
    expect(await sameDevice.error()).toMatchObject({ code: ErrorCode.BANNED });
    expect(ana.welcome.room).toBe(welcome.room);

    // The server restarts (same secret, same ban store); the DAW takes its room back.
    await harness.stop();
    harness = await Harness.start({ secret, banStore });
    await harness.join({ role: 'daw', room: welcome.room, hostToken: welcome.hostToken as string });
    const afterRestart = await harness.open({ localAddress: '127.0.0.7' });
    afterRestart.send(joinMessage({ room: welcome.room, deviceId: 'mallory-phone-3' }));
    expect(await afterRestart.error()).toMatchObject({ code: ErrorCode.BANNED });
  });

  it('never sends deviceIds to anyone', async () => {
    harness = await Harness.start();
    const { client: daw, welcome } = await harness.join({ role: 'daw', deviceId: 'the-laptop-device' });
    const phone = await harness.join({ room: welcome.room, deviceId: 'the-phone-device' });
    await daw.sync();
    const everything = JSON.stringify([welcome, phone.welcome, daw.received]);
    expect(everything).not.toContain('the-laptop-device');
    expect(everything).not.toContain('the-phone-device');
    expect(everything).not.toContain('deviceId');
  });

  it('lets the DAW lock the room and ask for a PIN; wrong PINs count as guesses', async () => {
    harness = await Harness.start({ limits: { failedJoinRate: { perSecond: 0.001, burst: 2 } } });
    const { client: daw, welcome } = await harness.join({ role: 'daw' });
    const inside = await harness.join({ room: welcome.room });
    inside.client.send({ type: 'access', access: { locked: true, pin: null } });
    expect(await inside.client.error()).toMatchObject({ code: ErrorCode.UNAUTHORIZED });
    daw.send({ type: 'access', access: { locked: true, pin: null } });
    await daw.sync();
    const late = await harness.open({ localAddress: '127.0.0.3' });
    late.send(joinMessage({ room: welcome.room }));
    expect(await late.error()).toMatchObject({ code: ErrorCode.ROOM_LOCKED });
    daw.send({ type: 'access', access: { locked: false, pin: '2468' } });
    await daw.sync();
    late.send(joinMessage({ room: welcome.room }));
    expect(await late.error()).toMatchObject({
      code: ErrorCode.PIN_REQUIRED,
      message: expect.stringContaining('asks'),
    });
    late.send(joinMessage({ room: welcome.room, pin: '1357' }));
    expect(await late.error()).toMatchObject({ code: ErrorCode.PIN_REQUIRED, message: 'wrong PIN' });
    late.send(joinMessage({ room: welcome.room, pin: '2468' }));
    expect(await late.next('welcome')).toMatchObject({ room: welcome.room });
    const guesser = await harness.open({ localAddress: '127.0.0.4' });
    for (const pin of ['0000', '0001']) {
      guesser.send(joinMessage({ room: welcome.room, pin }));
      expect(await guesser.error()).toMatchObject({ code: ErrorCode.PIN_REQUIRED });
    }
    guesser.send(joinMessage({ room: welcome.room, pin: '2468' }));
    expect(await guesser.error()).toMatchObject({ code: ErrorCode.RATE_LIMITED });
    // Bad PINs are refused by the schema.
    late.send({ type: 'access', access: { locked: false, pin: '12a4' } });
    daw.send({ type: 'access', access: { locked: false, pin: '12345' } });
    expect(await daw.error()).toMatchObject({ code: ErrorCode.INVALID_MESSAGE });
  });

  it('refuses names that hide or fake: format characters, invisible ones, the DAW’s; makes duplicates distinct', async () => {
    harness = await Harness.start();
    const { welcome } = await harness.join({ role: 'daw' });
    for (const name of ['\u202eevil\u202c', 'a\u200bb', '\u0301\u0301', '\u3000\u0301', 'DAW', 'd a w']) {
      const client = await harness.open();
      client.send(joinMessage({ room: welcome.room, name }));
      expect(await client.error(), JSON.stringify(name)).toMatchObject({ code: ErrorCode.INVALID_MESSAGE });
    }
    await harness.join({ room: welcome.room, name: 'Ana' });
    const twin = await harness.join({ room: welcome.room, name: 'ANA' });
    expect(twin.welcome.members.find((m) => m.peerId === twin.welcome.peerId)?.name).toBe('ANA 2');
  });
});

describe('floods (issue 9, 9–10)', () => {
  it('budgets messages and bytes per address, all its sockets together, and caps relays at a hit’s size', async () => {
    harness = await Harness.start({
      limits: {
        addressMessageRate: { perSecond: 0.001, burst: 30 },
        addressByteRate: { perSecond: 0.001, burst: 200_000 },
        maxRelayBytes: 1024,
      },
    });
    const { client: daw, welcome } = await harness.join({ role: 'daw' }, { localAddress: '127.0.0.5' });
    const a = await harness.join({ room: welcome.room }, { localAddress: '127.0.0.6' });
    const b = await harness.join({ room: welcome.room }, { localAddress: '127.0.0.6' });
    // A relay the size of a signal is refused, with the sender's ref echoed.
    a.client.send({ type: 'relay', data: 'x'.repeat(2000), ref: 77 });
    expect(await a.client.error()).toMatchObject({ code: ErrorCode.TOO_LARGE, ref: 77 });
    // Two sockets of one address share its 30 messages (the joins and that relay took 3).
    for (let i = 0; i < 20; i++) {
      a.client.send({ type: 'relay', data: i });
      b.client.send({ type: 'relay', data: i });
    }
    await expect.poll(() => a.client.pending('error').length + b.client.pending('error').length).toBeGreaterThan(0);
    const limited = [...a.client.received, ...b.client.received].filter(
      (m) => m.type === 'error' && m.code === ErrorCode.RATE_LIMITED,
    );
    expect(limited.length).toBeGreaterThan(0);
    // Another address (a phone playing honestly) is untouched.
    const honest = await harness.join({ room: welcome.room }, { localAddress: '127.0.0.10' });
    honest.client.send({ type: 'relay', data: 'honest' });
    expect(await daw.next('relay', (m) => m.data === 'honest')).toBeDefined();
    expect(daw.pending('relay').length).toBeLessThanOrEqual(27);
  });

  it('counts bytes too: large signals from one address run out before the count does', async () => {
    harness = await Harness.start({ limits: { addressByteRate: { perSecond: 0.001, burst: 20_000 } } });
    const { client: daw, welcome } = await harness.join({ role: 'daw' });
    const phone = await harness.join({ room: welcome.room }, { localAddress: '127.0.0.6' });
    for (let i = 0; i < 5; i++) phone.client.send({ type: 'signal', to: welcome.peerId, data: 'x'.repeat(6000) });
    expect(await phone.client.error()).toMatchObject({ code: ErrorCode.RATE_LIMITED });
    await daw.sync();
    expect(daw.pending('signal').length).toBe(3);
  });

  it('stops reading a socket over its budget (TCP backpressure), then reads it again', async () => {
    harness = await Harness.start({ limits: { addressByteRate: { perSecond: 40_000, burst: 40_000 } } });
    const { client: daw, welcome } = await harness.join({ role: 'daw' });
    const flooder = await harness.join({ room: welcome.room }, { localAddress: '127.0.0.6' });
    const honest = await harness.join({ room: welcome.room }, { localAddress: '127.0.0.7' });
    const big = 'x'.repeat(30_000);
    // A burst of 30 KB signals: the first goes through, the next is over the address's bytes.
    // (Few enough that the last is read within seconds: ~0.75 s of refill each.)
    for (let i = 0; i < 6; i++) flooder.client.send({ type: 'signal', to: welcome.peerId, data: big });
    expect(await flooder.client.error()).toMatchObject({ code: ErrorCode.RATE_LIMITED });
    await expect.poll(() => harness?.server.stats().throttled).toBe(1);
    // Meanwhile everyone else is heard at once.
    honest.client.send({ type: 'relay', data: 'honest' });
    expect(await daw.next('relay', (m) => m.data === 'honest')).toBeDefined();
    // Read again once the budget has refilled (at most 2 s): its next message arrives, and once
    // the burst is read no socket stays paused.
    await expect.poll(() => daw.pending('signal').length, { timeout: WAIT_MS }).toBeGreaterThan(1);
    await expect.poll(() => harness?.server.stats().throttled, { timeout: WAIT_MS }).toBe(0);
    await flooder.client.sync();
  });

  it('tells the room of each member’s renames at most once per profileNoticeMs, the latest name winning', async () => {
    let clock = 1_000_000;
    harness = await Harness.start({ now: () => clock, limits: { heartbeatMs: 50 } });
    const { welcome } = await harness.join({ role: 'daw' });
    const observer = await harness.join({ room: welcome.room, name: 'Obs' });
    const hostile = await Promise.all([1, 2, 3].map((n) => harness?.join({ room: welcome.room, name: `H${n}` })));
    await observer.client.sync();
    observer.client.received.length = 0;
    for (let i = 0; i < 30; i++) {
      for (const [n, h] of hostile.entries()) h?.client.send({ type: 'profile', name: `H${n + 1} v${i}` });
    }
    for (const h of hostile) await h?.client.sync();
    await observer.client.sync();
    expect(observer.client.pending('member-updated')).toHaveLength(3); // the first change of each, at once
    clock += 1_000;
    await expect.poll(() => observer.client.pending('member-updated').length).toBe(6);
    const latest = observer.client.pending('member-updated').slice(3) as { member: { name: string } }[];
    expect(latest.map((m) => m.member.name).sort()).toEqual(['H1 v29', 'H2 v29', 'H3 v29']);
  });
});

describe('pages (issue 9, 13)', () => {
  it('sends a Content-Security-Policy with every page, and tells the LAN addresses to this laptop only', async () => {
    harness = await Harness.start({ staticDir: tempApp(), trustProxy: true });
    const { port } = harness.server;
    for (const path of ['/', '/daw', '/assets/app-1.js']) {
      const csp = (await get(port, path)).headers['content-security-policy'] as string;
      expect(csp, path).toContain("default-src 'self'");
      expect(csp, path).toContain("frame-ancestors 'none'");
      expect(csp, path).toContain(`ws://127.0.0.1:${port}`);
    }
    expect((await get(port, '/api/lan')).status).toBe(200);
    // Through a trusted proxy on this laptop (npm run dev), the client's own address counts.
    const phone = await get(port, '/api/lan', { 'X-Forwarded-For': '192.168.1.50' });
    expect(phone.status).toBe(403);
    expect(phone.body).toContain('LOOPBACK_ONLY');
    expect((await get(port, '/api/lan', { 'X-Forwarded-For': '10.0.0.1, 127.0.0.1' })).status).toBe(200);
  });

  it('allows the inline script of the build’s index.html by its hash, and no other inline script', async () => {
    // As the build writes it (scripts/inline-script.ts): a classic inline script, with non-ASCII text in it.
    const inline = "(function(){globalThis.x='“DAW” <b>'})();";
    harness = await Harness.start({
      staticDir: tempApp(
        `<!doctype html><meta charset="utf-8" />\n    <script>${inline}</script><title>padmesh</title>` +
          '<script type="module" crossorigin src="/assets/app-1.js"></script>',
      ),
    });
    const hash = createHash('sha256').update(inline, 'utf8').digest('base64');
    for (const path of ['/', '/join/ABC346', '/assets/app-1.js']) {
      const csp = (await get(harness.server.port, path)).headers['content-security-policy'] as string;
      // Exactly 'self' and the one hash: not 'unsafe-inline', and not the module script (it has a src).
      expect(csp.split('; ').filter((directive) => directive.startsWith('script-src'))).toEqual([
        `script-src 'self' 'sha256-${hash}'`,
      ]);
    }
    await harness.stop();
    // A build without inline scripts gets no script-src: default-src 'self' covers scripts, as before.
    harness = await Harness.start({ staticDir: tempApp() });
    expect((await get(harness.server.port, '/')).headers['content-security-policy']).not.toContain('script-src');
  });

  it('ignores X-Forwarded-For unless told to trust a proxy', async () => {
    harness = await Harness.start();
    expect((await get(harness.server.port, '/api/lan', { 'X-Forwarded-For': '127.0.0.1' })).status).toBe(200);
    const spoofed = await get(harness.server.port, '/api/lan', { 'X-Forwarded-For': '192.168.1.50' });
    expect(spoofed.status).toBe(200); // from loopback, and the header is not believed
  });
});

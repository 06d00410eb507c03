/**
 * Time-driven behaviour over real sockets: heartbeat and RTT, timeouts, the DAW's grace
 * period, resume, takeover, and a server restart. Room lifetimes run on a fake clock that
 * the test moves; the heartbeat (liveness) is real but short, so each step takes a few ticks.
 */
import { spawnSync } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { CloseCode, ErrorCode } from '../../signal/protocol.ts';
import type { SignalServerOptions } from '../../signal/server.ts';
import { Harness, joinMessage, type TestClient, WAIT_MS } from '../helpers/clients.ts';
import { closeUdpSockets, stunAnswers, udpSocket } from '../helpers/udp.ts';

// Short enough to keep the tests quick. Liveness is judged on a fake monotonic clock the tests
// move, so a stall of a busy machine is never taken for a silent peer.
const HEARTBEAT_MS = 50;
let harness: Harness | undefined;
let clock = Date.now();
let mono = 1_000_000;

async function start(options: SignalServerOptions = {}): Promise<Harness> {
  clock = Date.now();
  harness = await Harness.start({
    now: () => clock,
    monotonic: () => mono,
    ...options,
    limits: { heartbeatMs: HEARTBEAT_MS, dawGraceMs: 60_000, resumeWindowMs: 60_000, ...options.limits },
  });
  return harness;
}

/** Moves the server's wall clock (room lifetimes) and waits until its heartbeat has run at least once after. */
async function advance(ms: number, observer: TestClient, heartbeatMs = HEARTBEAT_MS): Promise<void> {
  clock += ms;
  await new Promise((resolve) => setTimeout(resolve, heartbeatMs * 3));
  await observer.sync();
}

/**
 * A quarter of a heartbeat passes for liveness (the monotonic clock): the heartbeat visits
 * everyone (it does 4 times a heartbeat) a few times over; then the server hears from each of
 * `lively` (a ping: it sends, so it is not silent).
 */
async function beat(...lively: TestClient[]): Promise<void> {
  mono += HEARTBEAT_MS / 4;
  await new Promise((resolve) => setTimeout(resolve, HEARTBEAT_MS));
  for (const client of lively) await client.sync();
}

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
  closeUdpSockets();
});

describe('heartbeat', () => {
  it('drops a client that pings and then falls silent (a hung page) after 3 intervals, pinging it once before', async () => {
    const h = await start({ limits: { resumeWindowMs: 1_000 } });
    const { client: daw, welcome } = await h.join({ role: 'daw' });
    const { client: hung, welcome: phone } = await h.join({ room: welcome.room }, { autoPong: false });
    const { client: lively } = await h.join({ room: welcome.room });
    await daw.next('member-joined');
    let pinged = 0;
    hung.ws.on('ping', () => {
      pinged += 1;
    });
    await hung.sync(); // it pings, as the browser client does; then its page hangs
    let steps = 0;
    // A quarter interval at a time, hearing from the lively ones in between.
    while (hung.ws.readyState !== hung.ws.CLOSED && steps < 40) {
      steps += 1;
      await beat(daw, lively);
    }
    expect((await hung.closedWithin()).code).toBe(1006);
    expect(steps).toBeGreaterThanOrEqual(3 * 4); // 3 intervals of silence
    expect(pinged).toBe(1); // at 2 intervals (a throttled background tab would have answered it)
    expect(lively.ws.readyState).toBe(lively.ws.OPEN);
    expect(await daw.next('member-updated', (m) => m.member.state === 'away')).toMatchObject({
      member: { peerId: phone.peerId },
    });
    await advance(1_000, daw);
    expect(await daw.next('member-left')).toEqual({ type: 'member-left', peerId: phone.peerId, reason: 'timeout' });
  });

  it('keeps a client that pings too rarely (a throttled background tab) as long as it answers WebSocket pings', async () => {
    const h = await start();
    const { client: daw, welcome } = await h.join({ role: 'daw' });
    const { client: tab } = await h.join({ room: welcome.room });
    await tab.sync(); // a pinger: its page's timers run slow, but the browser answers pings itself
    let pinged = 0;
    tab.ws.on('ping', () => {
      pinged += 1;
    });
    for (let i = 0; i < 4 * 8; i++) await beat(daw);
    expect(tab.ws.readyState).toBe(tab.ws.OPEN);
    expect(pinged).toBeGreaterThanOrEqual(3); // every 2 intervals of silence or so
  });

  it('drops a client that never pings once it leaves a WebSocket ping unanswered for 3 intervals', async () => {
    const h = await start({ limits: { resumeWindowMs: 1_000 } });
    const { client: daw, welcome } = await h.join({ role: 'daw' });
    const { client: silent, welcome: phone } = await h.join({ room: welcome.room }, { autoPong: false });
    await daw.next('member-joined');
    let steps = 0;
    while (silent.ws.readyState !== silent.ws.CLOSED && steps < 60) {
      steps += 1;
      await beat(daw);
    }
    expect((await silent.closedWithin()).code).toBe(1006);
    expect(steps).toBeGreaterThanOrEqual(5 * 4); // first pinged at 2 intervals, then 3 without an answer
    expect(await daw.next('member-updated', (m) => m.member.state === 'away')).toMatchObject({
      member: { peerId: phone.peerId },
    });
  });

  it('pings a client that never pings only now and then (for its RTT), and keeps it while it answers', async () => {
    const h = await start();
    const { client: daw, welcome } = await h.join({ role: 'daw' });
    const { client: phone, welcome: mine } = await h.join({ room: welcome.room }); // ws answers pings
    await daw.next('member-joined');
    let pinged = 0;
    phone.ws.on('ping', () => {
      pinged += 1;
    });
    for (let i = 0; i < 4 * 8; i++) await beat(daw);
    const updated = await daw.next('member-updated', (m) => m.member.peerId === mine.peerId && m.member.rttMs !== null);
    expect(updated.member.rttMs).toBeGreaterThanOrEqual(0);
    expect(updated.member.state).toBe('connected');
    expect(phone.ws.readyState).toBe(phone.ws.OPEN);
    // Once, at 2 intervals: the next comes a minute later. Not every interval, as pings used to.
    expect(pinged).toBe(1);
  });

  it('never pings a client that pings every 2 intervals (the browser client), and takes its RTT from its pings', async () => {
    const h = await start();
    const { client: daw, welcome } = await h.join({ role: 'daw' });
    const { client: pinging, welcome: mine } = await h.join({ room: welcome.room });
    let pingedPinging = 0;
    pinging.ws.on('ping', () => {
      pingedPinging += 1;
    });
    // As the browser client does: a ping every 2 intervals, carrying the last round trip it measured.
    for (let i = 0; i < 4 * 8; i++) {
      if (i % 8 === 0) pinging.send({ type: 'ping', t: i, rtt: 42.25 });
      await beat(daw);
    }
    expect(pingedPinging).toBe(0);
    const told = await daw.next('member-updated', (m) => m.member.peerId === mine.peerId && m.member.rttMs !== null);
    expect(told.member.rttMs).toBe(42.3);
    expect(pinging.ws.readyState).toBe(pinging.ws.OPEN);
  });

  it('asks the kernel to watch every socket for a vanished peer (TCP keepalive after a heartbeat of quiet)', async () => {
    const h = await start({ limits: { heartbeatMs: 2_000 } });
    const { client } = await h.join({ role: 'daw' });
    await client.sync();
    // ss shows the keepalive timer once nothing is in flight on the connection: ask until it does.
    const socketsOfServer = () =>
      spawnSync('ss', ['-tno', 'state', 'established', `( sport = :${h.server.port} )`], { encoding: 'utf8' }).stdout;
    await expect.poll(socketsOfServer, { timeout: WAIT_MS }).toMatch(/timer:\(keepalive,/);
  });

  it('renews a member’s token in a pong once a third of its life has passed, and the renewed one resumes', async () => {
    const h = await start({ limits: { resumeWindowMs: 60_000 } });
    const { client: daw, welcome } = await h.join({ role: 'daw' });
    const { client: phone, welcome: joined } = await h.join({ room: welcome.room, deviceId: 'renewing-phone' });
    phone.send({ type: 'ping', t: 1 });
    expect((await phone.next('pong')).resumeToken).toBeUndefined();
    clock += 30_000; // a third of 1.5 resume windows
    phone.send({ type: 'ping', t: 2 });
    const renewed = (await phone.next('pong')).resumeToken;
    expect(renewed).toEqual(expect.any(String));
    expect(renewed).not.toBe(joined.resumeToken);
    phone.send({ type: 'ping', t: 3 });
    expect((await phone.next('pong')).resumeToken).toBeUndefined();
    // Past the first token's life, only the renewed one brings the member back.
    phone.close();
    await daw.next('member-updated', (m) => m.member.peerId === joined.peerId && m.member.state === 'away');
    await advance(61_000, daw); // its place is given up too
    const stale = await h.open();
    stale.send(joinMessage({ room: welcome.room, deviceId: 'renewing-phone', resumeToken: joined.resumeToken }));
    expect((await stale.next('welcome')).peerId).not.toBe(joined.peerId);
  });

  it('closes a socket that never joins (4102)', async () => {
    const h = await start({ limits: { joinTimeoutMs: 500 } });
    const { client: observer } = await h.join({ role: 'daw' });
    const idle = await h.open();
    await advance(600, observer);
    expect(await idle.closedWithin()).toMatchObject({ code: CloseCode.JOIN_TIMEOUT });
  });
});

describe('the DAW’s grace period', () => {
  it('shows the DAW away, then closes the session (4002) when it does not come back', async () => {
    const h = await start({ limits: { dawGraceMs: 10_000 } });
    const { client: daw, welcome } = await h.join({ role: 'daw' });
    const { client: phone } = await h.join({ room: welcome.room });
    daw.close();
    expect(await phone.next('member-updated', (m) => m.member.state === 'away')).toMatchObject({
      member: { role: 'daw' },
    });
    await advance(9_000, phone);
    expect(phone.pending('session-closed')).toEqual([]);
    await advance(1_000, phone).catch(() => {});
    expect(await phone.next('session-closed')).toEqual({ type: 'session-closed', reason: 'host-timeout' });
    expect(await phone.closedWithin()).toMatchObject({ code: CloseCode.SESSION_CLOSED });
    expect(h.server.stats().rooms).toBe(0);
  });

  it('lets the DAW take its room back after a tab reload, old socket still open or not', async () => {
    const h = await start();
    const { client: daw, welcome } = await h.join({ role: 'daw', deviceId: 'laptop-device' });
    const { client: phone } = await h.join({ room: welcome.room });
    const again = {
      role: 'daw' as const,
      room: welcome.room,
      deviceId: 'laptop-device',
      hostToken: welcome.hostToken as string,
    };

    const { welcome: reloaded } = await h.join(again); // the old tab's socket is still open
    expect(reloaded).toMatchObject({ room: welcome.room, peerId: welcome.peerId, members: [{}, {}] });
    expect(await daw.closedWithin()).toMatchObject({ code: CloseCode.REPLACED });
    await phone.sync();
    expect(phone.pending('member-left')).toEqual([]);
    expect(phone.pending('member-joined')).toEqual([]);
  });
});

describe('resume', () => {
  it('gives a controller its peerId back within the window, without left/joined churn', async () => {
    const h = await start({ limits: { resumeWindowMs: 60_000 } });
    const { client: daw, welcome } = await h.join({ role: 'daw' });
    const { client: phone, welcome: first } = await h.join({ room: welcome.room, deviceId: 'phone-device' });
    await daw.next('member-joined');
    phone.close();
    expect(await daw.next('member-updated', (m) => m.member.state === 'away')).toMatchObject({
      member: { peerId: first.peerId },
    });
    await advance(59_000, daw);
    const { welcome: back } = await h.join(
      { room: welcome.room, deviceId: 'phone-device', resumeToken: first.resumeToken },
      { localAddress: '127.0.0.4' }, // a phone that moved from WiFi to its hotspot
    );
    expect(back.peerId).toBe(first.peerId);
    expect(back.members.filter((m) => m.role === 'controller')).toHaveLength(1);
    expect(
      await daw.next('member-updated', (m) => m.member.peerId === first.peerId && m.member.state === 'connected'),
    ).toBeTruthy();
    await daw.sync();
    expect(daw.pending('member-left')).toEqual([]);
    expect(daw.pending('member-joined')).toEqual([]);
  });
});

describe('a server restart', () => {
  it('gives the DAW its room (same code) and controllers their peerIds when the secret is the same', async () => {
    const secret = 'restart-test-secret-0123456789abcdef';
    const before = await start({ secret });
    const { welcome } = await before.join({ role: 'daw', deviceId: 'laptop-device' });
    const { welcome: phone, client: phoneSocket } = await before.join({ room: welcome.room, deviceId: 'phone-device' });
    await before.server.close();
    expect((await phoneSocket.closedWithin()).code).toBe(CloseCode.GOING_AWAY);

    const after = await start({ secret });
    // The controller is back first: it finds no room yet and keeps trying (the client retries on this code).
    const early = await after.open();
    early.send(joinMessage({ room: welcome.room, deviceId: 'phone-device', resumeToken: phone.resumeToken }));
    expect(await early.error()).toMatchObject({ code: ErrorCode.ROOM_NOT_FOUND });

    const { client: daw, welcome: dawBack } = await after.join({
      role: 'daw',
      room: welcome.room,
      deviceId: 'laptop-device',
      hostToken: welcome.hostToken as string,
    });
    expect(dawBack).toMatchObject({ room: welcome.room, peerId: welcome.peerId });
    early.send(joinMessage({ room: welcome.room, deviceId: 'phone-device', resumeToken: phone.resumeToken }));
    expect(await early.next('welcome')).toMatchObject({ room: welcome.room, peerId: phone.peerId });
    expect(await daw.next('member-joined')).toMatchObject({ member: { peerId: phone.peerId } });
  });

  it('does not honour tokens signed with another secret', async () => {
    const before = await start({ secret: 'first-secret-0123456789abcdef' });
    const { welcome } = await before.join({ role: 'daw' });
    await before.server.close();
    const after = await start({ secret: 'second-secret-0123456789abcdef' });
    const thief = await after.open();
    thief.send(joinMessage({ role: 'daw', room: welcome.room, hostToken: welcome.hostToken as string }));
    expect(await thief.error()).toMatchObject({ code: ErrorCode.UNAUTHORIZED });
  });
});

describe('shutdown', () => {
  it('closes every socket with 1001 so clients come back', async () => {
    const h = await start();
    const { client } = await h.join({ role: 'daw' });
    const idle = await h.open();
    const closing = h.server.close();
    expect((await client.closedWithin(WAIT_MS)).code).toBe(CloseCode.GOING_AWAY);
    expect((await idle.closedWithin(WAIT_MS)).code).toBe(CloseCode.GOING_AWAY);
    await closing;
  });
});

describe('the STUN server', () => {
  it('starts and stops with the signal server', async () => {
    const h = await start({ stunPort: 0 });
    const stunPort = h.server.stunPort;
    if (stunPort === null) throw new Error('no STUN server');
    expect(await stunAnswers(stunPort)).toBe(true);
    await h.stop();
    harness = undefined;
    await udpSocket(stunPort); // its port is free again
  });

  it('stays off, saying so once, when its port is taken; the rest of the server runs', async () => {
    const taken = (await udpSocket()).address().port;
    const warnings: string[] = [];
    const h = await start({ stunPort: taken, onWarning: (message) => warnings.push(message) });
    expect(h.server.stunPort).toBeNull();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`STUN is off: UDP port ${taken} on 127.0.0.1 is in use`);
    const { welcome } = await h.join({ role: 'daw' });
    expect(welcome.iceServers).toEqual([]);
  });
});

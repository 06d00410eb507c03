/**
 * Time-driven behaviour over real sockets: heartbeat and RTT, timeouts, the DAW's grace
 * period, resume, takeover, and a server restart. Room lifetimes run on a fake clock that
 * the test moves; the heartbeat (liveness) is real but short, so each step takes a few ticks.
 */
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
 * One heartbeat interval passes for liveness (the monotonic clock): the heartbeat visits everyone
 * once; then the server hears from each of `lively` (a ping: it sends, so it is not silent).
 */
async function beat(...lively: TestClient[]): Promise<void> {
  mono += HEARTBEAT_MS;
  await new Promise((resolve) => setTimeout(resolve, HEARTBEAT_MS * 3));
  for (const client of lively) await client.sync();
}

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
  closeUdpSockets();
});

describe('heartbeat', () => {
  it('terminates a peer silent for 3 intervals; it turns away, then leaves with reason timeout', async () => {
    const h = await start({ limits: { resumeWindowMs: 1_000 } });
    const { client: daw, welcome } = await h.join({ role: 'daw' });
    const { client: silent, welcome: phone } = await h.join({ room: welcome.room }, { autoPong: false });
    const { client: lively } = await h.join({ room: welcome.room }); // answers pings, as browsers do
    await daw.next('member-joined');
    let steps = 0;
    // One interval at a time, hearing from the lively ones in between.
    while (silent.ws.readyState !== silent.ws.CLOSED && steps < 20) {
      steps += 1;
      await beat(daw, lively);
    }
    expect((await silent.closedWithin()).code).toBe(1006);
    expect(steps).toBeGreaterThanOrEqual(3);
    expect(lively.ws.readyState).toBe(lively.ws.OPEN);
    expect(await daw.next('member-updated', (m) => m.member.state === 'away')).toMatchObject({
      member: { peerId: phone.peerId },
    });
    await advance(1_000, daw);
    expect(await daw.next('member-left')).toEqual({ type: 'member-left', peerId: phone.peerId, reason: 'timeout' });
  });

  it('keeps peers that answer pings, and reports their RTT in presence', async () => {
    const h = await start();
    const { client: daw, welcome } = await h.join({ role: 'daw' });
    const { client: phone, welcome: mine } = await h.join({ room: welcome.room });
    await daw.next('member-joined');
    // Silent for two intervals: it is pinged, answers (ws answers pings, as browsers do), and the
    // round trip is told to the DAW.
    await beat(daw);
    await beat(daw);
    const updated = await daw.next('member-updated', (m) => m.member.peerId === mine.peerId && m.member.rttMs !== null);
    expect(updated.member.rttMs).toBeGreaterThanOrEqual(0);
    expect(updated.member.state).toBe('connected');
    for (let i = 0; i < 4; i++) await beat(daw);
    expect(phone.ws.readyState).toBe(phone.ws.OPEN);
  });

  it('pings only sockets it has not heard from: a client that pings itself is not pinged, and its RTT is what it says', async () => {
    const h = await start();
    const { client: daw, welcome } = await h.join({ role: 'daw' });
    const { client: pinging, welcome: mine } = await h.join({ room: welcome.room });
    const { client: silent } = await h.join({ room: welcome.room });
    let pingedPinging = 0;
    let pingedSilent = 0;
    pinging.ws.on('ping', () => {
      pingedPinging += 1;
    });
    silent.ws.on('ping', () => {
      pingedSilent += 1;
    });
    // As the browser client does: a ping every heartbeat, carrying the last round trip it measured.
    for (let i = 0; i < 6; i++) {
      pinging.send({ type: 'ping', t: i, rtt: 42.25 });
      await beat(daw);
    }
    expect(pingedSilent).toBeGreaterThanOrEqual(1);
    expect(pingedPinging).toBe(0);
    const told = await daw.next('member-updated', (m) => m.member.peerId === mine.peerId && m.member.rttMs !== null);
    expect(told.member.rttMs).toBe(42.3);
    expect(silent.ws.readyState).toBe(silent.ws.OPEN); // it answers, so it stays
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

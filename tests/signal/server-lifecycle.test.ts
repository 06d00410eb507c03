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

// Short, so that each step (the server's room checks run on its heartbeat) takes a few ticks.
const HEARTBEAT_MS = 50;
/**
 * Missed heartbeats before the server drops a socket, in these tests: server and clients share
 * this one process, and when it stalls (a loaded 2-core machine stalls it for over a second) the
 * server's next tick finds every socket silent before it reads their answers, and drops them all
 * (seen with 3 × 50 ms, and with 3 × 200 ms). 60 × 50 ms rides out a 3 s stall. The test of
 * dropping itself uses the product's 3, with a heartbeat of a second.
 */
const MISSED_HEARTBEATS = 60;
let harness: Harness | undefined;
let clock = Date.now();

async function start(options: SignalServerOptions = {}): Promise<Harness> {
  clock = Date.now();
  harness = await Harness.start({
    now: () => clock,
    ...options,
    limits: {
      heartbeatMs: HEARTBEAT_MS,
      missedHeartbeats: MISSED_HEARTBEATS,
      dawGraceMs: 60_000,
      resumeWindowMs: 60_000,
      ...options.limits,
    },
  });
  return harness;
}

/** Moves the server's clock and waits until its heartbeat has run at least once after. */
async function advance(ms: number, observer: TestClient, heartbeatMs = HEARTBEAT_MS): Promise<void> {
  clock += ms;
  await new Promise((resolve) => setTimeout(resolve, heartbeatMs * 3));
  await observer.sync();
}

afterEach(async () => {
  await harness?.stop();
  harness = undefined;
  closeUdpSockets();
});

describe('heartbeat', () => {
  it('terminates a peer silent for 3 intervals; it turns away, then leaves with reason timeout', async () => {
    // The product's 3 missed heartbeats, a second apart: the others ride out a stall of up to 3 s.
    const heartbeatMs = 1_000;
    const h = await start({ limits: { resumeWindowMs: 1_000, heartbeatMs, missedHeartbeats: 3 } });
    const { client: daw, welcome } = await h.join({ role: 'daw' });
    const { client: silent, welcome: phone } = await h.join({ room: welcome.room }, { autoPong: false });
    const { client: lively } = await h.join({ room: welcome.room }); // answers pings, as browsers do
    await daw.next('member-joined');
    const openedAt = performance.now();
    expect((await silent.closedWithin(10 * heartbeatMs)).code).toBe(1006);
    expect(performance.now() - openedAt).toBeGreaterThanOrEqual(heartbeatMs * 2);
    expect(lively.ws.readyState).toBe(lively.ws.OPEN);
    expect(await daw.next('member-updated', (m) => m.member.state === 'away')).toMatchObject({
      member: { peerId: phone.peerId },
    });
    await advance(1_000, daw, heartbeatMs);
    expect(await daw.next('member-left')).toEqual({ type: 'member-left', peerId: phone.peerId, reason: 'timeout' });
  }, 30_000);

  it('keeps peers that answer pings, and reports their RTT in presence', async () => {
    // A slower heartbeat here: several round trips must be timed.
    const heartbeatMs = 200;
    const h = await start({ limits: { heartbeatMs } });
    const { client: daw, welcome } = await h.join({ role: 'daw' });
    const { client: phone } = await h.join({ room: welcome.room });
    await daw.next('member-joined');
    for (let i = 0; i < 3; i++) await advance(heartbeatMs, daw, heartbeatMs);
    expect(phone.ws.readyState).toBe(phone.ws.OPEN);
    const updated = await daw.next('member-updated', (m) => m.member.rttMs !== null);
    expect(updated.member.rttMs).toEqual(expect.any(Number));
    expect(updated.member.rttMs).toBeGreaterThanOrEqual(0);
    expect(updated.member.state).toBe('connected');
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

/** Joining rooms over real sockets: creation, codes, capacity, tokens, devices, leave, kick. */
import { afterEach, describe, expect, it } from 'vitest';
import { CloseCode, ErrorCode } from '../../signal/protocol.ts';
import { iceServersFor } from '../../signal/server.ts';
import { Harness, joinMessage } from '../helpers/clients.ts';

let harness: Harness;
afterEach(async () => {
  await harness.stop();
});

describe('joining', () => {
  it('gives a DAW a new room and a controller a place in it, with everything welcome promises', async () => {
    harness = await Harness.start({ iceServers: [{ urls: 'stun:192.0.2.1:3478' }], limits: { heartbeatMs: 4000 } });
    const { client: daw, welcome } = await harness.join({ role: 'daw', name: 'Studio' });
    expect(welcome).toMatchObject({
      type: 'welcome',
      v: 1,
      role: 'daw',
      iceServers: [{ urls: 'stun:192.0.2.1:3478' }],
      heartbeatMs: 4000,
    });
    expect(welcome.room).toMatch(/^[34679ACDEFGHJKMNPRTUVWXY]{6}$/);
    expect(welcome.hostToken).toEqual(expect.any(String));
    expect(welcome.members).toEqual([
      expect.objectContaining({ peerId: welcome.peerId, name: 'Studio', role: 'daw', state: 'connected' }),
    ]);

    const { welcome: phone } = await harness.join({ room: welcome.room.toLowerCase(), name: 'Ana' });
    expect(phone).toMatchObject({ role: 'controller', room: welcome.room });
    expect(phone.hostToken).toBeUndefined();
    expect(phone.resumeToken).toEqual(expect.any(String));
    expect(phone.members.map((m) => m.name)).toEqual(['Studio', 'Ana']);
    const joined = await daw.next('member-joined');
    expect(joined.member).toMatchObject({
      peerId: phone.peerId,
      name: 'Ana',
      role: 'controller',
      state: 'connected',
      rttMs: null,
    });
    expect(joined.member.joinedAt).toBeGreaterThan(Date.now() - 60_000);
  });

  it('answers ROOM_NOT_FOUND and keeps the socket open for another try', async () => {
    harness = await Harness.start();
    const client = await harness.open();
    client.send(joinMessage({ room: 'ACDEF3' }));
    expect(await client.error()).toMatchObject({ code: ErrorCode.ROOM_NOT_FOUND });
    const { welcome } = await harness.join({ role: 'daw' });
    client.send(joinMessage({ room: welcome.room }));
    expect(await client.next('welcome')).toMatchObject({ room: welcome.room });
  });

  it('answers ROOM_FULL past the capacity', async () => {
    harness = await Harness.start({ limits: { roomCapacity: 2 } });
    const { welcome } = await harness.room(2);
    const late = await harness.open();
    late.send(joinMessage({ room: welcome.room }));
    expect(await late.error()).toMatchObject({ code: ErrorCode.ROOM_FULL });
  });

  it('answers SERVER_FULL past maxRooms', async () => {
    harness = await Harness.start({ limits: { maxRooms: 1 } });
    await harness.join({ role: 'daw' });
    const second = await harness.open();
    second.send(joinMessage({ role: 'daw' }));
    expect(await second.error()).toMatchObject({ code: ErrorCode.SERVER_FULL });
  });

  it('closes with 4003 a DAW that claims a room without a valid hostToken', async () => {
    harness = await Harness.start();
    const { welcome } = await harness.join({ role: 'daw' });
    for (const hostToken of [undefined, 'h.x.y.z', `${welcome.hostToken?.slice(0, -4)}AAAA`]) {
      const thief = await harness.open();
      thief.send(joinMessage({ role: 'daw', room: welcome.room, ...(hostToken ? { hostToken } : {}) }));
      expect(await thief.error()).toMatchObject({ code: ErrorCode.UNAUTHORIZED });
      expect(await thief.closedWithin()).toMatchObject({ code: CloseCode.UNAUTHORIZED });
    }
  });

  it('does not act on frames that arrive after it began closing the socket', async () => {
    harness = await Harness.start();
    const { welcome } = await harness.join({ role: 'daw' });
    const client = await harness.open();
    // Both frames leave together: the first earns a 4003 close, the second must not create a room.
    client.send(joinMessage({ role: 'daw', room: welcome.room, hostToken: 'h.x.y.z' }));
    client.send(joinMessage({ role: 'daw' }));
    expect(await client.closedWithin()).toMatchObject({ code: CloseCode.UNAUTHORIZED });
    expect(harness.server.stats().rooms).toBe(1);
    expect(client.pending('welcome')).toEqual([]);
  });

  it('answers ROLE_TAKEN while the DAW is live on another device', async () => {
    harness = await Harness.start();
    const { welcome } = await harness.join({ role: 'daw', deviceId: 'laptop-one' });
    const other = await harness.open();
    other.send(
      joinMessage({ role: 'daw', room: welcome.room, deviceId: 'laptop-two', hostToken: welcome.hostToken as string }),
    );
    expect(await other.error()).toMatchObject({ code: ErrorCode.ROLE_TAKEN });
  });

  it('closes with 4005 a join that speaks another protocol version', async () => {
    harness = await Harness.start();
    const client = await harness.open();
    client.send({ ...joinMessage({ role: 'daw' }), v: 2 });
    expect(await client.error()).toMatchObject({ code: ErrorCode.VERSION_MISMATCH });
    expect(await client.closedWithin()).toMatchObject({ code: CloseCode.VERSION_MISMATCH });
  });

  it('refuses a second join on the same socket', async () => {
    harness = await Harness.start();
    const { client, welcome } = await harness.join({ role: 'daw' });
    client.send(joinMessage({ room: welcome.room }));
    expect(await client.error()).toMatchObject({
      code: ErrorCode.INVALID_MESSAGE,
      message: 'this connection has already joined',
    });
  });

  it('rate-limits failed joins per address, and only failed ones', async () => {
    harness = await Harness.start({ limits: { failedJoinRate: { perSecond: 0.001, burst: 3 } } });
    const { welcome } = await harness.join({ role: 'daw' });
    const guesser = await harness.open();
    for (const code of ['ACDEF3', 'ACDEF4', 'ACDEF6']) {
      guesser.send(joinMessage({ room: code === welcome.room ? 'ACDEF7' : code }));
      expect(await guesser.error()).toMatchObject({ code: ErrorCode.ROOM_NOT_FOUND });
    }
    guesser.send(joinMessage({ room: welcome.room }));
    expect(await guesser.error()).toMatchObject({ code: ErrorCode.RATE_LIMITED });
    // From another address the right code still works.
    const { welcome: other } = await harness.join({ room: welcome.room }, { localAddress: '127.0.0.2' });
    expect(other.room).toBe(welcome.room);
  });
});

describe('one member per device', () => {
  it('replaces an older connection of the same device (4004), without churn', async () => {
    harness = await Harness.start();
    const { daw, welcome } = await harness.room();
    const { client: first, welcome: firstWelcome } = await harness.join({
      room: welcome.room,
      deviceId: 'phone-device-1',
    });
    await daw.next('member-joined');
    // Without its resumeToken a deviceId takes nothing over, from the same address either.
    const bare = await harness.open();
    bare.send(joinMessage({ room: welcome.room, deviceId: 'phone-device-1' }));
    expect(await bare.error()).toMatchObject({ code: ErrorCode.UNAUTHORIZED });
    const { welcome: second } = await harness.join({
      room: welcome.room,
      deviceId: 'phone-device-1',
      resumeToken: firstWelcome.resumeToken,
    });
    expect(second.peerId).toBe(firstWelcome.peerId);
    expect(second.members).toHaveLength(2);
    expect(await first.closedWithin()).toMatchObject({ code: CloseCode.REPLACED });
    await daw.sync();
    expect(daw.pending('member-joined')).toEqual([]);
    expect(daw.pending('member-left')).toEqual([]);
  });

  it('refuses the same deviceId from another address unless it brings the resumeToken', async () => {
    harness = await Harness.start();
    const { welcome } = await harness.room();
    const { welcome: first } = await harness.join({ room: welcome.room, deviceId: 'phone-device-1' });
    const impostor = await harness.open({ localAddress: '127.0.0.3' });
    impostor.send(joinMessage({ room: welcome.room, deviceId: 'phone-device-1' }));
    expect(await impostor.error()).toMatchObject({ code: ErrorCode.UNAUTHORIZED });
    impostor.send(joinMessage({ room: welcome.room, deviceId: 'phone-device-1', resumeToken: first.resumeToken }));
    expect(await impostor.next('welcome')).toMatchObject({ peerId: first.peerId });
  });
});

describe('leaving and kicking', () => {
  it('tells the room when a controller leaves, and closes its socket normally', async () => {
    harness = await Harness.start();
    const { daw, controllers } = await harness.room(2);
    const [leaver, stayer] = controllers;
    if (!leaver || !stayer) throw new Error('two controllers');
    leaver.client.send({ type: 'leave' });
    expect(await leaver.client.closedWithin()).toMatchObject({ code: CloseCode.NORMAL });
    expect(await daw.next('member-left')).toEqual({
      type: 'member-left',
      peerId: leaver.welcome.peerId,
      reason: 'left',
    });
    expect(await stayer.client.next('member-left')).toMatchObject({ peerId: leaver.welcome.peerId });
  });

  it('ends the session for everyone when the DAW leaves (4002)', async () => {
    harness = await Harness.start();
    const { daw, controllers } = await harness.room(2);
    daw.send({ type: 'leave' });
    expect(await daw.closedWithin()).toMatchObject({ code: CloseCode.NORMAL });
    for (const { client } of controllers) {
      expect(await client.next('session-closed')).toEqual({ type: 'session-closed', reason: 'ended' });
      expect(await client.closedWithin()).toMatchObject({ code: CloseCode.SESSION_CLOSED });
    }
    expect(harness.server.stats().rooms).toBe(0);
  });

  it('lets the DAW kick a controller (4001) and nobody else', async () => {
    harness = await Harness.start();
    const { daw, controllers } = await harness.room(2);
    const [target, other] = controllers;
    if (!target || !other) throw new Error('two controllers');
    other.client.send({ type: 'kick', peer: target.welcome.peerId });
    expect(await other.client.error()).toMatchObject({ code: ErrorCode.UNAUTHORIZED });
    daw.send({ type: 'kick', peer: 'nobody' });
    expect(await daw.error()).toMatchObject({ code: ErrorCode.PEER_NOT_FOUND });
    daw.send({ type: 'kick', peer: target.welcome.peerId, reason: 'too loud' });
    expect(await target.client.next('kicked')).toEqual({ type: 'kicked', reason: 'too loud' });
    expect(await target.client.closedWithin()).toMatchObject({ code: CloseCode.KICKED });
    expect(await daw.next('member-left')).toMatchObject({ peerId: target.welcome.peerId, reason: 'kicked' });
    expect(await other.client.next('member-left')).toMatchObject({ peerId: target.welcome.peerId, reason: 'kicked' });
  });
});

describe('the laptop’s STUN server in welcome.iceServers', () => {
  it('is offered at the host the client reached the server by, before the configured ICE servers', async () => {
    harness = await Harness.start({
      stunPort: 0,
      iceServers: [{ urls: 'stun:192.0.2.1:3478' }],
      allowedHosts: ['fe80::1'],
    });
    const { stunPort } = harness.server;
    expect(stunPort).toBeGreaterThan(0);
    const { welcome } = await harness.join({ role: 'daw' });
    expect(welcome.iceServers).toEqual([{ urls: `stun:127.0.0.1:${stunPort}` }, { urls: 'stun:192.0.2.1:3478' }]);
    // The same server reached by name, or by an IPv6 address (the socket still goes to 127.0.0.1).
    const byName = await harness.join(
      { room: welcome.room },
      { headers: { Host: `LocalHost:${harness.server.port}` } },
    );
    expect(byName.welcome.iceServers[0]).toEqual({ urls: `stun:localhost:${stunPort}` });
    const byIpv6 = await harness.join({ room: welcome.room }, { headers: { Host: '[fe80::1]:8080' } });
    expect(byIpv6.welcome.iceServers[0]).toEqual({ urls: `stun:[fe80::1]:${stunPort}` });
  });

  it('is not offered when STUN is off', async () => {
    harness = await Harness.start();
    expect(harness.server.stunPort).toBeNull();
    const { welcome } = await harness.join({ role: 'daw' });
    expect(welcome.iceServers).toEqual([]);
  });

  it('is not offered for a Host header that names no host', () => {
    const configured = [{ urls: 'stun:192.0.2.1:3478' }];
    expect(iceServersFor('192.168.1.5:8080', configured, 3478)).toEqual([
      { urls: 'stun:192.168.1.5:3478' },
      ...configured,
    ]);
    expect(iceServersFor(undefined, configured, 3478)).toBe(configured);
    expect(iceServersFor('', configured, 3478)).toBe(configured);
    expect(iceServersFor('not a host', configured, 3478)).toBe(configured);
    expect(iceServersFor('[fe80::1%eth0]:8080', configured, 3478)).toBe(configured);
    expect(iceServersFor('192.168.1.5:8080', configured, null)).toBe(configured);
  });
});

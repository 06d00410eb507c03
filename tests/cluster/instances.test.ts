/**
 * Several signal server instances sharing rooms through a real Redis: a DAW on one instance and
 * its phones on others jam as if on one server (join, signal, relay, presence, state, kick,
 * tokens), and every instance reports where it stands on /healthz.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode, ErrorCode } from '../../signal/protocol.ts';
import { Harness } from '../helpers/clients.ts';
import { startRedis, type TestRedis, waitForHealth } from '../helpers/redis.ts';

const SECRET = 'a-secret-every-instance-shares';
let redis: TestRedis;
let instances: Harness[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});
afterEach(async () => {
  await Promise.all(instances.map((instance) => instance.stop()));
  instances = [];
});

async function start(count: number): Promise<Harness[]> {
  for (let i = 0; i < count; i++) {
    instances.push(await Harness.start({ redis: redis.url, secret: SECRET, limits: { heartbeatMs: 500 } }));
  }
  // Each is up once its /healthz says so: Redis is connected and its keys written.
  for (const instance of instances) await waitForHealth(instance.httpUrl, 'ok');
  return instances;
}

describe('rooms across instances', () => {
  it('a DAW on one instance and phones on two others: join, signal, relay, presence, state', async () => {
    const [a, b, c] = await start(3);
    if (!a || !b || !c) throw new Error('three instances');
    const { client: daw, welcome } = await a.join({ role: 'daw', name: 'Studio' });
    const { client: phoneB, welcome: welcomeB } = await b.join({ room: welcome.room, name: 'Ana' });
    expect(welcomeB).toMatchObject({ role: 'controller', room: welcome.room });
    expect(welcomeB.members.map((m) => m.name)).toEqual(['Studio', 'Ana']);
    expect((await daw.next('member-joined')).member).toMatchObject({ peerId: welcomeB.peerId, name: 'Ana' });

    const { client: phoneC, welcome: welcomeC } = await c.join({ room: welcome.room, name: 'Ben' });
    expect(welcomeC.members.map((m) => m.name)).toEqual(['Studio', 'Ana', 'Ben']);
    expect((await daw.next('member-joined')).member.name).toBe('Ben');
    expect((await phoneB.next('member-joined')).member.name).toBe('Ben');

    // Signaling both ways, `from` stamped by the room's instance.
    phoneB.send({ type: 'signal', to: welcome.peerId, data: { sdp: 'offer', from: 'forged' } });
    expect(await daw.next('signal')).toEqual({
      type: 'signal',
      from: welcomeB.peerId,
      data: { sdp: 'offer', from: 'forged' },
    });
    daw.send({ type: 'signal', to: welcomeC.peerId, data: { sdp: 'answer' } });
    expect(await phoneC.next('signal')).toEqual({ type: 'signal', from: welcome.peerId, data: { sdp: 'answer' } });

    // Relayed pad hits: a phone's to the DAW, and the DAW's to every phone.
    for (let seq = 0; seq < 20; seq++) phoneC.send({ type: 'relay', data: { seq }, ref: seq });
    for (let seq = 0; seq < 20; seq++) expect((await daw.next('relay')).data).toEqual({ seq });
    daw.send({ type: 'relay', data: { tick: 1 } });
    expect((await phoneB.next('relay')).data).toEqual({ tick: 1 });
    expect((await phoneC.next('relay')).data).toEqual({ tick: 1 });

    // Rooms stay sealed: a controller reaches only its DAW, wherever it is.
    phoneB.send({ type: 'signal', to: welcomeC.peerId, data: {}, ref: 7 });
    expect(await phoneB.next('error')).toMatchObject({ code: ErrorCode.UNAUTHORIZED, ref: 7 });

    // Room state, and a late joiner on another instance gets it in its welcome.
    const state = { tempo: 96, pads: [{ name: 'Kick', color: '#ff3366' }] };
    daw.send({ type: 'state', state });
    expect(await phoneB.next('state')).toEqual({ type: 'state', state });
    expect(await phoneC.next('state')).toEqual({ type: 'state', state });
    const { welcome: late } = await b.join({ room: welcome.room, name: 'Cy' });
    expect(late.state).toEqual(state);

    // Presence: a phone on another instance drops, the DAW and the others see it away.
    phoneC.close();
    expect((await daw.next('member-updated', (m) => m.member.peerId === welcomeC.peerId)).member.state).toBe('away');
    expect((await phoneB.next('member-updated', (m) => m.member.peerId === welcomeC.peerId)).member.state).toBe('away');

    // Pings through another instance are answered by the room's.
    await phoneB.sync();
    const health = await waitForHealth(b.httpUrl, 'ok');
    expect(health.cluster).toMatchObject({ redis: 'up', proxied: 2 });
    expect((await waitForHealth(a.httpUrl, 'ok')).cluster).toMatchObject({ redis: 'up', remoteMembers: 2 });
  });

  it('a kick from the DAW closes the phone on its own instance and bans it there too', async () => {
    const [a, b] = await start(2);
    if (!a || !b) throw new Error('two instances');
    const { client: daw, welcome } = await a.join({ role: 'daw' });
    const deviceId = 'kicked-device-1';
    const { client: phone, welcome: phoneWelcome } = await b.join({ room: welcome.room, deviceId });
    await daw.next('member-joined');
    const { client: other } = await a.join({ room: welcome.room });
    await daw.next('member-joined');
    await phone.next('member-joined');

    daw.send({ type: 'kick', peer: phoneWelcome.peerId, reason: 'too loud' });
    expect(await phone.next('kicked')).toEqual({ type: 'kicked', reason: 'too loud' });
    expect((await phone.closedWithin()).code).toBe(CloseCode.KICKED);
    expect(await other.next('member-left')).toMatchObject({ peerId: phoneWelcome.peerId, reason: 'kicked' });

    // Back through either instance, with or without its token: banned.
    for (const instance of [b, a]) {
      const retry = await instance.open();
      retry.send({
        type: 'join',
        v: 1,
        role: 'controller',
        room: welcome.room,
        deviceId,
        resumeToken: phoneWelcome.resumeToken,
      });
      expect((await retry.error()).code).toBe(ErrorCode.BANNED);
    }
  });

  it('tokens verify on every instance: a phone moves from one instance to another under its peerId', async () => {
    const [a, b] = await start(2);
    if (!a || !b) throw new Error('two instances');
    const { client: daw, welcome } = await a.join({ role: 'daw' });
    const deviceId = 'moving-device-1';
    const { client: phone, welcome: first } = await b.join({ room: welcome.room, deviceId, name: 'Ana' });
    await daw.next('member-joined');
    phone.close();
    expect((await daw.next('member-updated')).member.state).toBe('away');

    const { welcome: again } = await a.join({ room: welcome.room, deviceId, resumeToken: first.resumeToken });
    expect(again.peerId).toBe(first.peerId);
    expect((await daw.next('member-updated')).member).toMatchObject({ peerId: first.peerId, state: 'connected' });
    // A token signed with another secret is worth nothing anywhere.
    const stranger = await b.open();
    stranger.send({
      type: 'join',
      v: 1,
      role: 'daw',
      room: welcome.room,
      deviceId: 'x-device-1',
      hostToken: 'h.AAAAAA.p.zz.aaaaaaaaaaaaaaaaaaaaaa',
    });
    expect((await stranger.error()).code).toBe(ErrorCode.UNAUTHORIZED);
  });

  it('new rooms on several instances never share a code, and room codes resolve on any instance', async () => {
    const [a, b] = await start(2);
    if (!a || !b) throw new Error('two instances');
    const codes = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const { welcome } = await (i % 2 === 0 ? a : b).join({ role: 'daw' });
      codes.add(welcome.room);
    }
    expect(codes.size).toBe(6);
    const missing = await b.open();
    missing.send({ type: 'join', v: 1, role: 'controller', room: 'CCCCCC', deviceId: 'lost-device-1' });
    expect((await missing.error()).code).toBe(ErrorCode.ROOM_NOT_FOUND);
  });
});

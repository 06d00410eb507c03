/**
 * Redis killed mid-jam and started again (empty: it persists nothing): no instance crashes,
 * /healthz says degraded, a room whose members are all on one instance keeps working (new
 * rooms too), and when Redis is back cross-instance delivery resumes by itself, presence is
 * reconciled, and Redis holds the rooms again.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness, type TestClient, WAIT_MS } from '../helpers/clients.ts';
import { startRedis, type TestRedis, waitForHealth } from '../helpers/redis.ts';

const SECRET = 'a-secret-every-instance-shares';
let redis: TestRedis;
const instances: Harness[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await Promise.all(instances.map((instance) => instance.stop()));
  await redis.stop();
});

/** Sends relays from `from` until one reaches `to` (messages sent while the path is down are dropped); bounded. */
async function relayGetsThrough(from: TestClient, to: TestClient): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  for (let seq = 0; Date.now() < deadline; seq++) {
    from.send({ type: 'relay', data: { probe: seq } });
    try {
      await to.next('relay', () => true, 200);
      return;
    } catch {}
  }
  throw new Error('no relay got through');
}

describe('Redis down and back', () => {
  it('keeps single-instance rooms going, says degraded, and reconciles when Redis returns', async () => {
    for (let i = 0; i < 2; i++) {
      instances.push(await Harness.start({ redis: redis.url, secret: SECRET, limits: { heartbeatMs: 300 } }));
    }
    const [a, b] = instances;
    if (!a || !b) throw new Error('two instances');
    for (const instance of instances) await waitForHealth(instance.httpUrl, 'ok');

    const { client: daw, welcome } = await a.join({ role: 'daw' });
    const { client: localPhone } = await a.join({ room: welcome.room, name: 'Here' });
    await daw.next('member-joined');
    const { client: stays, welcome: staysWelcome } = await b.join({ room: welcome.room, name: 'Stays' });
    await daw.next('member-joined');
    const { client: leaves, welcome: leavesWelcome } = await b.join({ room: welcome.room, name: 'Leaves' });
    await daw.next('member-joined');
    await stays.next('member-joined');

    await redis.kill();
    for (const instance of instances)
      expect((await waitForHealth(instance.httpUrl, 'degraded')).cluster).toMatchObject({ redis: 'down' });

    // The room's own instance goes on: relay both ways, state, a new room with a phone.
    localPhone.send({ type: 'relay', data: { seq: 1 } });
    expect((await daw.next('relay')).data).toEqual({ seq: 1 });
    daw.send({ type: 'state', state: { tempo: 101 } });
    expect((await localPhone.next('state')).state).toEqual({ tempo: 101 });
    const { client: daw2, welcome: room2 } = await a.join({ role: 'daw' });
    await a.join({ room: room2.room });
    await daw2.next('member-joined');

    // Meanwhile a phone on the other instance leaves, unheard by the room's instance.
    leaves.close();

    await redis.restart();
    for (const instance of instances) await waitForHealth(instance.httpUrl, 'ok');

    // Reconciled: the phone that left during the outage is away, the one that stayed hears the
    // room as it stands now (the state changed meanwhile), and relays cross instances again.
    const away = await daw.next('member-updated', (m) => m.member.peerId === leavesWelcome.peerId);
    expect(away.member.state).toBe('away');
    expect(await stays.next('state')).toEqual({ type: 'state', state: { tempo: 101 } });
    const dawNow = await stays.next('member-updated', (m) => m.member.peerId === welcome.peerId);
    expect(dawNow.member.state).toBe('connected');
    await relayGetsThrough(stays, daw);
    await relayGetsThrough(daw, stays);
    // Redis holds the rooms again (it came back empty): both rooms, with their members.
    const inspector = new Redis(redis.url, { lazyConnect: true });
    await inspector.connect();
    try {
      const snapshot = JSON.parse((await inspector.get(`padmesh:room:${welcome.room}`)) ?? 'null') as {
        members: { peerId: string }[];
        state?: unknown;
      };
      expect(snapshot.members.map((m) => m.peerId)).toContain(staysWelcome.peerId);
      expect(snapshot.state).toEqual({ tempo: 101 });
      expect(await inspector.exists(`padmesh:room:${room2.room}`)).toBe(1);
      expect(await inspector.get(`padmesh:home:${room2.room}`)).toEqual(expect.any(String));
    } finally {
      inspector.disconnect();
    }
  });
});

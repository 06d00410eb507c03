/**
 * A Redis that is connected but never answers (SIGSTOPped: its connections and port stay open,
 * nothing is answered). A join that needs it gets its outcome within the command timeout
 * (limits.redisCommandTimeoutMs), decided as when Redis is down; rooms held on one instance go
 * on; /healthz says degraded (`stalled`); nothing crashes; and when Redis answers again,
 * instances share rooms again by themselves.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../signal/protocol.ts';
import { Harness, WAIT_MS } from '../helpers/clients.ts';
import { startRedis, type TestRedis, waitForHealth } from '../helpers/redis.ts';

const SECRET = 'a-secret-every-instance-shares';
let redis: TestRedis;
const instances: Harness[] = [];
const warnings: string[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  redis.resume();
  await Promise.all(instances.map((instance) => instance.stop()));
  await redis.stop();
});

describe('Redis stalled', () => {
  it('joins get an answer within the command timeout, rooms held here go on, /healthz says degraded', async () => {
    for (let i = 0; i < 2; i++) {
      instances.push(
        await Harness.start({
          redis: redis.url,
          secret: SECRET,
          // The join timeout is far beyond the test's waits: only the command timeout can answer the joins below.
          limits: { heartbeatMs: 300, redisCommandTimeoutMs: 500, joinTimeoutMs: 60_000 },
          onWarning: (message) => warnings.push(message),
        }),
      );
    }
    const [a, b] = instances;
    if (!a || !b) throw new Error('two instances');
    for (const instance of instances) await waitForHealth(instance.httpUrl, 'ok');
    const { client: daw, welcome } = await a.join({ role: 'daw' });
    const { client: farPhone } = await b.join({ room: welcome.room, name: 'Far' });
    await daw.next('member-joined');

    redis.pause();
    // The first join that asks Redis: refused as the room is not held on b (as with Redis down), not held forever.
    const lost = await b.open();
    lost.send({ type: 'join', v: 1, role: 'controller', room: welcome.room, deviceId: 'stalled-device-1' });
    expect((await lost.error()).code).toBe(ErrorCode.ROOM_NOT_FOUND);
    for (const instance of instances)
      expect((await waitForHealth(instance.httpUrl, 'degraded')).cluster).toMatchObject({ redis: 'stalled' });
    expect(warnings.some((line) => /Redis does not answer/.test(line))).toBe(true);

    // Degraded, nothing waits on Redis: a new room on b (its code drawn locally) with a phone, and
    // the room held on a goes on for a phone joining there.
    const { client: daw2, welcome: room2 } = await b.join({ role: 'daw' });
    const { client: phone2 } = await b.join({ room: room2.room });
    await daw2.next('member-joined');
    phone2.send({ type: 'relay', data: { hit: 2 } });
    expect((await daw2.next('relay')).data).toEqual({ hit: 2 });
    const { client: nearPhone } = await a.join({ room: welcome.room, name: 'Near' });
    await daw.next('member-joined', (m) => m.member.name === 'Near');
    nearPhone.send({ type: 'relay', data: { hit: 1 } });
    expect((await daw.next('relay')).data).toEqual({ hit: 1 });

    redis.resume();
    for (const instance of instances)
      expect((await waitForHealth(instance.httpUrl, 'ok')).cluster).toMatchObject({ redis: 'up' });
    // The room's home key lapsed while Redis stood still (its life is 3 heartbeats): a writes it
    // again as it comes back. Wait for that, or b could take the room over first.
    const idA = ((await waitForHealth(a.httpUrl, 'ok')).cluster as { instance: string }).instance;
    const inspector = new Redis(redis.url, { lazyConnect: true });
    try {
      await inspector.connect();
      const until = Date.now() + WAIT_MS;
      while ((await inspector.get(`padmesh:home:${welcome.room}`)) !== idA) {
        if (Date.now() > until) throw new Error('the room is not held by its instance again');
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      inspector.disconnect();
    }
    // Rooms span instances again: a phone joins a's room through b, and the one proxied before still reaches it.
    const { welcome: again } = await b.join({ room: welcome.room, name: 'Again' });
    expect(again.room).toBe(welcome.room);
    await daw.next('member-joined', (m) => m.member.name === 'Again');
    const deadline = Date.now() + WAIT_MS;
    for (let seq = 0; ; seq++) {
      farPhone.send({ type: 'relay', data: { far: seq } });
      try {
        await daw.next('relay', (m) => typeof (m.data as { far?: number }).far === 'number', 200);
        break;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
    }
  }, 60_000);
});

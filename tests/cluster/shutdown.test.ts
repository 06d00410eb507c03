/**
 * An instance stopping gracefully lets go of its rooms in Redis only once its own sockets are
 * closed (with 1001; one that does not finish its close handshake is cut off after a bound), so
 * no frame of theirs changes a room another instance has taken over; then members of its rooms
 * on other instances are closed with 1012 and take the room over where they rejoin.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '../../signal/protocol.ts';
import { Harness, WAIT_MS } from '../helpers/clients.ts';
import { startRedis, type TestRedis, waitForHealth } from '../helpers/redis.ts';

const SECRET = 'a-secret-every-instance-shares';
let redis: TestRedis;
let inspector: Redis;
let events: Redis;
const instances: Harness[] = [];

beforeAll(async () => {
  redis = await startRedis();
  inspector = new Redis(redis.url, { lazyConnect: true });
  await inspector.connect();
  events = new Redis(redis.url, { lazyConnect: true });
  await events.connect();
});
afterAll(async () => {
  inspector.disconnect();
  events.disconnect();
  await Promise.all(instances.map((instance) => instance.stop()));
  await redis.stop();
});

describe('an instance stopping', () => {
  it('closes its own sockets before it lets go of its rooms, then sends remote members to rejoin', async () => {
    // Long heartbeats: the home key outlives the test unless it is let go of.
    const a = await Harness.start({ redis: redis.url, secret: SECRET, limits: { heartbeatMs: 5_000 } });
    // b's heartbeat is longer than the test's waits: b does not find a gone by itself (its key expired) in time.
    const b = await Harness.start({ redis: redis.url, secret: SECRET, limits: { heartbeatMs: 20_000 } });
    instances.push(a, b);
    for (const instance of instances) await waitForHealth(instance.httpUrl, 'ok');
    const { client: daw, welcome } = await a.join({ role: 'daw' });
    const { client: localPhone } = await a.join({ room: welcome.room });
    await daw.next('member-joined');
    const { client: remotePhone, welcome: remote } = await b.join({ room: welcome.room, deviceId: 'remote-device-1' });
    await daw.next('member-joined');

    // The moment Redis deletes the room's home key, how many sockets a still has open.
    await inspector.config('SET', 'notify-keyspace-events', 'Eg');
    const homeKey = `padmesh:home:${welcome.room}`;
    const openAtRelease: number[] = [];
    events.on('message', (_channel: string, key: string) => {
      if (key === homeKey) openAtRelease.push(a.server.stats().connections);
    });
    await events.subscribe('__keyevent@0__:del');
    expect(await inspector.get(homeKey)).toEqual(expect.any(String));

    // The DAW's page stops reading (a frozen tab): its close handshake never finishes.
    daw.ws.pause();
    await a.server.close();

    expect((await localPhone.closedWithin()).code).toBe(CloseCode.GOING_AWAY);
    const deadline = Date.now() + WAIT_MS;
    while (openAtRelease.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(openAtRelease).toEqual([0]);
    expect(await inspector.get(homeKey)).toBeNull();

    // The phone on b is sent to rejoin, and takes the room over on b under its peerId.
    expect((await remotePhone.closedWithin()).code).toBe(CloseCode.SERVICE_RESTART);
    const { welcome: back } = await b.join({
      room: welcome.room,
      deviceId: 'remote-device-1',
      resumeToken: remote.resumeToken,
    });
    expect(back.peerId).toBe(remote.peerId);
    expect(back.members.find((m) => m.peerId === welcome.peerId)?.state).toBe('away');
  }, 60_000);
});

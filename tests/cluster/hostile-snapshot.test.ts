/**
 * A room's snapshot and ban list in Redis are data from another process, checked as hostile: a
 * snapshot that is malformed or of another room is not taken over (the join is told why, the
 * instance says so in its log), a room's ban list bans nobody from other rooms, and an instance
 * holding maxRooms takes no room over (SERVER_FULL). Nothing crashes, and a DAW with its
 * hostToken still gets its room back.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../signal/protocol.ts';
import { Harness, WAIT_MS } from '../helpers/clients.ts';
import { startRedis, type TestRedis, waitForHealth } from '../helpers/redis.ts';

const SECRET = 'a-secret-every-instance-shares';
let redis: TestRedis;
let inspector: Redis;
const instances: Harness[] = [];
const warnings: string[] = [];

beforeAll(async () => {
  redis = await startRedis();
  inspector = new Redis(redis.url, { lazyConnect: true });
  await inspector.connect();
});
afterAll(async () => {
  inspector.disconnect();
  await Promise.all(instances.map((instance) => instance.stop()));
  await redis.stop();
});

/** Polls until `check` holds (bounded). */
async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`still not: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('a room taken over from Redis', () => {
  it('refuses a malformed or mismatched snapshot, another room’s bans, and rooms past maxRooms', async () => {
    const a = await Harness.start({ redis: redis.url, secret: SECRET, limits: { heartbeatMs: 300 } });
    const b = await Harness.start({
      redis: redis.url,
      secret: SECRET,
      // Its keys outlive the test's waits: a home key it does not let go of stays.
      limits: { heartbeatMs: 5_000, maxRooms: 3 },
      onWarning: (message) => warnings.push(message),
    });
    instances.push(a, b);
    for (const instance of instances) await waitForHealth(instance.httpUrl, 'ok');

    // b holds one room; a holds three, each with a phone.
    await b.join({ role: 'daw' });
    const { client: daw, welcome } = await a.join({ role: 'daw', deviceId: 'daw-device-1' });
    const { welcome: phone } = await a.join({ room: welcome.room, deviceId: 'phone-device-1' });
    await daw.next('member-joined');
    const { client: daw4, welcome: room4 } = await a.join({ role: 'daw' });
    const { welcome: phone4 } = await a.join({ room: room4.room, deviceId: 'phone-device-4' });
    await daw4.next('member-joined');
    const { client: daw5, welcome: room5 } = await a.join({ role: 'daw' });
    const { welcome: phone5 } = await a.join({ room: room5.room, deviceId: 'phone-device-5' });
    await daw5.next('member-joined');
    for (const code of [welcome.room, room4.room, room5.room]) {
      await until(
        async () => ((await inspector.get(`padmesh:room:${code}`)) ?? '').includes('phone-device'),
        `room ${code} written with its phone`,
      );
    }
    // a stops: its rooms' snapshots stay in Redis for whoever takes them over.
    await a.stop();

    const snapshot = JSON.parse((await inspector.get(`padmesh:room:${welcome.room}`)) as string) as { code: string };
    const back = await b.open();
    const rejoin = {
      type: 'join',
      v: 1,
      role: 'controller',
      room: welcome.room,
      deviceId: 'phone-device-1',
      resumeToken: phone.resumeToken,
    };
    // Room 1's snapshot, sound but for a field far longer than any room's snapshot: not even parsed.
    await inspector.set(
      `padmesh:room:${welcome.room}`,
      JSON.stringify({ ...snapshot, padding: 'x'.repeat(600_000) }),
      'PX',
      60_000,
    );
    back.send(rejoin);
    const tooLarge = await back.error();
    expect(tooLarge.code).toBe(ErrorCode.ROOM_NOT_FOUND);
    expect(tooLarge.message).toMatch(/larger than any room/);
    expect(b.server.stats().rooms).toBe(1);

    // Then it claims to be another room, and its ban list bans room 4's phone from room 4.
    const otherCode = 'WWWWWW';
    await inspector.set(`padmesh:room:${welcome.room}`, JSON.stringify({ ...snapshot, code: otherCode }), 'PX', 60_000);
    const foreignBan = {
      room: room4.room,
      daw: room4.peerId,
      devices: ['phone-device-4'],
      addresses: [],
      peerIds: [],
      expiresAt: null,
    };
    await inspector.set(`padmesh:bans:${welcome.room}`, JSON.stringify([foreignBan]), 'PX', 60_000);

    back.send(rejoin);
    const refused = await back.error();
    expect(refused.code).toBe(ErrorCode.ROOM_NOT_FOUND);
    expect(refused.message).toMatch(/snapshot is of another room/);
    expect(warnings.some((line) => line.includes(`room ${welcome.room} was not taken over`))).toBe(true);
    expect(b.server.stats().rooms).toBe(1);
    const stray = await b.open();
    stray.send({ type: 'join', v: 1, role: 'controller', room: otherCode, deviceId: 'stray-device-1' });
    expect((await stray.error()).code).toBe(ErrorCode.ROOM_NOT_FOUND);

    // The DAW, with its hostToken, gets its room back (recreated: the snapshot was unusable).
    const { welcome: dawBack } = await b.join({
      role: 'daw',
      room: welcome.room,
      deviceId: 'daw-device-1',
      hostToken: welcome.hostToken as string,
    });
    expect(dawBack).toMatchObject({ room: welcome.room, peerId: welcome.peerId });
    expect(b.server.stats().rooms).toBe(2);

    // Room 4 is taken over from its sound snapshot; room 1's list banned nobody from it.
    const { welcome: phone4Back } = await b.join({
      room: room4.room,
      deviceId: 'phone-device-4',
      resumeToken: phone4.resumeToken,
    });
    expect(phone4Back.peerId).toBe(phone4.peerId);
    expect(b.server.stats().rooms).toBe(3);

    // A DAW's join makes b the home of a room nobody holds (to recreate it); refused, b lets go of it.
    const impostor = await b.open();
    impostor.send({ type: 'join', v: 1, role: 'daw', room: 'XXXXXX', deviceId: 'impostor-device-1', hostToken: 'h.x' });
    expect((await impostor.error()).code).toBe(ErrorCode.UNAUTHORIZED);
    await until(async () => (await inspector.get('padmesh:home:XXXXXX')) === null, 'room XXXXXX let go');

    // b now holds maxRooms: room 5, whose snapshot is sound too, is not taken over; its home key is let go.
    const full = await b.open();
    full.send({
      type: 'join',
      v: 1,
      role: 'controller',
      room: room5.room,
      deviceId: 'phone-device-5',
      resumeToken: phone5.resumeToken,
    });
    expect((await full.error()).code).toBe(ErrorCode.SERVER_FULL);
    expect(b.server.stats().rooms).toBe(3);
    await until(async () => (await inspector.get(`padmesh:home:${room5.room}`)) === null, 'room 5 let go');
    expect(await inspector.exists(`padmesh:room:${room5.room}`)).toBe(1);
  }, 60_000);
});

/**
 * A room's home moves between instances without ever having two:
 * - an instance SIGKILLed is known dead by its subscription, which goes with its process, not
 *   only by its key, which lives 3 heartbeats: here heartbeats are a minute long, so the key
 *   would outlive the test, and the room is still taken over at its members' first rejoin;
 * - an instance whose room another took (its Redis connection dropped, or it stalled past its
 *   key's life) hands the room over: its members there are closed with 1012 (they rejoin
 *   through the new home), and it never writes over the new home's snapshot;
 * - so two copies of a room, made on two instances while Redis was down, become one.
 * Each instance is a process of its own, beside a real redis-server.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '../../signal/protocol.ts';
import { type JoinOptions, joinAt, joinMessage, TestClient } from '../helpers/clients.ts';
import { type InstanceProcess, startInstance, startRedis, type TestRedis, waitForHealth } from '../helpers/redis.ts';

const SECRET = 'a-secret-every-instance-shares';
let redis: TestRedis;
let commands: Redis;
const instances: InstanceProcess[] = [];
const clients: TestClient[] = [];

beforeAll(async () => {
  redis = await startRedis();
  commands = new Redis(redis.url);
  commands.on('error', () => {}); // Redis is killed on purpose in one test
});
afterAll(async () => {
  for (const client of clients) client.close();
  commands?.disconnect();
  await Promise.all(instances.map((instance) => instance.kill()));
  await redis?.stop();
});

const join = (url: string, options: JoinOptions) => joinAt(url, options, clients);

async function twoInstances(heartbeatMs: number): Promise<[InstanceProcess, InstanceProcess]> {
  const pair = [
    await startInstance({ redisUrl: redis.url, secret: SECRET, heartbeatMs }),
    await startInstance({ redisUrl: redis.url, secret: SECRET, heartbeatMs }),
  ] as const;
  instances.push(...pair);
  for (const instance of pair) await waitForHealth(instance.httpUrl, 'ok');
  return [pair[0], pair[1]];
}

const instanceIdOf = async (instance: InstanceProcess): Promise<string> =>
  ((await waitForHealth(instance.httpUrl, 'ok')).cluster as { instance: string }).instance;

describe('a room’s home moves', () => {
  it('an instance SIGKILLed is dead at once for a rejoin, though its key would live for minutes', async () => {
    const [doomed, survivor] = await twoInstances(60_000);
    const dawDevice = 'daw-device-moves-1';
    const { welcome } = await join(doomed.url, { role: 'daw', deviceId: dawDevice, name: 'Studio' });
    const { welcome: ana } = await join(doomed.url, { room: welcome.room, deviceId: 'phone-moves-1', name: 'Ana' });
    expect(await commands.pttl(`padmesh:inst:${await instanceIdOf(doomed)}`)).toBeGreaterThan(60_000);

    await doomed.kill();

    // The load balancer sends both to the survivor: the first rejoin takes the room over there.
    const { welcome: dawBack } = await join(survivor.url, {
      role: 'daw',
      room: welcome.room,
      deviceId: dawDevice,
      hostToken: welcome.hostToken as string,
      resumeToken: welcome.resumeToken,
    });
    expect(dawBack.room).toBe(welcome.room);
    expect(dawBack.peerId).toBe(welcome.peerId);
    const { welcome: anaBack } = await join(survivor.url, {
      room: welcome.room,
      deviceId: 'phone-moves-1',
      name: 'Ana',
      resumeToken: ana.resumeToken,
    });
    expect(anaBack.peerId).toBe(ana.peerId);
    expect(await commands.get(`padmesh:home:${welcome.room}`)).toBe(await instanceIdOf(survivor));
  });

  it('a home whose subscriber is reconnecting is not taken for dead: the room is taken only after a grace', async () => {
    const [instance] = await twoInstances(300);
    // A stand-in home instance, played by this test: its key is fresh, and for now nothing listens on its channel.
    const home = 'standin-01';
    const code = 'ACDEF7';
    await commands.set(`padmesh:inst:${home}`, '1', 'PX', 60_000);
    await commands.set(`padmesh:home:${code}`, home, 'PX', 60_000);
    const listener = new Redis(redis.url);
    const heard: string[] = [];
    listener.on('message', (_channel: string, message: string) => heard.push(message));
    try {
      const phone = await TestClient.open(instance.url);
      clients.push(phone);
      phone.send(joinMessage({ room: code, deviceId: 'phone-moves-4', name: 'Cy' }));
      // The first claim found no subscriber and only marked the home; it listens again (a reconnect) meanwhile.
      await expect.poll(() => commands.exists(`padmesh:inst:${home}:deaf`), { timeout: 15_000 }).toBe(1);
      await listener.subscribe(`padmesh:i:${home}`);
      // The claim a grace later finds it listening: the join goes to it, not taken over here.
      await expect.poll(() => heard.find((message) => message.startsWith('O|')), { timeout: 15_000 }).toBeDefined();
      expect(await commands.get(`padmesh:home:${code}`)).toBe(home);
      expect(phone.received.map((message) => message.type)).not.toContain('welcome');
    } finally {
      listener.disconnect();
    }
  });

  it('an instance whose room another took hands it over: its members there close with 1012, the new snapshot stays', async () => {
    const [first, second] = await twoInstances(300);
    const { client: daw, welcome } = await join(first.url, { role: 'daw', name: 'Studio' });
    const { client: phone } = await join(first.url, { room: welcome.room, deviceId: 'phone-moves-2', name: 'Ben' });
    const home = `padmesh:home:${welcome.room}`;
    const snapshotKey = `padmesh:room:${welcome.room}`;
    await expect.poll(() => commands.get(home), { timeout: 15_000 }).toBe(await instanceIdOf(first));

    // The second instance took the room (as it would after the first lost Redis for longer than its key's life).
    const snapshot = JSON.parse((await commands.get(snapshotKey)) as string) as { state?: unknown };
    const theirs = JSON.stringify({ ...snapshot, state: { taken: 'over' } });
    await commands.set(home, await instanceIdOf(second), 'PX', 60_000);
    await commands.set(snapshotKey, theirs, 'PX', 60_000);
    daw.send({ type: 'state', state: { written: 'by the old home' } }); // a change the old home would write

    expect((await daw.closedWithin()).code).toBe(CloseCode.SERVICE_RESTART);
    expect((await phone.closedWithin()).code).toBe(CloseCode.SERVICE_RESTART);
    expect(await commands.get(snapshotKey)).toBe(theirs);
    expect(await commands.get(home)).toBe(await instanceIdOf(second));
    await expect
      .poll(async () => ((await waitForHealth(first.httpUrl, 'ok')) as { rooms: number }).rooms, { timeout: 15_000 })
      .toBe(0);
  });

  it('two copies of a room made while Redis was down become one when it is back', async () => {
    const [a, b] = await twoInstances(300);
    const dawDevice = 'daw-device-moves-3';
    const { client: daw, welcome } = await join(a.url, { role: 'daw', deviceId: dawDevice, name: 'Studio' });
    const { client: ben, welcome: benWelcome } = await join(a.url, {
      room: welcome.room,
      deviceId: 'phone-moves-3',
      name: 'Ben',
    });
    await redis.kill();
    for (const instance of [a, b]) await waitForHealth(instance.httpUrl, 'degraded');

    // The DAW's connection breaks and the load balancer sends it to b, which cannot ask Redis
    // who holds the room: it makes the room again from the hostToken. Two copies now.
    daw.close();
    const dawRejoin = {
      role: 'daw' as const,
      room: welcome.room,
      deviceId: dawDevice,
      name: 'Studio',
      hostToken: welcome.hostToken as string,
      resumeToken: welcome.resumeToken,
    };
    const { client: dawOnB } = await join(b.url, dawRejoin);
    const rooms = async (instance: InstanceProcess) =>
      ((await fetch(`${instance.httpUrl}/healthz`)).json() as Promise<{ rooms: number }>).then((body) => body.rooms);
    expect([await rooms(a), await rooms(b)]).toEqual([1, 1]);

    await redis.restart();

    // Both write their copy back; the first holds it, and the other hands its copy over: its
    // members there are closed with 1012 and rejoin (through the same instance) into the one copy.
    const handedOver = await Promise.race([
      dawOnB.closedWithin().then((closed) => ({ who: 'daw', closed })),
      ben.closedWithin().then((closed) => ({ who: 'ben', closed })),
    ]);
    expect(handedOver.closed.code).toBe(CloseCode.SERVICE_RESTART);
    await expect.poll(async () => (await rooms(a)) + (await rooms(b)), { timeout: 15_000 }).toBe(1);
    if (handedOver.who === 'daw') {
      const { welcome: dawBack } = await join(b.url, dawRejoin);
      expect(dawBack.peerId).toBe(welcome.peerId);
      expect(dawBack.members.find((member) => member.peerId === benWelcome.peerId)?.state).toBe('connected');
    } else {
      const { welcome: benBack } = await join(a.url, {
        room: welcome.room,
        deviceId: 'phone-moves-3',
        name: 'Ben',
        resumeToken: benWelcome.resumeToken,
      });
      expect(benBack.room).toBe(welcome.room);
      expect((await dawOnB.next('member-joined')).member.name).toBe('Ben');
    }
  });
});

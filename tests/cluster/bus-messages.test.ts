/**
 * Malformed messages on the bus between instances (published straight onto an instance's
 * channel, as a bug, another version or a stray publisher would): each is checked in full
 * before anything is done, dropped, counted (`malformed` on /healthz) and logged; nothing
 * crashes, and no socket is left open that its home closed, or half-joined.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloseCode } from '../../signal/protocol.ts';
import { Harness, type TestClient, WAIT_MS } from '../helpers/clients.ts';
import { startRedis, type TestRedis, waitForHealth } from '../helpers/redis.ts';

const SECRET = 'a-secret-every-instance-shares';
let redis: TestRedis;
let bus: Redis;
let listener: Redis;
const instances: Harness[] = [];
const warnings: string[] = [];

beforeAll(async () => {
  redis = await startRedis();
  bus = new Redis(redis.url, { lazyConnect: true });
  await bus.connect();
  listener = new Redis(redis.url, { lazyConnect: true });
  await listener.connect();
});
afterAll(async () => {
  bus.disconnect();
  listener.disconnect();
  await Promise.all(instances.map((instance) => instance.stop()));
  await redis.stop();
});

async function instanceId(instance: Harness): Promise<string> {
  const health = await waitForHealth(instance.httpUrl, 'ok');
  return (health.cluster as { instance: string }).instance;
}

async function malformedCount(instance: Harness): Promise<number> {
  return ((await waitForHealth(instance.httpUrl, 'ok')).cluster as { malformed: number }).malformed;
}

/** Relays from `from` until one reaches `to` (bounded): the path between them works. */
async function relayGetsThrough(from: TestClient, to: TestClient, tag: string): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  for (let seq = 0; ; seq++) {
    from.send({ type: 'relay', data: { tag, seq } });
    try {
      await to.next('relay', (m) => (m.data as { tag?: string }).tag === tag, 200);
      return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
  }
}

describe('the bus between instances', () => {
  it('drops malformed messages, counts and logs them, and leaves every socket where both sides agree', async () => {
    for (let i = 0; i < 2; i++) {
      instances.push(
        await Harness.start({
          redis: redis.url,
          secret: SECRET,
          limits: { heartbeatMs: 300 },
          onWarning: (message) => warnings.push(message),
        }),
      );
    }
    const [a, b] = instances;
    if (!a || !b) throw new Error('two instances');
    const idA = await instanceId(a);
    const idB = await instanceId(b);
    // What b tells a (its phones' ids on b) is read off a's channel.
    const opens: string[] = [];
    listener.on('message', (_channel: string, message: string) => {
      if (message.startsWith('O|')) opens.push(message);
    });
    await listener.subscribe(`padmesh:i:${idA}`);

    const { client: daw, welcome } = await a.join({ role: 'daw' });
    const { client: phone, welcome: phoneWelcome } = await b.join({ room: welcome.room, deviceId: 'phone-device-1' });
    await daw.next('member-joined');
    const open = opens.find((message) => message.startsWith(`O|${idB}|`));
    if (open === undefined) throw new Error(`no open seen: ${JSON.stringify(opens)}`);
    const phoneId = open.split('|')[2] as string;

    // To a (the room's home): a second open for b's phone (it would orphan the phone's handle),
    // opens that do not check out, a reconcile and messages that make no sense.
    for (const message of [
      `O|${idB}|${phoneId}|${JSON.stringify({ address: '10.9.9.9', iceServers: [] })}`,
      `O|${idB}|zz|{not json`,
      `O|${idB}|zy|${JSON.stringify({ address: 5, iceServers: 'stun:x' })}`,
      `R|${idB}||1|not an id,!!`,
      `C|${idB}|${phoneId}|trailing`,
      `M|not-an-instance|${phoneId}|{}`,
      'Q|nonsense',
      `Z|${idB}|${phoneId}|`,
    ]) {
      await bus.publish(`padmesh:i:${idA}`, message);
    }
    // The phone is still a member, heard and answered through its one handle.
    await relayGetsThrough(phone, daw, 'after-bad-opens');
    await relayGetsThrough(daw, phone, 'after-bad-opens-back');
    await phone.sync();
    expect(await malformedCount(a)).toBe(8);
    expect(warnings.some((line) => line.includes('malformed message from another instance'))).toBe(true);

    // To b: a close from an instance that is not the phone's home: dropped, the phone stays.
    await bus.publish(`padmesh:i:${idB}`, `X|AAAAAAAAAA|${phoneId}|4001|kicked`);
    await relayGetsThrough(phone, daw, 'after-stray-close');
    // A close from its home that cannot be carried out as sent (no code `ws` can send): the home
    // has let go of the phone, so it is closed anyway, with 1012, and rejoins under its peerId.
    await bus.publish(`padmesh:i:${idB}`, `X|${idA}|${phoneId}|abc|`);
    expect((await phone.closedWithin()).code).toBe(CloseCode.SERVICE_RESTART);
    expect(await malformedCount(b)).toBe(2);
    const { client: again, welcome: back } = await b.join({
      room: welcome.room,
      deviceId: 'phone-device-1',
      resumeToken: phoneWelcome.resumeToken,
    });
    expect(back.peerId).toBe(phoneWelcome.peerId);
    await relayGetsThrough(again, daw, 'rejoined');

    // A close whose reason is longer than WebSocket allows: closed too, not left open.
    const reopened = opens.filter((message) => message.startsWith(`O|${idB}|`)).at(-1) as string;
    const againId = reopened.split('|')[2] as string;
    await bus.publish(`padmesh:i:${idB}`, `X|${idA}|${againId}|4001|${'é'.repeat(100)}`);
    expect((await again.closedWithin()).code).toBe(CloseCode.SERVICE_RESTART);
    expect(await malformedCount(b)).toBe(3);
  }, 60_000);

  it('closes a socket whose home sends it a welcome that does not parse, rather than take it for joined', async () => {
    const b = instances[1];
    if (!b) throw new Error('the instances of the test before');
    const idB = await instanceId(b);
    // A home that is only a name in Redis: b proxies a join there, and the test speaks for it.
    const fakeHome = 'FAKEHOME01';
    const code = 'WWWWWW';
    await bus.set(`padmesh:inst:${fakeHome}`, '1', 'PX', 60_000);
    await bus.set(`padmesh:home:${code}`, fakeHome, 'PX', 60_000);
    const opens: string[] = [];
    const fake = new Redis(redis.url, { lazyConnect: true });
    try {
      await fake.connect();
      fake.on('message', (_channel: string, message: string) => {
        if (message.startsWith(`O|${idB}|`)) opens.push(message);
      });
      await fake.subscribe(`padmesh:i:${fakeHome}`);
      const phone = await b.open();
      phone.send({ type: 'join', v: 1, role: 'controller', room: code, deviceId: 'fake-room-device-1' });
      const deadline = Date.now() + WAIT_MS;
      while (opens.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const id = (opens[0] as string).split('|')[2] as string;
      const before = await malformedCount(b);
      await bus.publish(`padmesh:i:${idB}`, `S|${fakeHome}|${id}|{"type":"welcome","room":"${code}"}`);
      expect((await phone.closedWithin()).code).toBe(CloseCode.SERVICE_RESTART);
      expect(phone.received).toEqual([]);
      expect(await malformedCount(b)).toBe(before + 1);
    } finally {
      fake.disconnect();
    }
  }, 60_000);

  it('sends a close again when the member’s instance still lists the socket (the first was lost)', async () => {
    const a = instances[0];
    if (!a) throw new Error('the instances of the first test');
    const idA = await instanceId(a);
    // A member instance that is only the test: it hears what a sends it, and loses what it likes.
    const fakeInstance = 'FAKEINST01';
    const heard: string[] = [];
    const fake = new Redis(redis.url, { lazyConnect: true });
    try {
      await fake.connect();
      fake.on('message', (_channel: string, message: string) => heard.push(message));
      await fake.subscribe(`padmesh:i:${fakeInstance}`);
      await bus.set(`padmesh:inst:${fakeInstance}`, '1', 'PX', 60_000);
      const waitFor = async (prefix: string, count = 1): Promise<string> => {
        const deadline = Date.now() + WAIT_MS;
        for (;;) {
          const found = heard.filter((message) => message.startsWith(prefix));
          if (found.length >= count) return found[count - 1] as string;
          if (Date.now() > deadline) throw new Error(`no "${prefix}" (${count}); heard ${JSON.stringify(heard)}`);
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
      };

      const { client: daw, welcome } = await a.join({ role: 'daw' });
      await bus.publish(
        `padmesh:i:${idA}`,
        `O|${fakeInstance}|m1|${JSON.stringify({ address: '10.1.2.3', iceServers: [] })}`,
      );
      const join = { type: 'join', v: 1, role: 'controller', room: welcome.room, deviceId: 'fake-member-device-1' };
      await bus.publish(`padmesh:i:${idA}`, `M|${fakeInstance}|m1|${JSON.stringify(join)}`);
      const welcomed = JSON.parse((await waitFor(`S|${idA}|m1|{"type":"welcome"`)).split('|').slice(3).join('|'));
      await daw.next('member-joined');

      // The DAW kicks it; the close to its instance is lost (the test drops it), and the instance
      // still lists the socket as open in a's rooms at its next reconcile: a sends the close again.
      daw.send({ type: 'kick', peer: welcomed.peerId as string });
      expect(await waitFor(`X|${idA}|m1|`)).toBe(`X|${idA}|m1|${CloseCode.KICKED}|kicked`);
      await bus.publish(`padmesh:i:${idA}`, `R|${fakeInstance}||0|m1`);
      expect(await waitFor(`X|${idA}|m1|`, 2)).toBe(`X|${idA}|m1|${CloseCode.KICKED}|kicked`);
    } finally {
      fake.disconnect();
    }
  }, 60_000);
});

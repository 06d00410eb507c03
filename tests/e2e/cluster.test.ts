/**
 * A real jam spread over two signal server instances sharing Redis (each a process of its
 * own, each behind a loopback TCP proxy playing the load balancer): the DAW page and one phone
 * on instance A, another phone on instance B. Pad hits flow P2P through Redis being killed and
 * restarted and through instance A being SIGKILLed; everyone comes back through instance B under
 * the same room code and peerIds. Runs only in the loopback-only namespace (tests/helpers/jam.ts).
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DIST, Jam, memberHits, memberRow, PHONE_HOST, peerIdOf, tapRhythm, WAIT, waitForP2p } from '../helpers/jam.ts';
import { type InstanceProcess, startInstance, startRedis, type TestRedis, waitForHealth } from '../helpers/redis.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';

const SECRET = 'e2e-secret-shared-by-every-instance';
let jam: Jam;
let redis: TestRedis;
const instances: InstanceProcess[] = [];
const proxies: TcpProxy[] = [];

beforeAll(async () => {
  jam = await Jam.launch();
  redis = await startRedis();
});
afterAll(async () => {
  await jam?.close();
  for (const proxy of proxies) await proxy.close();
  await Promise.all(instances.map((instance) => instance.kill()));
  await redis?.stop();
});

const transportOf = (daw: Page, name: string) => memberRow(daw, name).getAttribute('data-transport');

/** `count` taps from `phone` on pad 5: each one reaches the DAW (its count for `name` rises by `count`). */
async function tapsArrive(daw: Page, phone: Page, name: string, count = 4): Promise<void> {
  const before = await memberHits(daw, name);
  await tapRhythm(phone, { pad: 5, count, intervalMs: 60 });
  await expect.poll(() => memberHits(daw, name), WAIT).toBe(before + count);
}

describe('a jam over two instances and Redis', () => {
  it('keeps P2P hits flowing through Redis down and an instance SIGKILLed; everyone resumes under the same ids', async () => {
    for (let i = 0; i < 2; i++) {
      instances.push(
        await startInstance({
          redisUrl: redis.url,
          secret: SECRET,
          heartbeatMs: 500,
          staticDir: DIST,
          allowedHost: PHONE_HOST,
        }),
      );
    }
    const [a, b] = instances;
    if (!a || !b) throw new Error('two instances');
    for (const instance of instances) await waitForHealth(instance.httpUrl, 'ok');
    const toA = await startTcpProxy(a.port);
    const toB = await startTcpProxy(b.port);
    proxies.push(toA, toB);

    jam.port = toA.port;
    const { daw, code } = await jam.openDaw();
    const ben = await jam.joinPhone(code, 'Ben');
    jam.port = toB.port;
    const ana = await jam.joinPhone(code, 'Ana');
    for (const phone of [ana, ben]) await waitForP2p(phone);
    for (const name of ['Ana', 'Ben']) await expect.poll(() => transportOf(daw, name), WAIT).toBe('p2p');
    const anaPeer = await peerIdOf(daw, 'Ana');
    const benPeer = await peerIdOf(daw, 'Ben');
    await tapsArrive(daw, ana, 'Ana');
    await tapsArrive(daw, ben, 'Ben');

    // Redis killed mid-jam: hits keep flowing; then it comes back (empty).
    await redis.kill();
    await waitForHealth(a.httpUrl, 'degraded');
    await tapsArrive(daw, ana, 'Ana');
    await tapsArrive(daw, ben, 'Ben');
    await redis.restart();
    for (const instance of instances) await waitForHealth(instance.httpUrl, 'ok');
    // Right as presence is reconciled (the room state is sent again): these taps once went nowhere,
    // when the phone's pads were made anew under the finger (PadGrid now keeps them by position).
    await tapsArrive(daw, ana, 'Ana');
    await tapsArrive(daw, ben, 'Ben');

    // Instance A (the room's home, the DAW's and Ben's) dies; the load balancer moves to B.
    await a.kill();
    toA.retarget(b.port);
    toA.cut();
    await tapsArrive(daw, ana, 'Ana');
    await tapsArrive(daw, ben, 'Ben');

    // Everyone is back on B: same room, same peerIds, still P2P, and hits flow.
    for (const page of [daw, ana, ben]) await page.locator('[data-testid=status][data-state=connected]').waitFor(WAIT);
    await expect.poll(() => waitForHealth(b.httpUrl, 'ok').then((body) => body.members), WAIT).toBe(3);
    expect(await daw.getByTestId('room-code').textContent()).toBe(code);
    expect(await peerIdOf(daw, 'Ana')).toBe(anaPeer);
    expect(await peerIdOf(daw, 'Ben')).toBe(benPeer);
    for (const name of ['Ana', 'Ben']) await expect.poll(() => transportOf(daw, name), WAIT).toBe('p2p');
    await tapsArrive(daw, ana, 'Ana');
    await tapsArrive(daw, ben, 'Ben');
    expect(jam.errors).toEqual([]);
  });
});

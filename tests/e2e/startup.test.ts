/**
 * The way from a phone opening the page to its first hit over P2P, end to end in real
 * headless Chromium: what the link waits for, and what it does not (bench/hit-path.ts times
 * each step; here nothing is timed). Runs only inside a loopback-only network namespace
 * (see tests/helpers/jam.ts).
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LAPTOP } from '../helpers/browser.ts';
import { Jam, memberRow, padPoint, recordedHits, touch, WAIT, waitForP2p } from '../helpers/jam.ts';

let jam: Jam;
beforeAll(async () => {
  jam = await Jam.launch();
});
afterAll(async () => {
  await jam?.close();
});
afterEach(async () => {
  const errors = [...jam.errors];
  await jam.reset();
  expect(errors).toEqual([]);
});

/**
 * An init script: the page's `RTCPeerConnection.getStats()` never answers (as on a page so
 * busy that the answer is far behind). A link that waited for it would never open.
 */
function statsNeverAnswer(): void {
  RTCPeerConnection.prototype.getStats = () => new Promise(() => {});
}

describe('page open → first P2P hit', () => {
  it('opens the link the moment the data channel opens, on both ends, without waiting for getStats', async () => {
    await jam.startServer();
    const daw = await jam.page(LAPTOP, statsNeverAnswer);
    await daw.goto(`${jam.base}/daw?record=10`);
    const code = await jam.dawReady(daw);
    const ana = await jam.joinPhone(code, 'Ana', statsNeverAnswer);
    await waitForP2p(ana);
    await memberRow(daw, 'Ana').and(daw.locator('[data-transport=p2p]')).waitFor(WAIT);
    await touch(ana, [await padPoint(ana, 5)]);
    await expect.poll(async () => (await recordedHits(daw)).count, WAIT).toBe(1);
    const hits = await recordedHits(daw);
    expect({ pad: hits.pad[0], via: hits.via[0] }).toEqual({ pad: 5, via: 0 });
  });
});

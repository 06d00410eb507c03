/**
 * The way from a phone opening the page to its first hit over P2P, end to end in real
 * headless Chromium: each step the link takes to get there sooner (bench/hit-path.ts times
 * them; here only that they happen, never how fast). Runs only inside a loopback-only
 * network namespace (see tests/helpers/jam.ts).
 */
import type { Page } from 'playwright-core';
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

/**
 * An init script: the order in which the page's WebRTC connections are made (`connection`) and
 * its signaling socket receives the welcome (`welcome`) and `signal` messages (`signal`), in
 * `window.__order`. (No named functions inside: this source is sent to the page as it is.)
 */
function recordOrder(): void {
  const order: string[] = [];
  (window as unknown as { __order: string[] }).__order = order;
  const NativeSocket = window.WebSocket;
  window.WebSocket = class extends NativeSocket {
    constructor(url: string | URL, protocols?: string | string[]) {
      super(url, protocols);
      this.addEventListener('message', (event) => {
        if (typeof event.data !== 'string') return;
        if (event.data.startsWith('{"type":"welcome"')) order.push('welcome');
        else if (event.data.startsWith('{"type":"signal"')) order.push('signal');
      });
    }
  };
  const NativeConnection = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends NativeConnection {
    constructor(config?: RTCConfiguration) {
      super(config);
      order.push('connection');
    }
  };
}

const orderIn = (page: Page): Promise<string[]> =>
  page.evaluate(() => (window as unknown as { __order: string[] }).__order);

describe('page open → first P2P hit', () => {
  it('has the DAW’s answering connection ready before the phone’s offer comes, and links through it', async () => {
    await jam.startServer();
    const daw = await jam.page(LAPTOP, recordOrder);
    await daw.goto(`${jam.base}/daw`);
    const code = await jam.dawReady(daw);
    const ana = await jam.joinPhone(code, 'Ana', recordOrder);
    await waitForP2p(ana);
    await memberRow(daw, 'Ana').and(daw.locator('[data-transport=p2p]')).waitFor(WAIT);
    expect((await orderIn(ana)).slice(0, 2)).toEqual(['welcome', 'connection']);
    // The DAW: Ana's answering connection was ready when her offer came (DawPeers.greet), and it was the one used.
    expect((await orderIn(daw)).slice(0, 3)).toEqual(['welcome', 'connection', 'signal']);
    expect((await orderIn(daw)).filter((event) => event === 'connection')).toHaveLength(1);
  });

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

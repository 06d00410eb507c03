/**
 * The built-in kits rendered for real (client/audio/render-kit.ts: real Tone.js, a real
 * OfflineAudioContext, real IndexedDB) in headless Chromium (tests/helpers/kit-page, built with
 * Vite and served from 127.0.0.1). Every pad's every layer must be what a musician can play:
 * heard, not clipped, no click as it starts, its tail decayed to silence before its render
 * ended, and its layers different by velocity (harder is brighter). Then: a second load reads the
 * cache and gets the very same samples (the noise in many pads is random per render, so a render
 * would differ), and a storage failure (a newer layout on disk, a full quota) still gives sound
 * and says why. Times are not judged here (bench/kit-render.ts measures them).
 */
import type { Browser, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_KITS } from '../../client/audio/kits/index.ts';
import { padOrder } from '../../client/audio/render-kit.ts';
import { launchChromium } from '../helpers/browser.ts';
import type { KitPage, KitReport } from '../helpers/kit-page/kit-page.ts';
import { buildAndServe, type ServedPage } from '../helpers/page-server.ts';

const PAGE_DIR = new URL('../helpers/kit-page/', import.meta.url).pathname;
const RATE = 48_000;
/** Heard: a pad's peak at velocity 1 above −30 dBFS (the quietest built-in pad is ~−14 dBFS). */
const AUDIBLE = 10 ** (-30 / 20);
/** A click: the first 0.1 ms of a sound reaching this share of its peak (an attack ramp of ≥ 0.5 ms stays far below). */
const CLICK_SHARE = 0.25;
/** Silence at the end: the last 20 ms below −60 dBFS. */
const TAIL = 1e-3;

let served: ServedPage;
let browser: Browser;
let page: Page;
let cdp: CDPSession;
const errors: Error[] = [];

const render = (id: string) =>
  page.evaluate(({ id, rate }) => (window as unknown as { kitPage: KitPage }).kitPage.render(id, rate), {
    id,
    rate: RATE,
  });
const clearCache = () => page.evaluate(() => (window as unknown as { kitPage: KitPage }).kitPage.clearCache());

beforeAll(async () => {
  served = await buildAndServe(PAGE_DIR);
  browser = await launchChromium();
  page = await browser.newPage();
  page.setDefaultTimeout(60_000);
  page.on('pageerror', (error) => errors.push(error));
  await page.goto(served.url);
  await page.waitForFunction(() => (window as unknown as { kitPage?: KitPage }).kitPage?.ready === true);
  cdp = await page.context().newCDPSession(page);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await served?.close();
});

describe.each(BUILT_IN_KITS.map((kit) => [kit.id, kit] as const))('the %s kit', (id, kit) => {
  let first: KitReport;

  it('renders every pad and layer so it can be played: heard, unclipped, no click, a tail that dies out, brighter when harder', async () => {
    await clearCache();
    first = await render(id);
    expect(first.status).toMatchObject({ from: 'render', cache: 'stored', cacheError: null });
    // Handed over most played first, and every pad whole in the end.
    const order = padOrder(kit);
    expect(first.calls[0]?.pad).toBe(order[0]);
    expect(first.calls.slice(0, 16).map((c) => c.pad)).toEqual(order);
    first.pads.forEach((pad, i) => {
      const design = kit.pads[i];
      expect(
        pad.layers.map((l) => l.velocity),
        pad.name,
      ).toEqual(design?.layers);
      expect(pad.chokeGroup).toBe(design?.chokeGroup ?? 0);
      for (const layer of pad.layers) {
        const label = `${kit.name} ${pad.name} at ${layer.velocity}`;
        expect(layer.channels, label).toBe(1);
        expect(layer.peak, `${label}: heard`).toBeGreaterThan(layer.velocity === 1 ? AUDIBLE : AUDIBLE / 4);
        expect(layer.peak, `${label}: below 0 dBFS`).toBeLessThan(1);
        expect(layer.first, `${label}: starts from silence`).toBeLessThan(TAIL);
        expect(layer.startMax / layer.peak, `${label}: no click`).toBeLessThan(CLICK_SHARE);
        // It ended before its render did (its end was silence, cut off), and quietly.
        expect(layer.length, `${label}: decayed within its render`).toBeLessThan(pad.renderLength);
        expect(layer.tailMax, `${label}: a silent end`).toBeLessThan(TAIL);
      }
      // Harder is brighter: each layer brighter than the one below it.
      for (let k = 1; k < pad.layers.length; k++) {
        const softer = pad.layers[k - 1];
        const harder = pad.layers[k];
        expect(
          harder?.brightness,
          `${kit.name} ${pad.name}: ${harder?.velocity} brighter than ${softer?.velocity}`,
        ).toBeGreaterThan((softer?.brightness ?? 0) * 1.01);
      }
    });
    expect(errors).toEqual([]);
  });

  it('reads the same samples back from the cache the next time, without rendering', async () => {
    const again = await render(id);
    expect(again.status).toMatchObject({ from: 'cache', cache: 'hit', cacheError: null });
    expect(again.checksum).toBe(first.checksum);
    // One hand-over per pad, whole, in the same order.
    expect(again.calls.map((c) => c.pad)).toEqual(padOrder(kit));
    expect(again.calls.map((c) => c.layers)).toEqual(padOrder(kit).map((pad) => kit.pads[pad]?.layers.length));
  });
});

describe('without the cache', () => {
  it('renders anew after the cache is emptied (different noise, so different samples)', async () => {
    const before = await render('electronic');
    await clearCache();
    const after = await render('electronic');
    expect(after.status.from).toBe('render');
    expect(after.checksum).not.toBe(before.checksum);
  });

  it('plays when the cache cannot open (a newer layout on disk), and says why', async () => {
    await clearCache();
    await page.evaluate(() => (window as unknown as { kitPage: KitPage }).kitPage.occupyCacheWithNewerLayout());
    try {
      const report = await render('percussion');
      expect(report.status.from).toBe('render');
      expect(report.status.cache).toBe('unavailable');
      expect(report.status.cacheError).toContain('KIT_CACHE_UNAVAILABLE');
      expect(new Set(report.calls.map((c) => c.pad)).size).toBe(16);
      expect(report.pads.map((pad) => pad.layers.length)).toEqual(
        kit('percussion').pads.map((pad) => pad.layers.length),
      );
    } finally {
      await clearCache();
    }
  });

  it('plays when the storage quota is full, and says so', async () => {
    await clearCache();
    const origin = new URL(served.url).origin;
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 64 * 1024 });
    try {
      const report = await render('acoustic');
      expect(report.status.from).toBe('render');
      expect(report.status.cache).toBe('unavailable');
      expect(report.status.cacheError).toContain('KIT_CACHE_QUOTA');
      expect(new Set(report.calls.map((c) => c.pad)).size).toBe(16);
    } finally {
      await cdp.send('Storage.overrideQuotaForOrigin', { origin });
    }
    // Nothing half-written: the next load renders and stores.
    const next = await render('acoustic');
    expect(next.status).toMatchObject({ from: 'render', cache: 'stored' });
  });

  it('hands over no pad after an abort, and rejects', async () => {
    await clearCache();
    const outcome = await page.evaluate(
      ({ rate }) => (window as unknown as { kitPage: KitPage }).kitPage.renderAborted('electronic', rate, 3),
      { rate: RATE },
    );
    expect(outcome).toEqual({ calls: 3, callsAfterAbort: 0, rejected: 'AbortError' });
  });
});

function kit(id: string) {
  const found = BUILT_IN_KITS.find((k) => k.id === id);
  if (!found) throw new Error(id);
  return found;
}

/**
 * The built-in kits rendered for real (client/audio/render-kit.ts: real Tone.js, a real
 * OfflineAudioContext, real IndexedDB) in headless Chromium (tests/helpers/kit-page, built with
 * Vite and served from 127.0.0.1). Every pad's every layer must be what a musician can play:
 * heard, not clipped, no click as it starts, its tail decayed to silence before its render
 * ended, and its layers different by velocity (harder is brighter). Then: a second load reads the
 * cache (no render) and gets the very same samples, and a storage failure (a newer layout on disk, a full quota) still gives sound
 * and says why. Times are not judged here (bench/kit-render.ts measures them).
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILT_IN_KITS } from '../../client/audio/kits/index.ts';
import { padOrder, renderPlan } from '../../client/audio/render-kit.ts';
import { launchChromium } from '../helpers/browser.ts';
import type { KitPage, KitReport } from '../helpers/kit-page/kit-page.ts';
import { buildAndServe, type ServedPage } from '../helpers/page-server.ts';

const PAGE_DIR = new URL('../helpers/kit-page/', import.meta.url).pathname;
const RATE = 48_000;
/** Heard: every layer's peak above −30 dBFS (the quietest built-in pads peak around −14 dBFS). */
const AUDIBLE = 10 ** (-30 / 20);
/** A click: the first 0.1 ms of a sound reaching this share of its peak (an attack ramp of ≥ 0.5 ms stays far below). */
const CLICK_SHARE = 0.25;
/** Silence at the start: the first sample below −60 dBFS. */
const SILENT = 1e-3;
/** A sound that ends by itself, not cut: the 5 ms before the renderer's end fade 30 dB under its peak. */
const ENDED = 10 ** (-30 / 20);

let served: ServedPage;
let browser: Browser;
let page: Page;
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
    expect(first.renders).toBe(renderPlan(kit).length);
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
        expect.soft(layer.channels, label).toBe(1);
        expect.soft(layer.peak, `${label}: heard`).toBeGreaterThan(AUDIBLE);
        expect.soft(layer.peak, `${label}: below 0 dBFS`).toBeLessThan(1);
        expect.soft(layer.first, `${label}: starts from silence`).toBeLessThan(SILENT);
        expect.soft(layer.startMax / layer.peak, `${label}: no click`).toBeLessThan(CLICK_SHARE);
        // It fell to silence (−80 dBFS, where the renderer cuts it) before its render ended, and
        // it was already quiet before the renderer's fade: it ended by itself.
        expect.soft(layer.length, `${label}: decayed within its render`).toBeLessThan(pad.renderLength);
        expect.soft(layer.endMax / layer.peak, `${label}: ended by itself`).toBeLessThan(ENDED);
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
    expect(again.renders).toBe(0);
    expect(again.checksum).toBe(first.checksum);
    // One hand-over per pad, whole, in the same order.
    expect(again.calls.map((c) => c.pad)).toEqual(padOrder(kit));
    expect(again.calls.map((c) => c.layers)).toEqual(padOrder(kit).map((pad) => kit.pads[pad]?.layers.length));
  });
});

describe('without the cache', () => {
  it('renders the very same samples again once the cache is emptied (a render and its cached copy are one sound)', async () => {
    await render('electronic'); // cached now, if it was not
    const cached = await render('electronic');
    expect(cached.renders).toBe(0);
    await clearCache();
    const rendered = await render('electronic');
    expect(rendered.status.from).toBe('render');
    expect(rendered.renders).toBeGreaterThan(0);
    // The same to a few parts in a million: Chromium sums a node's many inputs in an order of its
    // own, so the metal pads (six oscillators into one gain) can differ in the last bits.
    rendered.pads.forEach((pad, i) => {
      pad.layers.forEach((layer, k) => {
        const other = cached.pads[i]?.layers[k];
        expect(layer.length, pad.name).toBe(other?.length);
        expect(Math.abs(layer.peak - (other?.peak ?? 0)), pad.name).toBeLessThan(1e-5);
        expect(Math.abs(layer.rms - (other?.rms ?? 0)), pad.name).toBeLessThan(1e-5);
      });
    });
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

  it('plays when the storage quota is full, says so, and leaves nothing half-written', async () => {
    // Chromium fixes an origin's quota when its storage is first used, so this runs on an origin
    // of its own (the same server as localhost), its quota made small before the page opens.
    const origin = `http://localhost:${new URL(served.url).port}`;
    const small = await browser.newPage();
    try {
      const session = await small.context().newCDPSession(small);
      await session.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: 64 * 1024 });
      await small.goto(`${origin}/`);
      await small.waitForFunction(() => (window as unknown as { kitPage?: KitPage }).kitPage?.ready === true);
      const load = () =>
        small.evaluate((rate) => (window as unknown as { kitPage: KitPage }).kitPage.render('acoustic', rate), RATE);
      const report = await load();
      expect(report.status.from).toBe('render');
      expect(report.status.cache).toBe('unavailable');
      expect(report.status.cacheError).toContain('KIT_CACHE_QUOTA');
      expect(new Set(report.calls.map((c) => c.pad)).size).toBe(16);
      // The failed write left no part of the kit to be read: the next load renders it whole again.
      const next = await load();
      expect(next.status).toMatchObject({ from: 'render', cache: 'unavailable' });
      expect(next.pads.map((pad) => pad.layers.length)).toEqual(kit('acoustic').pads.map((pad) => pad.layers.length));
    } finally {
      await small.close();
    }
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

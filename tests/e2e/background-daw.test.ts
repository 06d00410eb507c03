/**
 * A DAW tab in the background (issue 12, item 3): its sound never waits for the screen, and its
 * view (hit counts, the hit list, presence) stays true without animation frames, catching up at
 * once when it is shown again.
 *
 * Headless Chromium never hides a page (minimising its window or opening a tab over it leaves
 * `document.hidden` false and animation frames running, as tried here), so the DAW page is
 * hidden the way a browser hides a background tab, from the page's side: an init script makes
 * `document.hidden` true and `visibilityState` 'hidden', holds every animation frame asked for
 * (a background tab runs none) and fires `visibilitychange`; "showing" it undoes that and runs
 * the held frames. The one stand-in here; everything else is real.
 */
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { LAPTOP } from '../helpers/browser.ts';
import { E2E_WAIT_MS, type Jam, memberRow, tapRhythm, waitForP2p } from '../helpers/jam.ts';
import { useJam } from '../helpers/use-jam.ts';

const WAIT = { timeout: E2E_WAIT_MS };

/** window.__background(true | false): hide or show the page as a browser does a background tab. */
const BACKGROUND_TAB = `{
  const realFrame = window.requestAnimationFrame.bind(window);
  let held = [];
  let hidden = false;
  Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => hidden });
  Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
  window.requestAnimationFrame = (callback) => {
    if (!hidden) return realFrame(callback);
    held.push(callback);
    return 1e9 + held.length;
  };
  window.__framesHeld = () => held.length;
  window.__background = (on) => {
    hidden = on;
    document.dispatchEvent(new Event('visibilitychange'));
    if (!on) {
      const run = held;
      held = [];
      for (const callback of run) realFrame(callback);
    }
  };
}`;

const background = (daw: Page, on: boolean) =>
  daw.evaluate((value) => (window as unknown as { __background(on: boolean): void }).__background(value), on);
const triggered = async (daw: Page) => Number(await daw.getByTestId('engine').getAttribute('data-triggered'));

let jam: Jam;
useJam((launched) => {
  jam = launched;
});

describe('a DAW tab in the background', () => {
  it('plays every hit and keeps its counts, list and presence true without animation frames', async () => {
    await jam.startServer();
    const daw = await jam.page(LAPTOP, BACKGROUND_TAB);
    await daw.goto(`${jam.base}/daw`);
    const code = await jam.dawReady(daw);
    const phone = await jam.joinPhone(code, 'Ana');
    await waitForP2p(phone);
    const before = await triggered(daw);

    await background(daw, true);
    expect(await daw.evaluate(() => document.visibilityState)).toBe('hidden');
    // The stand-in holds frames asked for while hidden (the page itself asks for none: its level meter and
    // its view run on timers then), shown by one asked for here.
    await daw.evaluate(() => requestAnimationFrame(() => {}));
    await tapRhythm(phone, { pad: 0, count: 12, intervalMs: 40 });
    // Counted and shown while hidden: no frame ran (they are held), a timer brought the view up to date.
    await expect.poll(() => memberRow(daw, 'Ana').getByTestId('member-hits').textContent(), WAIT).toBe('12');
    expect(await triggered(daw)).toBe(before + 12);
    expect(await daw.locator('[data-testid=hit]').count()).toBe(12);
    // Presence needs no frame either: a second phone appears on the hidden DAW.
    await jam.joinPhone(code, 'Ben');
    await memberRow(daw, 'Ben').waitFor(WAIT);
    expect(await daw.evaluate(() => (window as unknown as { __framesHeld(): number }).__framesHeld())).toBeGreaterThan(
      0,
    );

    await background(daw, false);
    await tapRhythm(phone, { pad: 1, count: 3, intervalMs: 40 });
    await expect.poll(() => memberRow(daw, 'Ana').getByTestId('member-hits').textContent(), WAIT).toBe('15');
    expect(await triggered(daw)).toBe(before + 15);
  });
});

/**
 * The band in real headless Chromium against the real server and built app: the DAW gives a
 * phone a melodic instrument, the phone's pads become the notes of the room's key and scale
 * (named by the DAW in room state), a key change renames them, and the part follows the phone
 * across its reload and the DAW's reload; back on drums, the kit's pads return. The pages try
 * WebRTC by themselves, so this runs only in the loopback-only namespace npm test makes.
 */
import { existsSync } from 'node:fs';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createSignalServer, type SignalServer } from '../../signal/server.ts';
import { LAPTOP, launchChromium, PHONE } from '../helpers/browser.ts';
import { DIST, PAGE_TIMEOUT_MS, requireLoopbackOnly, WAIT } from '../helpers/jam.ts';

let browser: Browser;
let server: SignalServer;
let base: string;
const contexts: BrowserContext[] = [];

beforeAll(async () => {
  requireLoopbackOnly();
  if (!existsSync(`${DIST}/index.html`))
    throw new Error('dist/client is not built: run `npm run build` (npm test does)');
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});
afterEach(async () => {
  for (const context of contexts.splice(0)) await context.close();
  await server?.close();
});

async function page(options: typeof PHONE | typeof LAPTOP): Promise<Page> {
  const context = await browser.newContext(options);
  contexts.push(context);
  const created = await context.newPage();
  created.setDefaultTimeout(PAGE_TIMEOUT_MS);
  created.on('pageerror', (error) => {
    throw error;
  });
  return created;
}

/** The names on the phone's 16 pads, in pad order. */
const padNames = (phone: Page): Promise<string[]> =>
  phone.$$eval('[data-testid=pad]', (pads) => pads.map((pad) => pad.textContent ?? ''));

async function waitForPad(phone: Page, pad: number, name: string): Promise<void> {
  await phone.waitForFunction(
    ([index, expected]) => document.querySelector(`[data-testid=pad][data-pad="${index}"]`)?.textContent === expected,
    [pad, name] as const,
    WAIT,
  );
}

describe('a band', () => {
  it('gives a phone notes of the key, renames them with the key, and keeps the part across reloads', async () => {
    server = await createSignalServer({ host: '127.0.0.1', port: 0, staticDir: DIST });
    base = `http://127.0.0.1:${server.port}`;
    const daw = await page(LAPTOP);
    await daw.goto(`${base}/daw`);
    await daw.waitForFunction(() => document.querySelector('[data-testid=join-url]')?.textContent?.startsWith('http'));
    const joinUrl = (await daw.getByTestId('join-url').textContent()) ?? '';
    const phone = await page(PHONE);
    await phone.goto(joinUrl);
    await phone.getByTestId('name-input').fill('Bassist');
    await phone.getByRole('button', { name: 'Join' }).click();
    await phone.locator('[data-testid=status][data-state=connected]').waitFor(WAIT);
    await waitForPad(phone, 0, 'Kick');
    // Each pad button is marked, to see below that a new room state renames it in place: the
    // buttons are not made again (which a welcome and every room state would cost the phone).
    await phone.$$eval('[data-testid=pad]', (pads) => {
      for (const pad of pads) (pad as HTMLElement & { kept?: boolean }).kept = true;
    });

    const row = daw.locator('[data-testid=member][data-role=controller]');
    await row.waitFor(WAIT);
    await row.getByTestId('member-instrument').selectOption('bass');
    // C minor pentatonic from C1: bottom left is C1, the top right two octaves and a step up.
    await waitForPad(phone, 12, 'C1');
    const bass = await padNames(phone);
    expect(bass.slice(12)).toEqual(['C1', 'E♭1', 'F1', 'G1']);
    expect(bass.slice(8, 12)).toEqual(['B♭1', 'C2', 'E♭2', 'F2']);
    expect(bass.slice(4, 8)).toEqual(['G2', 'B♭2', 'C3', 'E♭3']);
    expect(bass.slice(0, 4)).toEqual(['F3', 'G3', 'B♭3', 'C4']);
    const kept = await phone.$$eval('[data-testid=pad]', (pads) =>
      pads.map((pad) => (pad as HTMLElement & { kept?: boolean }).kept === true),
    );
    expect(kept).toEqual(Array(16).fill(true));

    // The octave picker moves the lowest note; the key renames every note.
    await row.getByTestId('member-octave').selectOption('2');
    await waitForPad(phone, 12, 'C2');
    await daw.getByTestId('band-key').selectOption({ label: 'A' });
    await waitForPad(phone, 12, 'A2');
    await daw.getByTestId('band-scale').selectOption('major');
    await waitForPad(phone, 13, 'B2');

    // The phone reloads (resumes as the same player): still the bass.
    await phone.reload();
    await phone.locator('[data-testid=status][data-state=connected]').waitFor(WAIT);
    await waitForPad(phone, 12, 'A2');

    // The DAW reloads: it takes the band back from the room, and its row still says bass.
    await daw.reload();
    await daw
      .locator('[data-testid=member][data-role=controller] [data-testid=member-part][data-instrument=bass]')
      .waitFor(WAIT);
    expect(await daw.getByTestId('band-key').inputValue()).toBe('9');
    await waitForPad(phone, 12, 'A2');

    // Back on drums: the kit's pads return.
    await daw
      .locator('[data-testid=member][data-role=controller]')
      .getByTestId('member-instrument')
      .selectOption('drums');
    await waitForPad(phone, 0, 'Kick');
    await waitForPad(phone, 12, 'Cowbell');
  });
});

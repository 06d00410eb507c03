/**
 * The drum engine alone (client/audio/engine.ts, real Tone.js) in real headless Chromium, its
 * output recorded sample by sample on the AudioContext's clock (tests/helpers/engine-page): a
 * hit starts at its own time whatever other players have booked on its pad (issue 9, item 11),
 * what was booked plays at its time, a choke holds whatever order hits were booked in, and a pad
 * booked full costs the player who filled it.
 *
 * Times here are context seconds relative to a `base` taken in the page; every sound is booked
 * ≥ 50 ms ahead, so a busy machine cannot move it: the audio thread renders what was booked,
 * however late it runs. The page is built with Vite into a temporary folder and served from
 * 127.0.0.1 (a secure context: AudioWorklet).
 */

import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.ts';
import type { EnginePage, Hit, Triggered } from '../helpers/engine-page/engine-page.ts';

const PAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'engine-page');
const OUT_DIR = join(tmpdir(), `padmesh-engine-page-${process.pid}`);
const CLAVE = 13; // 2 voices; a 2.5 kHz click whose oscillator stops 61 ms after each hit
const CLOSED_HAT = 4;
const OPEN_HAT = 5;
const HOSTILE = 1;
const HONEST = 2;
/** Where a sound begins: the first sample this loud (the engine's quietest hit peaks far above). */
const ONSET = 1e-4;
/** A sound begins at its time: its first sample above ONSET comes within this (s) of it (its attack is 1 ms). */
const ATTACK = 0.001;
/** A start may be a sample later than asked for each start at the same instant on its voice: a few, here. */
const NUDGES = 0.001;

let server: Server;
let browser: Browser;
let page: Page;
const errors: Error[] = [];

beforeAll(async () => {
  await build({
    configFile: false,
    root: PAGE_DIR,
    logLevel: 'warn',
    build: { outDir: OUT_DIR, emptyOutDir: true, target: 'es2022' },
  });
  server = createServer(async (req, res) => {
    const name = (req.url ?? '/').split('?')[0] === '/' ? 'index.html' : (req.url ?? '').slice(1);
    if (name.includes('..')) return void res.writeHead(404).end();
    try {
      const body = await readFile(join(OUT_DIR, name));
      res.writeHead(200, { 'Content-Type': name.endsWith('.js') ? 'text/javascript' : 'text/html' }).end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  browser = await launchChromium(['--autoplay-policy=no-user-gesture-required']);
  page = await browser.newPage();
  page.setDefaultTimeout(20_000);
  page.on('pageerror', (error) => errors.push(error));
  await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  await page.waitForFunction(() => (window as unknown as { enginePage?: EnginePage }).enginePage?.ready === true);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

beforeEach(async () => {
  await page.evaluate(() => (window as unknown as { enginePage: EnginePage }).enginePage.fresh());
});

const play = (hits: Hit[], lead = 0.05) =>
  page.evaluate(({ hits, lead }) => (window as unknown as { enginePage: EnginePage }).enginePage.play(hits, lead), {
    hits,
    lead,
  });
const recordedUntil = (time: number) =>
  page.evaluate((time) => (window as unknown as { enginePage: EnginePage }).enginePage.recordedUntil(time), time);
const rms = (from: number, to: number) =>
  page.evaluate(({ from, to }) => (window as unknown as { enginePage: EnginePage }).enginePage.rms(from, to), {
    from,
    to,
  });
const onset = (from: number, to: number) =>
  page.evaluate(
    ({ from, to, threshold }) =>
      (window as unknown as { enginePage: EnginePage }).enginePage.firstAbove(from, to, threshold),
    { from, to, threshold: ONSET },
  );

/** Expects a sound to begin at `time` (s): silence just before, its first sample within ATTACK. */
async function expectOnset(time: number, label: string): Promise<void> {
  const at = await onset(time - 0.01, time + 0.02);
  expect(at, `${label}: first sound from 10 ms before ${time.toFixed(4)} s`).toBeGreaterThanOrEqual(time - 1e-9);
  expect(at - time, label).toBeLessThan(ATTACK);
}

describe('the drum engine, with its output recorded', () => {
  it('starts a hit at its own time on a pad whose every voice another player booked for later', async () => {
    // The hostile books both of the clave's voices (their first bookings ever), then an honest hit comes for earlier.
    const { base, results } = await play([
      [CLAVE, 1, 0.25, HOSTILE],
      [CLAVE, 1, 0.4, HOSTILE],
      [CLAVE, 1, 0.1, HONEST],
    ]);
    expect(results.map((r) => r.played)).toEqual([true, true, true]);
    expect((results[2] as Triggered).start).toBe(base + 0.1); // exactly its time
    expect(results.map((r) => r.overbooked)).toEqual([null, null, null]);
    await recordedUntil(base + 0.55);
    expect(await rms(base - 0.05, base + 0.099)).toBe(0); // nothing before it
    await expectOnset(base + 0.1, 'the honest hit');
    // What the hostile booked still plays, each at its time.
    await expectOnset(base + 0.25, 'the first booking');
    await expectOnset(base + 0.4, 'the second booking');
  });

  it('starts a hit played at once at once, though every voice of its pad is booked ahead', async () => {
    const { base, results } = await play([
      [CLAVE, 1, 0.2, HOSTILE],
      [CLAVE, 1, 0.35, HOSTILE],
      [CLAVE, 1, null, null],
    ]);
    const now = results[2] as Triggered;
    expect(now.played).toBe(true);
    // Its start is the clock at the call (or a render quantum on, had the audio thread moved meanwhile).
    expect(now.start).toBeGreaterThanOrEqual(now.before);
    expect(now.start).toBeLessThan(base + 0.2 - 0.05);
    await recordedUntil(base + 0.45);
    // It is heard before the bookings (the audio thread starts it at its next render quantum).
    const heard = await onset(now.before - 0.01, base + 0.19);
    expect(heard).toBeGreaterThanOrEqual(now.start - 1e-9);
    await expectOnset(base + 0.2, 'the first booking');
    await expectOnset(base + 0.35, 'the second booking');
  });

  it('chokes the open hat with the closed hat whatever order they were booked in', async () => {
    const { base } = await play([
      // A: the closed hat is booked first (for 0.20), then an open hat for before it (0.10).
      [CLOSED_HAT, 1, 0.2, HOSTILE],
      [OPEN_HAT, 1, 0.1, HONEST],
      // B: the usual order: an open hat (0.40), then a closed hat (0.50).
      [OPEN_HAT, 1, 0.4, HONEST],
      [CLOSED_HAT, 1, 0.5, HOSTILE],
      // R: an open hat alone (0.70), to compare with.
      [OPEN_HAT, 1, 0.7, HONEST],
    ]);
    await recordedUntil(base + 0.9);
    // 60–160 ms after each choke, against the open hat alone at the same age.
    const alone = await rms(base + 0.86, base + 0.96);
    const chokedA = await rms(base + 0.26, base + 0.36);
    const chokedB = await rms(base + 0.56, base + 0.66);
    expect(alone).toBeGreaterThan(1e-3);
    expect(chokedA / alone).toBeLessThan(0.1);
    expect(chokedB / alone).toBeLessThan(0.1);
  });

  it('makes the player who books a pad full give way, with its own hits only', async () => {
    // The hostile books the clave every 100 ms, 0.1–0.9 s after `base`: the ninth does not fit.
    const hostile: Hit[] = Array.from({ length: 9 }, (_, i) => [CLAVE, 1, 0.1 * (i + 1), HOSTILE]);
    const { base, results } = await play([...hostile, [CLAVE, 1, 0.02, HONEST]]);
    expect(results.slice(0, 8).every((r) => r.played && r.overbooked === null)).toBe(true);
    expect(results[8]).toMatchObject({ played: false, overbooked: HOSTILE });
    // The honest hit plays, at its time; the hostile's booking furthest ahead (0.8) gives way.
    expect(results[9]).toMatchObject({ played: true, overbooked: HOSTILE, start: base + 0.02 });
    await recordedUntil(base + 1);
    await expectOnset(base + 0.02, 'the honest hit');
    for (let i = 1; i <= 7; i++) await expectOnset(base + 0.1 * i, `the hostile's hit ${i}`);
    expect(await rms(base + 0.77, base + 1)).toBe(0); // neither 0.8 nor 0.9 sounds (0.7's ends at 0.761)
  });

  it('plays a hit whose starts Tone moved to the clock, when the clock moved on during the call', async () => {
    // The clave's two voices booked 5 and 6 ms ahead; a hit played at once goes in before one of
    // them. Tone moves a start in the past to the clock, read afresh at each start: with the
    // clock 20 ms on meanwhile, the hit and the booking it plays again would both land there.
    const result = await page.evaluate(
      (hits) => (window as unknown as { enginePage: EnginePage }).enginePage.triggerWhileClockMoves(hits, 0.02),
      [
        [CLAVE, 1, 0.005, HOSTILE],
        [CLAVE, 1, 0.006, HOSTILE],
        [CLAVE, 1, null, HONEST],
      ] as Hit[],
    );
    expect(result.played).toBe(true);
    expect(errors).toEqual([]);
  });

  it('never fails a hit in a long jam of players booking ahead and playing at once', async () => {
    const failures: string[] = [];
    let played = 0;
    for (let round = 0; round < 60; round++) {
      // Ten hits in a task, as a busy DAW gets them: pads, players, leads 0–150 ms or at once.
      const hits: Hit[] = Array.from({ length: 10 }, (_, i) => {
        const pick = (round * 31 + i * 17) % 97;
        const at = pick % 5 === 0 ? null : ((pick * 7) % 150) / 1000;
        return [pick % 16, 0.3 + (pick % 7) / 10, at, pick % 4 === 0 ? null : pick % 3];
      });
      const { base, results } = await play(hits, 0);
      results.forEach((result, i) => {
        const [pad, , at, owner] = hits[i] as Hit;
        // It asks for its time, or the clock's as the engine read it (between `before` and `after`).
        const earliest = at === null ? result.before : Math.max(base + at, result.before);
        const latest = at === null ? result.after : Math.max(base + at, result.after);
        if (!result.played && !(owner !== null && result.overbooked === owner)) {
          failures.push(`pad ${pad} at ${at} owner ${owner}: not played, overbooked ${result.overbooked}`);
        } else if (result.played && !(result.start >= earliest - 1e-9 && result.start - latest < NUDGES)) {
          failures.push(`pad ${pad} at ${at}: asked ${earliest}–${latest}, started ${result.start}`);
        }
        if (result.played) played++;
      });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(failures).toEqual([]);
    expect(played).toBeGreaterThan(500);
    expect(errors).toEqual([]);
  }, 30_000);
});

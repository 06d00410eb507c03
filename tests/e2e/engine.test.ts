/**
 * The sound engine alone (client/audio/engine.ts: the AudioWorklet sampler) in real headless
 * Chromium, its output recorded sample by sample on the AudioContext's clock
 * (tests/helpers/engine-page), playing test tones whose every sample is known: each hit starts
 * at its own time, exactly (to the sample), whatever other players planned; each hit handed over
 * sounds once; a choke group fades its other voices in 20 ms whatever order hits came in; a full
 * voice pool costs the player sounding the most; a player planning too far ahead loses its own
 * hits; a slot's volume, pitch and decay are heard as set; 1,600 hits a second are all started
 * (the underruns the browser counts are printed: bench/engine-trigger.ts judges them). Both ways hits reach the audio thread: the SharedArrayBuffer ring (the page served
 * cross-origin isolated, as the DAW is) and port messages (the same page served without the
 * isolation headers).
 *
 * Times here are context seconds relative to a `base` taken in the page; every planned sound is
 * ≥ 50 ms ahead, so a busy machine cannot move it: the audio thread renders what was planned,
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
import type { SamplerTransport } from '../../client/audio/engine.ts';
import { MAX_AHEAD_PER_OWNER } from '../../client/audio/sampler/ahead-quota.ts';
import { POLYPHONY, QUANTUM } from '../../client/audio/sampler/sampler-core.ts';
import { DEFAULT_SLOT_SETTINGS, FADE_S, type SlotSettings, velocityGain } from '../../client/audio/sound.ts';
import { launchChromium } from '../helpers/browser.ts';
import type { EnginePage, Hit, Tone } from '../helpers/engine-page/engine-page.ts';

const PAGE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'engine-page');
const OUT_DIR = join(tmpdir(), `padmesh-engine-page-${process.pid}`);
const HOSTILE = 1;
const HONEST = 2;
/** Where a sound begins: the first sample this loud (every test tone is far louder). */
const ONSET = 1e-4;

let server: Server;
let browser: Browser;
const errors: Error[] = [];

beforeAll(async () => {
  await build({
    configFile: false,
    root: PAGE_DIR,
    logLevel: 'warn',
    build: { outDir: OUT_DIR, emptyOutDir: true, target: 'es2022' },
  });
  // `?isolated`: the headers that make the page cross-origin isolated (SharedArrayBuffer), as the DAW's server sends.
  server = createServer(async (req, res) => {
    const [path, query] = (req.url ?? '/').split('?');
    const name = path === '/' ? 'index.html' : (path ?? '').slice(1);
    if (name.includes('..')) return void res.writeHead(404).end();
    try {
      const body = await readFile(join(OUT_DIR, name));
      const isolation =
        query === 'isolated' || req.headers.referer?.endsWith('?isolated')
          ? { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' }
          : {};
      res
        .writeHead(200, { 'Content-Type': name.endsWith('.js') ? 'text/javascript' : 'text/html', ...isolation })
        .end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  browser = await launchChromium(['--autoplay-policy=no-user-gesture-required']);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

/** A page of the engine, cross-origin isolated or not, and helpers that call into it. */
async function openPage(isolated: boolean) {
  const page = await browser.newPage();
  page.setDefaultTimeout(20_000);
  page.on('pageerror', (error) => errors.push(error));
  await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/${isolated ? '?isolated' : ''}`);
  await page.waitForFunction(() => (window as unknown as { enginePage?: EnginePage }).enginePage?.ready === true);
  return rig(page);
}

type Call = { [K in keyof EnginePage]: EnginePage[K] extends (...args: infer A) => infer R ? [A, R] : never };
function rig(page: Page) {
  const call = <K extends keyof Call>(name: K, ...args: Call[K][0]): Promise<Awaited<Call[K][1]>> =>
    page.evaluate(
      ({ name, args }) =>
        (
          (window as unknown as { enginePage: Record<string, (...a: unknown[]) => unknown> }).enginePage[name] as (
            ...a: unknown[]
          ) => unknown
        )(...args),
      { name, args: args as unknown[] },
    ) as Promise<Awaited<Call[K][1]>>;
  return {
    page,
    call,
    isolated: () => page.evaluate(() => (window as unknown as { enginePage: EnginePage }).enginePage.isolated),
    fresh: (transport?: SamplerTransport) => call('fresh', transport),
    tone: (slot: number, tone: Tone) => call('setSound', slot, tone),
    settings: (slot: number, settings: Partial<SlotSettings>) =>
      call('setSettings', slot, { ...DEFAULT_SLOT_SETTINGS, ...settings }),
    play: (hits: Hit[], lead = 0.05) => call('play', hits, lead),
    recordedUntil: (time: number) => call('recordedUntil', time),
    rms: (from: number, to: number) => call('rms', from, to),
    onset: (from: number, to: number) => call('firstAbove', from, to, ONSET),
    end: (from: number, to: number) => call('lastAbove', from, to, ONSET),
    onsets: (from: number, to: number) => call('onsets', from, to, ONSET),
  };
}
type Rig = ReturnType<typeof rig>;

/** The exact frame a time falls on, as the sampler rounds it. */
const onFrame = (time: number, rate: number) => Math.round(time * rate) / rate;

/** Every behaviour, on whichever way hits reach the audio thread. */
function behaviours(get: () => { rig: Rig; rate: number; transport: SamplerTransport }) {
  it('starts every hit exactly at its own time, once, however many hits another player planned ahead', async () => {
    const { rig, rate } = get();
    await rig.tone(0, { level: 0.1, seconds: 0.01 });
    // The hostile plans 25 hits 200–680 ms ahead; the honest player's come after, for 100 ms and 710 ms.
    const hostile: Hit[] = Array.from({ length: 25 }, (_, i) => [0, 1, 0.2 + 0.02 * i, HOSTILE]);
    const { base, results } = await rig.play([...hostile, [0, 1, 0.1, HONEST], [0, 1, 0.71, HONEST]]);
    expect(results.every((r) => r.played && r.overbooked === null)).toBe(true);
    expect(results.at(-2)?.start).toBe(base + 0.1);
    await rig.recordedUntil(base + 0.8);
    const heard = await rig.onsets(base - 0.04, base + 0.8);
    const due = [0.1, ...hostile.map((hit) => hit[2] as number), 0.71].map((at) => onFrame(base + at, rate));
    expect(heard.length).toBe(due.length); // each hit once
    heard.forEach((at, i) => {
      expect(Math.abs(at - (due[i] as number)), `hit ${i}`).toBeLessThanOrEqual(0.5 / rate + 1e-9);
    });
    expect(await rig.rms(base - 0.04, base + 0.099)).toBe(0); // nothing before the first
  });

  it('starts a hit played at once at the next render quantum it reaches, whatever is planned for later', async () => {
    const { rig, rate, transport } = get();
    await rig.tone(0, { level: 0.1, seconds: 0.01 });
    await rig.tone(1, { level: 0.3, seconds: 0.002 }); // the only sound above 0.2, even on top of another
    const { base, results } = await rig.play([
      [0, 1, 0.2, HOSTILE],
      [0, 1, 0.35, HOSTILE],
      [1, 1, null, null],
    ]);
    const now = results[2];
    expect(now?.played).toBe(true);
    // The clock as read just after the call (the sampler starts it at its next quantum, not before).
    expect(now?.start).toBeGreaterThanOrEqual(now?.before ?? Number.NaN);
    expect(now?.start).toBeLessThanOrEqual(now?.after ?? Number.NaN);
    // A port message waits for the audio thread's event loop, which a busy machine (CI) held up for
    // over 1.4 s once: wait until the sampler has taken all three hits, then look up to the quantum
    // after the one it reported with (the hit started in it or before). The planned hits are
    // quieter than 0.2 and do not count.
    await rig.call('statsReach', 3, 'hits');
    const sampler = await rig.call('stats');
    const end = Math.max(base + 0.45, (sampler.frame + 2 * QUANTUM) / rate);
    await rig.recordedUntil(end);
    // Looked for since the context began: the audio thread may be rendering frames the main thread's
    // clock (`before`) has already passed, and "at once" is its next quantum, wherever that lies.
    const loud = await rig.call('onsets', 0, end, 0.2);
    expect(loud.length, `heard once, up to ${end - base} s after base (sampler: ${JSON.stringify(sampler)})`).toBe(1);
    expect(loud[0]).toBeLessThanOrEqual((sampler.frame + QUANTUM) / rate); // by the quantum after it reported
    // Through the ring it is in the sampler's next quantum, so before the planned ones; a port
    // message waits for the audio thread's event loop, which a busy machine can hold up.
    if (transport === 'ring') expect(loud[0]).toBeLessThan(base + 0.2);
    expect(await rig.onset(base + 0.2 - 0.005, base + 0.21)).toBeCloseTo(onFrame(base + 0.2, rate), 6);
    expect(await rig.onset(base + 0.35 - 0.005, base + 0.36)).toBeCloseTo(onFrame(base + 0.35, rate), 6);
  });

  it('fades every other voice of a choke group in 20 ms when a hit in it starts, whatever order they came in', async () => {
    const { rig, rate } = get();
    const [closed, open] = [4, 5];
    await rig.tone(open, { level: 0.2, seconds: 0.15 });
    await rig.tone(closed, { level: 0.05, seconds: 0.05 });
    await rig.settings(open, { chokeGroup: 1 });
    await rig.settings(closed, { chokeGroup: 1 });
    const { base } = await rig.play([
      // A: the closed hat is planned first (for 0.20), then an open hat for before it (0.10).
      [closed, 1, 0.2, HOSTILE],
      [open, 1, 0.1, HONEST],
      // B: the usual order: an open hat (0.40), then a closed hat (0.50).
      [open, 1, 0.4, HONEST],
      [closed, 1, 0.5, HOSTILE],
      // R: an open hat alone (0.70), to compare with.
      [open, 1, 0.7, HONEST],
    ]);
    await rig.recordedUntil(base + 0.9);
    for (const choke of [0.2, 0.5]) {
      const at = onFrame(base + choke, rate);
      // Both until the choke; half the open hat 10 ms in; only the closed hat from 20 ms on.
      expect(await rig.rms(at - 0.01, at), `before ${choke}`).toBeCloseTo(0.2, 4);
      expect(await rig.rms(at + FADE_S / 2, at + FADE_S / 2 + 1 / rate), `fading ${choke}`).toBeCloseTo(0.05 + 0.1, 2);
      expect(await rig.rms(at + FADE_S + 1 / rate, at + 0.045), `after ${choke}`).toBeCloseTo(0.05, 4);
    }
    expect(await rig.rms(base + 0.8, base + 0.845)).toBeCloseTo(0.2, 4); // the open hat alone rings on
  });

  it('takes a voice from the player sounding the most when the pool is full, and says whose', async () => {
    const { rig } = get();
    await rig.tone(1, { level: 0.005, seconds: 3 });
    await rig.tone(2, { level: 0.1, seconds: 3 });
    // The honest player's long note first, then the hostile's 64: one more than the pool has room for.
    const hostile: Hit[] = Array.from({ length: POLYPHONY }, (_, i) => [1, 1, 0.12 + 0.001 * i, HOSTILE]);
    const { base, results } = await rig.play([[2, 1, 0.1, HONEST], ...hostile, [2, 1, 0.3, HONEST]]);
    expect(results.every((r) => r.played)).toBe(true); // nobody's hit was refused: only voices were taken
    await rig.recordedUntil(base + 0.5);
    // Both honest notes ring, and the hostile's 62 left: its two oldest were taken, faded in 20 ms.
    expect(await rig.rms(base + 0.4, base + 0.45)).toBeCloseTo(0.2 + 0.005 * (POLYPHONY - 2), 4);
    await expect.poll(() => rig.call('gaveWay'), { timeout: 15_000 }).toEqual({ [HOSTILE]: 2 });
    expect((await rig.call('stats')).stolen).toBe(2);
  });

  it('makes a player planning too many hits ahead give way with its own new ones only', async () => {
    const { rig, rate } = get();
    await rig.tone(0, { level: 0.1, seconds: 0.002 });
    const hostile: Hit[] = Array.from({ length: MAX_AHEAD_PER_OWNER + 1 }, (_, i) => [0, 1, 0.1 + 0.005 * i, HOSTILE]);
    const { base, results } = await rig.play([...hostile, [0, 1, 0.44, HONEST]]);
    expect(results.slice(0, MAX_AHEAD_PER_OWNER).every((r) => r.played)).toBe(true);
    expect(results[MAX_AHEAD_PER_OWNER]).toMatchObject({ played: false, overbooked: HOSTILE });
    expect(results.at(-1)).toMatchObject({ played: true, overbooked: null });
    await rig.recordedUntil(base + 0.5);
    const heard = await rig.onsets(base, base + 0.5);
    expect(heard.length).toBe(MAX_AHEAD_PER_OWNER + 1); // the hostile's 64 and the honest one, not the refused
    expect(heard.at(-1)).toBeCloseTo(onFrame(base + 0.44, rate), 6);
    expect(heard).not.toContainEqual(onFrame(base + 0.1 + 0.005 * MAX_AHEAD_PER_OWNER, rate));
  });

  it('plays a slot at its volume, pitch and decay, and a hit at its velocity', async () => {
    const { rig, rate } = get();
    await rig.tone(7, { level: 0.2, seconds: 0.1 });
    await rig.settings(7, { volumeDb: -6 });
    await rig.tone(8, { level: 0.2, seconds: 0.2, frequency: 500 });
    await rig.settings(8, { pitch: 12 });
    await rig.tone(9, { level: 0.2, seconds: 0.1, frequency: 500, sampleRate: 24_000 }); // at its own rate
    await rig.settings(9, { pitch: -12 });
    await rig.tone(10, { level: 0.2, seconds: 1 });
    await rig.settings(10, { decay: 0.05 });
    await rig.tone(11, { level: 0.2, seconds: 0.1 });
    const { base } = await rig.play([
      [7, 1, 0.1, null],
      [8, 1, 0.3, null],
      [9, 1, 0.5, null],
      [11, 0.5, 0.75, null],
      [10, 1, 0.88, null],
    ]);
    await rig.recordedUntil(base + 1.05);
    expect((await rig.rms(base + 0.12, base + 0.18)) / 0.2).toBeCloseTo(10 ** (-6 / 20), 3);
    // An octave up: twice the frequency, half as long.
    expect(await rig.call('frequency', base + 0.31, base + 0.39)).toBeGreaterThan(1000 * 0.97);
    expect(await rig.call('frequency', base + 0.31, base + 0.39)).toBeLessThan(1000 * 1.03);
    expect((await rig.end(base + 0.3, base + 0.45)) - onFrame(base + 0.3, rate)).toBeCloseTo(0.1, 2);
    // A 24 kHz sound an octave down: 250 Hz here, twice as long as it is.
    expect(await rig.call('frequency', base + 0.51, base + 0.69)).toBeGreaterThan(250 * 0.97);
    expect(await rig.call('frequency', base + 0.51, base + 0.69)).toBeLessThan(250 * 1.03);
    expect((await rig.end(base + 0.5, base + 0.74)) - onFrame(base + 0.5, rate)).toBeCloseTo(0.2, 2);
    // Velocity 0.5: 30 dB over the whole range, so −15 dB.
    expect((await rig.rms(base + 0.76, base + 0.84)) / 0.2).toBeCloseTo(velocityGain(0.5), 3);
    // Decay 50 ms: full until then, half way through its 20 ms fade 10 ms on, silent after it.
    const d = onFrame(base + 0.88, rate);
    expect(await rig.rms(d + 0.001, d + 0.049)).toBeCloseTo(0.2, 4);
    expect(await rig.rms(d + 0.05 + FADE_S / 2, d + 0.05 + FADE_S / 2 + 1 / rate)).toBeCloseTo(0.1, 2);
    expect((await rig.end(d, d + 0.15)) - (d + 0.05 + FADE_S)).toBeLessThanOrEqual(0);
    expect((await rig.end(d, d + 0.15)) - (d + 0.05 + FADE_S)).toBeGreaterThan(-2 / rate);
  });

  it('plays 1,600 hits a second for 3 s: every one started, none refused or lost, underruns counted', async () => {
    const { rig } = get();
    for (let slot = 0; slot < 4; slot++) await rig.tone(slot, { level: 0.02, seconds: 0.05 });
    await rig.call('playbackCaughtUp'); // a new context may glitch as it starts: not the flood's
    const before = (await rig.call('stats')).underruns;
    const flood = await rig.call('flood', 1600, 3, [0, 1, 2, 3]);
    expect(flood).toMatchObject({ played: 4800, refused: 0 });
    await rig.call('statsReach', 4800, 'started');
    await rig.call('playbackCaughtUp');
    const stats = await rig.call('stats');
    expect(stats).toMatchObject({ hits: 4800, started: 4800, refused: 0, overflows: 0, silent: 0, errors: 0 });
    // The browser counts underruns for the engine's context (NaN: it does not, and this fails). Whether
    // the audio thread kept up is this machine's load as much as the engine's: bench/engine-trigger.ts
    // judges it (target 0), beside today's Tone voices; here it is printed.
    expect(stats.underruns - before).toBeGreaterThanOrEqual(0);
    console.log(`1,600 hits/s for ${flood.seconds.toFixed(1)} s: ${stats.underruns - before} underruns`);
  }, 60_000);

  it('never fails a hit in a long jam of players planning ahead and playing at once', async () => {
    const { rig } = get();
    for (let slot = 0; slot < 16; slot++) await rig.tone(slot, { level: 0.01, seconds: 0.2 });
    const failures: string[] = [];
    let played = 0;
    for (let round = 0; round < 60; round++) {
      // Ten hits in a task, as a busy DAW gets them: slots, players, leads 0–150 ms or at once.
      const hits: Hit[] = Array.from({ length: 10 }, (_, i) => {
        const pick = (round * 31 + i * 17) % 97;
        const at = pick % 5 === 0 ? null : ((pick * 7) % 150) / 1000;
        return [pick % 16, 0.3 + (pick % 7) / 10, at, pick % 4 === 0 ? null : pick % 3];
      });
      const { base, results } = await rig.play(hits, 0);
      results.forEach((result, i) => {
        const [slot, , at] = hits[i] as Hit;
        const planned = at !== null && base + at > result.before;
        const asked = planned ? base + (at as number) : result.before;
        if (!result.played) failures.push(`slot ${slot} at ${at}: not played, overbooked ${result.overbooked}`);
        else if (!(result.start >= asked - 1e-9 && result.start <= (planned ? asked : result.after)))
          failures.push(`slot ${slot} at ${at}: asked ${asked}, starts ${result.start}`);
        else played++;
      });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(failures).toEqual([]);
    expect(played).toBe(600);
    await rig.call('statsReach', 600, 'started'); // the last planned ones start up to 150 ms later
    expect(await rig.call('stats')).toMatchObject({ hits: 600, started: 600 });
  }, 60_000);
}

describe('the sampler, hits through the shared ring (cross-origin isolated)', () => {
  let state: { rig: Rig; rate: number; transport: SamplerTransport };
  beforeAll(async () => {
    const r = await openPage(true);
    expect(await r.isolated()).toBe(true);
    state = { rig: r, rate: 48_000, transport: 'ring' };
  });
  beforeEachFresh(() => state, 'ring');
  behaviours(() => state);
});

describe('the sampler, hits as port messages (the page not cross-origin isolated)', () => {
  let state: { rig: Rig; rate: number; transport: SamplerTransport };
  beforeAll(async () => {
    const r = await openPage(false);
    expect(await r.isolated()).toBe(false);
    state = { rig: r, rate: 48_000, transport: 'port' };
  });
  beforeEachFresh(() => state, 'port');
  behaviours(() => state);

  it('chooses port messages by itself there', async () => {
    expect((await state.rig.fresh()).transport).toBe('port');
    expect(errors).toEqual([]);
  });
});

function beforeEachFresh(get: () => { rig: Rig; rate: number }, transport: SamplerTransport) {
  beforeEach(async () => {
    const state = get();
    const { sampleRate, transport: got } = await state.rig.fresh(transport);
    expect(got).toBe(transport);
    state.rate = sampleRate;
    expect(errors).toEqual([]);
  });
}

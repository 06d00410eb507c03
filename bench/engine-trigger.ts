/**
 * Issue 10's engine target: the main-thread time of one trigger call (p99 ≤ 0.02 ms), for the
 * sampler (client/audio/engine.ts) fed through its SharedArrayBuffer ring and through port
 * messages (its fallback where a page is not cross-origin isolated), beside today's Tone voices
 * (client/audio/tone-voices.ts, the engine before issue 10), alternating (one alive at a time) in one page of one
 * headless Chromium; then 1,600 hits a second at each, with the output underruns the browser
 * reports (AudioContext.playbackStats) and the sampler's own counters.
 *
 * The page (bench/pages/engine-trigger.ts) is built with Vite into a temporary folder and served
 * from 127.0.0.1 with COOP/COEP headers (cross-origin isolated: SharedArrayBuffer, and
 * `performance.now()` to 5 µs). Alone: `npx tsx bench/engine-trigger.ts [--quick]`; from
 * bench/run.ts: `--only engine-trigger`.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withBenchPage } from './bench-page.ts';
import {
  type BenchSection,
  type BrowserBenchOptions,
  isMain,
  medianOfRounds,
  ms,
  runAlone,
  type Summary,
  summarize,
  verdict,
  withTimeout,
  writeResults,
} from './browser-common.ts';
import type { Calls, Contender, Flooded } from './pages/engine-trigger.ts';

const TARGET_P99_MS = 0.02;
const MEAN_INTERVAL_MS = 5; // 200 hits/s on average, at random intervals
const FLOOD_RATE = 1600;
const OUT_DIR = join(tmpdir(), 'padmesh-bench-engine-trigger');
const CONTENDERS: Contender[] = ['ring', 'port', 'tone'];
const NAMES: Record<Contender, string> = {
  ring: 'sampler, SharedArrayBuffer ring',
  port: 'sampler, port messages (fallback)',
  tone: 'today’s Tone voices (before issue 10)',
};

interface Plan {
  rounds: number;
  hits: number;
  floodSeconds: number;
}
const FULL: Plan = { rounds: 4, hits: 400, floodSeconds: 5 };
const QUICK: Plan = { rounds: 3, hits: 150, floodSeconds: 3 };

interface FloodResult extends Omit<Flooded, 'callMs'> {
  call: Summary;
}

export async function engineTriggerBenchmark(options: BrowserBenchOptions): Promise<BenchSection> {
  const plan = options.quick ? QUICK : FULL;
  return withBenchPage(OUT_DIR, 'engine-trigger.html', async (page, errors) => {
    const info = await page.evaluate(() => {
      const { sampleRate, isolated } = (window as unknown as { harness: { sampleRate: number; isolated: boolean } })
        .harness;
      return { sampleRate, isolated };
    });
    type Page = { harness: { run(c: Contender, n: number, i: number): Promise<Calls> } };
    const run = (contender: Contender, count: number) =>
      withTimeout(
        page.evaluate(
          ({ contender, count, interval }) => (window as unknown as Page).harness.run(contender, count, interval),
          { contender, count, interval: MEAN_INTERVAL_MS },
        ),
        count * 2 * MEAN_INTERVAL_MS + 30_000,
        `${contender} calls`,
      );
    type FloodPage = { harness: { flood(c: Contender, rate: number, s: number): Promise<Flooded> } };
    const flood = (contender: Contender) =>
      withTimeout(
        page.evaluate(
          ({ contender, rate, seconds }) => (window as unknown as FloodPage).harness.flood(contender, rate, seconds),
          { contender, rate: FLOOD_RATE, seconds: plan.floodSeconds },
        ),
        plan.floodSeconds * 20_000 + 30_000,
        `${contender} flood`,
      );
    for (const contender of CONTENDERS) await run(contender, 50); // warm-up, discarded
    const rounds: Record<Contender, Summary[]> = { ring: [], port: [], tone: [] };
    const refused: Record<Contender, number> = { ring: 0, port: 0, tone: 0 };
    for (let round = 0; round < plan.rounds; round++) {
      // Rotated each round, so no contender always follows the same one.
      const order = CONTENDERS.map((_, i) => CONTENDERS[(i + round) % CONTENDERS.length] as Contender);
      for (const contender of order) {
        const got = await run(contender, plan.hits);
        rounds[contender].push(summarize(got.callMs));
        refused[contender] += got.refused;
      }
    }
    const floods = {} as Record<Contender, FloodResult>;
    for (const contender of CONTENDERS) {
      const { callMs, ...rest } = await flood(contender);
      floods[contender] = { ...rest, call: summarize(callMs) };
    }
    const results = { plan, info, rounds, refused, floods, errors };
    writeResults('engine-trigger', results);
    return { markdown: render(plan, info, rounds, refused, floods), results };
  });
}

const count = (value: number) => (Number.isNaN(value) ? 'not reported' : String(value));

function render(
  plan: Plan,
  info: { sampleRate: number; isolated: boolean },
  rounds: Record<Contender, Summary[]>,
  refused: Record<Contender, number>,
  floods: Record<Contender, FloodResult>,
): string {
  const m = (contender: Contender) => medianOfRounds(rounds[contender]);
  const rows = CONTENDERS.map((c) => {
    const s = m(c);
    return `| ${NAMES[c]} | ${s.n} | ${ms(s.p50, 4)} / ${ms(s.p99, 4)} / ${ms(s.max, 3)} | ${refused[c]} |`;
  }).join('\n');
  const floodRows = CONTENDERS.map((c) => {
    const f = floods[c];
    const underruns = Number.isNaN(f.underrunsAfter) ? Number.NaN : f.underrunsAfter - f.underrunsBefore;
    const stats = f.stats
      ? `${f.stats.started} started, ${f.stats.late} late, ${f.stats.stolen} voices taken, ${f.stats.overflows} ring overflows`
      : '–';
    return `| ${NAMES[c]} | ${f.sent} in ${f.seconds.toFixed(2)} s | ${count(underruns)} | ${ms(f.call.p50, 4)} / ${ms(f.call.p99, 4)} / ${ms(f.call.max, 2)} | ${ms(f.longestGapMs, 1)} | ${stats} |`;
  }).join('\n');
  const ring = m('ring');
  const ringFlood = floods.ring;
  const ringUnderruns = ringFlood.underrunsAfter - ringFlood.underrunsBefore;
  return `## Engine trigger: main-thread time per hit (bench/engine-trigger.ts)

One page of headless Chromium (${info.isolated ? 'cross-origin isolated: 5 µs timer resolution' : 'not cross-origin isolated: 0.1 ms timer resolution'}, ${info.sampleRate} Hz),
built with Vite from bench/pages/engine-trigger.ts, with three engines, one alive at a time (made
afresh when its turn comes: each AudioContext has a real-time render thread of its own): the sampler
(client/audio/engine.ts, an AudioWorklet) fed through its SharedArrayBuffer ring, the same fed
through port messages, and today's Tone voices (client/audio/tone-voices.ts: the live Tone.js
engine before issue 10). The samplers play today's 16 voices rendered offline. Each contender is
called ${plan.hits} times per round at random intervals (${MEAN_INTERVAL_MS} ms on average, 200/s),
cycling through the 16 pads, over ${plan.rounds} rounds in rotating order after a warm-up; the figure
is \`performance.now()\` around the one \`trigger\` call (5 µs steps), the median of round figures.

| engine | calls | trigger call, main thread: p50 / p99 / max (ms) | refused |
|---|---|---|---|
${rows}

Target p99 ≤ ${TARGET_P99_MS} ms (ring): ${verdict(ring.p99, TARGET_P99_MS, 'ms', 4)}.

Then ${FLOOD_RATE} hits a second for ${plan.floodSeconds} s to each in turn (handed over in bursts each timer
tick, about every 1–4 ms), at once, cycling through the pads: output underruns as the browser counts
them for that engine's context (\`AudioContext.playbackStats.underrunEvents\`, before and after), the
call's cost, the longest gap between the page's timer ticks (a main thread kept busy), and the sampler's
own counters.

| engine | hits | underruns | trigger call: p50 / p99 / max (ms) | longest tick gap (ms) | sampler |
|---|---|---|---|---|---|
${floodRows}

Target 0 underruns at ${FLOOD_RATE} hits/s (ring): ${Number.isNaN(ringUnderruns) ? '**not measured** (the browser reports none)' : ringUnderruns === 0 ? 'met' : `**missed** (${ringUnderruns})`}.
`;
}

if (isMain(import.meta.url)) await runAlone('engine-trigger', engineTriggerBenchmark);

/**
 * Issue 4 (b): from a hit's arrival in the DAW page to the time its sound is scheduled to start,
 * for padmesh's sound engine (client/audio/engine.ts: the AudioWorklet sampler, every hit not
 * planned ahead started at the next render quantum) beside Tone.js's default scheduling (a `new Context()`, lookAhead
 * 0.1 s, `triggerAttack` at `now()`), in the same page of one headless Chromium, alternating.
 *
 * The page (bench/pages/engine-harness.ts) is built with Vite into a temporary folder and served
 * from 127.0.0.1 with COOP/COEP headers (cross-origin isolated, so `performance.now()` has 5 µs
 * resolution). Needs a loopback-only network namespace (its data channel is a loopback pair).
 * Alone: `npx tsx bench/engine-schedule.ts [--quick]`; from bench/run.ts: `engineBenchmark({ quick })`.
 */
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KIT } from '../client/audio/kit.ts';
import { requireLoopbackOnly } from '../tests/helpers/jam.ts';
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
import type { Arrivals, Contender } from './pages/engine-harness.ts';
import { median } from './stats.ts';

const TARGET_MS = 3;
const MEAN_INTERVAL_MS = 5; // 200 hits/s on average, at random intervals
const OUT_DIR = join(tmpdir(), 'padmesh-bench-engine');

interface Plan {
  rounds: number;
  hits: number;
}
const FULL: Plan = { rounds: 4, hits: 400 };
const QUICK: Plan = { rounds: 3, hits: 100 };

interface RoundResult {
  lead: Summary;
  leadEdge: Summary;
  call: Summary;
  /** Median trigger call per pad, ms (padmesh: all 16 pads; Tone: its one synth as pad 0). */
  padCallMs: number[];
  /** Hits whose scheduled start was not exactly currentTime at arrival (padmesh: a voice's start nudged). */
  notAtOnce: number;
}

export async function engineBenchmark(options: BrowserBenchOptions): Promise<BenchSection> {
  const plan = options.quick ? QUICK : FULL;
  requireLoopbackOnly();
  return withBenchPage(
    OUT_DIR,
    'engine-harness.html',
    async (page, errors) => {
      const info = await page.evaluate(() => {
        const { sampleRate, outputLatencyMs, isolated } = (
          window as unknown as {
            harness: { sampleRate: number; outputLatencyMs: number; isolated: boolean };
          }
        ).harness;
        return { sampleRate, outputLatencyMs, isolated };
      });
      const run = (contender: Contender, count: number) =>
        withTimeout(
          page.evaluate(
            ({ contender, count, interval }) =>
              (
                window as unknown as {
                  harness: { run(c: string, n: number, i: number): Promise<Arrivals> };
                }
              ).harness.run(contender, count, interval),
            { contender, count, interval: MEAN_INTERVAL_MS },
          ),
          count * 2 * MEAN_INTERVAL_MS + 15_000,
          `${contender} arrivals`,
        );
      // Warm-up, discarded.
      await run('padmesh', 50);
      await run('tone', 50);
      const rounds: Record<Contender, RoundResult[]> = { padmesh: [], tone: [] };
      for (let round = 0; round < plan.rounds; round++) {
        const order: Contender[] = round % 2 === 0 ? ['padmesh', 'tone'] : ['tone', 'padmesh'];
        for (const contender of order) {
          const got = await run(contender, plan.hits);
          rounds[contender].push({
            lead: summarize(got.leadMs),
            leadEdge: summarize(got.leadEdgeMs),
            call: summarize(got.callMs),
            padCallMs: KIT.map((_, pad) => median(got.callMs.filter((_, i) => got.pad[i] === pad))),
            notAtOnce: got.leadMs.filter((lead) => Math.abs(lead) > 1e-6).length,
          });
        }
      }
      const results = { plan, info, rounds, errors };
      writeResults('engine-schedule', results);
      return { markdown: render(plan, info, rounds), results };
    },
    // The microphone permission lets Chromium gather loopback ICE candidates (machine-facts.md).
    { permissions: ['microphone'] },
  );
}

function render(
  plan: Plan,
  info: { sampleRate: number; outputLatencyMs: number; isolated: boolean },
  rounds: Record<Contender, RoundResult[]>,
): string {
  const m = (contender: Contender, key: 'lead' | 'leadEdge' | 'call') =>
    medianOfRounds(rounds[contender].map((round) => round[key]));
  const p = { lead: m('padmesh', 'lead'), edge: m('padmesh', 'leadEdge'), call: m('padmesh', 'call') };
  const t = { lead: m('tone', 'lead'), call: m('tone', 'call') };
  const nudged = rounds.padmesh.reduce((sum, round) => sum + round.notAtOnce, 0);
  const quantumMs = (128 / info.sampleRate) * 1000;
  const perPad = KIT.map((pad, i) => ({
    name: pad.name,
    ms: median(rounds.padmesh.map((round) => round.padCallMs[i] ?? Number.NaN)),
  })).sort((a, b) => b.ms - a.ms);
  return `## Arrival → scheduled sound start (bench/engine-schedule.ts)

One page of headless Chromium (${info.isolated ? 'cross-origin isolated: 5 µs timer resolution' : 'not cross-origin isolated: 0.1 ms timer resolution'}),
built with Vite from bench/pages/engine-harness.ts: padmesh's sound engine (client/audio/engine.ts, the
DAW page's own sampler, playing today's 16 voices rendered, cycling through the pads) and, in the same page, Tone.js's default: a \`new Context()\`
(lookAhead 0.1 s) and a MembraneSynth \`triggerAttack\` at \`now()\` (what it does when given no time).
Hits arrive as real RTCDataChannel messages (a loopback pair in the page) at random intervals,
${MEAN_INTERVAL_MS} ms apart on average (200/s); first thing in \`onmessage\` the page reads the
AudioContext's \`currentTime\`, then calls the engine. Contenders alternate over ${plan.rounds} rounds
of ${plan.hits} hits after a warm-up; figures are medians over rounds, n the total.

| engine | hits | scheduled start − currentTime at arrival: p50 / p99 / max (ms) | trigger call on the main thread: p50 / p99 / max (ms) |
|---|---|---|---|
| padmesh engine | ${p.lead.n} | ${ms(p.lead.p50, 3)} / ${ms(p.lead.p99, 3)} / ${ms(p.lead.max, 3)} | ${ms(p.call.p50, 3)} / ${ms(p.call.p99, 3)} / ${ms(p.call.max, 3)} |
| Tone.js default | ${t.lead.n} | ${ms(t.lead.p50, 3)} / ${ms(t.lead.p99, 3)} / ${ms(t.lead.max, 3)} | ${ms(t.call.p50, 3)} / ${ms(t.call.p99, 3)} / ${ms(t.call.max, 3)} |

Target ≤ ${TARGET_MS} ms (p99): ${verdict(p.lead.p99, TARGET_MS, 'ms', 3)}; Tone's default is ${ms(t.lead.p50, 1)} ms.
${nudged} of ${p.lead.n} padmesh hits were scheduled after \`currentTime\` rather than at it.

What "scheduled at currentTime" means in time: Web Audio starts it at the next render quantum
(${ms(quantumMs, 2)} ms at ${info.sampleRate} Hz), but \`currentTime\` only moves when the audio thread
renders, in bursts, so it trails the real audio clock. Against the engine's own estimate of the audio
clock at the arrival (the top edge of currentTime − wall-clock readings, client/audio/audio-clock.ts),
padmesh's scheduled start is ${ms(p.edge.p50, 2)} ms (p50), ${ms(p.edge.p99, 2)} ms (p99) from the arrival:
negative means already due, so the sound starts with the next quantum rendered. Then comes the output
latency the browser reports (here ${ms(info.outputLatencyMs, 1)} ms, base + output), which no
scheduling removes. The trigger call's main-thread time (median ${ms(p.call.p50, 3)} ms) is not in the
lead but delays whatever the DAW page does next, including the next hit. Per pad (median of round medians,
ms): ${perPad.map((pad) => `${pad.name} ${ms(pad.ms, 3)}`).join(', ')}.
`;
}

if (isMain(import.meta.url)) await runAlone('engine-schedule', engineBenchmark);

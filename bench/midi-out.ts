/**
 * Issue 11's MIDI target: MIDI out adds ≤ 0.02 ms of main-thread time per hit. One page of
 * headless Chromium (bench/pages/midi-out.ts, built with Vite, served cross-origin isolated for
 * 5 µs timers) plays hits at random intervals, each either through the engine alone
 * (engine.trigger, the baseline) or through the engine and then MIDI out, as the DAW's jam does,
 * interleaved call by call in the same run; then MIDI out's hit() alone, in batches.
 * The MIDI output is a stand-in that copies the bytes: there is no MIDI system on these
 * machines, so Chromium's own `MIDIOutput.send()` is not in the figure.
 * Alone: `npx tsx bench/midi-out.ts [--quick]`; from bench/run.ts: `--only midi-out`.
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
import type { MidiCalls } from './pages/midi-out.ts';

const TARGET_ADDED_MS = 0.02;
const MEAN_INTERVAL_MS = 5;
const OUT_DIR = join(tmpdir(), 'padmesh-bench-midi-out');

interface Plan {
  rounds: number;
  hits: number;
  batches: number;
  batchSize: number;
}
const FULL: Plan = { rounds: 4, hits: 800, batches: 50, batchSize: 1000 };
const QUICK: Plan = { rounds: 2, hits: 300, batches: 20, batchSize: 1000 };

interface Round {
  engine: Summary;
  withMidi: Summary;
  batchMean: Summary;
}

export async function midiOutBenchmark(options: BrowserBenchOptions): Promise<BenchSection> {
  const plan = options.quick ? QUICK : FULL;
  return withBenchPage(OUT_DIR, 'midi-out.html', async (page, errors) => {
    const isolated = await page.evaluate(
      () => (window as unknown as { harness: { isolated: boolean } }).harness.isolated,
    );
    type Page = { harness: { run(n: number, i: number, b: number, s: number): Promise<MidiCalls> } };
    const run = (hits: number, batches: number) =>
      withTimeout(
        page.evaluate(
          ({ hits, interval, batches, size }) => (window as unknown as Page).harness.run(hits, interval, batches, size),
          { hits, interval: MEAN_INTERVAL_MS, batches, size: plan.batchSize },
        ),
        hits * 2 * MEAN_INTERVAL_MS + 60_000,
        'midi calls',
      );
    await run(100, 5); // warm-up, discarded
    const rounds: Round[] = [];
    let messages = 0;
    for (let round = 0; round < plan.rounds; round++) {
      const got = await run(plan.hits, plan.batches);
      messages += got.messages;
      rounds.push({
        engine: summarize(got.engineMs),
        withMidi: summarize(got.withMidiMs),
        batchMean: summarize(got.batchMeanMs),
      });
    }
    const results = { plan, isolated, rounds, messages, errors };
    writeResults('midi-out', results);
    return { markdown: render(plan, isolated, rounds), results };
  });
}

function render(plan: Plan, isolated: boolean, rounds: Round[]): string {
  const engine = medianOfRounds(rounds.map((r) => r.engine));
  const withMidi = medianOfRounds(rounds.map((r) => r.withMidi));
  const batch = medianOfRounds(rounds.map((r) => r.batchMean));
  const addedP50 = withMidi.p50 - engine.p50;
  const addedP99 = withMidi.p99 - engine.p99;
  const row = (name: string, s: Summary) =>
    `| ${name} | ${s.n} | ${ms(s.p50, 4)} / ${ms(s.p99, 4)} / ${ms(s.max, 3)} |`;
  return `## MIDI out: main-thread time per hit (bench/midi-out.ts)

One page of headless Chromium (${isolated ? 'cross-origin isolated: 5 µs timer resolution' : 'not cross-origin isolated: 0.1 ms timer resolution'}), built with Vite from
bench/pages/midi-out.ts: the sampler engine (ring transport, the electronic kit) and MIDI out
(client/midi/midi-out.ts: four players, one melodic, half the hits steady) on a stand-in output that
copies each message's bytes (no MIDI system here: Chromium's own \`MIDIOutput.send()\` is not in these
figures). ${plan.hits} hits per round at random intervals (${MEAN_INTERVAL_MS} ms on average), alternately the engine
alone (the baseline) and the engine then MIDI out, as the jam calls them, over ${plan.rounds} rounds; the figure is
\`performance.now()\` around the calls, the median of round figures. Then MIDI out's \`hit()\` alone, timed
in batches of ${plan.batchSize} (one call is below the timer's step): the mean per call.

| per hit | calls | main thread: p50 / p99 / max (ms) |
|---|---|---|
${row('engine.trigger (baseline)', engine)}
${row('engine.trigger + MIDI out', withMidi)}
| MIDI out's hit() alone, batch means | ${batch.n} batches | ${ms(batch.p50, 5)} / ${ms(batch.p99, 5)} / ${ms(batch.max, 5)} |

Added by MIDI out: p50 ${ms(addedP50, 4)} ms, p99 ${ms(addedP99, 4)} ms. Target ≤ ${TARGET_ADDED_MS} ms per hit (p99 added): ${verdict(addedP99, TARGET_ADDED_MS, 'ms', 4)}; per call alone (batch mean, p99 of batches): ${verdict(batch.p99, TARGET_ADDED_MS, 'ms', 5)}.
`;
}

if (isMain(import.meta.url)) await runAlone('midi-out', midiOutBenchmark);

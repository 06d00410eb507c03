/**
 * `npm run bench`: every benchmark, one after another, inside a loopback-only network
 * namespace (so no benchmark traffic can leave this machine), written to docs/benchmarks.md:
 *   1. the hit path through the real pages beside a raw RTCDataChannel and the relay, page
 *      open → first P2P hit, bundle sizes (bench/hit-path.ts);
 *   2. arrival → scheduled sound start in the engine beside Tone's default (bench/engine-schedule.ts);
 *      the trigger call's main-thread time, sampler (ring, port) beside today's Tone voices, and
 *      underruns at 1,600 hits/s (bench/engine-trigger.ts);
 *   3. loss and jitter on a two-namespace LAN (bench/loss.ts);
 *   4. the signal server beside a bare `ws` relay and peerjs-server (bench/signal-bench.ts);
 *   5. honest hits while one controller floods its data channel, beside no flood (bench/flood.ts).
 *
 *   npm run bench                 # the full run: about 6 minutes on 2 cores
 *   npm run bench -- --quick      # a smoke run
 *   npm run bench -- --only hit-path,engine   # some of them (hit-path, engine, engine-trigger, loss, signal, flood)
 */
import { writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type BenchSection, buildClient, enterLoopbackNamespace } from './browser-common.ts';
import { engineBenchmark } from './engine-schedule.ts';
import { engineTriggerBenchmark } from './engine-trigger.ts';
import { floodBenchmark } from './flood.ts';
import { hitPathBenchmark } from './hit-path.ts';
import { lossBenchmark } from './loss.ts';
import { signalBenchmark } from './signal-bench.ts';

enterLoopbackNamespace();

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({
  options: { quick: { type: 'boolean' }, out: { type: 'string' }, only: { type: 'string' } },
});
const quick = values.quick ?? false;
const benchmarks: Record<string, (options: { quick: boolean }) => Promise<Pick<BenchSection, 'markdown'>>> = {
  'hit-path': hitPathBenchmark,
  engine: engineBenchmark,
  'engine-trigger': engineTriggerBenchmark,
  loss: lossBenchmark,
  signal: signalBenchmark,
  flood: floodBenchmark,
};
const only = values.only?.split(',') ?? Object.keys(benchmarks);
const unknown = only.filter((name) => !(name in benchmarks));
if (unknown.length > 0) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')} (known: ${Object.keys(benchmarks).join(', ')})`);
  process.exit(2);
}

const startedAt = performance.now();
const now = new Date().toISOString().replace('T', ' ').slice(0, 16);
buildClient({ quick });
const sections: string[] = [];
for (const name of only) {
  const run = benchmarks[name];
  if (!run) continue;
  const began = performance.now();
  console.log(`\n── ${name} ──`);
  sections.push((await run({ quick })).markdown);
  console.log(`${name}: ${((performance.now() - began) / 1000).toFixed(0)} s`);
}
const minutes = (performance.now() - startedAt) / 60_000;

const command = `npm run bench${process.argv.slice(2).length > 0 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
const markdown = `# Benchmarks

Written by \`${command}\` on ${now} UTC in ${minutes.toFixed(1)} minutes: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'},
Linux ${release()}, Node ${process.version}, headless Chromium (Debian's), everything inside a
loopback-only network namespace (two-host LAN benchmarks in namespaces of their own within it).
The machine is shared and noisy: contenders alternate (A B A B…) within each benchmark, each
figure is a median over rounds, and every baseline is measured in the same run. Targets are
the ones issues 4 and 9 set; each section says which are met and, where not, by how much and why.
Raw results of the browser benchmarks: \`$TMPDIR/padmesh-bench/*.json\`.

${sections.join('\n')}`;

const out = values.out ?? join(here, '..', 'docs', 'benchmarks.md');
writeFileSync(out, markdown);
console.log(`\n${markdown}\nwritten to ${out}`);
process.exit(0);

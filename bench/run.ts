/**
 * `npm run bench`: every benchmark, one after another, inside a loopback-only network
 * namespace (so no benchmark traffic can leave this machine), written to docs/benchmarks.md:
 *   1. the hit path through the real pages beside a raw RTCDataChannel and the relay, page
 *      open → first P2P hit, bundle sizes (bench/hit-path.ts);
 *   2. arrival → scheduled sound start in the engine beside Tone's default (bench/engine-schedule.ts);
 *      the trigger call's main-thread time, sampler (ring, port) beside today's Tone voices, and
 *      underruns at 1,600 hits/s (bench/engine-trigger.ts); the built-in kits rendered offline and
 *      read back from the cache (bench/kit-render.ts); MIDI out's main-thread time per hit (bench/midi-out.ts);
 *   3. loss and jitter on a two-namespace LAN (bench/loss.ts);
 *   4. the signal server beside a bare `ws` relay and peerjs-server (bench/signal-bench.ts);
 *   5. honest hits while one controller floods its data channel, beside no flood (bench/flood.ts);
 *   6. several instances through Redis beside one instance: relay and joins (bench/cluster.ts).
 *
 *   npm run bench                 # the full run: about 6 minutes on 2 cores
 *   npm run bench -- --quick      # a smoke run
 *   npm run bench -- --only hit-path,engine   # some of them (hit-path, engine, engine-trigger, kit-render, midi-out,
 *                                             # loss, signal, flood, cluster), replacing their sections of docs/benchmarks.md
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type BenchSection, buildClient, enterLoopbackNamespace } from './browser-common.ts';
import { clusterBenchmark } from './cluster.ts';
import { engineBenchmark } from './engine-schedule.ts';
import { engineTriggerBenchmark } from './engine-trigger.ts';
import { floodBenchmark } from './flood.ts';
import { hitPathBenchmark } from './hit-path.ts';
import { kitRenderBenchmark } from './kit-render.ts';
import { lossBenchmark } from './loss.ts';
import { midiOutBenchmark } from './midi-out.ts';
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
  'kit-render': kitRenderBenchmark,
  'midi-out': midiOutBenchmark,
  loss: lossBenchmark,
  signal: signalBenchmark,
  flood: floodBenchmark,
  cluster: clusterBenchmark,
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
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, Linux ${release()}, Node ${process.version}`;
const out = values.out ?? join(here, '..', 'docs', 'benchmarks.md');
const partial = values.out === undefined && values.only !== undefined && existsSync(out);
const markdown = partial ? replaceSections(readFileSync(out, 'utf8'), sections) : wholeFile();
writeFileSync(out, markdown);
console.log(`\n${markdown}\nwritten to ${out}`);
process.exit(0);

function wholeFile(): string {
  return `# Benchmarks

Written by \`${command}\` on ${now} UTC in ${minutes.toFixed(1)} minutes: ${machine}, headless
Chromium (Debian's), everything inside a loopback-only network namespace (two-host LAN
benchmarks in namespaces of their own within it).
The machine is shared and noisy: contenders alternate (A B A B…) within each benchmark, each
figure is a median over rounds, and every baseline is measured in the same run. Targets are
the ones issues 4 and 9 set; each section says which are met and, where not, by how much and why.
Raw results of the browser benchmarks: \`$TMPDIR/padmesh-bench/*.json\`.

${sections.join('\n')}`;
}

/**
 * `--only` into docs/benchmarks.md: each section measured now replaces the one with its heading
 * (or is added), the others stay, and the file says which sections are from which run.
 */
function replaceSections(file: string, fresh: readonly string[]): string {
  const headingOf = (section: string) => section.slice(0, section.indexOf('\n'));
  const stamp = `_This section: \`${command}\` on ${now} UTC, ${machine}; the others are from the run the header names._\n\n`;
  const parts = file.split(/\n(?=## )/);
  for (const section of fresh) {
    const heading = headingOf(section);
    const stamped = `${heading}\n\n${stamp}${section.slice(heading.length + 1).replace(/^\n+/, '')}`;
    const at = parts.findIndex((part) => headingOf(part) === heading);
    if (at >= 0) parts[at] = stamped;
    else parts.push(stamped);
  }
  return parts.join('\n');
}

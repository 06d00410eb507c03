/**
 * `npm run bench`: measures padmesh's signal server beside a bare `ws` relay, with the same
 * load generator, alternating the contenders (A B A B A B) so that a noisy shared machine
 * hurts both alike, and writes docs/benchmarks.md. All traffic stays on loopback.
 *
 *   npm run bench                 # 3 rounds of 1000 rooms × 4 peers, 5,000 relayed msg/s for 5 s
 *   npm run bench -- --quick      # a smoke run: 1 round, 100 rooms
 */
import { writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type LoadPlan, type LoadResult, runLoad, startContender } from './signal-load.ts';
import { median } from './stats.ts';

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { quick: { type: 'boolean' }, out: { type: 'string' } } });
const quick = values.quick ?? false;
const rounds = quick ? 1 : 3;
const plan: LoadPlan = quick
  ? { rooms: 100, rate: 1000, durationMs: 2000, payloadBytes: 400 }
  : { rooms: 1000, rate: 5000, durationMs: 5000, payloadBytes: 400 };
const contenders = [
  { name: 'padmesh', file: join(here, 'servers', 'padmesh.ts') },
  { name: 'bare ws relay', file: join(here, 'servers', 'bare-relay.ts') },
] as const;

const results = new Map<string, LoadResult[]>(contenders.map((c) => [c.name, []]));
for (let round = 1; round <= rounds; round++) {
  for (const { name, file } of contenders) {
    const contender = await startContender(file);
    try {
      const result = await runLoad(contender, plan);
      results.get(name)?.push(result);
      console.log(
        `round ${round} ${name.padEnd(14)} ${JSON.stringify(result, (_k, v) => (typeof v === 'number' ? Number(v.toFixed(3)) : v))}`,
      );
    } finally {
      await contender.stop();
    }
  }
}

type Metric = { key: keyof LoadResult; label: string; unit: string; digits: number };
const metrics: Metric[] = [
  { key: 'joinStormMs', label: `join storm: ${plan.rooms * 4} clients connect + join`, unit: 'ms', digits: 0 },
  { key: 'cpuPerJoinMs', label: 'server CPU per connect + join', unit: 'ms', digits: 3 },
  { key: 'rssPerConnectionKB', label: 'server RSS per idle connection', unit: 'KB', digits: 1 },
  { key: 'relayP50Ms', label: `relay latency p50 at ${plan.rate} msg/s`, unit: 'ms', digits: 2 },
  { key: 'relayP99Ms', label: `relay latency p99 at ${plan.rate} msg/s`, unit: 'ms', digits: 2 },
  { key: 'cpuPerRelayUs', label: 'server CPU per relayed message', unit: 'µs', digits: 1 },
];
const med = (name: string, key: keyof LoadResult) => median((results.get(name) ?? []).map((r) => r[key]));
const [ours, baseline] = contenders.map((c) => c.name) as [string, string];

const rows = metrics.map(({ key, label, unit, digits }) => {
  const a = med(ours, key);
  const b = med(baseline, key);
  return `| ${label} | ${a.toFixed(digits)} ${unit} | ${b.toFixed(digits)} ${unit} | ${(a / b).toFixed(2)} |`;
});
const delivered = (name: string) => (results.get(name) ?? []).map((r) => `${r.delivered}/${r.sent}`).join(', ');
const cpu = cpus()[0]?.model ?? 'unknown CPU';
const now = new Date().toISOString().replace('T', ' ').slice(0, 16);

const markdown = `# Benchmarks

Written by \`npm run bench${quick ? ' -- --quick' : ''}\` on ${now} UTC: ${cpus().length} × ${cpu},
Linux ${release()}, Node ${process.version}. Everything runs on loopback; the server under test
is pinned to CPU 0 (\`taskset\`), the load generator runs on the rest. The machine is shared and
noisy, so contenders alternate (${contenders.map((c) => c.name).join(', ')}, repeated) over
${rounds} round${rounds === 1 ? '' : 's'} and each figure is the median of the rounds.

## Signaling server (bench/signal-load.ts)

Load: ${plan.rooms} rooms × 4 peers (1 DAW + 3 controllers) = ${plan.rooms * 4} WebSocket clients joined
50 rooms at a time; then controllers relay ${plan.payloadBytes}-byte messages to their DAW at
${plan.rate} msg/s in total for ${plan.durationMs / 1000} s. Latency is one way, send → receive, both
ends in the load generator's process (one clock). CPU is the server process's user + system
time over the phase, divided by its operations; RSS per connection is the server's resident
memory after a GC with everyone connected and idle, minus before, per connection.

| metric | padmesh | bare \`ws\` relay | padmesh / bare |
|---|---|---|---|
${rows.join('\n')}

Samples: relayed messages delivered/sent per round — padmesh ${delivered(ours)}; bare ${delivered(baseline)}.
The bare relay (bench/servers/bare-relay.ts) does no validation, rate limiting, presence or
heartbeat: the ratio is the price of padmesh's protocol work.

Pad-hit delivery through the real pages (P2P and relay, in headless Chromium):
[benchmarks-hits.md](benchmarks-hits.md), written by \`npm run bench:hits\`.
`;

const out = values.out ?? join(here, '..', 'docs', 'benchmarks.md');
writeFileSync(out, markdown);
console.log(`\n${markdown}\nwritten to ${out}`);

/**
 * `npm run bench`: writes docs/benchmarks.md from each benchmark's section. Runs itself inside
 * a loopback-only network namespace, so no benchmark traffic can leave this machine.
 *
 *   npm run bench                 # the full run (the signaling part takes about 3 minutes on 2 cores)
 *   npm run bench -- --quick      # a smoke run
 */
import { writeFileSync } from 'node:fs';
import { cpus, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runInLoopbackNamespace } from '../scripts/loopback-namespace.ts';
import { signalBenchmark } from './signal-bench.ts';
import { isLoopbackOnly } from './signal-load.ts';

if (!isLoopbackOnly()) {
  // Not in a namespace yet: run this same script in one.
  process.exit(runInLoopbackNamespace(process.execPath, [...process.execArgv, ...process.argv.slice(1)], process.env));
}

const here = dirname(fileURLToPath(import.meta.url));
const { values } = parseArgs({ options: { quick: { type: 'boolean' }, out: { type: 'string' } } });
const quick = values.quick ?? false;
const now = new Date().toISOString().replace('T', ' ').slice(0, 16);

const sections = [(await signalBenchmark({ quick })).markdown];

const markdown = `# Benchmarks

Written by \`npm run bench${quick ? ' -- --quick' : ''}\` on ${now} UTC: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'},
Linux ${release()}, Node ${process.version}, in a loopback-only network namespace. The machine
is shared and noisy: contenders alternate and each figure is a median over rounds.

${sections.join('\n')}
Pad-hit delivery through the real pages (P2P and relay, in headless Chromium):
[benchmarks-hits.md](benchmarks-hits.md), written by \`npm run bench:hits\`.
`;

const out = values.out ?? join(here, '..', 'docs', 'benchmarks.md');
writeFileSync(out, markdown);
console.log(`\n${markdown}\nwritten to ${out}`);

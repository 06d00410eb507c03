/**
 * `npm run test:busy`: does `npm test` hold on a busy machine? Starts one busy loop per core
 * (a Node process spinning), runs the whole `npm test` several times in a row beside them,
 * stops the loops, and reports each run: passed or not, how long, the load average, and
 * whether the run left the work tree as it found it (tests must write nothing there).
 *
 *   npm run test:busy                  # 3 runs, one busy loop per core
 *   npm run test:busy -- --runs 5 --loops 4
 *
 * Exits 0 only if every run passed and left the work tree clean. The loops end with this
 * script however it ends (they are killed on exit and on Ctrl-C, and each one also stops by
 * itself after a deadline, so none can outlive a crash by long).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({
  options: { runs: { type: 'string', default: '3' }, loops: { type: 'string' } },
});
const runs = Number(values.runs);
const loops = values.loops === undefined ? cpus().length : Number(values.loops);
if (!Number.isInteger(runs) || runs < 1 || runs > 100 || !Number.isInteger(loops) || loops < 0 || loops > 64) {
  console.error('usage: npm run test:busy -- [--runs 1-100] [--loops 0-64]');
  process.exit(2);
}
/** A busy loop gives up by itself after this long: far more than the runs take (~3–5 min each). */
const LOOP_DEADLINE_MS = runs * 20 * 60_000;

const busy: ChildProcess[] = [];
/** The `npm test` running now, if any. */
let current: ChildProcess | null = null;
function stopLoops(): void {
  for (const loop of busy.splice(0)) if (loop.exitCode === null && loop.signalCode === null) loop.kill('SIGKILL');
}
process.on('exit', stopLoops);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    stopLoops();
    // Its own group: npm test's namespace, Vitest and the browsers go with it.
    if (current?.pid !== undefined && current.exitCode === null) {
      try {
        process.kill(-current.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    process.exit(130);
  });
}

const workTree = () =>
  spawnSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: root, encoding: 'utf8' }).stdout;
const load = () =>
  loadavg()
    .map((value) => value.toFixed(1))
    .join(' ');

function npmTest(): Promise<number> {
  return new Promise((resolve) => {
    // In a process group of its own, so that a stop signal here can end the whole run.
    const child = spawn(join(root, 'node_modules', '.bin', 'tsx'), [join(root, 'scripts', 'test.ts')], {
      cwd: root,
      stdio: 'inherit',
      detached: true,
    });
    current = child;
    child.on('exit', (code, signal) => {
      current = null;
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

for (let i = 0; i < loops; i++) {
  busy.push(
    spawn(process.execPath, ['-e', `const end = Date.now() + ${LOOP_DEADLINE_MS}; while (Date.now() < end) {}`], {
      stdio: 'ignore',
    }),
  );
}
console.log(`test:busy: ${loops} busy loop(s) on ${cpus().length} core(s) (pids ${busy.map((b) => b.pid).join(' ')})`);

const results: { status: number; seconds: number; loadBefore: string; loadAfter: string; clean: boolean }[] = [];
for (let run = 1; run <= runs; run++) {
  const before = workTree();
  const loadBefore = load();
  const startedAt = performance.now();
  console.log(`\n━━ test:busy: run ${run} of ${runs} (load average ${loadBefore}) ━━`);
  const status = await npmTest();
  const seconds = (performance.now() - startedAt) / 1000;
  const after = workTree();
  results.push({ status, seconds, loadBefore, loadAfter: load(), clean: after === before });
  if (after !== before) console.log(`test:busy: run ${run} changed the work tree:\n${after}`);
}
stopLoops();

console.log(`\ntest:busy: npm test × ${runs} beside ${loops} busy loop(s) on ${cpus().length} core(s)`);
for (const [k, r] of results.entries()) {
  console.log(
    `  run ${k + 1}: ${r.status === 0 ? 'passed' : `FAILED (exit ${r.status})`} in ${r.seconds.toFixed(0)} s; ` +
      `load average ${r.loadBefore} → ${r.loadAfter}; work tree ${r.clean ? 'clean' : 'CHANGED'}`,
  );
}
const ok = results.every((r) => r.status === 0 && r.clean);
console.log(ok ? 'test:busy: all runs passed' : 'test:busy: not every run passed');
process.exit(ok ? 0 : 1);

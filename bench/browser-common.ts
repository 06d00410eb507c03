/**
 * Shared by the browser benchmarks (bench/hit-path.ts, bench/engine-schedule.ts, bench/loss.ts):
 * running alone inside a loopback-only network namespace, building the client once, bounded
 * waits, summaries, and where the raw results go.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import { clientBuildIsStale } from '../scripts/client-build.ts';
import { runInLoopbackNamespace } from '../scripts/loopback-namespace.ts';
import { isLoopbackOnly } from '../tests/helpers/jam.ts';
import { median, quantile } from './stats.ts';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
/** bench/results is not gitignored, so the raw results go here. */
export const RESULTS_DIR = join(tmpdir(), 'padmesh-bench');

export interface BrowserBenchOptions {
  quick: boolean;
  /** Build the client first (once per process; default true). */
  build?: boolean;
}

export interface BenchSection {
  markdown: string;
  results: unknown;
}

/** Whether the module at `url` is the script this process was started with. */
export const isMain = (url: string): boolean =>
  process.argv[1] !== undefined && url === pathToFileURL(resolve(process.argv[1])).href;

/**
 * For a benchmark run on its own: outside a loopback-only namespace, runs this same command
 * inside a fresh one and exits with its status; inside one, returns.
 */
export function enterLoopbackNamespace(): void {
  if (isLoopbackOnly()) return;
  process.exit(runInLoopbackNamespace(process.execPath, [...process.execArgv, ...process.argv.slice(1)], process.env));
}

/** `--quick` on the command line. */
export const quickFlag = (): boolean => process.argv.includes('--quick');

let built = false;
/** `vite build` of the client into dist/client, once per process, unless dist/client is newer than its sources. */
export function buildClient(options: BrowserBenchOptions): void {
  if (built || options.build === false) return;
  if (!clientBuildIsStale(ROOT)) {
    built = true;
    return;
  }
  const result = spawnSync(join(ROOT, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'inherit'],
    timeout: 120_000,
  });
  if (result.status !== 0) throw new Error(`vite build failed (${result.error?.message ?? `exit ${result.status}`})`);
  built = true;
}

export const sleep = (ms: number): Promise<void> => new Promise((done) => setTimeout(done, ms));

/** Polls `check` every `everyMs` until it holds or `timeoutMs` pass; returns whether it held. */
export async function waitUntil(
  check: () => Promise<boolean> | boolean,
  timeoutMs: number,
  everyMs = 50,
): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > until) return false;
    await sleep(everyMs);
  }
}

/** `promise`, or a rejection naming `what` after `ms` (page.evaluate itself never times out). */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * tsx compiles with esbuild's keepNames, which wraps named inner functions of a function
 * passed to `page.evaluate` in `__name(…)`, a helper the page does not have. This gives it one.
 */
export const NAME_SHIM = 'globalThis.__name ??= (fn) => fn;';
export async function shimNames(page: Page): Promise<void> {
  await page.evaluate(NAME_SHIM);
}

export interface Summary {
  n: number;
  p50: number;
  p99: number;
  max: number;
}

export function summarize(values: ArrayLike<number>): Summary {
  const sorted = Float64Array.from(values).sort();
  return {
    n: sorted.length,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    max: sorted.length === 0 ? Number.NaN : (sorted[sorted.length - 1] as number),
  };
}

/** Each statistic's median over rounds; `n` is the total. */
export function medianOfRounds(rounds: Summary[]): Summary {
  return {
    n: rounds.reduce((sum, round) => sum + round.n, 0),
    p50: median(rounds.map((round) => round.p50)),
    p99: median(rounds.map((round) => round.p99)),
    max: median(rounds.map((round) => round.max)),
  };
}

export const ms = (value: number, digits = 2): string => (Number.isFinite(value) ? value.toFixed(digits) : '–');

/** "met" or "missed", and by how much: `actual` against an upper bound `limit`. */
export function verdict(actual: number, limit: number, unit = 'ms', digits = 2): string {
  if (!Number.isFinite(actual)) return '**not measured**';
  const margin = Math.abs(limit - actual).toFixed(digits);
  return actual <= limit
    ? `met (${actual.toFixed(digits)} ${unit} ≤ ${limit.toFixed(digits)} ${unit}, ${margin} ${unit} to spare)`
    : `**missed** (${actual.toFixed(digits)} ${unit} > ${limit.toFixed(digits)} ${unit}, by ${margin} ${unit})`;
}

/** Writes `results` as JSON to RESULTS_DIR/`name`.json; returns the path. */
export function writeResults(name: string, results: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${name}.json`);
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
  return path;
}

/** Runs a benchmark as a script: in the namespace, prints its markdown, exits (browsers keep processes alive). */
export async function runAlone(
  name: string,
  run: (options: BrowserBenchOptions) => Promise<BenchSection>,
): Promise<void> {
  enterLoopbackNamespace();
  try {
    const { markdown } = await run({ quick: quickFlag(), build: !process.argv.includes('--no-build') });
    console.log(markdown);
    console.log(`results: ${join(RESULTS_DIR, `${name}.json`)}`);
    process.exit(0);
  } catch (error) {
    console.error(error);
    process.exit(1);
  }
}

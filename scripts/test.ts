/**
 * `npm test`: everything CI checks, in order, failing fast: lint and format, types, the
 * client build, then every test (unit, server, and real-browser end to end).
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureChromium } from './chromium.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);

function step(title: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): void {
  const startedAt = performance.now();
  console.log(`\n▶ ${title}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  if (result.status !== 0) {
    console.error(`\n✗ ${title} failed (${seconds} s)`);
    process.exit(result.status ?? 1);
  }
  console.log(`✓ ${title} (${seconds} s)`);
}

const startedAt = performance.now();
let chromium: string;
try {
  chromium = ensureChromium();
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
step('lint and format (biome)', bin('biome'), ['check', '.']);
step('types: server, tests, scripts', bin('tsc'), ['--noEmit', '-p', '.']);
step('types: browser client (no Node APIs)', bin('tsc'), ['--noEmit', '-p', 'client']);
step('client build', bin('vite'), ['build', '--logLevel', 'warn']);
step('tests', bin('vitest'), ['run', ...process.argv.slice(2)], { CHROMIUM_PATH: chromium });
console.log(`\nAll green in ${((performance.now() - startedAt) / 1000).toFixed(1)} s.`);

/**
 * `npm test`: everything CI checks, in order, failing fast: lint and format, types, the
 * client build and the phones' API floor on it, then every test (unit, server, and real-browser end to end), all of them
 * inside a loopback-only network namespace (WebRTC must never reach a real network).
 * `--tests-only` (npm run test:unit) skips to the tests; other arguments go to Vitest.
 */
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureChromium } from './chromium.ts';
import { ensureFirefox, ensurePulseAudio } from './firefox.ts';
import { checkLoopbackNamespace, ensureNft, ensurePython, runInLoopbackNamespace } from './loopback-namespace.ts';
import { ensureRedisServer } from './redis-server.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);

function step(title: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}, isolated = false): void {
  const startedAt = performance.now();
  console.log(`\n▶ ${title}`);
  const fullEnv = { ...process.env, ...env };
  const status = isolated
    ? runInLoopbackNamespace(command, args, fullEnv)
    : spawnSync(command, args, { cwd: root, stdio: 'inherit', env: fullEnv }).status;
  const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
  if (status !== 0) {
    console.error(`\n✗ ${title} failed (${seconds} s)`);
    process.exit(status ?? 1);
  }
  console.log(`✓ ${title} (${seconds} s)`);
}

const startedAt = performance.now();
let chromium: string;
let firefox: string;
try {
  chromium = ensureChromium();
  // Firefox as phone and as DAW (tests/e2e/firefox.test.ts); a Firefox DAW plays into a private PulseAudio.
  firefox = ensureFirefox();
  ensurePulseAudio();
  checkLoopbackNamespace();
  // The two-host LAN test blocks multicast with nftables; it cannot install it from inside its namespace.
  ensureNft();
  ensurePython();
  // Several signal server instances share rooms through a real Redis (tests/cluster/).
  ensureRedisServer();
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
const testsOnly = process.argv.includes('--tests-only');
const vitestArgs = process.argv.slice(2).filter((arg) => arg !== '--tests-only');
if (!testsOnly) {
  step('lint and format (biome)', bin('biome'), ['check', '.']);
  step('types: server, tests, scripts', bin('tsc'), ['--noEmit', '-p', '.']);
  step('types: browser client (no Node APIs)', bin('tsc'), ['--noEmit', '-p', 'client']);
  step('client build', bin('vite'), ['build', '--logLevel', 'warn']);
  // What phones load must run on the floor of package.json's browserslist (docs/testing.md).
  step("phones' API floor (the controller's chunks)", bin('tsx'), ['scripts/check-phone-floor.ts']);
}
const env = { CHROMIUM_PATH: chromium, FIREFOX_PATH: firefox };
if (vitestArgs.length > 0) {
  step('tests (in a loopback-only network namespace)', bin('vitest'), ['run', ...vitestArgs], env, true);
} else {
  // The two projects of vitest.config.ts one after the other: several Chromium pages would
  // otherwise share the 2 cores with tests that time real heartbeats.
  step(
    'unit and server tests (in a loopback-only network namespace)',
    bin('vitest'),
    ['run', '--project', 'unit'],
    env,
    true,
  );
  step('browser tests (in a loopback-only network namespace)', bin('vitest'), ['run', '--project', 'e2e'], env, true);
}
console.log(`\nAll green in ${((performance.now() - startedAt) / 1000).toFixed(1)} s.`);

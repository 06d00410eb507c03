/**
 * The browser parts of `npm run bench`, on their own: bench/hit-path.ts (hit path, startup,
 * bundles), bench/engine-schedule.ts (arrival → sound start) and bench/loss.ts (loss and
 * jitter), one after another in a loopback-only network namespace; prints their sections.
 *
 *   npx tsx bench/browser.ts            # about 3 minutes on 2 cores
 *   npx tsx bench/browser.ts --quick    # a smoke run
 */
import { buildClient, enterLoopbackNamespace, quickFlag } from './browser-common.ts';
import { engineBenchmark } from './engine-schedule.ts';
import { hitPathBenchmark } from './hit-path.ts';
import { lossBenchmark } from './loss.ts';

enterLoopbackNamespace();
const options = { quick: quickFlag(), build: !process.argv.includes('--no-build') };
try {
  buildClient(options);
  for (const run of [hitPathBenchmark, engineBenchmark, lossBenchmark]) console.log((await run(options)).markdown);
  process.exit(0);
} catch (error) {
  console.error(error);
  process.exit(1);
}

/**
 * `npm run screenshots`: the pictures in the README, docs/screenshots/daw.png, controller.png,
 * samples.png (the DAW's samples and kits) and controller-keys.png (a phone given the keys), taken from a real jam: the built app, the real signal server, a DAW page and
 * three phones in headless Chromium over real WebRTC (the rig of tests/helpers/jam.ts), inside a
 * loopback-only network namespace, as the tests run. The tests themselves write nothing into
 * the work tree; this is the one command that changes these files.
 *
 *   npm run screenshots            # builds the client first if it is stale
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { isLoopbackOnly, Jam, padPoint, touch, WAIT, waitForP2p } from '../tests/helpers/jam.ts';
import { ensureChromium } from './chromium.ts';
import { clientBuildIsStale } from './client-build.ts';
import { checkLoopbackNamespace, runInLoopbackNamespace } from './loopback-namespace.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'docs', 'screenshots');

/** Who plays what: each phone's taps (pad, how far across it), so the DAW has hits and numbers to show. */
const PLAYERS: [string, [number, number][]][] = [
  [
    'Ana',
    [
      [0, 0.5],
      [5, 0.85],
      [2, 0.5],
    ],
  ],
  [
    'Ben',
    [
      [1, 0.5],
      [7, 0.5],
    ],
  ],
  [
    'Cleo',
    [
      [15, 0.7],
      [8, 0.5],
      [10, 0.5],
    ],
  ],
];

async function takeScreenshots(): Promise<void> {
  const jam = await Jam.launch();
  try {
    await jam.startServer();
    const { daw, code } = await jam.openDaw();
    const phones: Page[] = [];
    for (const [name] of PLAYERS) phones.push(await jam.joinPhone(code, name));
    for (const phone of phones) await waitForP2p(phone);
    for (const [name] of PLAYERS) {
      await daw.locator('[data-testid=member][data-transport=p2p]', { hasText: name }).waitFor(WAIT);
    }
    // The pads carry the DAW's names once its room state has arrived.
    await (phones[0] as Page).locator('[data-testid=pad]', { hasText: 'Kick' }).first().waitFor(WAIT);
    await (phones[0] as Page).screenshot({ path: join(OUT, 'controller.png') });

    let taps = 0;
    for (const [k, [, pads]] of PLAYERS.entries()) {
      const phone = phones[k] as Page;
      for (const [pad, across] of pads) {
        await touch(phone, [await padPoint(phone, pad, across)]);
        taps += 1;
      }
    }
    await daw
      .locator('[data-testid=hit]')
      .nth(taps - 1)
      .waitFor(WAIT);
    // Each phone's figures come with the DAW's next report (once a second).
    for (const [name] of PLAYERS) {
      await daw.locator('[data-testid=member]', { hasText: name }).getByTestId('member-one-way').waitFor(WAIT);
    }
    await daw.screenshot({ path: join(OUT, 'daw.png'), fullPage: true });
    // The samples and kits panel, and a phone given the keys: its pads are notes.
    await daw
      .locator('section', { has: daw.getByRole('heading', { name: 'Samples and kits' }) })
      .screenshot({ path: join(OUT, 'samples.png') });
    const cleo = phones[2] as Page;
    await daw
      .locator('[data-testid=member]', { hasText: 'Cleo' })
      .getByTestId('member-instrument')
      .selectOption('keys');
    await cleo.locator('[data-testid=pad][data-pad="12"]', { hasText: 'C3' }).waitFor(WAIT);
    await cleo.screenshot({ path: join(OUT, 'controller-keys.png') });
    if (jam.errors.length > 0) throw new Error(`the pages threw: ${jam.errors.map((e) => e.message).join('; ')}`);
  } finally {
    await jam.close();
  }
}

if (isLoopbackOnly()) {
  await takeScreenshots();
  console.log(`wrote docs/screenshots: daw.png, controller.png, samples.png, controller-keys.png`);
  process.exit(0);
} else {
  // Outside: make sure the browser and the build are there, then run this same script in a fresh namespace.
  try {
    process.env.CHROMIUM_PATH = ensureChromium();
    checkLoopbackNamespace();
  } catch (error) {
    console.error((error as Error).message);
    process.exit(1);
  }
  if (clientBuildIsStale(ROOT)) {
    const build = spawnSync(join(ROOT, 'node_modules', '.bin', 'vite'), ['build', '--logLevel', 'warn'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    if (build.status !== 0) process.exit(build.status ?? 1);
  }
  mkdirSync(OUT, { recursive: true });
  process.exit(runInLoopbackNamespace(process.execPath, [...process.execArgv, ...process.argv.slice(1)], process.env));
}

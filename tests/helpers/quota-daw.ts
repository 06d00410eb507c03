/**
 * A DAW page whose storage quota is small, for the tests of a full disk: a Chromium whose profile
 * is in a fresh folder on disk (Playwright's ordinary contexts keep storage in memory, where
 * Chromium's quota override does not reach; on disk, IndexedDB aborts a write over it with a
 * real QuotaExceededError), the quota for `origin` set before the page first opens its storage
 * (Chromium reads an origin's quota when it opens it).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CDPSession, chromium, type Page } from 'playwright-core';
import { findChromium } from '../../scripts/chromium.ts';
import { CHROMIUM_ARGS, LAPTOP } from './browser.ts';
import { PAGE_TIMEOUT_MS, WEBRTC_ARGS } from './jam.ts';

/**
 * Runs `use` with the page (not yet navigated), its CDP session (to lift the quota:
 * `Storage.overrideQuotaForOrigin` without a size) and its page errors; `init` runs in the page
 * before its own code. The browser and its profile folder go when `use` ends.
 */
export async function withQuotaLimitedDaw(
  origin: string,
  quotaSize: number,
  use: (daw: Page, cdp: CDPSession, errors: Error[]) => Promise<void>,
  init?: () => void,
): Promise<void> {
  const profile = await mkdtemp(join(tmpdir(), 'padmesh-quota-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: findChromium() as string,
    args: [...CHROMIUM_ARGS, ...WEBRTC_ARGS],
    viewport: LAPTOP.viewport,
  });
  try {
    if (init) await context.addInitScript(init);
    const daw = context.pages()[0] ?? (await context.newPage());
    const errors: Error[] = [];
    daw.on('pageerror', (error) => errors.push(error));
    daw.setDefaultTimeout(PAGE_TIMEOUT_MS);
    const cdp = await context.newCDPSession(daw);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize });
    await use(daw, cdp, errors);
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
}

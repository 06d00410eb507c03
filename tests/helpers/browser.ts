/** Headless Chromium (Debian's) for end-to-end tests, with the flags this closed network needs. */
import { type Browser, chromium } from 'playwright-core';
import { findChromium, INSTALL_HINT } from '../../scripts/chromium.ts';

/** Without the background-networking flags Chromium keeps calling home, and this machine refuses. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) throw new Error(INSTALL_HINT);
  return chromium.launch({ executablePath, args: [...CHROMIUM_ARGS, ...extraArgs] });
}

/** A phone-sized touch context. */
export const PHONE = {
  viewport: { width: 390, height: 844 },
  hasTouch: true,
  isMobile: true,
  deviceScaleFactor: 2,
} as const;
export const LAPTOP = { viewport: { width: 1280, height: 800 } } as const;

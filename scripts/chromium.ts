/**
 * Finds Debian's Chromium for the browser tests, and installs it when it is missing and we
 * are root on a Debian-like machine (CI). `npx playwright install` cannot download here.
 */
import { existsSync } from 'node:fs';
import { ensureDebianTool } from './debian-package.ts';

/** The real binary first: /usr/bin/chromium is a shell wrapper that adds flags and noise. */
const CANDIDATES = ['/usr/lib/chromium/chromium', '/usr/bin/chromium', '/usr/bin/chromium-browser'];

export function findChromium(env: NodeJS.ProcessEnv = process.env): string | null {
  if (env.CHROMIUM_PATH) return existsSync(env.CHROMIUM_PATH) ? env.CHROMIUM_PATH : null;
  return CANDIDATES.find((path) => existsSync(path)) ?? null;
}

export const INSTALL_HINT =
  'The browser tests need Chromium. On Debian/Ubuntu: sudo apt-get install -y chromium\n' +
  'or point CHROMIUM_PATH at a Chromium binary.';

/** The Chromium path, installing Debian's package first when we can. Throws with instructions when we cannot. */
export function ensureChromium(): string {
  // A CHROMIUM_PATH that does not exist is the person's choice to mend, not ours to override.
  if (process.env.CHROMIUM_PATH) {
    const given = findChromium();
    if (!given) throw new Error(INSTALL_HINT);
    return given;
  }
  return ensureDebianTool({
    name: 'Chromium',
    debianPackage: 'chromium',
    find: () => findChromium(),
    hint: INSTALL_HINT,
  });
}

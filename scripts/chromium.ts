/**
 * Finds Debian's Chromium for the browser tests, and installs it when it is missing and we
 * are root on a Debian-like machine (CI). `npx playwright install` cannot download here.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

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
  const found = findChromium();
  if (found) return found;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !existsSync('/usr/bin/apt-get') || process.env.CHROMIUM_PATH) throw new Error(INSTALL_HINT);
  console.log('  Chromium not found: installing Debian’s chromium package (once)…');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', 'chromium'], { stdio: 'inherit', env });
  const installed = findChromium();
  if (!installed) throw new Error(`apt-get installed chromium but no binary was found.\n${INSTALL_HINT}`);
  return installed;
}

/**
 * The phones' browser floor, read from package.json's `browserslist` (the one place it is
 * declared), and the build targets Vite (rolldown/oxc) lowers the app's syntax for. Used by
 * vite.config.ts (build.target) and scripts/check-phone-floor.ts (the compat check in npm test).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import browserslist from 'browserslist';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The browsers (browserslist's `name version`, e.g. `ios_saf 15.4`) the controller page must run in. */
export function phoneBrowsers(): string[] {
  const query = browserslist.loadConfig({ path: root });
  if (!query) throw new Error(`no browserslist entry in ${join(root, 'package.json')}`);
  return browserslist(query);
}

/** browserslist's browser names → the engine names oxc's (and esbuild's) `target` takes. */
const ENGINE: Record<string, string> = {
  ios_saf: 'ios',
  safari: 'safari',
  chrome: 'chrome',
  and_chr: 'chrome', // Chrome for Android runs the same Blink as desktop Chrome of that version
  edge: 'edge',
  firefox: 'firefox',
  and_ff: 'firefox',
};

/** The oldest version of each engine in `browsers`, as build targets: `['chrome100', 'firefox115', 'ios15.4']`. */
export function buildTargets(browsers: readonly string[]): string[] {
  const oldest = new Map<string, number[]>();
  for (const entry of browsers) {
    const [name = '', range = ''] = entry.split(' ');
    const engine = ENGINE[name];
    // A browser outside the table would silently get no lowering at all: refuse it instead.
    if (!engine) throw new Error(`browserslist names ${entry}, which has no build target: add it to ENGINE`);
    const version = (range.split('-')[0] ?? '').split('.').map(Number); // '15.6-15.8' → [15, 6]
    if (version.some(Number.isNaN)) throw new Error(`browserslist version ${entry} is not a number`);
    const known = oldest.get(engine);
    if (!known || compareVersions(version, known) < 0) oldest.set(engine, version);
  }
  return [...oldest].map(([engine, version]) => `${engine}${version.join('.')}`).sort();
}

function compareVersions(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const difference = (a[i] ?? 0) - (b[i] ?? 0);
    if (difference !== 0) return difference;
  }
  return 0;
}

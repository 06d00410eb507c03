import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin, resolveConfig } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';
import { buildTargets, phoneBrowsers } from '../../scripts/browser-floor.ts';
import { checkPhoneFloor, type FloorFinding, INLINE_SCRIPT } from '../../scripts/check-phone-floor.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const beyondFloor = join(root, 'tests', 'helpers', 'phone-floor', 'beyond-floor.ts');
const scratch = mkdtempSync(join(tmpdir(), 'padmesh-floor-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const summary = (findings: FloorFinding[]) => findings.map((finding) => `${finding.rule}: ${finding.message}`);

describe('the phones’ browsers', () => {
  it('are package.json’s browserslist, iOS Safari from 15.4', () => {
    const browsers = phoneBrowsers();
    expect(browsers).toContain('ios_saf 15.4');
    expect(browsers).not.toContain('ios_saf 15.2-15.3');
    expect(browsers.some((browser) => browser.startsWith('and_chr '))).toBe(true);
    expect(browsers.some((browser) => browser.startsWith('and_ff '))).toBe(true);
  });

  it('give the build its targets: the oldest version of each engine', () => {
    expect(buildTargets(phoneBrowsers())).toEqual(['chrome100', 'firefox115', 'ios15.4']);
    expect(buildTargets(['ios_saf 15.6-15.8', 'ios_saf 15.4', 'and_chr 157', 'chrome 101', 'and_ff 160'])).toEqual([
      'chrome101',
      'firefox160',
      'ios15.4',
    ]);
    // A browser the table does not know would go unlowered: refused.
    expect(() => buildTargets(['ie 11'])).toThrow(/ie 11/);
  });

  it('are what vite.config.ts builds for, CSS too', async () => {
    const config = await resolveConfig({ configFile: join(root, 'vite.config.ts'), logLevel: 'warn' }, 'build');
    expect(config.build.target).toEqual(buildTargets(phoneBrowsers()));
    expect(config.build.cssTarget).toEqual(buildTargets(phoneBrowsers()));
  });
});

/** A build folder made by hand: index.html (with `inline` as its inline script, if any), its entry chunk and the chunks given. */
function handMadeBuild(name: string, chunks: Record<string, string>, inline?: string): string {
  const dir = join(scratch, name);
  mkdirSync(join(dir, 'assets'), { recursive: true });
  writeFileSync(
    join(dir, 'index.html'),
    `${inline === undefined ? '' : `<script>${inline}</script>`}<script type="module" crossorigin src="/assets/index-a1.js"></script>`,
  );
  for (const [file, code] of Object.entries(chunks)) writeFileSync(join(dir, 'assets', file), code);
  return dir;
}

describe('the floor check, rule by rule', () => {
  it('flags APIs and syntax beyond the floor, and only those, in every chunk a phone loads', () => {
    const dir = handMadeBuild('rules', {
      'index-a1.js': [
        'import { shared } from "./shared-b2.js";',
        'const route = () => import("./DawPage-c3.js");',
        'const lazyPhonePart = () => import("./lazy-d4.js");',
        'navigator.setAppBadge(1);', // Safari 16.4
        'const { promise } = Promise.withResolvers();', // Safari 17.4
        'structuredClone({ shared, route, lazyPhonePart, promise });', // Safari 15.4: within the floor
        'const found = [1, 2].at(-1) ?? Object.hasOwn({}, "a");', // Safari 15.4 too
        'class Pad { #hits = 0; static { this.count = 0; } hit() { return ++this.#hits + found; } }', // static block: 16.4
        'export const lookbehind = [/(?<=#)x/, new RegExp("(?<!a)b"), RegExp(`(?<=#)x`), RegExp(`(?<name>a)`), Pad];',
        'export const flags = [new RegExp("[a]", "v"), new Float16Array(1), Iterator.from([])];', // Safari 17, 18.2, 18.4
      ].join('\n'),
      'shared-b2.js': 'export let shared = 0;\nif (shared === 0) requestIdleCallback(() => {});\n', // no Safari
      'lazy-d4.js': 'export const lazy = new OffscreenCanvas(1, 1);\n', // Safari 16.4
      // The DAW page's chunk: a phone never loads it, so nothing in it counts.
      'DawPage-c3.js': 'navigator.requestMIDIAccess();\nnavigator.setAppBadge(1);\n',
    });
    const report = checkPhoneFloor(dir);
    expect(report.chunks).toEqual(['assets/index-a1.js', 'assets/shared-b2.js', 'assets/lazy-d4.js']);
    const found = summary(report.findings);
    const lookbehind = 'regex lookbehind (?<= / (?<! in RegExp(`…`): Safari 16.4+ (the floor has iOS Safari 15.4)';
    expect(found).toEqual([
      expect.stringMatching(/^compat\/compat: navigator\.setAppBadge\(\) is not supported in .*iOS Safari 15\.4/),
      'floor/mdn-globals: Promise.withResolvers is not in chrome 100, firefox 115, safari_ios 15.4 (MDN)',
      'no-restricted-syntax: class static blocks: Safari 16.4+ (the floor has iOS Safari 15.4)',
      'compat/compat: Lookbehind is not supported in iOS Safari 15.4', // the literal
      'compat/compat: Lookbehind is not supported in iOS Safari 15.4', // RegExp("…")
      `no-restricted-syntax: ${lookbehind}`, // RegExp(`…`), as the build writes it
      'no-restricted-syntax: regex flag v (unicodeSets) in RegExp(): Safari 17+ (the floor has iOS Safari 15.4)',
      'floor/mdn-globals: Float16Array is not in chrome 100, firefox 115, safari_ios 15.4 (MDN)',
      'floor/mdn-globals: Iterator.from is not in chrome 100, firefox 115, safari_ios 15.4 (MDN)',
      // In a chunk the entry imports, and in one it imports lazily; inside an `if`, too.
      'compat/compat: requestIdleCallback is not supported in iOS Safari 15.4',
      'compat/compat: OffscreenCanvas is not supported in iOS Safari 15.4',
    ]);
    expect(report.findings[0]).toMatchObject({ chunk: 'assets/index-a1.js', line: 4 });
  });

  it('lets through only the APIs the page checks for first (FEATURE_DETECTED)', () => {
    const dir = handMadeBuild('detected', {
      'index-a1.js': [
        'export const buzz = typeof navigator.vibrate === "function" ? navigator.vibrate.bind(navigator) : null;',
        'export const canvas = typeof OffscreenCanvas === "function" ? new OffscreenCanvas(1, 1) : null;',
      ].join('\n'),
    });
    // The real list names navigator.vibrate (PadGrid checks it); OffscreenCanvas is not on it.
    expect(summary(checkPhoneFloor(dir).findings)).toEqual([
      'compat/compat: OffscreenCanvas is not supported in iOS Safari 15.4',
    ]);
    expect(checkPhoneFloor(dir, phoneBrowsers(), ['navigator.vibrate', 'OffscreenCanvas']).findings).toEqual([]);
    expect(summary(checkPhoneFloor(dir, phoneBrowsers(), []).findings)).toEqual([
      'compat/compat: navigator.vibrate() is not supported in iOS Safari 15.4',
      'compat/compat: navigator.vibrate() is not supported in iOS Safari 15.4',
      'compat/compat: OffscreenCanvas is not supported in iOS Safari 15.4',
    ]);
  });

  it('checks the script inlined in index.html as well', () => {
    const dir = handMadeBuild(
      'inline',
      { 'index-a1.js': 'export const ok = structuredClone({});\n' },
      '(function(){navigator.setAppBadge(1);})();',
    );
    const report = checkPhoneFloor(dir);
    expect(report.chunks).toEqual(['assets/index-a1.js', `${INLINE_SCRIPT} 1`]);
    expect(report.findings).toEqual([expect.objectContaining({ chunk: `${INLINE_SCRIPT} 1`, rule: 'compat/compat' })]);
  });

  it('flags syntax newer than ES2022', () => {
    const dir = handMadeBuild('syntax', { 'index-a1.js': 'export const letters = /[\\p{L}--[a-z]]/v;\n' });
    expect(summary(checkPhoneFloor(dir).findings)).toEqual([
      expect.stringMatching(/^syntax: .*\(not ES2022 syntax\)$/),
    ]);
  });
});

/** The real app built with the real config into a folder of its own, `module` added to `page`'s imports. */
async function buildApp(name: string, addTo?: { page: string; module: string }): Promise<string> {
  const outDir = join(scratch, name);
  const addImport: Plugin = {
    name: 'test-add-import',
    enforce: 'pre',
    transform(code, id) {
      if (addTo && id === join(root, 'client', 'views', addTo.page)) return `import '${addTo.module}';\n${code}`;
    },
  };
  await build({
    configFile: join(root, 'vite.config.ts'),
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true },
    plugins: [addImport],
  });
  return outDir;
}

describe('the floor check on the real build', () => {
  it('passes on the app as it is, checking the controller’s chunks and not the DAW’s', {
    timeout: 120_000,
  }, async () => {
    const dir = await buildApp('app');
    const report = checkPhoneFloor(dir);
    expect(report.findings).toEqual([]);
    const entry = /src="\/(assets\/index-[\w-]+\.js)"/.exec(readFileSync(join(dir, 'index.html'), 'utf8'))?.[1];
    expect(report.chunks[0]).toBe(entry);
    expect(report.chunks.at(-1)).toBe(`${INLINE_SCRIPT} 1`); // the early join (client/src/early-join.ts)
    expect(report.chunks.some((chunk) => chunk.includes('DawPage'))).toBe(false);
    // The checked code is the controller page's: its pad grid is in it, the DAW page's sound button is not.
    const code = report.chunks
      .filter((chunk) => chunk.startsWith('assets/'))
      .map((chunk) => readFileSync(join(dir, chunk), 'utf8'))
      .join('\n');
    expect(code).toContain('data-testid=pad-grid');
    expect(code).not.toContain('enable-sound');
  });

  it('fails when the controller page imports a module beyond the floor', { timeout: 180_000 }, async () => {
    const dir = await buildApp('beyond', { page: 'ControllerPage.tsx', module: beyondFloor });
    const found = summary(checkPhoneFloor(dir).findings);
    expect(found).toEqual([
      expect.stringMatching(/^compat\/compat: navigator\.setAppBadge\(\) is not supported in .*iOS Safari 15\.4/),
      // The build moved the lookbehind it cannot lower into RegExp(`…`): still found.
      'no-restricted-syntax: regex lookbehind (?<= / (?<! in RegExp(`…`): Safari 16.4+ (the floor has iOS Safari 15.4)',
    ]);
  });

  it('lets the DAW page use it: the floor is the phones’', { timeout: 180_000 }, async () => {
    const dir = await buildApp('daw', { page: 'DawPage.tsx', module: beyondFloor });
    expect(checkPhoneFloor(dir).findings).toEqual([]);
  });
});

/**
 * The phones' API floor, checked on the built app (`npm test` runs it after the client build):
 * the JavaScript a phone's controller page loads, and only that, must use no Web API, no
 * JavaScript built-in and no syntax that the browsers of package.json's `browserslist` lack.
 *
 * What a phone loads is read off the build itself: index.html's module script and every chunk
 * it imports, statically or lazily, except the DAW page's lazy chunk (App.tsx loads it only on
 * /daw) and what only that chunk imports; and the script inlined in index.html (scripts/inline-script.ts). So the check sees exactly the bytes a phone gets, with
 * solid-js, simple-peer, valibot and nanoid in them, after tree-shaking and after the build's
 * lowering for the floor. The rules, with ESLint:
 * - APIs: eslint-plugin-compat (MDN's browser-compat-data) against the browserslist entries, every
 *   use reported, also inside an `if` (the plugin would let those pass as feature checks; the ones
 *   that truly are, are listed in FEATURE_DETECTED); and, because the plugin's MDN data is an older
 *   snapshot, the globals and built-ins' static members on today's @mdn/browser-compat-data
 *   (scripts/bcd-globals-rule.ts).
 * - Syntax: the chunks must parse as ES2022 (all of it runs in the floor's browsers, but for the
 *   two features below), their regular expressions must be valid ES2022 ones (also those handed to
 *   `RegExp()`, where the build moves regex literals it cannot lower), and two ES2022 features
 *   Safari shipped only in 16.4 (MDN: javascript.classes.static_initialization_blocks,
 *   javascript.regular_expressions.lookbehind_assertion) must not be there.
 * `npx tsx scripts/check-phone-floor.ts [distDir]` prints each finding with its chunk, place and
 * the code around it, and exits 1 if there is any.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Linter } from 'eslint';
import compat from 'eslint-plugin-compat';
import { parseAst } from 'vite';
import { inlineScripts } from '../signal/static.ts';
import { bcdGlobalsRule } from './bcd-globals-rule.ts';
import { phoneBrowsers } from './browser-floor.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** How a script inlined in index.html is named among the chunks (numbered from 1). */
export const INLINE_SCRIPT = 'index.html inline <script>';

/** Chunks a phone never loads: the DAW page's, imported lazily by App.tsx for /daw only. */
const DAW_ONLY_CHUNK = /^DawPage-[\w-]+\.js$/;

/**
 * APIs beyond the floor that the controller's code uses only after checking they exist, so a
 * browser without them still works (eslint-plugin-compat cannot see such checks). Each says where.
 */
export const FEATURE_DETECTED: Readonly<Record<string, string>> = {
  'navigator.vibrate': 'client/components/PadGrid.tsx: a buzz under the finger where `navigator.vibrate` is a function',
  'navigator.userActivation':
    'client/components/PadGrid.tsx: no buzz before a real tap where `navigator.userActivation` says so; without it, a buzz as ever',
  'navigator.wakeLock':
    'client/state/screen-awake.ts: the screen kept awake only in a secure context where `navigator.wakeLock.request` is a function',
};

export interface FloorFinding {
  /** The chunk, relative to the build folder. */
  chunk: string;
  line: number;
  column: number;
  /** `compat/compat` (an API), `syntax` (did not parse as ES2022), or the syntax rule's name. */
  rule: string;
  message: string;
  /** The code around the place (chunks are minified: one long line). */
  excerpt: string;
}

export interface FloorReport {
  browsers: string[];
  /** Every chunk checked, relative to the build folder, the entry first, then index.html's inline scripts. */
  chunks: string[];
  findings: FloorFinding[];
}

// A lookbehind in a RegExp(`…`) call: the build turns regex literals it cannot lower into such
// calls, with template literals, where eslint-plugin-compat (which finds lookbehinds in regex
// literals and RegExp("…") strings) does not look.
const regexpTemplateCall = (tag: string) =>
  `${tag}[callee.type='Identifier'][callee.name='RegExp'] > TemplateLiteral.arguments:first-child > TemplateElement[value.cooked=/\\(\\?<[=!]/]`;

// The `v` flag handed to RegExp() (a `v` regex literal does not parse as ES2022).
const regexpFlags = (tag: string) =>
  `${tag}[callee.type='Identifier'][callee.name='RegExp'] > Literal.arguments:nth-child(2)[value=/v/], ` +
  `${tag}[callee.type='Identifier'][callee.name='RegExp'] > TemplateLiteral.arguments:nth-child(2) > TemplateElement[value.cooked=/v/]`;

function lintConfig(browsers: string[], featureDetected: readonly string[]): Linter.Config[] {
  return [
    {
      files: ['**/*.js'],
      plugins: { compat, floor: { rules: { 'mdn-globals': bcdGlobalsRule(browsers, featureDetected) } } },
      languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
      settings: {
        browsers,
        lintAllEsApis: true,
        ignoreConditionalChecks: true,
        polyfills: featureDetected,
      },
      rules: {
        'compat/compat': 'error',
        'floor/mdn-globals': 'error',
        'no-restricted-syntax': [
          'error',
          { selector: 'StaticBlock', message: 'class static blocks: Safari 16.4+ (the floor has iOS Safari 15.4)' },
          {
            selector: `${regexpTemplateCall('NewExpression')}, ${regexpTemplateCall('CallExpression')}`,
            message: 'regex lookbehind (?<= / (?<! in RegExp(`…`): Safari 16.4+ (the floor has iOS Safari 15.4)',
          },
          {
            selector: `${regexpFlags('NewExpression')}, ${regexpFlags('CallExpression')}`,
            message: 'regex flag v (unicodeSets) in RegExp(): Safari 17+ (the floor has iOS Safari 15.4)',
          },
        ],
      },
    },
  ];
}

/** The chunks a phone loads, relative to `distDir`: index.html's entry and what it imports, but the DAW page's. */
export function controllerChunks(distDir: string): string[] {
  const html = readFileSync(join(distDir, 'index.html'), 'utf8');
  const entries = [...html.matchAll(/<script type="module"[^>]*\ssrc="\/([^"]+)"/g)].map((match) => match[1] ?? '');
  if (entries.length === 0) throw new Error(`${distDir}/index.html has no module script: not a build`);
  const chunks = new Set<string>();
  const visit = (chunk: string): void => {
    if (chunks.has(chunk)) return;
    chunks.add(chunk);
    for (const { source, lazy } of importsOf(readFileSync(join(distDir, chunk), 'utf8'))) {
      if (!source.startsWith('./')) throw new Error(`${chunk} imports ${source}, which is not a chunk of the build`);
      const target = join(dirname(chunk), source.slice(2));
      if (lazy && DAW_ONLY_CHUNK.test(target.split('/').pop() ?? '')) continue;
      visit(target);
    }
  };
  for (const entry of entries) visit(entry);
  return [...chunks];
}

/** Every module a chunk imports: `import … from`, `export … from`, and `import()` of a plain string. */
function importsOf(code: string): { source: string; lazy: boolean }[] {
  const found: { source: string; lazy: boolean }[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const { type, source } = node as { type?: string; source?: { type: string; value?: unknown; quasis?: unknown[] } };
    if (
      (type === 'ImportDeclaration' || type === 'ExportNamedDeclaration' || type === 'ExportAllDeclaration') &&
      typeof source?.value === 'string'
    ) {
      found.push({ source: source.value, lazy: false });
    } else if (type === 'ImportExpression') {
      const cooked = source?.type === 'TemplateLiteral' && source.quasis?.length === 1 ? source.quasis[0] : undefined;
      const value =
        source?.type === 'Literal' ? source.value : (cooked as { value?: { cooked?: string } })?.value?.cooked;
      // A computed import() cannot be followed: refuse it rather than check less than a phone loads.
      if (typeof value !== 'string') throw new Error('a chunk has an import() of a computed name: cannot follow it');
      found.push({ source: value, lazy: true });
    }
    for (const value of Object.values(node)) if (value && typeof value === 'object') walk(value);
  };
  walk(parseAst(code));
  return found;
}

/** Lints the chunks a phone loads from `distDir` against the floor. */
export function checkPhoneFloor(
  distDir: string,
  browsers: string[] = phoneBrowsers(),
  featureDetected: readonly string[] = Object.keys(FEATURE_DETECTED),
): FloorReport {
  const sources = new Map(
    controllerChunks(distDir).map((chunk) => [chunk, readFileSync(join(distDir, chunk), 'utf8')]),
  );
  for (const [i, code] of inlineScripts(readFileSync(join(distDir, 'index.html'), 'utf8')).entries()) {
    sources.set(`${INLINE_SCRIPT} ${i + 1}`, code);
  }
  const linter = new Linter({ configType: 'flat' });
  const config = lintConfig(browsers, featureDetected);
  const findings: FloorFinding[] = [];
  for (const [chunk, code] of sources) {
    const lines = code.split('\n');
    const messages = linter.verify(code, config, { filename: join(root, 'phone-chunk.js') });
    // Both API rules know most Web API interfaces: one finding per place (the outer node's).
    const within = (inner: Linter.LintMessage, outer: Linter.LintMessage) =>
      inner !== outer &&
      inner.line === outer.line &&
      inner.column >= outer.column &&
      (inner.endColumn ?? inner.column) <= (outer.endColumn ?? outer.column);
    for (const message of messages) {
      if (messages.some((other) => within(message, other) && other.ruleId !== message.ruleId)) continue;
      const text = lines[message.line - 1] ?? '';
      const at = message.column - 1;
      findings.push({
        chunk,
        line: message.line,
        column: message.column,
        rule: message.ruleId ?? 'syntax',
        message: message.fatal ? `${message.message} (not ES2022 syntax)` : message.message,
        excerpt: text.slice(Math.max(0, at - 40), at + 60),
      });
    }
  }
  return { browsers, chunks: [...sources.keys()], findings };
}

function main(): void {
  const distDir = process.argv[2] ?? join(root, 'dist', 'client');
  const report = checkPhoneFloor(distDir);
  console.log(`phone floor: ${report.browsers.length} browser versions (package.json browserslist)`);
  console.log(`checked what a phone loads: ${report.chunks.join(', ')}`);
  for (const finding of report.findings) {
    console.log(`\n${finding.chunk}:${finding.line}:${finding.column} ${finding.rule}: ${finding.message}`);
    console.log(`  …${finding.excerpt}…`);
  }
  if (report.findings.length > 0) {
    console.error(`\n${report.findings.length} use(s) beyond the phones' floor (docs/testing.md, "The phones' floor")`);
    process.exit(1);
  }
  console.log('nothing beyond the floor');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();

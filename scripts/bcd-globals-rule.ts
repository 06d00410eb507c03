/**
 * An ESLint rule beside eslint-plugin-compat, on the installed @mdn/browser-compat-data: every
 * global a chunk reads (ESLint's scope analysis: references to no declaration of the chunk) that is a
 * JavaScript built-in or a Web API interface, and every static member of a built-in read off it
 * (`Promise.withResolvers`, `Object.groupBy`), must be in all the floor's browsers.
 * Why: eslint-plugin-compat's MDN data is a snapshot (ast-metadata-inferer's), which lacks what MDN
 * added since, e.g. Promise.withResolvers, Object.groupBy, Iterator, Float16Array. Members of
 * instances (`set.union()`) need types to be seen: client/tsconfig.json's `lib: ES2022` holds the
 * app's own code to them; APIs of objects (`navigator.wakeLock`) are eslint-plugin-compat's.
 */
import bcd from '@mdn/browser-compat-data' with { type: 'json' };
import type { Rule } from 'eslint';

type Support = {
  version_added: string | boolean | null;
  version_removed?: unknown;
  flags?: unknown;
  prefix?: unknown;
  alternative_name?: unknown;
};
type Feature = { __compat?: { support: Record<string, Support | Support[]>; spec_url?: string | string[] } };
type Tree = Record<string, Feature & Record<string, unknown>>;

/** browserslist's names → MDN's. */
const MDN_BROWSER: Record<string, string> = {
  ios_saf: 'safari_ios',
  safari: 'safari',
  chrome: 'chrome',
  and_chr: 'chrome_android',
  edge: 'edge',
  firefox: 'firefox',
  and_ff: 'firefox_android',
};

const toNumbers = (version: string) => version.replace('≤', '').split('.').map(Number);
const atLeast = (version: number[], floor: number[]) => {
  for (let i = 0; i < Math.max(version.length, floor.length); i++) {
    const difference = (version[i] ?? 0) - (floor[i] ?? 0);
    if (difference !== 0) return difference > 0;
  }
  return true;
};

/** The oldest version of each MDN browser in a browserslist result. */
export function floorVersions(browsers: readonly string[]): Map<string, number[]> {
  const floor = new Map<string, number[]>();
  for (const entry of browsers) {
    const [name = '', range = ''] = entry.split(' ');
    const mdn = MDN_BROWSER[name];
    if (!mdn) throw new Error(`browserslist names ${entry}, which MDN's data has no name for`);
    const version = toNumbers(range.split('-')[0] ?? '');
    const known = floor.get(mdn);
    if (!known || atLeast(known, version)) floor.set(mdn, version);
  }
  return floor;
}

/** The floor's browsers that lack a feature, as `safari_ios 15.4`; unknown support (null) counts as there. */
function lacking(feature: Feature, floor: Map<string, number[]>): string[] {
  const support = feature.__compat?.support;
  if (!support) return [];
  const missing: string[] = [];
  for (const [browser, version] of floor) {
    const statements = ([] as Support[]).concat(support[browser] ?? { version_added: null });
    const has = statements.some((statement) => {
      if (statement.flags || statement.prefix || statement.alternative_name) return false;
      const added = statement.version_added;
      if (added === null || added === true) return true;
      if (added === false || added === 'preview') return false;
      return atLeast(version, toNumbers(added)) && !statement.version_removed;
    });
    if (!has) missing.push(`${browser} ${version.join('.')}`);
  }
  return missing;
}

const builtins = bcd.javascript.builtins as unknown as Tree;
const interfaces = bcd.api as unknown as Tree;

/** A built-in's static member: its spec section is `sec-x.y`, not `sec-x.prototype.y`. */
const isStatic = (feature: Feature) =>
  ([] as string[]).concat(feature.__compat?.spec_url ?? []).some((url) => !/\.prototype\./i.test(url));

/** `allowed`: names (`OffscreenCanvas`, `Promise.withResolvers`) the code uses only after checking they exist. */
export function bcdGlobalsRule(browsers: readonly string[], allowed: readonly string[] = []): Rule.RuleModule {
  const floor = floorVersions(browsers);
  const allowedNames = new Set(allowed);
  return {
    meta: { type: 'problem', docs: { description: 'globals and built-ins beyond the floor, per MDN' }, schema: [] },
    create(context) {
      return {
        'Program:exit'(program) {
          const scope = context.sourceCode.getScope(program);
          // References no declaration answers, and those to the built-ins ESLint declares for ES2022.
          const builtinUses = scope.variables.filter((variable) => variable.defs.length === 0);
          for (const reference of [...scope.through, ...builtinUses.flatMap((variable) => variable.references)]) {
            const { name, parent } = reference.identifier as typeof reference.identifier & { parent: Rule.Node };
            const global = builtins[name] ?? interfaces[name];
            // `typeof X` is how code checks for X: it never throws.
            if (
              !global ||
              allowedNames.has(name) ||
              (parent.type === 'UnaryExpression' && parent.operator === 'typeof')
            ) {
              continue;
            }
            const missing = lacking(global, floor);
            if (missing.length > 0) {
              context.report({ node: reference.identifier, message: `${name} is not in ${missing.join(', ')} (MDN)` });
              continue;
            }
            const member = parent.type === 'MemberExpression' && !parent.computed ? parent.property : undefined;
            const memberName = member?.type === 'Identifier' ? member.name : undefined;
            const feature =
              memberName && builtins[name] ? (builtins[name][memberName] as Feature | undefined) : undefined;
            if (!feature?.__compat || !isStatic(feature) || allowedNames.has(`${name}.${memberName}`)) continue;
            const memberMissing = lacking(feature, floor);
            if (memberMissing.length > 0) {
              context.report({
                node: parent,
                message: `${name}.${memberName} is not in ${memberMissing.join(', ')} (MDN)`,
              });
            }
          }
        },
      };
    },
  };
}

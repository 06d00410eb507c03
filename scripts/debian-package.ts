/**
 * A program the tests need from Debian (Chromium, iproute2, nftables, python3): found, or installed
 * with apt-get when it is missing and we are root (CI), or an error that says how.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface DebianTool {
  /** What the tool is called in messages. */
  name: string;
  /** The package that brings it. */
  debianPackage: string;
  /** The tool's path if it is here, else null. */
  find(): string | null;
  /** What to tell a person when it cannot be installed here. */
  hint: string;
  /** Install the package's recommended packages too (default true; a browser's pull in a desktop). */
  recommends?: boolean;
}

export function ensureDebianTool({ name, debianPackage, find, hint, recommends = true }: DebianTool): string {
  const found = find();
  if (found) return found;
  if (process.getuid?.() !== 0 || !existsSync('/usr/bin/apt-get')) throw new Error(hint);
  console.log(`  ${name} not found: installing Debian’s ${debianPackage} package (once)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const extra = recommends ? [] : ['--no-install-recommends'];
  execFileSync('apt-get', ['install', '-y', '-qq', ...extra, debianPackage], { stdio: 'inherit', env });
  const installed = find();
  if (!installed) throw new Error(`apt-get installed ${debianPackage} but no ${name} was found.\n${hint}`);
  return installed;
}

/** The first of `paths` that exists, or null. */
export const firstExisting = (paths: readonly string[]): string | null =>
  paths.find((path) => existsSync(path)) ?? null;

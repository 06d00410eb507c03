/**
 * What the server keeps on disk, in one folder of its own (PADMESH_STATE_DIR): the token secret,
 * so that after a restart DAWs take their rooms back and controllers keep their peerIds (see
 * signal/tokens.ts), the ban table, so that a kick stays a ban across a restart (bans.ts), and
 * with --https the TLS key and certificate (signal/certificate.ts).
 *
 * The secret lets anyone who reads it forge any token, so the folder is 0700 and its files
 * 0600. A folder or file found with looser permissions is tightened when it is ours; when it
 * belongs to someone else, or is a symbolic link, the server refuses to use it and says why.
 */
import { chmodSync, lstatSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import type { BanRecord } from './bans.ts';
import type { BanStore } from './server.ts';
import { newSecret } from './tokens.ts';

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PADMESH_STATE_DIR) return env.PADMESH_STATE_DIR;
  const stateHome = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(stateHome, 'padmesh');
}

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/** Who we are (tests pretend to be someone else, to see a folder of another user refused). */
export interface Owner {
  uid?: number | undefined;
}
const thisProcess = (): Owner => ({ uid: process.getuid?.() });

/** The secret stored in `dir`, created (mode 0600, in a 0700 folder) if missing. Throws when it cannot be kept safely. */
export function loadOrCreateSecret(dir: string, owner: Owner = thisProcess()): string {
  const file = join(dir, 'token-secret');
  ensurePrivateDir(dir, owner);
  if (checkPrivate(file, 'file', owner)) {
    const stored = readFileSync(file, 'utf8').trim();
    if (stored.length >= 16) return stored;
  }
  const secret = newSecret();
  writePrivate(file, `${secret}\n`);
  return secret;
}

/** The ban table kept in `dir`/bans.json (the folder made private if it is not). */
export function fileBanStore(dir: string, owner: Owner = thisProcess()): BanStore {
  const file = join(dir, 'bans.json');
  return {
    load() {
      ensurePrivateDir(dir, owner);
      if (!checkPrivate(file, 'file', owner)) return [];
      return JSON.parse(readFileSync(file, 'utf8')) as unknown;
    },
    save(records: BanRecord[]) {
      ensurePrivateDir(dir, owner);
      writePrivate(file, `${JSON.stringify(records)}\n`);
    },
  };
}

/** The text of `dir`/`name`, or null when there is none (the folder made private if it is not). */
export function readPrivateFile(dir: string, name: string, owner: Owner = thisProcess()): string | null {
  const file = join(dir, name);
  ensurePrivateDir(dir, owner);
  return checkPrivate(file, 'file', owner) ? readFileSync(file, 'utf8') : null;
}

/** Writes `dir`/`name` whole or not at all, readable by us only. */
export function writePrivateFile(dir: string, name: string, text: string, owner: Owner = thisProcess()): void {
  ensurePrivateDir(dir, owner);
  writePrivate(join(dir, name), text);
}

function ensurePrivateDir(dir: string, owner: Owner): void {
  if (!checkPrivate(dir, 'dir', owner)) mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  checkPrivate(dir, 'dir', owner);
}

/** Written whole or not at all (a crash mid-write leaves the old file), private from the start. */
function writePrivate(file: string, text: string): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, text, { mode: FILE_MODE });
  chmodSync(temporary, FILE_MODE); // an existing temporary file keeps its mode otherwise
  renameSync(temporary, file);
}

/**
 * Whether `path` exists; if it does, makes sure only we can read it: tightens its permissions
 * when it is ours, throws (saying how to fix it) when it is not, or is not what it should be.
 */
function checkPrivate(path: string, kind: 'dir' | 'file', owner: Owner): boolean {
  let stat: ReturnType<typeof lstatSync>;
  try {
    stat = lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  if (stat.isSymbolicLink()) {
    throw new Error(`${path} is a symbolic link; padmesh keeps its secret only in a real ${kind}. Remove it.`);
  }
  if (kind === 'dir' ? !stat.isDirectory() : !stat.isFile()) {
    throw new Error(`${path} is not a ${kind === 'dir' ? 'folder' : 'regular file'}. Remove it.`);
  }
  if ((stat.mode & 0o077) === 0) return true;
  const { uid } = owner;
  if (uid !== undefined && stat.uid !== uid) {
    throw new Error(
      `${path} can be read by other users and belongs to user ${stat.uid}, not this one (${uid}): ` +
        `fix it with \`chmod ${(kind === 'dir' ? DIR_MODE : FILE_MODE).toString(8)} ${path}\` as its owner, ` +
        'or set PADMESH_STATE_DIR to a folder of your own.',
    );
  }
  chmodSync(path, kind === 'dir' ? DIR_MODE : FILE_MODE);
  return true;
}

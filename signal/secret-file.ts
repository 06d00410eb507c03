/**
 * Keeps the token secret in a file, so that after a restart of the server DAWs take their
 * rooms back and controllers keep their peerIds (see signal/tokens.ts).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { newSecret } from './tokens.ts';

export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PADMESH_STATE_DIR) return env.PADMESH_STATE_DIR;
  const stateHome = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(stateHome, 'padmesh');
}

/** The secret stored in `dir`, created (mode 0600) if missing. Throws when the folder is not writable. */
export function loadOrCreateSecret(dir: string): string {
  const file = join(dir, 'token-secret');
  try {
    const stored = readFileSync(file, 'utf8').trim();
    if (stored.length >= 16) return stored;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const secret = newSecret();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** Starts a benchmark server script (bench/servers/*.ts) in a Node process of its own and waits for its port. */
import type { ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { killChild, spawnWithPort } from '../../tests/helpers/child-server.ts';

const here = dirname(fileURLToPath(import.meta.url));

/** `script` (a file in bench/servers/) run with `env` added; resolves once it prints `{"port":N}`. */
export const spawnServer = (script: string, env: Record<string, string>) =>
  spawnWithPort(join(here, script), env, 30_000);

/** Kills a server started by spawnServer and waits for it to go. */
export const stopServer = (child: ChildProcess): Promise<void> => killChild(child);

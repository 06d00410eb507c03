/**
 * `npm start`: builds the web app when dist/client is missing or older than its sources,
 * then runs the server (signal/main.ts).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Everything the client build reads. */
const BUILD_INPUTS = ['client', 'signal/protocol.ts', 'vite.config.ts', 'package.json', 'package-lock.json'];

function newestMtime(path: string): number {
  if (!existsSync(path)) return 0;
  const stats = statSync(path);
  if (!stats.isDirectory()) return stats.mtimeMs;
  let newest = stats.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

export function clientBuildIsStale(projectRoot: string): boolean {
  const built = join(projectRoot, 'dist', 'client', 'index.html');
  if (!existsSync(built)) return true;
  const builtAt = statSync(built).mtimeMs;
  return BUILD_INPUTS.some((input) => newestMtime(join(projectRoot, input)) > builtAt);
}

if (clientBuildIsStale(root)) {
  console.log('  Building the web app (dist/client is missing or stale)…');
  const { build } = await import('vite');
  await build({ root, configFile: join(root, 'vite.config.ts'), logLevel: 'warn' });
}
await import('./main.ts');

/**
 * `npm start`: builds the web app when dist/client is missing or stale, then runs the
 * server (signal/main.ts, which reads the flags).
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { clientBuildIsStale } from './client-build.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

if (clientBuildIsStale(root)) {
  console.log('  Building the web app (dist/client is missing or older than its sources)…');
  const { build } = await import('vite');
  await build({ configFile: join(root, 'vite.config.ts'), logLevel: 'warn' });
}
await import('../signal/main.ts');

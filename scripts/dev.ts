/**
 * `npm run dev`: the signal server (restarted on change) and Vite's dev server with hot
 * reload, which proxies /ws and /api to it. Open the URL Vite prints; phones can use its
 * Network URL. The signal server trusts the proxy's X-Forwarded-For (--trust-proxy), so every
 * phone keeps its own address for per-address limits and bans instead of sharing Vite's.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name: string) => join(root, 'node_modules', '.bin', name);
const port = process.env.PORT ?? '8080';

const children: ChildProcess[] = [
  spawn(bin('tsx'), ['watch', 'signal/main.ts', '--port', port, '--trust-proxy'], {
    cwd: root,
    stdio: 'inherit',
    env: process.env,
  }),
  spawn(bin('vite'), [], { cwd: root, stdio: 'inherit', env: { ...process.env, PORT: port } }),
];

let stopping = false;
const stop = (code: number) => {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  process.exitCode = code;
};
for (const child of children) child.on('exit', (code) => stop(code ?? 0));
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

/**
 * A small test page (a folder with index.html and its module) built with Vite into a temporary
 * folder and served from 127.0.0.1 on an ephemeral port, cross-origin isolated like the DAW page
 * (COOP + COEP, as signal/static.ts sends them).
 */
import { readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { build } from 'vite';

export interface ServedPage {
  url: string;
  close(): Promise<void>;
}

export async function buildAndServe(pageDir: string): Promise<ServedPage> {
  const outDir = join(tmpdir(), `padmesh-${basename(pageDir)}-${process.pid}`);
  await build({
    configFile: false,
    root: pageDir,
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true, target: 'es2022' },
  });
  const server = createServer(async (req, res) => {
    const name = (req.url ?? '/').split('?')[0] === '/' ? 'index.html' : (req.url ?? '').slice(1).split('?')[0];
    if (name === undefined || name.includes('..')) return void res.writeHead(404).end();
    try {
      const body = await readFile(join(outDir, name));
      res
        .writeHead(200, {
          'Content-Type': name.endsWith('.js') ? 'text/javascript' : 'text/html',
          'Cross-Origin-Opener-Policy': 'same-origin',
          'Cross-Origin-Embedder-Policy': 'require-corp',
        })
        .end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await rm(outDir, { recursive: true, force: true });
    },
  };
}

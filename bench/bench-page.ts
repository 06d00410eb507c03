/**
 * A benchmark's own page (bench/pages/<name>.html): built for production (as the DAW's chunk is)
 * into a folder of its own, and served on 127.0.0.1 cross-origin isolated, so it has
 * SharedArrayBuffer and 5 µs timers like the DAW on localhost.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BrowserContextOptions, Page } from 'playwright-core';
import { build } from 'vite';
import { launchChromium } from '../tests/helpers/browser.ts';
import { WEBRTC_ARGS } from '../tests/helpers/jam.ts';

const PAGES = join(dirname(fileURLToPath(import.meta.url)), 'pages');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
};

/** Builds bench/pages/`html` into `outDir` (emptied first). */
export async function buildBenchPage(outDir: string, html: string): Promise<void> {
  await build({
    configFile: false,
    root: PAGES,
    logLevel: 'warn',
    build: { outDir, emptyOutDir: true, target: 'es2022', rollupOptions: { input: join(PAGES, html) } },
  });
}

/** Serves `outDir` on 127.0.0.1 (a free port), `html` at `/`, cross-origin isolated; nothing outside it. */
export async function serveBenchPage(outDir: string, html: string): Promise<Server> {
  const server = createServer((req, res) => {
    const path = normalize((req.url ?? '/').split('?')[0] ?? '/');
    const file = join(outDir, path === '/' ? html : path);
    let body: Buffer;
    try {
      if (!file.startsWith(outDir)) throw new Error('outside');
      body = readFileSync(file);
    } catch {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, {
      'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
      'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp',
    });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

/** Opens the served page in `page` and waits until its harness says it is ready (or throws its error). */
export async function openHarness(page: Page, server: Server): Promise<void> {
  await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
  await page.waitForFunction(
    () => {
      const w = window as unknown as { harness?: { ready: boolean }; harnessError?: string };
      if (w.harnessError) throw new Error(w.harnessError);
      return w.harness?.ready === true;
    },
    null,
    { timeout: 60_000 },
  );
}

/**
 * Builds and serves bench/pages/`html`, opens it in a fresh Chromium (`context`: e.g. the
 * microphone permission for loopback ICE), waits for its harness, and runs `use` with the page and
 * the page's errors so far; the browser and the server are closed whatever happens.
 */
export async function withBenchPage<T>(
  outDir: string,
  html: string,
  use: (page: Page, errors: string[]) => Promise<T>,
  context: BrowserContextOptions = {},
): Promise<T> {
  await buildBenchPage(outDir, html);
  const server = await serveBenchPage(outDir, html);
  const browser = await launchChromium(WEBRTC_ARGS);
  try {
    const page = await (await browser.newContext(context)).newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await openHarness(page, server);
    return await use(page, errors);
  } finally {
    await browser.close();
    await new Promise((resolve) => server.close(resolve));
  }
}

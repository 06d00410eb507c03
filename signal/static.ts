/**
 * Serves the built web app: sirv's prebuilt file index (so no path can reach outside the
 * folder), MIME types from mrmime, SPA fallback for extension-less paths only, the build's
 * Brotli/gzip copies to browsers that accept them (scripts/precompress.ts), and caching that
 * suits Vite's output (hashed /assets/ forever, everything else revalidated).
 *
 * Every page is cross-origin isolated (COOP + COEP; the app loads nothing from other
 * origins): where the browser honours it (a secure context, so the DAW on localhost), timers
 * read to 5 µs instead of 100, which steady mode's scheduling and the timing figures use.
 */
import { existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import sirv from 'sirv';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>padmesh</title>
<p>The padmesh web app has not been built yet. Run <code>npm run build</code>
(<code>npm start</code> does it for you) and reload.</p>`;

export function createStaticHandler(dir: string | null): RequestHandler {
  if (dir === null || !existsSync(join(dir, 'index.html'))) {
    return (_req, res) => {
      res.writeHead(503, { 'Content-Type': 'text/html;charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(NOT_BUILT);
    };
  }
  return sirv(dir, {
    single: true,
    etag: true,
    gzip: true,
    brotli: true,
    setHeaders(res, pathname) {
      res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
      res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
      res.setHeader(
        'Cache-Control',
        pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
}

/**
 * Serves the built web app: sirv's prebuilt file index (so no path can reach outside the
 * folder), MIME types from mrmime, SPA fallback for extension-less paths only, and caching
 * that suits Vite's output (hashed /assets/ forever, everything else revalidated).
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
      res.setHeader(
        'Cache-Control',
        pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
}

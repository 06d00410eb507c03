/**
 * Serves the built web app from memory. The whole build (~650 KB with its Brotli and gzip
 * copies) is read once when the server starts, so a request never opens a file: no file
 * descriptor per request (a few hundred idle connections cannot make page loads fail with
 * EMFILE), no read stream whose error could end the process, and one consistent build for the
 * server's lifetime (rebuilding the client while it runs, or a second `npm start` that rebuilds
 * and then finds the port taken, cannot make an old page's hashed assets vanish: they are kept
 * until a restart). sirv, which this replaces, streamed every file from disk and left those
 * streams' errors unhandled.
 *
 * What it does: MIME types from mrmime; the SPA fallback (index.html) for extension-less
 * paths only; the build's Brotli/gzip copies (scripts/precompress.ts) to browsers that accept
 * them; ETags and 304s; caching that suits Vite's output (hashed /assets/ forever, everything
 * else revalidated); no path outside the folder (only the files read at start exist).
 *
 * Headers: cross-origin isolation (COOP + COEP) on pages that are a secure context, the DAW on
 * localhost (timers read to 5 µs instead of 100, SharedArrayBuffer for the sound engine), and not
 * on http://<lan-ip>, where browsers ignore it with a console error; on every page a
 * Content-Security-Policy: scripts, styles, workers and connections from this server only, no
 * framing (the pages cannot be clickjacked into playing or kicking). The one inline script the
 * build puts in index.html (scripts/inline-script.ts) is allowed by its hash, read off the build.
 */
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join, relative, sep } from 'node:path';
import { lookup } from 'mrmime';
import { isLoopbackHost } from './hosts.ts';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>padmesh</title>
<p>The padmesh web app has not been built yet. Run <code>npm run build</code>
(<code>npm start</code> does it for you) and reload.</p>`;

/** A build bigger than this is not a padmesh build (and would not belong in memory). */
const MAX_BUILD_BYTES = 64 * 1024 * 1024;

interface Asset {
  body: Buffer;
  br: Buffer | undefined;
  gzip: Buffer | undefined;
  type: string;
  etag: string;
  cacheControl: string;
}

/**
 * The policy every page gets. `connect-src` names the socket's origin explicitly (ws:// of the
 * Host the page was loaded from): older Safari does not count ws: as 'self'. Tone.js runs its
 * clock in a Worker made from a blob: URL. `scriptHashes`: the build's inline scripts, and no others.
 */
export function contentSecurityPolicy(host: string, scriptHashes: readonly string[] = []): string {
  return [
    "default-src 'self'",
    ...(scriptHashes.length === 0 ? [] : [`script-src 'self' ${scriptHashes.map((hash) => `'${hash}'`).join(' ')}`]),
    `connect-src 'self' ws://${host} wss://${host}`,
    "worker-src 'self' blob:",
    "img-src 'self' data: blob:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The text of each inline script of `html` (a `<script>` without `src`). */
export function inlineScripts(html: string): string[] {
  return [...html.matchAll(/<script(?![^>]*\ssrc=)[^>]*>([\s\S]*?)<\/script>/gi)].map((match) => match[1] as string);
}

/** `sha256-…` of each inline script of `html`, as a CSP source names it. */
export const inlineScriptHashes = (html: string): string[] =>
  inlineScripts(html).map((script) => `sha256-${createHash('sha256').update(script, 'utf8').digest('base64')}`);

/**
 * The handler for the built app in `dir` (read now), or one that says how to build it. `host`
 * is the request's Host header, already checked by the caller (signal/hosts.ts).
 */
export function createStaticHandler(dir: string | null): RequestHandler {
  const assets = dir === null ? null : readBuild(dir);
  const index = assets?.get('/index.html');
  if (!assets || !index) {
    return (_req, res) => {
      res.writeHead(503, { 'Content-Type': 'text/html;charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(NOT_BUILT);
    };
  }
  const scriptHashes = inlineScriptHashes(index.body.toString('utf8'));
  return (req, res) => {
    const path = decodedPath(req.url ?? '/');
    if (path === null) {
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end('bad path\n');
      return;
    }
    const asset = assets.get(path === '/' ? '/index.html' : path) ?? (hasExtension(path) ? undefined : index);
    if (asset === undefined) {
      res.writeHead(404, { 'Content-Type': 'text/plain', 'Cache-Control': 'no-cache' }).end('not found\n');
      return;
    }
    send(req, res, asset, scriptHashes);
  };
}

function send(req: IncomingMessage, res: ServerResponse, asset: Asset, scriptHashes: readonly string[]): void {
  // Isolation only where it takes effect: a page on plain http://<lan-ip> is not a secure
  // context, the browser ignores COOP there and logs an error in every phone's console.
  if (isLoopbackHost(req.headers.host) || (req.socket as { encrypted?: boolean }).encrypted === true) {
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
  }
  res.setHeader('Content-Security-Policy', contentSecurityPolicy(req.headers.host ?? '', scriptHashes));
  res.setHeader('Cache-Control', asset.cacheControl);
  res.setHeader('ETag', asset.etag);
  res.setHeader('Vary', 'Accept-Encoding');
  res.setHeader('Content-Type', asset.type);
  if (req.headers['if-none-match'] === asset.etag) {
    res.writeHead(304).end();
    return;
  }
  const accepted = req.headers['accept-encoding'] ?? '';
  let body = asset.body;
  if (asset.br !== undefined && /\bbr\b/.test(accepted)) {
    body = asset.br;
    res.setHeader('Content-Encoding', 'br');
  } else if (asset.gzip !== undefined && /\bgzip\b/.test(accepted)) {
    body = asset.gzip;
    res.setHeader('Content-Encoding', 'gzip');
  }
  res.setHeader('Content-Length', body.length);
  res.writeHead(200);
  res.end(req.method === 'HEAD' ? undefined : body);
}

/**
 * `/a/b%20c?x` → `/a/b c`; null for a path that tries to climb out. A malformed escape (a link
 * or QR code cut short: `/join/%`) stays as it is: no file has such a name, so an app route gets
 * the app, which says the code is not one.
 */
function decodedPath(url: string): string | null {
  const raw = url.split('?', 1)[0] as string;
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    path = raw;
  }
  if (!path.startsWith('/') || path.includes('\\') || path.includes('\0') || /(^|\/)\.\.(\/|$)/.test(path)) {
    return null;
  }
  return path;
}

const hasExtension = (path: string): boolean => /\.[^/]*$/.test(path);

/** Every regular file under `dir`, by URL path, with its precompressed copies; null if it holds no build. */
function readBuild(dir: string): Map<string, Asset> | null {
  if (!existsSync(join(dir, 'index.html'))) return null;
  const files = new Map<string, Buffer>();
  let total = 0;
  const walk = (folder: string): void => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      const stat = lstatSync(path); // symlinks are not followed: nothing outside the folder
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile()) {
        total += stat.size;
        if (total > MAX_BUILD_BYTES) throw new Error(`${dir} holds more than ${MAX_BUILD_BYTES} bytes: not a build`);
        files.set(`/${relative(dir, path).split(sep).join('/')}`, readFileSync(path));
      }
    }
  };
  walk(dir);
  const assets = new Map<string, Asset>();
  for (const [path, body] of files) {
    if (/\.(br|gz)$/.test(path) && files.has(path.slice(0, -3))) continue; // a copy, served with its original
    assets.set(path, {
      body,
      br: files.get(`${path}.br`),
      gzip: files.get(`${path}.gz`),
      type: contentType(path),
      etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"`,
      cacheControl: path.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    });
  }
  return assets;
}

function contentType(path: string): string {
  const type = lookup(path) ?? 'application/octet-stream';
  return /^text\/|javascript|json|svg|manifest/.test(type) ? `${type};charset=utf-8` : type;
}

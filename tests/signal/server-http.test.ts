/** The HTTP side: the built app (MIME types, SPA fallback, no traversal), /healthz, and who may upgrade. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { precompressDir } from '../../scripts/precompress.ts';
import { Harness, TestClient } from '../helpers/clients.ts';

let app: string;
let harness: Harness;

beforeAll(() => {
  app = mkdtempSync(join(tmpdir(), 'padmesh-static-'));
  mkdirSync(join(app, 'assets'));
  writeFileSync(join(app, 'index.html'), '<!doctype html><title>padmesh</title>');
  writeFileSync(join(app, 'assets', 'index-abc123.js'), 'console.log(1)');
  writeFileSync(join(app, 'assets', 'index-abc123.css'), 'body{}');
  writeFileSync(join(app, 'icon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');
  writeFileSync(join(app, 'manifest.webmanifest'), '{}');
  writeFileSync(join(app, '..', 'padmesh-secret.txt'), 'do not serve me');
});

afterAll(() => {
  rmSync(app, { recursive: true, force: true });
  rmSync(join(app, '..', 'padmesh-secret.txt'), { force: true });
});

afterEach(async () => {
  await harness.stop();
});

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A raw request, so paths like /../x reach the server unnormalised. */
function get(path: string, method = 'GET', headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: harness.server.port, path, method, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.setTimeout(3000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}

describe('the web app', () => {
  it('is served with the right MIME types and caching', async () => {
    harness = await Harness.start({ staticDir: app });
    const cases: [string, RegExp][] = [
      ['/', /^text\/html/],
      ['/assets/index-abc123.js', /^text\/javascript|^application\/javascript/],
      ['/assets/index-abc123.css', /^text\/css/],
      ['/icon.svg', /^image\/svg\+xml/],
      ['/manifest.webmanifest', /^application\/manifest\+json/],
    ];
    for (const [path, type] of cases) {
      const reply = await get(path);
      expect(reply.status, path).toBe(200);
      expect(reply.headers['content-type'], path).toMatch(type);
      expect(reply.headers['x-content-type-options']).toBe('nosniff');
    }
    expect((await get('/assets/index-abc123.js')).headers['cache-control']).toContain('immutable');
    expect((await get('/')).headers['cache-control']).toBe('no-cache');
  });

  it('sends the build’s Brotli or gzip copy to a browser that takes it, and isolates every page', async () => {
    const big = `console.log(${JSON.stringify('x'.repeat(4000))});`;
    writeFileSync(join(app, 'assets', 'big-def456.js'), big);
    precompressDir(app);
    harness = await Harness.start({ staticDir: app });
    const br = await get('/assets/big-def456.js', 'GET', { 'Accept-Encoding': 'gzip, deflate, br' });
    expect(br.headers['content-encoding']).toBe('br');
    expect(Number(br.headers['content-length'])).toBeLessThan(big.length / 10);
    const gz = await get('/assets/big-def456.js', 'GET', { 'Accept-Encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    const plain = await get('/assets/big-def456.js');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(big);
    for (const path of ['/', '/daw', '/assets/big-def456.js']) {
      const reply = await get(path);
      expect(reply.headers['cross-origin-opener-policy'], path).toBe('same-origin');
      expect(reply.headers['cross-origin-embedder-policy'], path).toBe('require-corp');
    }
  });

  it('isolates pages only where they are a secure context (loopback), not on http://<lan-name>', async () => {
    harness = await Harness.start({ staticDir: app, allowedHosts: ['laptop.lan', '192.0.2.7'] });
    for (const host of ['localhost:8080', '127.0.0.1', '[::1]:8080', 'daw.localhost']) {
      const reply = await get('/daw', 'GET', { Host: host });
      expect(reply.status, host).toBe(200);
      expect(reply.headers['cross-origin-opener-policy'], host).toBe('same-origin');
      expect(reply.headers['cross-origin-embedder-policy'], host).toBe('require-corp');
    }
    for (const host of ['laptop.lan:8080', '192.0.2.7']) {
      const reply = await get('/join/ACDEF3', 'GET', { Host: host });
      expect(reply.status, host).toBe(200);
      expect(reply.headers['cross-origin-opener-policy'], host).toBeUndefined();
      expect(reply.headers['cross-origin-embedder-policy'], host).toBeUndefined();
      expect(reply.headers['content-security-policy'], host).toContain("default-src 'self'");
    }
  });

  it('falls back to index.html for app routes, not for missing files', async () => {
    harness = await Harness.start({ staticDir: app });
    for (const path of ['/daw', '/join', '/join/ACDEF3', '/join/ACDEF3?name=x']) {
      const reply = await get(path);
      expect(reply.status, path).toBe(200);
      expect(reply.body).toContain('<title>padmesh</title>');
    }
    expect((await get('/assets/missing-000.js')).status).toBe(404);
    expect((await get('/favicon.ico')).status).toBe(404);
  });

  it('never serves a file outside its folder', async () => {
    harness = await Harness.start({ staticDir: app });
    for (const path of [
      '/../padmesh-secret.txt',
      '/%2e%2e/padmesh-secret.txt',
      '/assets/..%2f..%2fpadmesh-secret.txt',
      '/..%5cpadmesh-secret.txt',
      '/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    ]) {
      const reply = await get(path);
      expect(reply.body, path).not.toContain('do not serve me');
      expect(reply.body, path).not.toContain('root:');
    }
  });

  it('answers HEAD, refuses other methods with 405', async () => {
    harness = await Harness.start({ staticDir: app });
    const head = await get('/', 'HEAD');
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    const post = await get('/', 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD');
  });

  it('says how to build it when it is not built', async () => {
    harness = await Harness.start({ staticDir: join(app, 'nowhere') });
    const reply = await get('/daw');
    expect(reply.status).toBe(503);
    expect(reply.body).toContain('npm run build');
  });
});

describe('/healthz', () => {
  it('reports status and counts', async () => {
    harness = await Harness.start();
    await harness.room(2);
    const reply = await get('/healthz');
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe('application/json');
    expect(JSON.parse(reply.body)).toMatchObject({ status: 'ok', protocol: 1, connections: 3, rooms: 1, members: 3 });
  });
});

describe('/api/lan', () => {
  it('tells the DAW page the addresses phones can reach the server at', async () => {
    harness = await Harness.start();
    const reply = await get('/api/lan');
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ hosts: ['127.0.0.1'], httpsPort: null });
  });
});

describe('the WebSocket endpoint', () => {
  it('answers a plain GET with 426', async () => {
    harness = await Harness.start();
    expect((await get('/ws')).status).toBe(426);
  });

  it('refuses upgrades on other paths (404) and from other sites (403)', async () => {
    harness = await Harness.start();
    const port = harness.server.port;
    await expect(TestClient.open(`ws://127.0.0.1:${port}/other`)).rejects.toThrow('404');
    await expect(TestClient.open(harness.url, { origin: 'http://evil.example' })).rejects.toThrow('403');
    await expect(TestClient.open(harness.url, { origin: 'not a url' })).rejects.toThrow('403');
    const sameSite = await TestClient.open(harness.url, { origin: `http://127.0.0.1:${port}` });
    sameSite.close();
  });

  it('accepts origins it was told to allow (the Vite dev server)', async () => {
    harness = await Harness.start({ allowedOrigins: ['http://localhost:5173'] });
    const client = await TestClient.open(harness.url, { origin: 'http://localhost:5173' });
    client.close();
  });

  it('refuses upgrades past maxConnections with 503', async () => {
    harness = await Harness.start({ limits: { maxConnections: 2 } });
    await harness.open();
    await harness.open();
    await expect(TestClient.open(harness.url)).rejects.toThrow('503');
  });

  it('gives back the place of a handshake ws refused, and of a socket that closed', async () => {
    harness = await Harness.start({ limits: { maxConnections: 1 } });
    // A bad Sec-WebSocket-Key: ws answers 400 and the accept callback never runs.
    const reply = await get('/ws', 'GET', {
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': 'not a key',
    });
    expect(reply.status).toBe(400);
    // Its socket closes on the server a moment after the reply: then the one place is free again.
    const opened: TestClient[] = [];
    await expect
      .poll(async () => {
        const client = await TestClient.open(harness.url).catch(() => null);
        if (client) opened.push(client);
        return opened.length;
      })
      .toBe(1);
    const [first] = opened;
    if (!first) throw new Error('one client');
    expect(harness.server.stats().connections).toBe(1);
    await expect(TestClient.open(harness.url)).rejects.toThrow('503');
    first.close();
    await first.closedWithin();
    await expect.poll(() => harness.server.stats().connections).toBe(0);
    (await harness.open()).close();
  });
});

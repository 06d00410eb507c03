/**
 * The HTTPS listener (`npm start -- --https`): the same app, socket, Host allowlist and budgets
 * as plain http, on a port of its own beside it; and hostile input on the TLS port (garbage, plain
 * http, handshakes that go nowhere) ends only that connection.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { certificateNames, makeCertificate } from '../../signal/certificate.ts';
import { createSignalServer, type SignalServer, type SignalServerOptions } from '../../signal/server.ts';
import { joinMessage, WAIT_MS } from '../helpers/clients.ts';

const PHONE_NAME = 'phone.padmesh.test';
let app: string;
let certificate: { key: string; cert: string };
let server: SignalServer | undefined;
const warnings: string[] = [];
const internalErrors: unknown[] = [];
const sockets: { destroy(): void }[] = [];
let blocker: TcpServer | undefined;

beforeAll(async () => {
  app = mkdtempSync(join(tmpdir(), 'padmesh-https-'));
  writeFileSync(join(app, 'index.html'), '<!doctype html><title>padmesh</title>');
  certificate = await makeCertificate(certificateNames([], 'padmesh-test'), new Date());
});
afterAll(() => rmSync(app, { recursive: true, force: true }));
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await server?.close();
  server = undefined;
  await new Promise<void>((resolve) => (blocker ? blocker.close(() => resolve()) : resolve()));
  blocker = undefined;
  // Nothing that came over the network may be a bug or a warning of ours.
  expect(internalErrors.splice(0)).toEqual([]);
  expect(warnings.splice(0)).toEqual([]);
});

async function start(options: SignalServerOptions = {}): Promise<{ port: number; httpsPort: number }> {
  server = await createSignalServer({
    host: '127.0.0.1',
    port: 0,
    staticDir: app,
    allowedHosts: [PHONE_NAME],
    https: { port: 0, ...certificate },
    onWarning: (message) => warnings.push(message),
    onInternalError: (error) => internalErrors.push(error),
    ...options,
  });
  return { port: server.port, httpsPort: server.httpsPort as number };
}

interface Reply {
  status: number | string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** A GET over TLS that trusts only our certificate (as a phone does once it accepted it), or plain http. */
function get(
  tls: boolean,
  port: number,
  path: string,
  headers: Record<string, string> = {},
  ca = certificate.cert,
): Promise<Reply> {
  return new Promise((resolve) => {
    // SNI and the name checked: localhost (the certificate names it), whatever Host is sent.
    const options = { host: '127.0.0.1', port, path, headers, ca, servername: 'localhost', agent: false };
    const done = (res: import('node:http').IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    };
    const req = tls ? httpsRequest(options, done) : httpRequest(options, done);
    req.setTimeout(WAIT_MS, () => req.destroy(new Error('timed out')));
    req.on('error', (error: NodeJS.ErrnoException) =>
      resolve({ status: error.code ?? error.message, headers: {}, body: '' }),
    );
    req.end();
  });
}

/** Sends `bytes` on a raw TCP connection; resolves with what came back once the server closed it. */
function rawExchange(port: number, bytes: Buffer | string): Promise<{ received: Buffer; closed: true }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    sockets.push(socket);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => {});
    socket.once('connect', () => socket.write(bytes));
    socket.once('close', () => resolve({ received: Buffer.concat(chunks), closed: true }));
    setTimeout(() => reject(new Error('the server did not close the connection')), WAIT_MS).unref();
  });
}

/** Opens the socket over wss (trusting our certificate), sends a join, resolves with the first message. */
function joinOverWss(httpsPort: number, host: string, join: object): Promise<{ ws: WebSocket; first: unknown }> {
  return new Promise((resolve, reject) => {
    // Passed on to https.request (SNI and the name checked: localhost, whatever Host is sent).
    const tlsOptions = { ca: certificate.cert, servername: 'localhost' };
    const ws = new WebSocket(`wss://127.0.0.1:${httpsPort}/ws`, {
      ...tlsOptions,
      headers: { Host: host },
      origin: `https://${host}`,
    });
    sockets.push({ destroy: () => ws.terminate() });
    ws.once('open', () => ws.send(JSON.stringify(join)));
    ws.once('message', (data) => resolve({ ws, first: JSON.parse(String(data)) }));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused: ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

describe('the HTTPS listener', () => {
  it('serves the app over TLS beside plain http, cross-origin isolated where that takes effect', async () => {
    const { port, httpsPort } = await start();
    expect(httpsPort).not.toBe(port);
    const secure = await get(true, httpsPort, '/join/ABCDEF', { Host: `${PHONE_NAME}:${httpsPort}` });
    expect(secure.status).toBe(200);
    expect(secure.body).toContain('<title>padmesh</title>');
    // Over TLS a phone's page is a secure context: isolation takes effect there.
    expect(secure.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(secure.headers['cross-origin-embedder-policy']).toBe('require-corp');
    expect(secure.headers['content-security-policy']).toContain(`wss://${PHONE_NAME}:${httpsPort}`);
    // The same phone on plain http: no isolation headers (ignored there, with a console error).
    const plain = await get(false, port, '/join/ABCDEF', { Host: `${PHONE_NAME}:${port}` });
    expect(plain.status).toBe(200);
    expect(plain.headers['cross-origin-opener-policy']).toBeUndefined();
    // The DAW on localhost http stays isolated.
    expect((await get(false, port, '/daw', { Host: `localhost:${port}` })).headers['cross-origin-opener-policy']).toBe(
      'same-origin',
    );
    expect((await get(true, httpsPort, '/healthz')).status).toBe(200);
  });

  it('tells the DAW page (on this laptop) its port; without --https, null', async () => {
    const { port, httpsPort } = await start();
    const lan = await get(false, port, '/api/lan');
    expect(JSON.parse(lan.body)).toMatchObject({ httpsPort });
    await server?.close();
    server = await createSignalServer({ host: '127.0.0.1', port: 0, staticDir: app });
    expect(server.httpsPort).toBeNull();
    expect(JSON.parse((await get(false, server.port, '/api/lan')).body)).toMatchObject({ httpsPort: null });
  });

  it('takes a new certificate while running: new connections get it', async () => {
    const { httpsPort } = await start();
    expect((await get(true, httpsPort, '/healthz')).status).toBe(200);
    const next = await makeCertificate(certificateNames(['172.20.10.2'], 'padmesh-test'), new Date());
    server?.setCertificate(next.key, next.cert);
    expect((await get(true, httpsPort, '/healthz', {}, next.cert)).status).toBe(200);
    expect((await get(true, httpsPort, '/healthz')).status).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
  });

  it('answers only to this machine’s names, on every route and the upgrade (DNS rebinding)', async () => {
    const { httpsPort } = await start();
    const page = await get(true, httpsPort, '/', { Host: `evil.example:${httpsPort}` });
    expect(page.status).toBe(403);
    expect(page.body).toContain('HOST_NOT_ALLOWED');
    await expect(joinOverWss(httpsPort, `evil.example:${httpsPort}`, joinMessage({ role: 'daw' }))).rejects.toThrow(
      'refused: 403',
    );
  });

  it('carries the signaling socket over wss, in the same rooms as plain ws', async () => {
    const { port, httpsPort } = await start();
    // The DAW on plain http (localhost), the phone over TLS.
    const daw = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    sockets.push({ destroy: () => daw.terminate() });
    const dawMessages: { type: string; room?: string; data?: unknown }[] = [];
    daw.on('message', (data) => dawMessages.push(JSON.parse(String(data))));
    await new Promise((resolve) => daw.once('open', resolve));
    daw.send(JSON.stringify(joinMessage({ role: 'daw' })));
    await expect.poll(() => dawMessages.find((m) => m.type === 'welcome'), { timeout: WAIT_MS }).toBeTruthy();
    const room = dawMessages.find((m) => m.type === 'welcome')?.room as string;
    const { ws: phone, first } = await joinOverWss(
      httpsPort,
      `${PHONE_NAME}:${httpsPort}`,
      joinMessage({ role: 'controller', room, name: 'Ana' }),
    );
    expect(first).toMatchObject({ type: 'welcome', room, iceServers: [] });
    phone.send(JSON.stringify({ type: 'relay', data: 'hit over wss' }));
    await expect
      .poll(() => dawMessages.find((m) => m.type === 'relay')?.data, { timeout: WAIT_MS })
      .toBe('hit over wss');
  });

  it('ends only the connection that sends garbage, plain http or a stalled handshake; the rest go on', async () => {
    const { port, httpsPort } = await start({ limits: { idleConnectionMs: 500 } });
    // Not TLS at all: random bytes, then a plain http request on the TLS port.
    const garbage = Buffer.from(Array.from({ length: 2048 }, (_, i) => (i * 7919 + 13) % 256));
    expect((await rawExchange(httpsPort, garbage)).closed).toBe(true);
    const plain = await rawExchange(httpsPort, `GET / HTTP/1.1\r\nHost: 127.0.0.1:${httpsPort}\r\n\r\n`);
    expect(plain.received.toString('latin1')).not.toContain('<title>padmesh</title>');
    // A ClientHello cut off halfway, then silence: closed after the idle limit (the handshake timeout).
    const hello = Buffer.from('16030100c8010000c40303', 'hex');
    expect((await rawExchange(httpsPort, hello)).closed).toBe(true);
    // A client that refuses our certificate (a phone that did not accept it) leaves again.
    const refused = await new Promise<string>((resolve) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: httpsPort, servername: 'phone.padmesh.test' });
      sockets.push(socket);
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      socket.once('secureConnect', () => resolve('trusted'));
    });
    expect(refused).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    // A TLS connection whose request is garbage gets the HTTP parser's 400, as on plain http.
    const tlsGarbage = await new Promise<string>((resolve) => {
      const socket = tlsConnect({ host: '127.0.0.1', port: httpsPort, ca: certificate.cert, servername: 'localhost' });
      sockets.push(socket);
      let received = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        received += chunk;
      });
      socket.once('secureConnect', () => socket.write(garbage));
      socket.once('error', () => {});
      socket.once('close', () => resolve(received));
    });
    expect(tlsGarbage).toMatch(/^HTTP\/1\.1 400 /);
    // Both listeners still serve.
    expect((await get(true, httpsPort, '/')).status).toBe(200);
    expect((await get(false, port, '/')).status).toBe(200);
  });

  it('counts TLS connections in their address’s cap, with the plain ones', async () => {
    const { port, httpsPort } = await start({ limits: { maxConnectionsPerAddress: 2, idleConnectionMs: 30_000 } });
    const open = (p: number) =>
      new Promise<Socket>((resolve) => {
        const socket = connect({ host: '127.0.0.1', port: p });
        sockets.push(socket);
        socket.on('error', () => {});
        socket.once('connect', () => resolve(socket));
      });
    await open(httpsPort);
    await open(port);
    // The third, on either port, is over the cap: closed at once.
    const over = await open(httpsPort);
    await new Promise((resolve) => over.once('close', resolve));
    expect((await get(false, port, '/')).status).toBe(429);
  });

  it('fails to start, listening nowhere, when the HTTPS port is taken', async () => {
    const holder = createTcpServer();
    blocker = holder;
    const taken = await new Promise<number>((resolve) =>
      holder.listen(0, '127.0.0.1', () => resolve((holder.address() as { port: number }).port)),
    );
    // A port that was free a moment ago, for the plain listener.
    const probe = createTcpServer();
    const plainPort = await new Promise<number>((resolve) =>
      probe.listen(0, '127.0.0.1', () => resolve((probe.address() as { port: number }).port)),
    );
    await new Promise((resolve) => probe.close(resolve));
    await expect(
      createSignalServer({
        host: '127.0.0.1',
        port: plainPort,
        staticDir: app,
        https: { port: taken, ...certificate },
      }),
    ).rejects.toMatchObject({ code: 'EADDRINUSE' });
    // The plain listener it had opened is closed again.
    expect((await get(false, plainPort, '/')).status).toBe('ECONNREFUSED');
  });
});

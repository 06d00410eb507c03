/**
 * The browser signaling client, run in Node against the real server. The only stand-in is
 * the WebSocket class: `ws`'s, which implements the same browser API.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { type EarlySocketLike, openEarlySocket } from '../../client/net/early-socket.ts';
import { joinText } from '../../client/net/join.ts';
import {
  createSignaling,
  type JoinParams,
  type Signaling,
  type SignalingOptions,
  type SignalingStatus,
  type SocketLike,
} from '../../client/net/signaling.ts';
import { ErrorCode, type ServerMessage } from '../../signal/protocol.ts';
import { createSignalServer, type SignalServer } from '../../signal/server.ts';
import { Harness, newDeviceId, WAIT_MS } from '../helpers/clients.ts';
import { startTcpProxy } from '../helpers/tcp-proxy.ts';

const SECRET = 'client-test-secret-0123456789abcdef';
const servers: SignalServer[] = [];
const clients: Signaling[] = [];
let harness: Harness | undefined;

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
  await harness?.stop();
  harness = undefined;
});

async function serve(port = 0): Promise<SignalServer> {
  const server = await createSignalServer({ host: '127.0.0.1', port, secret: SECRET, staticDir: null });
  servers.push(server);
  return server;
}

/** A client that records what happens to it, and how many sockets it opened. */
function client(port: number, join: Partial<JoinParams>, options: Partial<SignalingOptions> = {}) {
  const statuses: SignalingStatus[] = [];
  const messages: ServerMessage[] = [];
  let sockets = 0;
  const signaling = createSignaling({
    url: `ws://127.0.0.1:${port}/ws`,
    join: { role: 'controller', deviceId: newDeviceId(), ...join },
    connect: (url) => {
      sockets += 1;
      return new WebSocket(url) as unknown as SocketLike;
    },
    initialBackoffMs: 20,
    maxBackoffMs: 80,
    onStatus: (status) => statuses.push(status),
    onMessage: (message) => messages.push(message),
    ...options,
  });
  clients.push(signaling);
  return { signaling, statuses, messages, sockets: () => sockets };
}

/** Waits (bounded) until `check` holds. */
async function until(check: () => boolean, what: string, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const connected = (s: Signaling) => () => s.status.kind === 'connected';

describe('signaling client', () => {
  it('joins, learns its room and tokens, and measures RTT', async () => {
    const server = await serve();
    const daw = client(server.port, { role: 'daw' });
    await until(connected(daw.signaling), 'the DAW to connect');
    expect(daw.signaling.params.room).toMatch(/^[A-Z0-9]{6}$/);
    expect(daw.signaling.params.hostToken).toEqual(daw.signaling.welcome?.hostToken);
    const phone = client(server.port, { room: daw.signaling.params.room as string });
    await until(connected(phone.signaling), 'the controller to connect');
    expect(phone.signaling.params.resumeToken).toEqual(expect.any(String));
    expect(daw.statuses.map((s) => s.kind)).toEqual(['connected']);
  });

  it('rides out a server restart: the DAW takes its room back, controllers wait for it and keep their peerIds', async () => {
    const first = await serve();
    const port = first.port;
    const daw = client(port, { role: 'daw' });
    await until(connected(daw.signaling), 'the DAW');
    const phone = client(port, { room: daw.signaling.params.room as string });
    await until(connected(phone.signaling), 'the controller');
    const phoneId = phone.signaling.welcome?.peerId;
    const dawId = daw.signaling.welcome?.peerId;

    await first.close();
    await until(() => phone.signaling.status.kind === 'reconnecting', 'the controller to notice');
    // Start again on the same port, same secret: both come back by themselves.
    await serve(port);
    await until(
      () => daw.signaling.status.kind === 'connected' && phone.signaling.status.kind === 'connected',
      'both back',
      10_000,
    );
    expect(daw.signaling.welcome?.peerId).toBe(dawId);
    expect(phone.signaling.welcome?.peerId).toBe(phoneId);
    expect(phone.signaling.welcome?.members.map((m) => m.peerId).sort()).toEqual([dawId, phoneId].sort());
  });

  it('backs off exponentially with jitter, capped, while the server is down', async () => {
    const server = await serve();
    const port = server.port;
    const daw = client(port, { role: 'daw' }, { random: () => 1 });
    await until(connected(daw.signaling), 'the DAW');
    await server.close();
    await until(() => daw.statuses.filter((s) => s.kind === 'reconnecting').length >= 5, 'five retries');
    const delays = daw.statuses.flatMap((s) => (s.kind === 'reconnecting' ? [s.delayMs] : []));
    expect(delays.slice(0, 5)).toEqual([20, 40, 80, 80, 80]);

    const low = client(port, { role: 'daw' }, { random: () => 0 });
    await until(() => low.statuses.length >= 3, 'three retries');
    // Before the first welcome it says "connecting", and the jitter halves the delay at most.
    expect(low.statuses.slice(0, 3).map((s) => s.kind)).toEqual(['connecting', 'connecting', 'connecting']);
  });

  it('never reconnects after close(), even when called from a status handler mid-retry', async () => {
    const server = await serve();
    const port = server.port;
    let signaling: Signaling | undefined;
    let sockets = 0;
    signaling = createSignaling({
      url: `ws://127.0.0.1:${port}/ws`,
      join: { role: 'daw', deviceId: newDeviceId() },
      connect: (url) => {
        sockets += 1;
        return new WebSocket(url) as unknown as SocketLike;
      },
      initialBackoffMs: 20,
      maxBackoffMs: 40,
      onStatus: (status) => {
        if (status.kind === 'reconnecting') signaling?.close();
      },
    });
    clients.push(signaling);
    await until(() => signaling?.status.kind === 'connected', 'the DAW');
    await server.close();
    await until(() => signaling?.status.kind === 'ended', 'the close');
    await serve(port);
    await new Promise((resolve) => setTimeout(resolve, 150)); // several backoff periods
    expect(sockets).toBe(1);
    expect(signaling.status).toEqual({ kind: 'ended', reason: { kind: 'closed', code: 1000 } });
  });

  it('treats a refusal code it does not know as final', async () => {
    const refusing = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    refusing.on('connection', (ws) =>
      ws.on('message', () => ws.send(JSON.stringify({ type: 'error', code: 'FROM_THE_FUTURE', message: 'no' }))),
    );
    await new Promise((resolve) => refusing.once('listening', resolve));
    const address = refusing.address();
    try {
      const future = client(typeof address === 'object' && address !== null ? address.port : 0, { role: 'daw' });
      await until(() => future.signaling.status.kind === 'ended', 'the refusal');
      expect(future.signaling.status).toMatchObject({ reason: { kind: 'refused', code: 'FROM_THE_FUTURE' } });
      expect(future.sockets()).toBe(1);
    } finally {
      for (const ws of refusing.clients) ws.terminate();
      await new Promise((resolve) => refusing.close(resolve));
    }
  });

  it('stops for good on a terminal close: kicked', async () => {
    const server = await serve();
    const daw = client(server.port, { role: 'daw' });
    await until(connected(daw.signaling), 'the DAW');
    const phone = client(server.port, { room: daw.signaling.params.room as string });
    await until(connected(phone.signaling), 'the controller');
    daw.signaling.send({ type: 'kick', peer: phone.signaling.welcome?.peerId as string, reason: 'bye' });
    await until(() => phone.signaling.status.kind === 'ended', 'the kick');
    expect(phone.signaling.status).toEqual({ kind: 'ended', reason: { kind: 'kicked', reason: 'bye' } });
    const opened = phone.sockets();
    await new Promise((resolve) => setTimeout(resolve, 200)); // longer than the longest backoff
    expect(phone.sockets()).toBe(opened);
    expect(phone.signaling.sendNow({ type: 'relay', data: 1 })).toBe(false);
    expect(phone.signaling.send({ type: 'state', state: {} })).toBe('dropped');
  });

  it('stops for good when the session ends, and when replaced by a newer connection', async () => {
    const server = await serve();
    const daw = client(server.port, { role: 'daw' });
    await until(connected(daw.signaling), 'the DAW');
    const room = daw.signaling.params.room as string;
    const deviceId = newDeviceId();
    const first = client(server.port, { room, deviceId });
    await until(connected(first.signaling), 'the first tab');
    // A second tab of the same browser has the same deviceId and the saved resumeToken.
    const resumeToken = first.signaling.params.resumeToken as string;
    const second = client(server.port, { room, deviceId, resumeToken });
    await until(connected(second.signaling), 'the second tab');
    await until(() => first.signaling.status.kind === 'ended', 'the first tab to stop');
    expect(first.signaling.status).toEqual({ kind: 'ended', reason: { kind: 'replaced' } });

    daw.signaling.leave();
    await until(() => second.signaling.status.kind === 'ended', 'the session to end');
    expect(second.signaling.status).toEqual({ kind: 'ended', reason: { kind: 'session-closed', reason: 'ended' } });
    expect(daw.signaling.status).toEqual({ kind: 'ended', reason: { kind: 'left' } });
  });

  it('gives up at once on a wrong code, but waits out the room for a controller that was in it', async () => {
    const server = await serve();
    const stranger = client(server.port, { room: 'ACDEF3' });
    await until(() => stranger.signaling.status.kind === 'ended', 'the refusal');
    expect(stranger.signaling.status).toMatchObject({ reason: { kind: 'refused', code: ErrorCode.ROOM_NOT_FOUND } });
    expect(stranger.sockets()).toBe(1);

    // A controller with a token from an earlier visit retries until roomWaitMs runs out.
    const returning = client(server.port, { room: 'ACDEF3', resumeToken: 'r.ACDEF3.x.y' }, { roomWaitMs: 150 });
    await until(() => returning.signaling.status.kind === 'ended', 'the wait to run out');
    expect(returning.sockets()).toBeGreaterThan(1);
    expect(returning.signaling.status).toMatchObject({ reason: { kind: 'refused', code: ErrorCode.ROOM_NOT_FOUND } });
  });

  it('refuses for good on ROOM_FULL', async () => {
    harness = await Harness.start({ limits: { roomCapacity: 1 } });
    const { welcome } = await harness.room(1);
    const late = client(harness.server.port, { room: welcome.room });
    await until(() => late.signaling.status.kind === 'ended', 'the refusal');
    expect(late.signaling.status).toMatchObject({ reason: { kind: 'refused', code: ErrorCode.ROOM_FULL } });
  });

  it('queues control messages while away (bounded, newest state wins) and sends them in order once back', async () => {
    const server = await serve();
    const link = await startTcpProxy(server.port);
    try {
      const daw = client(link.port, { role: 'daw' }, { queueLimit: 3 });
      await until(connected(daw.signaling), 'the DAW');
      const phone = client(server.port, { room: daw.signaling.params.room as string });
      await until(connected(phone.signaling), 'the controller');
      const phoneId = phone.signaling.welcome?.peerId as string;

      link.cut(); // the laptop's WiFi drops for a moment
      await until(() => daw.signaling.status.kind === 'reconnecting', 'the DAW to notice');
      expect(daw.signaling.sendNow({ type: 'relay', data: 'hit' })).toBe(false);
      expect(daw.signaling.send({ type: 'state', state: { tempo: 100 } })).toBe('queued');
      expect(daw.signaling.send({ type: 'signal', to: phoneId, data: { n: 1 } })).toBe('queued');
      expect(daw.signaling.send({ type: 'state', state: { tempo: 120 } })).toBe('queued'); // replaces tempo 100
      expect(daw.signaling.send({ type: 'signal', to: phoneId, data: { n: 2 } })).toBe('queued');
      expect(daw.signaling.send({ type: 'signal', to: phoneId, data: { n: 3 } })).toBe('dropped');

      await until(() => phone.messages.filter((m) => m.type === 'signal').length === 2, 'the queue to drain');
      const delivered = phone.messages.filter((m) => m.type === 'signal' || m.type === 'state');
      expect(delivered).toEqual([
        { type: 'signal', from: daw.signaling.welcome?.peerId, data: { n: 1 } },
        { type: 'state', state: { tempo: 120 } },
        { type: 'signal', from: daw.signaling.welcome?.peerId, data: { n: 2 } },
      ]);
      expect(daw.signaling.send({ type: 'signal', to: phoneId, data: { n: 4 } })).toBe('sent');
      // The controller saw the DAW away and back, never leave.
      expect(phone.messages.filter((m) => m.type === 'member-left')).toEqual([]);
    } finally {
      await link.close();
    }
  });

  it('gives up a socket that opens but never welcomes it, and tries again', async () => {
    const silent = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((resolve) => silent.once('listening', resolve));
    const address = silent.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    try {
      const stuck = client(port, { role: 'daw' }, { connectTimeoutMs: 100 });
      await until(() => stuck.sockets() >= 2, 'a second attempt');
      expect(stuck.signaling.status.kind).toBe('connecting');
    } finally {
      for (const ws of silent.clients) ws.terminate();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('takes over the socket its page opened before the app ran: one socket, one join, the welcome already there', async () => {
    const server = await serve();
    const daw = client(server.port, { role: 'daw' });
    await until(connected(daw.signaling), 'the DAW to connect');
    const join = controllerIn(daw.signaling, 'Early');
    const early = openPageSocket(server.port, join);
    // The page's first script sent the join, and the welcome came before the app (this client) existed.
    await new Promise((resolve) => early.addEventListener('message', resolve, { once: true }));
    const phone = client(server.port, join);
    expect(phone.signaling.status.kind).toBe('connecting'); // told of the welcome a microtask later, as from a socket
    await until(connected(phone.signaling), 'the controller to take the welcome');
    expect(phone.sockets()).toBe(0); // it made none of its own
    expect(phone.signaling.welcome?.room).toBe(join.room);
    await until(() => phone.signaling.rttMs !== null, 'a ping answered on the socket it took');
    // One join: the DAW heard of one member, and the server had nothing to say about a second join.
    expect(daw.messages.filter((message) => message.type === 'member-joined')).toHaveLength(1);
    expect(phone.messages.filter((message) => message.type === 'error')).toEqual([]);
    expect(phone.statuses.filter((status) => status.kind === 'connected')).toHaveLength(1);
  });

  it('closes a socket its page opened with another join, and makes its own', async () => {
    const server = await serve();
    const daw = client(server.port, { role: 'daw' });
    await until(connected(daw.signaling), 'the DAW to connect');
    const join = controllerIn(daw.signaling, 'Early');
    const early = openPageSocket(server.port, join);
    const phone = client(server.port, { ...join, name: 'Renamed' });
    await until(connected(phone.signaling), 'the controller to connect');
    expect(phone.sockets()).toBe(1);
    await until(() => early.readyState === WebSocket.CLOSED, 'the page’s socket to close');
    const welcome = phone.signaling.welcome;
    expect(welcome?.members.find((member) => member.peerId === welcome.peerId)?.name).toBe('Renamed');
  });
});

/** A controller's join of the DAW's room. */
const controllerIn = (daw: Signaling, name: string): JoinParams => ({
  role: 'controller',
  deviceId: newDeviceId(),
  room: daw.params.room as string,
  name,
});

/** What a returning player's page does before its app has loaded (client/src/early-join.ts), with `ws`. */
function openPageSocket(port: number, join: JoinParams): WebSocket {
  let socket: WebSocket | undefined;
  openEarlySocket(
    `ws://127.0.0.1:${port}/ws`,
    () => joinText(join),
    (url) => {
      socket = new WebSocket(url);
      // Closed while connecting: a browser's socket reports that as an event; `ws` throws it without a listener.
      socket.on('error', () => {});
      return socket as unknown as EarlySocketLike;
    },
  );
  return socket as WebSocket;
}

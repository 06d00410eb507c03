/**
 * The signal server: one node:http server that serves the web app, GET /healthz, and the
 * signaling WebSocket at /ws. This module is the transport: sockets, heartbeat, rate limits,
 * backpressure. Who may do what in which room is signal/rooms.ts; the server only carries
 * out what the registry returns, and it never reads the SDP/ICE it forwards.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { customAlphabet, nanoid } from 'nanoid';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import { reachableHosts } from './lan.ts';
import { type Limits, resolveLimits } from './limits.ts';
import {
  type ClientMessage,
  CloseCode,
  ErrorCode,
  type IceServer,
  PROTOCOL_VERSION,
  parseClientMessage,
  ROOM_CODE_ALPHABET,
  ROOM_CODE_LENGTH,
  type ServerMessage,
  SOCKET_PATH,
} from './protocol.ts';
import { type Binding, type Effects, type Outcome, RoomRegistry } from './rooms.ts';
import { createStaticHandler } from './static.ts';
import { createStunServer, type StunServer } from './stun.ts';
import { TokenBucket } from './token-bucket.ts';
import { createTokenSigner, newSecret } from './tokens.ts';

export interface SignalServerOptions {
  /** Interface to listen on. Default 0.0.0.0 (every interface: phones reach it over the LAN). */
  host?: string;
  /** Default 8080; 0 picks a free port (tests). */
  port?: number;
  /** The built web app (dist/client); null serves a "not built" page. */
  staticDir?: string | null;
  limits?: Partial<Limits>;
  /** HMAC secret for host/resume tokens. Give the same one after a restart and rooms come back. Default: random. */
  secret?: string;
  /** Sent to every client in `welcome`, after the laptop's own STUN server. Default none: a LAN needs no internet STUN. */
  iceServers?: IceServer[];
  /**
   * UDP port of a STUN server on this machine (signal/stun.ts), started and closed with this
   * server and offered in each `welcome` at the host that client reached us by. 0 picks a free
   * port (tests); null or absent: no STUN. If the port cannot be opened, the server runs
   * without STUN and says so through `onWarning`.
   */
  stunPort?: number | null;
  /** Origins allowed to open the socket besides the server's own (browsers send Origin; other clients don't). */
  allowedOrigins?: string[];
  /** Told of an exception a message caused (a bug: the message is answered with an error and the server goes on). */
  onInternalError?: (error: unknown) => void;
  /** Told of something the server works around (the STUN port is taken). Default: console.warn. */
  onWarning?: (message: string) => void;
  /**
   * Wall clock in ms for timestamps and room lifetimes (grace, resume window, join timeout):
   * tests pass a fake one. Liveness, RTT and rate limits run on the monotonic clock.
   */
  now?: () => number;
}

export interface SignalServerStats {
  connections: number;
  rooms: number;
  members: number;
}

export interface SignalServer {
  readonly host: string;
  readonly port: number;
  /** The STUN server's UDP port; null when none runs (not asked for, or its port could not be opened). */
  readonly stunPort: number | null;
  stats(): SignalServerStats;
  /** Closes every socket with 1001 (clients come back), then the HTTP server and the STUN server. */
  close(): Promise<void>;
}

const NO_ICE_SERVERS: IceServer[] = [];
/** Placeholder until accept() gives the socket its own bucket (class fields cannot see the limits). */
const UNSET_BUCKET = new TokenBucket({ perSecond: 1, burst: 1 }, 0);

/**
 * One WebSocket connection, and the handle the room registry keys its members by. It is the
 * socket itself (ws's `WebSocket` option makes every accepted socket one of these), holding
 * padmesh's per-connection state in its own fields; its listeners are functions shared by all
 * sockets that reach that state through `this`. No second object and no closures per
 * connection: at 19,600 idle connections that is most of what padmesh adds to a bare relay's
 * memory (`npm run bench`, docs/benchmarks.md).
 */
class PeerSocket extends WebSocket {
  /** Remote address (IPv4-mapped IPv6 unwrapped): per-address limits key on it. */
  address = '';
  /** What this connection's `welcome` offers (iceServersFor). */
  iceServers: IceServer[] = NO_ICE_SERVERS;
  /** Wall-clock time the socket opened (the join timeout). */
  openedAt = 0;
  /** The per-connection message rate; set when the socket is accepted. */
  messages: TokenBucket = UNSET_BUCKET;
  /** performance.now() of the last frame or pong from this peer. */
  lastSeen = 0;
  /** performance.now() of the last ping sent; 0 when none is outstanding. */
  pingSentAt = 0;
  joined = false;
  /** Start (performance.now()) of the current one-second window of rate-limited drops. */
  dropWindowStart = 0;
  /** Messages the rate limit dropped in that window. */
  dropsInWindow = 0;
  /** Index of the heartbeat slice this socket is in. */
  slice = 0;
}

/** Shared 'error' listeners: a peer's mistake never becomes an uncaught 'error'. */
function destroyOnError(this: Duplex): void {
  this.destroy();
}
function terminateOnError(this: WebSocket): void {
  this.terminate();
}

/** The heartbeat visits 1/HEARTBEAT_SLICES of the peers every heartbeatMs/HEARTBEAT_SLICES. */
const HEARTBEAT_SLICES = 50;

const newRoomCode = customAlphabet(ROOM_CODE_ALPHABET, ROOM_CODE_LENGTH);
const newPeerId = (): string => nanoid(10);

const SECURITY_HEADERS = { 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' } as const;

export async function createSignalServer(options: SignalServerOptions = {}): Promise<SignalServer> {
  const limits = resolveLimits(options.limits);
  const now = options.now ?? Date.now;
  const iceServers = options.iceServers ?? [];
  const allowedOrigins = new Set(options.allowedOrigins ?? []);
  const onInternalError =
    options.onInternalError ?? ((error: unknown) => console.error('padmesh: internal error', error));
  const onWarning = options.onWarning ?? ((message: string) => console.warn(`padmesh: ${message}`));
  const startedAt = now();
  const registry = new RoomRegistry<PeerSocket>({
    signer: createTokenSigner(options.secret ?? newSecret()),
    roomCapacity: limits.roomCapacity,
    maxRooms: limits.maxRooms,
    maxRoomsPerAddress: limits.maxRoomsPerAddress,
    dawGraceMs: limits.dawGraceMs,
    resumeWindowMs: limits.resumeWindowMs,
    newRoomCode,
    newPeerId,
  });
  /** Open sockets (accepted and not yet closed). */
  let connections = 0;
  /**
   * Every open socket, split into slices that the heartbeat visits in turn, one slice per tick, so that
   * pinging thousands of sockets never stalls relayed messages in one burst (all at once
   * raises the relay p99 of `npm run bench` far above the bare relay's: set
   * HEARTBEAT_SLICES to 1 and run it to see).
   */
  // At least 1 ms per tick, so a short heartbeat (tests) still visits everyone once per interval.
  const sliceCount = Math.max(1, Math.min(HEARTBEAT_SLICES, Math.floor(limits.heartbeatMs)));
  const slices: Set<PeerSocket>[] = Array.from({ length: sliceCount }, () => new Set());
  let nextSlice = 0;
  /** Failed joins per remote address: the guard against guessing room codes. */
  const failedJoins = new Map<string, TokenBucket>();
  /** Open sockets per remote address (so one host cannot take every connection). */
  const socketsByAddress = new Map<string, number>();
  /** Upgrades accepted but not yet open, counted against maxConnections. */
  let upgrading = 0;
  /** The STUN server, started before the HTTP server; null: none. */
  let stun: StunServer | null = null;
  const serveStatic = createStaticHandler(options.staticDir ?? null);
  const host = options.host ?? '0.0.0.0';

  const stats = (): SignalServerStats => ({
    connections,
    rooms: registry.roomCount,
    members: registry.memberCount,
  });

  // ─── HTTP ──────────────────────────────────────────────────────────────────────────────
  const http = createServer((req, res) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === '/healthz') {
      const body = JSON.stringify({
        status: 'ok',
        protocol: PROTOCOL_VERSION,
        uptimeSeconds: Math.round((now() - startedAt) / 1000),
        ...stats(),
      });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(body);
      return;
    }
    if (path === '/api/lan') {
      // The DAW page runs on localhost; the join URL in its QR code needs an address phones can reach.
      const body = JSON.stringify({ hosts: reachableHosts(host) });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(body);
      return;
    }
    if (path === SOCKET_PATH) {
      res
        .writeHead(426, { Upgrade: 'websocket', 'Content-Type': 'text/plain' })
        .end('this is the WebSocket endpoint\n');
      return;
    }
    serveStatic(req, res);
  });

  // ─── WebSocket ─────────────────────────────────────────────────────────────────────────
  const wss = new WebSocketServer({
    noServer: true,
    WebSocket: PeerSocket,
    maxPayload: limits.maxPayloadBytes,
    // Browsers always offer it; it costs ~230 KB per connection and collapses relay throughput
    // (measured on these machines: ../shared/notes/machine-facts.md).
    perMessageDeflate: false,
    clientTracking: false,
  });

  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', destroyOnError);
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== SOCKET_PATH) return refuseUpgrade(socket, 404, 'Not Found');
    if (!originAllowed(req, allowedOrigins)) return refuseUpgrade(socket, 403, 'Forbidden');
    if (connections + upgrading >= limits.maxConnections) return refuseUpgrade(socket, 503, 'Service Unavailable');
    const address = remoteAddress(req);
    const fromAddress = socketsByAddress.get(address) ?? 0;
    if (fromAddress >= limits.maxConnectionsPerAddress) return refuseUpgrade(socket, 429, 'Too Many Requests');
    // Read from `req` now, so that the closures below (which live as long as the socket) do not keep it.
    const connectionIceServers = iceServersFor(req.headers.host, iceServers, stun?.port ?? null);
    // Counted against its address until it closes, and against `upgrading` until ws accepts it or
    // it closes (a handshake ws refused never reaches the callback). Inline, unnamed closures:
    // tsx names named ones with defineProperty, which costs ~300 bytes per connection.
    socketsByAddress.set(address, fromAddress + 1);
    upgrading += 1;
    let accepted = false;
    socket.on('close', () => {
      if (!accepted) upgrading -= 1;
      const left = (socketsByAddress.get(address) ?? 1) - 1;
      if (left > 0) socketsByAddress.set(address, left);
      else socketsByAddress.delete(address);
    });
    wss.handleUpgrade(req, socket, head, (ws) => {
      accepted = true;
      upgrading -= 1;
      accept(ws, address, connectionIceServers);
    });
  });

  function accept(peer: PeerSocket, address: string, connectionIceServers: IceServer[]): void {
    peer.address = address;
    peer.iceServers = connectionIceServers;
    peer.openedAt = now();
    peer.lastSeen = performance.now();
    peer.messages = new TokenBucket(limits.messageRate, peer.lastSeen);
    peer.slice = nextSlice++ % sliceCount;
    connections += 1;
    slices[peer.slice]?.add(peer);
    // Listeners first: a peer's mistake must never become an uncaught 'error'.
    peer.on('error', terminateOnError);
    peer.on('close', onClose);
    peer.on('pong', onPong);
    peer.on('message', onMessage);
  }

  // The listeners every socket shares. `this` is the socket: a PeerSocket, wss's WebSocket class.
  function onClose(this: WebSocket): void {
    const peer = this as PeerSocket;
    connections -= 1;
    slices[peer.slice]?.delete(peer);
    apply(registry.disconnect(peer, now()));
  }

  function onPong(this: WebSocket): void {
    const peer = this as PeerSocket;
    peer.lastSeen = performance.now();
    if (peer.pingSentAt === 0) return;
    const rttMs = Math.round((peer.lastSeen - peer.pingSentAt) * 10) / 10;
    peer.pingSentAt = 0;
    apply(registry.setRtt(peer, rttMs));
  }

  function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
    receive(this as PeerSocket, data, isBinary);
  }

  function receive(peer: PeerSocket, data: RawData, isBinary: boolean): void {
    // Frames that arrive after we began closing this socket (kick, bad token…) are not acted on.
    if (peer.readyState !== WebSocket.OPEN) return;
    const at = performance.now();
    peer.lastSeen = at;
    if (!peer.messages.take(at)) return dropForRate(peer, at);
    if (isBinary) return sendError(peer, ErrorCode.INVALID_MESSAGE, 'binary frames are not part of the protocol');
    try {
      dispatch(peer, data);
    } catch (error) {
      // Defence in depth: the schemas should have stopped anything that throws here.
      sendError(peer, ErrorCode.INVALID_MESSAGE, 'this message could not be handled');
      onInternalError(error);
    }
  }

  /** One RATE_LIMITED error per second of dropping; a socket that keeps flooding is closed. */
  function dropForRate(peer: PeerSocket, at: number): void {
    if (at - peer.dropWindowStart >= 1000) {
      peer.dropWindowStart = at;
      peer.dropsInWindow = 0;
    }
    peer.dropsInWindow += 1;
    if (peer.dropsInWindow === 1) sendError(peer, ErrorCode.RATE_LIMITED, 'too many messages: slow down');
    if (peer.dropsInWindow === limits.floodCloseAfter) peer.close(CloseCode.RATE_LIMITED, 'flooding');
  }

  function dispatch(peer: PeerSocket, data: RawData): void {
    const parsed = parseClientMessage(data.toString());
    if (!parsed.ok) {
      sendError(peer, parsed.error.code, parsed.error.message);
      if (parsed.error.code === ErrorCode.VERSION_MISMATCH) peer.close(CloseCode.VERSION_MISMATCH, 'version mismatch');
      return;
    }
    const message = parsed.message;
    if (message.type === 'join') return join(peer, message);
    const binding = registry.binding(peer);
    if (!binding) {
      return sendError(
        peer,
        ErrorCode.NOT_JOINED,
        peer.joined ? 'this connection has left the room' : 'send "join" first',
      );
    }
    handle(peer, binding, message);
  }

  function join(peer: PeerSocket, message: Extract<ClientMessage, { type: 'join' }>): void {
    if (peer.joined) return sendError(peer, ErrorCode.INVALID_MESSAGE, 'this connection has already joined');
    const at = performance.now();
    const guard = failedJoins.get(peer.address);
    if (guard && !guard.has(at))
      return sendError(peer, ErrorCode.RATE_LIMITED, 'too many failed joins from this address: wait a little');
    const outcome = registry.join(peer, message, {
      now: now(),
      address: peer.address,
      iceServers: peer.iceServers,
      heartbeatMs: limits.heartbeatMs,
    });
    if (!outcome.ok) {
      const { code } = outcome.error;
      if (code === ErrorCode.ROOM_NOT_FOUND || code === ErrorCode.UNAUTHORIZED) {
        const bucket = guard ?? new TokenBucket(limits.failedJoinRate, at);
        bucket.take(at);
        failedJoins.set(peer.address, bucket);
      }
      reject(peer, outcome);
      return;
    }
    peer.joined = true;
    send(peer, JSON.stringify(outcome.welcome));
    apply(outcome.effects);
  }

  function handle(
    peer: PeerSocket,
    binding: Binding<PeerSocket>,
    message: Exclude<ClientMessage, { type: 'join' }>,
  ): void {
    switch (message.type) {
      case 'signal':
      case 'relay': {
        const from = binding.member.info.peerId;
        const text = JSON.stringify({ type: message.type, from, data: message.data });
        if (message.to === undefined && binding.member === binding.room.daw) {
          for (const target of registry.controllerConnections(binding)) send(target, text);
          return;
        }
        const target = registry.route(binding, message.to);
        if (typeof target === 'string') return sendError(peer, target, routeErrorText(target, message.to));
        send(target, text);
        return;
      }
      case 'state': {
        if (Buffer.byteLength(JSON.stringify(message.state)) > limits.maxStateBytes) {
          return sendError(peer, ErrorCode.TOO_LARGE, `state is limited to ${limits.maxStateBytes} bytes of JSON`);
        }
        return settle(peer, registry.setState(peer, message.state));
      }
      case 'profile':
        return settle(peer, registry.setProfile(peer, message));
      case 'kick':
        return settle(peer, registry.kick(peer, message.peer, message.reason ?? 'removed by the DAW'));
      case 'ping':
        return send(peer, JSON.stringify({ type: 'pong', t: message.t, serverTime: now() } satisfies ServerMessage));
      case 'leave':
        apply(registry.leave(peer));
        peer.close(CloseCode.NORMAL, 'left');
        return;
    }
  }

  // ─── carrying out the registry's effects ───────────────────────────────────────────────
  function settle(peer: PeerSocket, outcome: Outcome<PeerSocket>): void {
    if (outcome.ok) apply(outcome.effects);
    else reject(peer, outcome);
  }

  function reject(peer: PeerSocket, outcome: Extract<Outcome<PeerSocket>, { ok: false }>): void {
    sendError(peer, outcome.error.code, outcome.error.message);
    if (outcome.closeCode !== undefined) peer.close(outcome.closeCode, outcome.error.code);
  }

  function apply(effects: Effects<PeerSocket>): void {
    for (const { to, message } of effects.deliveries) {
      const text = JSON.stringify(message);
      for (const peer of to) send(peer, text);
    }
    for (const { conn, code, reason } of effects.closings) conn.close(code, reason);
  }

  function send(peer: PeerSocket, text: string): void {
    const ws = peer;
    if (ws.readyState !== WebSocket.OPEN) return;
    ws.send(text);
    // A reader that stopped reading would make us hold its messages forever.
    if (ws.bufferedAmount > limits.maxBufferedBytes) ws.terminate();
  }

  function sendError(peer: PeerSocket, code: ErrorCode, message: string): void {
    send(peer, JSON.stringify({ type: 'error', code, message } satisfies ServerMessage));
  }

  // ─── heartbeat: pings, dead peers, expired rooms ───────────────────────────────────────
  const silenceLimitMs = limits.heartbeatMs * limits.missedHeartbeats;
  let tick = 0;
  const beat = (): void => {
    const at = now();
    const monotonic = performance.now();
    for (const peer of slices[tick++ % sliceCount] as Set<PeerSocket>) {
      if (!peer.joined && at - peer.openedAt >= limits.joinTimeoutMs) {
        peer.close(CloseCode.JOIN_TIMEOUT, 'no join');
      } else if (monotonic - peer.lastSeen >= silenceLimitMs) {
        peer.terminate();
      } else if (peer.readyState === WebSocket.OPEN) {
        // A pong answers the oldest unanswered ping: time it from there.
        if (peer.pingSentAt === 0) peer.pingSentAt = monotonic;
        peer.ping();
      }
    }
    apply(registry.sweep(at));
    if (tick % sliceCount === 0) {
      for (const [address, bucket] of failedJoins) if (bucket.isFull(monotonic)) failedJoins.delete(address);
    }
  };
  const heartbeat = setInterval(beat, limits.heartbeatMs / sliceCount);

  // ─── start and stop ────────────────────────────────────────────────────────────────────
  // STUN first, so that no welcome goes out without it. It helps phones link directly;
  // without it the server still does everything else.
  if (options.stunPort !== undefined && options.stunPort !== null) {
    stun = await createStunServer({ host, port: options.stunPort }).catch((error: NodeJS.ErrnoException) => {
      const why = error.code === 'EADDRINUSE' ? 'is in use by another program' : `cannot be opened (${error.message})`;
      onWarning(
        `STUN is off: UDP port ${options.stunPort} on ${host} ${why}. Phones get no STUN server, so a direct ` +
          'link may fail on WiFi that filters multicast (mDNS); pad hits then go through the relay.',
      );
      return null;
    });
  }

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 8080, host, () => {
      http.off('error', reject);
      resolve();
    });
  }).catch(async (error: unknown) => {
    clearInterval(heartbeat);
    await stun?.close();
    throw error;
  });
  const address = http.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= new Promise<void>((resolve) => {
      clearInterval(heartbeat);
      for (const slice of slices) for (const peer of slice) peer.close(CloseCode.GOING_AWAY, 'server shutting down');
      // Peers that do not answer the close handshake promptly are cut off.
      const cutoff = setTimeout(() => {
        for (const slice of slices) for (const peer of slice) peer.terminate();
      }, 1000);
      const stunClosed = stun?.close() ?? Promise.resolve();
      http.close(() => {
        clearTimeout(cutoff);
        stunClosed.then(resolve);
      });
      // Plain HTTP connections (keep-alive, or a static file under way) go now; upgraded
      // WebSocket sockets are not on that list and get their close handshake.
      http.closeAllConnections();
    });
    return closing;
  };

  return { host, port, stunPort: stun?.port ?? null, stats, close };
}

/**
 * What one connection's `welcome` offers: the laptop's STUN server at the host this client
 * used to reach us (its Host header, so an address the phone can reach; IPv6 in brackets),
 * then the configured ones. No STUN server, or no usable Host: the configured ones alone.
 */
export function iceServersFor(
  hostHeader: string | undefined,
  configured: IceServer[],
  stunPort: number | null,
): IceServer[] {
  if (stunPort === null || !hostHeader) return configured;
  let hostname: string;
  try {
    // The URL parser validates and normalizes it (lower case, punycode; IPv6 keeps its brackets).
    hostname = new URL(`http://${hostHeader}`).hostname;
  } catch {
    return configured;
  }
  if (hostname === '') return configured;
  return [{ urls: `stun:${hostname}:${stunPort}` }, ...configured];
}

function refuseUpgrade(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** Browsers always send Origin; a page from another site may not open our socket. */
function originAllowed(req: IncomingMessage, allowed: ReadonlySet<string>): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  if (allowed.has(origin)) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

function remoteAddress(req: IncomingMessage): string {
  const address = req.socket.remoteAddress ?? 'unknown';
  return address.startsWith('::ffff:') ? address.slice(7) : address;
}

function routeErrorText(code: ErrorCode, to: string | undefined): string {
  switch (code) {
    case ErrorCode.PEER_AWAY:
      return `peer "${to ?? 'DAW'}" is away; try again when it is back`;
    case ErrorCode.UNAUTHORIZED:
      return 'a controller may only address the DAW';
    default:
      return `no peer "${to}" in this room`;
  }
}

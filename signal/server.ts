/**
 * The signal server: one node:http server that serves the web app, GET /healthz, and the
 * signaling WebSocket at /ws (and, with `https`, a node:https server beside it on its own
 * port that does the same over TLS, under the same limits and budgets). This module is the
 * transport: connections, heartbeat, rate limits, backpressure. Who may do what in which room
 * is signal/rooms.ts; the server only carries out what the registry returns, and it never
 * reads the SDP/ICE it forwards.
 *
 * Everything that arrives is treated as hostile (docs/security.md): only Host names that are
 * this machine's own are answered (DNS rebinding), TCP connections are capped per address and
 * closed when idle, messages are budgeted per socket and per address (count and bytes), and no
 * input can throw out of a listener.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { customAlphabet, nanoid } from 'nanoid';
import { type RawData, WebSocket, WebSocketServer } from 'ws';
import type { BanRecord } from './bans.ts';
import type { ClusterStatus, RemotePeer } from './cluster.ts';
import { createHostGuard, isLoopbackAddress } from './hosts.ts';
import { reachableHosts } from './lan.ts';
import { type Limits, type RateLimit, resolveLimits } from './limits.ts';
import {
  type ClientMessage,
  CloseCode,
  ErrorCode,
  type IceServer,
  type JoinMessage,
  normalizeRoomCode,
  PROTOCOL_VERSION,
  parseClientMessage,
  parseServerMessage,
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

/** Keeps the ban table across restarts (signal/state-dir.ts keeps it in a file). */
export interface BanStore {
  load(): unknown;
  save(records: BanRecord[]): void;
}

export interface SignalServerOptions {
  /** Interface to listen on. Default 0.0.0.0 (every interface: phones reach it over the LAN). */
  host?: string;
  /** Default 8080; 0 picks a free port (tests). */
  port?: number;
  /** The built web app (dist/client), read into memory at start; null serves a "not built" page. */
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
  /**
   * Host names this server answers to besides its own addresses, localhost and its hostname
   * (signal/hosts.ts): a name for the laptop in the LAN's DNS, say. Others get 403.
   */
  allowedHosts?: string[];
  /**
   * Behind a proxy on this machine (`npm run dev`: Vite's), take the client's address from the
   * last X-Forwarded-For entry of connections from loopback. Off by default: anything on the
   * laptop could claim any address.
   */
  trustProxy?: boolean;
  /**
   * Also serve everything over TLS on its own port (`npm start -- --https`: phones then get a
   * secure context), with this key and certificate (signal/certificate.ts). Port 0 picks a free
   * one. Plain http keeps running beside it, for the DAW on localhost.
   */
  https?: { port?: number; key: string; cert: string };
  /** Where the ban table is kept across restarts; default: only in memory. */
  banStore?: BanStore;
  /**
   * Redis URL (redis://host:port): several instances share rooms through it (signal/cluster.ts).
   * They must share `secret` too. Default none: this process holds every room itself.
   */
  redis?: string;
  /** Told of an exception a message caused (a bug: the message is answered with an error and the server goes on). */
  onInternalError?: (error: unknown) => void;
  /** Told of something the server works around (the STUN port is taken, the ban file is bad). Default: console.warn. */
  onWarning?: (message: string) => void;
  /**
   * Wall clock in ms for timestamps, room lifetimes (grace, resume window, join timeout) and
   * tokens: tests pass a fake one. Liveness, RTT and rate limits run on the monotonic clock.
   */
  now?: () => number;
  /**
   * The monotonic clock (ms) for liveness, RTT and rate limits; default performance.now. Tests
   * of liveness pass a fake one, so that a stall of a busy machine is not taken for silence.
   */
  monotonic?: () => number;
}

export interface SignalServerStats {
  connections: number;
  rooms: number;
  members: number;
  /** Sockets not being read right now because they (or their address) went over budget. */
  throttled: number;
  /** With `redis`: whether Redis answers, and what this instance exchanges with others. */
  cluster?: ClusterStatus;
}

export interface SignalServer {
  readonly host: string;
  readonly port: number;
  /** The TLS port (options.https); null when there is none. */
  readonly httpsPort: number | null;
  /** Serves new TLS connections with this key and certificate (a new one for a new address); no-op without https. */
  setCertificate(key: string, cert: string): void;
  /** The STUN server's UDP port; null when none runs (not asked for, or its port could not be opened). */
  readonly stunPort: number | null;
  stats(): SignalServerStats;
  /** Closes every socket with 1001 (clients come back), then the HTTP server and the STUN server. */
  close(): Promise<void>;
}

/**
 * What one remote address may still send, all its sockets together, and how many TCP
 * connections it holds. Kept while it has connections or its budgets are not full again, so
 * closing and reopening sockets does not refill them.
 */
class AddressBudget {
  /** Open TCP connections (page loads and WebSockets). */
  connections = 0;
  readonly messages: TokenBucket;
  readonly bytes: TokenBucket;
  /** Failed joins (unknown room, bad token, wrong PIN): the guard against guessing; null until one fails. */
  failedJoins: TokenBucket | null = null;

  constructor(messages: RateLimit, bytes: RateLimit, now: number) {
    this.messages = new TokenBucket(messages, now);
    this.bytes = new TokenBucket(bytes, now);
  }

  idle(now: number): boolean {
    return (
      this.connections === 0 &&
      this.messages.isFull(now) &&
      this.bytes.isFull(now) &&
      (this.failedJoins === null || this.failedJoins.isFull(now))
    );
  }
}

const NO_ICE_SERVERS: IceServer[] = [];
/** Placeholders until accept() gives the socket its own (class fields cannot see the limits). */
const UNSET_BUCKET = new TokenBucket({ perSecond: 1, burst: 1 }, 0);
const UNSET_BUDGET = new AddressBudget({ perSecond: 1, burst: 1 }, { perSecond: 1, burst: 1 }, 0);

/**
 * One WebSocket connection, and the handle the room registry keys its members by. It is the
 * socket itself (ws's `WebSocket` option makes every accepted socket one of these), holding
 * padmesh's per-connection state in its own fields; its listeners are functions shared by all
 * sockets that reach that state through `this`. No second object and no closures per
 * connection: at 19,600 idle connections that is most of what padmesh adds to a bare relay's
 * memory (`npm run bench`, docs/benchmarks.md).
 */
class PeerSocket extends WebSocket {
  /** Remote address (IPv4-mapped IPv6 unwrapped; a trusted proxy's client): per-address limits key on it. */
  address = '';
  /** That address's shared budgets. */
  budget: AddressBudget = UNSET_BUDGET;
  /** What this connection's `welcome` offers (iceServersFor). */
  iceServers: IceServer[] = NO_ICE_SERVERS;
  /** Wall-clock time the socket opened (the join timeout). */
  openedAt = 0;
  /** Monotonic time it opened (a silent client's first ping is timed from it). */
  openedAtMonotonic = 0;
  /** The per-connection message rate; set when the socket is accepted. */
  messages: TokenBucket = UNSET_BUCKET;
  /** Monotonic time of the last frame or pong from this peer. */
  lastSeen = 0;
  /** Monotonic time of the last ping sent; 0 when none is outstanding. */
  pingSentAt = 0;
  /** Monotonic time of the last ping sent, answered or not (a silent client's RTT is sampled now and then). */
  lastPingAt = 0;
  /** It sends `ping` messages, as the browser client does: its silence then means a hung page. */
  pings = false;
  joined = false;
  /** Wall-clock time its current token was issued (tokens are renewed through pongs). */
  tokenIssuedAt = 0;
  /** Start (monotonic) of the current one-second window of rate-limited drops. */
  dropWindowStart = 0;
  /** Messages the rate limit dropped in that window. */
  dropsInWindow = 0;
  /** Index of the heartbeat slice this socket is in. */
  slice = 0;
  /** While it is not read (over its budget), the timer that reads it again. */
  resumeTimer: ReturnType<typeof setTimeout> | undefined = undefined;
  /** With Redis: its id in messages to the instance holding its room, if another does (signal/cluster.ts). */
  proxyId: string | null = null;
  /** That instance. */
  proxyHome: string | null = null;
  /** Frames that came while its join was waiting for Redis to say where its room is; null otherwise. */
  held: Buffer[] | null = null;
}

/** A member's connection as the room registry knows it: a socket here, or one on another instance. */
type Conn = PeerSocket | RemotePeer<AddressBudget>;
/** Frames held while a join waits for Redis; more are dropped (a client sends one or two then). */
const MAX_HELD_FRAMES = 8;

/** Where a TCP connection is counted (its address's budget), kept on the socket itself. */
const COUNTED_IN = Symbol('padmesh.countedIn');
type CountedSocket = Socket & { [COUNTED_IN]?: AddressBudget };
function uncount(this: CountedSocket): void {
  const budget = this[COUNTED_IN];
  if (budget) budget.connections -= 1;
}

/** On close(), sockets that have not finished their close handshake after this long are cut off. */
const SHUTDOWN_CUTOFF_MS = 1_000;

/** A socket over its budget is not read for this long at least, and at most (see throttle). */
const MIN_PAUSE_MS = 50;
const MAX_PAUSE_MS = 2_000;

/** Shared 'error' listeners: a peer's mistake never becomes an uncaught 'error'. */
function destroyOnError(this: Duplex): void {
  this.destroy();
}
function terminateOnError(this: WebSocket): void {
  this.terminate();
}

/** The heartbeat visits 1/HEARTBEAT_SLICES of the peers every heartbeatMs/HEARTBEAT_SLICES. */
const HEARTBEAT_SLICES = 50;
/**
 * A client that sends `ping` messages (the browser client: every 2 heartbeats) is WebSocket-
 * pinged only when it has been silent for this many heartbeats (a background tab whose timers
 * the browser throttles; browsers answer WebSocket pings themselves), and dropped at
 * missedHeartbeats of silence (a hung page).
 */
const PING_SILENT_PINGER_AFTER_HEARTBEATS = 2;
/**
 * A client that never pings (another program) is WebSocket-pinged this often, for its RTT and to
 * see that it answers, and dropped if an answer takes missedHeartbeats. Whether it is there at
 * all is the kernel's TCP keepalive's job (probes after a heartbeat of quiet): free, where a ping
 * costs ~40 µs of the server's CPU each way (4,000 idle clients pinged every 10 s: ~20 ms/s).
 */
export const SILENT_CLIENT_PING_MS = 60_000;

const newRoomCode = customAlphabet(ROOM_CODE_ALPHABET, ROOM_CODE_LENGTH);
const newPeerId = (): string => nanoid(10);

const SECURITY_HEADERS = { 'X-Content-Type-Options': 'nosniff', 'Referrer-Policy': 'no-referrer' } as const;

export async function createSignalServer(options: SignalServerOptions = {}): Promise<SignalServer> {
  const limits = resolveLimits(options.limits);
  const now = options.now ?? Date.now;
  const monotonic = options.monotonic ?? (() => performance.now());
  const iceServers = options.iceServers ?? [];
  const allowedOrigins = new Set(options.allowedOrigins ?? []);
  const hosts = createHostGuard({ allowedHosts: options.allowedHosts ?? [] });
  const trustProxy = options.trustProxy ?? false;
  const onInternalError =
    options.onInternalError ?? ((error: unknown) => console.error('padmesh: internal error', error));
  const onWarning = options.onWarning ?? ((message: string) => console.warn(`padmesh: ${message}`));
  const startedAt = now();
  const cluster =
    options.redis === undefined
      ? null
      : // Loaded only with --redis: ioredis takes the best part of a second to import on a busy
        // machine, which a LAN server's start should not pay.
        new (await import('./cluster.ts')).Cluster<PeerSocket, AddressBudget>({
          url: options.redis,
          heartbeatMs: limits.heartbeatMs,
          roomLifeMs: Math.max(limits.dawGraceMs, limits.resumeWindowMs * 1.5) + limits.heartbeatMs * 3,
          banLifeMs: limits.hostTokenTtlMs,
          commandTimeoutMs: limits.redisCommandTimeoutMs,
          maxConnections: limits.maxConnections,
        });
  /** A new room's code reserved in Redis, for the registry's next draw (see joinWhereItsRoomIs). */
  let reservedCode: string | null = null;
  const registry = new RoomRegistry<Conn>({
    signer: createTokenSigner(options.secret ?? newSecret()),
    roomCapacity: limits.roomCapacity,
    maxRooms: limits.maxRooms,
    maxRoomsPerAddress: limits.maxRoomsPerAddress,
    dawGraceMs: limits.dawGraceMs,
    resumeWindowMs: limits.resumeWindowMs,
    hostTokenTtlMs: limits.hostTokenTtlMs,
    profileNoticeMs: limits.profileNoticeMs,
    rttNoticeMs: limits.rttNoticeMs,
    pinAttemptRate: limits.pinAttemptRate,
    newRoomCode: () => {
      const code = reservedCode ?? newRoomCode();
      reservedCode = null;
      return code;
    },
    newPeerId,
    ...(cluster === null ? {} : { onRoomChange: (code: string) => cluster.roomChanged(code) }),
  });
  const banStore = options.banStore;
  if (banStore) {
    try {
      registry.restoreBans(banStore.load(), now());
    } catch (error) {
      onWarning(`the kept bans could not be read (${(error as Error).message}); starting without them`);
    }
  }
  /** Open WebSockets (accepted and not yet closed). */
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
  /** Budgets per remote address (TCP connections, messages, bytes, failed joins). */
  const budgets = new Map<string, AddressBudget>();
  const budgetOf = (address: string): AddressBudget => {
    let budget = budgets.get(address);
    if (budget === undefined) {
      budget = new AddressBudget(limits.addressMessageRate, limits.addressByteRate, monotonic());
      budgets.set(address, budget);
    }
    return budget;
  };
  /** Upgrades accepted but not yet open, counted against maxConnections. */
  let upgrading = 0;
  /** The STUN server, started before the HTTP server; null: none. */
  let stun: StunServer | null = null;
  const serveStatic = createStaticHandler(options.staticDir ?? null);
  const host = options.host ?? '0.0.0.0';

  /** Sockets paused for being over budget (see throttle). */
  let throttled = 0;
  /** While close() waits for the sockets: called when the last one has closed. */
  let socketsClosed: (() => void) | null = null;
  const stats = (): SignalServerStats => ({
    connections,
    rooms: registry.roomCount,
    members: registry.memberCount,
    throttled,
    ...(cluster === null ? {} : { cluster: cluster.status() }),
  });

  /** The client's address: the TCP peer's, or (trustProxy) the one a proxy on this machine forwarded. */
  const clientAddress = (req: IncomingMessage): string => {
    const address = unmapped(req.socket.remoteAddress ?? 'unknown');
    if (!trustProxy || !isLoopbackAddress(address)) return address;
    const forwarded = req.headers['x-forwarded-for'];
    const last = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? '')).split(',').pop()?.trim();
    return last ? unmapped(last) : address;
  };

  // ─── HTTP ──────────────────────────────────────────────────────────────────────────────
  const httpOptions = {
    // A connection must send its request headers promptly, and one that sends nothing at all
    // is closed too (server.timeout below): idle connections would otherwise hold open files.
    headersTimeout: limits.idleConnectionMs,
    requestTimeout: limits.idleConnectionMs * 2,
    connectionsCheckingInterval: Math.min(1_000, limits.idleConnectionMs),
    keepAliveTimeout: Math.min(5_000, limits.idleConnectionMs),
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    try {
      serveHttp(req, res);
    } catch (error) {
      onInternalError(error);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end('internal error\n');
    }
  };
  const http = createServer(httpOptions, onRequest);
  // The TLS listener: same routes, same Host allowlist, same budgets (its TCP connections count
  // with the plain ones of their address); a handshake must finish as promptly as headers come.
  const tls =
    options.https === undefined
      ? null
      : createTlsServer(
          {
            ...httpOptions,
            key: options.https.key,
            cert: options.https.cert,
            handshakeTimeout: limits.idleConnectionMs,
          },
          onRequest,
        );
  /** The TLS listener's port once it listens; null without one. */
  const httpsPort = (): number | null => (tls === null ? null : portOf(tls) || null);
  /** Both listeners (or the plain one alone): everything below applies to each. */
  const listeners: Server[] = tls === null ? [http] : [http, tls];
  const countConnection = (socket: CountedSocket, encrypted: boolean): void => {
    const budget = budgetOf(unmapped(socket.remoteAddress ?? 'unknown'));
    if (budget.connections >= limits.maxConnectionsPerAddress) {
      // Before TLS there is nobody to say 429 to in plain text.
      if (encrypted) socket.destroy();
      else socket.end('HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    budget.connections += 1;
    // On the socket, with a listener shared by all: no closure per connection.
    socket[COUNTED_IN] = budget;
    socket.once('close', uncount);
  };
  for (const listener of listeners) {
    // Idle sockets (nothing sent yet, or between keep-alive requests) are closed; ws clears the
    // timeout of a socket it upgrades.
    listener.timeout = limits.idleConnectionMs;
    // The raw TCP socket, on either listener (before any TLS).
    listener.on('connection', (socket: CountedSocket) => countConnection(socket, listener === tls));
    // Failures to accept a connection (EMFILE when out of open files, say) must not end the process.
    listener.on('error', (error) => onWarning(`${listener === tls ? 'HTTPS' : 'HTTP'} server: ${error.message}`));
  }
  // A handshake that fails (garbage, plain http sent to the TLS port, a phone that refused the
  // certificate) ends that connection only: node:tls destroys it, and with no 'tlsClientError'
  // listener says nothing (it is the network's to send).

  function serveHttp(req: IncomingMessage, res: ServerResponse): void {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    if (!hosts.allows(req.headers.host)) return refuseHost(res, req.headers.host);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === '/healthz') {
      const body = JSON.stringify({
        // With Redis, and Redis unreachable: rooms held here work, other instances are cut off.
        status: cluster === null || cluster.isUp ? 'ok' : 'degraded',
        protocol: PROTOCOL_VERSION,
        uptimeSeconds: Math.round((now() - startedAt) / 1000),
        ...stats(),
      });
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' }).end(body);
      return;
    }
    if (path === '/api/lan') {
      // The DAW page (on localhost) puts a LAN address in its QR code. Nobody else needs the
      // laptop's addresses, so only pages on the laptop itself are told.
      if (!isLoopbackAddress(clientAddress(req))) {
        res.writeHead(403, { 'Content-Type': 'text/plain' }).end('LOOPBACK_ONLY: asked from this laptop only\n');
        return;
      }
      const body = JSON.stringify({
        hosts: reachableHosts(host, undefined, { virtual: false }),
        httpsPort: httpsPort(),
      });
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
  }

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

  const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', destroyOnError);
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path !== SOCKET_PATH) return refuseUpgrade(socket, 404, 'Not Found');
    if (!hosts.allows(req.headers.host) || !originAllowed(req, allowedOrigins)) {
      return refuseUpgrade(socket, 403, 'Forbidden');
    }
    if (connections + upgrading >= limits.maxConnections) return refuseUpgrade(socket, 503, 'Service Unavailable');
    const address = clientAddress(req);
    // Read from `req` now, so that the closures below (which live as long as the socket) do not keep it.
    const connectionIceServers = iceServersFor(req.headers.host, iceServers, stun?.port ?? null);
    // Counted against `upgrading` until ws accepts it or it closes (a handshake ws refused never
    // reaches the callback). Inline, unnamed closures: tsx names named ones with defineProperty,
    // which costs ~300 bytes per connection.
    upgrading += 1;
    // The kernel watches every connection for a peer that is gone (probes after a heartbeat of
    // quiet, then every second; libuv gives up after 10 unanswered): no CPU of ours per socket.
    (socket as Socket).setKeepAlive?.(true, limits.heartbeatMs);
    let accepted = false;
    socket.on('close', () => {
      if (!accepted) upgrading -= 1;
    });
    wss.handleUpgrade(req, socket, head, (ws) => {
      accepted = true;
      upgrading -= 1;
      accept(ws, address, connectionIceServers);
    });
  };
  for (const listener of listeners) listener.on('upgrade', onUpgrade);

  function accept(peer: PeerSocket, address: string, connectionIceServers: IceServer[]): void {
    peer.address = address;
    peer.budget = budgetOf(address);
    peer.iceServers = connectionIceServers;
    peer.openedAt = now();
    peer.lastSeen = monotonic();
    peer.openedAtMonotonic = peer.lastSeen;
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
    if (peer.resumeTimer !== undefined) {
      clearTimeout(peer.resumeTimer);
      throttled -= 1;
    }
    connections -= 1;
    slices[peer.slice]?.delete(peer);
    if (peer.proxyId !== null) cluster?.proxyClosed(peer);
    apply(registry.disconnect(peer, now()));
    if (connections === 0) socketsClosed?.();
  }

  function onPong(this: WebSocket): void {
    const peer = this as PeerSocket;
    peer.lastSeen = monotonic();
    if (peer.pingSentAt === 0) return;
    const rttMs = Math.round((peer.lastSeen - peer.pingSentAt) * 10) / 10;
    peer.pingSentAt = 0;
    const effects = registry.setRtt(peer, rttMs);
    if (effects !== null) apply(effects);
  }

  function onMessage(this: WebSocket, data: RawData, isBinary: boolean): void {
    receive(this as PeerSocket, data as Buffer, isBinary);
  }

  function receive(peer: PeerSocket, data: Buffer, isBinary: boolean): void {
    // Frames that arrive after we began closing this socket (kick, bad token…) are not acted on.
    if (peer.readyState !== WebSocket.OPEN) return;
    const at = monotonic();
    peer.lastSeen = at;
    // The socket's own rate, then its address's (all its sockets together), in messages and bytes.
    const { budget } = peer;
    if (!peer.messages.take(at)) return throttle(peer, at, peer.messages.msUntil(1, at));
    if (!budget.messages.take(at)) return throttle(peer, at, budget.messages.msUntil(1, at));
    if (!budget.bytes.takeMany(data.length, at)) return throttle(peer, at, budget.bytes.msUntil(data.length, at));
    if (isBinary) return sendError(peer, ErrorCode.INVALID_MESSAGE, 'binary frames are not part of the protocol');
    if (peer.proxyHome !== null) return cluster?.forward(peer, data.toString());
    if (peer.held !== null) {
      if (peer.held.length < MAX_HELD_FRAMES) peer.held.push(data);
      return;
    }
    try {
      dispatch(peer, data.toString(), data.length);
    } catch (error) {
      // Defence in depth: the schemas should have stopped anything that throws here.
      sendError(peer, ErrorCode.INVALID_MESSAGE, 'this message could not be handled');
      onInternalError(error);
    }
  }

  /**
   * Over budget: the message is dropped, and the socket is not read again until the budget has
   * refilled for a message like it (bounded). What the sender sends meanwhile waits in the
   * kernel's buffers, then in its own (TCP backpressure), instead of being read, unmasked and
   * dropped: a dropped 64 KiB frame still costs ~0.4 ms to read, so dropping alone left a core busy.
   */
  function throttle(peer: PeerSocket, at: number, refillMs: number): void {
    dropForRate(peer, at);
    if (peer.resumeTimer !== undefined || peer.readyState !== WebSocket.OPEN) return;
    peer.pause();
    throttled += 1;
    const waitMs = Math.min(MAX_PAUSE_MS, Math.max(MIN_PAUSE_MS, refillMs));
    peer.resumeTimer = setTimeout(resumeReading, waitMs, peer);
  }

  function resumeReading(peer: PeerSocket): void {
    peer.resumeTimer = undefined;
    throttled -= 1;
    peer.resume();
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

  function dispatch(peer: Conn, text: string, bytes: number): void {
    const parsed = parseClientMessage(text);
    if (!parsed.ok) {
      sendError(peer, parsed.error.code, parsed.error.message);
      if (parsed.error.code === ErrorCode.VERSION_MISMATCH) peer.close(CloseCode.VERSION_MISMATCH, 'version mismatch');
      return;
    }
    const message = parsed.message;
    if (message.type === 'join') {
      if (cluster !== null && peer instanceof PeerSocket) return joinWhereItsRoomIs(peer, message, text);
      return join(peer, message);
    }
    const binding = registry.binding(peer);
    if (!binding) {
      return sendError(
        peer,
        ErrorCode.NOT_JOINED,
        peer.joined ? 'this connection has left the room' : 'send "join" first',
      );
    }
    if (message.type === 'relay' && bytes > limits.maxRelayBytes) {
      const text = `a relay is limited to ${limits.maxRelayBytes} bytes (pad hits need ~100)`;
      return sendError(peer, ErrorCode.TOO_LARGE, text, message.ref);
    }
    handle(peer, binding, message);
  }

  /**
   * With Redis, a join is decided by the instance that holds its room: here (a room held here,
   * a new room, one taken over from an instance that died, or Redis down), or another, to which
   * this socket's frames are then forwarded. The socket's frames wait meanwhile.
   */
  function joinWhereItsRoomIs(peer: PeerSocket, message: JoinMessage, text: string): void {
    if (cluster === null || peer.joined || peer.held !== null) return join(peer, message);
    const code = message.room === undefined ? null : normalizeRoomCode(message.room);
    if (code !== null && registry.hasRoom(code)) return join(peer, message);
    if (code === null && message.room !== undefined) return join(peer, message); // the registry refuses it
    peer.held = [];
    /** This join's own reserved code (a shared variable could be overwritten by another join meanwhile). */
    let reserved: string | null = null;
    const located =
      code === null
        ? cluster.reserveCode(newRoomCode).then((drawn) => {
            reserved = drawn;
            return 'here';
          })
        : cluster.locate(code, message.role === 'daw');
    located
      .then((where) => {
        const held = peer.held ?? [];
        peer.held = null;
        if (peer.readyState !== WebSocket.OPEN) {
          if (code !== null && !registry.hasRoom(code)) cluster.release(code);
          return;
        }
        if (typeof where !== 'string') {
          // This instance is now the room's home but could not take it over (its snapshot is
          // malformed or of another room, or this instance is full). A DAW whose hostToken
          // verifies recreates a room whose snapshot is unusable, as one with none; others are told why.
          if (message.role !== 'daw' || where.code !== ErrorCode.ROOM_NOT_FOUND) {
            sendError(peer, where.code, where.message);
            if (code !== null && !registry.hasRoom(code)) cluster.release(code);
            return;
          }
          where = 'here';
        }
        if (where === 'here') {
          // The registry draws this join's reserved code, in this same tick, and no other join's.
          reservedCode = reserved;
          try {
            join(peer, message);
          } finally {
            reservedCode = null;
          }
          // The lookup made this instance the room's home; a join refused leaves no room here to hold.
          if (code !== null && !registry.hasRoom(code)) cluster.release(code);
          // Already counted against its budgets when they came.
          for (const frame of held) {
            if (peer.readyState !== WebSocket.OPEN) break;
            try {
              dispatch(peer, frame.toString(), frame.length);
            } catch (error) {
              sendError(peer, ErrorCode.INVALID_MESSAGE, 'this message could not be handled');
              onInternalError(error);
            }
          }
        } else {
          peer.joined = false;
          cluster.proxy(peer, where, peer.address, peer.iceServers, text);
          for (const frame of held) cluster.forward(peer, frame.toString());
        }
      })
      // A join that throws after the lookup must not become an unhandled rejection (it would end the process).
      .catch((error: unknown) => {
        if (peer.readyState === WebSocket.OPEN)
          sendError(peer, ErrorCode.INVALID_MESSAGE, 'this join could not be handled');
        onInternalError(error);
      });
  }

  function join(peer: Conn, message: JoinMessage): void {
    if (peer.joined) return sendError(peer, ErrorCode.INVALID_MESSAGE, 'this connection has already joined');
    const at = monotonic();
    const wall = now();
    const { budget } = peer;
    // Only guessing is held back: a join with a token that verifies (a DAW taking its room back,
    // a phone resuming) always goes through, whoever else shares its address.
    if (budget.failedJoins && !budget.failedJoins.has(at) && !registry.carriesValidToken(message, wall)) {
      return sendError(peer, ErrorCode.RATE_LIMITED, 'too many failed joins from this address: wait a little');
    }
    const outcome = registry.join(peer, message, {
      now: wall,
      address: peer.address,
      iceServers: peer.iceServers,
      heartbeatMs: limits.heartbeatMs,
    });
    if (!outcome.ok) {
      const { code } = outcome.error;
      const guess =
        code === ErrorCode.ROOM_NOT_FOUND ||
        code === ErrorCode.UNAUTHORIZED ||
        (code === ErrorCode.PIN_REQUIRED && message.pin !== undefined);
      if (guess) {
        budget.failedJoins ??= new TokenBucket(limits.failedJoinRate, at);
        budget.failedJoins.take(at);
      }
      reject(peer, outcome);
      return;
    }
    peer.joined = true;
    peer.tokenIssuedAt = wall;
    send(peer, JSON.stringify(outcome.welcome));
    apply(outcome.effects);
  }

  function handle(peer: Conn, binding: Binding<Conn>, message: Exclude<ClientMessage, { type: 'join' }>): void {
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
        if (typeof target === 'string') return sendError(peer, target, routeErrorText(target, message.to), message.ref);
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
        return settle(peer, registry.setProfile(peer, message, now()));
      case 'kick':
        return settle(peer, registry.kick(peer, message.peer, message.reason ?? 'removed by the DAW'));
      case 'access':
        return settle(peer, registry.setAccess(peer, message.access));
      case 'ping':
        peer.pings = true;
        return pong(peer, message.t, message.rtt);
      case 'leave':
        apply(registry.leave(peer, now()));
        peer.close(CloseCode.NORMAL, 'left');
        return;
    }
  }

  /**
   * The answer to a client's ping: its `t` back, our time, and a renewed token when its token
   * has lived a third of its life. The RTT the client measured for its previous ping is its RTT
   * (the client's pings keep us from pinging it ourselves).
   */
  function pong(peer: Conn, t: number, rtt: number | undefined): void {
    const wall = now();
    const renewed = registry.renewToken(peer, peer.tokenIssuedAt, wall);
    const reply: ServerMessage = { type: 'pong', t, serverTime: wall };
    if (renewed !== null) {
      reply.resumeToken = renewed.token;
      peer.tokenIssuedAt = wall;
    }
    send(peer, JSON.stringify(reply));
    if (rtt !== undefined) {
      const effects = registry.setRtt(peer, Math.round(rtt * 10) / 10);
      if (effects !== null) apply(effects);
    }
  }

  // ─── carrying out the registry's effects ───────────────────────────────────────────────
  function settle(peer: Conn, outcome: Outcome<Conn>): void {
    if (outcome.ok) apply(outcome.effects);
    else reject(peer, outcome);
  }

  function reject(peer: Conn, outcome: Extract<Outcome<Conn>, { ok: false }>): void {
    sendError(peer, outcome.error.code, outcome.error.message);
    if (outcome.closeCode !== undefined) peer.close(outcome.closeCode, outcome.error.code);
  }

  function apply(effects: Effects<Conn>): void {
    for (const { to, message } of effects.deliveries) {
      const text = JSON.stringify(message);
      for (const peer of to) send(peer, text);
    }
    for (const { conn, code, reason } of effects.closings) conn.close(code, reason);
    if (effects.bansChanged) cluster?.bansChanged();
    if (effects.bansChanged && banStore) {
      try {
        banStore.save(registry.exportBans());
      } catch (error) {
        onWarning(`the bans could not be kept (${(error as Error).message}); they last until a restart`);
      }
    }
  }

  function send(peer: Conn, text: string): void {
    const ws = peer;
    if (ws.readyState !== WebSocket.OPEN) return;
    ws.send(text);
    // A reader that stopped reading would make us hold its messages forever.
    if (ws.bufferedAmount > limits.maxBufferedBytes) ws.terminate();
  }

  function sendError(peer: Conn, code: ErrorCode, message: string, ref?: number): void {
    const error: ServerMessage = { type: 'error', code, message };
    if (ref !== undefined) error.ref = ref;
    send(peer, JSON.stringify(error));
  }

  // ─── heartbeat: pings, dead peers, expired rooms ───────────────────────────────────────
  const silenceLimitMs = limits.heartbeatMs * limits.missedHeartbeats;
  const pingSilentPingerAfterMs = limits.heartbeatMs * PING_SILENT_PINGER_AFTER_HEARTBEATS;
  const silentClientPingMs = Math.max(SILENT_CLIENT_PING_MS, silenceLimitMs);
  let tick = 0;
  const beat = (): void => {
    const at = now();
    const monotonicNow = monotonic();
    for (const peer of slices[tick++ % sliceCount] as Set<PeerSocket>) {
      const silentFor = monotonicNow - peer.lastSeen;
      if (!peer.joined && at - peer.openedAt >= limits.joinTimeoutMs) {
        peer.close(CloseCode.JOIN_TIMEOUT, 'no join');
      } else if (peer.pings ? silentFor >= silenceLimitMs : unanswered(peer, monotonicNow) >= silenceLimitMs) {
        peer.terminate();
      } else if (
        peer.pingSentAt === 0 &&
        peer.readyState === WebSocket.OPEN &&
        pingDue(peer, silentFor, monotonicNow)
      ) {
        // One ping at a time: its pong (or the silence limit) settles it.
        peer.pingSentAt = monotonicNow;
        peer.lastPingAt = monotonicNow;
        peer.ping();
      }
    }
    apply(registry.sweep(at));
    if (tick % sliceCount === 0) {
      for (const [address, budget] of budgets) if (budget.idle(monotonicNow)) budgets.delete(address);
    }
  };
  const heartbeat = setInterval(beat, limits.heartbeatMs / sliceCount);
  /** How long the ping outstanding to a client that does not ping has gone unanswered (0: none). */
  const unanswered = (peer: PeerSocket, monotonicNow: number): number =>
    peer.pingSentAt === 0 ? 0 : monotonicNow - peer.pingSentAt;
  const pingDue = (peer: PeerSocket, silentFor: number, monotonicNow: number): boolean =>
    peer.pings
      ? silentFor >= pingSilentPingerAfterMs
      : monotonicNow - (peer.lastPingAt === 0 ? peer.openedAtMonotonic : peer.lastPingAt) >=
        (peer.lastPingAt === 0 ? pingSilentPingerAfterMs : silentClientPingMs);

  // ─── several instances: what the cluster asks of this one ─────────────────────────────
  cluster?.start({
    budgetOf,
    dispatch(peer, text) {
      try {
        dispatch(peer, text, Buffer.byteLength(text));
      } catch (error) {
        sendError(peer, ErrorCode.INVALID_MESSAGE, 'this message could not be handled');
        onInternalError(error);
      }
    },
    disconnect: (peer) => apply(registry.disconnect(peer, now())),
    deliver(socket, text) {
      // Its instance only forwards: the welcome is how it learns the join went through, so that
      // one is read in full first (the rest go to the client as the home wrote them).
      if (!socket.joined && text.startsWith('{"type":"welcome"')) {
        if (!parseServerMessage(text).ok) return false;
        socket.joined = true;
      }
      send(socket, text);
      return true;
    },
    closeSocket: (socket, code, reason) => (code === 1006 ? socket.terminate() : socket.close(code, reason)),
    restore(code, snapshot, bans) {
      if (bans !== null) registry.restoreBans(bans, now());
      if (snapshot === null) return null;
      return registry.restoreRoom(code, snapshot, now())?.error ?? null;
    },
    handOver: (code) => apply(registry.handOver(code, now())),
    exportRoom: (code) => registry.exportRoom(code),
    exportBans: () => registry.exportBans(),
    roomCodes: () => registry.roomCodes(),
    presence(peer) {
      const binding = registry.binding(peer);
      if (!binding) return [];
      const { room, member } = binding;
      const texts: string[] = [];
      for (const other of [room.daw, ...room.controllers.values()]) {
        if (other !== member) texts.push(JSON.stringify({ type: 'member-updated', member: other.info }));
      }
      if (member !== room.daw && room.state !== undefined)
        texts.push(JSON.stringify({ type: 'state', state: room.state }));
      return texts;
    },
    warn: onWarning,
  });

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

  const listen = (listener: Server, port: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen(port, host, () => {
        listener.off('error', reject);
        resolve();
      });
    });
  try {
    await listen(http, options.port ?? 8080);
    if (tls !== null) await listen(tls, options.https?.port ?? 8443);
  } catch (error) {
    clearInterval(heartbeat);
    await Promise.all([stun?.close(), cluster?.close(), ...listeners.map(closeListener)]);
    throw error;
  }
  const port = portOf(http);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      clearInterval(heartbeat);
      const listenersClosed = Promise.all(listeners.map(closeListener));
      const stunClosed = stun?.close();
      await closeSockets();
      // Only now, with every socket here closed and its leaving applied, may other instances take
      // this one's rooms over: the cluster writes them, then lets go of them (signal/cluster.ts).
      await cluster?.close();
      await Promise.all([stunClosed, listenersClosed]);
    })();
    return closing;
  };

  /**
   * Every socket closed with 1001 (clients come back); those that do not finish the close
   * handshake within SHUTDOWN_CUTOFF_MS are cut off. Resolves when all have closed, or at most
   * SHUTDOWN_CUTOFF_MS later than the cutoff.
   */
  function closeSockets(): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(cutoff);
        clearTimeout(giveUp);
        socketsClosed = null;
        resolve();
      };
      const cutoff = setTimeout(() => {
        for (const slice of slices) for (const peer of slice) peer.terminate();
      }, SHUTDOWN_CUTOFF_MS);
      const giveUp = setTimeout(done, SHUTDOWN_CUTOFF_MS * 2);
      socketsClosed = done;
      for (const slice of slices) for (const peer of slice) peer.close(CloseCode.GOING_AWAY, 'server shutting down');
      if (connections === 0) done();
    });
  }

  const setCertificate = (key: string, cert: string): void => tls?.setSecureContext({ key, cert });
  return { host, port, httpsPort: httpsPort(), stunPort: stun?.port ?? null, setCertificate, stats, close };
}

/** The port a listener listens on; 0 when it does not. */
function portOf(listener: Server): number {
  const address = listener.address();
  return typeof address === 'object' && address !== null ? address.port : 0;
}

/** Stops listening; plain HTTP connections (keep-alive, a static file under way) go now. */
function closeListener(listener: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!listener.listening) return resolve();
    listener.close(() => resolve());
    // Upgraded WebSocket sockets are not on that list and get their close handshake.
    listener.closeAllConnections();
  });
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

function refuseHost(res: ServerResponse, hostHeader: string | undefined): void {
  const shown = (hostHeader ?? '').slice(0, 100).replace(/[^\x20-\x7e]/g, '?');
  res
    .writeHead(403, { 'Content-Type': 'text/plain;charset=utf-8', 'Cache-Control': 'no-store' })
    .end(
      `HOST_NOT_ALLOWED: this padmesh server answers only to this machine's own names and addresses, ` +
        `not "${shown}". To use another name for it, start it with --allowed-host ${shown.split(':')[0] || 'NAME'}\n`,
    );
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

function unmapped(address: string): string {
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

/**
 * Every limit and timing of the signal server, in one place. Tests and benchmarks override
 * single fields through `createSignalServer({ limits: { … } })`.
 */
export interface RateLimit {
  /** Tokens refilled per second (the sustained rate). */
  perSecond: number;
  /** Bucket size (the burst a quiet client may send at once). */
  burst: number;
}

export interface Limits {
  /** Largest WebSocket frame accepted; bigger ones close the socket with 1009. ws's own default is 100 MiB. */
  maxPayloadBytes: number;
  /**
   * Largest `relay` frame, else TOO_LARGE (nothing forwarded). A relayed pad hit is about 100
   * bytes; without this, 64 KiB relays (2.6 ms of CPU each here) from two sockets filled a core.
   */
  maxRelayBytes: number;
  /** Largest `state` kept for a room (serialized JSON), else TOO_LARGE. */
  maxStateBytes: number;
  /** Controllers per room (the DAW is not counted). */
  roomCapacity: number;
  /** Rooms on one server, else SERVER_FULL. */
  maxRooms: number;
  /** Open WebSocket connections on one server; upgrades beyond get HTTP 503. Sized under this machine's 20,000 open files. */
  maxConnections: number;
  /**
   * Open TCP connections from one remote address, page loads and WebSockets together; more are
   * answered 429 and closed. (A browser opens about 6 per host; a phone needs 7 or so.)
   */
  maxConnectionsPerAddress: number;
  /**
   * A TCP connection that has not sent a whole request (headers) within this, or sits idle
   * between requests this long, is closed. WebSockets are exempt once upgraded (the heartbeat
   * watches them). Without it, a few hundred silent connections used up the open files. On
   * the HTTPS port (--https) the TLS handshake must finish within it too.
   */
  idleConnectionMs: number;
  /** Rooms whose DAW joined from one remote address, else SERVER_FULL. */
  maxRoomsPerAddress: number;
  /**
   * The heartbeat (signal/server.ts): the server visits every socket once per heartbeat; the
   * browser client pings every 2, and is dropped after missedHeartbeats of silence.
   */
  heartbeatMs: number;
  /**
   * A client that pings and is then silent this many heartbeats is terminated; so is one that
   * does not ping once a WebSocket ping has gone unanswered this long.
   */
  missedHeartbeats: number;
  /** How long a room outlives its DAW's connection before `session-closed`. */
  dawGraceMs: number;
  /**
   * How long a controller's place (and peerId) is kept after its connection drops. Its
   * resumeToken expires with it (1 to 1.5 windows after it dropped: tokens are renewed while connected).
   */
  resumeWindowMs: number;
  /**
   * How long a hostToken lives after it was issued; a connected DAW's is renewed every third of
   * that. So a DAW away (tab closed, server down) this long can no longer take its room back.
   */
  hostTokenTtlMs: number;
  /** A socket that has not joined by then is closed (4102). */
  joinTimeoutMs: number;
  /** Per-connection message rate. A pad-hit relay at 200 hits/s must fit under it. */
  messageRate: RateLimit;
  /**
   * Messages from one remote address, all its sockets together: several sockets cannot add
   * up past one phone's relay (250 hits/s) plus a DAW's traffic. Over it: RATE_LIMITED, dropped.
   */
  addressMessageRate: RateLimit;
  /** Bytes of messages from one remote address, all its sockets together (an SDP offer is ~5 KB). */
  addressByteRate: RateLimit;
  /** A member's name or colour change is told to the room at most once per this (coalesced: the latest wins). */
  profileNoticeMs: number;
  /**
   * A member's round trip is told to the DAW only when it changed by at least this much (ms)
   * and by RTT_NOTICE_SHARE of the last value told: RTT jitters; the list shows whole ms.
   */
  rttNoticeMs: number;
  /**
   * Wrong room PINs per room, from everyone together (the per-address failed-join rate also
   * applies): 10,000 PINs cannot be tried from many addresses at once. Over it: RATE_LIMITED.
   */
  pinAttemptRate: RateLimit;
  /** Messages the rate limit drops within one second before the socket is closed (4101). */
  floodCloseAfter: number;
  /** Per-remote-address rate of failed joins (unknown room, bad token): the guard against guessing room codes. */
  failedJoinRate: RateLimit;
  /** A socket whose unsent data on the server passes this is cut off (the client sees 1006): it is not reading. */
  maxBufferedBytes: number;
  /**
   * With `--redis` (signal/cluster.ts): a Redis command unanswered this long fails (ioredis's
   * `commandTimeout`), so a Redis that is connected but does not answer (stopped, swapping, a
   * long script) holds a join at most this long before it is decided here as if Redis were
   * down. A second unanswered command (a PING) confirms the stall: /healthz then says degraded
   * and nothing waits on Redis until it answers again. Redis answers in well under a millisecond;
   * this is long enough that a loaded machine does not trip it, short against the join timeout.
   */
  redisCommandTimeoutMs: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxPayloadBytes: 64 * 1024,
  maxRelayBytes: 2 * 1024,
  maxStateBytes: 16 * 1024,
  roomCapacity: 16,
  maxRooms: 10_000,
  maxConnections: 19_800,
  maxConnectionsPerAddress: 256,
  idleConnectionMs: 10_000,
  maxRoomsPerAddress: 16,
  heartbeatMs: 5_000,
  missedHeartbeats: 3,
  dawGraceMs: 60_000,
  resumeWindowMs: 60_000,
  hostTokenTtlMs: 24 * 60 * 60 * 1000,
  joinTimeoutMs: 10_000,
  messageRate: { perSecond: 300, burst: 600 },
  addressMessageRate: { perSecond: 600, burst: 1200 },
  addressByteRate: { perSecond: 256 * 1024, burst: 1024 * 1024 },
  profileNoticeMs: 1_000,
  rttNoticeMs: 5,
  pinAttemptRate: { perSecond: 0.2, burst: 20 },
  floodCloseAfter: 600,
  failedJoinRate: { perSecond: 1, burst: 20 },
  maxBufferedBytes: 1024 * 1024,
  redisCommandTimeoutMs: 2_000,
});

export function resolveLimits(overrides: Partial<Limits> = {}): Limits {
  const limits = { ...DEFAULT_LIMITS, ...overrides };
  for (const [key, value] of Object.entries(limits)) {
    const numbers = typeof value === 'number' ? [value] : [value.perSecond, value.burst];
    if (numbers.some((n) => !Number.isFinite(n) || n <= 0)) {
      throw new RangeError(`limits.${key} must be a positive number`);
    }
  }
  return limits;
}

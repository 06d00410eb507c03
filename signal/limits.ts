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
  /** Largest `state` kept for a room (serialized JSON), else TOO_LARGE. */
  maxStateBytes: number;
  /** Controllers per room (the DAW is not counted). */
  roomCapacity: number;
  /** Rooms on one server, else SERVER_FULL. */
  maxRooms: number;
  /** Open sockets on one server; upgrades beyond get HTTP 503. Sized under this machine's 20,000 open files. */
  maxConnections: number;
  /** Open sockets from one remote address; upgrades beyond get HTTP 429. */
  maxConnectionsPerAddress: number;
  /** Rooms whose DAW joined from one remote address, else SERVER_FULL. */
  maxRoomsPerAddress: number;
  /** Server ping interval; the client pings at the same rate. */
  heartbeatMs: number;
  /** A socket silent for this many heartbeats is terminated. */
  missedHeartbeats: number;
  /** How long a room outlives its DAW's connection before `session-closed`. */
  dawGraceMs: number;
  /** How long a controller's place (and peerId) is kept after its connection drops. */
  resumeWindowMs: number;
  /** A socket that has not joined by then is closed (4102). */
  joinTimeoutMs: number;
  /** Per-connection message rate. A pad-hit relay at 200 hits/s must fit under it. */
  messageRate: RateLimit;
  /** Messages the rate limit drops within one second before the socket is closed (4101). */
  floodCloseAfter: number;
  /** Per-remote-address rate of failed joins (unknown room, bad token): the guard against guessing room codes. */
  failedJoinRate: RateLimit;
  /** A socket whose unsent data on the server passes this is cut off (the client sees 1006): it is not reading. */
  maxBufferedBytes: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxPayloadBytes: 64 * 1024,
  maxStateBytes: 16 * 1024,
  roomCapacity: 16,
  maxRooms: 10_000,
  maxConnections: 19_800,
  maxConnectionsPerAddress: 256,
  maxRoomsPerAddress: 16,
  heartbeatMs: 5_000,
  missedHeartbeats: 3,
  dawGraceMs: 60_000,
  resumeWindowMs: 60_000,
  joinTimeoutMs: 10_000,
  messageRate: { perSecond: 300, burst: 600 },
  floodCloseAfter: 600,
  failedJoinRate: { perSecond: 1, burst: 20 },
  maxBufferedBytes: 1024 * 1024,
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

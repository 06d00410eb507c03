/**
 * Several signal server instances sharing rooms through Redis (`npm start -- --redis URL`).
 *
 * Each room has a **home**: the one instance whose RoomRegistry (signal/rooms.ts, unchanged
 * rules) holds it. A member connected to another instance is a `RemotePeer` there: its
 * instance forwards its frames to the home over Redis pub/sub, and the home's deliveries and
 * closings come back the same way. So the room rules run in one place, and this module is
 * only another transport of their effects.
 *
 * In Redis (every key under `padmesh:`, each with a TTL the heartbeat refreshes):
 * - `inst:<id>`: this instance is alive (3 heartbeats).
 * - `home:<code>`: which instance holds the room (3 heartbeats).
 * - `room:<code>`: the room's snapshot (members, peerIds, devices, state, access), written on
 *   each change, so another instance can take the room over when its home dies.
 * - `bans:<code>`: its ban lists (bans.ts records), for the hostToken's lifetime.
 * One pub/sub channel per instance (`i:<id>`): every message has exactly one recipient
 * instance, so each is published once and read by one subscriber (docs/architecture.md).
 *
 * Redis down: nothing waits on it. Rooms held here keep working for members connected here;
 * frames to and from other instances are dropped (pad hits are volatile; WebRTC signaling
 * retries); writes are redone in full when Redis is back, and instances reconcile who is
 * connected where (see `reconcile`).
 */
import { Redis } from 'ioredis';
import { nanoid } from 'nanoid';
import * as v from 'valibot';
import type { BanRecord } from './bans.ts';
import { CloseCode, ErrorCode, type IceServer, IceServerSchema, type ProtocolError } from './protocol.ts';

const PREFIX = 'padmesh:';
const INSTANCE = `${PREFIX}inst:`;
const HOME = `${PREFIX}home:`;
const ROOM = `${PREFIX}room:`;
const BANS = `${PREFIX}bans:`;
const CHANNEL = `${PREFIX}i:`;
/** Heartbeats an instance's and a home's keys outlive their last refresh. */
const KEY_LIFE_HEARTBEATS = 3;
/**
 * After Redis comes back, reconcile messages carry `fresh` for this long (ms, and at least 3
 * heartbeats): the other instances' connections come back at their own pace (retries ≤ 1 s apart).
 */
const FRESH_MS = 5_000;
/**
 * An instance whose channel has no subscriber is taken for dead only if it had none this long
 * (ms) before too: a live instance's subscriber reconnects in ~50 ms (see CLAIM).
 */
const DEAF_GRACE_MS = 1_000;
/** Claims a join makes while the room's home looks deaf (a grace apart), before it goes there anyway. */
const DEAF_CLAIMS = 3;
/**
 * A snapshot or ban list in Redis longer than this is refused before it is parsed: a room's
 * snapshot is its members (≤ 512 of a few hundred bytes) and its state (≤ limits.maxStateBytes).
 */
const MAX_SNAPSHOT_CHARS = 512 * 1024;
/** How much of a close reason WebSocket allows (bytes of UTF-8); `ws` throws on a longer one. */
const MAX_CLOSE_REASON_BYTES = 123;

// ─── the bus: messages between instances, each checked in full before anything is done ────
// `<kind>|<sender instance>|<socket id>|<rest>`: M frame, O open, C close (member → home);
// S send, X close (home → member); R reconcile (`R|<instance>||<fresh 0/1>|<ids>`).
/** An instance's id (nanoid(10)). */
const InstanceIdSchema = v.pipe(v.string(), v.regex(/^[\w-]{10}$/));
/** A proxied socket's id on its instance (a counter in base 36). */
const ProxyIdSchema = v.pipe(v.string(), v.regex(/^[0-9a-z]{1,11}$/));
/** `O`'s JSON: what the home needs of the member's connection. */
const OpenSchema = v.object({
  address: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
  iceServers: v.pipe(v.array(IceServerSchema), v.maxLength(16)),
});
/** `X`'s close: a code `ws` can send (or 1006: terminate), a reason it can carry. */
const CloseSchema = v.object({
  code: v.pipe(
    v.number(),
    v.integer(),
    v.check((code) => code === 1006 || isSendableCloseCode(code), 'is not a close code'),
  ),
  reason: v.pipe(
    v.string(),
    v.check((reason) => Buffer.byteLength(reason) <= MAX_CLOSE_REASON_BYTES, 'is too long'),
  ),
});
const ReconcileSchema = v.object({
  fresh: v.picklist(['0', '1']),
  ids: v.array(ProxyIdSchema),
});

/**
 * Who holds a room: its home if that instance is alive; else this instance takes it, with its
 * snapshot and bans, when there is a snapshot or it may create the room (a DAW with a token).
 * Alive: its key is there and its channel has a subscriber, or had one DEAF_GRACE_MS ago. A dead
 * process's connections close at once, so its subscription goes at once, long before its key
 * expires: its members, moved by the load balancer, take the room over within about a second
 * instead of up to 3 heartbeats later. A live instance's subscriber that reconnects (~50 ms) is
 * not taken for dead: the first claim that finds no subscriber only marks the instance (the mark
 * lives 4 graces) and answers [home, 'deaf']; the caller asks again a grace later, and the room is
 * taken only if there is still no subscriber and the mark is at least a grace old.
 * KEYS: home, room, bans. ARGV: me, key life (ms), instance key prefix, '1' if it may create,
 * channel prefix, grace (ms).
 * Returns [home] or [home, 'deaf'] (another instance), [me, snapshot, bans] (taken here), or []
 * (no such room).
 */
const CLAIM = `
local home = redis.call('GET', KEYS[1])
if home and home ~= ARGV[1] and redis.call('EXISTS', ARGV[3] .. home) == 1 then
  if redis.call('PUBSUB', 'NUMSUB', ARGV[5] .. home)[2] > 0 then return {home} end
  local mark = ARGV[3] .. home .. ':deaf'
  local left = redis.call('PTTL', mark)
  if left < 0 then
    redis.call('SET', mark, '1', 'PX', ARGV[6] * 4)
    return {home, 'deaf'}
  end
  if left > ARGV[6] * 3 then return {home, 'deaf'} end
end
local snapshot = redis.call('GET', KEYS[2])
if not snapshot and ARGV[4] ~= '1' then return {} end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return {ARGV[1], snapshot or false, redis.call('GET', KEYS[3]) or false}`;

/** A new room's code, if neither a home nor a snapshot has it. KEYS: home, room. ARGV: me, key life. */
const RESERVE = `
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`;

/**
 * Keeps this instance the home of a room, and writes its snapshot if one is given, unless another
 * instance took the room (then 0: this one hands it over, and never writes over the new home's
 * snapshot). KEYS: home, room. ARGV: me, key life, room life, snapshot ('' to keep the one there).
 */
const REFRESH = `
local home = redis.call('GET', KEYS[1])
if home and home ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if ARGV[4] ~= '' then redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[3])
else redis.call('PEXPIRE', KEYS[2], ARGV[3]) end
return 1`;

/** Lets go of a room's home key (its snapshot stays, for the instance that takes it over). KEYS: home. ARGV: me. */
const HAND_BACK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`;

/** A room that ended here: its home key and snapshot go, unless another instance holds it now. KEYS: home, room. ARGV: me. */
const RELEASE = `
local home = redis.call('GET', KEYS[1])
if home and home ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1], KEYS[2])
return 1`;

type ClusterRedis = Redis & {
  padmeshClaim(
    home: string,
    room: string,
    bans: string,
    me: string,
    life: number,
    inst: string,
    create: string,
    channel: string,
    grace: number,
  ): Promise<(string | null)[]>;
  padmeshReserve(home: string, room: string, me: string, life: number): Promise<number>;
};

/** A member connected to another instance, as the home's registry sees it: its connection handle. */
export class RemotePeer<B> {
  readonly key: string;
  /** 1 (OPEN) until closed: the server's `send` checks it as it checks a WebSocket's. */
  readyState = 1;
  /** Nothing is buffered here: Redis (and the member's own instance) does the buffering. */
  readonly bufferedAmount = 0;
  joined = false;
  pings = false;
  tokenIssuedAt = 0;
  private closeCode = 0;
  private closeReason = '';
  constructor(
    private readonly cluster: Cluster<ProxySocket, B>,
    readonly instance: string,
    readonly id: string,
    readonly address: string,
    readonly iceServers: IceServer[],
    readonly budget: B,
  ) {
    this.key = `${instance}|${id}`;
  }

  send(text: string): void {
    this.cluster.publish(this.instance, `S|${this.cluster.instanceId}|${this.id}|${text}`);
  }

  close(code: number, reason: string): void {
    if (this.readyState !== 1) return;
    this.readyState = 2;
    this.closeCode = code;
    this.closeReason = reason;
    this.closeAgain();
  }

  /** Sends its close (again, when its instance still lists it as open: the first was lost while Redis was down). */
  closeAgain(): void {
    this.cluster.publish(
      this.instance,
      closeMessage(this.cluster.instanceId, this.id, this.closeCode, this.closeReason),
    );
  }

  terminate(): void {
    this.close(1006, '');
  }
}

/** A local socket whose room's home is another instance: its frames are forwarded there. */
export interface ProxySocket {
  /** Its id on this instance, in messages to its home; null while not proxied. */
  proxyId: string | null;
  /** The instance holding its room; null while not proxied. */
  proxyHome: string | null;
}

/** What the server does for the cluster. */
export interface ClusterHost<L extends ProxySocket, B> {
  /** The budgets of a remote member's address (its failed joins count here, where the join is decided). */
  budgetOf(address: string): B;
  /** A frame a remote member sent, to handle as if it came from a socket here. */
  dispatch(peer: RemotePeer<B>, text: string): void;
  /** A remote member's socket is gone (closed on its instance, or its instance died). */
  disconnect(peer: RemotePeer<B>): void;
  /** The home sent this to a local proxied socket; false if it was malformed (a welcome that does not parse). */
  deliver(socket: L, text: string): boolean;
  /** The home closes a local proxied socket (code 1006: terminate it). */
  closeSocket(socket: L, code: number, reason: string): void;
  /** Another instance holds this room now: forget it here, its members here rejoin there (rooms.ts handOver). */
  handOver(code: string): void;
  /**
   * Room `code`, which this instance takes over: its snapshot and bans (either may be missing;
   * the bans are only that room's). Null when taken over (or already held); else why not.
   */
  restore(code: string, snapshot: unknown, bans: unknown): ProtocolError | null;
  exportRoom(code: string): unknown;
  exportBans(): BanRecord[];
  roomCodes(): Iterable<string>;
  /** What a remote member missed while Redis was down: the room's members as they stand now. */
  presence(peer: RemotePeer<B>): string[];
  warn(message: string): void;
}

export interface ClusterOptions {
  url: string;
  heartbeatMs: number;
  /** How long a room's snapshot outlives its last refresh: a room whose home died can be taken over that long. */
  roomLifeMs: number;
  /** How long a room's bans are kept in Redis (the hostToken's life: it can recreate the room that long). */
  banLifeMs: number;
  /** A Redis command unanswered this long fails, and Redis is taken for stalled (limits.redisCommandTimeoutMs). */
  commandTimeoutMs: number;
  /** Sockets an instance may hold (limits.maxConnections): a reconcile listing more is malformed. */
  maxConnections: number;
}

export interface ClusterStatus {
  /** `stalled`: connected, but commands go unanswered (limits.redisCommandTimeoutMs); treated as down. */
  redis: 'up' | 'down' | 'stalled';
  instance: string;
  /** Members of rooms held here connected to other instances. */
  remoteMembers: number;
  /** Sockets here whose rooms other instances hold. */
  proxied: number;
  /** Messages to other instances dropped while Redis was down. */
  dropped: number;
  /** Messages from other instances dropped as malformed. */
  malformed: number;
}

export class Cluster<L extends ProxySocket, B> {
  readonly instanceId = nanoid(10);
  private readonly redis: ClusterRedis;
  private readonly subscriber: Redis;
  private host: ClusterHost<L, B> | null = null;
  private up = false;
  /** When Redis was last (re)connected: instances are not declared dead before their keys could be rewritten. */
  private upSince = 0;
  private freshBeats = 0;
  private readonly freshBeatsAfterOutage: number;
  /** Each connection (commands, subscriber) is ready: both must be for `up`. */
  private commandsReady = false;
  private subscriberReady = false;
  /**
   * Redis is connected but does not answer: a command timed out, and a PING after it too. Down
   * until a PING is answered (the heartbeat sends one). See limits.redisCommandTimeoutMs.
   */
  private stalled = false;
  /** A PING is out, confirming a stall or looking for its end. */
  private pinging = false;
  private warnedDown = false;
  private wasUp = false;
  private nextProxyId = 0;
  private dropped = 0;
  private malformed = 0;
  /** A malformed message was told in this heartbeat: more are only counted (the log stays readable). */
  private malformedTold = false;
  /** Instances whose channel had no subscriber at the last heartbeat. */
  private readonly deafLastBeat = new Set<string>();
  /** Local sockets proxied to another instance, by their id. */
  private readonly proxies = new Map<string, L>();
  /** Remote members of rooms held here, by `instance|id`. */
  private readonly remotes = new Map<string, RemotePeer<B>>();
  private readonly dirtyRooms = new Set<string>();
  private bansDirty = false;
  private flushScheduled = false;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private readonly keyLifeMs: number;
  /** close() began: nothing more is written (a write after the release would claim a room's home key again). */
  private closing = false;
  /** Shared handlers for the relay hot path's PUBLISHes (no closure per message). */
  private readonly published = (): void => {};
  private readonly publishFailed = (error: unknown): void => {
    this.dropped += 1;
    this.failed(error);
  };

  constructor(private readonly options: ClusterOptions) {
    this.keyLifeMs = options.heartbeatMs * KEY_LIFE_HEARTBEATS;
    this.freshBeatsAfterOutage = Math.max(3, Math.ceil(FRESH_MS / options.heartbeatMs));
    const common = {
      // Reconnect for ever, quickly at first: the server runs on without Redis meanwhile.
      retryStrategy: (times: number) => Math.min(50 * times, 1_000),
      connectTimeout: 5_000,
      lazyConnect: true,
    };
    // No offline queue: a command while Redis is down fails at once instead of waiting (a pad
    // hit relayed a minute late is worse than one dropped), and none is retried after a reconnect.
    // A command Redis does not answer fails after commandTimeout (the ready check's INFO too, so a
    // stalled Redis is never taken for ready): nothing waits on Redis longer than that.
    this.redis = new Redis(options.url, {
      ...common,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: options.commandTimeoutMs,
      // The PUBLISHes of one tick (a DAW's relay to every phone, a burst of hits) go in one write.
      enableAutoPipelining: true,
    }) as ClusterRedis;
    // The subscriber only listens: nothing waits on it. (A timeout on its SUBSCRIBE, queued until
    // it is connected, could leave it connected and deaf.)
    this.subscriber = new Redis(options.url, { ...common, autoResubscribe: true, maxRetriesPerRequest: 0 });
    this.redis.defineCommand('padmeshClaim', { numberOfKeys: 3, lua: CLAIM });
    this.redis.defineCommand('padmeshReserve', { numberOfKeys: 2, lua: RESERVE });
  }

  /** Starts; resolves at once, whether or not Redis answers (the instance starts degraded then). */
  start(host: ClusterHost<L, B>): void {
    this.host = host;
    this.redis.on('ready', () => {
      this.commandsReady = true;
      // A new connection's ready check (INFO) was answered: Redis answers again.
      this.stalled = false;
      this.changed();
    });
    this.redis.on('close', () => {
      this.commandsReady = false;
      this.changed();
    });
    this.subscriber.on('ready', () => {
      // ioredis says ready before it has subscribed again: up only once the subscription stands
      // (until then other instances may see this one's channel without a subscriber).
      this.subscriber.subscribe(`${CHANNEL}${this.instanceId}`).then(
        () => {
          this.subscriberReady = true;
          this.changed();
        },
        () => {},
      );
    });
    this.subscriber.on('close', () => {
      this.subscriberReady = false;
      this.changed();
    });
    this.redis.on('error', (error: Error) => {
      if (!this.warnedDown) host.warn(`Redis: ${error.message}`);
      this.warnedDown = true;
    });
    this.subscriber.on('error', () => {}); // told once above, through the command connection
    this.subscriber.on('message', (_channel: string, message: string) => {
      try {
        this.receive(message);
      } catch (error) {
        // Every message is checked before it is acted on, so this is a bug; the process goes on.
        host.warn(`a message from another instance could not be handled: ${(error as Error).message}`);
      }
    });
    this.redis.connect().catch(() => {});
    this.subscriber.connect().catch(() => {});
    this.heartbeat = setInterval(() => void this.beat(), this.options.heartbeatMs);
  }

  /** Both connections ready and Redis answering: `up`; told when that changes. */
  private changed(): void {
    const host = this.host;
    if (!host) return;
    const up = this.commandsReady && this.subscriberReady && !this.stalled;
    if (up === this.up) return;
    this.up = up;
    if (up) {
      this.warnedDown = false;
      this.upSince = performance.now();
      // Back after an outage (not the first connection): members may have missed presence.
      if (this.wasUp) this.freshBeats = this.freshBeatsAfterOutage;
      this.wasUp = true;
      if (!this.closing) void this.rewriteAll();
    } else if (!this.closing) {
      host.warn(
        this.stalled
          ? `Redis does not answer (no reply within ${this.options.commandTimeoutMs} ms): rooms held here go on; ` +
              'other instances are cut off until it answers again'
          : 'Redis is unreachable: rooms held here go on; other instances are cut off until it is back',
      );
    }
  }

  /**
   * A command failed. A timeout while Redis seemed up may be this process's own stall (a busy
   * machine runs the timer before the reply is read): a PING decides. If it times out too,
   * Redis is stalled: down, until a PING is answered.
   */
  private failed(error: unknown): void {
    if (!isTimeout(error) || this.stalled || this.pinging || !this.up) return;
    this.ping((answered, error) => {
      // Not answered because the connection closed: that is an outage, told by its 'close'.
      if (answered || this.stalled || !isTimeout(error)) return;
      this.stalled = true;
      this.changed();
    });
  }

  private ping(then: (answered: boolean, error?: unknown) => void): void {
    this.pinging = true;
    this.redis.ping().then(
      () => {
        this.pinging = false;
        then(true);
      },
      (error: unknown) => {
        this.pinging = false;
        then(false, error);
      },
    );
  }

  status(): ClusterStatus {
    return {
      redis: this.up ? 'up' : this.stalled ? 'stalled' : 'down',
      instance: this.instanceId,
      remoteMembers: this.remotes.size,
      proxied: this.proxies.size,
      dropped: this.dropped,
      malformed: this.malformed,
    };
  }

  get isUp(): boolean {
    return this.up;
  }

  // ─── joining: which instance holds the room ────────────────────────────────────────────

  /**
   * Where a join for `code` is decided: 'here' (this instance holds the room, or now took it
   * over with its snapshot, or Redis is down or does not answer in time), or the id of the
   * instance that holds it; or why this instance, now its home, could not take it over (its
   * snapshot is malformed or of another room, or this instance is full): the join is refused
   * with that, and `release` lets the room go again if nothing here holds it.
   * `mayCreate`: a DAW with a hostToken, which recreates a room nobody holds.
   */
  async locate(code: string, mayCreate: boolean): Promise<string | ProtocolError> {
    if (!this.up) return 'here';
    let reply: (string | null)[] = [];
    for (let claim = 1; claim <= DEAF_CLAIMS; claim++) {
      try {
        reply = await this.redis.padmeshClaim(
          `${HOME}${code}`,
          `${ROOM}${code}`,
          `${BANS}${code}`,
          this.instanceId,
          this.keyLifeMs,
          INSTANCE,
          mayCreate ? '1' : '0',
          CHANNEL,
          DEAF_GRACE_MS,
        );
      } catch (error) {
        this.failed(error);
        return 'here';
      }
      // Its home has no subscriber: dead, or reconnecting. Ask again a grace later (see CLAIM).
      if (reply[1] !== 'deaf' || claim === DEAF_CLAIMS || !this.up) break;
      await new Promise((resolve) => setTimeout(resolve, DEAF_GRACE_MS));
    }
    const [home, snapshot, bans] = reply;
    if (typeof home !== 'string' || home === this.instanceId) {
      if (home === this.instanceId && this.host) {
        const refusal =
          typeof snapshot === 'string' && snapshot.length > MAX_SNAPSHOT_CHARS
            ? {
                code: ErrorCode.ROOM_NOT_FOUND,
                message: `room ${code}'s snapshot is larger than any room's (${snapshot.length} characters)`,
              }
            : this.host.restore(code, boundedJson(snapshot), roomBans(boundedJson(bans), code));
        if (refusal !== null) {
          this.host.warn(`room ${code} was not taken over: ${refusal.message}`);
          return refusal;
        }
      }
      return 'here';
    }
    return v.is(InstanceIdSchema, home) ? home : 'here';
  }

  /** Lets go of room `code`'s home key, claimed by `locate`, when no room here came of it. */
  release(code: string): void {
    if (!this.up || this.closing) return;
    this.redis.eval(HAND_BACK, 1, `${HOME}${code}`, this.instanceId).catch((error: unknown) => this.failed(error));
  }

  /** A fresh room code no instance holds, from `draw`; null when Redis cannot say (the caller draws locally). */
  async reserveCode(draw: () => string): Promise<string | null> {
    if (!this.up) return null;
    try {
      for (let attempt = 0; attempt < 16; attempt++) {
        const code = draw();
        if (
          (await this.redis.padmeshReserve(`${HOME}${code}`, `${ROOM}${code}`, this.instanceId, this.keyLifeMs)) === 1
        ) {
          return code;
        }
      }
    } catch (error) {
      this.failed(error);
    }
    return null;
  }

  /** From now on `socket`'s frames go to `home`, starting with its join (`joinText`). */
  proxy(socket: L, home: string, address: string, iceServers: IceServer[], joinText: string): void {
    const id = (this.nextProxyId++).toString(36);
    socket.proxyId = id;
    socket.proxyHome = home;
    this.proxies.set(id, socket);
    this.publish(home, `O|${this.instanceId}|${id}|${JSON.stringify({ address, iceServers })}`);
    this.forward(socket, joinText);
  }

  /** A frame from a proxied socket, to its home. The relay hot path: one string, one PUBLISH. */
  forward(socket: L, text: string): void {
    this.publish(socket.proxyHome as string, `M|${this.instanceId}|${socket.proxyId}|${text}`);
  }

  /** A proxied socket closed here. */
  proxyClosed(socket: L): void {
    const id = socket.proxyId;
    if (id === null) return;
    this.proxies.delete(id);
    this.publish(socket.proxyHome as string, `C|${this.instanceId}|${id}|`);
    socket.proxyId = null;
    socket.proxyHome = null;
  }

  publish(instance: string, message: string): void {
    if (!this.up) {
      this.dropped += 1;
      return;
    }
    this.redis.publish(`${CHANNEL}${instance}`, message).then(this.published, this.publishFailed);
  }

  // ─── what is kept in Redis ─────────────────────────────────────────────────────────────

  /** A room held here changed (or closed): its snapshot is rewritten soon, once for a burst of changes. */
  roomChanged(code: string): void {
    this.dirtyRooms.add(code);
    this.scheduleFlush();
  }

  /** The ban table changed: the lists of the rooms that changed are rewritten with them. */
  bansChanged(): void {
    this.bansDirty = true;
    this.scheduleFlush();
  }

  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      // Closing: close() writes what is dirty itself, before it lets go of the rooms.
      if (this.closing) return;
      const codes = [...this.dirtyRooms];
      this.dirtyRooms.clear();
      const bans = this.bansDirty;
      this.bansDirty = false;
      // While Redis is down nothing is written; `rewriteAll` writes everything when it is back.
      if (this.up) void this.write(codes, bans);
    });
  }

  private async write(codes: Iterable<string>, withBans: boolean): Promise<void> {
    const host = this.host;
    if (!host) return;
    const byRoom = withBans ? groupBans(host.exportBans()) : null;
    const pipeline = this.redis.pipeline();
    const me = this.instanceId;
    const refreshed: { code: string; index: number }[] = [];
    for (const code of codes) {
      const snapshot = host.exportRoom(code);
      if (snapshot === null) {
        pipeline.eval(RELEASE, 2, `${HOME}${code}`, `${ROOM}${code}`, me);
      } else {
        refreshed.push({ code, index: pipeline.length });
        pipeline.eval(
          REFRESH,
          2,
          `${HOME}${code}`,
          `${ROOM}${code}`,
          me,
          this.keyLifeMs,
          this.options.roomLifeMs,
          JSON.stringify(snapshot),
        );
      }
      if (byRoom !== null) {
        const records = byRoom.get(code);
        if (records === undefined) pipeline.del(`${BANS}${code}`);
        else pipeline.set(`${BANS}${code}`, JSON.stringify(records), 'PX', this.options.banLifeMs);
      }
    }
    const replies = await pipeline.exec().catch((error: unknown) => {
      this.failed(error);
      return null;
    });
    this.settle(replies);
    if (replies !== null && !this.closing) this.handOverLost(refreshed, replies);
  }

  /** A pipeline's replies: a command that timed out in it may mean Redis stalled. */
  private settle(replies: [Error | null, unknown][] | null | undefined): void {
    const timedOut = replies?.find(([error]) => isTimeout(error));
    if (timedOut !== undefined) this.failed(timedOut[0]);
  }

  /**
   * Rooms another instance took while this one could not keep its claim (its Redis connection
   * dropped, or it stalled past its key's life): handed over, so a room never has two homes.
   */
  private handOverLost(refreshed: { code: string; index: number }[], replies: [Error | null, unknown][]): void {
    for (const { code, index } of refreshed) {
      const [error, kept] = replies[index] ?? [null, 1];
      if (error !== null || kept !== 0) continue;
      this.dirtyRooms.delete(code);
      this.host?.warn(`room ${code} is held by another instance now: its members here rejoin there`);
      this.host?.handOver(code);
    }
  }

  /** Redis is (back) up: everything held here is written again (a restarted Redis holds nothing). */
  private async rewriteAll(): Promise<void> {
    const host = this.host;
    if (!host) return;
    await this.redis
      .set(`${INSTANCE}${this.instanceId}`, '1', 'PX', this.keyLifeMs)
      .catch((error: unknown) => this.failed(error));
    if (!this.closing) await this.write([...host.roomCodes()], true);
  }

  // ─── heartbeat: keys, dead instances, reconciliation ───────────────────────────────────

  private async beat(): Promise<void> {
    this.malformedTold = false;
    const host = this.host;
    if (!host) return;
    if (!this.up) {
      // Stalled: is Redis answering again? One PING at a time.
      if (this.stalled && !this.pinging && this.commandsReady) {
        this.ping((answered) => {
          if (!answered || !this.stalled) return;
          this.stalled = false;
          this.changed();
        });
      }
      return;
    }
    const me = this.instanceId;
    const pipeline = this.redis.pipeline();
    pipeline.set(`${INSTANCE}${me}`, '1', 'PX', this.keyLifeMs);
    const refreshed = [...host.roomCodes()].map((code) => {
      const index = pipeline.length;
      pipeline.eval(REFRESH, 2, `${HOME}${code}`, `${ROOM}${code}`, me, this.keyLifeMs, this.options.roomLifeMs, '');
      return { code, index };
    });
    // Which of the instances this one exchanges members with are still alive: their key is
    // there, and their channel has a subscriber (a dead process's subscription goes at once).
    const others = new Set<string>();
    for (const peer of this.remotes.values()) others.add(peer.instance);
    for (const socket of this.proxies.values()) others.add(socket.proxyHome as string);
    const checked = [...others].map((instance) => {
      const index = pipeline.length;
      pipeline.exists(`${INSTANCE}${instance}`);
      pipeline.pubsub('NUMSUB', `${CHANNEL}${instance}`);
      return { instance, index };
    });
    const replies = await pipeline.exec().catch((error: unknown) => {
      this.failed(error);
      return null;
    });
    if (replies === null) return;
    this.settle(replies);
    if (!this.up || this.closing) return;
    this.handOverLost(refreshed, replies);
    // Right after Redis came back, other instances may not have rewritten their keys yet.
    const settled = performance.now() - this.upSince >= this.keyLifeMs;
    for (const { instance, index } of checked) {
      const [keyError, exists] = replies[index] ?? [null, 1];
      const [subError, numsub] = replies[index + 1] ?? [null, [null, 1]];
      const subscribers = Array.isArray(numsub) ? Number(numsub[1]) : 1;
      if (!settled || keyError !== null || subError !== null) continue;
      // No subscriber on two heartbeats in a row (not one reconnect caught mid-way), or no key.
      const deaf = subscribers === 0;
      const deafBefore = this.deafLastBeat.has(instance);
      if (deaf) this.deafLastBeat.add(instance);
      else this.deafLastBeat.delete(instance);
      if (exists === 0 || (deaf && deafBefore)) {
        this.deafLastBeat.delete(instance);
        this.instanceDied(instance);
      }
    }
    this.reconcile();
  }

  /**
   * Another instance is gone (its key expired). Its members in rooms held here are away now
   * (they come back through another instance with their tokens); sockets here whose room it
   * held are closed with 1012, so their clients reconnect at once, and the instance they reach
   * takes the room over from its snapshot.
   */
  private instanceDied(instance: string): void {
    const host = this.host;
    if (!host) return;
    host.warn(`instance ${instance} is gone; its rooms are taken over where their members reconnect`);
    for (const [key, peer] of this.remotes) {
      if (peer.instance !== instance) continue;
      this.remotes.delete(key);
      peer.readyState = 3;
      host.disconnect(peer);
    }
    for (const socket of [...this.proxies.values()]) {
      if (socket.proxyHome === instance)
        host.closeSocket(socket, CloseCode.SERVICE_RESTART, 'its room moves to another instance');
    }
  }

  /**
   * Tells each instance holding rooms of sockets here which of them are still here (`R`), every
   * heartbeat: the home forgets members whose close it never heard (Redis was down), and closes
   * those it does not know (so they rejoin). `fresh` (after Redis came back): the home also
   * tells them the room's members as they stand, which they may have missed.
   */
  private reconcile(): void {
    const byHome = new Map<string, string[]>();
    for (const [id, socket] of this.proxies) {
      const home = socket.proxyHome as string;
      let ids = byHome.get(home);
      if (ids === undefined) {
        ids = [];
        byHome.set(home, ids);
      }
      ids.push(id);
    }
    const fresh = this.freshBeats > 0 ? '1' : '0';
    if (this.freshBeats > 0) this.freshBeats -= 1;
    for (const [home, ids] of byHome) this.publish(home, `R|${this.instanceId}||${fresh}|${ids.join(',')}`);
  }

  // ─── messages from other instances ─────────────────────────────────────────────────────

  /**
   * One message from the bus, checked in full before anything is done with it (Redis is
   * private to the instances, but another version, a bug or a stray publisher must not leave a
   * socket open that its home closed, or a member half-joined). A malformed one is dropped and
   * counted (`malformed` on /healthz) and told (once a heartbeat); where its sender still holds
   * a socket of this one's or the other way round, that socket is closed with 1012 so that its
   * client rejoins and both sides agree again.
   */
  private receive(message: string): void {
    const host = this.host;
    if (!host) return;
    const kind = message[0];
    const second = message.indexOf('|', 2);
    const third = second < 0 ? -1 : message.indexOf('|', second + 1);
    if (message[1] !== '|' || third < 0) return this.dropMalformed('no envelope');
    const rest = message.slice(third + 1);
    if (kind === 'M') {
      // The relay's hot path: a frame from a known member needs no more checking than this
      // lookup (its key is `instance|id`); the frame is parsed where it is handled (dispatch).
      const peer = this.remotes.get(message.slice(2, third));
      if (peer !== undefined) {
        if (peer.readyState === 1) host.dispatch(peer, rest);
        return;
      }
    }
    const instance = message.slice(2, second);
    const id = message.slice(second + 1, third);
    if (!v.is(InstanceIdSchema, instance)) return this.dropMalformed('a malformed instance id');
    if (kind === 'R') {
      if (id !== '') return this.dropMalformed('a reconcile names a socket');
      return this.reconciled(instance, rest);
    }
    if (!v.is(ProxyIdSchema, id)) return this.dropMalformed('a malformed socket id');
    switch (kind) {
      case 'M':
        return; // from a member no longer (or never) here: dropped
      case 'S': {
        const socket = this.proxies.get(id);
        if (socket === undefined) return; // closed here meanwhile
        if (socket.proxyHome !== instance) return this.dropMalformed('a send from an instance that is not its home');
        if (!host.deliver(socket, rest)) {
          this.dropMalformed('a welcome that does not parse');
          host.closeSocket(socket, CloseCode.SERVICE_RESTART, 'rejoin: a message from your room could not be read');
        }
        return;
      }
      case 'O':
        return this.opened(instance, id, rest);
      case 'C': {
        if (rest !== '') return this.dropMalformed('a close with a body');
        const key = `${instance}|${id}`;
        const peer = this.remotes.get(key);
        if (peer === undefined) return;
        this.remotes.delete(key);
        peer.readyState = 3;
        host.disconnect(peer);
        return;
      }
      case 'X': {
        const socket = this.proxies.get(id);
        if (socket === undefined) return; // closed here meanwhile
        if (socket.proxyHome !== instance) return this.dropMalformed('a close from an instance that is not its home');
        const bar = rest.indexOf('|');
        const close = v.safeParse(CloseSchema, {
          code: bar > 0 && /^\d{4}$/.test(rest.slice(0, bar)) ? Number(rest.slice(0, bar)) : Number.NaN,
          reason: bar < 0 ? '' : rest.slice(bar + 1),
        });
        if (close.success) {
          host.closeSocket(socket, close.output.code, close.output.reason);
        } else {
          // Its home closed it (it will not take its frames any more): it must not stay open and deaf.
          this.dropMalformed('a malformed close');
          host.closeSocket(socket, CloseCode.SERVICE_RESTART, 'rejoin: your room closed this connection');
        }
        return;
      }
      default:
        return this.dropMalformed(`an unknown kind "${String(kind).slice(0, 1)}"`);
    }
  }

  /** `O`: a member on `instance` opens a connection to a room held here. */
  private opened(instance: string, id: string, rest: string): void {
    const host = this.host;
    if (!host) return;
    const key = `${instance}|${id}`;
    // A second open would orphan the first handle, still bound in the registry.
    if (this.remotes.has(key)) return this.dropMalformed('a second open for one socket');
    const open = v.safeParse(OpenSchema, parseJson(rest));
    if (!open.success) {
      this.dropMalformed('a malformed open');
      // Its instance takes it for proxied here: tell it to rejoin (reconcile would, a heartbeat later).
      this.publish(
        instance,
        closeMessage(this.instanceId, id, CloseCode.SERVICE_RESTART, 'rejoin: your join could not be read'),
      );
      return;
    }
    const { address, iceServers } = open.output;
    const peer = new RemotePeer<B>(
      this as unknown as Cluster<ProxySocket, B>,
      instance,
      id,
      address,
      iceServers,
      host.budgetOf(address),
    );
    this.remotes.set(key, peer);
  }

  /** An instance's list of its sockets in rooms held here (see reconcile). */
  private reconciled(instance: string, rest: string): void {
    const host = this.host;
    if (!host) return;
    const bar = rest.indexOf('|');
    const list = rest.slice(bar + 1);
    const parsed = v.safeParse(ReconcileSchema, {
      fresh: bar === 1 ? rest[0] : '',
      ids: list === '' ? [] : list.split(',', this.options.maxConnections + 1),
    });
    if (!parsed.success || parsed.output.ids.length > this.options.maxConnections)
      return this.dropMalformed('a malformed reconcile');
    const fresh = parsed.output.fresh === '1';
    const ids = new Set(parsed.output.ids);
    for (const [key, peer] of this.remotes) {
      if (peer.instance !== instance) continue;
      if (!ids.has(peer.id)) {
        this.remotes.delete(key);
        peer.readyState = 3;
        host.disconnect(peer);
      } else if (peer.readyState !== 1) {
        // Closed here, yet still open there: its close was lost (Redis was down, or a publish
        // failed). Open, it would stay deaf (its frames are not taken here any more) until its
        // client gave up on its silence.
        peer.closeAgain();
      } else if (fresh) {
        for (const text of host.presence(peer)) peer.send(text);
      }
    }
    for (const id of ids) {
      if (!this.remotes.has(`${instance}|${id}`)) {
        this.publish(
          instance,
          closeMessage(this.instanceId, id, CloseCode.SERVICE_RESTART, "rejoin: this room's home lost track of you"),
        );
      }
    }
  }

  /** A malformed message from the bus: dropped, counted, told once a heartbeat. */
  private dropMalformed(why: string): void {
    this.malformed += 1;
    if (this.malformedTold) return;
    this.malformedTold = true;
    this.host?.warn(`a malformed message from another instance was dropped (${why}; ${this.malformed} so far)`);
  }

  /**
   * Lets go of every room held here, so other instances take them over at once, and of Redis.
   * Called once this instance's own sockets are closed (signal/server.ts), so that their
   * leaving is in the snapshots and no frame of theirs changes a room another instance now
   * holds: what is dirty is written, then the home keys and this instance's key are released,
   * then members connected elsewhere are closed with 1012 (they rejoin where the load balancer
   * sends them, and take their rooms over). Each step is bounded by the command timeout.
   */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    this.closing = true;
    const host = this.host;
    if (this.up && host) {
      const codes = [...host.roomCodes()];
      const dirty = [...this.dirtyRooms];
      this.dirtyRooms.clear();
      await this.write(dirty, this.bansDirty);
      const pipeline = this.redis.pipeline();
      for (const code of codes) pipeline.eval(HAND_BACK, 1, `${HOME}${code}`, this.instanceId);
      pipeline.del(`${INSTANCE}${this.instanceId}`);
      await pipeline.exec().catch(() => {});
      const closings: Promise<unknown>[] = [];
      for (const peer of this.remotes.values()) {
        closings.push(
          this.redis
            .publish(
              `${CHANNEL}${peer.instance}`,
              closeMessage(this.instanceId, peer.id, CloseCode.SERVICE_RESTART, "this room's instance is stopping"),
            )
            .catch(() => {}),
        );
      }
      await Promise.all(closings);
    }
    this.redis.disconnect();
    this.subscriber.disconnect();
  }
}

/** The home's `X` to a member's instance: close that socket (code 1006: terminate it). */
function closeMessage(from: string, socket: string, code: number, reason: string): string {
  return `X|${from}|${socket}|${code}|${reason}`;
}

/** Whether `ws` can send this close code (RFC 6455's registered codes it allows, and 3000–4999). */
function isSendableCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1014 && code !== 1004 && code !== 1005 && code !== 1006) || (code >= 3000 && code <= 4999)
  );
}

function isTimeout(error: unknown): boolean {
  return error instanceof Error && error.message === 'Command timed out';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A snapshot or ban list from Redis: null when absent, not JSON, or longer than any real one (then `undefined`: refused). */
function boundedJson(text: string | null | undefined): unknown {
  if (typeof text !== 'string') return null;
  if (text.length > MAX_SNAPSHOT_CHARS) return undefined;
  return parseJson(text) ?? undefined;
}

/** Only the records of room `code`: a room's list must not ban anyone from another room. */
function roomBans(records: unknown, code: string): unknown {
  if (!Array.isArray(records)) return null;
  return records.filter((record) => typeof record === 'object' && record !== null && record.room === code);
}

function groupBans(records: BanRecord[]): Map<string, BanRecord[]> {
  const byRoom = new Map<string, BanRecord[]>();
  for (const record of records) {
    const list = byRoom.get(record.room);
    if (list === undefined) byRoom.set(record.room, [record]);
    else list.push(record);
  }
  return byRoom;
}

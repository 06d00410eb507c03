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
import type { BanRecord } from './bans.ts';
import { CloseCode, type IceServer } from './protocol.ts';

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
 * Who holds a room: its home if that instance is alive; else this instance takes it, with its
 * snapshot and bans, when there is a snapshot or it may create the room (a DAW with a token).
 * Alive: its key is there and its channel has a subscriber. A dead process's connections close
 * at once, so its subscription goes at once, long before its key expires: its members, moved by
 * the load balancer, take the room over at their first try instead of up to 3 heartbeats later.
 * KEYS: home, room, bans. ARGV: me, key life (ms), instance key prefix, '1' if it may create,
 * channel prefix.
 * Returns [home] (another instance), [me, snapshot, bans] (taken here), or [] (no such room).
 */
const CLAIM = `
local home = redis.call('GET', KEYS[1])
if home and home ~= ARGV[1] and redis.call('EXISTS', ARGV[3] .. home) == 1
  and redis.call('PUBSUB', 'NUMSUB', ARGV[5] .. home)[2] > 0 then return {home} end
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
    this.cluster.publish(this.instance, `X|${this.cluster.instanceId}|${this.id}|${code}|${reason}`);
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
  /** The home sent this to a local proxied socket. */
  deliver(socket: L, text: string): void;
  /** The home closes a local proxied socket (code 1006: terminate it). */
  closeSocket(socket: L, code: number, reason: string): void;
  /** Another instance holds this room now: forget it here, its members here rejoin there (rooms.ts handOver). */
  handOver(code: string): void;
  /** A room this instance takes over: its snapshot and bans (either may be missing). */
  restore(snapshot: unknown, bans: unknown): void;
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
}

export interface ClusterStatus {
  redis: 'up' | 'down';
  instance: string;
  /** Members of rooms held here connected to other instances. */
  remoteMembers: number;
  /** Sockets here whose rooms other instances hold. */
  proxied: number;
  /** Messages to other instances dropped while Redis was down. */
  dropped: number;
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
  private wasUp = false;
  private nextProxyId = 0;
  private dropped = 0;
  /** Local sockets proxied to another instance, by their id. */
  private readonly proxies = new Map<string, L>();
  /** Remote members of rooms held here, by `instance|id`. */
  private readonly remotes = new Map<string, RemotePeer<B>>();
  private readonly dirtyRooms = new Set<string>();
  private bansDirty = false;
  private flushScheduled = false;
  private heartbeat: ReturnType<typeof setInterval> | undefined;
  private readonly keyLifeMs: number;
  private closing = false;

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
    this.redis = new Redis(options.url, {
      ...common,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // The PUBLISHes of one tick (a DAW's relay to every phone, a burst of hits) go in one write.
      enableAutoPipelining: true,
    }) as ClusterRedis;
    this.subscriber = new Redis(options.url, { ...common, autoResubscribe: true, maxRetriesPerRequest: 0 });
    this.redis.defineCommand('padmeshClaim', { numberOfKeys: 3, lua: CLAIM });
    this.redis.defineCommand('padmeshReserve', { numberOfKeys: 2, lua: RESERVE });
  }

  /** Starts; resolves at once, whether or not Redis answers (the instance starts degraded then). */
  start(host: ClusterHost<L, B>): void {
    this.host = host;
    let warnedDown = false;
    const changed = (): void => {
      const up = this.commandsReady && this.subscriberReady;
      if (up === this.up) return;
      this.up = up;
      if (up) {
        warnedDown = false;
        this.upSince = performance.now();
        // Back after an outage (not the first connection): members may have missed presence.
        if (this.wasUp) this.freshBeats = this.freshBeatsAfterOutage;
        this.wasUp = true;
        void this.rewriteAll();
      } else if (!this.closing) {
        host.warn('Redis is unreachable: rooms held here go on; other instances are cut off until it is back');
      }
    };
    this.redis.on('ready', () => {
      this.commandsReady = true;
      changed();
    });
    this.redis.on('close', () => {
      this.commandsReady = false;
      changed();
    });
    this.subscriber.on('ready', () => {
      this.subscriberReady = true;
      changed();
    });
    this.subscriber.on('close', () => {
      this.subscriberReady = false;
      changed();
    });
    this.redis.on('error', (error: Error) => {
      if (!warnedDown) host.warn(`Redis: ${error.message}`);
      warnedDown = true;
    });
    this.subscriber.on('error', () => {}); // told once above, through the command connection
    this.subscriber.on('message', (_channel: string, message: string) => {
      try {
        this.receive(message);
      } catch (error) {
        host.warn(`a message from another instance could not be handled: ${(error as Error).message}`);
      }
    });
    this.redis.connect().catch(() => {});
    this.subscriber.connect().catch(() => {});
    this.subscriber.subscribe(`${CHANNEL}${this.instanceId}`).catch(() => {});
    this.heartbeat = setInterval(() => void this.beat(), this.options.heartbeatMs);
  }

  status(): ClusterStatus {
    return {
      redis: this.up ? 'up' : 'down',
      instance: this.instanceId,
      remoteMembers: this.remotes.size,
      proxied: this.proxies.size,
      dropped: this.dropped,
    };
  }

  get isUp(): boolean {
    return this.up;
  }

  // ─── joining: which instance holds the room ────────────────────────────────────────────

  /**
   * Where a join for `code` is decided: 'here' (this instance holds the room, or now took it
   * over with its snapshot, or Redis is down), or the id of the instance that holds it.
   * `mayCreate`: a DAW with a hostToken, which recreates a room nobody holds.
   */
  async locate(code: string, mayCreate: boolean): Promise<string> {
    if (!this.up) return 'here';
    try {
      const reply = await this.redis.padmeshClaim(
        `${HOME}${code}`,
        `${ROOM}${code}`,
        `${BANS}${code}`,
        this.instanceId,
        this.keyLifeMs,
        INSTANCE,
        mayCreate ? '1' : '0',
        CHANNEL,
      );
      const [home, snapshot, bans] = reply;
      if (home === undefined || home === null || home === this.instanceId) {
        if (home === this.instanceId) this.host?.restore(parseJson(snapshot), parseJson(bans));
        return 'here';
      }
      return home;
    } catch {
      return 'here';
    }
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
    } catch {}
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
    this.redis.publish(`${CHANNEL}${instance}`, message).catch(() => {
      this.dropped += 1;
    });
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
    const replies = await pipeline.exec().catch(() => null);
    if (replies !== null) this.handOverLost(refreshed, replies);
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
    await this.redis.set(`${INSTANCE}${this.instanceId}`, '1', 'PX', this.keyLifeMs).catch(() => {});
    await this.write([...host.roomCodes()], true);
  }

  // ─── heartbeat: keys, dead instances, reconciliation ───────────────────────────────────

  private async beat(): Promise<void> {
    const host = this.host;
    if (!host || !this.up) return;
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
    const replies = await pipeline.exec().catch(() => null);
    if (replies === null) return;
    this.handOverLost(refreshed, replies);
    // Right after Redis came back, other instances may not have rewritten their keys yet.
    const settled = performance.now() - this.upSince >= this.keyLifeMs;
    for (const { instance, index } of checked) {
      const [keyError, exists] = replies[index] ?? [null, 1];
      const [subError, numsub] = replies[index + 1] ?? [null, [null, 1]];
      const subscribers = Array.isArray(numsub) ? Number(numsub[1]) : 1;
      if (settled && keyError === null && subError === null && (exists === 0 || subscribers === 0))
        this.instanceDied(instance);
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

  private receive(message: string): void {
    const host = this.host;
    if (!host) return;
    const kind = message[0];
    const second = message.indexOf('|', 2);
    const third = message.indexOf('|', second + 1);
    if (message[1] !== '|' || second < 0 || third < 0) return;
    const instance = message.slice(2, second);
    const id = message.slice(second + 1, third);
    const rest = message.slice(third + 1);
    switch (kind) {
      case 'M': {
        const peer = this.remotes.get(message.slice(2, third));
        if (peer !== undefined && peer.readyState === 1) host.dispatch(peer, rest);
        return;
      }
      case 'S': {
        const socket = this.proxies.get(id);
        if (socket !== undefined) host.deliver(socket, rest);
        return;
      }
      case 'O': {
        const { address, iceServers } = JSON.parse(rest) as { address: string; iceServers: IceServer[] };
        const peer = new RemotePeer<B>(
          this as unknown as Cluster<ProxySocket, B>,
          instance,
          id,
          String(address),
          Array.isArray(iceServers) ? iceServers : [],
          host.budgetOf(String(address)),
        );
        this.remotes.set(peer.key, peer);
        return;
      }
      case 'C': {
        const key = message.slice(2, third);
        const peer = this.remotes.get(key);
        if (peer === undefined) return;
        this.remotes.delete(key);
        peer.readyState = 3;
        host.disconnect(peer);
        return;
      }
      case 'X': {
        const socket = this.proxies.get(id);
        const bar = rest.indexOf('|');
        if (socket !== undefined) host.closeSocket(socket, Number(rest.slice(0, bar)), rest.slice(bar + 1));
        return;
      }
      case 'R':
        return this.reconciled(instance, rest[0] === '1', rest.slice(2));
    }
  }

  /** An instance's list of its sockets in rooms held here (see reconcile). */
  private reconciled(instance: string, fresh: boolean, list: string): void {
    const host = this.host;
    if (!host) return;
    const ids = new Set(list === '' ? [] : list.split(','));
    for (const [key, peer] of this.remotes) {
      if (peer.instance !== instance) continue;
      if (!ids.has(peer.id)) {
        this.remotes.delete(key);
        peer.readyState = 3;
        host.disconnect(peer);
      } else if (fresh) {
        for (const text of host.presence(peer)) peer.send(text);
      }
    }
    for (const id of ids) {
      if (!this.remotes.has(`${instance}|${id}`)) {
        this.publish(
          instance,
          `X|${this.instanceId}|${id}|${CloseCode.SERVICE_RESTART}|rejoin: this room's home lost track of you`,
        );
      }
    }
  }

  /** Lets go of every room held here (other instances take them over at once) and of Redis. */
  async close(): Promise<void> {
    clearInterval(this.heartbeat);
    this.closing = true;
    const host = this.host;
    if (this.up && host) {
      const codes = [...host.roomCodes()];
      await this.write([...this.dirtyRooms], this.bansDirty);
      const pipeline = this.redis.pipeline();
      for (const code of codes) pipeline.eval(HAND_BACK, 1, `${HOME}${code}`, this.instanceId);
      pipeline.del(`${INSTANCE}${this.instanceId}`);
      await pipeline.exec().catch(() => {});
    }
    this.redis.disconnect();
    this.subscriber.disconnect();
  }
}

function parseJson(text: string | null | undefined): unknown {
  if (typeof text !== 'string') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
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

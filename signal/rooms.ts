/**
 * The room registry: who is in which room, under which peerId, over which connection. Pure:
 * no sockets, no timers, no clock of its own. Each call returns the messages to deliver and
 * the connections to close; signal/server.ts carries them out. `C` is whatever the transport
 * uses as a connection handle.
 */
import * as v from 'valibot';
import { type BanList, type BanRecord, BanTable } from './bans.ts';
import type { RateLimit } from './limits.ts';
import {
  type Access,
  AccessSchema,
  CloseCode,
  ColorSchema,
  DeviceIdSchema,
  ErrorCode,
  type IceServer,
  isReservedName,
  type JoinMessage,
  MAX_NAME_LENGTH,
  type Member,
  type MemberLeftReason,
  nameKey,
  nameProblem,
  normalizeRoomCode,
  PeerIdSchema,
  PLAYER_COLORS,
  PROTOCOL_VERSION,
  type ProtocolError,
  RoleSchema,
  type RoomState,
  RoomStateSchema,
  type ServerMessage,
  type SessionClosedReason,
  type WelcomeMessage,
} from './protocol.ts';
import { TokenBucket } from './token-bucket.ts';
import type { TokenSigner } from './tokens.ts';

export interface Delivery<C> {
  to: readonly C[];
  message: ServerMessage;
}
export interface Closing<C> {
  conn: C;
  code: number;
  reason: string;
}
/** What the transport must do after a registry call, in order: deliver, then close. */
export interface Effects<C> {
  deliveries: Delivery<C>[];
  closings: Closing<C>[];
  /** The ban table changed: whoever keeps it across restarts should write `exportBans()`. */
  bansChanged: boolean;
}
export interface Failure {
  ok: false;
  error: ProtocolError;
  /** Set when the socket must also be closed (terminal errors). */
  closeCode?: number;
}
export type Outcome<C, T = object> = ({ ok: true; effects: Effects<C> } & T) | Failure;

interface MemberRecord<C> {
  /** The wire shape, kept current in place and sent as is. */
  readonly info: Member;
  /** The browser's id: never sent to anyone (a deviceId seen by others could be used to impersonate). */
  deviceId: string;
  /** Null while away. */
  conn: C | null;
  /** Remote address of the latest connection (bans take it). */
  address: string;
  /** When an away member is given up (ms); meaningless while connected. */
  awayUntil: number;
  /** When the room was last told of this member's name or colour (profile changes are coalesced). */
  profileToldAt: number;
  /** The RTT the DAW was last told (RTT notices only for meaningful changes). */
  rttTold: number | null;
  /** nameKey(info.name), kept with it: every join compares the newcomer's name with everyone's. */
  nameKey: string;
}

interface Room<C> {
  readonly code: string;
  /** Remote address the DAW created (or recreated) the room from: rooms per address are capped. */
  readonly createdFrom: string;
  readonly daw: MemberRecord<C>;
  readonly controllers: Map<string, MemberRecord<C>>;
  state: RoomState | undefined;
  /** Who may join (the DAW's lock and PIN). */
  access: Access;
  /** Wrong PINs, from everyone together. */
  readonly pinAttempts: TokenBucket;
  /** Kicked devices, addresses and peerIds (they outlive this object: bans.ts); none until the first kick. */
  bans: BanList | undefined;
  /** Controllers ever joined: numbers default names ("Player 3"). */
  joins: number;
}

/** A joined connection's place: the transport looks this up once per inbound message. */
export interface Binding<C> {
  readonly room: Room<C>;
  readonly member: MemberRecord<C>;
}

export interface RegistryOptions {
  signer: TokenSigner;
  roomCapacity: number;
  maxRooms: number;
  maxRoomsPerAddress: number;
  dawGraceMs: number;
  resumeWindowMs: number;
  /** How long a hostToken lives from when it was issued (renewed while its DAW is connected). */
  hostTokenTtlMs: number;
  /** Name and colour changes are told to the room at most once per this (ms). */
  profileNoticeMs: number;
  /** RTT changes smaller than this (ms) are not told to the DAW. */
  rttNoticeMs: number;
  /** Wrong PINs per room. */
  pinAttemptRate: RateLimit;
  newRoomCode: () => string;
  newPeerId: () => string;
  /**
   * Told the code of a room whose members, profiles, state or access changed, or that closed
   * (`exportRoom` then gives null): several instances keep a copy in Redis (signal/cluster.ts).
   */
  onRoomChange?: (code: string) => void;
}

/**
 * A room as another instance needs it to take the room over (signal/cluster.ts keeps it in
 * Redis): who is in it under which peerId and device, its state and access. The first member
 * is its DAW. Connections and timers are not in it: restored members are away.
 */
const SnapshotMemberSchema = v.object({
  peerId: PeerIdSchema,
  role: RoleSchema,
  // As a join or profile leaves it: the wire's name rules, trimmed, never empty (the server names the nameless).
  name: v.pipe(
    v.string(),
    v.minLength(1),
    v.check((name) => name === name.trim() && nameProblem(name) === null, 'is not a name a member could have'),
  ),
  color: ColorSchema,
  joinedAt: v.pipe(v.number(), v.finite()),
  deviceId: DeviceIdSchema,
  address: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
});
/** Snapshots come from Redis, so from another process: checked as hostile as any frame from the network. */
export const RoomSnapshotSchema = v.pipe(
  v.object({
    code: v.pipe(v.string(), v.regex(/^[\w-]{1,32}$/)),
    createdFrom: v.pipe(v.string(), v.minLength(1), v.maxLength(64)),
    members: v.pipe(v.array(SnapshotMemberSchema), v.minLength(1), v.maxLength(512)),
    state: v.optional(RoomStateSchema),
    access: AccessSchema,
    joins: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(Number.MAX_SAFE_INTEGER)),
  }),
  v.check(
    ({ members }) => members.every((member, index) => (member.role === 'daw') === (index === 0)),
    'its first member, and only that one, is the DAW',
  ),
  v.check(
    ({ members }) => members.every((member, index) => index === 0 || !isReservedName(member.name)),
    "a controller has the DAW's name",
  ),
  v.check(({ members }) => new Set(members.map((m) => m.peerId)).size === members.length, 'two members share a peerId'),
  v.check(
    ({ members }) => new Set(members.map((m) => m.deviceId)).size === members.length,
    'two members share a deviceId',
  ),
);
export type RoomSnapshot = v.InferOutput<typeof RoomSnapshotSchema>;

export interface JoinContext {
  now: number;
  address: string;
  iceServers: IceServer[];
  heartbeatMs: number;
}

/** A token and when it stops working (ms since the epoch). */
export interface IssuedToken {
  token: string;
  expiresAt: number;
}

export interface Joined {
  welcome: WelcomeMessage;
  token: IssuedToken;
}

const DAW_COLOR = '#eef0f5';
const OPEN_ACCESS: Readonly<Access> = Object.freeze({ locked: false, pin: null });

/** An RTT change must also be this share of the value last told to be worth a notice. */
const RTT_NOTICE_SHARE = 0.5;
/** Each RTT sample moves a member's RTT this share of the way (TCP's SRTT gain, RFC 6298). */
const RTT_SMOOTHING = 1 / 8;
/**
 * A resume token lives 1.5 resume windows and is renewed once a third of that has passed, so
 * whenever a member drops, its token works for between one and 1.5 resume windows more.
 */
const RESUME_TOKEN_LIFE = 1.5;
/** Tokens are renewed once this share of their life has passed. */
const RENEW_AFTER_SHARE = 1 / 3;

const fail = (code: ErrorCode, message: string, closeCode?: number): Failure =>
  closeCode === undefined
    ? { ok: false, error: { code, message } }
    : { ok: false, error: { code, message }, closeCode };

export class RoomRegistry<C> {
  private readonly rooms = new Map<string, Room<C>>();
  private readonly bindings = new Map<C, Binding<C>>();
  /** Members whose connection is down, with their room: what `sweep` looks at. */
  private readonly away = new Map<MemberRecord<C>, Room<C>>();
  /** Members with a profile change not yet told (it waits for profileNoticeMs), with their room. */
  private readonly profilesDue = new Map<MemberRecord<C>, Room<C>>();
  /** Rooms per creating address. */
  private readonly roomsByAddress = new Map<string, number>();
  private readonly bans: BanTable;
  private bansSweptAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: RegistryOptions) {
    this.bans = new BanTable(options.hostTokenTtlMs);
  }

  get roomCount(): number {
    return this.rooms.size;
  }

  get memberCount(): number {
    return this.bindings.size + this.away.size;
  }

  get resumeTokenTtlMs(): number {
    return this.options.resumeWindowMs * RESUME_TOKEN_LIFE;
  }

  binding(conn: C): Binding<C> | undefined {
    return this.bindings.get(conn);
  }

  hasRoom(code: string): boolean {
    return this.rooms.has(code);
  }

  /** The codes of every room held here. */
  roomCodes(): IterableIterator<string> {
    return this.rooms.keys();
  }

  /** The room as another instance needs it to take it over; null if no such room is held here. */
  exportRoom(code: string): RoomSnapshot | null {
    const room = this.rooms.get(code);
    if (!room) return null;
    const snapshot: RoomSnapshot = {
      code,
      createdFrom: room.createdFrom,
      members: [room.daw, ...room.controllers.values()].map((member) => ({
        peerId: member.info.peerId,
        role: member.info.role,
        name: member.info.name,
        color: member.info.color,
        joinedAt: member.info.joinedAt,
        deviceId: member.deviceId,
        address: member.address,
      })),
      access: { ...room.access },
      joins: room.joins,
    };
    if (room.state !== undefined) snapshot.state = room.state;
    return snapshot;
  }

  /**
   * Takes over room `code`, which another instance held (it died, or Redis says this one is now
   * its home), from its snapshot: every member is away, with its grace or resume window from
   * `now`, so each comes back with its token under its peerId, or is given up as usual. A room
   * already held here is left as it is (null). A snapshot that does not check out, or is of
   * another room, or a registry holding maxRooms already, changes nothing: the refusal says why.
   */
  restoreRoom(code: string, value: unknown, now: number): Failure | null {
    if (this.rooms.has(code)) return null;
    const parsed = v.safeParse(RoomSnapshotSchema, value, { abortEarly: true });
    if (!parsed.success) {
      const [issue] = parsed.issues;
      const path = v.getDotPath(issue);
      return fail(ErrorCode.ROOM_NOT_FOUND, `room ${code}'s snapshot is malformed (${path ?? 'it'}: ${issue.message})`);
    }
    const snapshot = parsed.output;
    if (snapshot.code !== code) {
      return fail(ErrorCode.ROOM_NOT_FOUND, `room ${code}'s snapshot is of another room (${snapshot.code})`);
    }
    if (this.rooms.size >= this.options.maxRooms) {
      return fail(ErrorCode.SERVER_FULL, 'this server holds as many rooms as it can');
    }
    const [dawEntry, ...controllerEntries] = snapshot.members;
    if (dawEntry === undefined) return fail(ErrorCode.ROOM_NOT_FOUND, `room ${code}'s snapshot has no DAW`);
    const restored = (entry: RoomSnapshot['members'][number], windowMs: number): MemberRecord<C> => ({
      info: {
        peerId: entry.peerId,
        role: entry.role,
        name: entry.name,
        color: entry.color,
        joinedAt: entry.joinedAt,
        state: 'away',
        rttMs: null,
      },
      deviceId: entry.deviceId,
      conn: null,
      address: entry.address,
      awayUntil: now + windowMs,
      profileToldAt: Number.NEGATIVE_INFINITY,
      rttTold: null,
      nameKey: nameKey(entry.name),
    });
    const daw = restored(dawEntry, this.options.dawGraceMs);
    const room: Room<C> = {
      code: snapshot.code,
      createdFrom: snapshot.createdFrom,
      daw,
      controllers: new Map(),
      state: snapshot.state,
      access: { locked: snapshot.access.locked, pin: snapshot.access.pin },
      pinAttempts: new TokenBucket(this.options.pinAttemptRate, now),
      bans: this.bans.opened(snapshot.code, daw.info.peerId),
      joins: snapshot.joins,
    };
    this.away.set(daw, room);
    // A snapshot from an instance allowed more controllers keeps the first roomCapacity (checked above: all controllers, all distinct).
    for (const entry of controllerEntries.slice(0, this.options.roomCapacity)) {
      const controller = restored(entry, this.options.resumeWindowMs);
      room.controllers.set(entry.peerId, controller);
      this.away.set(controller, room);
    }
    this.rooms.set(room.code, room);
    this.roomsByAddress.set(room.createdFrom, (this.roomsByAddress.get(room.createdFrom) ?? 0) + 1);
    return null;
  }

  /**
   * Another instance is now this room's home (signal/cluster.ts: it took the room over while
   * this one could not keep its claim): the room is forgotten here without being ended, and
   * every member connected here is closed with SERVICE_RESTART, so it rejoins through the room's
   * new home under its peerId. A room not held here changes nothing.
   */
  handOver(code: string, now: number): Effects<C> {
    const effects = newEffects<C>();
    const room = this.rooms.get(code);
    if (!room) return effects;
    for (const member of [room.daw, ...room.controllers.values()]) {
      const conn = this.detach(member);
      if (conn !== null)
        effects.closings.push({ conn, code: CloseCode.SERVICE_RESTART, reason: 'this room moved to another instance' });
    }
    this.forgetRoom(room);
    // Its bans stay with the room: the new home has them from Redis; here they are kept as for a closed room.
    if (this.bans.closed(code, room.daw.info.peerId, false, now)) effects.bansChanged = true;
    return effects;
  }

  /** A join; the welcome to send, and the token in it with its expiry (the transport renews it). */
  join(conn: C, message: JoinMessage, context: JoinContext): Outcome<C, Joined> {
    if (this.bindings.has(conn)) return fail(ErrorCode.INVALID_MESSAGE, 'this connection has already joined');
    return message.role === 'daw' ? this.joinDaw(conn, message, context) : this.joinController(conn, message, context);
  }

  /**
   * Whether the join carries a token that verifies for what it asks (a DAW's hostToken for its
   * room, a controller's resumeToken for its room and device). Such joins are never held back by
   * the failed-join guard: only guessing is.
   */
  carriesValidToken(message: JoinMessage, now: number): boolean {
    const { signer } = this.options;
    const code = message.room === undefined ? null : normalizeRoomCode(message.room);
    if (code === null) return false;
    const claim =
      message.role === 'daw'
        ? signer.verifyHostToken(message.hostToken ?? message.resumeToken ?? '', now)
        : signer.verifyResumeToken(message.resumeToken ?? '', message.deviceId, now);
    return claim !== null && claim.room === code;
  }

  /** The member sent `leave`: it goes at once, and a DAW ends the session. */
  leave(conn: C, now: number): Effects<C> {
    const effects = newEffects<C>();
    const binding = this.bindings.get(conn);
    if (!binding) return effects;
    const { room, member } = binding;
    if (member === room.daw) {
      this.closeRoom(room, 'ended', now, effects);
    } else {
      this.removeController(room, member, 'left', effects);
    }
    return effects;
  }

  /** The connection is gone without a `leave`: the member turns away and keeps its place for a while. */
  disconnect(conn: C, now: number): Effects<C> {
    const effects = newEffects<C>();
    const binding = this.bindings.get(conn);
    if (!binding) return effects; // never joined, or already replaced, kicked or closed
    this.bindings.delete(conn);
    const { room, member } = binding;
    member.conn = null;
    member.info.state = 'away';
    member.awayUntil = now + (member === room.daw ? this.options.dawGraceMs : this.options.resumeWindowMs);
    this.away.set(member, room);
    this.announceMember(room, member, now, effects);
    return effects;
  }

  /**
   * Gives up members and rooms whose window has passed, tells the profile changes whose time
   * has come, and forgets expired bans. Call it now and then (the heartbeat does).
   */
  sweep(now: number): Effects<C> {
    const effects = newEffects<C>();
    for (const [member, room] of this.away) {
      if (member.awayUntil > now) continue;
      if (member === room.daw) {
        this.closeRoom(room, 'host-timeout', now, effects);
      } else {
        this.removeController(room, member, 'timeout', effects);
      }
    }
    for (const [member, room] of this.profilesDue) {
      if (member.profileToldAt + this.options.profileNoticeMs <= now) this.announceMember(room, member, now, effects);
    }
    // Bans expire in hours: looking once a second is plenty (sweep runs many times a second).
    if (now - this.bansSweptAt >= 1_000) {
      this.bansSweptAt = now;
      if (this.bans.sweep(now)) effects.bansChanged = true;
    }
    return effects;
  }

  /** The DAW removes a controller, and bans its device and address from this room for the room's lifetime. */
  kick(conn: C, peerId: string, reason: string): Outcome<C> {
    const binding = this.bindings.get(conn);
    if (!binding) return fail(ErrorCode.NOT_JOINED, 'join first');
    const { room, member } = binding;
    if (member !== room.daw) return fail(ErrorCode.UNAUTHORIZED, 'only the DAW may kick');
    const target = room.controllers.get(peerId);
    if (!target) return fail(ErrorCode.PEER_NOT_FOUND, `no controller "${peerId}" in this room`);
    const effects = newEffects<C>();
    if (target.conn !== null) {
      effects.deliveries.push({ to: [target.conn], message: { type: 'kicked', reason } });
      effects.closings.push({ conn: target.conn, code: CloseCode.KICKED, reason: 'kicked' });
    }
    room.bans ??= this.bans.open(room.code, room.daw.info.peerId);
    room.bans.add(target.deviceId, target.address, peerId);
    effects.bansChanged = true;
    this.removeController(room, target, 'kicked', effects);
    return { ok: true, effects };
  }

  /** A member's new name and/or colour: kept now, told to the room at most once per profileNoticeMs. */
  setProfile(conn: C, profile: { name?: string | undefined; color?: string | undefined }, now: number): Outcome<C> {
    const binding = this.bindings.get(conn);
    if (!binding) return fail(ErrorCode.NOT_JOINED, 'join first');
    const { room, member } = binding;
    const refusal = this.nameRefusal(member, profile.name);
    if (refusal) return refusal;
    const effects = newEffects<C>();
    if (this.applyProfile(room, member, profile)) {
      this.options.onRoomChange?.(room.code);
      if (member.profileToldAt + this.options.profileNoticeMs <= now) this.announceMember(room, member, now, effects);
      else this.profilesDue.set(member, room);
    }
    return { ok: true, effects };
  }

  setState(conn: C, state: RoomState): Outcome<C> {
    const binding = this.bindings.get(conn);
    if (!binding) return fail(ErrorCode.NOT_JOINED, 'join first');
    const { room, member } = binding;
    if (member !== room.daw) return fail(ErrorCode.UNAUTHORIZED, 'only the DAW may set the room state');
    room.state = state;
    const effects = newEffects<C>();
    this.announce(room, member, { type: 'state', state }, effects);
    return { ok: true, effects };
  }

  /** The DAW's lock and PIN. Nothing is told to controllers: the PIN is the DAW's to share. */
  setAccess(conn: C, access: Access): Outcome<C> {
    const binding = this.bindings.get(conn);
    if (!binding) return fail(ErrorCode.NOT_JOINED, 'join first');
    const { room, member } = binding;
    if (member !== room.daw) return fail(ErrorCode.UNAUTHORIZED, 'only the DAW may lock the room or set its PIN');
    room.access = { locked: access.locked, pin: access.pin };
    this.options.onRoomChange?.(room.code);
    return { ok: true, effects: newEffects() };
  }

  /**
   * Where a `signal`/`relay` from `binding` addressed to `to` goes: one connection, or an
   * error code. Controllers may only address the DAW (and an omitted `to` means the DAW).
   * Allocation-free: pad hits relayed through the socket come through here.
   */
  route(binding: Binding<C>, to: string | undefined): C | ErrorCode {
    const { room, member } = binding;
    let target: MemberRecord<C> | undefined;
    if (member === room.daw) {
      target = to === undefined ? undefined : room.controllers.get(to);
    } else if (to === undefined || to === room.daw.info.peerId) {
      target = room.daw;
    } else if (room.controllers.has(to)) {
      return ErrorCode.UNAUTHORIZED;
    }
    if (!target) return ErrorCode.PEER_NOT_FOUND;
    return target.conn ?? ErrorCode.PEER_AWAY;
  }

  /** Connections of every connected controller in the DAW's room (a DAW's `relay` without `to`). */
  controllerConnections(binding: Binding<C>): C[] {
    const conns: C[] = [];
    for (const controller of binding.room.controllers.values())
      if (controller.conn !== null) conns.push(controller.conn);
    return conns;
  }

  /**
   * Takes a fresh RTT sample into the member's smoothed RTT and tells the DAW (which shows
   * everyone's latency) when that changed meaningfully since it was last told: by rttNoticeMs
   * and half of the value told.
   * Controllers learn it with the next presence change: sending every sample to every phone
   * would cost a broadcast per ping.
   */
  setRtt(conn: C, rttMs: number): Effects<C> | null {
    const binding = this.bindings.get(conn);
    if (!binding) return null;
    const { room, member } = binding;
    // Smoothed as TCP smooths its RTT: one late answer moves it an eighth of the way, a real change all of it in a few.
    const previous = member.info.rttMs;
    const smoothed = previous === null ? rttMs : previous + (rttMs - previous) * RTT_SMOOTHING;
    member.info.rttMs = Math.round(smoothed * 10) / 10;
    const told = member.rttTold;
    const current = member.info.rttMs;
    const changed =
      told === null || Math.abs(current - told) >= Math.max(this.options.rttNoticeMs, told * RTT_NOTICE_SHARE);
    if (!changed || member === room.daw || room.daw.conn === null) return null;
    member.rttTold = current;
    const effects = newEffects<C>();
    effects.deliveries.push({ to: [room.daw.conn], message: { type: 'member-updated', member: member.info } });
    return effects;
  }

  /**
   * A fresh token for the member on `conn` (its hostToken for a DAW), when the one it holds,
   * issued at `issuedAt`, has lived a third of its life; else null.
   */
  renewToken(conn: C, issuedAt: number, now: number): IssuedToken | null {
    const binding = this.bindings.get(conn);
    if (!binding) return null;
    const isDaw = binding.member === binding.room.daw;
    const ttl = isDaw ? this.options.hostTokenTtlMs : this.resumeTokenTtlMs;
    if (now - issuedAt < ttl * RENEW_AFTER_SHARE) return null;
    return this.issueToken(binding.room, binding.member, now);
  }

  /** The ban table, for keeping across restarts. */
  exportBans(): BanRecord[] {
    return this.bans.export();
  }

  /** Bans kept from before a restart (see BanTable.restore). */
  restoreBans(records: unknown, now: number): number {
    return this.bans.restore(records, now);
  }

  // ─── joining ───────────────────────────────────────────────────────────────────────────

  private joinDaw(conn: C, message: JoinMessage, context: JoinContext): Outcome<C, Joined> {
    const { signer } = this.options;
    if (message.room === undefined) {
      const refusal = this.refuseNewRoom(context.address);
      if (refusal) return refusal;
      const code = this.freshRoomCode();
      if (code === null) return fail(ErrorCode.SERVER_FULL, 'no free room code found: try again');
      const room = this.createRoom(code, this.options.newPeerId(), conn, message, context);
      return this.welcome(room, room.daw, context, newEffects());
    }

    // Taking a room back (tab reload, another tab, or after a server restart) needs its hostToken.
    const code = normalizeRoomCode(message.room);
    const token = message.hostToken ?? message.resumeToken;
    const claim = token === undefined ? null : signer.verifyHostToken(token, context.now);
    if (code === null || claim === null || claim.room !== code) {
      return fail(
        ErrorCode.UNAUTHORIZED,
        'a DAW takes a room back only with its hostToken (a valid one, not expired)',
        CloseCode.UNAUTHORIZED,
      );
    }
    const room = this.rooms.get(code);
    if (!room) {
      // The server restarted (or the room expired): the signed token is proof enough to recreate it.
      const refusal = this.refuseNewRoom(context.address);
      if (refusal) return refusal;
      const recreated = this.createRoom(code, claim.peerId, conn, message, context);
      return this.welcome(recreated, recreated.daw, context, newEffects());
    }
    if (room.daw.info.peerId !== claim.peerId) {
      return fail(
        ErrorCode.UNAUTHORIZED,
        'that hostToken belongs to an earlier room with this code',
        CloseCode.UNAUTHORIZED,
      );
    }
    if (room.daw.conn !== null && room.daw.deviceId !== message.deviceId) {
      return fail(ErrorCode.ROLE_TAKEN, 'this room’s DAW is open on another device');
    }
    const effects = newEffects<C>();
    this.attach(room, room.daw, conn, message, context, effects);
    return this.welcome(room, room.daw, context, effects);
  }

  private joinController(conn: C, message: JoinMessage, context: JoinContext): Outcome<C, Joined> {
    if (message.room === undefined) return fail(ErrorCode.INVALID_MESSAGE, 'join: a controller must name a "room"');
    const code = normalizeRoomCode(message.room);
    const room = code === null ? undefined : this.rooms.get(code);
    if (!room) return fail(ErrorCode.ROOM_NOT_FOUND, `no room "${message.room.slice(0, 32)}"`);
    if (room.bans?.bans(message.deviceId, context.address)) {
      return fail(ErrorCode.BANNED, 'the DAW removed this device from this room');
    }
    const nameRefusal = this.nameRefusal(null, message.name);
    if (nameRefusal) return nameRefusal;

    const effects = newEffects<C>();
    const resumePeerId = this.resumablePeerId(room, message, context.now);
    const sameDevice = findByDevice(room, message.deviceId);

    if (resumePeerId !== null) {
      const existing = room.controllers.get(resumePeerId);
      if (existing) {
        this.attach(room, existing, conn, message, context, effects);
        return this.welcome(room, existing, context, effects);
      }
      // Its place was given up (or the server restarted): it comes back under its old peerId,
      // past the lock and the PIN (it was let in before), if there is a place.
      if (sameDevice) this.removeController(room, sameDevice, 'replaced', effects);
    } else {
      if (sameDevice) {
        // A deviceId is not proof: it takes the resumeToken to be this member again.
        return fail(ErrorCode.UNAUTHORIZED, 'this device is already in the room: rejoin with its resumeToken');
      }
      const refusal = this.accessRefusal(room, message.pin, context.now);
      if (refusal) return refusal;
    }

    if (room.controllers.size >= this.options.roomCapacity && !this.displaceLongestAway(room, effects)) {
      return fail(ErrorCode.ROOM_FULL, `this room is full (${this.options.roomCapacity} controllers)`);
    }
    const peerId = resumePeerId ?? this.freshPeerId(room);
    room.joins += 1;
    const name = this.distinctName(room, null, message.name || `Player ${room.joins}`);
    const color = message.color ?? (PLAYER_COLORS[(room.joins - 1) % PLAYER_COLORS.length] as string);
    const member = memberRecord(peerId, 'controller', name, color, conn, message.deviceId, context);
    room.controllers.set(peerId, member);
    this.bindings.set(conn, { room, member });
    this.announce(room, member, { type: 'member-joined', member: member.info }, effects);
    return this.welcome(room, member, context, effects);
  }

  /** Why the room's lock or PIN keeps a new member out, if it does. */
  private accessRefusal(room: Room<C>, pin: string | undefined, now: number): Failure | null {
    const { access } = room;
    if (access.locked) return fail(ErrorCode.ROOM_LOCKED, 'the DAW locked this room: no new players for now');
    if (access.pin === null) return null;
    if (pin === undefined) return fail(ErrorCode.PIN_REQUIRED, 'this room asks for its PIN');
    if (!room.pinAttempts.has(now)) {
      return fail(ErrorCode.RATE_LIMITED, 'too many wrong PINs for this room: wait a little');
    }
    if (pin !== access.pin) {
      room.pinAttempts.take(now);
      return fail(ErrorCode.PIN_REQUIRED, 'wrong PIN');
    }
    return null;
  }

  /** A full room makes way for a newcomer: the member away longest goes. False if nobody is away. */
  private displaceLongestAway(room: Room<C>, effects: Effects<C>): boolean {
    let longest: MemberRecord<C> | undefined;
    for (const controller of room.controllers.values()) {
      if (controller.conn === null && (longest === undefined || controller.awayUntil < longest.awayUntil)) {
        longest = controller;
      }
    }
    if (longest === undefined) return false;
    this.removeController(room, longest, 'displaced', effects);
    return true;
  }

  /** The peerId a controller's resumeToken gives back, if it is valid here, unexpired and not kicked. */
  private resumablePeerId(room: Room<C>, message: JoinMessage, now: number): string | null {
    if (message.resumeToken === undefined) return null;
    const claim = this.options.signer.verifyResumeToken(message.resumeToken, message.deviceId, now);
    if (claim === null || claim.room !== room.code) return null;
    if (room.bans?.peerIds.has(claim.peerId) || claim.peerId === room.daw.info.peerId) return null;
    return claim.peerId;
  }

  /** Points a member at a new connection; the old one, if still open, is closed as replaced. */
  private attach(
    room: Room<C>,
    member: MemberRecord<C>,
    conn: C,
    message: JoinMessage,
    context: JoinContext,
    effects: Effects<C>,
  ): void {
    const wasAway = member.conn === null;
    if (member.conn !== null) {
      this.bindings.delete(member.conn);
      effects.closings.push({ conn: member.conn, code: CloseCode.REPLACED, reason: 'replaced by a newer connection' });
    }
    member.conn = conn;
    this.options.onRoomChange?.(room.code);
    member.address = context.address;
    member.deviceId = message.deviceId; // a DAW may move to another device with its hostToken
    this.bindings.set(conn, { room, member });
    this.away.delete(member);
    const renamed = this.applyProfile(room, member, message);
    member.info.state = 'connected';
    member.info.rttMs = null; // a new socket: its RTT is not known yet
    member.rttTold = null;
    // Presence is told at once, with the profile as it stands.
    if (wasAway || renamed) this.announceMember(room, member, context.now, effects);
  }

  private welcome(
    room: Room<C>,
    member: MemberRecord<C>,
    context: JoinContext,
    effects: Effects<C>,
  ): { ok: true; effects: Effects<C> } & Joined {
    const isDaw = member === room.daw;
    const token = this.issueToken(room, member, context.now);
    const welcome: WelcomeMessage = {
      type: 'welcome',
      v: PROTOCOL_VERSION,
      room: room.code,
      peerId: member.info.peerId,
      role: member.info.role,
      members: [room.daw.info, ...Array.from(room.controllers.values(), (c) => c.info)],
      iceServers: context.iceServers,
      resumeToken: token.token,
      heartbeatMs: context.heartbeatMs,
    };
    if (room.state !== undefined) welcome.state = room.state;
    if (isDaw) {
      welcome.hostToken = token.token;
      welcome.access = { ...room.access };
    }
    return { ok: true, effects, welcome, token };
  }

  /** A DAW resumes with its hostToken, so that is its resumeToken too. */
  private issueToken(room: Room<C>, member: MemberRecord<C>, now: number): IssuedToken {
    const { signer } = this.options;
    const claim = { room: room.code, peerId: member.info.peerId };
    if (member === room.daw) {
      const expiresAt = now + this.options.hostTokenTtlMs;
      return { token: signer.hostToken(claim, expiresAt), expiresAt };
    }
    const expiresAt = now + this.resumeTokenTtlMs;
    return { token: signer.resumeToken(claim, member.deviceId, expiresAt), expiresAt };
  }

  // ─── names ─────────────────────────────────────────────────────────────────────────────

  /** A controller may not take the DAW's name. */
  private nameRefusal(member: MemberRecord<C> | null, name: string | undefined): Failure | null {
    if (name === undefined || member?.info.role === 'daw' || !isReservedName(name)) return null;
    return fail(ErrorCode.INVALID_MESSAGE, `name: "${name}" is the DAW's name; choose another`);
  }

  /** `wanted`, or `wanted 2`, `wanted 3`…: no two members of a room go by names people would confuse. */
  private distinctName(room: Room<C>, self: MemberRecord<C> | null, wanted: string): string {
    const taken = new Set<string>();
    const others = [room.daw, ...room.controllers.values()];
    for (const other of others) if (other !== self) taken.add(other.nameKey);
    if (!taken.has(nameKey(wanted))) return wanted;
    for (let n = 2; n <= others.length + 1; n++) {
      const suffix = ` ${n}`;
      const candidate = `${wanted.slice(0, MAX_NAME_LENGTH - suffix.length).trimEnd()}${suffix}`;
      if (!taken.has(nameKey(candidate))) return candidate;
    }
    return wanted; // unreachable: n runs past every other member
  }

  /** Takes a (re)join's or profile's name and colour where given and different; whether anything changed. */
  private applyProfile(
    room: Room<C>,
    member: MemberRecord<C>,
    profile: { name?: string | undefined; color?: string | undefined },
  ): boolean {
    const { info } = member;
    let changed = false;
    if (profile.name !== undefined && profile.name !== '' && profile.name !== info.name) {
      const name = member === room.daw ? profile.name : this.distinctName(room, member, profile.name);
      if (name !== info.name) {
        info.name = name;
        member.nameKey = nameKey(name);
        changed = true;
      }
    }
    if (profile.color !== undefined && profile.color !== info.color) {
      info.color = profile.color;
      changed = true;
    }
    return changed;
  }

  // ─── bookkeeping ───────────────────────────────────────────────────────────────────────

  private createRoom(code: string, dawPeerId: string, conn: C, message: JoinMessage, context: JoinContext): Room<C> {
    const daw = memberRecord<C>(
      dawPeerId,
      'daw',
      message.name || 'DAW',
      message.color ?? DAW_COLOR,
      conn,
      message.deviceId,
      context,
    );
    const createdFrom = context.address;
    const room: Room<C> = {
      code,
      createdFrom,
      daw,
      controllers: new Map(),
      state: undefined,
      access: OPEN_ACCESS,
      pinAttempts: new TokenBucket(this.options.pinAttemptRate, context.now),
      bans: this.bans.opened(code, dawPeerId),
      joins: 0,
    };
    this.rooms.set(code, room);
    this.options.onRoomChange?.(code);
    this.roomsByAddress.set(createdFrom, (this.roomsByAddress.get(createdFrom) ?? 0) + 1);
    this.bindings.set(conn, { room, member: daw });
    return room;
  }

  private removeController(
    room: Room<C>,
    member: MemberRecord<C>,
    reason: MemberLeftReason,
    effects: Effects<C>,
  ): void {
    room.controllers.delete(member.info.peerId);
    this.away.delete(member);
    this.profilesDue.delete(member);
    if (member.conn !== null) {
      this.bindings.delete(member.conn);
      if (reason === 'replaced') {
        effects.closings.push({
          conn: member.conn,
          code: CloseCode.REPLACED,
          reason: 'replaced by a newer connection',
        });
      }
    }
    this.announce(room, member, { type: 'member-left', peerId: member.info.peerId, reason }, effects);
  }

  private closeRoom(room: Room<C>, reason: SessionClosedReason, now: number, effects: Effects<C>): void {
    const conns: C[] = [];
    for (const controller of room.controllers.values()) {
      const conn = this.detach(controller);
      if (conn === null) continue;
      conns.push(conn);
      effects.closings.push({ conn, code: CloseCode.SESSION_CLOSED, reason: `session ${reason}` });
    }
    if (conns.length > 0) effects.deliveries.push({ to: conns, message: { type: 'session-closed', reason } });
    this.detach(room.daw);
    this.forgetRoom(room);
    this.options.onRoomChange?.(room.code);
    if (this.bans.closed(room.code, room.daw.info.peerId, reason === 'ended', now)) effects.bansChanged = true;
  }

  /** A member of a room going away here: nothing waits on it any more; its connection, if any, is unbound and returned. */
  private detach(member: MemberRecord<C>): C | null {
    this.away.delete(member);
    this.profilesDue.delete(member);
    if (member.conn !== null) this.bindings.delete(member.conn);
    return member.conn;
  }

  private forgetRoom(room: Room<C>): void {
    this.rooms.delete(room.code);
    const fromAddress = (this.roomsByAddress.get(room.createdFrom) ?? 1) - 1;
    if (fromAddress > 0) this.roomsByAddress.set(room.createdFrom, fromAddress);
    else this.roomsByAddress.delete(room.createdFrom);
  }

  /** Tells everyone else in the room how `member` stands now (presence, name, colour). */
  private announceMember(room: Room<C>, member: MemberRecord<C>, now: number, effects: Effects<C>): void {
    member.profileToldAt = now;
    this.profilesDue.delete(member);
    this.announce(room, member, { type: 'member-updated', member: member.info }, effects);
  }

  /** Sends `message` to every connected member of the room except `about`. */
  private announce(room: Room<C>, about: MemberRecord<C>, message: ServerMessage, effects: Effects<C>): void {
    this.options.onRoomChange?.(room.code);
    const to: C[] = [];
    if (room.daw !== about && room.daw.conn !== null) to.push(room.daw.conn);
    for (const controller of room.controllers.values()) {
      if (controller !== about && controller.conn !== null) to.push(controller.conn);
    }
    if (to.length > 0) effects.deliveries.push({ to, message });
  }

  /** Why no new room may be made for this address now, if so. */
  private refuseNewRoom(address: string): Failure | null {
    if (this.rooms.size >= this.options.maxRooms) {
      return fail(ErrorCode.SERVER_FULL, 'this server holds as many rooms as it can');
    }
    if ((this.roomsByAddress.get(address) ?? 0) >= this.options.maxRoomsPerAddress) {
      return fail(ErrorCode.SERVER_FULL, `at most ${this.options.maxRoomsPerAddress} rooms from one address`);
    }
    return null;
  }

  private freshRoomCode(): string | null {
    // Collisions are rare (≤ 10,000 of 1.9e8 codes); a few tries make them vanishingly so.
    for (let attempt = 0; attempt < 16; attempt++) {
      const code = this.options.newRoomCode();
      if (!this.rooms.has(code)) return code;
    }
    return null;
  }

  private freshPeerId(room: Room<C>): string {
    for (;;) {
      const peerId = this.options.newPeerId();
      if (peerId !== room.daw.info.peerId && !room.controllers.has(peerId) && !room.bans?.peerIds.has(peerId)) {
        return peerId;
      }
    }
  }
}

function newEffects<C>(): Effects<C> {
  return { deliveries: [], closings: [], bansChanged: false };
}

function memberRecord<C>(
  peerId: string,
  role: Member['role'],
  name: string,
  color: string,
  conn: C,
  deviceId: string,
  context: JoinContext,
): MemberRecord<C> {
  return {
    info: { peerId, role, name, color, joinedAt: context.now, state: 'connected', rttMs: null },
    deviceId,
    conn,
    address: context.address,
    awayUntil: 0,
    profileToldAt: Number.NEGATIVE_INFINITY,
    rttTold: null,
    nameKey: nameKey(name),
  };
}

function findByDevice<C>(room: Room<C>, deviceId: string): MemberRecord<C> | undefined {
  for (const controller of room.controllers.values()) if (controller.deviceId === deviceId) return controller;
  return undefined;
}

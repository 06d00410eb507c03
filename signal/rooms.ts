/**
 * The room registry: who is in which room, under which peerId, over which connection. Pure:
 * no sockets, no timers, no clock of its own. Each call returns the messages to deliver and
 * the connections to close; signal/server.ts carries them out. `C` is whatever the transport
 * uses as a connection handle.
 */
import {
  CloseCode,
  ErrorCode,
  type IceServer,
  type JoinMessage,
  type Member,
  type MemberLeftReason,
  normalizeRoomCode,
  PLAYER_COLORS,
  PROTOCOL_VERSION,
  type ProtocolError,
  type RoomState,
  type ServerMessage,
  type SessionClosedReason,
  type WelcomeMessage,
} from './protocol.ts';
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
  /** Null while away. */
  conn: C | null;
  /** Remote address of the latest connection: a deviceId is only taken over from the same address (or with a token). */
  address: string;
  /** When an away member is given up (ms); meaningless while connected. */
  awayUntil: number;
}

interface Room<C> {
  readonly code: string;
  /** Remote address the DAW created (or recreated) the room from: rooms per address are capped. */
  readonly createdFrom: string;
  readonly daw: MemberRecord<C>;
  readonly controllers: Map<string, MemberRecord<C>>;
  state: RoomState | undefined;
  /** peerIds kicked from this room: their resume tokens no longer give the peerId back. */
  readonly revoked: Set<string>;
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
  newRoomCode: () => string;
  newPeerId: () => string;
}

export interface JoinContext {
  now: number;
  address: string;
  iceServers: IceServer[];
  heartbeatMs: number;
}

/** Kicked peerIds remembered per room; the oldest is forgotten past this. */
const MAX_REVOKED = 256;
const DAW_COLOR = '#eef0f5';

/** An RTT change smaller than this (ms, and 25 %) is not worth a member-updated to everyone. */
const RTT_NOTICE_MS = 2;

const fail = (code: ErrorCode, message: string, closeCode?: number): Failure =>
  closeCode === undefined
    ? { ok: false, error: { code, message } }
    : { ok: false, error: { code, message }, closeCode };

export class RoomRegistry<C> {
  private readonly rooms = new Map<string, Room<C>>();
  private readonly bindings = new Map<C, Binding<C>>();
  /** Members whose connection is down, with their room: what `sweep` looks at. */
  private readonly away = new Map<MemberRecord<C>, Room<C>>();
  /** Rooms per creating address. */
  private readonly roomsByAddress = new Map<string, number>();

  constructor(private readonly options: RegistryOptions) {}

  get roomCount(): number {
    return this.rooms.size;
  }

  get memberCount(): number {
    return this.bindings.size + this.away.size;
  }

  binding(conn: C): Binding<C> | undefined {
    return this.bindings.get(conn);
  }

  join(conn: C, message: JoinMessage, context: JoinContext): Outcome<C, { welcome: WelcomeMessage }> {
    if (this.bindings.has(conn)) return fail(ErrorCode.INVALID_MESSAGE, 'this connection has already joined');
    return message.role === 'daw' ? this.joinDaw(conn, message, context) : this.joinController(conn, message, context);
  }

  /** The member sent `leave`: it goes at once, and a DAW ends the session. */
  leave(conn: C): Effects<C> {
    const effects = newEffects<C>();
    const binding = this.bindings.get(conn);
    if (!binding) return effects;
    const { room, member } = binding;
    if (member === room.daw) {
      this.closeRoom(room, 'ended', effects);
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
    this.announce(room, member, { type: 'member-updated', member: member.info }, effects);
    return effects;
  }

  /** Gives up members and rooms whose window has passed. Call it now and then (the heartbeat does). */
  sweep(now: number): Effects<C> {
    const effects = newEffects<C>();
    for (const [member, room] of this.away) {
      if (member.awayUntil > now) continue;
      if (member === room.daw) {
        this.closeRoom(room, 'host-timeout', effects);
      } else {
        this.removeController(room, member, 'timeout', effects);
      }
    }
    return effects;
  }

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
    room.revoked.add(peerId);
    if (room.revoked.size > MAX_REVOKED) room.revoked.delete(room.revoked.values().next().value as string);
    this.removeController(room, target, 'kicked', effects);
    return { ok: true, effects };
  }

  /** A member's new name and/or colour, told to everyone in the room when it changed. */
  setProfile(conn: C, profile: { name?: string | undefined; color?: string | undefined }): Outcome<C> {
    const binding = this.bindings.get(conn);
    if (!binding) return fail(ErrorCode.NOT_JOINED, 'join first');
    const { room, member } = binding;
    const effects = newEffects<C>();
    if (applyProfile(member.info, profile)) {
      this.announce(room, member, { type: 'member-updated', member: member.info }, effects);
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
   * Records a fresh RTT sample and tells the DAW (which shows everyone's latency) when it
   * changed enough to matter. Controllers learn it with the next presence change: sending
   * every sample to every phone would cost a broadcast per pong.
   */
  setRtt(conn: C, rttMs: number): Effects<C> {
    const effects = newEffects<C>();
    const binding = this.bindings.get(conn);
    if (!binding) return effects;
    const { room, member } = binding;
    const previous = member.info.rttMs;
    member.info.rttMs = rttMs;
    const changed = previous === null || Math.abs(rttMs - previous) >= Math.max(RTT_NOTICE_MS, previous * 0.25);
    if (changed && member !== room.daw && room.daw.conn !== null) {
      effects.deliveries.push({ to: [room.daw.conn], message: { type: 'member-updated', member: member.info } });
    }
    return effects;
  }

  // ─── joining ───────────────────────────────────────────────────────────────────────────

  private joinDaw(conn: C, message: JoinMessage, context: JoinContext): Outcome<C, { welcome: WelcomeMessage }> {
    const { signer } = this.options;
    if (message.room === undefined) {
      const refusal = this.refuseNewRoom(context.address);
      if (refusal) return refusal;
      const code = this.freshRoomCode();
      if (code === null) return fail(ErrorCode.SERVER_FULL, 'no free room code found: try again');
      const room = this.createRoom(code, this.options.newPeerId(), conn, message, context);
      return this.welcome(room, room.daw, message.deviceId, context, newEffects());
    }

    // Taking a room back (tab reload, another tab, or after a server restart) needs its hostToken.
    const code = normalizeRoomCode(message.room);
    const token = message.hostToken ?? message.resumeToken;
    const claim = token === undefined ? null : signer.verifyHostToken(token);
    if (code === null || claim === null || claim.room !== code) {
      return fail(ErrorCode.UNAUTHORIZED, 'a DAW takes a room back only with its hostToken', CloseCode.UNAUTHORIZED);
    }
    const room = this.rooms.get(code);
    if (!room) {
      // The server restarted (or the room expired): the signed token is proof enough to recreate it.
      const refusal = this.refuseNewRoom(context.address);
      if (refusal) return refusal;
      const recreated = this.createRoom(code, claim.peerId, conn, message, context);
      return this.welcome(recreated, recreated.daw, message.deviceId, context, newEffects());
    }
    if (room.daw.info.peerId !== claim.peerId) {
      return fail(
        ErrorCode.UNAUTHORIZED,
        'that hostToken belongs to an earlier room with this code',
        CloseCode.UNAUTHORIZED,
      );
    }
    if (room.daw.conn !== null && room.daw.info.deviceId !== message.deviceId) {
      return fail(ErrorCode.ROLE_TAKEN, 'this room’s DAW is open on another device');
    }
    const effects = newEffects<C>();
    this.attach(room, room.daw, conn, message, context.address, effects);
    return this.welcome(room, room.daw, message.deviceId, context, effects);
  }

  private joinController(conn: C, message: JoinMessage, context: JoinContext): Outcome<C, { welcome: WelcomeMessage }> {
    if (message.room === undefined) return fail(ErrorCode.INVALID_MESSAGE, 'join: a controller must name a "room"');
    const code = normalizeRoomCode(message.room);
    const room = code === null ? undefined : this.rooms.get(code);
    if (!room) return fail(ErrorCode.ROOM_NOT_FOUND, `no room "${message.room.slice(0, 32)}"`);

    const effects = newEffects<C>();
    const resumePeerId = this.resumablePeerId(room, message);
    const sameDevice = findByDevice(room, message.deviceId);

    if (resumePeerId !== null) {
      const existing = room.controllers.get(resumePeerId);
      if (existing) {
        this.attach(room, existing, conn, message, context.address, effects);
        return this.welcome(room, existing, message.deviceId, context, effects);
      }
      // Its place was given up (or the server restarted): it comes back under its old peerId.
      if (sameDevice) this.removeController(room, sameDevice, 'replaced', effects);
    } else if (sameDevice) {
      if (sameDevice.address !== context.address) {
        return fail(
          ErrorCode.UNAUTHORIZED,
          'this deviceId is already in the room from another address: rejoin with its resumeToken',
        );
      }
      this.attach(room, sameDevice, conn, message, context.address, effects);
      return this.welcome(room, sameDevice, message.deviceId, context, effects);
    }

    if (room.controllers.size >= this.options.roomCapacity) {
      return fail(ErrorCode.ROOM_FULL, `this room is full (${this.options.roomCapacity} controllers)`);
    }
    const peerId = resumePeerId ?? this.freshPeerId(room);
    room.joins += 1;
    const name = message.name || `Player ${room.joins}`;
    const color = message.color ?? (PLAYER_COLORS[(room.joins - 1) % PLAYER_COLORS.length] as string);
    const member = memberRecord(peerId, 'controller', name, color, conn, message.deviceId, context);
    room.controllers.set(peerId, member);
    this.bindings.set(conn, { room, member });
    this.announce(room, member, { type: 'member-joined', member: member.info }, effects);
    return this.welcome(room, member, message.deviceId, context, effects);
  }

  /** The peerId a controller's resumeToken gives back, if it is valid here and not kicked. */
  private resumablePeerId(room: Room<C>, message: JoinMessage): string | null {
    if (message.resumeToken === undefined) return null;
    const claim = this.options.signer.verifyResumeToken(message.resumeToken, message.deviceId);
    if (claim === null || claim.room !== room.code) return null;
    if (room.revoked.has(claim.peerId) || claim.peerId === room.daw.info.peerId) return null;
    return claim.peerId;
  }

  /** Points a member at a new connection; the old one, if still open, is closed as replaced. */
  private attach(
    room: Room<C>,
    member: MemberRecord<C>,
    conn: C,
    message: JoinMessage,
    address: string,
    effects: Effects<C>,
  ): void {
    const wasAway = member.conn === null;
    if (member.conn !== null) {
      this.bindings.delete(member.conn);
      effects.closings.push({ conn: member.conn, code: CloseCode.REPLACED, reason: 'replaced by a newer connection' });
    }
    member.conn = conn;
    member.address = address;
    member.info.deviceId = message.deviceId; // a DAW may move to another device with its hostToken
    this.bindings.set(conn, { room, member });
    this.away.delete(member);
    const renamed = applyProfile(member.info, message);
    member.info.state = 'connected';
    member.info.rttMs = null; // a new socket: its RTT is not known yet
    if (wasAway || renamed) this.announce(room, member, { type: 'member-updated', member: member.info }, effects);
  }

  private welcome(
    room: Room<C>,
    member: MemberRecord<C>,
    deviceId: string,
    context: JoinContext,
    effects: Effects<C>,
  ): { ok: true; effects: Effects<C>; welcome: WelcomeMessage } {
    const { signer } = this.options;
    const claim = { room: room.code, peerId: member.info.peerId };
    const isDaw = member === room.daw;
    // A DAW resumes with its hostToken, so that is its resumeToken too.
    const resumeToken = isDaw ? signer.hostToken(claim) : signer.resumeToken(claim, deviceId);
    const welcome: WelcomeMessage = {
      type: 'welcome',
      v: PROTOCOL_VERSION,
      room: room.code,
      peerId: member.info.peerId,
      role: member.info.role,
      members: [room.daw.info, ...Array.from(room.controllers.values(), (c) => c.info)],
      iceServers: context.iceServers,
      resumeToken,
      heartbeatMs: context.heartbeatMs,
    };
    if (room.state !== undefined) welcome.state = room.state;
    if (isDaw) welcome.hostToken = resumeToken;
    return { ok: true, effects, welcome };
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
      revoked: new Set(),
      joins: 0,
    };
    this.rooms.set(code, room);
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

  private closeRoom(room: Room<C>, reason: SessionClosedReason, effects: Effects<C>): void {
    const conns: C[] = [];
    for (const controller of room.controllers.values()) {
      this.away.delete(controller);
      if (controller.conn === null) continue;
      this.bindings.delete(controller.conn);
      conns.push(controller.conn);
      effects.closings.push({ conn: controller.conn, code: CloseCode.SESSION_CLOSED, reason: `session ${reason}` });
    }
    if (conns.length > 0) effects.deliveries.push({ to: conns, message: { type: 'session-closed', reason } });
    this.away.delete(room.daw);
    if (room.daw.conn !== null) this.bindings.delete(room.daw.conn);
    this.rooms.delete(room.code);
    const fromAddress = (this.roomsByAddress.get(room.createdFrom) ?? 1) - 1;
    if (fromAddress > 0) this.roomsByAddress.set(room.createdFrom, fromAddress);
    else this.roomsByAddress.delete(room.createdFrom);
  }

  /** Sends `message` to every connected member of the room except `about`. */
  private announce(room: Room<C>, about: MemberRecord<C>, message: ServerMessage, effects: Effects<C>): void {
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
      if (peerId !== room.daw.info.peerId && !room.controllers.has(peerId)) return peerId;
    }
  }
}

function newEffects<C>(): Effects<C> {
  return { deliveries: [], closings: [] };
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
    info: { peerId, role, name, color, deviceId, joinedAt: context.now, state: 'connected', rttMs: null },
    conn,
    address: context.address,
    awayUntil: 0,
  };
}

/** Takes a (re)join's or profile's name and colour where given and different; whether anything changed. */
function applyProfile(info: Member, profile: { name?: string | undefined; color?: string | undefined }): boolean {
  let changed = false;
  if (profile.name !== undefined && profile.name !== '' && profile.name !== info.name) {
    info.name = profile.name;
    changed = true;
  }
  if (profile.color !== undefined && profile.color !== info.color) {
    info.color = profile.color;
    changed = true;
  }
  return changed;
}

function findByDevice<C>(room: Room<C>, deviceId: string): MemberRecord<C> | undefined {
  for (const controller of room.controllers.values()) if (controller.info.deviceId === deviceId) return controller;
  return undefined;
}

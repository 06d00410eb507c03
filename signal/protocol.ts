/**
 * padmesh wire protocol v1: every message, field, error code and close code that crosses the
 * signaling socket, with the schemas that parse them. Shared by the server and the browser
 * client, so it must not import anything from Node. docs/protocol.md describes the same
 * things in prose; keep the two in step.
 */
import * as v from 'valibot';

export const PROTOCOL_VERSION = 1;

/** Path of the WebSocket endpoint on the signal server. */
export const SOCKET_PATH = '/ws';

// ─── Room codes ──────────────────────────────────────────────────────────────────────────
/**
 * Room codes are typed on phones, so the alphabet leaves out characters that look alike
 * (0/O/Q, 1/I/L, 2/Z, 5/S, 8/B): 24 symbols, 6 long, 24^6 ≈ 1.9e8 codes. docs/protocol.md
 * shows why that is safe against guessing at the server's failed-join rate limit.
 */
export const ROOM_CODE_ALPHABET = '34679ACDEFGHJKMNPRTUVWXY';
export const ROOM_CODE_LENGTH = 6;
const ROOM_CODE_PATTERN = new RegExp(`^[${ROOM_CODE_ALPHABET}]{${ROOM_CODE_LENGTH}}$`);

/**
 * What a person typed → the canonical code, or null when it cannot be one. Case, spaces
 * and dashes are forgiven because phone keyboards add them.
 */
export function normalizeRoomCode(typed: string): string | null {
  const code = typed.replace(/[\s-]/g, '').toUpperCase();
  return ROOM_CODE_PATTERN.test(code) ? code : null;
}

// ─── Codes ───────────────────────────────────────────────────────────────────────────────
export const ErrorCode = {
  /** Not JSON, not an object, unknown type, a missing or wrong field, a binary frame, a second `join`. */
  INVALID_MESSAGE: 'INVALID_MESSAGE',
  /** `join.v` is not a version this server speaks. The socket is closed (4005). */
  VERSION_MISMATCH: 'VERSION_MISMATCH',
  /** No room has that code (or the code is not well formed). */
  ROOM_NOT_FOUND: 'ROOM_NOT_FOUND',
  /** The room already holds its maximum number of controllers. */
  ROOM_FULL: 'ROOM_FULL',
  /** The room's DAW is connected from another device. */
  ROLE_TAKEN: 'ROLE_TAKEN',
  /** A bad hostToken (socket closed, 4003), a DAW-only message from a controller, a
   *  controller addressing someone other than the DAW, or a deviceId already in use. */
  UNAUTHORIZED: 'UNAUTHORIZED',
  /** Anything but `join` before the join succeeded (or after `leave`). */
  NOT_JOINED: 'NOT_JOINED',
  /** `to`/`peer` names nobody in this room. */
  PEER_NOT_FOUND: 'PEER_NOT_FOUND',
  /** `to` names a member whose connection is down (within its grace/resume window). */
  PEER_AWAY: 'PEER_AWAY',
  /** Over the per-connection message rate or the per-address failed-join rate. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** A `state` larger than the server keeps. */
  TOO_LARGE: 'TOO_LARGE',
  /** The server has as many rooms as it will hold. */
  SERVER_FULL: 'SERVER_FULL',
  /** This device or address was kicked from this room: a kick is a ban for the room's lifetime. */
  BANNED: 'BANNED',
  /** The DAW locked the room: no new controllers (members with a resumeToken still come back). */
  ROOM_LOCKED: 'ROOM_LOCKED',
  /** The room asks for a PIN and the join had none, or a wrong one (the message says which). */
  PIN_REQUIRED: 'PIN_REQUIRED',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/**
 * WebSocket close codes. 4000–4099 are terminal: the client must not reconnect on its own
 * (a person decides). Everything else — 1001, 1006 (a dead or stalled socket the server
 * cut off), 1007, 1009, 1011, 1012, 41xx — is retryable with backoff and the resumeToken.
 */
export const CloseCode = {
  /** After the client's own `leave`. */
  NORMAL: 1000,
  /** The server is shutting down or restarting: come back. */
  GOING_AWAY: 1001,
  /** A frame over maxPayload (set by `ws`). The frame is dropped. */
  MESSAGE_TOO_BIG: 1009,
  /**
   * Several instances (`--redis`): the instance holding this member's room died or lost track of
   * it. Reconnect at once and rejoin with the token; whichever instance is reached takes over.
   */
  SERVICE_RESTART: 1012,
  KICKED: 4001,
  SESSION_CLOSED: 4002,
  /** The hostToken was missing or did not verify. */
  UNAUTHORIZED: 4003,
  /** A newer connection of the same member took over. */
  REPLACED: 4004,
  VERSION_MISMATCH: 4005,
  /** Kept sending far over the message rate after RATE_LIMITED errors. */
  RATE_LIMITED: 4101,
  /** Opened the socket but sent no valid `join` in time. */
  JOIN_TIMEOUT: 4102,
} as const;
export type CloseCode = (typeof CloseCode)[keyof typeof CloseCode];

/** Whether a close code tells the client to stop instead of reconnecting. */
export function isTerminalClose(code: number): boolean {
  return code === CloseCode.NORMAL || (code >= 4000 && code < 4100);
}

// ─── Shared field schemas ────────────────────────────────────────────────────────────────
const Id = v.pipe(v.string(), v.regex(/^[\w-]{1,32}$/, 'must be 1–32 of A–Z a–z 0–9 _ -'));
const DeviceId = v.pipe(v.string(), v.regex(/^[\w-]{8,64}$/, 'must be 8–64 of A–Z a–z 0–9 _ -'));
/** A peerId and a deviceId as the wire allows them (the server checks room snapshots from Redis with them too). */
export const PeerIdSchema = Id;
export const DeviceIdSchema = DeviceId;
const Token = v.pipe(v.string(), v.maxLength(256));
export const MAX_NAME_LENGTH = 32;

/**
 * What is wrong with a player's name, or null. Shared by the server (which refuses such names)
 * and the join form (which says so before joining). Empty means "no name" (the server picks one).
 * Format characters (bidi overrides, zero-width joiners and spaces) are refused because they make
 * one name look like another or reorder the text around it in every member list.
 */
export function nameProblem(name: string): string | null {
  if (name.length > MAX_NAME_LENGTH) return `must be at most ${MAX_NAME_LENGTH} characters`;
  if (/[\p{Cc}\p{Cf}\p{Co}\p{Cs}\p{Zl}\p{Zp}]/u.test(name))
    return 'must not hold control or invisible formatting characters';
  if (name !== '' && !/[\p{L}\p{N}\p{S}\p{P}]/u.test(name)) return 'needs at least one visible character';
  return null;
}
/**
 * A name as people would confuse it: compatibility-normalized (fullwidth, ligatures), case-folded,
 * spaces collapsed. Two names with the same key are "the same name" in a room.
 */
export function nameKey(name: string): string {
  return name.normalize('NFKC').toLowerCase().replace(/\s+/gu, ' ').trim();
}

/** The DAW's name: no controller may call itself this (or anything that reads as it: "D A W", "ＤＡＷ"). */
export function isReservedName(name: string): boolean {
  return nameKey(name).replace(/[^\p{L}\p{N}]/gu, '') === 'daw';
}

const Name = v.pipe(
  v.string(),
  v.trim(),
  v.check(
    (name) => nameProblem(name) === null,
    (issue) => nameProblem(String(issue.input)) ?? 'is not a valid name',
  ),
);
/** A room PIN: four digits, asked of phones joining when the DAW sets one. */
export const PIN_PATTERN = /^\d{4}$/;
const Pin = v.pipe(v.string(), v.regex(PIN_PATTERN, 'must be 4 digits'));
/** A client's own reference for a message, echoed in any `error` that message causes. */
const Ref = v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(0xffffffff));
const Reason = v.pipe(v.string(), v.maxLength(200));
const Color = v.pipe(v.string(), v.regex(/^#[0-9a-fA-F]{6}$/, 'must be #rrggbb'));
export const ColorSchema = Color;
const Timestamp = v.pipe(v.number(), v.finite());
/** Deepest nesting a payload or state may have. Real SDP/ICE objects are 2–3 deep. */
export const MAX_JSON_DEPTH = 32;

/**
 * Whether a parsed JSON value nests at most `limit` deep. Iterative on purpose: a recursive
 * walk (or JSON.stringify) of a 30,000-deep array, which fits in one 64 KiB frame, overflows
 * the stack.
 */
export function jsonDepthAtMost(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [node, depth] = item;
    if (typeof node !== 'object' || node === null) continue;
    if (depth > limit) return false;
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
    }
  }
  return true;
}

/** Opaque payload the server forwards untouched (SDP/ICE, pad hits): any JSON but null, not too deep. */
const Payload = v.pipe(
  v.custom<NonNullable<unknown>>((input) => input !== undefined && input !== null, 'is required'),
  v.check((input) => jsonDepthAtMost(input, MAX_JSON_DEPTH), `nests deeper than ${MAX_JSON_DEPTH}`),
);

/** Colours a player picks from (and the server gives, in turn, to those who join without one). */
export const PLAYER_COLORS = ['#ff4f7b', '#3ddc84', '#4fc3ff', '#ffcc33', '#b388ff', '#ff8a50', '#64ffda', '#f06292'];

export const RoleSchema = v.picklist(['daw', 'controller']);
export type Role = v.InferOutput<typeof RoleSchema>;

/** DAW-owned room state that controllers mirror. Unknown keys pass through (forward compatible). */
export const PadSchema = v.looseObject({
  name: v.pipe(v.string(), v.maxLength(24)),
  color: Color,
});
/** A name from a catalogue the pages know (a scale, an instrument); one they do not know reads as their default. */
const CatalogueId = v.pipe(v.string(), v.regex(/^[a-z0-9-]{1,32}$/, 'must be 1–32 of a–z 0–9 -'));
/** More than a room's members can be (16), so a room of returning and new players fits. */
export const MAX_BAND_PLAYERS = 64;
/**
 * What one controller plays instead of the drum kit: a melodic instrument from an octave up, and
 * its pads' names and colours as that phone shows them (the DAW names the notes, so phones carry
 * no music theory).
 */
export const PlayerSoundSchema = v.object({
  instrument: CatalogueId,
  octave: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(8)),
  pads: v.pipe(v.array(PadSchema), v.maxLength(16)),
});
export type PlayerSound = v.InferOutput<typeof PlayerSoundSchema>;
/** The band: the key and scale melodic phones play in, and who plays what (by peerId; absent: the drum kit). */
export const BandSchema = v.object({
  key: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(11)),
  scale: CatalogueId,
  players: v.pipe(
    v.record(Id, PlayerSoundSchema),
    v.check((players) => Object.keys(players).length <= MAX_BAND_PLAYERS, `has more than ${MAX_BAND_PLAYERS} players`),
  ),
});
export type Band = v.InferOutput<typeof BandSchema>;
export const RoomStateSchema = v.pipe(
  v.looseObject({
    /** Beats per minute. */
    tempo: v.optional(v.pipe(v.number(), v.minValue(20), v.maxValue(400))),
    pads: v.optional(v.pipe(v.array(PadSchema), v.maxLength(64))),
    band: v.optional(BandSchema),
  }),
  v.check((state) => jsonDepthAtMost(state, MAX_JSON_DEPTH), `nests deeper than ${MAX_JSON_DEPTH}`),
);
export type RoomState = v.InferOutput<typeof RoomStateSchema>;

export const MemberSchema = v.object({
  peerId: Id,
  role: RoleSchema,
  name: v.string(),
  /** The member's colour, #rrggbb: chosen by the player, or given by the server. */
  color: v.string(),
  /** Server time (ms since the epoch) of the member's first join. */
  joinedAt: v.number(),
  /** `away`: its socket is down and the server is holding its place (grace/resume window). */
  state: v.picklist(['connected', 'away']),
  /** Round-trip time of its signaling socket in ms, measured by the server; null until known. */
  rttMs: v.nullable(v.number()),
});
export type Member = v.InferOutput<typeof MemberSchema>;

export const IceServerSchema = v.object({
  urls: v.union([v.string(), v.array(v.string())]),
  username: v.optional(v.string()),
  credential: v.optional(v.string()),
});
export type IceServer = v.InferOutput<typeof IceServerSchema>;

/**
 * `displaced`: it was away when the room was full and a newcomer took its place (the place of
 * whoever had been away longest goes first).
 */
export const MemberLeftReason = v.picklist(['left', 'timeout', 'kicked', 'replaced', 'displaced']);

/** Who may join a room, as its DAW set it. `pin` is only ever sent to the DAW. */
export const AccessSchema = v.object({
  /** No new controllers; members with a valid resumeToken still come back. */
  locked: v.boolean(),
  /** Phones joining (new members) must give this PIN; null: none. */
  pin: v.nullable(Pin),
});
export type Access = v.InferOutput<typeof AccessSchema>;
export const SessionClosedReason = v.picklist(['ended', 'host-timeout']);

// ─── Client → server ─────────────────────────────────────────────────────────────────────
const clientSchemas = {
  join: v.object({
    type: v.literal('join'),
    v: v.literal(PROTOCOL_VERSION),
    role: RoleSchema,
    room: v.optional(v.pipe(v.string(), v.maxLength(32))),
    deviceId: DeviceId,
    name: v.optional(Name),
    color: v.optional(Color),
    hostToken: v.optional(Token),
    resumeToken: v.optional(Token),
    /** The room's PIN, when its DAW set one (asked of new members only). */
    pin: v.optional(Pin),
  }),
  signal: v.object({ type: v.literal('signal'), to: Id, data: Payload, ref: v.optional(Ref) }),
  relay: v.object({ type: v.literal('relay'), to: v.optional(Id), data: Payload, ref: v.optional(Ref) }),
  state: v.object({ type: v.literal('state'), state: RoomStateSchema }),
  /** A new name and/or colour for the sender, told to the room as member-updated. */
  profile: v.pipe(
    v.object({ type: v.literal('profile'), name: v.optional(Name), color: v.optional(Color) }),
    v.check((message) => message.name !== undefined || message.color !== undefined, 'needs "name" or "color"'),
  ),
  kick: v.object({ type: v.literal('kick'), peer: Id, reason: v.optional(Reason) }),
  /** DAW only: who may join (lock, PIN). Kept for the room; the DAW gets it back in its welcome. */
  access: v.object({ type: v.literal('access'), access: AccessSchema }),
  /** `rtt`: the round trip (ms) the client measured for its previous ping: the member's RTT. */
  ping: v.object({
    type: v.literal('ping'),
    t: Timestamp,
    rtt: v.optional(v.pipe(v.number(), v.minValue(0), v.maxValue(60_000))),
  }),
  leave: v.object({ type: v.literal('leave') }),
};
export type ClientMessageType = keyof typeof clientSchemas;
export type ClientMessages = { [K in ClientMessageType]: v.InferOutput<(typeof clientSchemas)[K]> };
export type ClientMessage = ClientMessages[ClientMessageType];
export type JoinMessage = ClientMessages['join'];

// ─── Server → client ─────────────────────────────────────────────────────────────────────
const serverSchemas = {
  welcome: v.object({
    type: v.literal('welcome'),
    v: v.number(),
    room: v.string(),
    peerId: Id,
    role: RoleSchema,
    /** Everyone in the room, this member included. */
    members: v.array(MemberSchema),
    state: v.optional(RoomStateSchema),
    iceServers: v.array(IceServerSchema),
    hostToken: v.optional(v.string()),
    resumeToken: v.string(),
    heartbeatMs: v.number(),
    /** DAW only: the room's access settings. */
    access: v.optional(AccessSchema),
  }),
  'member-joined': v.object({ type: v.literal('member-joined'), member: MemberSchema }),
  'member-left': v.object({ type: v.literal('member-left'), peerId: Id, reason: MemberLeftReason }),
  'member-updated': v.object({ type: v.literal('member-updated'), member: MemberSchema }),
  signal: v.object({ type: v.literal('signal'), from: Id, data: Payload }),
  relay: v.object({ type: v.literal('relay'), from: Id, data: Payload }),
  state: v.object({ type: v.literal('state'), state: RoomStateSchema }),
  /**
   * `resumeToken`: a fresh one, when the one the client holds would expire within the resume
   * window (tokens expire; a connected member's is renewed through its pings). A DAW's is its
   * hostToken.
   */
  pong: v.object({
    type: v.literal('pong'),
    t: v.number(),
    serverTime: v.number(),
    resumeToken: v.optional(v.string()),
  }),
  kicked: v.object({ type: v.literal('kicked'), reason: v.string() }),
  'session-closed': v.object({ type: v.literal('session-closed'), reason: SessionClosedReason }),
  // Any string: a client must treat a code it does not know (from a newer server) as an error, not ignore it.
  // `ref`: the `ref` of the message that caused it, when that message had one.
  error: v.object({ type: v.literal('error'), code: v.string(), message: v.string(), ref: v.optional(v.number()) }),
};
export type ServerMessageType = keyof typeof serverSchemas;
export type ServerMessages = { [K in ServerMessageType]: v.InferOutput<(typeof serverSchemas)[K]> };
export type ServerMessage = ServerMessages[ServerMessageType];
export type WelcomeMessage = ServerMessages['welcome'];
export type MemberLeftReason = ServerMessages['member-left']['reason'];
export type SessionClosedReason = ServerMessages['session-closed']['reason'];

// ─── Parsing ─────────────────────────────────────────────────────────────────────────────
export interface ProtocolError {
  code: ErrorCode;
  message: string;
}
export type Parsed<T> = { ok: true; message: T } | { ok: false; error: ProtocolError };

function invalid(message: string): { ok: false; error: ProtocolError } {
  return { ok: false, error: { code: ErrorCode.INVALID_MESSAGE, message } };
}

type Decoded = { ok: true; raw: Record<string, unknown>; type: string } | { ok: false; error: ProtocolError };

/** Text → an object with a string `type`, or why not. */
function decode(text: string): Decoded {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return invalid('not valid JSON');
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return invalid('a message is a JSON object');
  const type = (raw as { type?: unknown }).type;
  if (typeof type !== 'string') return invalid('missing string field "type"');
  return { ok: true, raw: raw as Record<string, unknown>, type };
}

function validate<T>(schemas: Record<string, v.GenericSchema>, raw: unknown, type: string): Parsed<T> {
  const schema = Object.hasOwn(schemas, type) ? schemas[type] : undefined;
  if (!schema) return invalid(`unknown message type "${type.slice(0, 40)}"`);
  const result = v.safeParse(schema, raw, { abortEarly: true });
  if (result.success) return { ok: true, message: result.output as T };
  const [issue] = result.issues;
  const path = v.getDotPath(issue);
  return invalid(`${type}${path ? `.${path}` : ''}: ${issue.message}`);
}

/**
 * One inbound text frame → a typed client message, or the error to answer with. Never
 * throws. A `join` that names a version other than ours is VERSION_MISMATCH rather than
 * INVALID_MESSAGE, so old and new clients are told the real problem.
 */
export function parseClientMessage(text: string): Parsed<ClientMessage> {
  const decoded = decode(text);
  if (!decoded.ok) return decoded;
  const { raw, type } = decoded;
  if (type === 'join' && raw.v !== undefined && raw.v !== PROTOCOL_VERSION) {
    return {
      ok: false,
      error: { code: ErrorCode.VERSION_MISMATCH, message: `this server speaks protocol v${PROTOCOL_VERSION}` },
    };
  }
  return validate<ClientMessage>(clientSchemas, raw, type);
}

/** One frame from the server → a typed server message (clients parse too, never cast). */
export function parseServerMessage(text: string): Parsed<ServerMessage> {
  const decoded = decode(text);
  return decoded.ok ? validate<ServerMessage>(serverSchemas, decoded.raw, decoded.type) : decoded;
}

/**
 * The browser side of the signaling socket: joins, stays joined, and says honestly what
 * state it is in. Reconnects with capped, jittered exponential backoff and the resume (or
 * host) token; never reconnects after a terminal close; queues control messages (bounded)
 * while away and sends them in order once back; never queues volatile ones (pad hits).
 * Uses only the WebSocket API, so it runs over plain http on phones, and in Node tests with
 * `ws` passed in.
 */
import {
  type ClientMessages,
  CloseCode,
  ErrorCode,
  isTerminalClose,
  parseServerMessage,
  type ServerMessage,
  type SessionClosedReason,
  type WelcomeMessage,
} from '../../signal/protocol.ts';
import { takeEarlySocket } from './early-socket.ts';
import { defaultSignalingUrl, type JoinParams, joinText } from './join.ts';

export type { JoinParams } from './join.ts';

/** Why the connection ended for good: the UI shows a screen for each. */
export type EndReason =
  | { kind: 'left' }
  | { kind: 'kicked'; reason: string }
  | { kind: 'session-closed'; reason: SessionClosedReason }
  | { kind: 'replaced' }
  /** `code` is an ErrorCode, or one from a newer server this client does not know. */
  | { kind: 'refused'; code: string; message: string }
  | { kind: 'closed'; code: number };

export type SignalingStatus =
  | { kind: 'connecting' }
  | { kind: 'connected' }
  | { kind: 'reconnecting'; attempt: number; delayMs: number }
  | { kind: 'ended'; reason: EndReason };

/** Messages that wait in the queue while the socket is down. */
export type ControlMessage = ClientMessages['state' | 'profile' | 'kick' | 'access' | 'signal'];
export type SendResult = 'sent' | 'queued' | 'dropped';

/** The part of the WebSocket API we use: the browser's, or `ws` in Node. */
export interface SocketLike {
  readonly readyState: number;
  /** Bytes given to send() not yet handed to the network. */
  readonly bufferedAmount: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type SocketFactory = (url: string) => SocketLike;

export interface SignalingOptions {
  /** ws:// URL of the signal server; default: this page's host, path /ws. */
  url?: string;
  join: JoinParams;
  /** Default: the browser's WebSocket. */
  connect?: SocketFactory;
  /** First retry after about this long (ms); doubles per attempt. */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** After having been in a room, keep retrying "room not found" this long (the server restarted, the DAW is on its way). */
  roomWaitMs?: number;
  /** A socket that neither opens nor welcomes us within this is given up and retried. */
  connectTimeoutMs?: number;
  queueLimit?: number;
  random?: () => number;
  onMessage?: (message: ServerMessage) => void;
  onStatus?: (status: SignalingStatus) => void;
}

export interface Signaling {
  readonly status: SignalingStatus;
  /** The latest welcome (room, peerId, members…), null before the first. */
  readonly welcome: WelcomeMessage | null;
  /** Round trip of the last ping, in ms. */
  readonly rttMs: number | null;
  /** The join parameters as they stand (room and tokens filled in from the welcome). */
  readonly params: Readonly<JoinParams>;
  /** Control message: sent now, or queued (bounded, in order) until the socket is back. */
  send(message: ControlMessage): SendResult;
  /** Our new name and/or colour: told to the room now (or once back), and used in every later join. */
  setProfile(profile: { name?: string; color?: string }): SendResult;
  /**
   * Volatile message (a pad hit through the relay): sent now or not at all (also not when the
   * socket is backed up, so it would go out late). Give it a `ref` to recognise the `error`
   * it may cause (PEER_AWAY when the DAW is away, say).
   */
  sendNow(message: ClientMessages['relay']): boolean;
  /** Leaves the room for good. Connected, the server tells the others at once; otherwise our place expires with the resume window. */
  leave(): void;
  /** Stops without leaving: the server keeps our place for its resume window. */
  close(): void;
}

const WS_OPEN = 1;
/**
 * We ping every 2 heartbeats: often enough that the server never needs to ping us (it pings a
 * socket only after 2.5 heartbeats of silence) and to see its answers well within our limit,
 * and no more, because every ping and its answer cost the server a syscall each.
 */
export const PING_EVERY_HEARTBEATS = 2;
/** A socket we have heard nothing on (no answer to two pings) for this many heartbeats is dead. */
const SILENT_HEARTBEATS = 4;
/** A volatile message behind this many unsent bytes would arrive late: it is refused instead. */
const maxVolatileBacklog = 8 * 1024;

/** Join refusals worth retrying: the server may have room again in a moment (or the room may take wrong PINs again). */
const RETRYABLE_REFUSALS: ReadonlySet<string> = new Set([ErrorCode.RATE_LIMITED, ErrorCode.SERVER_FULL]);

export function createSignaling(options: SignalingOptions): Signaling {
  const url = options.url ?? defaultSignalingUrl(globalThis.location);
  const connect = options.connect ?? ((target: string) => new WebSocket(target) as unknown as SocketLike);
  const initialBackoffMs = options.initialBackoffMs ?? 250;
  const maxBackoffMs = options.maxBackoffMs ?? 5_000;
  const roomWaitMs = options.roomWaitMs ?? 60_000;
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const queueLimit = options.queueLimit ?? 64;
  const random = options.random ?? Math.random;

  const params: JoinParams = { ...options.join };
  const queue: ControlMessage[] = [];
  let status: SignalingStatus = { kind: 'connecting' };
  let welcome: WelcomeMessage | null = null;
  let rttMs: number | null = null;
  let socket: SocketLike | null = null;
  let joined = false;
  let attempt = 0;
  let roomMissingSince: number | null = null;
  let lastHeardAt = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let watchdog: ReturnType<typeof setInterval> | undefined;
  let pingTimer: ReturnType<typeof setInterval> | undefined;

  function setStatus(next: SignalingStatus): void {
    status = next;
    options.onStatus?.(next);
  }

  function open(): void {
    if (status.kind === 'ended') return;
    joined = false;
    lastHeardAt = performance.now();
    const join = joinText(params);
    // The socket the page's first script opened with this very join (early-socket.ts): it sends the
    // join itself, and what the server answered before the app ran is handled as if it came now.
    const early = takeEarlySocket(join);
    const ws = (early?.socket as SocketLike | undefined) ?? connect(url);
    socket = ws;
    const heard = (text: string) => {
      const parsed = parseServerMessage(text);
      if (parsed.ok) receive(parsed.message);
    };
    ws.onopen = early ? null : () => ws.send(join);
    ws.onmessage = (event) => {
      lastHeardAt = performance.now();
      if (typeof event.data === 'string') heard(event.data);
    };
    ws.onclose = (event) => {
      if (socket === ws) closed(event.code);
    };
    ws.onerror = () => {}; // a 'close' always follows
    clearInterval(watchdog);
    watchdog = setInterval(checkAlive, Math.min(1000, connectTimeoutMs / 2));
    // A microtask later: the caller has this client in hand before it hears of the welcome (as it would from a socket).
    if (early && early.inbox.length > 0) {
      queueMicrotask(() => {
        for (const text of early.inbox) if (socket === ws) heard(text);
      });
    }
  }

  function receive(message: ServerMessage): void {
    switch (message.type) {
      case 'welcome':
        welcome = message;
        joined = true;
        attempt = 0;
        roomMissingSince = null;
        params.room = message.room;
        params.resumeToken = message.resumeToken;
        if (message.hostToken !== undefined) params.hostToken = message.hostToken;
        startPinging(message.heartbeatMs);
        setStatus({ kind: 'connected' });
        break;
      case 'pong':
        rttMs = Math.round((performance.now() - message.t) * 10) / 10;
        // Tokens expire; a connected member's is renewed in a pong, before the old one would.
        if (message.resumeToken !== undefined) {
          params.resumeToken = message.resumeToken;
          if (params.role === 'daw') params.hostToken = message.resumeToken;
        }
        break;
      case 'kicked':
        end({ kind: 'kicked', reason: message.reason });
        break;
      case 'session-closed':
        end({ kind: 'session-closed', reason: message.reason });
        break;
      case 'error':
        if (!joined) return refused(message.code, message.message);
        break;
    }
    options.onMessage?.(message);
    // Queued messages go after the app has seen the welcome (and could re-address them).
    if (message.type === 'welcome') flush();
  }

  /** The server turned our join down. */
  function refused(code: string, message: string): void {
    const everJoined = params.resumeToken !== undefined;
    if (code === ErrorCode.ROOM_NOT_FOUND && everJoined) {
      // The server restarted and our DAW has not claimed the room back yet: wait for it.
      const now = Date.now();
      roomMissingSince ??= now;
      if (now - roomMissingSince < roomWaitMs) return retry();
    }
    if (RETRYABLE_REFUSALS.has(code)) return retry();
    end({ kind: 'refused', code, message });
  }

  function closed(code: number): void {
    if (status.kind === 'ended') return;
    if (!isTerminalClose(code)) return retry();
    if (code === CloseCode.REPLACED) end({ kind: 'replaced' });
    else end({ kind: 'closed', code });
  }

  /** Drops the current socket (if any) and tries again after a jittered, capped backoff. */
  function retry(): void {
    if (status.kind === 'ended') return;
    drop();
    attempt += 1;
    const ceiling = Math.min(maxBackoffMs, initialBackoffMs * 2 ** (attempt - 1));
    const delayMs = Math.round(ceiling / 2 + (random() * ceiling) / 2);
    // Armed before telling anyone: an onStatus handler that calls close() must be able to cancel it.
    retryTimer = setTimeout(open, delayMs);
    setStatus(welcome === null ? { kind: 'connecting' } : { kind: 'reconnecting', attempt, delayMs });
  }

  function checkAlive(): void {
    const silentMs = performance.now() - lastHeardAt;
    const limit = joined && welcome ? welcome.heartbeatMs * SILENT_HEARTBEATS : connectTimeoutMs;
    if (silentMs > limit) retry();
  }

  /** Our pings keep the server from pinging us, and tell it our round trip (the member's RTT). */
  function startPinging(heartbeatMs: number): void {
    clearInterval(pingTimer);
    rttMs = null;
    const ping = () => {
      if (socket?.readyState !== WS_OPEN) return;
      const message: ClientMessages['ping'] = { type: 'ping', t: performance.now() };
      if (rttMs !== null) message.rtt = rttMs;
      socket.send(JSON.stringify(message));
    };
    ping(); // at once: the round trip is known (and told with the next) without waiting a whole period
    pingTimer = setInterval(ping, heartbeatMs * PING_EVERY_HEARTBEATS);
  }

  function flush(): void {
    while (queue.length > 0 && joined && socket?.readyState === WS_OPEN) {
      socket.send(JSON.stringify(queue.shift()));
    }
  }

  /** Forgets the socket without waiting for its close event (a dead link may take minutes to report it). */
  function drop(): void {
    clearTimeout(retryTimer);
    clearInterval(watchdog);
    clearInterval(pingTimer);
    joined = false;
    const ws = socket;
    socket = null;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = null;
    ws.onerror = () => {};
    ws.close();
  }

  function end(reason: EndReason): void {
    if (status.kind === 'ended') return;
    drop();
    queue.length = 0;
    setStatus({ kind: 'ended', reason });
  }

  open();

  return {
    get status() {
      return status;
    },
    get welcome() {
      return welcome;
    },
    get rttMs() {
      return rttMs;
    },
    get params() {
      return params;
    },
    send(message) {
      if (status.kind === 'ended') return 'dropped';
      if (joined && socket?.readyState === WS_OPEN && queue.length === 0) {
        socket.send(JSON.stringify(message));
        return 'sent';
      }
      // Only the newest state (or access) matters: it replaces a queued older one.
      if (message.type === 'state' || message.type === 'access') {
        const older = queue.findIndex((queued) => queued.type === message.type);
        if (older >= 0) queue.splice(older, 1);
      }
      if (queue.length >= queueLimit) return 'dropped';
      queue.push(message);
      return 'queued';
    },
    setProfile(profile) {
      if (profile.name !== undefined) params.name = profile.name;
      if (profile.color !== undefined) params.color = profile.color;
      return this.send({ type: 'profile', ...profile });
    },
    sendNow(message) {
      if (!joined || socket?.readyState !== WS_OPEN || socket.bufferedAmount > maxVolatileBacklog) return false;
      socket.send(JSON.stringify(message));
      return true;
    },
    leave() {
      if (joined && socket?.readyState === WS_OPEN) socket.send('{"type":"leave"}');
      end({ kind: 'left' });
    },
    close() {
      end({ kind: 'closed', code: CloseCode.NORMAL });
    },
  };
}

/**
 * One load generator for every signaling contender, so they are measured the same way. Each
 * contender speaks its own protocol through a small Dialect (how a member connects and
 * joins, what its welcome looks like, how a relayed message is written and read back); the
 * load itself is the same for all:
 *
 * - load phase: rooms of one DAW and three controllers join (the first ones timed: the join
 *   storm), sit silent until the server's heartbeat has settled (its idle CPU), then relay at
 *   a steady total rate (latency; the server's CPU per relayed message), then at a fixed rate
 *   per peer that may saturate the server (what gets through), then keep the heartbeat their
 *   contender's real client keeps (the idle CPU with live clients);
 * - memory phase, in a fresh server process: as many members as the open-file limit allows
 *   join and sit idle (connections reached; resident memory per connection).
 *
 * Latency is one way, send → receive, both ends in this process (one clock). Everything runs
 * on loopback (127.0.0.1); the caller runs it in a loopback-only network namespace.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { fileURLToPath } from 'node:url';
import { type ClientOptions, WebSocket } from 'ws';
import { PING_EVERY_HEARTBEATS } from '../client/net/signaling.ts';
import { DEFAULT_LIMITS } from '../signal/limits.ts';
import type { ContenderUsage } from './servers/contender.ts';
import { quantile, sortedCopy } from './stats.ts';

// ─── dialects ────────────────────────────────────────────────────────────────────────────
export interface Seat {
  role: 'daw' | 'controller';
  /** The room to join (what the DAW's welcome named); undefined for a DAW. */
  room: string | undefined;
  /** Unique within one server process. */
  n: number;
}

export interface Dialect {
  /** Where this member connects. */
  url(port: number, seat: Seat): string;
  /** What it sends once the socket is open to join; null when connecting is joining. */
  joinFrame(seat: Seat): string | null;
  /** The server's first frame → the member's address and room; throws if it is not a welcome. */
  welcome(frame: string, seat: Seat): { peerId: string; room: string };
  /** A relayed message to `to` is `prefix + sendTime + suffix`: precomputed, so sending costs the generator little. */
  relayFrame(to: string, padding: string): [prefix: string, suffix: string];
  /** The send time a delivered relay frame carries; undefined for any other frame. */
  sentAt(frame: string): number | undefined;
  /** What the contender's own client library sends to keep an idle socket alive; null: nothing. */
  heartbeat: ClientHeartbeat | null;
}

export interface ClientHeartbeat {
  /** How often the real client sends it. */
  everyMs: number;
  /** The frame to send now; `rttMs` is the round trip last measured from this dialect's answer (null before the first). */
  frame(rttMs: number | null): string;
  /** The time our ping carried, when `frame` is the server's answer to one; else undefined. */
  answered(frame: string): number | undefined;
}

/**
 * padmesh's browser client (client/net/signaling.ts) pings every PING_EVERY_HEARTBEATS ×
 * `heartbeatMs` of its welcome (DEFAULT_LIMITS.heartbeatMs: bench/servers/padmesh.ts keeps it)
 * with its last measured round trip, and measures the next one from the pong.
 */
const padmeshHeartbeat: ClientHeartbeat = {
  everyMs: PING_EVERY_HEARTBEATS * DEFAULT_LIMITS.heartbeatMs,
  frame: (rttMs) =>
    rttMs === null
      ? `{"type":"ping","t":${performance.now()}}`
      : `{"type":"ping","t":${performance.now()},"rtt":${rttMs}}`,
  answered(frame) {
    if (!frame.startsWith('{"type":"pong"')) return undefined;
    const t = (JSON.parse(frame) as { t?: unknown }).t;
    return typeof t === 'number' ? t : undefined;
  },
};

/** padmesh's protocol (docs/protocol.md). The bare relay speaks the same subset: join, welcome, relay. */
const padmeshDialect: Dialect = {
  url: (port) => `ws://127.0.0.1:${port}/ws`,
  joinFrame: (seat) =>
    JSON.stringify({ type: 'join', v: 1, role: seat.role, room: seat.room, deviceId: `bench-device-${seat.n}` }),
  welcome(frame) {
    const message = JSON.parse(frame) as { type?: unknown; peerId?: unknown; room?: unknown };
    if (message.type !== 'welcome' || typeof message.peerId !== 'string' || typeof message.room !== 'string') {
      throw new Error(`no welcome: ${frame.slice(0, 160)}`);
    }
    return { peerId: message.peerId, room: message.room };
  },
  relayFrame: (to, padding) => [`{"type":"relay","to":${JSON.stringify(to)},"data":{"t":`, `,"p":"${padding}"}}`],
  sentAt(frame) {
    const message = JSON.parse(frame) as { type?: unknown; data?: { t?: unknown } };
    return message.type === 'relay' && typeof message.data?.t === 'number' ? message.data.t : undefined;
  },
  heartbeat: padmeshHeartbeat,
};

/**
 * peerjs-server has no rooms: a member connects to /peerjs with its own id and token and is
 * welcomed with OPEN; a message names its `dst` and is forwarded with the sender's `src`.
 * A "room" here is the DAW's id, which its controllers address.
 */
const peerjsId = (seat: Seat): string => `${seat.role === 'daw' ? 'd' : 'c'}${seat.n}`;
const peerjsDialect: Dialect = {
  url: (port, seat) => `ws://127.0.0.1:${port}/peerjs?key=peerjs&id=${peerjsId(seat)}&token=t${seat.n}`,
  joinFrame: () => null,
  welcome(frame, seat) {
    const message = JSON.parse(frame) as { type?: unknown };
    if (message.type !== 'OPEN') throw new Error(`no OPEN: ${frame.slice(0, 160)}`);
    const id = peerjsId(seat);
    return { peerId: id, room: seat.room ?? id };
  },
  relayFrame: (to, padding) => [
    `{"type":"CANDIDATE","dst":${JSON.stringify(to)},"payload":{"t":`,
    `,"p":"${padding}"}}`,
  ],
  sentAt(frame) {
    const message = JSON.parse(frame) as { type?: unknown; payload?: { t?: unknown } };
    return message.type === 'CANDIDATE' && typeof message.payload?.t === 'number' ? message.payload.t : undefined;
  },
  // The peerjs client (peers/peerjs lib/socket.ts) sends this every pingInterval, 5,000 ms by
  // default, from the socket's open on; the server answers nothing.
  heartbeat: {
    everyMs: 5000,
    frame: () => '{"type":"HEARTBEAT"}',
    answered: () => undefined,
  },
};

/** The bare relay's clients send nothing between messages (it has no heartbeat). */
export const dialects = {
  padmesh: padmeshDialect,
  bare: { ...padmeshDialect, heartbeat: null },
  peerjs: peerjsDialect,
} as const;

// ─── the server under test ───────────────────────────────────────────────────────────────
export interface Contender {
  child: ChildProcess;
  port: number;
  usage(): Promise<ContenderUsage>;
  gc(): Promise<void>;
  /** Any other question bench/servers/contender.ts answers ("heap-snapshot"). */
  ask<T>(question: string): Promise<T>;
  stop(): Promise<void>;
}

const ASK_TIMEOUT_MS = 30_000;

/** Starts a contender (with extra Node flags, e.g. --cpu-prof, if given) in its own process, pinned to CPU 0 when taskset exists (the load runs on the other core). */
export async function startContender(file: string, nodeArgs: string[] = []): Promise<Contender> {
  const node = [process.execPath, '--expose-gc', ...nodeArgs, '--import', 'tsx', file];
  const pinned = existsSync('/usr/bin/taskset') ? ['/usr/bin/taskset', '-c', '0', ...node] : node;
  const [command, ...args] = pinned as [string, ...string[]];
  // From the repository root, where `--import tsx` resolves.
  const cwd = fileURLToPath(new URL('..', import.meta.url));
  const child = spawn(command, args, { cwd, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start`)), 20_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve((message as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`${file} exited (${code})`)));
  }).catch((error: unknown) => {
    child.kill('SIGKILL');
    throw error;
  });
  // One question at a time (callers await each), each bounded in time.
  const ask = <T>(question: string): Promise<T> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${file} did not answer "${question}"`)), ASK_TIMEOUT_MS);
      child.once('message', (answer) => {
        clearTimeout(timer);
        resolve(answer as T);
      });
      child.send(question);
    });
  return {
    child,
    port,
    ask,
    usage: () => ask<ContenderUsage>('usage'),
    gc: async () => {
      await ask('gc');
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

// ─── members ─────────────────────────────────────────────────────────────────────────────
export interface Client {
  ws: WebSocket;
  peerId: string;
  room: string;
  /** The round trip its heartbeat last measured (what padmesh's client reports in its next ping). */
  rttMs: number | null;
}

export interface Room {
  daw: Client;
  controllers: Client[];
}

const JOIN_TIMEOUT_MS = 15_000;

/** Connects and joins one member (`options.localAddress`: from that loopback address, 127.x.y.z). */
export function joinOne(port: number, dialect: Dialect, seat: Seat, options: ClientOptions = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(dialect.url(port, seat), { perMessageDeflate: false, ...options });
    const fail = (error: Error) => {
      clearTimeout(timer);
      ws.terminate();
      reject(error); // a no-op once joined
    };
    const timer = setTimeout(() => fail(new Error('join timed out')), JOIN_TIMEOUT_MS);
    // Stays on: a socket error after the join must not become an uncaught exception.
    ws.on('error', fail);
    ws.once('close', () => fail(new Error('closed before the welcome')));
    ws.once('open', () => {
      const frame = dialect.joinFrame(seat);
      if (frame !== null) ws.send(frame);
    });
    ws.once('message', (raw) => {
      clearTimeout(timer);
      try {
        resolve({ ws, rttMs: null, ...dialect.welcome(raw.toString(), seat) });
      } catch (error) {
        fail(error as Error);
      }
    });
  });
}

interface Joining {
  rooms: Room[];
  /** Members that did not get in. */
  failures: number;
  firstError: string | undefined;
}

/**
 * Joins `count` rooms (a DAW, then its 3 controllers at once), `inFlight` rooms at a time:
 * a storm, not a thundering herd that measures the kernel's accept queue. Gives up after
 * `maxMs` or after 100 failed members.
 */
async function joinRooms(
  port: number,
  dialect: Dialect,
  seats: { next: number },
  count: number,
  inFlight: number,
  maxMs: number,
): Promise<Joining> {
  const result: Joining = { rooms: [], failures: 0, firstError: undefined };
  const deadline = performance.now() + maxMs;
  const failed = (error: unknown) => {
    result.failures += 1;
    result.firstError ??= error instanceof Error ? error.message : String(error);
  };
  let started = 0;
  const worker = async () => {
    while (started < count && performance.now() < deadline && result.failures < 100) {
      started += 1;
      let daw: Client;
      try {
        daw = await joinOne(port, dialect, { role: 'daw', room: undefined, n: seats.next++ });
      } catch (error) {
        failed(error);
        continue;
      }
      const phones = await Promise.allSettled(
        [0, 1, 2].map(() => joinOne(port, dialect, { role: 'controller', room: daw.room, n: seats.next++ })),
      );
      const controllers: Client[] = [];
      for (const phone of phones) {
        if (phone.status === 'fulfilled') controllers.push(phone.value);
        else failed(phone.reason);
      }
      result.rooms.push({ daw, controllers });
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, worker));
  return result;
}

const membersOf = (rooms: Room[]): Client[] => rooms.flatMap((room) => [room.daw, ...room.controllers]);
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ─── relaying ────────────────────────────────────────────────────────────────────────────
/** One sender and whom it writes to, in turn. */
export interface Flow {
  ws: WebSocket;
  frames: [string, string][];
  next: number;
}

export interface RelayResult {
  /** Messages offered per second (the plan). */
  offeredRate: number;
  /** Messages handed to the sockets per second (the generator may fall behind a saturating plan). */
  sentRate: number;
  sent: number;
  delivered: number;
  /** One-way latency; a message not delivered by the end of the drain counts as infinitely late. */
  p50Ms: number;
  p99Ms: number;
  /** Server CPU (user + system) over the phase and its drain, per delivered message. */
  cpuPerRelayUs: number;
  /** That CPU (µs) and the time it was read over (ms). */
  cpuMicros: number;
  windowMs: number;
  /** Member sockets that closed during the phase (a server cutting off a slow reader, say). */
  closed: number;
}

export interface Receiver {
  since: number;
  latencies: Float64Array;
  delivered: number;
}

/**
 * Sends `rate` messages per second in total for `durationMs`, round-robin over the flows,
 * then waits (at most `drainMs`) for them to land. Sending stops at the deadline even if the
 * generator fell behind: what it managed is reported as sentRate.
 */
export async function relay(
  contender: Contender,
  flows: Flow[],
  receiver: { current: Receiver | null },
  closed: { count: number },
  rate: number,
  durationMs: number,
  drainMs: number,
): Promise<RelayResult> {
  const planned = Math.floor((rate * durationMs) / 1000);
  const sink: Receiver = { since: performance.now(), latencies: new Float64Array(planned), delivered: 0 };
  receiver.current = sink;
  const closedBefore = closed.count;
  const before = await contender.usage();
  const windowStart = performance.now();
  // At most 10 ms worth of messages per tick, so that receiving is not starved when sending lags.
  const perTick = Math.max(1, Math.ceil(rate / 100));
  let sent = 0;
  const startedAt = performance.now();
  let sendingMs = durationMs;
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const elapsed = performance.now() - startedAt;
      const due = Math.min(planned, Math.floor((elapsed * rate) / 1000), sent + perTick);
      for (; sent < due; sent++) {
        const flow = flows[sent % flows.length] as Flow;
        const [prefix, suffix] = flow.frames[flow.next++ % flow.frames.length] as [string, string];
        if (flow.ws.readyState === WebSocket.OPEN) flow.ws.send(prefix + performance.now() + suffix);
      }
      if (sent >= planned || elapsed >= durationMs) {
        sendingMs = Math.max(durationMs, elapsed);
        clearInterval(tick);
        resolve();
      }
    }, 1);
  });
  const drainUntil = performance.now() + drainMs;
  while (sink.delivered < sent && performance.now() < drainUntil) await sleep(10);
  const after = await contender.usage();
  const windowMs = performance.now() - windowStart;
  receiver.current = null;

  const latencies = new Float64Array(sent).fill(Number.POSITIVE_INFINITY);
  latencies.set(sink.latencies.subarray(0, Math.min(sink.delivered, sent)));
  const sorted = sortedCopy(latencies);
  return {
    offeredRate: rate,
    sentRate: (sent * 1000) / sendingMs,
    sent,
    delivered: sink.delivered,
    p50Ms: quantile(sorted, 0.5),
    p99Ms: quantile(sorted, 0.99),
    cpuPerRelayUs: (after.cpuMicros - before.cpuMicros) / Math.max(1, sink.delivered),
    cpuMicros: after.cpuMicros - before.cpuMicros,
    windowMs,
    closed: closed.count - closedBefore,
  };
}

// ─── listening ───────────────────────────────────────────────────────────────────────────
/** Where the members' listeners put what arrives: the current relay phase's receiver, sockets closed so far. */
export interface Listening {
  receiver: { current: Receiver | null };
  closed: { count: number };
  /**
   * What else reached the members, counted: WebSocket pings from the server, and frames that are
   * neither relays nor heartbeat answers (padmesh: notices such as a member's new RTT).
   */
  counts: { pings: number; notices: number };
}

/**
 * Listens on every member: relayed messages land in the current receiver (their one-way
 * latency); a heartbeat's answer sets the member's round trip; the server's WebSocket pings
 * and any other frame are counted. Frames bigger than `ignoreAboveBytes` are not read
 * (nothing honest is that big).
 */
export function listen(members: Client[], dialect: Dialect, ignoreAboveBytes = 4096): Listening {
  const listening: Listening = { receiver: { current: null }, closed: { count: 0 }, counts: { pings: 0, notices: 0 } };
  const { counts } = listening;
  const heartbeat = dialect.heartbeat;
  for (const client of members) {
    client.ws.on('close', () => {
      listening.closed.count += 1;
    });
    client.ws.on('ping', () => {
      counts.pings += 1;
    });
    client.ws.on('message', (raw: Buffer) => {
      if (raw.length > ignoreAboveBytes) return;
      const frame = raw.toString();
      const sentAt = dialect.sentAt(frame);
      if (sentAt !== undefined) {
        const sink = listening.receiver.current;
        if (sink === null || sentAt < sink.since || sink.delivered >= sink.latencies.length) return;
        sink.latencies[sink.delivered++] = performance.now() - sentAt;
        return;
      }
      const pingedAt = heartbeat?.answered(frame);
      // As padmesh's client rounds it.
      if (pingedAt !== undefined) client.rttMs = Math.round((performance.now() - pingedAt) * 10) / 10;
      else counts.notices += 1;
    });
  }
  return listening;
}

/**
 * Starts every member's client-side heartbeat as its contender's real client keeps it, each
 * at a random phase (real clients joined at different times); returns how to stop them all.
 */
function startClientHeartbeats(members: Client[], heartbeat: ClientHeartbeat, sent: { count: number }): () => void {
  const timers: NodeJS.Timeout[] = [];
  for (const client of members) {
    const beat = () => {
      if (client.ws.readyState !== WebSocket.OPEN) return;
      client.ws.send(heartbeat.frame(client.rttMs));
      sent.count += 1;
    };
    const phase = Math.random() * heartbeat.everyMs;
    timers.push(
      setTimeout(() => {
        beat();
        timers.push(setInterval(beat, heartbeat.everyMs));
      }, phase),
    );
  }
  return () => {
    for (const timer of timers) clearTimeout(timer);
  };
}

export interface IdleReading {
  /** Server CPU over the window, ms per second. */
  cpuMsPerSecond: number;
  /** The same for each whole second of the window, in order (to see whether it had settled). */
  perSecond: number[];
  /** WebSocket pings the members got from the server, per second. */
  pingsPerSecond: number;
  /** Other frames they got (padmesh: RTT notices to the DAWs), per second. */
  noticesPerSecond: number;
}

/** Reads the server's CPU over `windowMs`, second by second, and counts what reached the members meanwhile. */
async function readIdle(contender: Contender, windowMs: number, counts: Listening['counts']): Promise<IdleReading> {
  const { pings, notices } = counts;
  const first = await contender.usage();
  const startedAt = performance.now();
  const perSecond: number[] = [];
  let last = first.cpuMicros;
  let lastAt = startedAt;
  for (let second = 1; second * 1000 <= windowMs; second++) {
    await sleep(Math.max(0, startedAt + second * 1000 - performance.now()));
    const { cpuMicros } = await contender.usage();
    const at = performance.now();
    perSecond.push((cpuMicros - last) / (at - lastAt));
    last = cpuMicros;
    lastAt = at;
  }
  await sleep(Math.max(0, startedAt + windowMs - performance.now()));
  const end = await contender.usage();
  const seconds = (performance.now() - startedAt) / 1000;
  return {
    cpuMsPerSecond: (end.cpuMicros - first.cpuMicros) / (seconds * 1000),
    perSecond,
    pingsPerSecond: (counts.pings - pings) / seconds,
    noticesPerSecond: (counts.notices - notices) / seconds,
  };
}

/** A full GC now (the garbage of what came before is not the window's), then waits until `until` (a performance.now() time). */
async function gcAndSettle(contender: Contender, until: number): Promise<void> {
  await contender.gc();
  await sleep(Math.max(0, until - performance.now()));
}

// ─── the load phase ──────────────────────────────────────────────────────────────────────
export interface LoadPlan {
  /** Rooms (of 4 members) in the timed join storm. */
  stormRooms: number;
  /** Rooms joined in all, for the relay phases. */
  rooms: number;
  /** Rooms joining at once. */
  inFlightRooms: number;
  /** Bytes of each relayed frame (SDP is ~400 B and up; pad hits are tiny). */
  frameBytes: number;
  /**
   * Everyone silent (clients that only answer WebSocket pings): the server's CPU is read over
   * `windowMs`, from `settleMs` after the last join on.
   */
  /**
   * Idle, silent clients: from `firstPingsFromMs` to `settleMs` after the last join the server's
   * first pings of them land (padmesh's cost per ping is read there); the idle CPU is then read
   * over `windowMs`, settled.
   */
  idle: { firstPingsFromMs: number; settleMs: number; windowMs: number };
  /** Controllers → their DAW, this many messages per second in all. */
  steady: { rate: number; durationMs: number };
  /** Every member (DAW and controllers) sends this many per second: controllers to their DAW, the DAW to its controllers in turn. */
  perPeer: { rate: number; durationMs: number };
  /** How long to wait for the last messages of a relay phase. */
  drainMs: number;
  /**
   * Every member keeps its contender's client heartbeat: the server's CPU is read over
   * `windowMs`, from `settleMs` after the heartbeats started on.
   */
  clientHeartbeat: { settleMs: number; windowMs: number };
}

export interface LoadResult {
  joined: number;
  joinFailures: number;
  stormMembers: number;
  joinStormMs: number;
  cpuPerJoinMs: number;
  /**
   * Server CPU with everyone joined and silent (heartbeats, timers: what a server does for its
   * connections besides relaying), read once the heartbeat has settled, before the relay phases.
   */
  idle: IdleReading;
  /** The window in which a silent socket's first ping lands (padmesh), for the cost of one. */
  firstPings: IdleReading;
  steady: RelayResult;
  perPeer: RelayResult;
  /** Server CPU with every member keeping its real client's heartbeat (the bare relay's send nothing). */
  heartbeatIdle: IdleReading;
  /** Heartbeat frames the members sent during that window. */
  heartbeatsInWindow: number;
}

export async function runLoadPhase(contender: Contender, dialect: Dialect, plan: LoadPlan): Promise<LoadResult> {
  const seats = { next: 1 };
  const maxJoinMs = 60_000;
  await contender.gc();
  const before = await contender.usage();
  const stormStart = performance.now();
  const storm = await joinRooms(contender.port, dialect, seats, plan.stormRooms, plan.inFlightRooms, maxJoinMs);
  const joinStormMs = performance.now() - stormStart;
  const afterStorm = await contender.usage();
  const rest = await joinRooms(
    contender.port,
    dialect,
    seats,
    plan.rooms - plan.stormRooms,
    plan.inFlightRooms,
    maxJoinMs,
  );
  const lastJoinAt = performance.now();
  const rooms = [...storm.rooms, ...rest.rooms];
  const members = membersOf(rooms);
  const stormMembers = membersOf(storm.rooms).length;
  let stopHeartbeats = () => {};
  try {
    const { receiver, closed, counts } = listen(members, dialect);
    const padding = 'x'.repeat(Math.max(0, plan.frameBytes - 70));
    await gcAndSettle(contender, lastJoinAt + plan.idle.firstPingsFromMs);
    const firstPings = await readIdle(contender, plan.idle.settleMs - plan.idle.firstPingsFromMs, counts);
    await gcAndSettle(contender, lastJoinAt + plan.idle.settleMs);
    const idle = await readIdle(contender, plan.idle.windowMs, counts);

    // Controller c of every room before controller c + 1 of any: consecutive messages go to different rooms.
    const steadyFlows: Flow[] = [];
    for (let c = 0; c < 3; c++) {
      for (const room of rooms) {
        const phone = room.controllers[c];
        if (phone) steadyFlows.push({ ws: phone.ws, frames: [dialect.relayFrame(room.daw.peerId, padding)], next: 0 });
      }
    }
    const steady = await relay(
      contender,
      steadyFlows,
      receiver,
      closed,
      plan.steady.rate,
      plan.steady.durationMs,
      plan.drainMs,
    );

    const perPeerFlows: Flow[] = [];
    for (const room of rooms) {
      const toDaw = dialect.relayFrame(room.daw.peerId, padding);
      for (const phone of room.controllers) perPeerFlows.push({ ws: phone.ws, frames: [toDaw], next: 0 });
      const toPhones = room.controllers.map((phone) => dialect.relayFrame(phone.peerId, padding));
      if (toPhones.length > 0) perPeerFlows.push({ ws: room.daw.ws, frames: toPhones, next: 0 });
    }
    const perPeer = await relay(
      contender,
      perPeerFlows,
      receiver,
      closed,
      plan.perPeer.rate * perPeerFlows.length,
      plan.perPeer.durationMs,
      plan.drainMs,
    );

    // The same wait and window for every contender, whether its clients send a heartbeat or not.
    const heartbeats = { count: 0 };
    const heartbeatFrom = performance.now();
    if (dialect.heartbeat !== null) stopHeartbeats = startClientHeartbeats(members, dialect.heartbeat, heartbeats);
    await gcAndSettle(contender, heartbeatFrom + plan.clientHeartbeat.settleMs);
    const sentBefore = heartbeats.count;
    const heartbeatIdle = await readIdle(contender, plan.clientHeartbeat.windowMs, counts);
    return {
      joined: members.length,
      joinFailures: storm.failures + rest.failures,
      stormMembers,
      joinStormMs,
      cpuPerJoinMs: (afterStorm.cpuMicros - before.cpuMicros) / 1000 / Math.max(1, stormMembers),
      idle,
      firstPings,
      steady,
      perPeer,
      heartbeatIdle,
      heartbeatsInWindow: heartbeats.count - sentBefore,
    };
  } finally {
    stopHeartbeats();
    for (const { ws } of members) ws.terminate();
  }
}

// ─── the memory phase ────────────────────────────────────────────────────────────────────
export interface MemoryResult {
  target: number;
  /** Members joined and still open when memory was read. */
  reached: number;
  joinFailures: number;
  firstError: string | undefined;
  fillMs: number;
  /** Server CPU per connect + join while filling up to `target`. */
  cpuPerJoinMs: number;
  /** Server RSS after a GC with everyone idle, minus before anyone connected, per member. */
  rssPerConnectionKB: number;
  /** The same for the V8 heap alone (the rest of RSS is native socket state and allocator slack). */
  heapPerConnectionKB: number;
}

/** Fills a fresh server with `target` idle members (in rooms of 4) and reads its memory. */
export async function runMemoryPhase(
  contender: Contender,
  dialect: Dialect,
  target: number,
  inFlightRooms: number,
  /** Called while everyone is joined and idle, after memory was read (profiling: a heap snapshot). */
  whileIdle?: (contender: Contender) => Promise<void>,
): Promise<MemoryResult> {
  const free = freeFileDescriptors();
  if (free !== null && free < target + 64) {
    throw new Error(`the load generator has ${free} free file descriptors, too few for ${target} sockets`);
  }
  await contender.gc();
  const before = await contender.usage();
  const startedAt = performance.now();
  const joining = await joinRooms(contender.port, dialect, { next: 1 }, Math.ceil(target / 4), inFlightRooms, 90_000);
  const fillMs = performance.now() - startedAt;
  const members = membersOf(joining.rooms);
  try {
    const filled = await contender.usage();
    await sleep(500);
    await contender.gc();
    const idle = await contender.usage();
    const reached = members.filter(({ ws }) => ws.readyState === WebSocket.OPEN).length;
    await whileIdle?.(contender);
    return {
      target,
      reached,
      joinFailures: joining.failures,
      firstError: joining.firstError,
      fillMs,
      cpuPerJoinMs: (filled.cpuMicros - before.cpuMicros) / 1000 / Math.max(1, members.length),
      rssPerConnectionKB: (idle.rssBytes - before.rssBytes) / 1024 / Math.max(1, reached),
      heapPerConnectionKB: (idle.heapUsedBytes - before.heapUsedBytes) / 1024 / Math.max(1, reached),
    };
  } finally {
    for (const { ws } of members) ws.terminate();
  }
}

// ─── this machine ────────────────────────────────────────────────────────────────────────
/** Open-file limit minus open files, for this process; null where /proc cannot say. */
export function freeFileDescriptors(): number | null {
  try {
    const limit = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1];
    return limit === undefined ? null : Number(limit) - readdirSync('/proc/self/fd').length;
  } catch {
    return null;
  }
}

/** True inside a network namespace whose only interface is loopback. */
export const isLoopbackOnly = (): boolean => Object.keys(networkInterfaces()).every((name) => name === 'lo');

/**
 * One load generator for every signaling contender, so they are measured the same way. Each
 * contender speaks its own protocol through a small Dialect (how a member connects and
 * joins, what its welcome looks like, how a relayed message is written and read back); the
 * load itself is the same for all:
 *
 * - load phase: rooms of one DAW and three controllers join (the first ones timed: the join
 *   storm), then relay at a steady total rate (latency; the server's CPU per relayed
 *   message), then at a fixed rate per peer that may saturate the server (what gets through);
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
import { WebSocket } from 'ws';
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
}

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
};

export const dialects = { padmesh: padmeshDialect, bare: padmeshDialect, peerjs: peerjsDialect } as const;

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
interface Client {
  ws: WebSocket;
  peerId: string;
  room: string;
}

interface Room {
  daw: Client;
  controllers: Client[];
}

const JOIN_TIMEOUT_MS = 15_000;

function joinOne(port: number, dialect: Dialect, seat: Seat): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(dialect.url(port, seat), { perMessageDeflate: false });
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
        resolve({ ws, ...dialect.welcome(raw.toString(), seat) });
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
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ─── relaying ────────────────────────────────────────────────────────────────────────────
/** One sender and whom it writes to, in turn. */
interface Flow {
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

interface Receiver {
  since: number;
  latencies: Float64Array;
  delivered: number;
}

/**
 * Sends `rate` messages per second in total for `durationMs`, round-robin over the flows,
 * then waits (at most `drainMs`) for them to land. Sending stops at the deadline even if the
 * generator fell behind: what it managed is reported as sentRate.
 */
async function relay(
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

// ─── the two phases ──────────────────────────────────────────────────────────────────────
export interface LoadPlan {
  /** Rooms (of 4 members) in the timed join storm. */
  stormRooms: number;
  /** Rooms joined in all, for the relay phases. */
  rooms: number;
  /** Rooms joining at once. */
  inFlightRooms: number;
  /** Bytes of each relayed frame (SDP is ~400 B and up; pad hits are tiny). */
  frameBytes: number;
  /** Controllers → their DAW, this many messages per second in all. */
  steady: { rate: number; durationMs: number };
  /** Every member (DAW and controllers) sends this many per second: controllers to their DAW, the DAW to its controllers in turn. */
  perPeer: { rate: number; durationMs: number };
  /** How long to wait for the last messages of a relay phase. */
  drainMs: number;
  /** How long everyone sits idle before the relay phases (the server's background CPU is read over it). */
  idleMs: number;
}

export interface LoadResult {
  joined: number;
  joinFailures: number;
  stormMembers: number;
  joinStormMs: number;
  cpuPerJoinMs: number;
  /**
   * Server CPU per second with everyone joined and nobody sending (heartbeats, timers: what
   * a server does for its connections besides relaying), measured just before the relay phases.
   */
  idleCpuMsPerSecond: number;
  steady: RelayResult;
  perPeer: RelayResult;
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
  const rooms = [...storm.rooms, ...rest.rooms];
  const members = membersOf(rooms);
  const stormMembers = membersOf(storm.rooms).length;
  try {
    const receiver: { current: Receiver | null } = { current: null };
    const closed = { count: 0 };
    for (const { ws } of members) {
      ws.on('close', () => {
        closed.count += 1;
      });
      ws.on('message', (raw) => {
        const sink = receiver.current;
        if (sink === null) return;
        const sentAt = dialect.sentAt(raw.toString());
        if (sentAt === undefined || sentAt < sink.since || sink.delivered >= sink.latencies.length) return;
        sink.latencies[sink.delivered++] = performance.now() - sentAt;
      });
    }
    const padding = 'x'.repeat(Math.max(0, plan.frameBytes - 70));
    await sleep(250);
    await contender.gc();
    const idleFrom = await contender.usage();
    const idleStart = performance.now();
    await sleep(plan.idleMs);
    const idleCpuMsPerSecond =
      ((await contender.usage()).cpuMicros - idleFrom.cpuMicros) / (performance.now() - idleStart);

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
    return {
      joined: members.length,
      joinFailures: storm.failures + rest.failures,
      stormMembers,
      joinStormMs,
      cpuPerJoinMs: (afterStorm.cpuMicros - before.cpuMicros) / 1000 / Math.max(1, stormMembers),
      idleCpuMsPerSecond,
      steady,
      perPeer,
    };
  } finally {
    for (const { ws } of members) ws.terminate();
  }
}

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

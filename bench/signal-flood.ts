/**
 * Honest relays under a flood from one address (issue 9, item 9), the same for every
 * contender, each in a fresh server process: `rooms` rooms of a DAW and three controllers,
 * every member on a loopback address of its own (as phones on a LAN are), the controllers
 * relaying ~100-byte messages to their DAW at `perController` msg/s. Their one-way latency
 * and the server's CPU are read over a window without an attacker, then over the same window
 * while bench/signal-attacker.ts (its own process, niced, on the generator's core) floods
 * from one other address with 64 KiB relays to a room of its own.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { setPriority } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  type Client,
  type Contender,
  type Dialect,
  type Flow,
  joinOne,
  listen,
  type RelayResult,
  type Room,
  relay,
  sleep,
} from './signal-load.ts';

/** The attacker's sockets all come from this address; its DAW from the next. */
export const FLOOD_ADDRESS = '127.0.9.1';
export const FLOOD_DAW_ADDRESS = '127.0.9.2';

/** What bench/signal-attacker.ts did, told when it is stopped. */
export interface FloodReport {
  /** From "start" to "stop". */
  floodMs: number;
  /** Flood frames handed to the sockets, and their bytes. */
  framesSent: number;
  bytesSent: number;
  /** Flood frames (and bytes) that reached the attackers' DAW: what the server relayed. */
  framesDelivered: number;
  bytesDelivered: number;
  /** Attacking sockets the server closed, and joins again after that (failed ones included). */
  closedByServer: number;
  rejoins: number;
  /** Frames the server sent the attackers (errors: TOO_LARGE, RATE_LIMITED…). */
  answers: number;
}

export interface FloodPlan {
  rooms: number;
  /** Messages per second from each controller to its DAW. */
  perController: number;
  /** Bytes of each honest relay (a relayed pad hit is about 100). */
  frameBytes: number;
  /** Honest traffic before the first window, so that both windows see it running. */
  warmupMs: number;
  /** Each window (without, then with the flood). */
  windowMs: number;
  drainMs: number;
  /** The flood's frames (64 KiB: padmesh's and the bare relay's largest frame) and its sockets. */
  attackFrameBytes: number;
  attackSockets: number;
  /** From "start" to the attacked window: the flood reaching full speed. */
  rampMs: number;
}

export interface FloodResult {
  joined: number;
  joinFailures: number;
  quiet: RelayResult;
  attacked: RelayResult;
  /** Attacking sockets that got in before the flood. */
  attackersJoined: number;
  flood: FloodReport;
}

/** Honest controllers are 127.0.1.x, their DAWs 127.0.2.x: every member its own address. */
const controllerAddress = (room: number, index: number) => `127.0.1.${room * 3 + index + 1}`;
const dawAddress = (room: number) => `127.0.2.${room + 1}`;

export async function runFloodPhase(
  contender: Contender,
  dialect: Dialect,
  dialectKey: string,
  plan: FloodPlan,
): Promise<FloodResult> {
  if (plan.rooms > 80) throw new Error('at most 80 rooms: one loopback address per member');
  const members: Client[] = [];
  let attacker: ChildProcess | null = null;
  try {
    let seat = 1;
    let joinFailures = 0;
    const rooms = await Promise.all(
      Array.from({ length: plan.rooms }, async (_, r): Promise<Room | null> => {
        try {
          const daw = await joinOne(
            contender.port,
            dialect,
            { role: 'daw', room: undefined, n: seat++ },
            { localAddress: dawAddress(r) },
          );
          members.push(daw);
          const phones = await Promise.allSettled(
            [0, 1, 2].map((c) =>
              joinOne(
                contender.port,
                dialect,
                { role: 'controller', room: daw.room, n: seat++ },
                { localAddress: controllerAddress(r, c) },
              ),
            ),
          );
          const controllers = phones.flatMap((phone) => (phone.status === 'fulfilled' ? [phone.value] : []));
          joinFailures += phones.length - controllers.length;
          members.push(...controllers);
          return { daw, controllers };
        } catch {
          joinFailures += 4;
          return null;
        }
      }),
    );
    const { receiver, closed } = listen(members, dialect);
    const padding = 'x'.repeat(Math.max(0, plan.frameBytes - 70));
    const flows: Flow[] = rooms.flatMap((room) =>
      room === null
        ? []
        : room.controllers.map((phone) => ({
            ws: phone.ws,
            frames: [dialect.relayFrame(room.daw.peerId, padding)],
            next: 0,
          })),
    );
    const rate = flows.length * plan.perController;
    const window = (ms: number) => relay(contender, flows, receiver, closed, rate, ms, plan.drainMs);

    await window(plan.warmupMs); // the same traffic, not counted
    const quiet = await window(plan.windowMs);

    attacker = spawnAttacker(contender.port, dialectKey, plan);
    const ready = await answer<{ ready: number }>(attacker);
    attacker.send('start');
    await answer(attacker);
    await sleep(plan.rampMs);
    const attacked = await window(plan.windowMs);
    attacker.send('stop');
    const flood = await answer<FloodReport>(attacker);
    return { joined: members.length, joinFailures, quiet, attacked, attackersJoined: ready.ready, flood };
  } finally {
    attacker?.kill('SIGKILL');
    for (const { ws } of members) ws.terminate();
  }
}

function spawnAttacker(port: number, dialectKey: string, plan: FloodPlan): ChildProcess {
  const script = fileURLToPath(new URL('./signal-attacker.ts', import.meta.url));
  const args = ['--import', 'tsx', script, String(port), dialectKey, String(plan.attackFrameBytes)];
  args.push(String(plan.attackSockets));
  // From the repository root, where `--import tsx` resolves; on this (the generator's) core, as this process is pinned.
  const cwd = fileURLToPath(new URL('..', import.meta.url));
  const child = spawn(process.execPath, args, { cwd, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  // Below the generator, which times the honest messages: the flood gets what the generator leaves of its core.
  if (child.pid !== undefined) setPriority(child.pid, 10);
  return child;
}

const ATTACKER_TIMEOUT_MS = 30_000;

/** The attacker's next message, bounded in time. */
function answer<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the flood process did not answer')), ATTACKER_TIMEOUT_MS);
    const exited = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`the flood process exited (${code})`));
    };
    child.once('exit', exited);
    child.once('message', (message) => {
      clearTimeout(timer);
      child.off('exit', exited);
      resolve(message as T);
    });
  });
}

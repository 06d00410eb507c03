/**
 * The signaling-server part of `npm run bench`: padmesh's signal server beside a bare `ws`
 * relay and peerjs-server, driven by the same load generator (bench/signal-load.ts) in the
 * same run, alternating the contenders (A B C A B C …) so that a noisy shared machine hurts
 * them alike. Returns a markdown section for docs/benchmarks.md. Needs a loopback-only
 * network namespace (bench/run.ts re-executes itself in one).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type Contender,
  type Dialect,
  dialects,
  isLoopbackOnly,
  type LoadPlan,
  type LoadResult,
  type MemoryResult,
  type RelayResult,
  runLoadPhase,
  runMemoryPhase,
  startContender,
} from './signal-load.ts';
import { median } from './stats.ts';

const here = dirname(fileURLToPath(import.meta.url));

interface ContenderSpec {
  key: 'padmesh' | 'bare' | 'peerjs';
  label: string;
  file: string;
  dialect: Dialect;
}

const CONTENDERS: ContenderSpec[] = [
  { key: 'padmesh', label: 'padmesh', file: join(here, 'servers', 'padmesh.ts'), dialect: dialects.padmesh },
  { key: 'bare', label: 'bare `ws` relay', file: join(here, 'servers', 'bare-relay.ts'), dialect: dialects.bare },
  { key: 'peerjs', label: 'peerjs-server', file: join(here, 'servers', 'peerjs.ts'), dialect: dialects.peerjs },
];

interface Settings {
  rounds: number;
  load: LoadPlan;
  /** Members in the memory phase: 19,600 is as many as this machine's 20,000 open files allow with room to spare. */
  memoryTarget: number;
  memoryInFlightRooms: number;
}

const FULL: Settings = {
  rounds: 3,
  load: {
    stormRooms: 500,
    rooms: 1000,
    inFlightRooms: 50,
    frameBytes: 400,
    steady: { rate: 5000, durationMs: 2000 },
    perPeer: { rate: 20, durationMs: 1500 },
    drainMs: 2000,
    idleMs: 1000,
  },
  memoryTarget: 19_600,
  memoryInFlightRooms: 100,
};

const QUICK: Settings = {
  rounds: 1,
  load: {
    stormRooms: 50,
    rooms: 100,
    inFlightRooms: 50,
    frameBytes: 400,
    steady: { rate: 1000, durationMs: 1000 },
    perPeer: { rate: 20, durationMs: 1000 },
    drainMs: 1000,
    idleMs: 500,
  },
  memoryTarget: 2000,
  memoryInFlightRooms: 100,
};

/** The issue's targets (issue 4, part d). */
const TARGETS = {
  relayCpuVsBare: 1.2,
  rssPerConnectionKB: 8,
  cpuPerJoinMs: 0.6,
  steadyP50Ms: 1,
};

interface Round {
  load: LoadResult;
  memory: MemoryResult;
}

export async function signalBenchmark(opts: { quick: boolean }): Promise<{ markdown: string }> {
  if (!isLoopbackOnly()) throw new Error('run the signaling benchmark in a loopback-only network namespace');
  const settings = opts.quick ? QUICK : FULL;
  const results = new Map<ContenderSpec['key'], Round[]>(CONTENDERS.map((c) => [c.key, []]));
  const unpin = pinSelf('1');
  const restorePorts = widenEphemeralPorts();
  const startedAt = performance.now();
  try {
    for (let round = 1; round <= settings.rounds; round++) {
      for (const spec of CONTENDERS) {
        const t0 = performance.now();
        const load = await withContender(spec.file, (c) => runLoadPhase(c, spec.dialect, settings.load));
        const t1 = performance.now();
        const memory = await withContender(spec.file, (c) =>
          runMemoryPhase(c, spec.dialect, settings.memoryTarget, settings.memoryInFlightRooms),
        );
        const took = `${((t1 - t0) / 1000).toFixed(1)} + ${((performance.now() - t1) / 1000).toFixed(1)} s`;
        results.get(spec.key)?.push({ load, memory });
        console.log(`signal bench: round ${round} ${spec.key.padEnd(7)} (${took}) ${summary(load, memory)}`);
      }
    }
  } finally {
    restorePorts();
    unpin();
  }
  const seconds = (performance.now() - startedAt) / 1000;
  return { markdown: render(settings, results, opts.quick, seconds) };
}

async function withContender<T>(file: string, phase: (contender: Contender) => Promise<T>): Promise<T> {
  const contender = await startContender(file);
  try {
    return await phase(contender);
  } finally {
    await contender.stop();
  }
}

/** Pins this process (every thread) to `cpuList`, returning how to undo it; a no-op without taskset or a second core. */
function pinSelf(cpuList: string): () => void {
  const taskset = '/usr/bin/taskset';
  if (!existsSync(taskset) || cpus().length < 2) return () => {};
  const pid = String(process.pid);
  const mask = /:\s*([0-9a-f]+)\s*$/.exec(spawnSync(taskset, ['-p', pid], { encoding: 'utf8' }).stdout)?.[1];
  spawnSync(taskset, ['-a', '-cp', cpuList, pid]);
  return () => {
    if (mask !== undefined) spawnSync(taskset, ['-a', '-p', mask, pid]);
  };
}

/**
 * Widens this network namespace's ephemeral port range (only ever called inside the benchmark's
 * own loopback-only namespace). With the default 32768–60999, connect() searches ever longer
 * for a free port as 19,600 of them fill up: filling the memory phase took 12 s instead of 3.6.
 */
function widenEphemeralPorts(): () => void {
  const file = '/proc/sys/net/ipv4/ip_local_port_range';
  try {
    const before = readFileSync(file, 'utf8');
    writeFileSync(file, '1024 65535');
    return () => writeFileSync(file, before);
  } catch (error) {
    console.warn(
      `signal bench: cannot widen the ephemeral port range (${(error as Error).message}); filling up will be slow`,
    );
    return () => {};
  }
}

function summary(load: LoadResult, memory: MemoryResult): string {
  const f = (n: number, d = 2) => (Number.isFinite(n) ? n.toFixed(d) : 'lost');
  return [
    `storm ${f(load.joinStormMs, 0)} ms`,
    `cpu/join ${f(load.cpuPerJoinMs, 3)} ms`,
    `idle ${f(load.idleCpuMsPerSecond, 1)} ms/s`,
    `relay ${load.steady.delivered}/${load.steady.sent} p50 ${f(load.steady.p50Ms)} p99 ${f(load.steady.p99Ms)} ms ${f(load.steady.cpuPerRelayUs, 1)} µs/msg`,
    `per-peer ${load.perPeer.delivered}/${load.perPeer.sent} @${f(load.perPeer.sentRate, 0)}/s p50 ${f(load.perPeer.p50Ms)} p99 ${f(load.perPeer.p99Ms)} ms`,
    `memory ${memory.reached}/${memory.target} ${f(memory.rssPerConnectionKB, 1)} KB/conn${memory.firstError ? ` (${memory.firstError})` : ''}`,
  ].join(', ');
}

// ─── the section ─────────────────────────────────────────────────────────────────────────
interface Row {
  label: string;
  unit: string;
  digits: number;
  value: (round: Round) => number;
}

function fmt(value: number, digits: number, unit: string): string {
  if (Number.isNaN(value)) return '—';
  if (!Number.isFinite(value)) return 'lost';
  const text = value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
  return unit ? `${text} ${unit}` : text;
}

function ratio(a: number, b: number): string {
  return Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? (a / b).toFixed(2) : '—';
}

/** CPU per relayed message beyond what the server spends anyway while idle (its heartbeat, timers). */
const aboveIdle = (relayed: RelayResult, load: LoadResult): number =>
  (relayed.cpuMicros - load.idleCpuMsPerSecond * relayed.windowMs) / Math.max(1, relayed.delivered);

function render(
  settings: Settings,
  results: Map<ContenderSpec['key'], Round[]>,
  quick: boolean,
  seconds: number,
): string {
  const { load, memoryTarget, rounds } = settings;
  const n = (x: number) => x.toLocaleString('en-US');
  const stormMembers = load.stormRooms * 4;
  const members = load.rooms * 4;
  const perPeerTotal = load.perPeer.rate * members;
  const steady = `${n(load.steady.rate)} msg/s`;
  const perPeer = `${n(perPeerTotal)} msg/s offered`;
  const rows = {
    storm: {
      label: `join storm: ${n(stormMembers)} clients connect + join`,
      unit: 'ms',
      digits: 0,
      value: (r) => r.load.joinStormMs,
    },
    joinCpu: {
      label: 'server CPU per connect + join (storm)',
      unit: 'ms',
      digits: 3,
      value: (r) => r.load.cpuPerJoinMs,
    },
    reached: {
      label: `concurrent connections reached (aim ${n(memoryTarget)})`,
      unit: '',
      digits: 0,
      value: (r) => r.memory.reached,
    },
    rss: {
      label: `server RSS per idle connection at ${n(memoryTarget)}`,
      unit: 'KB',
      digits: 1,
      value: (r) => r.memory.rssPerConnectionKB,
    },
    heap: {
      label: `… of which V8 heap`,
      unit: 'KB',
      digits: 1,
      value: (r) => r.memory.heapPerConnectionKB,
    },
    fillCpu: {
      label: `server CPU per connect + join, filling to ${n(memoryTarget)}`,
      unit: 'ms',
      digits: 3,
      value: (r) => r.memory.cpuPerJoinMs,
    },
    idleCpu: {
      label: `server CPU while ${n(members)} clients sit idle`,
      unit: 'ms/s',
      digits: 1,
      value: (r) => r.load.idleCpuMsPerSecond,
    },
    steadyP50: { label: `${steady}: relay latency p50`, unit: 'ms', digits: 2, value: (r) => r.load.steady.p50Ms },
    steadyP99: { label: `${steady}: relay latency p99`, unit: 'ms', digits: 2, value: (r) => r.load.steady.p99Ms },
    steadyCpu: {
      label: `${steady}: server CPU per relayed message`,
      unit: 'µs',
      digits: 1,
      value: (r) => r.load.steady.cpuPerRelayUs,
    },
    steadyAboveIdle: {
      label: `${steady}: … beyond the idle CPU`,
      unit: 'µs',
      digits: 1,
      value: (r) => aboveIdle(r.load.steady, r.load),
    },
    perPeerSent: {
      label: `${perPeer}: sent by the generator`,
      unit: 'msg/s',
      digits: 0,
      value: (r) => r.load.perPeer.sentRate,
    },
    perPeerDelivered: {
      label: `${perPeer}: delivered by the end + ${load.drainMs / 1000} s`,
      unit: '%',
      digits: 1,
      value: (r) => (100 * r.load.perPeer.delivered) / Math.max(1, r.load.perPeer.sent),
    },
    perPeerP50: { label: `${perPeer}: relay latency p50`, unit: 'ms', digits: 2, value: (r) => r.load.perPeer.p50Ms },
    perPeerP99: { label: `${perPeer}: relay latency p99`, unit: 'ms', digits: 2, value: (r) => r.load.perPeer.p99Ms },
    perPeerCpu: {
      label: `${perPeer}: server CPU per relayed message`,
      unit: 'µs',
      digits: 1,
      value: (r) => r.load.perPeer.cpuPerRelayUs,
    },
  } satisfies Record<string, Row>;

  const med = (key: ContenderSpec['key'], row: Row) => median((results.get(key) ?? []).map(row.value));
  const table = Object.values(rows).map((row) => {
    const [a, b, c] = (['padmesh', 'bare', 'peerjs'] as const).map((key) => med(key, row)) as [number, number, number];
    const cells = [a, b, c].map((x) => fmt(x, row.digits, row.unit));
    return `| ${row.label} | ${cells.join(' | ')} | ${ratio(a, b)} | ${ratio(a, c)} |`;
  });

  const perRound = (pick: (r: Round) => string) =>
    CONTENDERS.map((c) => `${c.key} ${(results.get(c.key) ?? []).map(pick).join(', ')}`).join('; ');
  const samples = [
    `- relayed at ${steady}, delivered/sent: ${perRound((r) => `${r.load.steady.delivered}/${r.load.steady.sent}`)}`,
    `- at ${perPeer}, delivered/sent (sockets closed meanwhile): ${perRound((r) => `${r.load.perPeer.delivered}/${r.load.perPeer.sent} (${r.load.perPeer.closed})`)}`,
    `- joined for the load phase (failed): ${perRound((r) => `${r.load.joined} (${r.load.joinFailures})`)}`,
    `- memory phase, open/aimed (failed joins): ${perRound((r) => `${r.memory.reached}/${r.memory.target} (${r.memory.joinFailures})`)}`,
    ...CONTENDERS.flatMap((c) =>
      (results.get(c.key) ?? []).flatMap((r) =>
        r.memory.firstError ? [`- ${c.key}, first failed join: ${r.memory.firstError}`] : [],
      ),
    ),
  ];

  const ours = (row: Row) => med('padmesh', row);
  const verdict = (met: boolean, miss: string) => (met ? '**met**' : `**missed** by ${miss}`);
  const over = (value: number, limit: number) => `${(((value - limit) / limit) * 100).toFixed(0)} %`;
  const cpuRatio = ours(rows.steadyCpu) / med('bare', rows.steadyCpu);
  const rss = ours(rows.rss);
  const reached = ours(rows.reached);
  const joinCpu = ours(rows.joinCpu);
  const p50 = ours(rows.steadyP50);
  const targets = [
    `- Server CPU per relayed message ≤ ${TARGETS.relayCpuVsBare} × the bare relay's: ${cpuRatio.toFixed(2)} × ` +
      `(${fmt(ours(rows.steadyCpu), 1, 'µs')} vs ${fmt(med('bare', rows.steadyCpu), 1, 'µs')}) — ` +
      verdict(
        cpuRatio <= TARGETS.relayCpuVsBare,
        `${(cpuRatio - TARGETS.relayCpuVsBare).toFixed(2)} × (${over(cpuRatio, TARGETS.relayCpuVsBare)})`,
      ) +
      `. Beyond each server's idle CPU: ${ratio(ours(rows.steadyAboveIdle), med('bare', rows.steadyAboveIdle))} ×; ` +
      `padmesh's idle CPU (${fmt(ours(rows.idleCpu), 1, 'ms/s')}) is its heartbeat: pings, pongs and the RTT notices they cause.`,
    `- RSS per idle connection ≤ ${TARGETS.rssPerConnectionKB} KB at ${n(memoryTarget)} connections: ${fmt(rss, 1, 'KB')} at ${n(reached)} — ` +
      verdict(
        rss <= TARGETS.rssPerConnectionKB && reached >= memoryTarget,
        rss > TARGETS.rssPerConnectionKB
          ? `${(rss - TARGETS.rssPerConnectionKB).toFixed(1)} KB (${over(rss, TARGETS.rssPerConnectionKB)})`
          : `${n(memoryTarget - reached)} connections not reached`,
      ),
    `- Server CPU per connect + join ≤ ${TARGETS.cpuPerJoinMs} ms: ${fmt(joinCpu, 3, 'ms')} — ` +
      verdict(
        joinCpu <= TARGETS.cpuPerJoinMs,
        `${(joinCpu - TARGETS.cpuPerJoinMs).toFixed(3)} ms (${over(joinCpu, TARGETS.cpuPerJoinMs)})`,
      ),
    `- Relay p50 at ${steady} ≤ ${TARGETS.steadyP50Ms} ms: ${fmt(p50, 2, 'ms')} — ` +
      verdict(p50 <= TARGETS.steadyP50Ms, `${(p50 - TARGETS.steadyP50Ms).toFixed(2)} ms`),
  ];
  const peerVersion = (
    JSON.parse(readFileSync(join(here, '..', 'node_modules', 'peer', 'package.json'), 'utf8')) as { version: string }
  ).version;

  return `## Signaling server

Three servers, one load generator (bench/signal-load.ts), the same run: padmesh's signal
server; a bare \`ws\` relay (bench/servers/bare-relay.ts: rooms and forwarding by peer id, no
validation, limits, presence or heartbeat); and peerjs-server (npm \`peer\` ${peerVersion}, its stock
PeerServer, bench/servers/peerjs.ts). Each speaks its own protocol through a small adapter;
peerjs has no rooms, so a "room" there is a DAW's id that its controllers address. The server
is pinned to CPU 0, the generator to CPU 1. Contenders alternate (padmesh, bare, peerjs,
repeated) over ${rounds} round${rounds === 1 ? '' : 's'}; each figure is the median of the rounds, each ratio a ratio of medians.
Per round and contender:

- **Load phase**, one server process: ${n(load.rooms)} rooms × 4 (a DAW and 3 controllers) join,
  ${load.inFlightRooms} rooms at a time; the first ${n(load.stormRooms)} rooms (${n(stormMembers)} clients) are the timed join storm,
  and the server's CPU over it is divided by its clients. Everyone then sits idle for ${load.idleMs / 1000} s
  (the server's background CPU). Then controllers relay ~${load.frameBytes}-byte messages to their DAW
  at ${steady} in all for ${load.steady.durationMs / 1000} s. Then every member sends ${load.perPeer.rate} msg/s (controllers to their
  DAW, each DAW to its controllers in turn) for ${load.perPeer.durationMs / 1000} s: the issue's "1000 rooms × 4 peers ×
  20 msgs/s", read as 20 msg/s per peer, is ${n(perPeerTotal)} msg/s offered${quick ? ' at full scale (less in this quick run)' : ''}. That is more than
  one core running the generator can send, and more than any contender relays: the table
  says what was sent, what arrived, and how late.
- **Memory phase**, a fresh server process: ${n(memoryTarget)} clients (rooms of 4, ${settings.memoryInFlightRooms} rooms at a time)
  join and sit idle; the server's RSS after a GC, minus before anyone connected, per open
  connection. The open-file limit here is 20,000 per process, for the server and the generator alike.

Latency is one way, send → receive, both ends in the generator (one clock); a message not
delivered by the end of its phase plus ${load.drainMs / 1000} s counts as infinitely late ("lost" when a quantile
falls there). CPU is the server process's user + system time over the phase and its drain.

| metric | padmesh | bare \`ws\` relay | peerjs-server | padmesh / bare | padmesh / peerjs |
|---|---|---|---|---|---|
${table.join('\n')}

Samples per round:
${samples.join('\n')}

This part took ${seconds.toFixed(0)} s.

Targets (issue 4 (d); padmesh's medians)${quick ? ": a quick run, not at the targets' scale" : ''}:
${targets.join('\n')}
`;
}

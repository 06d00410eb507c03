/**
 * Several instances through Redis beside one instance (`npm run bench -- --only cluster`), in the
 * same run, alternating layouts round by round:
 * - relay: rooms whose DAW is on instance A and whose phones are on instance B (every relayed
 *   hit crosses Redis pub/sub), beside the same rooms on one instance without Redis (the LAN
 *   default): one-way latency p50/p99 (sender and receiver in this process: one clock), and
 *   the servers' CPU per relayed message (instances and redis-server together, from /proc);
 * - joins: a storm of DAWs and phones joining, spread round-robin over 3 instances sharing
 *   Redis, beside 1 instance: joins per second, and CPU per join.
 * Each instance is a process of its own (bench/servers/padmesh-instance.ts), unpinned.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import { startRedis, type TestRedis } from '../tests/helpers/redis.ts';
import { type ChannelLayout, type ChannelResult, channelLayoutRun } from './cluster-channels.ts';
import { spawnServer, stopServer } from './servers/spawn.ts';
import { quantile } from './stats.ts';

const SECRET = 'bench-secret-shared-by-every-instance';
const TICKS_PER_SECOND = 100; // USER_HZ on Linux

interface Instance {
  child: ChildProcess;
  url: string;
}

async function startInstance(redisUrl: string | null): Promise<Instance> {
  const { child, port } = await spawnServer('padmesh-instance.ts', {
    PADMESH_SECRET: SECRET,
    REDIS_URL: redisUrl ?? '',
  });
  const instance = { child, url: `ws://127.0.0.1:${port}/ws` };
  if (redisUrl !== null) await waitUntilUp(port);
  return instance;
}

async function waitUntilUp(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const body = (await (await fetch(`http://127.0.0.1:${port}/healthz`)).json()) as { status: string };
    if (body.status === 'ok') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('instance never reached Redis');
}

async function stopInstance(instance: Instance): Promise<void> {
  await stopServer(instance.child);
}

/** User + system CPU of these processes so far, µs (/proc/<pid>/stat: 10 ms ticks). */
function cpuMicros(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return (ticks / TICKS_PER_SECOND) * 1e6;
}

interface Client {
  ws: WebSocket;
  welcome: { room: string; peerId: string };
}

function connect(url: string, join: Record<string, unknown>, onMessage?: (text: string) => void): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const timer = setTimeout(() => reject(new Error('join timed out')), 60_000);
    ws.on('error', reject);
    ws.once('open', () => ws.send(JSON.stringify({ type: 'join', v: 1, ...join })));
    ws.on('message', (data) => {
      const text = data.toString();
      if (text.startsWith('{"type":"welcome"')) {
        clearTimeout(timer);
        resolve({ ws, welcome: JSON.parse(text) as Client['welcome'] });
      } else if (text.startsWith('{"type":"error"')) {
        clearTimeout(timer);
        reject(new Error(text));
      } else onMessage?.(text);
    });
  });
}

let deviceCounter = 0;
const device = (): string => `bench-device-${++deviceCounter}`;

interface RelayResult {
  p50: number;
  p99: number;
  delivered: number;
  sent: number;
  cpuPerMessageUs: number;
}

/** `rooms` rooms: DAW on `dawAt`, `phones` phones each on `phonesAt`, each phone relaying `rate`/s for `seconds`. */
async function relayPhase(
  dawAt: Instance,
  phonesAt: Instance,
  pids: number[],
  plan: { rooms: number; phones: number; rate: number; seconds: number },
): Promise<RelayResult> {
  const latencies: number[] = [];
  /** Only hits sent from here on are counted (the warm-up's may still be on their way). */
  let measuredFrom = Number.POSITIVE_INFINITY;
  const sockets: WebSocket[] = [];
  const phones: WebSocket[] = [];
  for (let r = 0; r < plan.rooms; r++) {
    const daw = await connect(dawAt.url, { role: 'daw', deviceId: device() }, (text) => {
      if (!text.startsWith('{"type":"relay"')) return;
      const at = text.indexOf('"t":');
      const sentAt = Number.parseFloat(text.slice(at + 4));
      if (sentAt >= measuredFrom) latencies.push(performance.now() - sentAt);
    });
    sockets.push(daw.ws);
    for (let p = 0; p < plan.phones; p++) {
      const phone = await connect(phonesAt.url, { role: 'controller', room: daw.welcome.room, deviceId: device() });
      sockets.push(phone.ws);
      phones.push(phone.ws);
    }
  }
  // A second of the same load first, not counted: JIT and connections warm up.
  const warmup = Date.now() + 1000;
  while (Date.now() < warmup) {
    for (const phone of phones) phone.send(`{"type":"relay","data":{"pad":3,"v":0.8,"t":${performance.now()}}}`);
    await new Promise((resolve) => setTimeout(resolve, 1000 / plan.rate));
  }
  await new Promise((resolve) => setTimeout(resolve, 500));
  const before = cpuMicros(pids);
  const intervalMs = 1000 / plan.rate;
  const ticks = Math.round(plan.seconds * plan.rate);
  let sent = 0;
  const start = performance.now();
  measuredFrom = start;
  for (let tick = 0; tick < ticks; tick++) {
    for (const phone of phones) {
      phone.send(`{"type":"relay","data":{"pad":3,"v":0.8,"t":${performance.now()}}}`);
      sent += 1;
    }
    const wait = start + (tick + 1) * intervalMs - performance.now();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
  }
  // Drained: everything arrived, or nothing more for 3 s (bounded).
  for (let last = -1, idleSince = Date.now(); latencies.length < sent && Date.now() - idleSince < 3000; ) {
    if (latencies.length !== last) {
      last = latencies.length;
      idleSince = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const cpu = cpuMicros(pids) - before;
  for (const socket of sockets) socket.terminate();
  const sorted = Float64Array.from(latencies).sort();
  return {
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    delivered: latencies.length,
    sent,
    cpuPerMessageUs: cpu / Math.max(1, latencies.length),
  };
}

interface JoinResult {
  perSecond: number;
  cpuPerJoinMs: number;
  joins: number;
}

/** `rooms` DAWs, then `phones` phones each, `concurrency` joins in flight, spread round-robin over `instances`. */
async function joinPhase(
  instances: Instance[],
  pids: number[],
  plan: { rooms: number; phones: number; concurrency: number },
): Promise<JoinResult> {
  const sockets: WebSocket[] = [];
  const before = cpuMicros(pids);
  const started = performance.now();
  let next = 0;
  const pick = (): Instance => instances[next++ % instances.length] as Instance;
  const rooms: string[] = [];
  const run = async (jobs: (() => Promise<void>)[]): Promise<void> => {
    let index = 0;
    await Promise.all(
      Array.from({ length: plan.concurrency }, async () => {
        while (index < jobs.length) await (jobs[index++] as () => Promise<void>)();
      }),
    );
  };
  await run(
    Array.from({ length: plan.rooms }, () => async () => {
      const daw = await connect(pick().url, { role: 'daw', deviceId: device() });
      sockets.push(daw.ws);
      rooms.push(daw.welcome.room);
    }),
  );
  await run(
    Array.from({ length: plan.rooms * plan.phones }, (_, i) => async () => {
      const phone = await connect(pick().url, {
        role: 'controller',
        room: rooms[i % rooms.length],
        deviceId: device(),
      });
      sockets.push(phone.ws);
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuMicros(pids) - before;
  const joins = plan.rooms * (1 + plan.phones);
  for (const socket of sockets) socket.terminate();
  return { perSecond: joins / seconds, cpuPerJoinMs: cpu / 1000 / joins, joins };
}

const median = (values: number[]): number => quantile(Float64Array.from(values).sort(), 0.5);
const fmt = (value: number, digits = 2): string => value.toFixed(digits);

export async function clusterBenchmark({ quick }: { quick: boolean }): Promise<{ markdown: string }> {
  const redis: TestRedis = await startRedis();
  const rounds = quick ? 1 : 3;
  const relayPlan = { rooms: quick ? 5 : 10, phones: 4, rate: 25, seconds: quick ? 3 : 8 };
  const joinPlan = { rooms: quick ? 30 : 150, phones: 4, concurrency: 32 };
  const one: RelayResult[] = [];
  const two: RelayResult[] = [];
  const joinsOne: JoinResult[] = [];
  const joinsThree: JoinResult[] = [];
  const channelPlan = { rooms: quick ? 10 : 40, members: 5, rate: 25, seconds: quick ? 3 : 8 };
  const channels: Record<ChannelLayout, ChannelResult[]> = { instance: [], room: [] };
  try {
    for (let round = 0; round < rounds; round++) {
      const layouts = round % 2 === 0 ? (['one', 'two'] as const) : (['two', 'one'] as const);
      for (const layout of layouts) {
        if (layout === 'one') {
          const a = await startInstance(null);
          one.push(await relayPhase(a, a, [a.child.pid as number], relayPlan));
          joinsOne.push(await joinPhase([a], [a.child.pid as number], joinPlan));
          await stopInstance(a);
        } else {
          await redis.kill();
          await redis.restart();
          const pidOfRedis = redis.pid;
          const [a, b, c] = [
            await startInstance(redis.url),
            await startInstance(redis.url),
            await startInstance(redis.url),
          ];
          if (!a || !b || !c) throw new Error('three instances');
          two.push(await relayPhase(a, b, [a.child.pid as number, b.child.pid as number, pidOfRedis], relayPlan));
          joinsThree.push(
            await joinPhase(
              [a, b, c],
              [a.child.pid as number, b.child.pid as number, c.child.pid as number, pidOfRedis],
              joinPlan,
            ),
          );
          await Promise.all([a, b, c].map(stopInstance));
        }
        console.log(`round ${round + 1}: ${layout} done`);
      }
    }
    for (let round = 0; round < rounds; round++) {
      const layouts = round % 2 === 0 ? (['instance', 'room'] as const) : (['room', 'instance'] as const);
      for (const layout of layouts) {
        await redis.kill();
        await redis.restart();
        channels[layout].push(await channelLayoutRun(layout, redis.url, redis.pid, channelPlan));
        console.log(`round ${round + 1}: channels per ${layout} done`);
      }
    }
  } finally {
    await redis.stop();
  }
  const row = (label: string, results: RelayResult[]) =>
    `| ${label} | ${fmt(median(results.map((r) => r.p50)))} | ${fmt(median(results.map((r) => r.p99)))} | ${fmt(
      median(results.map((r) => r.cpuPerMessageUs)),
      1,
    )} | ${results.map((r) => `${r.delivered}/${r.sent}`).join(', ')} |`;
  const joinRow = (label: string, results: JoinResult[]) =>
    `| ${label} | ${fmt(median(results.map((r) => r.perSecond)), 0)} | ${fmt(median(results.map((r) => r.cpuPerJoinMs)))} | ${results[0]?.joins ?? 0} |`;
  const ratio = (a: ChannelResult[], b: ChannelResult[], of: (r: ChannelResult) => number) =>
    fmt(median(a.map(of)) / median(b.map(of)), 1);
  const channelRow = (label: string, results: ChannelResult[]) =>
    `| ${label} | ${fmt(median(results.map((r) => r.p50)))} | ${fmt(median(results.map((r) => r.p99)))} | ${fmt(
      median(results.map((r) => r.receivedPerFrame)),
    )} | ${fmt(median(results.map((r) => r.cpuPerFrameUs)), 1)} | ${fmt(
      median(results.map((r) => r.commandsPerJoin)),
    )} | ${fmt(median(results.map((r) => r.cpuPerJoinUs)), 0)} | ${results.map((r) => `${r.delivered}/${r.sent}`).join(', ')} |`;
  const markdown = `## Several instances through Redis

\`npm run bench -- --only cluster\` (bench/cluster.ts). Each instance is a process of its own, unpinned,
beside a real \`redis-server\` (no persistence) and the load generator, all on this machine's 2 cores;
${rounds} round(s), layouts alternating, medians over rounds.

**Relay**: ${relayPlan.rooms} rooms × ${relayPlan.phones} phones, each phone relaying ${relayPlan.rate} hits/s for
${relayPlan.seconds} s (${relayPlan.rooms * relayPlan.phones * relayPlan.rate} messages/s). One-way latency, phone socket → DAW socket,
through the server(s). CPU: the servers' user + system time (instances, and redis-server where there is
one, from /proc at 10 ms resolution) per relayed message delivered.

| layout | p50 (ms) | p99 (ms) | server CPU per relayed message (µs) | delivered / sent per round |
|---|---|---|---|---|
${row('one instance, no Redis (the LAN default)', one)}
${row('DAW on instance A, phones on instance B, through Redis', two)}

**Joins**: ${joinPlan.rooms} DAWs then ${joinPlan.rooms * joinPlan.phones} phones, ${joinPlan.concurrency} joins in flight, spread
round-robin over the instances (connect + join → welcome).

| layout | joins per second | server CPU per join (ms) | joins per round |
|---|---|---|---|
${joinRow('one instance, no Redis', joinsOne)}
${joinRow('3 instances sharing Redis', joinsThree)}

**Pub/sub channels: per instance or per room** (bench/cluster-channels.ts). The layout alone, on the same
redis-server with ioredis and without padmesh's code: 3 instances as 3 connection pairs in this process,
${channelPlan.rooms} rooms × ${channelPlan.members} members spread round-robin over them, every phone relaying ${channelPlan.rate} frames/s of a
relayed hit's size to its DAW for ${channelPlan.seconds} s (${channelPlan.rooms * (channelPlan.members - 1) * channelPlan.rate} frames/s); then every member joining and
leaving twice. CPU: this process and redis-server together.

| channel per | p50 (ms) | p99 (ms) | frames received per frame sent | CPU per frame delivered (µs) | Redis commands per join + leave | CPU per join + leave (µs) | delivered / sent per round |
|---|---|---|---|---|---|---|---|
${channelRow('instance (cluster.ts)', channels.instance)}
${channelRow('room', channels.room)}

Per room, every instance with a member in the room receives each frame (the sender's own included) and
all but one drop it, and a join may cost a SUBSCRIBE (and a leave an UNSUBSCRIBE) round trip; per instance,
each frame reaches the one instance that holds its recipient, and the layout adds nothing to a join. Measured here:
per room costs ${ratio(channels.room, channels.instance, (r) => r.cpuPerFrameUs)}× the CPU per frame of per instance, and
${ratio(channels.room, channels.instance, (r) => r.cpuPerJoinUs)}× the CPU per join and leave. cluster.ts uses one channel per instance.
`;
  return { markdown };
}

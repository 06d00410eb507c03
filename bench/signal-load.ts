/**
 * One load generator for every signaling contender, so they are measured the same way:
 * rooms of one DAW and three controllers join (the join storm), sit idle (memory per
 * connection), then controllers relay to their DAW at a fixed total rate (latency, and the
 * server's CPU per relayed message). Everything runs on loopback.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { WebSocket } from 'ws';
import type { ContenderUsage } from './servers/contender.ts';
import { quantile, sortedCopy } from './stats.ts';

export interface LoadPlan {
  rooms: number;
  /** Relayed messages per second, all controllers together. */
  rate: number;
  durationMs: number;
  /** Payload bytes of each relayed message (pad hits are tiny; SDP is ~400 B and up). */
  payloadBytes: number;
}

export interface LoadResult {
  connections: number;
  joinStormMs: number;
  cpuPerJoinMs: number;
  rssPerConnectionKB: number;
  sent: number;
  delivered: number;
  relayP50Ms: number;
  relayP99Ms: number;
  cpuPerRelayUs: number;
}

interface Contender {
  child: ChildProcess;
  port: number;
  usage(): Promise<ContenderUsage>;
  gc(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts a contender in its own process, pinned to CPU 0 when taskset exists (the load runs on the other core). */
export async function startContender(file: string): Promise<Contender> {
  const node = [process.execPath, '--expose-gc', '--import', 'tsx', file];
  const pinned = existsSync('/usr/bin/taskset') ? ['/usr/bin/taskset', '-c', '0', ...node] : node;
  const [command, ...args] = pinned as [string, ...string[]];
  const child = spawn(command, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file} did not start`)), 20_000);
    child.once('message', (message) => {
      clearTimeout(timer);
      resolve((message as { port: number }).port);
    });
    child.once('exit', (code) => reject(new Error(`${file} exited (${code})`)));
  });
  const ask = <T>(question: string): Promise<T> =>
    new Promise((resolve) => {
      child.once('message', (answer) => resolve(answer as T));
      child.send(question);
    });
  return {
    child,
    port,
    usage: () => ask<ContenderUsage>('usage'),
    gc: async () => {
      await ask('gc');
    },
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

interface Peer {
  ws: WebSocket;
  peerId: string;
  room: string;
}

function joinOne(url: string, join: Record<string, unknown>, onMessage?: (data: string) => void): Promise<Peer> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const timer = setTimeout(() => reject(new Error('join timed out')), 30_000);
    ws.once('error', reject);
    ws.once('open', () => ws.send(JSON.stringify(join)));
    ws.once('message', (raw) => {
      clearTimeout(timer);
      const welcome = JSON.parse(raw.toString()) as { type: string; peerId: string; room: string };
      if (welcome.type !== 'welcome') return reject(new Error(`no welcome: ${raw.toString()}`));
      if (onMessage) ws.on('message', (data) => onMessage(data.toString()));
      resolve({ ws, peerId: welcome.peerId, room: welcome.room });
    });
  });
}

export async function runLoad(contender: Contender, plan: LoadPlan): Promise<LoadResult> {
  const url = `ws://127.0.0.1:${contender.port}/ws`;
  const latencies = new Float64Array(Math.ceil((plan.rate * plan.durationMs) / 1000) + 1000);
  let delivered = 0;
  const onRelay = (data: string) => {
    const { data: payload } = JSON.parse(data) as { data?: { t?: number } };
    if (typeof payload?.t === 'number' && delivered < latencies.length)
      latencies[delivered++] = performance.now() - payload.t;
  };

  await contender.gc();
  const before = await contender.usage();
  const stormStart = performance.now();
  const daws: Peer[] = [];
  const controllers: { peer: Peer; dawId: string }[] = [];
  let device = 0;
  // 50 rooms in flight at a time: a storm, not a thundering herd that measures the kernel's accept queue.
  for (let start = 0; start < plan.rooms; start += 50) {
    const batch = Array.from({ length: Math.min(50, plan.rooms - start) }, async () => {
      const daw = await joinOne(
        url,
        { type: 'join', v: 1, role: 'daw', deviceId: `bench-device-${++device}` },
        onRelay,
      );
      daws.push(daw);
      const phones = await Promise.all(
        [0, 1, 2].map(() =>
          joinOne(url, {
            type: 'join',
            v: 1,
            role: 'controller',
            room: daw.room,
            deviceId: `bench-device-${++device}`,
          }),
        ),
      );
      for (const peer of phones) controllers.push({ peer, dawId: daw.peerId });
    });
    await Promise.all(batch);
  }
  const joinStormMs = performance.now() - stormStart;
  const afterJoin = await contender.usage();
  const connections = daws.length + controllers.length;

  await new Promise((resolve) => setTimeout(resolve, 1000));
  await contender.gc();
  const idle = await contender.usage();

  // Relay at a steady total rate, round-robin over controllers, for a bounded time.
  const padding = 'x'.repeat(Math.max(0, plan.payloadBytes - 40));
  const relayStart = await contender.usage();
  const total = Math.floor((plan.rate * plan.durationMs) / 1000);
  let sent = 0;
  const startedAt = performance.now();
  await new Promise<void>((resolve) => {
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - startedAt) * plan.rate) / 1000));
      for (; sent < due; sent++) {
        const target = controllers[sent % controllers.length];
        if (!target) break;
        target.peer.ws.send(
          JSON.stringify({ type: 'relay', to: target.dawId, data: { t: performance.now(), p: padding } }),
        );
      }
      if (sent >= total) {
        clearInterval(tick);
        resolve();
      }
    }, 2);
  });
  // Let the last messages land (bounded).
  const drainUntil = performance.now() + 2000;
  while (delivered < sent && performance.now() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 10));
  const relayEnd = await contender.usage();

  for (const peer of [...daws, ...controllers.map((c) => c.peer)]) peer.ws.terminate();
  const sorted = sortedCopy(latencies.subarray(0, delivered));
  return {
    connections,
    joinStormMs,
    cpuPerJoinMs: (afterJoin.cpuMicros - before.cpuMicros) / 1000 / connections,
    rssPerConnectionKB: (idle.rssBytes - before.rssBytes) / 1024 / connections,
    sent,
    delivered,
    relayP50Ms: quantile(sorted, 0.5),
    relayP99Ms: quantile(sorted, 0.99),
    cpuPerRelayUs: (relayEnd.cpuMicros - relayStart.cpuMicros) / Math.max(1, delivered),
  };
}

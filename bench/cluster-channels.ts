/**
 * Issue 13 asks for pub/sub "one channel per room or per instance as you measure best": this
 * measures the two layouts on a real redis-server with ioredis (the client signal/cluster.ts
 * uses), leaving padmesh's own code out so only the layout differs. Three instances are three
 * publisher + subscriber connection pairs in this process; rooms' members are spread over them
 * round-robin, as a load balancer without sticky rooms spreads them.
 * - per instance (what cluster.ts does): each instance subscribes once to its own channel; a
 *   frame for a member is published to the channel of the member's instance, so exactly that one
 *   instance receives it.
 * - per room: an instance subscribes to a room's channel while it has a member there (SUBSCRIBE
 *   at its first, UNSUBSCRIBE at its last); a frame for a member is published to the room's
 *   channel, so every instance with a member in the room receives it and all but one drop it.
 * Traffic: every phone relays to its room's DAW at a fixed rate (one-way latency, one clock);
 * churn: every member of every room joins and leaves (what each layout asks of Redis per join).
 */
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { quantile } from './stats.ts';

const INSTANCES = 3;
const TICKS_PER_SECOND = 100; // USER_HZ on Linux
/** A relayed hit as cluster.ts forwards it (`M|instance|socket|frame`): the size that crosses Redis. */
const FRAME = '{"type":"relay","data":{"h":[123456789,42,5,100,1733570000000.123]}}';

export type ChannelLayout = 'instance' | 'room';

export interface ChannelPlan {
  rooms: number;
  /** Members per room: the DAW and its phones. */
  members: number;
  /** Relayed hits per second per phone. */
  rate: number;
  seconds: number;
}

export interface ChannelResult {
  p50: number;
  p99: number;
  /** This process's and redis-server's CPU per frame delivered to its member, µs. */
  cpuPerFrameUs: number;
  /** Frames instances received per frame sent (1: none wasted). */
  receivedPerFrame: number;
  delivered: number;
  sent: number;
  /** Redis commands one member's join and leave together cost (beyond what both layouts do). */
  commandsPerJoin: number;
  /** This process's and redis-server's CPU per member join + leave, µs. */
  cpuPerJoinUs: number;
}

/** User + system CPU of this process and of `pid` so far, µs. */
function cpuMicros(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  const redisUs = ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND) * 1e6;
  const own = process.cpuUsage();
  return redisUs + own.user + own.system;
}

interface Member {
  room: number;
  id: string;
  instance: number;
}

const instanceChannel = (instance: number) => `bench:i:${instance}`;
const roomChannel = (room: number) => `bench:r:${room}`;

export async function channelLayoutRun(
  layout: ChannelLayout,
  redisUrl: string,
  redisPid: number,
  plan: ChannelPlan,
): Promise<ChannelResult> {
  const publishers = Array.from({ length: INSTANCES }, () => new Redis(redisUrl));
  const subscribers = Array.from({ length: INSTANCES }, () => new Redis(redisUrl));
  const members: Member[] = [];
  for (let room = 0; room < plan.rooms; room++) {
    for (let k = 0; k < plan.members; k++)
      members.push({ room, id: `m${room}-${k}`, instance: (room + k) % INSTANCES });
  }
  const local = subscribers.map(() => new Set<string>());
  /** Per instance, how many of its members each room has (per room: subscribed while > 0). */
  const roomCounts = subscribers.map(() => new Map<number, number>());
  const latencies: number[] = [];
  let received = 0;
  let delivered = 0;
  subscribers.forEach((subscriber, instance) => {
    subscriber.on('message', (_channel: string, message: string) => {
      received += 1;
      // `M|instance|recipient|sentAt|frame`
      const first = message.indexOf('|', 2);
      const second = message.indexOf('|', first + 1);
      if (!local[instance]?.has(message.slice(first + 1, second))) return; // not ours: dropped
      delivered += 1;
      latencies.push(performance.now() - Number(message.slice(second + 1, message.indexOf('|', second + 1))));
    });
  });
  try {
    if (layout === 'instance') {
      await Promise.all(subscribers.map((subscriber, instance) => subscriber.subscribe(instanceChannel(instance))));
    }
    let commands = 0;
    const join = async (member: Member) => {
      local[member.instance]?.add(member.id);
      if (layout !== 'room') return;
      const counts = roomCounts[member.instance] as Map<number, number>;
      const count = counts.get(member.room) ?? 0;
      counts.set(member.room, count + 1);
      if (count === 0) {
        commands += 1;
        await subscribers[member.instance]?.subscribe(roomChannel(member.room));
      }
    };
    const leave = async (member: Member) => {
      local[member.instance]?.delete(member.id);
      if (layout !== 'room') return;
      const counts = roomCounts[member.instance] as Map<number, number>;
      const count = (counts.get(member.room) ?? 1) - 1;
      counts.set(member.room, count);
      if (count === 0) {
        commands += 1;
        await subscribers[member.instance]?.unsubscribe(roomChannel(member.room));
      }
    };

    // Churn: everyone joins and leaves, twice; then everyone joins for the traffic.
    const churnStart = cpuMicros(redisPid);
    for (let pass = 0; pass < 2; pass++) {
      await Promise.all(members.map(join));
      await Promise.all(members.map(leave));
    }
    const cpuPerJoinUs = (cpuMicros(redisPid) - churnStart) / (2 * members.length);
    const commandsPerJoin = commands / (2 * members.length);
    await Promise.all(members.map(join));

    // Traffic: each phone (member k > 0) relays to its room's DAW (member 0), on one 10 ms clock.
    const phones = members.filter((member) => !member.id.endsWith('-0'));
    const dawOf = (room: number) => members[room * plan.members] as Member;
    const perTick = (phones.length * plan.rate) / 100;
    const ticks = plan.seconds * 100;
    const trafficStart = cpuMicros(redisPid);
    let sent = 0;
    let carry = 0;
    await new Promise<void>((resolve) => {
      let tick = 0;
      const timer = setInterval(() => {
        carry += perTick;
        for (; carry >= 1; carry -= 1) {
          const phone = phones[sent % phones.length] as Member;
          const daw = dawOf(phone.room);
          const channel = layout === 'instance' ? instanceChannel(daw.instance) : roomChannel(phone.room);
          void publishers[phone.instance]?.publish(
            channel,
            `M|${phone.instance}|${daw.id}|${performance.now()}|${FRAME}`,
          );
          sent += 1;
        }
        if (++tick >= ticks) {
          clearInterval(timer);
          resolve();
        }
      }, 10);
    });
    const deadline = Date.now() + 10_000;
    while (delivered < sent && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    const cpuPerFrameUs = (cpuMicros(redisPid) - trafficStart) / Math.max(1, delivered);
    const sorted = Float64Array.from(latencies).sort();
    return {
      p50: quantile(sorted, 0.5),
      p99: quantile(sorted, 0.99),
      cpuPerFrameUs,
      receivedPerFrame: received / Math.max(1, sent),
      delivered,
      sent,
      commandsPerJoin,
      cpuPerJoinUs,
    };
  } finally {
    for (const connection of [...publishers, ...subscribers]) connection.disconnect();
  }
}

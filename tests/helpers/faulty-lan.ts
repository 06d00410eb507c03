/**
 * A faulty two-host LAN, for benchmarks under real packet loss and jitter: the LAN of
 * tests/helpers/lan.ts (laptop 10.77.0.1/24 and phone 10.77.0.2/24, each its own network
 * namespace inside the loopback-only one, the real `npm start` and a Chromium on the laptop,
 * a Chromium on the phone), but its two hosts are joined by a userspace wire instead of a
 * veth pair, because this kernel has no netem:
 *
 *  - delay and jitter (and optional frame loss, any protocol): one TAP device in each
 *    namespace (`wire0` on the laptop, `wire1` on the phone) and tests/helpers/tap-wire.py
 *    moving Ethernet frames between them, each direction FIFO by default (a frame never
 *    overtakes the one before it, as on WiFi; see that file for the model);
 *  - UDP loss (what WebRTC rides on): an nftables rule in each host's input chain, on
 *    packets from the wire only, `numgen random mod 10000 < percent × 100 drop`, so TCP (the
 *    signaling WebSocket, the page load) is never dropped, and loopback traffic in a host
 *    (the DAW asking its own STUN server) neither. Counters tell the loss actually applied.
 *
 * ARP is pinned (permanent neighbour entries), so no lost ARP exchange stalls a host.
 *
 * Usage (a benchmark):
 *   const faulty = await FaultyLan.create({ delayMs: 20, jitterMs: 10, udpLossPercent: 5 });
 *   try {
 *     await faulty.lan.startServer({ stun: true });
 *     const { daw, joinUrl } = await faulty.lan.openDaw();          // laptop namespace
 *     const phones = [];
 *     for (const name of names) phones.push(await faulty.lan.joinPhone(joinUrl, name)); // phone namespace
 *     … wait for [data-testid=transport][data-transport=p2p] on each phone, play, measure …
 *     const applied = faulty.udpLoss();            // nft: UDP packets seen and dropped per host
 *     const wire = await faulty.wireStats();       // frames forwarded/dropped per direction
 *   } finally {
 *     await faulty.close();
 *   }
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ensurePython } from '../../scripts/loopback-namespace.ts';
import { E2E_WAIT_MS } from './jam.ts';
import { type Host, LAPTOP_IP, Lan, type LanLink, type Namespace, PHONE_IP } from './lan.ts';

export const TAP_WIRE = join(dirname(fileURLToPath(import.meta.url)), 'tap-wire.py');
const LOSS_TABLE = 'padmesh_loss';
const NTH_TABLE = 'padmesh_drop_nth';
/** The UDP port probes use (each namespace is private, so it is free). */
export const PROBE_PORT = 9_999;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface TapWireOptions {
  /** One-way delay, ms, each direction. */
  delayMs: number;
  /** Uniform jitter, ± ms, at most delayMs. */
  jitterMs: number;
  /** Frames the wire itself drops at random, any protocol, each direction, 0–100. Default 0. */
  wireLossPercent?: number;
  /** `fifo` (default): a frame is never released before the previous one of its direction. `reorder`: it may be. */
  order?: 'fifo' | 'reorder';
  /** Most frames waiting per direction; more are dropped and counted. Default 2048. */
  queueCap?: number;
  /** Seed for loss and jitter, for a reproducible run. */
  seed?: number;
}

export interface WireDirection {
  /** Frames read from the sending host's TAP. */
  received: number;
  /** Frames written to the other host's TAP. */
  forwarded: number;
  /** Dropped by the wire's own random loss. */
  lossDropped: number;
  /** Dropped because queueCap frames were already waiting. */
  queueDropped: number;
  /** Could not be written (the far interface was down). */
  writeFailed: number;
  /** Waiting now, and the most that ever waited. */
  queued: number;
  maxQueued: number;
  /**
   * The frames the wire queued (`held` of them): the delay drawn for each (delay ± jitter, its
   * model whatever the load), and the hold each got (release − arrival: the draw, moved up by
   * FIFO behind the frame before). Sums, so two snapshots' difference covers the frames between.
   */
  held: number;
  drawMsSum: number;
  drawMsSumSq: number;
  holdMsSum: number;
  /** Since the wire started (NaN before any frame). */
  holdMsMin: number;
  holdMsMax: number;
  /** How late the wire wrote frames after their release time: it woke late (a busy machine). */
  lateMsSum: number;
  lateMsMax: number;
}

export interface WireStats {
  seconds: number;
  laptopToPhone: WireDirection;
  phoneToLaptop: WireDirection;
}

interface RawDirection {
  received: number;
  forwarded: number;
  loss_dropped: number;
  queue_dropped: number;
  write_failed: number;
  queued: number;
  max_queued: number;
  held?: number;
  draw_ms_sum?: number;
  draw_ms_sumsq?: number;
  hold_ms_sum?: number;
  hold_ms_min?: number | null;
  hold_ms_max?: number | null;
  late_ms_sum?: number;
  late_ms_max?: number;
}

interface WireEvent {
  event: 'ready' | 'stats' | 'exit';
  seconds?: number;
  a_to_b?: RawDirection;
  b_to_a?: RawDirection;
}

const direction = (raw: RawDirection | undefined): WireDirection => ({
  received: raw?.received ?? 0,
  forwarded: raw?.forwarded ?? 0,
  lossDropped: raw?.loss_dropped ?? 0,
  queueDropped: raw?.queue_dropped ?? 0,
  writeFailed: raw?.write_failed ?? 0,
  queued: raw?.queued ?? 0,
  maxQueued: raw?.max_queued ?? 0,
  held: raw?.held ?? 0,
  drawMsSum: raw?.draw_ms_sum ?? 0,
  drawMsSumSq: raw?.draw_ms_sumsq ?? 0,
  holdMsSum: raw?.hold_ms_sum ?? 0,
  holdMsMin: raw?.hold_ms_min ?? Number.NaN,
  holdMsMax: raw?.hold_ms_max ?? Number.NaN,
  lateMsSum: raw?.late_ms_sum ?? 0,
  lateMsMax: raw?.late_ms_max ?? 0,
});

/** The command line of tap-wire.py between two namespaces (also used by the argument tests). */
export function tapWireArgs(
  ends: { laptop: { netns: string; dev: string }; phone: { netns: string; dev: string } },
  options: TapWireOptions,
): string[] {
  const args = [
    TAP_WIRE,
    '--netns-a',
    ends.laptop.netns,
    '--dev-a',
    ends.laptop.dev,
    '--netns-b',
    ends.phone.netns,
    '--dev-b',
    ends.phone.dev,
    '--delay-ms',
    String(options.delayMs),
    '--jitter-ms',
    String(options.jitterMs),
    '--loss-percent',
    String(options.wireLossPercent ?? 0),
    '--order',
    options.order ?? 'fifo',
  ];
  if (options.queueCap !== undefined) args.push('--queue-cap', String(options.queueCap));
  if (options.seed !== undefined) args.push('--seed', String(options.seed));
  return args;
}

/**
 * tap-wire.py as a LanLink: a TAP `wire0` in the laptop's namespace, `wire1` in the phone's,
 * and the Python process between them (it enters each namespace itself, so it runs here).
 */
export class TapWire implements LanLink {
  #child: ChildProcess | null = null;
  #stderr = '';
  #waiters: { event: WireEvent['event']; resolve: (event: WireEvent) => void }[] = [];
  #last: WireEvent | null = null;

  constructor(
    readonly options: TapWireOptions,
    readonly python: string,
  ) {}

  async join(laptop: Namespace, phone: Namespace): Promise<Record<Host, string>> {
    const devs = { laptop: 'wire0', phone: 'wire1' };
    const child = spawn(
      this.python,
      tapWireArgs(
        { laptop: { netns: laptop.path, dev: devs.laptop }, phone: { netns: phone.path, dev: devs.phone } },
        this.options,
      ),
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    this.#child = child;
    child.stderr?.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-4_000);
    });
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      let event: WireEvent;
      try {
        event = JSON.parse(line);
      } catch {
        return;
      }
      this.#last = event;
      for (const waiter of this.#waiters.filter((w) => w.event === event.event)) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    });
    child.on('exit', () => {
      for (const waiter of this.#waiters.splice(0)) waiter.resolve({ event: 'exit' });
    });
    const ready = await this.#next('ready', 30_000);
    if (ready?.event !== 'ready') {
      throw new Error(`tap-wire.py did not start (exit ${child.exitCode}):\n${this.#stderr.trim()}`);
    }
    return devs;
  }

  /** The next `event` line, or null after `ms` (or the event `exit` if the process ended first). */
  #next(event: WireEvent['event'], ms: number): Promise<WireEvent | null> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve(null);
    return new Promise((resolve) => {
      const waiter = {
        event,
        resolve: (value: WireEvent) => {
          clearTimeout(timer);
          resolve(value);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        resolve(null);
      }, ms);
      this.#waiters.push(waiter);
    });
  }

  /** The wire's counters now. */
  async stats(): Promise<WireStats> {
    const stats = this.#next('stats', 15_000);
    this.#child?.stdin?.write('stats\n');
    const event = await stats;
    if (event?.event !== 'stats') throw new Error(`tap-wire.py gave no counters:\n${this.#stderr.trim()}`);
    return toStats(event);
  }

  /** Whether the wire is still running (it stops if a TAP fails). */
  get running(): boolean {
    return this.#child !== null && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** What the wire wrote to stderr (its last 4 KB). */
  get stderr(): string {
    return this.#stderr;
  }

  /** The counters of the last `stats` or `exit` line (after close: the final ones), or null. */
  get lastStats(): WireStats | null {
    const last = this.#last;
    return last && last.event !== 'ready' ? toStats(last) : null;
  }

  /** Stops the wire (its TAP devices vanish with it); its final counters are then in `lastStats`. */
  async close(): Promise<void> {
    const child = this.#child;
    this.#child = null;
    if (!child) return;
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.stdin?.end();
      if ((await Promise.race([exited.then(() => true), sleep(3_000).then(() => false)])) === false) {
        child.kill('SIGKILL');
        await Promise.race([exited, sleep(2_000)]);
      }
    }
  }
}

const toStats = (event: WireEvent): WireStats => ({
  seconds: event.seconds ?? 0,
  laptopToPhone: direction(event.a_to_b),
  phoneToLaptop: direction(event.b_to_a),
});

export interface FaultyLanOptions extends TapWireOptions {
  /**
   * UDP packets nftables drops at random as they arrive from the wire, 0–100: one number
   * for both hosts (so each direction loses that share), or per receiving host. TCP is
   * never dropped. Default 0 (no rule).
   */
  udpLossPercent?: number | Partial<Record<Host, number>>;
  /** Launch the two Chromiums (default true); false for tests of the network alone. */
  browsers?: boolean;
}

/** What the nftables loss rule saw and dropped on one host (UDP packets in from the wire). */
export interface UdpLossCounter {
  seen: number;
  dropped: number;
  /** The configured percent. */
  percent: number;
}

/** One UDP probe run: what arrived, when, in what order. */
export interface UdpProbe {
  sent: number;
  received: number;
  /**
   * Datagrams the receiving host dropped because the receiver's socket buffer was full (its
   * RcvbufErrors): the receiver process did not get the CPU in time (a busy machine), not the LAN.
   */
  bufferDropped: number;
  /** One-way delays, ms, in arrival order (sender's and receiver's monotonic clocks are the same clock). */
  oneWayMs: number[];
  /** Arrivals with a lower sequence number than one already received. */
  reordered: number;
  duplicates: number;
}

/** Sends `count` datagrams (seq, monotonic ns) to host:port every `intervalMs`, `warmupMs` after 3 warm-up ones (ARP over the wire). */
const SENDER = `
const dgram = require('node:dgram');
const [host, port, count, intervalMs, warmupMs] = [process.argv[1], ...process.argv.slice(2).map(Number)];
const socket = dgram.createSocket('udp4');
const packet = (seq) => {
  const b = Buffer.alloc(64);
  b.writeUInt32BE(seq, 0);
  b.writeBigUInt64BE(process.hrtime.bigint(), 4);
  return b;
};
for (let i = 0; i < 3; i++) socket.send(packet(0xffffffff), port, host);
setTimeout(() => {
  const t0 = performance.now();
  let next = 0;
  const timer = setInterval(() => {
    const due = Math.min(count, Math.floor((performance.now() - t0) / intervalMs) + 1);
    while (next < due) socket.send(packet(next++), port, host);
    if (next >= count) {
      clearInterval(timer);
      setTimeout(() => socket.close(() => process.stdout.write(JSON.stringify({ sent: next }) + '\\n')), 20);
    }
  }, Math.max(1, Math.floor(intervalMs)));
}, warmupMs);
`;

/**
 * Records [seq, one-way ms] for each datagram on port; prints them as JSON once stdin has ended
 * and no datagram came for 100 ms (those the kernel holds are read first), or after maxMs.
 */
const RECEIVER = `
const dgram = require('node:dgram');
const [port, maxMs] = process.argv.slice(1).map(Number);
const got = [];
let done = false;
let ending = false;
let quiet;
const finish = () => {
  if (done) return;
  done = true;
  process.stdout.write(JSON.stringify(got) + '\\n', () => process.exit(0));
};
const soon = () => {
  clearTimeout(quiet);
  quiet = setTimeout(finish, 100);
};
const socket = dgram.createSocket('udp4');
socket.on('message', (m) => {
  const now = process.hrtime.bigint();
  if (ending) soon();
  if (m.length < 12 || m.readUInt32BE(0) === 0xffffffff || got.length >= 1000000) return;
  got.push([m.readUInt32BE(0), Number(now - m.readBigUInt64BE(4)) / 1e6]);
});
socket.bind(port, () => process.stdout.write('ready\\n'));
process.stdin.on('end', () => {
  ending = true;
  soon();
});
process.stdin.resume();
setTimeout(finish, maxMs);
`;

/** Collects a child's stdout and resolves when `done(output)` holds, it exits, or `ms` pass. */
async function readUntil(child: ChildProcess, done: (output: string) => boolean, ms: number): Promise<string> {
  let output = '';
  const until = Date.now() + ms;
  const onData = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', onData);
  while (!done(output) && child.exitCode === null && child.signalCode === null && Date.now() < until) await sleep(10);
  return output;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await Promise.race([exited, sleep(2_000)]);
}

export class FaultyLan {
  private constructor(
    /** The LAN itself: startServer, openDaw, joinPhone, page, host(), blockMulticast… */
    readonly lan: Lan,
    readonly wire: TapWire,
    readonly udpLossPercent: Record<Host, number>,
  ) {}

  /**
   * Builds the two hosts joined by the wire, adds the UDP loss rules, and (unless
   * `browsers: false`) launches each host's Chromium. Refuses to run outside a loopback-only
   * namespace; takes everything down again if any step fails.
   */
  static async create(options: FaultyLanOptions): Promise<FaultyLan> {
    const loss = options.udpLossPercent ?? 0;
    const udpLossPercent: Record<Host, number> =
      typeof loss === 'number' ? { laptop: loss, phone: loss } : { laptop: loss.laptop ?? 0, phone: loss.phone ?? 0 };
    for (const [host, percent] of Object.entries(udpLossPercent)) {
      if (!Number.isFinite(percent) || percent < 0 || percent > 100) {
        throw new Error(`udpLossPercent for the ${host} must be 0–100, got ${percent}`);
      }
    }
    let python: string;
    try {
      python = ensurePython();
    } catch (error) {
      throw new Error(
        `${(error as Error).message}\n(Inside the test's network namespace apt-get cannot download: install python3 before running the tests.)`,
      );
    }
    const wire = new TapWire(options, python);
    const lan = await Lan.create({ link: wire, browsers: options.browsers ?? true });
    const faulty = new FaultyLan(lan, wire, udpLossPercent);
    try {
      faulty.#pinNeighbours();
      faulty.#addLossRules();
    } catch (error) {
      await faulty.close();
      throw error;
    }
    return faulty;
  }

  /**
   * Permanent ARP entries on both hosts: an ARP exchange lost on the wire would otherwise hold
   * the first packets back by a second or more (the kernel re-asks once a second), which a
   * WiFi station with its neighbours cached does not do.
   */
  #pinNeighbours(): void {
    const { lan } = this;
    const mac = (host: Host) => {
      const [link] = JSON.parse(lan.host(host).run(lan.ip, ['-j', 'link', 'show', 'dev', lan.interfaces[host]])) as {
        address?: string;
      }[];
      if (!link?.address) throw new Error(`no MAC address on the ${host}'s ${lan.interfaces[host]}`);
      return link.address;
    };
    for (const [host, other, otherIp] of [
      ['laptop', 'phone', PHONE_IP],
      ['phone', 'laptop', LAPTOP_IP],
    ] as const) {
      lan
        .host(host)
        .run(lan.ip, [
          'neigh',
          'replace',
          otherIp,
          'lladdr',
          mac(other),
          'dev',
          lan.interfaces[host],
          'nud',
          'permanent',
        ]);
    }
  }

  #addLossRules(): void {
    for (const host of ['laptop', 'phone'] as const) {
      const percent = this.udpLossPercent[host];
      if (percent === 0) continue;
      const dev = this.lan.interfaces[host];
      // Hundredths of a percent: `numgen random mod 10000` is uniform in 0…9999.
      const below = Math.round(percent * 100);
      this.lan.host(host).run(
        this.lan.nft,
        ['-f', '-'],
        `table inet ${LOSS_TABLE} {
  chain in {
    type filter hook input priority -10; policy accept;
    iifname "${dev}" meta l4proto udp counter
    iifname "${dev}" meta l4proto udp numgen random mod 10000 < ${below} counter drop
  }
}
`,
      );
    }
  }

  /**
   * From now on, `host` drops every `n`-th UDP packet arriving from the wire (nftables
   * `numgen inc`): loss without chance in it, for tests that must not flake. Returns a reader
   * of how many it dropped.
   */
  dropEveryNth(host: Host, n: number): () => number {
    if (!Number.isInteger(n) || n < 2) throw new Error(`dropEveryNth needs a whole n ≥ 2, got ${n}`);
    const dev = this.lan.interfaces[host];
    const run = (args: string[], input?: string) => this.lan.host(host).run(this.lan.nft, args, input);
    run(
      ['-f', '-'],
      `table inet ${NTH_TABLE} {
  chain in {
    type filter hook input priority -20; policy accept;
    iifname "${dev}" meta l4proto udp numgen inc mod ${n} 0 counter drop
  }
}
`,
    );
    return () => {
      const match = /counter packets (\d+)/.exec(run(['list', 'table', 'inet', NTH_TABLE]));
      if (!match) throw new Error(`no counter in the ${host}'s ${NTH_TABLE} table`);
      return Number(match[1]);
    };
  }

  /** What the nftables loss rules saw and dropped so far, per receiving host (zeros where there is no rule). */
  udpLoss(): Record<Host, UdpLossCounter> {
    const result = {} as Record<Host, UdpLossCounter>;
    for (const host of ['laptop', 'phone'] as const) {
      const percent = this.udpLossPercent[host];
      if (percent === 0) {
        result[host] = { seen: 0, dropped: 0, percent };
        continue;
      }
      const table = this.lan.host(host).run(this.lan.nft, ['list', 'table', 'inet', LOSS_TABLE]);
      const counts = [...table.matchAll(/counter packets (\d+)/g)].map((match) => Number(match[1]));
      if (counts.length !== 2) throw new Error(`unexpected nft output on the ${host}:\n${table}`);
      result[host] = { seen: counts[0] as number, dropped: counts[1] as number, percent };
    }
    return result;
  }

  /** The wire's frame counters per direction. */
  wireStats(): Promise<WireStats> {
    return this.wire.stats();
  }

  /**
   * Real UDP across the LAN: a sender in `from`'s namespace sends `count` datagrams, one each
   * `intervalMs`, to a receiver in the other host's, which stamps each with the (shared)
   * monotonic clock. Every step bounded; takes about count × intervalMs + delay + 0.5 s.
   */
  async probeUdp({
    from,
    count,
    intervalMs,
    port = PROBE_PORT,
  }: {
    from: Host;
    count: number;
    intervalMs: number;
    port?: number;
  }): Promise<UdpProbe> {
    if (!Number.isInteger(count) || count < 1 || count > 100_000) throw new Error('count must be 1–100000');
    if (!(intervalMs > 0 && intervalMs <= 10_000)) throw new Error('intervalMs must be in (0, 10000]');
    const to: Host = from === 'laptop' ? 'phone' : 'laptop';
    // The longest a frame can take across the wire, and the time an ARP round trip takes.
    const crossMs = this.wire.options.delayMs + this.wire.options.jitterMs;
    const warmupMs = 2 * crossMs + 100;
    const sendMs = warmupMs + count * intervalMs;
    // Each step waits for its event; the bounds are far out (a busy machine starts a Node process in seconds).
    const budget = sendMs + 2 * crossMs + 3 * E2E_WAIT_MS;
    const direction = from === 'laptop' ? 'laptopToPhone' : 'phoneToLaptop';
    const wireBefore = (await this.wireStats())[direction];
    const bufferErrorsBefore = this.#rcvbufErrors(to);
    const receiver = this.lan.host(to).spawn(process.execPath, ['-e', RECEIVER, String(port), String(budget)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let sender: ChildProcess | null = null;
    try {
      const receiverOut = readUntil(receiver, (out) => out.includes(']\n'), budget);
      const ready = await readUntil(receiver, (out) => out.startsWith('ready\n'), E2E_WAIT_MS);
      if (!ready.startsWith('ready\n')) throw new Error('the UDP probe receiver did not start');
      const target = to === 'laptop' ? LAPTOP_IP : PHONE_IP;
      sender = this.lan
        .host(from)
        .spawn(
          process.execPath,
          ['-e', SENDER, target, String(port), String(count), String(intervalMs), String(warmupMs)],
          {
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
      const sent = await readUntil(sender, (out) => out.includes('\n'), sendMs + E2E_WAIT_MS);
      const sentCount = (JSON.parse(sent.trim() || '{"sent":0}') as { sent: number }).sent;
      // Every datagram (and the 3 warm-up ones) has left the wire, delivered or dropped, before the
      // receiver is asked for its log: it reads what the kernel holds, then answers.
      const until = Date.now() + E2E_WAIT_MS;
      for (;;) {
        const now = (await this.wireStats())[direction];
        if ((now.received - wireBefore.received >= sentCount + 3 && now.queued === 0) || Date.now() > until) break;
        await sleep(20);
      }
      receiver.stdin?.end();
      const log = (await receiverOut).split('\n').find((line) => line.startsWith('['));
      if (!log) throw new Error('the UDP probe receiver gave no log');
      const arrivals = JSON.parse(log) as [number, number][];
      const seen = new Set<number>();
      let highest = -1;
      let reordered = 0;
      let duplicates = 0;
      for (const [seq] of arrivals) {
        if (seen.has(seq)) duplicates++;
        else if (seq < highest) reordered++;
        seen.add(seq);
        highest = Math.max(highest, seq);
      }
      return {
        sent: sentCount,
        received: seen.size,
        bufferDropped: this.#rcvbufErrors(to) - bufferErrorsBefore,
        oneWayMs: arrivals.map(([, ms]) => ms),
        reordered,
        duplicates,
      };
    } finally {
      if (sender) await stop(sender);
      await stop(receiver);
    }
  }

  /** UDP datagrams `host` dropped for a full socket buffer so far (RcvbufErrors of its /proc/net/snmp). */
  #rcvbufErrors(host: Host): number {
    const lines = this.lan.host(host).run('cat', ['/proc/net/snmp']).split('\n');
    const names = lines.find((line) => line.startsWith('Udp: ') && !/\d/.test(line))?.split(/\s+/) ?? [];
    const values = lines.find((line) => line.startsWith('Udp: ') && /\d/.test(line))?.split(/\s+/) ?? [];
    const value = Number(values[names.indexOf('RcvbufErrors')]);
    if (!Number.isFinite(value)) throw new Error('no RcvbufErrors in /proc/net/snmp');
    return value;
  }

  /** Everything down (pages, server, browsers, the wire, both namespaces); returns the wire's final counters. */
  async close(): Promise<WireStats | null> {
    await this.lan.close();
    return this.wire.lastStats;
  }
}

/** Mean, spread and quantiles of a list of milliseconds. */
export function summarizeMs(values: readonly number[]): {
  count: number;
  mean: number;
  std: number;
  min: number;
  p50: number;
  p99: number;
  max: number;
} {
  const sorted = [...values].sort((a, b) => a - b);
  const count = sorted.length;
  const at = (q: number) => sorted[Math.min(count - 1, Math.max(0, Math.ceil(q * count) - 1))] ?? Number.NaN;
  const mean = sorted.reduce((sum, value) => sum + value, 0) / count;
  const std = Math.sqrt(sorted.reduce((sum, value) => sum + (value - mean) ** 2, 0) / count);
  return {
    count,
    mean,
    std,
    min: sorted[0] ?? Number.NaN,
    p50: at(0.5),
    p99: at(0.99),
    max: sorted[count - 1] ?? Number.NaN,
  };
}

/**
 * The DAW's side of the peer layer: one WebRTC connection per controller (the controller
 * offers, the DAW answers), hits from those channels and from the signal server's relay
 * deduplicated per controller and handed to `onHit` in the same task they arrive in.
 *
 * Every controller's input is untrusted: a modified phone must not be able to grow the
 * DAW's memory, keep half-made connections for ever, flood the engine, or freeze the tab
 * with a flood of packets. Hence the limits below, each counted where the DAW shows a
 * controller's numbers.
 */

/** A connection not open this long after its offer is given up (the controller retries). */
export const DAW_OPEN_TIMEOUT_MS = 10_000;
/** Signals one connection attempt may bring (an offer and its candidates: a dozen is a lot). */
export const MAX_SIGNALS_PER_ATTEMPT = 64;
/** New connection attempts a controller may start: one a second. */
export const ATTEMPT_RATE = { perSecond: 1, burst: 3 };
/** Hits a controller may play: far above any drummer (and issue 4's 200/s benchmark), far below a flood. */
export const HIT_RATE = { perSecond: 250, burst: 250 };
/**
 * Relayed clock-sync pings the DAW answers per controller (it pings once a second): each
 * answer is a message on the DAW's own socket, so a flood of pings must not become a flood
 * the server holds against the DAW.
 */
export const RELAY_PING_RATE = { perSecond: 2, burst: 4 };
/**
 * Messages one data channel may bring, good or bad, counted before anything in them is read.
 * A flood costs the DAW mostly inside the browser (a task and an event per message: see
 * peer-channel.ts), so the only defence is to stop it: a channel over this is closed at
 * once. An honest controller sends one packet per hit (each also carries the copies of the
 * hits before it; tail packets, 10 ms apart, only while it pauses, so no more than ~190 a
 * second then), a ping a second (6 in the first half second) and a pong for each of ours:
 * at HIT_RATE, about 265 a second. Four times that, and a burst as large, for packets that a
 * stalled link or a busy DAW let pile up (a phone queues at most 16 KiB: ~750 packets).
 * In bench/flood.ts the DAW reads ~3,000 messages of a 1-byte flood (its first second
 * arrives slowly) before closing it: ~20 ms of its time, where it read 60,000 to 1,000,000
 * without this.
 */
export const CHANNEL_PACKET_RATE = { perSecond: 1_000, burst: 1_000 };
/**
 * Relayed messages one controller may send the DAW: hits, dropped counts, pings, answers
 * and bad ones alike, counted before they are read. An honest one relays each hit once (at
 * most HIT_RATE), a ping and an answer a second and a dropped count when it changes: about
 * 255 a second. The server's per-socket rate (signal/limits.ts) bounds this too; this is
 * the DAW's own line, whatever the server lets through.
 */
export const RELAY_MESSAGE_RATE = { perSecond: 500, burst: 500 };
/**
 * A controller over one of the two budgets above is blocked on that path: a flooding
 * channel is closed and the controller's offers are refused; a flooding relay has its
 * messages ignored. For `firstMs`, doubled each time it floods that path again, at most
 * `maxMs`. It stays in the room meanwhile, and on its other path (hits still play).
 */
export const FLOOD_BLOCK = { firstMs: 10_000, maxMs: 320_000 };

/** How often the DAW tells each controller what it measured (TIMING) and its tempo again (TEMPO). */
export const REPORT_MS = 1_000;

import type { IceServer } from '../../signal/protocol.ts';
import { TokenBucket } from '../../signal/token-bucket.ts';
import { ClockSync } from './clock-sync.ts';
import { HitTiming } from './hit-timing.ts';
import { PacketWriter, type RelayData, readRelay, relayTempo, type Tempo, wallClock } from './hits.ts';
import { type ChannelFactory, createPeerChannel, type HitChannel, type PeerChannelOptions } from './peer-channel.ts';
import { SeqWindow } from './seq-window.ts';
import { isOffer, readEnvelope, type SignalEnvelope } from './signal-envelope.ts';

export type Via = 'p2p' | 'relay';

/** How the DAW plays hits: the moment they arrive, or at tap time + a fixed delay (hit-timing.ts). */
export type PlayMode = 'instant' | 'steady';

/**
 * One hit to play, handed to `onHit`. The same object is reused for every hit (the hit path
 * allocates nothing): read it there, do not keep it.
 */
export interface HitEvent {
  peerId: string;
  seq: number;
  pad: number;
  /** 1–127. */
  velocity: number;
  via: Via;
  /** The tap time in the controller's clock. */
  sentAt: number;
  /** Our clock when it arrived, read before anything else is done with it. */
  arrivedAt: number;
  /** The tap time in our clock (sentAt − clock offset), NaN while the clock is not synced. */
  tapAt: number;
  /** Arrival − tap: a true one-way delay once synced; before that, where the two clocks agree. */
  delayMs: number;
  /** Steady mode: when to play it (our clock); NaN: now. */
  playAt: number;
  /** Steady mode: it came too late for the steady window (so it plays now). */
  late: boolean;
}

export interface PeerStats {
  transport: Via;
  /** Hits played. */
  hits: number;
  duplicates: number;
  /** Too old to tell from a duplicate (beyond the dedup window). */
  stale: number;
  /** Gaps in the controller's sequence: sent but never arrived. */
  lost: number;
  /** The controller's own count of hits it could not send in time. */
  dropped: number;
  /** Packets refused as malformed, and signals refused (bad, too many, too soon). */
  bad: number;
  /** Hits over the per-controller rate, not played. */
  limited: number;
  /** Times it went over a packet budget: CHANNEL_PACKET_RATE (its channel closed) or RELAY_MESSAGE_RATE. */
  floods: number;
  /** Until when (our wall clock, ms) its offers are refused because its channel flooded; null: they are not. */
  channelBlockedUntil: number | null;
  /** Until when (our wall clock, ms) its relayed messages are ignored because it flooded the relay; null: they are not. */
  relayBlockedUntil: number | null;
  /** Offers refused while its channel was blocked. */
  refusedOffers: number;
  /** Relayed messages ignored: over RELAY_MESSAGE_RATE, or while the relay was blocked. */
  ignored: number;
  /** Round trip of the data channel, ms. */
  rttMs: number | null;
  /** Arrival minus the tap time of the last hit, ms (see HitEvent.delayMs). */
  lastDelayMs: number | null;
  /** Clock sync (clock-sync.ts): their clock minus ours, null until synced. */
  offsetMs: number | null;
  /** offsetMs's uncertainty: half the best round trip among its samples (each is off by ≤ half its own), null until synced. */
  clockErrorMs: number | null;
  driftPpm: number | null;
  /** Median one-way delay and RFC 3550 jitter of recent P2P hits (hit-timing.ts), null before any. */
  oneWayMs: number | null;
  jitterMs: number | null;
  /** Steady mode's tap → play delay for this controller, null before it is known. */
  steadyDelayMs: number | null;
  /** Steady mode: hits too late for the window, played at once. */
  late: number;
  /**
   * Hits that gave way in the engine (audio/engine.ts): not played, as this controller had too
   * many planned ahead (steady mode), or cut short, as it held the most of the sampler's voices.
   */
  overbooked: number;
}

export interface DawPeersOptions {
  iceServers(): IceServer[];
  sendSignal(to: string, data: SignalEnvelope): void;
  /**
   * A hit to play (the first copy of each), now or at `hit.playAt`. The object is reused:
   * read it in the call.
   */
  onHit(hit: Readonly<HitEvent>): void;
  /** A controller's stats changed. Called after `onHit`, never before the sound. */
  onChange(peerId: string, stats: Readonly<PeerStats>): void;
  /** Through the signal server now, or false (for tempo to controllers without a channel). */
  sendRelay?(to: string, data: RelayData): boolean;
  /** The play mode now; default instant. */
  mode?(): PlayMode;
  /** The tempo now, sent to every controller (null: none yet). */
  tempo?(): Tempo | null;
  /** The audio output latency to report to controllers, ms. */
  outputLatencyMs?(): number | null;
  channel?: Pick<PeerChannelOptions, 'pingMs' | 'silenceMs' | 'syncBurstMs'>;
  /** Makes connections; default: real WebRTC (PeerChannel). */
  createChannel?: ChannelFactory;
  reportMs?: number;
  /** Wall clock (ms since the Unix epoch, monotonic), for delays and rate limits; default wallClock. */
  now?: () => number;
  openTimeoutMs?: number;
}

class Remote {
  readonly stats: PeerStats = {
    transport: 'relay',
    hits: 0,
    duplicates: 0,
    stale: 0,
    lost: 0,
    dropped: 0,
    bad: 0,
    limited: 0,
    floods: 0,
    channelBlockedUntil: null,
    relayBlockedUntil: null,
    refusedOffers: 0,
    ignored: 0,
    rttMs: null,
    lastDelayMs: null,
    offsetMs: null,
    clockErrorMs: null,
    driftPpm: null,
    oneWayMs: null,
    jitterMs: null,
    steadyDelayMs: null,
    late: 0,
    overbooked: 0,
  };
  readonly window = new SeqWindow();
  readonly sync = new ClockSync();
  readonly timing = new HitTiming();
  readonly hitBucket: TokenBucket;
  readonly attemptBucket: TokenBucket;
  readonly pingBucket: TokenBucket;
  readonly relayBucket: TokenBucket;
  channel: HitChannel | null = null;
  attemptId: string | null = null;
  signals = 0;
  openTimer: ReturnType<typeof setTimeout> | undefined;
  /** Floods so far on each path (each one doubles the next block), and when the current blocks end. */
  channelFloods = 0;
  relayFloods = 0;
  channelBlockedUntil = Number.NEGATIVE_INFINITY;
  relayBlockedUntil = Number.NEGATIVE_INFINITY;
  /** Tells the page when a block ends (the blocks themselves are checked against the clock). */
  unblockTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly peerId: string,
    now: number,
  ) {
    this.hitBucket = new TokenBucket(HIT_RATE, now);
    this.attemptBucket = new TokenBucket(ATTEMPT_RATE, now);
    this.pingBucket = new TokenBucket(RELAY_PING_RATE, now);
    this.relayBucket = new TokenBucket(RELAY_MESSAGE_RATE, now);
  }
}

/** How long the `floods`-th flood on one path blocks it. */
const blockMs = (floods: number): number => Math.min(FLOOD_BLOCK.maxMs, FLOOD_BLOCK.firstMs * 2 ** (floods - 1));

export class DawPeers {
  private readonly options: DawPeersOptions;
  private readonly remotes = new Map<string, Remote>();
  private readonly now: () => number;
  private readonly createChannel: ChannelFactory;
  private readonly writer = new PacketWriter(0);
  private readonly event: HitEvent = {
    peerId: '',
    seq: 0,
    pad: 0,
    velocity: 0,
    via: 'p2p',
    sentAt: 0,
    arrivedAt: 0,
    tapAt: 0,
    delayMs: 0,
    playAt: Number.NaN,
    late: false,
  };
  private readonly reporter: ReturnType<typeof setInterval>;

  constructor(options: DawPeersOptions) {
    this.options = options;
    this.now = options.now ?? wallClock;
    this.createChannel = options.createChannel ?? createPeerChannel;
    this.reporter = setInterval(() => this.reportAll(), options.reportMs ?? REPORT_MS);
  }

  /** The tempo changed: every controller hears it now (over its channel, or else the relay). */
  sendTempo(): void {
    for (const remote of this.remotes.values()) this.sendTempoTo(remote);
  }

  /** A steady hit that was on time here but that the audio clock had already passed. */
  countLate(peerId: string): void {
    const remote = this.remotes.get(peerId);
    if (!remote) return;
    remote.timing.late += 1;
    remote.stats.late = remote.timing.late;
  }

  /**
   * A hit of this controller's gave way in the engine and was not played (the engine's
   * `overbooked`): the one just handed over, counted as played when it arrived.
   */
  countOverbooked(peerId: string): void {
    const remote = this.remotes.get(peerId);
    if (!remote) return;
    remote.stats.overbooked += 1;
    remote.stats.hits -= 1;
  }

  /** `count` of this controller's sounds were cut short: it held the most of the sampler's voices (played all the same). */
  countCutShort(peerId: string, count: number): void {
    const remote = this.remotes.get(peerId);
    if (!remote) return;
    remote.stats.overbooked += count;
  }

  /** A controller joined the room: it gets the tempo now, before any channel exists. */
  greet(peerId: string): void {
    this.sendTempoTo(this.remote(peerId));
  }

  stats(peerId: string): Readonly<PeerStats> | undefined {
    return this.remotes.get(peerId)?.stats;
  }

  /** A `signal` from a controller: an offer starts a new connection (replacing its old one). */
  handleSignal(from: string, data: unknown): void {
    const envelope = readEnvelope(data);
    const remote = this.remote(from);
    if (envelope === null) return this.bad(remote);
    if (envelope.c !== remote.attemptId) {
      if (!isOffer(envelope.s)) return; // belongs to an attempt already replaced: normal after a reconnect
      if (remote.channelBlockedUntil > this.now()) {
        remote.stats.refusedOffers += 1; // shown with the next report
        return;
      }
      if (!remote.attemptBucket.take(this.now())) return this.bad(remote);
      this.close(remote);
      this.open(remote, envelope.c);
    } else if (++remote.signals > MAX_SIGNALS_PER_ATTEMPT) {
      this.bad(remote);
      return this.close(remote);
    }
    remote.channel?.signal(envelope.s);
  }

  /**
   * Forgets controllers that are not in `peerIds` (the room's members now) and have no open
   * channel: those that left while our socket was down, so no member-left reached us.
   * Returns the forgotten peerIds.
   */
  keepOnly(peerIds: ReadonlySet<string>): string[] {
    const gone: string[] = [];
    for (const [peerId, remote] of this.remotes) {
      if (peerIds.has(peerId) || remote.channel?.open) continue;
      this.remove(peerId);
      gone.push(peerId);
    }
    return gone;
  }

  /** A `relay` from a controller: a hit (or its dropped count) that could not go P2P. */
  handleRelay(from: string, data: unknown): void {
    const remote = this.remote(from);
    // Every relayed message counts, good or bad, before it is read. Ignored ones are shown with the next report.
    const now = this.now();
    if (remote.relayBlockedUntil > now) {
      remote.stats.ignored += 1;
      return;
    }
    if (!remote.relayBucket.take(now)) {
      remote.stats.ignored += 1;
      return this.relayFlooded(remote, now);
    }
    const error = readRelay(data, {
      hit: (epoch, seq, pad, velocity, sentAt) => this.hit(remote, epoch, seq, pad, velocity, sentAt, 'relay'),
      report: (dropped) => this.report(remote, dropped),
      // Clock sync without a channel: the answer to the controller's ping is our own ping too.
      ping: (t) => {
        const at = this.now();
        if (!remote.pingBucket.take(at)) {
          remote.stats.limited += 1;
          return;
        }
        this.options.sendRelay?.(remote.peerId, { q: [t, at], p: at });
      },
      pong: (t, at) => this.clockSample(remote, t, at, this.now()),
    });
    if (error !== null) this.bad(remote);
  }

  /** The controller left the room: its connection and numbers go. */
  remove(peerId: string): void {
    const remote = this.remotes.get(peerId);
    if (!remote) return;
    this.close(remote);
    clearTimeout(remote.unblockTimer);
    this.remotes.delete(peerId);
  }

  destroy(): void {
    clearInterval(this.reporter);
    for (const remote of this.remotes.values()) {
      this.close(remote);
      clearTimeout(remote.unblockTimer);
    }
    this.remotes.clear();
  }

  private remote(peerId: string): Remote {
    let remote = this.remotes.get(peerId);
    if (!remote) {
      remote = new Remote(peerId, this.now());
      this.remotes.set(peerId, remote);
    }
    return remote;
  }

  private open(remote: Remote, attemptId: string): void {
    remote.attemptId = attemptId;
    remote.signals = 1;
    const budget = new TokenBucket(CHANNEL_PACKET_RATE, this.now());
    try {
      const channel: HitChannel = this.createChannel({
        ...this.options.channel,
        initiator: false,
        iceServers: this.options.iceServers(),
        onSignal: (s) => this.options.sendSignal(remote.peerId, { c: attemptId, s }),
        onOpen: () => {
          clearTimeout(remote.openTimer);
          // A new channel may be a new page or even another device under this peerId: sync
          // afresh (its opening burst of pings makes that take half a second).
          remote.sync.reset();
          remote.timing.clockReset();
          this.transport(remote, 'p2p');
          this.sendTempoTo(remote);
        },
        onEnd: () => {
          if (remote.channel !== channel) return;
          clearTimeout(remote.openTimer);
          remote.channel = null;
          remote.attemptId = null;
          this.transport(remote, 'relay');
        },
        onHit: (epoch, seq, pad, velocity, sentAt) => this.hit(remote, epoch, seq, pad, velocity, sentAt, 'p2p'),
        onReport: (dropped) => this.report(remote, dropped),
        onBadPacket: () => this.bad(remote),
        onPacket: () => budget.take(this.now()) || this.channelFlooded(remote, channel),
        onRtt: (rttMs) => {
          remote.stats.rttMs = rttMs;
          this.options.onChange(remote.peerId, remote.stats);
        },
        onClockSample: (t0, at, t3) => this.clockSample(remote, t0, at, t3),
      });
      remote.channel = channel;
      const timeoutMs = this.options.openTimeoutMs ?? DAW_OPEN_TIMEOUT_MS;
      remote.openTimer = setTimeout(() => {
        if (remote.channel === channel && !channel.open) this.close(remote);
      }, timeoutMs);
    } catch {
      // This browser cannot do WebRTC: the controller's attempts time out and it stays on the relay.
      remote.attemptId = null;
    }
  }

  private close(remote: Remote): void {
    clearTimeout(remote.openTimer);
    remote.channel?.destroy();
    remote.channel = null;
    remote.attemptId = null;
    this.transport(remote, 'relay');
  }

  /** The sacred path: dedup, then play, then count. */
  private hit(
    remote: Remote,
    epoch: number,
    seq: number,
    pad: number,
    velocity: number,
    sentAt: number,
    via: Via,
  ): void {
    const arrivedAt = this.now();
    // A seq behind the newest that is still new was lost on its own and came in a later packet's repeat.
    const recovered = epoch === remote.window.epoch && seq < remote.window.newest;
    const verdict = remote.window.accept(epoch, seq);
    const { stats } = remote;
    if (verdict === 'new' && !remote.hitBucket.take(arrivedAt)) {
      stats.limited += 1;
    } else if (verdict === 'new') {
      const offset = remote.sync.offsetAt(arrivedAt);
      const tapAt = sentAt - offset; // NaN until synced
      const event = this.event;
      event.peerId = remote.peerId;
      event.seq = seq;
      event.pad = pad;
      event.velocity = velocity;
      event.via = via;
      event.sentAt = sentAt;
      event.arrivedAt = arrivedAt;
      event.tapAt = tapAt;
      event.delayMs = Number.isNaN(tapAt) ? arrivedAt - sentAt : arrivedAt - tapAt;
      event.playAt = Number.NaN;
      event.late = false;
      if (!Number.isNaN(tapAt) && this.options.mode?.() === 'steady') {
        event.playAt = remote.timing.steadyPlayAt(sentAt, remote.sync.estimate, arrivedAt);
        event.late = remote.timing.lastLate;
      }
      this.options.onHit(event);
      stats.hits += 1;
      stats.lastDelayMs = event.delayMs;
      // Timing is of the path hits take: the channel's, or the relay's for a controller without one
      // (relayed copies of channel hits ride another road and would only blur it). A hit that came
      // in a repeat is as late as the packet after its own: the path's loss, not its delay.
      const path = via === 'p2p' || !remote.channel?.open;
      if (path && !recovered && !Number.isNaN(tapAt)) remote.timing.observe(sentAt, arrivedAt, remote.sync.estimate);
      else remote.timing.arrived(arrivedAt);
      stats.late = remote.timing.late;
    } else {
      // Copies (each hit comes 3 times) and stale hits: counted, shown with the next report.
      if (verdict === 'duplicate') stats.duplicates += 1;
      else stats.stale += 1;
      return;
    }
    stats.lost = remote.window.lost;
    this.options.onChange(remote.peerId, stats);
  }

  /** Once a second: each controller's timing figures, to the page and to the controller itself. */
  private reportAll(): void {
    const outputLatencyMs = this.options.outputLatencyMs?.() ?? 0;
    const steady = this.options.mode?.() === 'steady';
    for (const remote of this.remotes.values()) {
      const { stats, timing, sync } = remote;
      const oneWay = sync.synced ? timing.oneWayMs(sync.estimate) : Number.NaN;
      stats.oneWayMs = Number.isNaN(oneWay) ? null : oneWay;
      stats.clockErrorMs = sync.synced ? sync.estimate.bestRttMs / 2 : null;
      stats.jitterMs = Number.isNaN(oneWay) ? null : timing.jitterMs;
      stats.steadyDelayMs = !steady || Number.isNaN(timing.steadyDelayMs) ? null : timing.steadyDelayMs;
      this.options.onChange(remote.peerId, stats);
      const channel = remote.channel;
      if (!channel?.open) continue; // the relay is reliable: tempo went that way when it changed
      channel.send(
        this.writer.timing({
          synced: sync.synced,
          steady,
          late: timing.late,
          offsetMs: sync.synced ? sync.offsetAt(this.now()) : 0,
          oneWayMs: Number.isNaN(oneWay) ? (sync.synced ? sync.estimate.bestRttMs / 2 : 0) : oneWay,
          jitterMs: timing.jitterMs,
          steadyDelayMs: steady && !Number.isNaN(timing.steadyDelayMs) ? timing.steadyDelayMs : 0,
          outputLatencyMs,
        }),
      );
      this.sendTempoTo(remote);
    }
  }

  private sendTempoTo(remote: Remote): void {
    const tempo = this.options.tempo?.();
    if (!tempo) return;
    if (remote.channel?.open) remote.channel.send(this.writer.tempo(tempo));
    else this.options.sendRelay?.(remote.peerId, relayTempo(tempo));
  }

  private clockSample(remote: Remote, t0: number, at: number, t3: number): void {
    if (!remote.sync.sample(t0, at, t3) || !remote.sync.synced) return;
    remote.stats.offsetMs = remote.sync.offsetAt(t3);
    remote.stats.driftPpm = remote.sync.estimate.driftPpm;
  }

  private report(remote: Remote, dropped: number): void {
    if (dropped === remote.stats.dropped) return;
    remote.stats.dropped = dropped;
    this.options.onChange(remote.peerId, remote.stats);
  }

  /** Its channel went over CHANNEL_PACKET_RATE: closed now, and its offers refused for a while. False: drop the packet. */
  private channelFlooded(remote: Remote, channel: HitChannel): false {
    if (remote.channel !== channel) {
      channel.destroy(); // replaced already (and so destroyed): nothing to block
      return false;
    }
    const now = this.now();
    remote.channelFloods += 1;
    remote.channelBlockedUntil = now + blockMs(remote.channelFloods);
    remote.stats.floods += 1;
    remote.stats.channelBlockedUntil = remote.channelBlockedUntil;
    this.close(remote);
    this.blocked(remote, now);
    return false;
  }

  /** Its relayed messages went over RELAY_MESSAGE_RATE: ignored for a while. */
  private relayFlooded(remote: Remote, now: number): void {
    remote.relayFloods += 1;
    remote.relayBlockedUntil = now + blockMs(remote.relayFloods);
    remote.stats.floods += 1;
    remote.stats.relayBlockedUntil = remote.relayBlockedUntil;
    this.blocked(remote, now);
  }

  /** The row shows a block now, and is told again when it ends. */
  private blocked(remote: Remote, now: number): void {
    clearTimeout(remote.unblockTimer);
    const ends = Math.min(
      remote.channelBlockedUntil > now ? remote.channelBlockedUntil : Number.POSITIVE_INFINITY,
      remote.relayBlockedUntil > now ? remote.relayBlockedUntil : Number.POSITIVE_INFINITY,
    );
    if (ends !== Number.POSITIVE_INFINITY) {
      remote.unblockTimer = setTimeout(() => {
        const at = this.now();
        if (remote.channelBlockedUntil <= at) remote.stats.channelBlockedUntil = null;
        if (remote.relayBlockedUntil <= at) remote.stats.relayBlockedUntil = null;
        this.blocked(remote, at);
      }, ends - now);
    }
    this.options.onChange(remote.peerId, remote.stats);
  }

  private bad(remote: Remote): void {
    remote.stats.bad += 1;
    this.options.onChange(remote.peerId, remote.stats);
  }

  private transport(remote: Remote, transport: Via): void {
    if (remote.stats.transport === transport) return;
    remote.stats.transport = transport;
    this.options.onChange(remote.peerId, remote.stats);
  }
}

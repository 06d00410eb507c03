/**
 * The DAW's side of the peer layer: one WebRTC connection per controller (the controller
 * offers, the DAW answers), hits from those channels and from the signal server's relay
 * deduplicated per controller and handed to `onHit` in the same task they arrive in.
 *
 * Every controller's input is untrusted: a modified phone must not be able to grow the
 * DAW's memory, keep half-made connections for ever, or flood the engine. Hence the limits
 * below, each counted where the DAW shows a controller's numbers.
 */

/** A connection not open this long after its offer is given up (the controller retries). */
export const DAW_OPEN_TIMEOUT_MS = 10_000;
/** Signals one connection attempt may bring (an offer and its candidates: a dozen is a lot). */
export const MAX_SIGNALS_PER_ATTEMPT = 64;
/** New connection attempts a controller may start: one a second. */
export const ATTEMPT_RATE = { perSecond: 1, burst: 3 };
/** Hits a controller may play: far above any drummer (and issue 4's 200/s benchmark), far below a flood. */
export const HIT_RATE = { perSecond: 250, burst: 250 };

import type { IceServer } from '../../signal/protocol.ts';
import { TokenBucket } from '../../signal/token-bucket.ts';
import { readRelay, wallClock } from './hits.ts';
import { type ChannelFactory, createPeerChannel, type HitChannel, type PeerChannelOptions } from './peer-channel.ts';
import { SeqWindow } from './seq-window.ts';
import { isOffer, readEnvelope, type SignalEnvelope } from './signal-envelope.ts';

export type Via = 'p2p' | 'relay';

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
  /** Round trip of the data channel, ms. */
  rttMs: number | null;
  /** Arrival minus the tap time of the last hit, ms: a true one-way delay only where both clocks agree (one machine). */
  lastDelayMs: number | null;
}

export interface DawPeersOptions {
  iceServers(): IceServer[];
  sendSignal(to: string, data: SignalEnvelope): void;
  /**
   * A hit to play now (the first copy of each). Velocity 1–127; `delayMs`: our clock when it
   * arrived (read before anything else is done with it) minus its tap time in the sender's
   * clock — a one-way delay only where the two clocks agree.
   */
  onHit(peerId: string, pad: number, velocity: number, delayMs: number, via: Via): void;
  /** A controller's stats changed. Called after `onHit`, never before the sound. */
  onChange(peerId: string, stats: Readonly<PeerStats>): void;
  channel?: Pick<PeerChannelOptions, 'pingMs' | 'silenceMs'>;
  /** Makes connections; default: real WebRTC (PeerChannel). */
  createChannel?: ChannelFactory;
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
    rttMs: null,
    lastDelayMs: null,
  };
  readonly window = new SeqWindow();
  readonly hitBucket: TokenBucket;
  readonly attemptBucket: TokenBucket;
  channel: HitChannel | null = null;
  attemptId: string | null = null;
  signals = 0;
  openTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    readonly peerId: string,
    now: number,
  ) {
    this.hitBucket = new TokenBucket(HIT_RATE, now);
    this.attemptBucket = new TokenBucket(ATTEMPT_RATE, now);
  }
}

export class DawPeers {
  readonly #options: DawPeersOptions;
  readonly #remotes = new Map<string, Remote>();
  readonly #now: () => number;
  readonly #createChannel: ChannelFactory;

  constructor(options: DawPeersOptions) {
    this.#options = options;
    this.#now = options.now ?? wallClock;
    this.#createChannel = options.createChannel ?? createPeerChannel;
  }

  stats(peerId: string): Readonly<PeerStats> | undefined {
    return this.#remotes.get(peerId)?.stats;
  }

  /** A `signal` from a controller: an offer starts a new connection (replacing its old one). */
  handleSignal(from: string, data: unknown): void {
    const envelope = readEnvelope(data);
    const remote = this.#remote(from);
    if (envelope === null) return this.#bad(remote);
    if (envelope.c !== remote.attemptId) {
      if (!isOffer(envelope.s)) return; // belongs to an attempt already replaced: normal after a reconnect
      if (!remote.attemptBucket.take(this.#now())) return this.#bad(remote);
      this.#close(remote);
      this.#open(remote, envelope.c);
    } else if (++remote.signals > MAX_SIGNALS_PER_ATTEMPT) {
      this.#bad(remote);
      return this.#close(remote);
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
    for (const [peerId, remote] of this.#remotes) {
      if (peerIds.has(peerId) || remote.channel?.open) continue;
      this.remove(peerId);
      gone.push(peerId);
    }
    return gone;
  }

  /** A `relay` from a controller: a hit (or its dropped count) that could not go P2P. */
  handleRelay(from: string, data: unknown): void {
    const remote = this.#remote(from);
    const error = readRelay(
      data,
      { hit: (epoch, seq, pad, velocity, sentAt) => this.#hit(remote, epoch, seq, pad, velocity, sentAt, 'relay') },
      (dropped) => this.#report(remote, dropped),
    );
    if (error !== null) this.#bad(remote);
  }

  /** The controller left the room: its connection and numbers go. */
  remove(peerId: string): void {
    const remote = this.#remotes.get(peerId);
    if (!remote) return;
    this.#close(remote);
    this.#remotes.delete(peerId);
  }

  destroy(): void {
    for (const remote of this.#remotes.values()) this.#close(remote);
    this.#remotes.clear();
  }

  #remote(peerId: string): Remote {
    let remote = this.#remotes.get(peerId);
    if (!remote) {
      remote = new Remote(peerId, this.#now());
      this.#remotes.set(peerId, remote);
    }
    return remote;
  }

  #open(remote: Remote, attemptId: string): void {
    remote.attemptId = attemptId;
    remote.signals = 1;
    try {
      const channel: HitChannel = this.#createChannel({
        ...this.#options.channel,
        initiator: false,
        iceServers: this.#options.iceServers(),
        onSignal: (s) => this.#options.sendSignal(remote.peerId, { c: attemptId, s }),
        onOpen: () => {
          clearTimeout(remote.openTimer);
          this.#transport(remote, 'p2p');
        },
        onEnd: () => {
          if (remote.channel !== channel) return;
          clearTimeout(remote.openTimer);
          remote.channel = null;
          remote.attemptId = null;
          this.#transport(remote, 'relay');
        },
        onHit: (epoch, seq, pad, velocity, sentAt) => this.#hit(remote, epoch, seq, pad, velocity, sentAt, 'p2p'),
        onReport: (dropped) => this.#report(remote, dropped),
        onBadPacket: () => this.#bad(remote),
        onRtt: (rttMs) => {
          remote.stats.rttMs = rttMs;
          this.#options.onChange(remote.peerId, remote.stats);
        },
      });
      remote.channel = channel;
      const timeoutMs = this.#options.openTimeoutMs ?? DAW_OPEN_TIMEOUT_MS;
      remote.openTimer = setTimeout(() => {
        if (remote.channel === channel && !channel.open) this.#close(remote);
      }, timeoutMs);
    } catch {
      // This browser cannot do WebRTC: the controller's attempts time out and it stays on the relay.
      remote.attemptId = null;
    }
  }

  #close(remote: Remote): void {
    clearTimeout(remote.openTimer);
    remote.channel?.destroy();
    remote.channel = null;
    remote.attemptId = null;
    this.#transport(remote, 'relay');
  }

  /** The sacred path: dedup, then play, then count. */
  #hit(remote: Remote, epoch: number, seq: number, pad: number, velocity: number, sentAt: number, via: Via): void {
    const arrivedAt = this.#now();
    const verdict = remote.window.accept(epoch, seq);
    const { stats } = remote;
    if (verdict === 'new' && !remote.hitBucket.take(arrivedAt)) {
      stats.limited += 1;
    } else if (verdict === 'new') {
      const delayMs = arrivedAt - sentAt;
      this.#options.onHit(remote.peerId, pad, velocity, delayMs, via);
      stats.hits += 1;
      stats.lastDelayMs = delayMs;
    } else if (verdict === 'duplicate') {
      stats.duplicates += 1;
    } else {
      stats.stale += 1;
    }
    stats.lost = remote.window.lost;
    this.#options.onChange(remote.peerId, stats);
  }

  #report(remote: Remote, dropped: number): void {
    if (dropped === remote.stats.dropped) return;
    remote.stats.dropped = dropped;
    this.#options.onChange(remote.peerId, remote.stats);
  }

  #bad(remote: Remote): void {
    remote.stats.bad += 1;
    this.#options.onChange(remote.peerId, remote.stats);
  }

  #transport(remote: Remote, transport: Via): void {
    if (remote.stats.transport === transport) return;
    remote.stats.transport = transport;
    this.#options.onChange(remote.peerId, remote.stats);
  }
}

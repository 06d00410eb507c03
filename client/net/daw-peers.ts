/**
 * The DAW's side of the peer layer: one WebRTC connection per controller (the controller
 * offers, the DAW answers), hits from those channels and from the signal server's relay
 * deduplicated per controller and handed to `onHit` in the same task they arrive in.
 */
import type { IceServer } from '../../signal/protocol.ts';
import { type PacketError, readRelay } from './hits.ts';
import { PeerChannel, type PeerChannelOptions } from './peer-channel.ts';
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
  /** Packets refused as malformed. */
  bad: number;
  /** Round trip of the data channel, ms. */
  rttMs: number | null;
  /** Arrival minus the tap time of the last hit, ms: a true one-way delay only where both clocks agree (one machine). */
  lastDelayMs: number | null;
}

export interface DawPeersOptions {
  iceServers(): IceServer[];
  sendSignal(to: string, data: SignalEnvelope): void;
  /**
   * A hit to play now (the first copy of each). Velocity 1–127; `sentAt` (tap time, the
   * sender's wall clock) and `arrivedAt` (ours, read before anything else is done with it).
   */
  onHit(peerId: string, pad: number, velocity: number, sentAt: number, arrivedAt: number, via: Via): void;
  /** A controller's stats changed. Called after `onHit`, never before the sound. */
  onChange(peerId: string, stats: Readonly<PeerStats>): void;
  channel?: Pick<PeerChannelOptions, 'pingMs' | 'silenceMs'>;
  /** Wall clock, for lastDelayMs. */
  now?: () => number;
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
    rttMs: null,
    lastDelayMs: null,
  };
  readonly window = new SeqWindow();
  channel: PeerChannel | null = null;
  attemptId: string | null = null;

  constructor(readonly peerId: string) {}
}

export class DawPeers {
  readonly #options: DawPeersOptions;
  readonly #remotes = new Map<string, Remote>();
  readonly #now: () => number;

  constructor(options: DawPeersOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.timeOrigin + performance.now());
  }

  stats(peerId: string): Readonly<PeerStats> | undefined {
    return this.#remotes.get(peerId)?.stats;
  }

  /** A `signal` from a controller: an offer starts a new connection (replacing its old one). */
  handleSignal(from: string, data: unknown): void {
    const envelope = readEnvelope(data);
    if (envelope === null) return;
    const remote = this.#remote(from);
    if (envelope.c !== remote.attemptId) {
      if (!isOffer(envelope.s)) return; // belongs to an attempt already replaced
      this.#close(remote);
      this.#open(remote, envelope.c);
    }
    remote.channel?.signal(envelope.s);
  }

  /** A `relay` from a controller: a hit (or its dropped count) that could not go P2P. */
  handleRelay(from: string, data: unknown): void {
    const remote = this.#remote(from);
    const error = readRelay(
      data,
      { hit: (epoch, seq, pad, velocity, sentAt) => this.#hit(remote, epoch, seq, pad, velocity, sentAt, 'relay') },
      (dropped) => this.#report(remote, dropped),
    );
    if (error !== null) this.#bad(remote, error);
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
      remote = new Remote(peerId);
      this.#remotes.set(peerId, remote);
    }
    return remote;
  }

  #open(remote: Remote, attemptId: string): void {
    remote.attemptId = attemptId;
    try {
      const channel: PeerChannel = new PeerChannel({
        ...this.#options.channel,
        initiator: false,
        iceServers: this.#options.iceServers(),
        onSignal: (s) => this.#options.sendSignal(remote.peerId, { c: attemptId, s }),
        onOpen: () => this.#transport(remote, 'p2p'),
        onEnd: () => {
          if (remote.channel !== channel) return;
          remote.channel = null;
          remote.attemptId = null;
          this.#transport(remote, 'relay');
        },
        onHit: (epoch, seq, pad, velocity, sentAt) => this.#hit(remote, epoch, seq, pad, velocity, sentAt, 'p2p'),
        onReport: (dropped) => this.#report(remote, dropped),
        onBadPacket: (error) => this.#bad(remote, error),
        onRtt: (rttMs) => {
          remote.stats.rttMs = rttMs;
          this.#options.onChange(remote.peerId, remote.stats);
        },
      });
      remote.channel = channel;
    } catch {
      // This browser cannot do WebRTC: the controller's attempts time out and it stays on the relay.
      remote.attemptId = null;
    }
  }

  #close(remote: Remote): void {
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
    if (verdict === 'new') {
      this.#options.onHit(remote.peerId, pad, velocity, sentAt, arrivedAt, via);
      stats.hits += 1;
      stats.lastDelayMs = arrivedAt - sentAt;
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

  #bad(remote: Remote, _error: PacketError): void {
    remote.stats.bad += 1;
    this.#options.onChange(remote.peerId, remote.stats);
  }

  #transport(remote: Remote, transport: Via): void {
    if (remote.stats.transport === transport) return;
    remote.stats.transport = transport;
    this.#options.onChange(remote.peerId, remote.stats);
  }
}

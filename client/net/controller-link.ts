/**
 * The controller's way to the DAW: a P2P data channel when it can be made, the signal
 * server's relay meanwhile and whenever it cannot, retried in the background with backoff
 * (link-machine.ts decides; this module carries it out with real timers and WebRTC).
 */

import { nanoid } from 'nanoid';
import type { IceServer } from '../../signal/protocol.ts';
import { ClockSync } from './clock-sync.ts';
import { type HitCounts, HitSender, type SendOutcome } from './hit-sender.ts';
import { newEpoch, type RelayData, readRelay, type Tempo, type TimingReport, wallClock } from './hits.ts';
import { type LinkEffect, type LinkEvent, LinkMachine, type LinkTiming } from './link-machine.ts';
import { type ChannelFactory, createPeerChannel, type HitChannel, type PeerChannelOptions } from './peer-channel.ts';
import { isOffer, readEnvelope, type SignalEnvelope } from './signal-envelope.ts';

/** How hits travel right now, as the player sees it. */
export type Transport = 'p2p' | 'relay' | 'connecting' | 'offline';

export interface ControllerLinkOptions {
  /** ICE servers from the server's welcome (never public defaults). */
  iceServers(): IceServer[];
  sendSignal(to: string, data: SignalEnvelope): void;
  /**
   * Through the signal server now, or false (never queued). `ref` (a hit's seq) comes back in
   * the `error` the server answers with if it cannot deliver it: pass that to `relayRefused`.
   */
  sendRelay(data: RelayData, ref?: number): boolean;
  /** Transport, round trip or counts changed. */
  onChange(): void;
  timing?: Partial<LinkTiming>;
  channel?: Pick<PeerChannelOptions, 'pingMs' | 'silenceMs' | 'syncBurstMs'>;
  /** Makes connections; default: real WebRTC (PeerChannel). */
  createChannel?: ChannelFactory;
  /** Report the dropped count through the relay this often while there is no channel. */
  reportMs?: number;
  /** The random per-page-load epoch of the hit sequence; default: a fresh one. */
  epoch?: number;
}

/** What the last link's end reads as when it was the DAW going (its tab closed or reloaded, its WiFi gone). */
export const DAW_WENT_AWAY = 'the DAW went away';
/**
 * A link that ended this long (ms) before the server said the DAW is away ended because it went:
 * the server hears of a closed tab at once, of a lost network within its heartbeat timeout.
 */
const DAW_AWAY_AFTER_END_MS = 20_000;

// TypeScript `private`, not `#private`: built for the phones' floor each `#` member becomes WeakMap
// helpers and lookups, bytes on every phone (docs/architecture.md; tests/scripts/hit-path-lowering.test.ts).
export class ControllerLink {
  private readonly options: ControllerLinkOptions;
  private readonly machine: LinkMachine;
  private readonly sender: HitSender;
  private daw: string | null = null;
  private socketUp = false;
  private channel: HitChannel | null = null;
  private attemptId: string | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private reporter: ReturnType<typeof setInterval>;
  private reportedDropped = 0;
  private hasWebrtc = true;
  private destroyed = false;
  private endReason: string | null = null;
  /** When the last link ended (Date.now()), to tell a DAW that went away from a link that broke. */
  private lastEndAt = Number.NEGATIVE_INFINITY;
  private readonly sync = new ClockSync();
  private timingReport: TimingReport | null = null;
  private dawTempo: Tempo | null = null;
  private dawPresent = false;

  constructor(options: ControllerLinkOptions) {
    this.options = options;
    this.machine = new LinkMachine(options.timing);
    this.sender = new HitSender(
      {
        p2p: (packet) => this.channel?.send(packet) ?? false,
        p2pLively: () => this.channel?.lively ?? false,
        // Not while the DAW is known to be away: the server would only hand the hit back.
        relay: (hit) => this.socketUp && this.dawPresent && options.sendRelay(hit, hit.h[1]),
      },
      { epoch: options.epoch ?? newEpoch(), onDrop: () => options.onChange() },
    );
    this.reporter = setInterval(() => this.report(), options.reportMs ?? 1_000);
  }

  get transport(): Transport {
    const state = this.machine.state;
    if (state.kind === 'open') return 'p2p';
    if (!this.socketUp) return 'offline';
    return state.kind === 'connecting' && state.attempt === 1 ? 'connecting' : 'relay';
  }

  get rttMs(): number | null {
    return this.channel?.open ? this.channel.rttMs : null;
  }

  get counts(): Readonly<HitCounts> {
    return this.sender.counts;
  }

  /** Whether this browser can make WebRTC connections at all. */
  get webrtc(): boolean {
    return this.hasWebrtc;
  }

  /** What the DAW last measured of us (over the channel), or null. */
  get timing(): Readonly<TimingReport> | null {
    return this.timingReport;
  }

  /** The DAW's tempo, or null before it has told us. */
  get tempo(): Readonly<Tempo> | null {
    return this.dawTempo;
  }

  /**
   * The DAW's clock minus ours, ms: from our own pings' clock sync, else from the DAW's
   * report, else 0 (no channel yet: phones on one LAN are usually NTP-synced to a few ms).
   */
  dawOffsetAt(t: number): number {
    if (this.sync.synced) return this.sync.offsetAt(t);
    if (this.timingReport?.synced) return -this.timingReport.offsetMs;
    return 0;
  }

  get clockSynced(): boolean {
    return this.sync.synced;
  }

  /** Why the last P2P connection ended (for the troubleshooting line), or null. */
  get lastEnd(): string | null {
    return this.endReason;
  }

  /** A pad hit, from the pointerdown handler. Velocity 1–127. */
  hit(pad: number, velocity: number): SendOutcome {
    return this.sender.send(pad, velocity);
  }

  /** The signaling socket is (or is no longer) joined. */
  setSocket(up: boolean): void {
    if (up === this.socketUp) return;
    this.socketUp = up;
    if (up) this.sender.flush();
    this.options.onChange();
  }

  /**
   * The server could not deliver a relayed message with this `ref` (a hit's seq): PEER_AWAY,
   * the DAW was away when it got there. The hit is held again while it is fresh, else dropped
   * and counted (client/net/hit-sender.ts `bounced`).
   */
  relayRefused(ref: number): void {
    if (!this.destroyed) this.sender.bounced(ref);
  }

  /** The room's DAW, and whether it is connected to the signal server (an offer can reach it). */
  setDaw(peerId: string | null, present: boolean): void {
    if (this.destroyed) return;
    const back = peerId === this.daw && present && !this.dawPresent;
    const arrived = present && peerId !== null && !this.dawPresent;
    if (peerId !== this.daw || back) {
      // Another DAW, or ours back (perhaps a reloaded page, whose tempo versions may be lower):
      // what the last one measured and its tempo are not to be trusted. It sends them anew.
      this.timingReport = null;
      this.dawTempo = null;
    }
    if (peerId !== this.daw) {
      this.dispatch({ type: 'stop' });
      this.daw = peerId;
    }
    // A DAW tab that closes or reloads breaks the link (an error, ERR_DATA_CHANNEL) just before
    // the server says it is away: that is why the link ended, not a fault of the link.
    if (this.dawPresent && !present && Date.now() - this.lastEndAt < DAW_AWAY_AFTER_END_MS) {
      this.endReason = DAW_WENT_AWAY;
    }
    this.dawPresent = peerId !== null && present;
    this.dispatch({ type: 'daw', present: this.dawPresent });
    if (arrived) {
      // Hits held while it was away go now, if still fresh; and a DAW page that came back knows
      // nothing of what we dropped meanwhile: tell it again.
      this.reportedDropped = -1;
      this.sender.flush();
    }
  }

  /** A `signal` from the server. Only the DAW's, for the current attempt, is used. */
  handleSignal(from: string, data: unknown): void {
    const envelope = readEnvelope(data);
    if (from !== this.daw || envelope === null || envelope.c !== this.attemptId || isOffer(envelope.s)) return;
    this.channel?.signal(envelope.s);
  }

  /** A `relay` from the server: only the DAW's, and only its tempo and clock-sync messages, are for us. */
  handleRelay(from: string, data: unknown): void {
    const daw = this.daw;
    if (from !== daw) return;
    readRelay(data, {
      tempo: (tempo) => this.setTempo(tempo),
      ping: (t) => this.options.sendRelay({ q: [t, wallClock()] }),
      pong: (t, at) => {
        // Over an open channel its own pings are the better samples (no server in the way).
        if (!this.channel?.open) this.sync.sample(t, at, wallClock());
      },
    });
  }

  /** For good: the session ended (left, kicked, closed) or the page is going. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    clearInterval(this.reporter);
    this.dispatch({ type: 'stop' });
    this.sender.dispose();
  }

  private dispatch(event: LinkEvent): void {
    const before = this.transport;
    for (const effect of this.machine.dispatch(event)) this.run(effect);
    if (this.transport !== before) this.options.onChange();
  }

  private run(effect: LinkEffect): void {
    switch (effect.type) {
      case 'connect':
        return this.connect();
      case 'teardown':
        this.channel?.destroy();
        this.channel = null;
        this.attemptId = null;
        return;
      case 'arm':
        clearTimeout(this.timer);
        this.timer = setTimeout(() => this.dispatch({ type: 'timer' }), effect.ms);
        return;
      case 'disarm':
        clearTimeout(this.timer);
        return;
    }
  }

  private connect(): void {
    const daw = this.daw;
    if (daw === null || !this.hasWebrtc) return;
    const attemptId = nanoid(10);
    this.attemptId = attemptId;
    try {
      this.channel = (this.options.createChannel ?? createPeerChannel)({
        ...this.options.channel,
        initiator: true,
        iceServers: this.options.iceServers(),
        onSignal: (s) => this.options.sendSignal(daw, { c: attemptId, s }),
        onOpen: () => {
          // The DAW at the other end may be a new page (see DawPeers): sync afresh, and take its
          // tempo as it sends it on opening, whatever its version.
          this.sync.reset();
          this.dawTempo = null;
          this.sender.flush();
          this.dispatch({ type: 'open' });
        },
        onEnd: (why, detail) => {
          this.endReason = this.dawPresent ? (detail === undefined ? why : `${why}: ${detail}`) : DAW_WENT_AWAY;
          this.lastEndAt = Date.now();
          this.dispatch({ type: 'failed' });
        },
        onRtt: () => this.options.onChange(),
        onClockSample: (t0, at, t3) => this.sync.sample(t0, at, t3),
        onTiming: (report) => {
          this.timingReport = report;
          this.options.onChange();
        },
        onTempo: (tempo) => this.setTempo(tempo),
        dropped: () => this.sender.counts.dropped,
      });
    } catch (error) {
      // No WebRTC in this browser (or it is switched off): the relay is the way, for good.
      this.hasWebrtc = false;
      this.endReason = (error as Error).message;
      this.attemptId = null;
      queueMicrotask(() => this.dispatch({ type: 'failed' }));
    }
  }

  private setTempo(tempo: Tempo): void {
    const current = this.dawTempo;
    // Older than what we have: a late packet on the unordered channel (versions only grow).
    if (current !== null && tempo.version < current.version) return;
    if (
      current !== null &&
      current.version === tempo.version &&
      current.anchor === tempo.anchor &&
      current.bpm === tempo.bpm &&
      current.running === tempo.running &&
      current.beatsPerBar === tempo.beatsPerBar
    ) {
      return;
    }
    this.dawTempo = { ...tempo };
    this.options.onChange();
  }

  /**
   * Once a second without a channel: the dropped count, if it changed, and a clock-sync ping
   * through the relay (the DAW's answer pings us back, so both ends stay synced).
   */
  private report(): void {
    if (this.channel?.open || !this.socketUp || this.daw === null || !this.dawPresent) return;
    this.options.sendRelay({ p: wallClock() });
    const { dropped } = this.sender.counts;
    if (dropped !== this.reportedDropped && this.options.sendRelay({ d: dropped })) this.reportedDropped = dropped;
  }
}

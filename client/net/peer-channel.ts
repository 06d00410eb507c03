/**
 * One WebRTC connection between a controller and the DAW, carrying the peer wire (hits.ts)
 * on one unordered, no-retransmit data channel, made with simple-peer. Both ends ping each
 * other over it once a second (a quick burst first): the round trip is shown to the player,
 * each pong is a clock sample (clock-sync.ts), and a channel silent for SILENCE_MS is declared dead at once (ICE itself can take 30 s to notice a phone that
 * walked away, and every hit in between would vanish).
 *
 * The hit path bypasses simple-peer's stream: incoming messages are taken from
 * `_onChannelMessage` (an internal hook called for every message) and decoded in the same
 * task; outgoing ones go straight to the RTCDataChannel. Through the stream every hit
 * would be copied, queued and delivered a microtask later, and nothing would read the
 * stream, so it would buffer forever.
 *
 * A flood costs the receiver mostly in the browser, not in this code. With a controller
 * sending 1-byte packets as fast as its channel takes them, the DAW read up to 500,000 a
 * second, and honest hits waited behind them for up to a second. Chromium's sampling profiler
 * (`npx tsx bench/flood.ts --quick --profile`, unminified build, against a run without the
 * flood) put ~7 µs of the DAW's main thread on each message: ~5.5 in "(program)", the
 * browser's own work (a task, a MessageEvent and an ArrayBuffer per message, dispatch), and
 * ~1 in the page's JavaScript (the handler's entry with `event.data` ~0.45, `receive` and
 * decoding ~0.25, simple-peer's `onmessage` wrapper ~0.1, counting the rest). So no cheaper
 * handler could help: the owner's `onPacket` budget is checked first, before anything is
 * read, and a channel over it is closed at once (the connection too, not a task later as
 * simple-peer would), which is what stops the messages.
 */

import Peer from '@thaunknown/simple-peer/lite.js';
import type { IceServer } from '../../signal/protocol.ts';
import {
  type PacketError,
  type PacketVisitor,
  PacketWriter,
  readPacket,
  type Tempo,
  type TimingReport,
  wallClock,
} from './hits.ts';

export const PING_MS = 1_000;
/** Right after opening, this many pings SYNC_BURST_MS apart, so clock sync is ready in under a second. */
export const SYNC_BURST = 6;
export const SYNC_BURST_MS = 100;
export const SILENCE_MS = 3_500;
/** Past this much unsent data the channel is congested: a hit would be late, so the caller uses the relay. */
export const MAX_BUFFERED_BYTES = 16 * 1024;

/** Pad hits: late is as bad as lost, so never retransmit and never wait for order. */
export const HIT_CHANNEL: RTCDataChannelInit = { ordered: false, maxRetransmits: 0 };

export type ChannelEnd = 'closed' | 'error' | 'silent';

/** A channel silent longer than this (1.5 pings) may be dead: hits then also go through the relay. */
export const QUIET_MS = 1_500;

/** What the link layers need of a connection; PeerChannel is the real one, unit tests pass fakes. */
export interface HitChannel {
  readonly open: boolean;
  readonly rttMs: number | null;
  /** Open, and heard from within QUIET_MS: a hit sent now will very likely arrive. */
  readonly lively: boolean;
  signal(data: unknown): void;
  send(packet: Uint8Array): boolean;
  destroy(): void;
}
export type ChannelFactory = (options: PeerChannelOptions) => HitChannel;

export interface PeerChannelOptions {
  initiator: boolean;
  iceServers: IceServer[];
  onSignal(data: object): void;
  onOpen(): void;
  /** Called once when the channel is done for (never after `destroy()`). */
  onEnd(why: ChannelEnd, detail?: string): void;
  /** DAW side: each hit record, unvalidated for duplicates (the caller dedups). */
  onHit?: PacketVisitor['hit'];
  /** DAW side: the controller's count of hits it had to drop, from its pings. */
  onReport?(dropped: number): void;
  onBadPacket?(error: PacketError): void;
  /**
   * DAW side: called for every message first, before anything is read (it must not
   * allocate). False drops it: the owner found the channel over its budget and ended it.
   */
  onPacket?(): boolean;
  onRtt?(rttMs: number): void;
  /** A clock sample from one of our pings (clock-sync.ts): sent `t0`, their clock `at`, back `t3`. */
  onClockSample?(t0: number, at: number, t3: number): void;
  /** Controller side: what the DAW measured of us. */
  onTiming?(report: TimingReport): void;
  /** Controller side: the DAW's tempo. */
  onTempo?(tempo: Tempo): void;
  /** Controller side: the count to report in its pings. */
  dropped?(): number;
  pingMs?: number;
  silenceMs?: number;
  syncBurstMs?: number;
}

export const createPeerChannel: ChannelFactory = (options) => new PeerChannel(options);

/** The protocol's ICE server → the DOM's type (which has no room for an absent credential). */
export function toRtcIceServer({ urls, username, credential }: IceServer): RTCIceServer {
  const server: RTCIceServer = { urls };
  if (username !== undefined) server.username = username;
  if (credential !== undefined) server.credential = credential;
  return server;
}

// TypeScript `private`, not `#private`: built for the phones' floor (Safari 15.4) every `#` member
// becomes a WeakMap lookup on each use, and a tap comes through here (docs/architecture.md).
export class PeerChannel implements PacketVisitor, HitChannel {
  rttMs: number | null = null;
  private readonly peer: Peer;
  private readonly options: PeerChannelOptions;
  private readonly writer = new PacketWriter(0);
  private isOpen = false;
  private ended = false;
  private lastHeard = 0;
  private pinger: ReturnType<typeof setInterval> | undefined;
  private burst: ReturnType<typeof setTimeout> | undefined;

  /** Throws if this browser has no WebRTC (the caller then stays on the relay). */
  constructor(options: PeerChannelOptions) {
    this.options = options;
    const peer = new Peer({
      initiator: options.initiator,
      trickle: true,
      // Exactly what the server says: no default STUN servers out on the internet.
      config: { iceServers: options.iceServers.map(toRtcIceServer) },
      channelName: 'hits',
      channelConfig: HIT_CHANNEL,
    });
    this.peer = peer;
    peer._onChannelMessage = (event) => this.receive(event.data);
    peer.on('signal', (data) => {
      if (!this.ended) options.onSignal(data);
    });
    peer.on('connect', () => this.opened());
    peer.on('error', (error) => this.end('error', error.code ?? error.message));
    peer.on('close', () => this.end('closed'));
  }

  get open(): boolean {
    return this.isOpen;
  }

  get lively(): boolean {
    return this.isOpen && performance.now() - this.lastHeard <= QUIET_MS;
  }

  /** Signaling data from the other end. Garbage ends this connection, nothing more. */
  signal(data: unknown): void {
    if (this.ended) return;
    try {
      this.peer.signal(data);
    } catch (error) {
      this.end('error', (error as Error).message);
    }
  }

  /** The hot path: true if the packet went out now. */
  send(packet: Uint8Array): boolean {
    const channel = this.peer._channel;
    if (!this.isOpen || channel === null || channel.readyState !== 'open') return false;
    if (channel.bufferedAmount > MAX_BUFFERED_BYTES) return false;
    try {
      channel.send(packet as Uint8Array<ArrayBuffer>);
      return true;
    } catch {
      return false;
    }
  }

  /** Ends the connection without telling `onEnd` (the owner asked). */
  destroy(): void {
    if (this.ended) return;
    this.ended = true;
    this.close();
  }

  // PacketVisitor: what arrives on the channel.
  hit(epoch: number, seq: number, pad: number, velocity: number, sentAt: number): void {
    this.options.onHit?.(epoch, seq, pad, velocity, sentAt);
  }

  ping(t: number, dropped: number): void {
    this.send(this.writer.pong(t, wallClock()));
    this.options.onReport?.(dropped);
  }

  pong(t: number, at: number): void {
    const t3 = wallClock();
    const rtt = t3 - t;
    if (rtt < 0 || rtt > 60_000) return; // not an echo of ours
    this.rttMs = Math.round(rtt * 10) / 10;
    this.options.onClockSample?.(t, at, t3);
    this.options.onRtt?.(this.rttMs);
  }

  timing(report: TimingReport): void {
    this.options.onTiming?.(report);
  }

  tempo(tempo: Tempo): void {
    this.options.onTempo?.(tempo);
  }

  private receive(data: unknown): void {
    // simple-peer clears its handlers a tick after destroy(): nothing may arrive from a channel we ended.
    if (this.ended) return;
    // Every message counts against the budget, good or bad, before it is looked at.
    if (this.options.onPacket?.() === false) return;
    this.lastHeard = performance.now();
    if (!(data instanceof ArrayBuffer)) {
      this.options.onBadPacket?.('UNKNOWN_KIND');
      return;
    }
    const error = readPacket(data, this);
    if (error !== null) this.options.onBadPacket?.(error);
  }

  private opened(): void {
    if (this.ended || this.isOpen) return;
    this.isOpen = true;
    this.lastHeard = performance.now();
    const pingMs = this.options.pingMs ?? PING_MS;
    const silenceMs = this.options.silenceMs ?? SILENCE_MS;
    this.pinger = setInterval(() => {
      if (performance.now() - this.lastHeard > silenceMs) this.end('silent');
      else this.sendPing();
    }, pingMs);
    this.options.onOpen();
    this.sendPing();
    let burst = 1;
    const next = () => {
      if (!this.isOpen || burst++ >= SYNC_BURST) return;
      this.sendPing();
      this.burst = setTimeout(next, this.options.syncBurstMs ?? SYNC_BURST_MS);
    };
    this.burst = setTimeout(next, this.options.syncBurstMs ?? SYNC_BURST_MS);
  }

  private sendPing(): void {
    this.send(this.writer.ping(wallClock(), this.options.dropped?.() ?? 0));
  }

  private end(why: ChannelEnd, detail?: string): void {
    if (this.ended) return;
    this.ended = true;
    this.close();
    this.options.onEnd(why, detail);
  }

  private close(): void {
    this.isOpen = false;
    clearInterval(this.pinger);
    clearTimeout(this.burst);
    const peer = this.peer;
    const channel = peer._channel;
    const pc = peer._pc;
    peer.destroy();
    // simple-peer closes the channel and the connection a task later, and under a flood every
    // queued message is a task before that one: close them now, so no more messages come.
    if (channel) channel.onmessage = null;
    channel?.close();
    pc?.close();
  }
}

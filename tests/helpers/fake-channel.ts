/**
 * A stand-in for a WebRTC connection (PeerChannel), for unit tests of the link layers: the
 * test opens, ends and feeds it by hand. Real WebRTC between real browsers is covered by
 * tests/e2e/jam.test.ts; this makes every ordering of events reachable in milliseconds.
 */
import type { ChannelEnd, HitChannel, PeerChannelOptions } from '../../client/net/peer-channel.ts';

export class FakeChannel implements HitChannel {
  open = false;
  lively = false;
  rttMs: number | null = null;
  destroyed = false;
  readonly signals: unknown[] = [];
  readonly sent: Uint8Array[] = [];

  constructor(readonly options: PeerChannelOptions) {}

  signal(data: unknown): void {
    this.signals.push(data);
  }

  send(packet: Uint8Array): boolean {
    if (!this.open) return false;
    this.sent.push(packet.slice());
    return true;
  }

  destroy(): void {
    this.destroyed = true;
    this.open = false;
  }

  /** The connection opened (ICE, DTLS, SCTP done). */
  connect(): void {
    this.open = true;
    this.lively = true;
    this.options.onOpen();
  }

  /**
   * A message arrives, whatever it holds: as in PeerChannel, it passes the owner's packet
   * budget (`onPacket`) before anything is read. True if it would be read; a destroyed
   * channel takes nothing.
   */
  receive(): boolean {
    if (this.destroyed) return false;
    return this.options.onPacket?.() !== false;
  }

  /** The connection ended by itself. */
  end(why: ChannelEnd = 'closed', detail?: string): void {
    this.open = false;
    this.options.onEnd(why, detail);
  }
}

/** A factory that keeps every channel it made, newest last. */
export function fakeChannels(): { made: FakeChannel[]; create: (options: PeerChannelOptions) => FakeChannel } {
  const made: FakeChannel[] = [];
  return {
    made,
    create: (options) => {
      const channel = new FakeChannel(options);
      made.push(channel);
      return channel;
    },
  };
}

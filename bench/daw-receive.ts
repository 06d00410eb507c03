/**
 * The DAW's receiving side of a hit, for bench/phone-lowering.ts to build for the floor and for
 * ES2022: a P2P packet is read (hits.ts), deduped, rate-limited and timed (daw-peers.ts with its
 * seq-window.ts, clock-sync.ts, hit-timing.ts; steady mode, synced), then recorded (hit-recorder.ts)
 * as the DAW page does for each hit it plays. The channel is a stand-in: no WebRTC in Node.
 */
import { DawPeers } from '../client/net/daw-peers.ts';
import { PacketWriter, readPacket } from '../client/net/hits.ts';
import type { PeerChannelOptions } from '../client/net/peer-channel.ts';
import { HitRecorder } from '../client/state/hit-recorder.ts';

/** Receives `hits` taps `gapMs` apart, each packet carrying it and its repeats; returns ns per hit. */
export function receiveHits(hits: number, gapMs: number): number {
  let clock = 1e12;
  let options: PeerChannelOptions | undefined;
  const recorder = new HitRecorder(hits);
  const peers = new DawPeers({
    iceServers: () => [],
    sendSignal: () => {},
    onHit: (hit) => recorder.record(hit, clock / 1000),
    onChange: () => {},
    mode: () => 'steady',
    now: () => clock,
    reportMs: 3_600_000,
    createChannel: (channelOptions) => {
      options = channelOptions;
      return { open: true, rttMs: 2, lively: true, signal() {}, send: () => true, destroy() {} };
    },
  });
  peers.handleSignal('ana', { c: 'a1', s: { type: 'offer', sdp: 'v=0\r\n' } });
  if (!options) throw new Error('no channel made');
  const channel = options;
  channel.onOpen();
  for (let i = 0; i < 8; i++) {
    // Their clock and ours agree; each sample a 2 ms round trip.
    channel.onClockSample?.(clock, clock + 1, clock + 2);
    clock += 2;
  }
  const visitor = {
    hit: channel.onHit ?? (() => {}),
    ping() {},
    pong() {},
    timing() {},
    tempo() {},
  };
  const writer = new PacketWriter(7);
  const start = process.hrtime.bigint();
  for (let seq = 0; seq < hits; seq++) {
    clock += gapMs;
    // As the phone sends: this hit and the two before it, in one packet.
    const count = Math.min(3, seq + 1);
    for (let k = 0; k < count; k++) writer.record(k, seq - k, (seq - k) & 15, 100, clock - k * gapMs);
    const packet = writer.hits(count);
    if (channel.onPacket?.() !== false) readPacket(packet, visitor);
  }
  const ns = Number(process.hrtime.bigint() - start) / hits;
  if (recorder.count !== hits) throw new Error(`recorded ${recorder.count} of ${hits} hits`);
  peers.destroy();
  return ns;
}

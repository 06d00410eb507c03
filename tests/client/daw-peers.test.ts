import { describe, expect, it, vi } from 'vitest';
import { SYNC_MIN_SAMPLES } from '../../client/net/clock-sync.ts';
import {
  ATTEMPT_RATE,
  CHANNEL_PACKET_RATE,
  DAW_OPEN_TIMEOUT_MS,
  DawPeers,
  type DawPeersOptions,
  FLOOD_BLOCK,
  HIT_RATE,
  type HitEvent,
  MAX_SIGNALS_PER_ATTEMPT,
  type PeerStats,
  type PlayMode,
  RELAY_MESSAGE_RATE,
  RELAY_PING_RATE,
  REPORT_MS,
} from '../../client/net/daw-peers.ts';
import { STEADY_MARGIN_MS } from '../../client/net/hit-timing.ts';
import {
  type PacketVisitor,
  type RelayData,
  type RelayTempo,
  readPacket,
  relayHit,
  relayTempo,
  type Tempo,
  type TimingReport,
} from '../../client/net/hits.ts';
import { type FakeChannel, fakeChannels } from '../helpers/fake-channel.ts';
import { useFakeTimersEachTest } from '../helpers/fake-timers.ts';

const offer = (c: string) => ({ c, s: { type: 'offer', sdp: 'v=0\r\n' } });
const candidate = (c: string, n = 0) => ({ c, s: { candidate: `candidate:${n} 1 udp 1 127.0.0.1 9 typ host` } });

function rig(options: Partial<DawPeersOptions> = {}) {
  let clock = 0;
  const channels = fakeChannels();
  const played: [string, number, number, string][] = [];
  /** A copy of each HitEvent as onHit saw it (the object itself is reused). */
  const events: HitEvent[] = [];
  const signalsOut: [string, unknown][] = [];
  const peers = new DawPeers({
    iceServers: () => [{ urls: 'stun:127.0.0.1:3478' }],
    sendSignal: (to, data) => signalsOut.push([to, data]),
    onHit: (hit) => {
      played.push([hit.peerId, hit.pad, hit.velocity, hit.via]);
      events.push({ ...hit });
    },
    onChange: () => {},
    createChannel: channels.create,
    now: () => clock,
    ...options,
  });
  const advance = (ms: number) => {
    clock += ms;
    vi.advanceTimersByTime(ms);
  };
  const stats = (peerId: string) => peers.stats(peerId) as PeerStats;
  return { peers, channels: channels.made, played, events, signalsOut, advance, stats, now: () => clock };
}

useFakeTimersEachTest();

describe('DawPeers: connections', () => {
  it('answers an offer with a new connection, feeds it its signals, and uses the server’s ICE servers', () => {
    const { peers, channels, signalsOut, stats } = rig();
    peers.handleSignal('ana', offer('a1'));
    peers.handleSignal('ana', candidate('a1'));
    expect(channels).toHaveLength(1);
    const channel = channels[0];
    expect(channel?.options.initiator).toBe(false);
    expect(channel?.options.iceServers).toEqual([{ urls: 'stun:127.0.0.1:3478' }]);
    expect(channel?.signals).toEqual([offer('a1').s, candidate('a1').s]);
    channel?.options.onSignal({ type: 'answer', sdp: 'v=0' });
    expect(signalsOut).toEqual([['ana', { c: 'a1', s: { type: 'answer', sdp: 'v=0' } }]]);
    expect(stats('ana').transport).toBe('relay');
    channel?.connect();
    expect(stats('ana').transport).toBe('p2p');
  });

  it('replaces the connection on a new attempt and ignores signals of the old one', () => {
    const { peers, channels, advance } = rig();
    peers.handleSignal('ana', offer('a1'));
    advance(1000);
    peers.handleSignal('ana', offer('a2'));
    peers.handleSignal('ana', candidate('a1')); // late, from the replaced attempt
    expect(channels).toHaveLength(2);
    expect(channels[0]?.destroyed).toBe(true);
    expect(channels[1]?.signals).toEqual([offer('a2').s]);
  });

  it('ignores a candidate or answer for an attempt it never saw (normal after a reconnect)', () => {
    const { peers, channels, stats } = rig();
    peers.handleSignal('ana', candidate('zz'));
    peers.handleSignal('ana', { c: 'zz', s: { type: 'answer', sdp: 'v=0' } });
    expect(channels).toHaveLength(0);
    expect(stats('ana').bad).toBe(0);
  });

  it('does not take an "offer" without an SDP as a new connection', () => {
    const { peers, channels } = rig();
    peers.handleSignal('ana', { c: 'a1', s: { type: 'offer', candidate: 'x' } });
    expect(channels).toHaveLength(0);
  });

  it('counts and refuses envelopes that are not one', () => {
    const { peers, channels, stats } = rig();
    for (const bad of [null, 'offer', [1], { c: 'a b', s: {} }, { c: 'a1' }, { c: 'a1', s: [] }, { c: 5, s: {} }]) {
      peers.handleSignal('ana', bad);
    }
    expect(channels).toHaveLength(0);
    expect(stats('ana').bad).toBe(7);
  });

  it('limits new attempts per controller (each one is a new RTCPeerConnection)', () => {
    const { peers, channels, stats, advance } = rig();
    for (let i = 0; i < ATTEMPT_RATE.burst + 5; i++) peers.handleSignal('ana', offer(`a${i}`));
    expect(channels).toHaveLength(ATTEMPT_RATE.burst);
    expect(stats('ana').bad).toBe(5);
    advance(1000);
    peers.handleSignal('ana', offer('later'));
    expect(channels).toHaveLength(ATTEMPT_RATE.burst + 1);
  });

  it('ends an attempt that brings too many signals (a peer growing our memory)', () => {
    const { peers, channels, stats } = rig();
    peers.handleSignal('ana', offer('a1'));
    for (let i = 0; i < MAX_SIGNALS_PER_ATTEMPT + 10; i++) peers.handleSignal('ana', candidate('a1', i));
    const channel = channels[0];
    expect(channel?.destroyed).toBe(true);
    expect(channel?.signals.length).toBe(MAX_SIGNALS_PER_ATTEMPT);
    expect(stats('ana').bad).toBeGreaterThan(0);
  });

  it('gives up a connection that does not open in time, but keeps one that did', () => {
    const { peers, channels, advance } = rig();
    peers.handleSignal('ana', offer('a1'));
    peers.handleSignal('ben', offer('b1'));
    channels[1]?.connect();
    advance(DAW_OPEN_TIMEOUT_MS + 1);
    expect(channels[0]?.destroyed).toBe(true);
    expect(channels[1]?.destroyed).toBe(false);
  });

  it('falls back to relay when the channel ends, and forgets a controller that left', () => {
    const { peers, channels, stats } = rig();
    peers.handleSignal('ana', offer('a1'));
    channels[0]?.connect();
    channels[0]?.end('silent');
    expect(stats('ana').transport).toBe('relay');
    peers.remove('ana');
    expect(peers.stats('ana')).toBeUndefined();
  });

  it('keepOnly forgets absent controllers without an open channel, and keeps the rest', () => {
    const { peers, channels } = rig();
    peers.handleSignal('ana', offer('a1'));
    channels[0]?.connect();
    peers.handleSignal('ben', offer('b1'));
    peers.handleRelay('cleo', relayHit(1, 0, 0, 100, 0));
    expect(peers.keepOnly(new Set(['cleo']))).toEqual(['ben']);
    expect(peers.stats('ana')).toBeDefined(); // open channel: still playing, whatever the server says
    expect(peers.stats('ben')).toBeUndefined();
    expect(channels[1]?.destroyed).toBe(true);
    expect(peers.stats('cleo')).toBeDefined();
  });
});

describe('DawPeers: hits', () => {
  it('plays each hit once, whichever way it came, and counts duplicates', () => {
    const { peers, channels, played, stats } = rig();
    peers.handleSignal('ana', offer('a1'));
    channels[0]?.connect();
    const onHit = channels[0]?.options.onHit;
    onHit?.(7, 0, 3, 100, 0);
    peers.handleRelay('ana', relayHit(7, 0, 3, 100, 0)); // the same hit through the relay (a quiet channel)
    peers.handleRelay('ana', relayHit(7, 1, 4, 90, 0));
    onHit?.(7, 1, 4, 90, 0);
    expect(played).toEqual([
      ['ana', 3, 100, 'p2p'],
      ['ana', 4, 90, 'relay'],
    ]);
    expect(stats('ana')).toMatchObject({ hits: 2, duplicates: 2, lost: 0 });
  });

  it('counts hits that gave way on a pad booked full as not played, for known controllers only', () => {
    const { peers, channels, stats } = rig();
    peers.handleSignal('ana', offer('a1'));
    channels[0]?.connect();
    channels[0]?.options.onHit?.(7, 0, 3, 100, 0);
    channels[0]?.options.onHit?.(7, 1, 3, 100, 0);
    peers.countOverbooked('ana'); // one of them, booked ahead, was cancelled to make room
    expect(stats('ana')).toMatchObject({ hits: 1, overbooked: 1 });
    peers.countOverbooked('nobody');
    expect(peers.stats('nobody')).toBeUndefined();
  });

  it('keeps controllers apart: the same seq from two phones is two hits', () => {
    const { peers, played } = rig();
    peers.handleRelay('ana', relayHit(1, 0, 0, 100, 0));
    peers.handleRelay('ben', relayHit(1, 0, 0, 100, 0));
    expect(played.map(([peer]) => peer)).toEqual(['ana', 'ben']);
  });

  it('refuses bad relayed data without playing or throwing', () => {
    const { peers, played, stats } = rig();
    for (const bad of [null, 42, { h: [1, 2, 3] }, { h: [1, 0, 99, 100, 0] }, { d: -1 }, { x: 1 }]) {
      peers.handleRelay('ana', bad);
    }
    expect(played).toEqual([]);
    expect(stats('ana').bad).toBe(6);
  });

  it('takes the dropped count from relayed reports and channel pings', () => {
    const { peers, channels, stats } = rig();
    peers.handleRelay('ana', { d: 3 });
    expect(stats('ana').dropped).toBe(3);
    peers.handleSignal('ana', offer('a1'));
    channels[0]?.options.onReport?.(5);
    expect(stats('ana').dropped).toBe(5);
  });

  it('plays at most HIT_RATE hits a second per controller; the rest are counted, not played', () => {
    const { peers, played, stats, advance } = rig();
    const flood = HIT_RATE.burst + 50;
    for (let seq = 0; seq < flood; seq++) peers.handleRelay('ana', relayHit(1, seq, 0, 100, 0));
    expect(played).toHaveLength(HIT_RATE.burst);
    expect(stats('ana').limited).toBe(50);
    advance(1000);
    peers.handleRelay('ana', relayHit(1, flood, 0, 100, 0));
    expect(played).toHaveLength(HIT_RATE.burst + 1);
  });
});

/** What a controller got on its channel: the TIMING and TEMPO packets, decoded. */
function received(channel: FakeChannel | undefined): { timing: TimingReport[]; tempo: Tempo[]; other: number } {
  const out = { timing: [] as TimingReport[], tempo: [] as Tempo[], other: 0 };
  const visitor: PacketVisitor = {
    hit: () => out.other++,
    ping: () => out.other++,
    pong: () => out.other++,
    timing: (report) => out.timing.push(report),
    tempo: (tempo) => out.tempo.push(tempo),
  };
  for (const packet of channel?.sent ?? []) expect(readPacket(packet, visitor)).toBeNull();
  return out;
}

/** The controller's clock runs this far ahead of the DAW's. */
const SKEW_MS = 7_300.25;

/** A DAW with one controller, ana, on an open channel; `sync()` gives it clean clock samples (rtt 2 ms). */
function timingRig(options: Partial<DawPeersOptions> = {}) {
  const r = rig(options);
  r.peers.handleSignal('ana', offer('a1'));
  const channel = r.channels[0];
  channel?.connect();
  const sync = (count = SYNC_MIN_SAMPLES) => {
    for (let i = 0; i < count; i++) {
      r.advance(100);
      const t3 = r.now();
      channel?.options.onClockSample?.(t3 - 2, t3 - 1 + SKEW_MS, t3);
    }
  };
  /** A P2P hit tapped `transit` ms ago (DAW clock), stamped with the controller's clock. */
  let seq = 0;
  const tap = (transit: number, pad = 1) => channel?.options.onHit?.(9, seq++, pad, 100, r.now() - transit + SKEW_MS);
  return { ...r, channel, sync, tap };
}

describe('DawPeers: clock and timing', () => {
  it('takes the controller’s clock offset from its channel’s clock samples, and its uncertainty', () => {
    const { sync, stats, advance } = timingRig();
    sync(SYNC_MIN_SAMPLES - 1);
    expect(stats('ana').offsetMs).toBeNull();
    sync(1);
    expect(stats('ana').offsetMs).toBeCloseTo(SKEW_MS, 9);
    expect(stats('ana').driftPpm).toBe(0);
    advance(REPORT_MS);
    expect(stats('ana').clockErrorMs).toBe(1); // half the best round trip (2 ms)
  });

  it('ignores clock samples that cannot be true', () => {
    const { channel, stats, now } = timingRig();
    for (let i = 0; i < 10; i++) channel?.options.onClockSample?.(now() + 5, now() + SKEW_MS, now()); // negative rtt
    expect(stats('ana').offsetMs).toBeNull();
  });

  it('puts a skewed controller’s tap time into the DAW’s clock: tapAt and delayMs are true', () => {
    const { sync, tap, events, stats, advance, now } = timingRig();
    tap(12);
    // Not synced yet: the delay is where the two clocks agree, so 7.3 s off here.
    expect(events[0]?.tapAt).toBeNaN();
    expect(events[0]?.delayMs).toBeCloseTo(12 - SKEW_MS, 9);
    sync();
    advance(50);
    tap(12);
    expect(events[1]?.arrivedAt).toBe(now());
    expect(events[1]?.tapAt).toBeCloseTo(now() - 12, 9);
    expect(events[1]?.sentAt).toBeCloseTo(now() - 12 + SKEW_MS, 9);
    expect(events[1]?.delayMs).toBeCloseTo(12, 9);
    expect(stats('ana').lastDelayMs).toBeCloseTo(12, 9);
  });

  it('syncs afresh when the controller opens a new channel (a reloaded page, or another device)', () => {
    const { peers, channels, sync, tap, events } = timingRig();
    sync();
    tap(5);
    expect(events.at(-1)?.tapAt).not.toBeNaN();
    peers.handleSignal('ana', offer('a2'));
    channels.at(-1)?.connect();
    tap(5);
    expect(events.at(-1)?.tapAt).toBeNaN();
  });

  it('times a new channel’s hits on their own: transits measured against the old clock are forgotten', () => {
    const { peers, channels, sync, tap, advance, stats, now } = timingRig();
    sync();
    for (let i = 0; i < 5; i++) tap(5);
    advance(REPORT_MS);
    expect(stats('ana').oneWayMs).toBeCloseTo(5, 6);
    // Another device under ana's peerId: its clock is 3 s behind the old one's.
    peers.handleSignal('ana', offer('a2'));
    const channel = channels.at(-1);
    channel?.connect();
    const otherSkew = SKEW_MS - 3_000;
    for (let i = 0; i < SYNC_MIN_SAMPLES; i++) {
      advance(100);
      channel?.options.onClockSample?.(now() - 2, now() - 1 + otherSkew, now());
    }
    for (let seq = 0; seq < 3; seq++) channel?.options.onHit?.(4, seq, 1, 100, now() - 20 + otherSkew);
    advance(REPORT_MS);
    expect(stats('ana').oneWayMs).toBeCloseTo(20, 6);
  });

  it('does not time a hit that came in a later packet’s repeat (it shows loss, not delay), nor report copies before the sound', () => {
    let changes = 0;
    const { sync, channel, advance, now, stats } = timingRig({ onChange: () => changes++ });
    sync();
    const send = (seq: number, transit: number) => channel?.options.onHit?.(9, seq, 1, 100, now() - transit + SKEW_MS);
    for (let seq = 0; seq < 10; seq++) {
      advance(20);
      send(seq, 4);
    }
    advance(20);
    send(11, 4); // seq 10 lost on its own…
    advance(20);
    send(10, 24); // …and here in the next packet's repeat, 20 ms later than its own packet would have been
    const before = changes;
    send(11, 4); // a copy: counted, not reported before its new hit
    expect(changes).toBe(before);
    expect(stats('ana').duplicates).toBe(1);
    advance(REPORT_MS);
    expect(stats('ana').oneWayMs).toBeCloseTo(4, 6);
    expect(stats('ana').jitterMs).toBeCloseTo(0, 6);
  });

  it('hands onHit one reused object (the hit path allocates nothing)', () => {
    const seen: Readonly<HitEvent>[] = [];
    const { tap } = timingRig({ onHit: (hit) => seen.push(hit) });
    tap(5, 1);
    tap(5, 2);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(seen[1]);
    expect(seen[1]?.pad).toBe(2);
  });

  it('instant mode: plays every hit now (playAt NaN), never late, even when synced', () => {
    const { sync, tap, events, stats, advance } = timingRig({ mode: () => 'instant' });
    sync();
    for (let i = 0; i < 20; i++) {
      advance(100);
      tap(i % 2 === 0 ? 5 : 60);
    }
    expect(events.every((e) => Number.isNaN(e.playAt) && !e.late)).toBe(true);
    expect(stats('ana').late).toBe(0);
  });

  it('steady mode: plays at tap time + the steady delay, and a later hit now, counted late', () => {
    let mode: PlayMode = 'steady';
    const { sync, tap, events, stats, advance } = timingRig({ mode: () => mode });
    tap(10); // unsynced: no tap time in our clock, so now
    expect(events[0]).toMatchObject({ playAt: Number.NaN, late: false });
    sync();
    advance(100);
    tap(10); // the first timed hit: nothing to go by yet, so now, and not late
    expect(events[1]).toMatchObject({ playAt: Number.NaN, late: false });
    for (let i = 0; i < 10; i++) {
      advance(100);
      tap(10);
    }
    const onTime = events.slice(3);
    expect(onTime.length).toBe(9);
    for (const e of onTime) expect(e.playAt).toBeCloseTo(e.tapAt + 10 + STEADY_MARGIN_MS, 9); // 98th percentile 10 + the margin
    expect(onTime.every((e) => !e.late)).toBe(true);
    advance(100);
    tap(25); // held up on the way: past tapAt + 10 + the margin already
    expect(events.at(-1)).toMatchObject({ playAt: Number.NaN, late: true });
    expect(stats('ana').late).toBe(1);
    advance(REPORT_MS);
    expect(stats('ana').steadyDelayMs).toBe(10 + STEADY_MARGIN_MS);
    // Back to instant: no plan, whatever the timing says.
    mode = 'instant';
    tap(10);
    expect(events.at(-1)).toMatchObject({ playAt: Number.NaN, late: false });
  });

  it('steady mode plays relayed hits on the same plan, but times only the direct path', () => {
    const { sync, tap, events, stats, advance, peers, now } = timingRig({ mode: () => 'steady' });
    sync();
    for (let i = 0; i < 10; i++) {
      advance(100);
      tap(8);
    }
    advance(100);
    peers.handleRelay('ana', relayHit(9, 1000, 2, 100, now() - 40 + SKEW_MS)); // a relayed hit, 40 ms late
    expect(events.at(-1)).toMatchObject({ via: 'relay', playAt: Number.NaN, late: true });
    advance(100);
    peers.handleRelay('ana', relayHit(9, 1001, 2, 100, now() - 3 + SKEW_MS));
    expect(events.at(-1)?.playAt).toBeCloseTo((events.at(-1)?.tapAt ?? 0) + 8 + STEADY_MARGIN_MS, 9);
    advance(REPORT_MS);
    expect(stats('ana').oneWayMs).toBeCloseTo(8, 9); // the relayed 40 and 3 are not in it
    expect(stats('ana').jitterMs).toBeCloseTo(0, 9);
  });

  it(`reports what it measured to the controller every ${REPORT_MS} ms over its open channel`, () => {
    const { sync, tap, channel, advance, stats, peers } = timingRig({
      mode: () => 'steady',
      outputLatencyMs: () => 23.5,
    });
    advance(REPORT_MS - 1);
    expect(received(channel).timing).toEqual([]); // not yet
    advance(1);
    expect(received(channel).timing).toEqual([
      {
        synced: false,
        steady: true,
        late: 0,
        offsetMs: 0,
        oneWayMs: 0,
        jitterMs: 0,
        steadyDelayMs: 0,
        outputLatencyMs: 23.5,
      },
    ]);
    sync();
    for (let i = 0; i < 12; i++) {
      advance(50);
      tap(i % 2 === 0 ? 4 : 6);
    }
    peers.countLate('ana'); // the engine found the audio clock past one of them
    channel?.sent.splice(0);
    advance(REPORT_MS);
    const [report, ...more] = received(channel).timing;
    expect(more).toEqual([]);
    expect(report?.synced).toBe(true);
    expect(report?.steady).toBe(true);
    expect(report?.offsetMs).toBeCloseTo(SKEW_MS, 6);
    expect(report?.oneWayMs).toBeCloseTo(4, 5); // median of 4s and 6s: the lower middle
    expect(report?.jitterMs).toBeGreaterThan(0);
    expect(report?.jitterMs).toBeLessThan(2);
    expect(report?.steadyDelayMs).toBe(6 + STEADY_MARGIN_MS);
    expect(report?.late).toBe(stats('ana').late);
    expect(report?.late).toBeGreaterThanOrEqual(1);
    expect(report?.outputLatencyMs).toBe(23.5);
    advance(REPORT_MS * 3);
    expect(received(channel).timing).toHaveLength(4);
  });

  it('reports half the best round trip as the one-way delay before any hit, and no steady delay in instant mode', () => {
    const { sync, channel, advance } = timingRig();
    sync();
    channel?.sent.splice(0);
    advance(REPORT_MS);
    expect(received(channel).timing[0]).toMatchObject({ synced: true, steady: false, oneWayMs: 1, steadyDelayMs: 0 });
  });

  it('sends no report on a channel that is not open', () => {
    const { peers, channels, advance } = rig();
    peers.handleSignal('ana', offer('a1'));
    advance(REPORT_MS * 2);
    expect(channels[0]?.sent).toEqual([]);
  });

  it('counts late hits the engine reports, for known controllers only', () => {
    const { peers, stats } = timingRig();
    peers.countLate('ana');
    peers.countLate('ana');
    expect(stats('ana').late).toBe(2);
    peers.countLate('nobody');
    expect(peers.stats('nobody')).toBeUndefined();
  });
});

describe('DawPeers: tempo', () => {
  const beat: Tempo = { version: 12, bpm: 96, beatsPerBar: 3, running: true, anchor: 5_000.5 };

  function tempoRig() {
    let tempo: Tempo | null = beat;
    const relayed: [string, RelayData | RelayTempo][] = [];
    const r = rig({
      tempo: () => tempo,
      sendRelay: (to, data) => relayed.push([to, data]) > 0,
    });
    return {
      ...r,
      relayed,
      setTempo: (next: Tempo | null) => {
        tempo = next;
      },
    };
  }

  it('sends the tempo when a channel opens, when it changes, and again with every report', () => {
    const { peers, channels, advance, setTempo, relayed } = tempoRig();
    peers.handleSignal('ana', offer('a1'));
    expect(received(channels[0]).tempo).toEqual([]);
    channels[0]?.connect();
    expect(received(channels[0]).tempo).toEqual([beat]);
    const faster = { ...beat, version: 13, bpm: 140 };
    setTempo(faster);
    peers.sendTempo();
    expect(received(channels[0]).tempo).toEqual([beat, faster]);
    advance(REPORT_MS);
    expect(received(channels[0]).tempo).toEqual([beat, faster, faster]);
    expect(relayed).toEqual([]); // the channel carried it all
  });

  it('sends it through the relay to a controller without a channel, and to one that just joined', () => {
    const { peers, channels, relayed, advance } = tempoRig();
    peers.greet('ben');
    expect(relayed).toEqual([['ben', relayTempo(beat)]]);
    peers.handleSignal('cleo', offer('c1')); // a channel on its way, not open yet
    peers.sendTempo();
    expect(relayed).toEqual([
      ['ben', relayTempo(beat)],
      ['ben', relayTempo(beat)],
      ['cleo', relayTempo(beat)],
    ]);
    advance(REPORT_MS * 3);
    expect(relayed).toHaveLength(3); // the relay is reliable: not repeated every second
    expect(channels[0]?.sent).toEqual([]);
  });

  it('sends nothing while there is no tempo yet, and nothing anywhere without a sendRelay', () => {
    const { peers, channels, relayed, setTempo } = tempoRig();
    setTempo(null);
    peers.greet('ben');
    peers.handleSignal('ana', offer('a1'));
    channels[0]?.connect();
    peers.sendTempo();
    expect(relayed).toEqual([]);
    expect(received(channels[0]).tempo).toEqual([]);
    const bare = rig({ tempo: () => beat });
    expect(() => bare.peers.greet('ben')).not.toThrow();
  });
});

describe('DawPeers: clock sync through the relay (a controller without a channel)', () => {
  function relayRig(mode: PlayMode = 'instant') {
    const sent: [string, unknown][] = [];
    const r = rig({ sendRelay: (to, data) => sent.push([to, data]) > 0, mode: () => mode });
    /** The controller's side of one exchange: it pings (its clock), we answer and ping back, it answers. */
    const exchange = (rttMs = 4) => {
      const t = r.now() + SKEW_MS;
      r.advance(rttMs / 2);
      r.peers.handleRelay('ana', { p: t });
      const [to, answer] = sent.at(-1) ?? [];
      expect(to).toBe('ana');
      const { q, p } = answer as { q: [number, number]; p: number };
      expect(q).toEqual([t, r.now()]);
      expect(p).toBe(r.now());
      r.advance(rttMs / 2);
      const at = r.now() + SKEW_MS; // it answers the moment our ping arrives, in its clock
      r.advance(rttMs / 2);
      r.peers.handleRelay('ana', { q: [p, at] });
      r.advance(1_000);
    };
    let seq = 0;
    const relayTap = (transit: number) =>
      r.peers.handleRelay('ana', relayHit(9, seq++, 3, 100, r.now() - transit + SKEW_MS));
    return { ...r, sent, exchange, relayTap };
  }

  it('answers a controller’s relayed ping with a pong that pings it back, and syncs from its answers', () => {
    const { exchange, stats } = relayRig();
    for (let i = 0; i < SYNC_MIN_SAMPLES - 1; i++) exchange();
    expect(stats('ana').offsetMs).toBeNull();
    exchange();
    // A symmetric path: the offset is exact.
    expect(stats('ana').offsetMs).toBeCloseTo(SKEW_MS, 6);
    expect(stats('ana').bad).toBe(0);
  });

  it('answers at most a few relayed pings a second: a flood of them must not flood the DAW’s own socket', () => {
    const { peers, sent, stats } = relayRig();
    for (let i = 0; i < 100; i++) peers.handleRelay('ana', { p: i });
    expect(sent.length).toBe(RELAY_PING_RATE.burst);
    expect(stats('ana').limited).toBe(100 - RELAY_PING_RATE.burst);
  });

  it('times a relay-only controller by its relay transits, so steady mode works for it too', () => {
    const { exchange, relayTap, events, advance, stats } = relayRig('steady');
    for (let i = 0; i < SYNC_MIN_SAMPLES; i++) exchange();
    relayTap(6); // the first is timed, not planned
    expect(events.at(-1)?.delayMs).toBeCloseTo(6, 6);
    for (let i = 0; i < 5; i++) {
      advance(100);
      relayTap(6);
    }
    const last = events.at(-1);
    expect(last?.via).toBe('relay');
    expect(last?.playAt).toBeCloseTo((last?.tapAt ?? 0) + 6 + STEADY_MARGIN_MS, 6);
    advance(REPORT_MS);
    expect(stats('ana').oneWayMs).toBeCloseTo(6, 6);
  });
});

describe('DawPeers: floods (a hostile controller must not freeze the DAW)', () => {
  /** ana on an open channel; `flood()` sends messages on it until the DAW stops taking them. */
  function floodRig(options: Partial<DawPeersOptions> = {}) {
    const changes: string[] = [];
    const r = rig({ onChange: (peerId) => changes.push(peerId), ...options });
    let attempt = 0;
    const connect = () => {
      r.peers.handleSignal('ana', offer(`a${++attempt}`));
      const channel = r.channels.at(-1);
      channel?.connect();
      return channel;
    };
    /** Messages as fast as they come (no time passes): how many were taken before the channel was closed. */
    const flood = (channel: FakeChannel | undefined, max = CHANNEL_PACKET_RATE.burst * 10) => {
      let taken = 0;
      for (let i = 0; i < max && channel?.receive(); i++) taken++;
      return taken;
    };
    return { ...r, changes, connect, flood };
  }

  it('closes a channel that brings more messages than CHANNEL_PACKET_RATE allows, at once, and drops the one over', () => {
    const { connect, flood, stats, now, changes } = floodRig();
    const channel = connect();
    expect(channel?.destroyed).toBe(false);
    changes.length = 0;
    expect(flood(channel)).toBe(CHANNEL_PACKET_RATE.burst);
    expect(channel?.destroyed).toBe(true);
    expect(channel?.receive()).toBe(false); // nothing more is read from it
    expect(stats('ana')).toMatchObject({
      transport: 'relay',
      floods: 1,
      channelBlockedUntil: now() + FLOOD_BLOCK.firstMs,
      relayBlockedUntil: null,
    });
    expect(changes).toContain('ana'); // the row shows it now
  });

  it('lets an honest controller through: HIT_RATE packets a second with its pings for 10 s, and a pile-up of 750', () => {
    const { connect, stats, advance } = floodRig();
    const channel = connect();
    for (let ms = 0; ms < 10_000; ms += 4) {
      advance(4); // one packet per hit at HIT_RATE
      expect(channel?.receive()).toBe(true);
      if (ms % 1000 === 0) expect(channel?.receive() && channel?.receive()).toBe(true); // its ping, and its pong to ours
    }
    // A link that stalled lets a phone's queue of 16 KiB (~750 small packets) arrive at once.
    for (let i = 0; i < 750; i++) expect(channel?.receive()).toBe(true);
    expect(channel?.destroyed).toBe(false);
    expect(stats('ana')).toMatchObject({ transport: 'p2p', floods: 0, channelBlockedUntil: null });
  });

  it('refuses the flooding controller’s offers for FLOOD_BLOCK.firstMs, counted, then answers again with a fresh budget', () => {
    const { peers, connect, flood, channels, stats, advance, signalsOut, changes } = floodRig();
    flood(connect());
    const made = channels.length;
    signalsOut.length = 0;
    for (let i = 0; i < 5; i++) {
      advance(1000);
      peers.handleSignal('ana', offer(`again${i}`));
      peers.handleSignal('ana', candidate(`again${i}`));
    }
    expect(channels).toHaveLength(made); // no new connection…
    expect(signalsOut).toEqual([]); // …and no answer
    expect(stats('ana')).toMatchObject({ refusedOffers: 5, bad: 0 });
    changes.length = 0;
    advance(FLOOD_BLOCK.firstMs - 5000);
    expect(stats('ana').channelBlockedUntil).toBeNull(); // the row is told the block is over
    expect(changes).toContain('ana');
    const channel = connect();
    expect(channels).toHaveLength(made + 1);
    expect(stats('ana').transport).toBe('p2p');
    expect(flood(channel)).toBe(CHANNEL_PACKET_RATE.burst); // a new channel, a full budget
  });

  it('blocks longer each time the controller floods again, up to FLOOD_BLOCK.maxMs', () => {
    const { connect, flood, stats, advance, now } = floodRig();
    const blocks: number[] = [];
    for (let i = 0; i < 8; i++) {
      flood(connect());
      const until = stats('ana').channelBlockedUntil ?? Number.NaN;
      blocks.push(until - now());
      advance(until - now());
    }
    const first = FLOOD_BLOCK.firstMs;
    const expected = [1, 2, 4, 8, 16, 32, 64, 128].map((k) => Math.min(FLOOD_BLOCK.maxMs, first * k));
    expect(blocks).toEqual(expected);
    expect(blocks.at(-1)).toBe(FLOOD_BLOCK.maxMs);
    expect(stats('ana').floods).toBe(8);
  });

  it('keeps playing the blocked controller’s hits through the relay', () => {
    const { peers, connect, flood, played, stats } = floodRig();
    flood(connect());
    peers.handleRelay('ana', relayHit(3, 0, 5, 100, 0));
    expect(played).toEqual([['ana', 5, 100, 'relay']]);
    expect(stats('ana').hits).toBe(1);
  });

  it('ignores a controller’s relayed messages past RELAY_MESSAGE_RATE, bad ones counting too, for FLOOD_BLOCK.firstMs', () => {
    const sent: unknown[] = [];
    const { peers, played, stats, advance, now, connect } = floodRig({ sendRelay: (_, data) => sent.push(data) > 0 });
    const channel = connect();
    // Every kind counts: hits, dropped counts, pings, answers, and junk.
    const kinds = (i: number) => [relayHit(3, i, 1, 100, 0), { d: i }, { p: i }, { q: [i, i] }, { junk: i }][i % 5];
    for (let i = 0; i < RELAY_MESSAGE_RATE.burst; i++) peers.handleRelay('ana', kinds(i));
    expect(stats('ana')).toMatchObject({ floods: 0, ignored: 0 });
    const hits = played.length;
    expect(hits).toBe(RELAY_MESSAGE_RATE.burst / 5);
    peers.handleRelay('ana', relayHit(3, 10_000, 1, 100, 0));
    expect(stats('ana')).toMatchObject({ floods: 1, ignored: 1, relayBlockedUntil: now() + FLOOD_BLOCK.firstMs });
    advance(1000);
    const answers = sent.length;
    for (let i = 0; i < 20; i++) peers.handleRelay('ana', kinds(10_001 + i));
    expect(played).toHaveLength(hits); // none of them played…
    expect(sent).toHaveLength(answers); // …nor answered
    expect(stats('ana').ignored).toBe(21);
    // Its channel is another path: it still plays.
    channel?.options.onHit?.(3, 20_000, 2, 90, 0);
    expect(played.at(-1)).toEqual(['ana', 2, 90, 'p2p']);
    advance(FLOOD_BLOCK.firstMs);
    expect(stats('ana').relayBlockedUntil).toBeNull();
    peers.handleRelay('ana', relayHit(3, 20_001, 1, 100, 0));
    expect(played.at(-1)).toEqual(['ana', 1, 100, 'relay']);
    // Flooding it again blocks it for twice as long.
    for (let i = 0; i <= RELAY_MESSAGE_RATE.burst; i++) peers.handleRelay('ana', { junk: i });
    expect(stats('ana')).toMatchObject({ floods: 2, relayBlockedUntil: now() + 2 * FLOOD_BLOCK.firstMs });
  });

  it('lets an honest relay through: a hit every 4 ms with its pings for 10 s', () => {
    const { peers, played, stats, advance } = floodRig({ sendRelay: () => true });
    let seq = 0;
    for (let ms = 0; ms < 10_000; ms += 4) {
      advance(4);
      peers.handleRelay('ana', relayHit(3, seq++, 1, 100, 0));
      if (ms % 1000 === 0) {
        peers.handleRelay('ana', { p: ms });
        peers.handleRelay('ana', { q: [ms, ms] });
        peers.handleRelay('ana', { d: ms / 1000 });
      }
    }
    expect(stats('ana')).toMatchObject({ floods: 0, ignored: 0, limited: 0 });
    expect(played).toHaveLength(seq);
  });

  it('forgets a controller’s block timer when it leaves, and every timer when the DAW ends', () => {
    const { peers, connect, flood } = floodRig();
    flood(connect());
    peers.handleSignal('ben', offer('b1'));
    peers.remove('ana');
    peers.destroy();
    expect(vi.getTimerCount()).toBe(0);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ATTEMPT_RATE,
  DAW_OPEN_TIMEOUT_MS,
  DawPeers,
  HIT_RATE,
  MAX_SIGNALS_PER_ATTEMPT,
  type PeerStats,
} from '../../client/net/daw-peers.ts';
import { relayHit } from '../../client/net/hits.ts';
import { fakeChannels } from '../helpers/fake-channel.ts';

const offer = (c: string) => ({ c, s: { type: 'offer', sdp: 'v=0\r\n' } });
const candidate = (c: string, n = 0) => ({ c, s: { candidate: `candidate:${n} 1 udp 1 127.0.0.1 9 typ host` } });

function rig() {
  let clock = 0;
  const channels = fakeChannels();
  const played: [string, number, number, string][] = [];
  const signalsOut: [string, unknown][] = [];
  const peers = new DawPeers({
    iceServers: () => [{ urls: 'stun:127.0.0.1:3478' }],
    sendSignal: (to, data) => signalsOut.push([to, data]),
    onHit: (peerId, pad, velocity, _delayMs, via) => played.push([peerId, pad, velocity, via]),
    onChange: () => {},
    createChannel: channels.create,
    now: () => clock,
  });
  const advance = (ms: number) => {
    clock += ms;
    vi.advanceTimersByTime(ms);
  };
  const stats = (peerId: string) => peers.stats(peerId) as PeerStats;
  return { peers, channels: channels.made, played, signalsOut, advance, stats };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

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

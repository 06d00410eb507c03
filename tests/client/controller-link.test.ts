import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ControllerLink } from '../../client/net/controller-link.ts';
import { type PacketVisitor, type RelayData, readPacket } from '../../client/net/hits.ts';
import type { SignalEnvelope } from '../../client/net/signal-envelope.ts';
import { fakeChannels } from '../helpers/fake-channel.ts';

const timing = { openTimeoutMs: 3000, retryBaseMs: 1000, retryMaxMs: 8000, random: () => 0.5 };

function rig(options: { socketUp?: boolean; relayWorks?: boolean } = {}) {
  const channels = fakeChannels();
  const signals: [string, SignalEnvelope][] = [];
  const relayed: RelayData[] = [];
  let relayWorks = options.relayWorks ?? true;
  let changes = 0;
  const link = new ControllerLink({
    iceServers: () => [{ urls: 'stun:10.0.0.1:3478' }],
    sendSignal: (to, data) => signals.push([to, data]),
    sendRelay: (data) => {
      if (!relayWorks) return false;
      relayed.push(data);
      return true;
    },
    onChange: () => changes++,
    timing,
    createChannel: channels.create,
    reportMs: 1000,
    epoch: 42,
  });
  if (options.socketUp ?? true) link.setSocket(true);
  return {
    link,
    channels: channels.made,
    signals,
    relayed,
    setRelay: (works: boolean) => {
      relayWorks = works;
    },
    changes: () => changes,
  };
}

/** The new hit of each packet a channel sent (its last record; earlier ones are repeats): [seq, pad, velocity]. */
function hitsIn(packets: Uint8Array[]): [number, number, number][] {
  const hits: [number, number, number][] = [];
  for (const packet of packets) {
    let last: [number, number, number] | undefined;
    const visitor: PacketVisitor = {
      hit: (_epoch, seq, pad, velocity) => {
        last = [seq, pad, velocity];
      },
      ping: () => {},
      pong: () => {},
    };
    readPacket(packet.slice().buffer, visitor);
    if (last) hits.push(last);
  }
  return hits;
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ControllerLink', () => {
  it('offers to the DAW once it is present, tagging its signals with the attempt', () => {
    const { link, channels, signals } = rig();
    link.setDaw('daw-1', false);
    expect(channels).toHaveLength(0);
    link.setDaw('daw-1', true);
    expect(channels).toHaveLength(1);
    const channel = channels[0];
    expect(channel?.options.initiator).toBe(true);
    expect(channel?.options.iceServers).toEqual([{ urls: 'stun:10.0.0.1:3478' }]);
    channel?.options.onSignal({ type: 'offer', sdp: 'v=0' });
    const [to, envelope] = signals[0] ?? [];
    expect(to).toBe('daw-1');
    expect(envelope?.s).toEqual({ type: 'offer', sdp: 'v=0' });
    expect(envelope?.c).toMatch(/^[\w-]{1,32}$/);
    expect(link.transport).toBe('connecting');
  });

  it('feeds the channel only the DAW’s signals for the current attempt', () => {
    const { link, channels, signals } = rig();
    link.setDaw('daw-1', true);
    channels[0]?.options.onSignal({ type: 'offer', sdp: 'v=0' });
    const attempt = signals[0]?.[1].c ?? '';
    link.handleSignal('daw-1', { c: attempt, s: { type: 'answer', sdp: 'v=0' } });
    link.handleSignal('daw-1', { c: 'old-attempt', s: { candidate: 'x' } });
    link.handleSignal('someone-else', { c: attempt, s: { candidate: 'y' } });
    link.handleSignal('daw-1', { c: attempt, s: { type: 'offer', sdp: 'v=0' } }); // we make offers, not take them
    link.handleSignal('daw-1', 'garbage');
    expect(channels[0]?.signals).toEqual([{ type: 'answer', sdp: 'v=0' }]);
  });

  it('sends hits over the open channel, numbered, with no relay copy while the channel is lively', () => {
    const { link, channels, relayed } = rig();
    link.setDaw('daw-1', true);
    channels[0]?.connect();
    expect(link.transport).toBe('p2p');
    link.hit(2, 127);
    link.hit(5, 64);
    expect(hitsIn(channels[0]?.sent ?? [])).toEqual([
      [0, 2, 127],
      [1, 5, 64],
    ]);
    expect(relayed).toEqual([]);
  });

  it('keeps the open channel when the socket drops and comes back (a server restart)', () => {
    const { link, channels } = rig();
    link.setDaw('daw-1', true);
    channels[0]?.connect();
    link.setSocket(false);
    link.setDaw('daw-1', false);
    expect(link.transport).toBe('p2p');
    link.hit(1, 100);
    link.setSocket(true);
    link.setDaw('daw-1', true);
    vi.advanceTimersByTime(30_000);
    expect(channels).toHaveLength(1);
    expect(channels[0]?.destroyed).toBe(false);
    expect(hitsIn(channels[0]?.sent ?? [])).toEqual([[0, 1, 100]]);
  });

  it('plays through the relay while P2P is not there, and says "relay" after the open timeout', () => {
    const { link, relayed } = rig();
    link.setDaw('daw-1', true);
    expect(link.hit(3, 90)).toBe('relay');
    expect(relayed).toEqual([{ h: [42, 0, 3, 90, expect.any(Number)] }]);
    expect(link.transport).toBe('connecting');
    vi.advanceTimersByTime(3000);
    expect(link.transport).toBe('relay');
  });

  it('retries P2P in the background after a failure, and at once when the DAW comes back', () => {
    const { link, channels } = rig();
    link.setDaw('daw-1', true);
    channels[0]?.connect();
    channels[0]?.end('closed');
    expect(link.transport).toBe('relay');
    expect(link.lastEnd).toBe('closed');
    vi.advanceTimersByTime(750); // backoff of attempt 1 at midpoint jitter
    expect(channels).toHaveLength(2);
    // The DAW reloads: away, then back. The attempt under way is given up, a new one made at once.
    link.setDaw('daw-1', false);
    expect(channels[1]?.destroyed).toBe(true);
    link.setDaw('daw-1', true);
    expect(channels).toHaveLength(3);
  });

  it('also relays hits while the channel has gone quiet (it may be dead), once each at the DAW', () => {
    const { link, channels, relayed } = rig();
    link.setDaw('daw-1', true);
    const channel = channels[0];
    channel?.connect();
    if (channel) channel.lively = false;
    link.hit(9, 100);
    expect(hitsIn(channel?.sent ?? [])).toEqual([[0, 9, 100]]);
    expect(relayed).toEqual([{ h: [42, 0, 9, 100, expect.any(Number)] }]);
    expect(link.counts.doubled).toBe(1);
  });

  it('stays on the relay for good in a browser without WebRTC', async () => {
    const { link, relayed } = rig();
    const failing = new ControllerLink({
      iceServers: () => [],
      sendSignal: () => {},
      sendRelay: (data) => relayed.push(data) > 0,
      onChange: () => {},
      timing,
      createChannel: () => {
        throw new Error('No WebRTC support');
      },
    });
    failing.setSocket(true);
    failing.setDaw('daw-1', true);
    await Promise.resolve(); // the failure is dispatched in a microtask
    expect(failing.webrtc).toBe(false);
    expect(failing.transport).toBe('relay');
    expect(failing.hit(0, 100)).toBe('relay');
    failing.destroy();
    link.destroy();
  });

  it('tells the DAW its dropped count through the relay when there is no channel', () => {
    const { link, relayed, setRelay } = rig({ relayWorks: false });
    link.setDaw('daw-1', true);
    link.setSocket(false);
    link.hit(0, 100);
    vi.advanceTimersByTime(300); // held 250 ms, then dropped
    expect(link.counts.dropped).toBe(1);
    setRelay(true);
    link.setSocket(true);
    vi.advanceTimersByTime(1000);
    expect(relayed).toContainEqual({ d: 1 });
    const reports = relayed.filter((data) => 'd' in data).length;
    vi.advanceTimersByTime(3000);
    expect(relayed.filter((data) => 'd' in data).length).toBe(reports); // said once, not again and again
  });

  it('stops for good when destroyed: no channel, no new attempts', () => {
    const { link, channels } = rig();
    link.setDaw('daw-1', true);
    channels[0]?.connect();
    link.destroy();
    expect(channels[0]?.destroyed).toBe(true);
    link.setDaw('daw-1', true);
    vi.advanceTimersByTime(60_000);
    expect(channels).toHaveLength(1);
  });
});

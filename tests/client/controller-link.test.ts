import { describe, expect, it, vi } from 'vitest';
import { SYNC_MIN_SAMPLES } from '../../client/net/clock-sync.ts';
import { ControllerLink, DAW_WENT_AWAY } from '../../client/net/controller-link.ts';
import {
  type PacketVisitor,
  type RelayData,
  readPacket,
  relayHit,
  relayTempo,
  type Tempo,
  type TimingReport,
  wallClock,
} from '../../client/net/hits.ts';
import type { SignalEnvelope } from '../../client/net/signal-envelope.ts';
import { fakeChannels } from '../helpers/fake-channel.ts';
import { useFakeTimersEachTest } from '../helpers/fake-timers.ts';

const timing = { openTimeoutMs: 3000, retryBaseMs: 1000, retryMaxMs: 8000, random: () => 0.5 };

function rig(options: { socketUp?: boolean; relayWorks?: boolean } = {}) {
  const channels = fakeChannels();
  const signals: [string, SignalEnvelope][] = [];
  const relayed: RelayData[] = [];
  const refs: (number | undefined)[] = [];
  let relayWorks = options.relayWorks ?? true;
  let changes = 0;
  const link = new ControllerLink({
    iceServers: () => [{ urls: 'stun:10.0.0.1:3478' }],
    sendSignal: (to, data) => signals.push([to, data]),
    sendRelay: (data, ref) => {
      if (!relayWorks) return false;
      relayed.push(data);
      refs.push(ref);
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
    refs,
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
      timing: () => {},
      tempo: () => {},
    };
    readPacket(packet.slice().buffer, visitor);
    if (last) hits.push(last);
  }
  return hits;
}

useFakeTimersEachTest();

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
    // The hit, then its two tail copies (hit-sender.ts's redundancy).
    expect(hitsIn(channels[0]?.sent ?? [])).toEqual([
      [0, 1, 100],
      [0, 1, 100],
      [0, 1, 100],
    ]);
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

  it('says the DAW went away, not that the link failed, when its tab closes', () => {
    const { link, channels } = rig();
    link.setDaw('daw-1', true);
    channels[0]?.connect();
    // The tab closes: the channel errors first, then the server says the DAW is away.
    channels[0]?.end('error', 'ERR_DATA_CHANNEL');
    expect(link.lastEnd).toBe('error: ERR_DATA_CHANNEL');
    vi.advanceTimersByTime(200);
    link.setDaw('daw-1', false);
    expect(link.lastEnd).toBe(DAW_WENT_AWAY);
    // A link that ends while the DAW is away ended for the same reason.
    link.setDaw('daw-1', true);
    channels.at(-1)?.connect();
    link.setDaw('daw-1', false);
    channels.at(-1)?.end('error', 'ERR_DATA_CHANNEL');
    expect(link.lastEnd).toBe(DAW_WENT_AWAY);
  });

  it('keeps a link failure as it was when the DAW stays, or goes long after', () => {
    const { link, channels } = rig();
    link.setDaw('daw-1', true);
    channels[0]?.connect();
    channels[0]?.end('silent');
    vi.advanceTimersByTime(60_000);
    link.setDaw('daw-1', false);
    expect(link.lastEnd).toBe('silent');
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

  it('holds hits while the DAW is away instead of relaying them into the void, and sends them when it is back', () => {
    const { link, relayed, refs } = rig();
    link.setDaw('daw-1', true);
    expect(link.hit(1, 100)).toBe('relay');
    expect(refs).toEqual([0]); // a relayed hit carries its seq as its ref
    link.setDaw('daw-1', false); // the DAW's tab reloads
    expect(link.hit(2, 100)).toBe('held');
    vi.advanceTimersByTime(100);
    link.setDaw('daw-1', true);
    expect(relayed.filter((data) => 'h' in data)).toEqual([
      relayHit(42, 0, 1, 100, expect.any(Number)),
      relayHit(42, 1, 2, 100, expect.any(Number)),
    ]);
    expect(link.counts.dropped).toBe(0);
  });

  it('counts as dropped what the DAW did not come back for in time, and tells the returning DAW', () => {
    const { link, relayed } = rig();
    link.setDaw('daw-1', true);
    link.setDaw('daw-1', false);
    link.hit(2, 100);
    vi.advanceTimersByTime(300);
    expect(link.counts.dropped).toBe(1);
    vi.advanceTimersByTime(2000);
    expect(relayed.filter((data) => 'd' in data)).toEqual([]); // nobody to tell while it is away
    link.setDaw('daw-1', true); // a reloaded DAW page knows nothing of it: told again
    vi.advanceTimersByTime(1000);
    expect(relayed).toContainEqual({ d: 1 });
  });

  it('takes back a relayed hit the server bounced (PEER_AWAY, ref = its seq) and sends it again', () => {
    const { link, relayed } = rig();
    link.setDaw('daw-1', true);
    link.hit(5, 80);
    link.setDaw('daw-1', false);
    link.relayRefused(0);
    link.setDaw('daw-1', true);
    const hits = relayed.filter((data): data is ReturnType<typeof relayHit> => 'h' in data);
    expect(hits.map((data) => data.h[1])).toEqual([0, 0]);
    expect(link.counts.dropped).toBe(0);
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

describe('ControllerLink: what the DAW tells it', () => {
  const report: TimingReport = {
    synced: true,
    steady: true,
    late: 3,
    offsetMs: 512.5, // our clock minus the DAW's
    oneWayMs: 4,
    jitterMs: 0.5,
    steadyDelayMs: 9,
    outputLatencyMs: 20,
  };
  const beat: Tempo = { version: 100, bpm: 120, beatsPerBar: 4, running: true, anchor: 50_000 };

  function open() {
    const r = rig();
    r.link.setDaw('daw-1', true);
    const channel = r.channels[0];
    channel?.connect();
    return { ...r, channel };
  }

  it('keeps the DAW’s last timing report, and says so', () => {
    const { link, channel, changes } = open();
    expect(link.timing).toBeNull();
    const before = changes();
    channel?.options.onTiming?.(report);
    expect(link.timing).toEqual(report);
    expect(changes()).toBe(before + 1);
    channel?.options.onTiming?.({ ...report, late: 4 });
    expect(link.timing?.late).toBe(4);
  });

  it('takes a newer tempo, ignores an older one (a late packet), and a repeat without a change', () => {
    const { link, channel, changes } = open();
    expect(link.tempo).toBeNull();
    const sent = { ...beat };
    channel?.options.onTempo?.(sent);
    expect(link.tempo).toEqual(beat);
    sent.bpm = 60; // the object handed over is not kept
    expect(link.tempo?.bpm).toBe(120);
    let count = changes();
    channel?.options.onTempo?.({ ...beat }); // repeated every second by the DAW
    expect(changes()).toBe(count);
    channel?.options.onTempo?.({ ...beat, version: 99, bpm: 200 });
    expect(link.tempo).toEqual(beat);
    expect(changes()).toBe(count);
    channel?.options.onTempo?.({ ...beat, version: 101, running: false });
    expect(link.tempo).toEqual({ ...beat, version: 101, running: false });
    expect(changes()).toBe(count + 1);
    count = changes();
    // The same version with other numbers (a DAW page reloaded within the same quarter second): taken.
    channel?.options.onTempo?.({ ...beat, version: 101, bpm: 90 });
    expect(link.tempo?.bpm).toBe(90);
    expect(changes()).toBe(count + 1);
  });

  it('takes a relayed tempo only from the room’s DAW, in the same version order as the channel’s', () => {
    const { link, channel } = open();
    link.handleRelay('mallory', relayTempo({ ...beat, version: 500 }));
    expect(link.tempo).toBeNull();
    link.handleRelay('daw-1', relayTempo(beat));
    expect(link.tempo).toEqual(beat);
    channel?.options.onTempo?.({ ...beat, version: 102, bpm: 130 });
    link.handleRelay('daw-1', relayTempo({ ...beat, version: 101, bpm: 70 })); // older than the channel's
    expect(link.tempo?.bpm).toBe(130);
    for (const junk of [null, 'x', { t: [1, 2] }, { t: [103, 999, 4, 0, 1] }, relayHit(1, 2, 3, 4, 5)]) {
      expect(() => link.handleRelay('daw-1', junk)).not.toThrow();
    }
    expect(link.tempo?.version).toBe(102);
  });

  it('takes a relayed tempo before any channel exists (a controller on the relay)', () => {
    const { link, channels } = rig();
    link.setDaw('daw-1', false);
    link.handleRelay('daw-1', relayTempo(beat));
    expect(channels).toHaveLength(0);
    expect(link.tempo).toEqual(beat);
  });

  describe('dawOffsetAt', () => {
    it('is 0 while it knows nothing (phones on one LAN are usually NTP-close)', () => {
      const { link } = open();
      expect(link.clockSynced).toBe(false);
      expect(link.dawOffsetAt(1_000)).toBe(0);
    });

    it('is the DAW’s own measurement, negated, when the DAW is synced and we are not', () => {
      const { link, channel } = open();
      channel?.options.onTiming?.({ ...report, synced: false });
      expect(link.dawOffsetAt(1_000)).toBe(0);
      channel?.options.onTiming?.(report);
      expect(link.dawOffsetAt(1_000)).toBe(-512.5);
    });

    it('is our own clock sync’s once synced, whatever the DAW says', () => {
      const { link, channel } = open();
      channel?.options.onTiming?.(report);
      const dawAhead = -510; // the DAW's clock minus ours, by our own pings
      for (let i = 0; i < SYNC_MIN_SAMPLES; i++) {
        const t0 = 10_000 + i * 100;
        channel?.options.onClockSample?.(t0, t0 + 1.5 + dawAhead, t0 + 3);
        expect(link.clockSynced).toBe(i === SYNC_MIN_SAMPLES - 1);
      }
      expect(link.dawOffsetAt(20_000)).toBeCloseTo(dawAhead, 9);
    });

    it('syncs afresh on a new channel (the DAW page at the other end may be a new one)', () => {
      const { link, channel, channels } = open();
      for (let i = 0; i < SYNC_MIN_SAMPLES; i++) channel?.options.onClockSample?.(i * 100, i * 100 + 800, i * 100 + 2);
      expect(link.clockSynced).toBe(true);
      channel?.end('closed');
      vi.advanceTimersByTime(5_000); // the link machine retries
      const next = channels.at(-1);
      expect(next).not.toBe(channel);
      next?.connect();
      expect(link.clockSynced).toBe(false);
    });
  });

  describe('clock sync through the relay (no channel)', () => {
    /** A phone that cannot make P2P (no channel ever opens) in a room with daw-1. */
    function relayOnly() {
      const r = rig();
      r.link.setDaw('daw-1', true);
      return r;
    }
    const pings = (relayed: RelayData[]) => relayed.filter((data) => 'p' in data && !('q' in data));

    it('pings the DAW through the relay once a second while there is no channel, and stops once there is', () => {
      const { relayed, channels } = relayOnly();
      vi.advanceTimersByTime(2_500); // the first attempt is still under way (it gives up at 3 s)
      expect(pings(relayed)).toHaveLength(2);
      channels[0]?.connect();
      vi.advanceTimersByTime(3_000);
      expect(pings(relayed)).toHaveLength(2);
    });

    it('answers the DAW’s ping at once with its own clock, and syncs from the DAW’s answers', () => {
      const { link, relayed } = relayOnly();
      const dawAhead = 2_500.5; // the DAW's clock minus ours
      for (let i = 0; i < SYNC_MIN_SAMPLES; i++) {
        vi.advanceTimersByTime(i === 0 ? 1_000 : 994); // to the moment of the next ping
        const ping = pings(relayed).at(-1) as { p: number };
        expect(ping.p).toBe(wallClock()); // the page's clock: its time origin (read once) + performance.now()
        // The DAW answers 3 ms later, half way: a symmetric 6 ms round trip.
        vi.advanceTimersByTime(3);
        const at = wallClock() + dawAhead;
        vi.advanceTimersByTime(3);
        link.handleRelay('daw-1', { q: [ping.p, at], p: at });
        expect(relayed.at(-1)).toEqual({ q: [at, expect.any(Number)] });
      }
      expect(link.clockSynced).toBe(true);
      expect(link.dawOffsetAt(wallClock())).toBeCloseTo(dawAhead, 1);
    });

    it('takes clock-sync messages only from its DAW', () => {
      const { link, relayed } = relayOnly();
      const before = relayed.length;
      link.handleRelay('mallory', { p: 1 });
      for (let i = 0; i < 8; i++) link.handleRelay('mallory', { q: [1, 99_999] });
      expect(relayed).toHaveLength(before);
      expect(link.clockSynced).toBe(false);
    });
  });

  it('takes a lower tempo version from its DAW once it comes back (a reloaded page) or on a new channel', () => {
    const { link, channel, channels } = open();
    channel?.options.onTempo?.({ ...beat, version: 500 });
    link.setDaw('daw-1', false); // away: reloading
    link.setDaw('daw-1', true);
    expect(link.tempo).toBeNull();
    link.handleRelay('daw-1', relayTempo({ ...beat, version: 7 }));
    expect(link.tempo?.version).toBe(7);
    channel?.options.onTempo?.({ ...beat, version: 9 });
    channels.at(-1)?.connect();
    expect(link.tempo).toBeNull();
  });

  it('forgets the last DAW’s timing and tempo when the room has another DAW', () => {
    const { link, channel } = open();
    channel?.options.onTiming?.(report);
    channel?.options.onTempo?.(beat);
    link.setDaw('daw-2', true);
    expect(link.timing).toBeNull();
    expect(link.tempo).toBeNull();
  });
});

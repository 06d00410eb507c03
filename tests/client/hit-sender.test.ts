import { describe, expect, it, vi } from 'vitest';
import { HitSender, HOLD_LIMIT, HOLD_MS, REPEATS, TAIL_MS } from '../../client/net/hit-sender.ts';
import { type PacketVisitor, type RelayHit, readPacket } from '../../client/net/hits.ts';
import { useFakeTimersEachTest } from '../helpers/fake-timers.ts';

type Sent = { via: 'p2p' | 'relay'; seq: number; pad: number; velocity: number; sentAt: number };

/** Two fake transports the test switches on and off (the real ones are WebRTC and the socket: e2e covers those). */
function rig(options: { holdLimit?: number } = {}) {
  let clock = 1_000_000;
  const up = { p2p: false, relay: false, lively: true };
  const sent: Sent[] = [];
  /** Every channel packet's records, as [seq, pad] lists (repeats first, the new hit last). */
  const packets: [number, number][][] = [];
  let records: [number, number, number, number][] = [];
  const visitor: PacketVisitor = {
    hit: (_epoch, seq, pad, velocity, sentAt) => records.push([seq, pad, velocity, sentAt]),
    ping: () => {},
    pong: () => {},
    timing: () => {},
    tempo: () => {},
  };
  let drops = 0;
  const sender = new HitSender(
    {
      p2p: (packet) => {
        if (!up.p2p) return false;
        records = [];
        expect(readPacket(packet.slice().buffer, visitor)).toBeNull();
        packets.push(records.map(([seq, pad]) => [seq, pad]));
        const [seq, pad, velocity, sentAt] = records.at(-1) ?? [];
        sent.push({ via: 'p2p', seq: seq ?? -1, pad: pad ?? -1, velocity: velocity ?? -1, sentAt: sentAt ?? -1 });
        return true;
      },
      p2pLively: () => up.lively,
      relay: ({ h: [, seq, pad, velocity, sentAt] }: RelayHit) => {
        if (!up.relay) return false;
        sent.push({ via: 'relay', seq, pad, velocity, sentAt });
        return true;
      },
    },
    { epoch: 7, now: () => clock, onDrop: () => drops++, ...options },
  );
  /** Moves both clocks on, a millisecond at a time, so timers see the time they fire at. */
  const advance = (ms: number) => {
    for (let step = 0; step < ms; step++) {
      clock += 1;
      vi.advanceTimersByTime(1);
    }
  };
  return { sender, up, sent, packets, advance, drops: () => drops, now: () => clock };
}

useFakeTimersEachTest();

describe('HitSender', () => {
  it('sends over the channel when it is open, numbering hits from 0', () => {
    const { sender, up, sent, now } = rig();
    up.p2p = true;
    up.relay = true;
    expect(sender.send(3, 100)).toBe('p2p');
    expect(sender.send(4, 50)).toBe('p2p');
    expect(sent).toEqual([
      { via: 'p2p', seq: 0, pad: 3, velocity: 100, sentAt: now() },
      { via: 'p2p', seq: 1, pad: 4, velocity: 50, sentAt: now() },
    ]);
    expect(sender.counts).toEqual({ p2p: 2, relay: 0, dropped: 0, doubled: 0, tails: 0 });
  });

  it('repeats the last hits (tapped within 250 ms) in each channel packet, oldest first, so one lost packet loses none', () => {
    const { sender, up, packets, advance } = rig();
    up.p2p = true;
    for (let pad = 0; pad < REPEATS + 2; pad++) {
      sender.send(pad, 100);
      advance(TAIL_MS / 2); // hits keep coming: they carry the copies, no tail packet is needed
    }
    expect(packets.splice(0)).toEqual([
      [[0, 0]],
      [
        [0, 0],
        [1, 1],
      ],
      [
        [0, 0],
        [1, 1],
        [2, 2],
      ],
      [
        [1, 1],
        [2, 2],
        [3, 3],
      ],
    ]);
    advance(TAIL_MS / 2);
    // The hits stopped: the copies still due go out on their own, TAIL_MS apart, each hit 1 + REPEATS times in all.
    expect(packets.splice(0)).toEqual([
      [
        [2, 2],
        [3, 3],
      ],
    ]);
    advance(TAIL_MS);
    expect(packets.splice(0)).toEqual([[[3, 3]]]);
    advance(TAIL_MS * 10);
    expect(packets).toEqual([]);
    expect(sender.counts.tails).toBe(2);
    advance(HOLD_MS); // the earlier hits are stale now: a late copy would be a wrong note
    sender.send(9, 100);
    expect(packets.at(-1)).toEqual([[4, 9]]);
  });

  it('sends a lone hit 1 + REPEATS times, TAIL_MS apart, so the last hit of a phrase survives a lost packet too', () => {
    const { sender, up, packets, advance } = rig();
    up.p2p = true;
    sender.send(6, 100);
    advance(TAIL_MS * 10);
    expect(packets).toEqual([[[0, 6]], [[0, 6]], [[0, 6]]]);
    expect(sender.counts).toMatchObject({ p2p: 1, tails: 2 });
  });

  it('stops waking up once the copies are out (no timer ticking through the silence)', () => {
    const { sender, up, advance } = rig();
    up.p2p = true;
    sender.send(6, 100);
    sender.send(7, 100);
    advance(TAIL_MS * (REPEATS + 2));
    expect(sender.counts.tails).toBe(REPEATS);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('sends tail copies late if the channel refused them, but never once the hit is older than HOLD_MS', () => {
    const { sender, up, packets, advance } = rig();
    up.p2p = true;
    sender.send(6, 100);
    up.p2p = false; // backed up: the tail packets do not go
    advance(HOLD_MS / 2);
    up.p2p = true;
    advance(TAIL_MS * 3);
    expect(packets).toEqual([[[0, 6]], [[0, 6]], [[0, 6]]]);
    sender.send(7, 100);
    up.p2p = false;
    packets.splice(0);
    advance(HOLD_MS + TAIL_MS);
    up.p2p = true;
    advance(TAIL_MS * 5);
    expect(packets).toEqual([]); // its copies are stale now: a late copy would be a wrong note
    expect(vi.getTimerCount()).toBe(0);
  });

  it('sends no tail copies once disposed', () => {
    const { sender, up, packets, advance } = rig();
    up.p2p = true;
    sender.send(6, 100);
    sender.dispose();
    advance(TAIL_MS * 10);
    expect(packets).toHaveLength(1);
  });

  it('does not repeat hits that went through the relay (it does not lose them)', () => {
    const { sender, up, packets } = rig();
    up.relay = true;
    sender.send(1, 100);
    up.p2p = true;
    sender.send(2, 100);
    expect(packets).toEqual([[[1, 2]]]);
  });

  it('also sends through the relay while the channel is quiet (it may be dead), same seq', () => {
    const { sender, up, sent } = rig();
    up.p2p = true;
    up.relay = true;
    up.lively = false;
    expect(sender.send(7, 100)).toBe('p2p');
    expect(sent.map((s) => [s.via, s.seq, s.pad])).toEqual([
      ['p2p', 0, 7],
      ['relay', 0, 7],
    ]);
    expect(sender.counts).toEqual({ p2p: 1, relay: 0, dropped: 0, doubled: 1, tails: 0 });
    up.lively = true;
    sender.send(8, 100);
    expect(sent.map((s) => s.via)).toEqual(['p2p', 'relay', 'p2p']);
  });

  it('falls back to the relay at once when there is no channel, keeping one sequence', () => {
    const { sender, up, sent } = rig();
    up.relay = true;
    expect(sender.send(1, 90)).toBe('relay');
    up.p2p = true;
    expect(sender.send(2, 90)).toBe('p2p');
    expect(sent.map((s) => [s.via, s.seq])).toEqual([
      ['relay', 0],
      ['p2p', 1],
    ]);
  });

  it('holds a hit with no way out, and sends it with its tap time if a way opens within 250 ms', () => {
    const { sender, up, sent, advance, now } = rig();
    const tappedAt = now();
    expect(sender.send(5, 120)).toBe('held');
    advance(HOLD_MS - 50);
    up.relay = true;
    sender.flush();
    expect(sent).toEqual([{ via: 'relay', seq: 0, pad: 5, velocity: 120, sentAt: tappedAt }]);
    expect(sender.counts.dropped).toBe(0);
    expect(sender.held).toBe(0);
  });

  it('drops and counts a held hit once it is older than 250 ms, without being asked', () => {
    const { sender, sent, advance, drops } = rig();
    sender.send(5, 120);
    sender.send(6, 120);
    advance(HOLD_MS + 5); // the expiry timer fires by itself
    expect(sender.counts.dropped).toBe(2);
    expect(drops()).toBeGreaterThan(0);
    expect(sender.held).toBe(0);
    expect(sent).toEqual([]);
  });

  it('never sends a stale hit when the way opens too late, and does not spend a seq on it', () => {
    const { sender, up, sent, advance } = rig();
    sender.send(5, 120);
    vi.clearAllTimers(); // the flush comes from a transport opening, not the expiry timer
    advance(HOLD_MS + 1);
    up.p2p = true;
    expect(sender.send(6, 80)).toBe('p2p');
    expect(sent).toEqual([expect.objectContaining({ via: 'p2p', seq: 0, pad: 6 })]);
    expect(sender.counts.dropped).toBe(1);
  });

  it('sends held hits before a new one, in the order they were played', () => {
    const { sender, up, sent, advance } = rig();
    sender.send(1, 100);
    advance(10);
    sender.send(2, 100);
    advance(10);
    up.p2p = true;
    sender.send(3, 100);
    expect(sent.map((s) => [s.seq, s.pad])).toEqual([
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
  });

  it('holds at most HOLD_LIMIT hits; more are dropped at once', () => {
    const { sender } = rig();
    for (let i = 0; i < HOLD_LIMIT; i++) expect(sender.send(i % 16, 100)).toBe('held');
    expect(sender.send(0, 100)).toBe('dropped');
    expect(sender.counts.dropped).toBe(1);
    expect(sender.held).toBe(HOLD_LIMIT);
  });

  it('holds a relayed hit the server hands back (the DAW was away), and sends it again under its seq', () => {
    const { sender, up, sent, advance, drops } = rig();
    up.relay = true;
    sender.send(3, 90);
    sender.send(4, 91);
    up.relay = false; // the page now knows the DAW is away
    sender.bounced(0);
    expect(sender.held).toBe(1);
    advance(100);
    up.relay = true; // it is back
    sender.flush();
    expect(sent.at(-1)).toMatchObject({ via: 'relay', seq: 0, pad: 3, velocity: 90 });
    expect(sender.send(5, 92)).toBe('relay');
    expect(sent.at(-1)).toMatchObject({ seq: 2 }); // no seq spent on the resend
    expect(drops()).toBe(0);
    expect(sender.counts.dropped).toBe(0);
  });

  it('drops and counts a bounced hit it can no longer send in time, or no longer remembers', () => {
    const { sender, up, advance } = rig();
    up.relay = true;
    sender.send(3, 90);
    up.relay = false;
    advance(HOLD_MS + 1);
    sender.bounced(0); // too old to be worth sending
    expect(sender.held).toBe(0);
    expect(sender.counts.dropped).toBe(1);
    sender.bounced(12345); // never sent (or long forgotten): lost all the same, and counted
    expect(sender.counts.dropped).toBe(2);
    sender.bounced(0); // handed back twice: counted once
    expect(sender.counts.dropped).toBe(3);
  });

  it('holds a bounced hit for at most HOLD_MS, then drops and counts it, if the DAW does not come back', () => {
    const { sender, up, advance } = rig();
    up.relay = true;
    sender.send(1, 100);
    up.relay = false;
    sender.bounced(0);
    advance(HOLD_MS + 5);
    expect(sender.held).toBe(0);
    expect(sender.counts.dropped).toBe(1);
  });

  it('counts what is still held as dropped when disposed', () => {
    const { sender } = rig();
    sender.send(1, 100);
    sender.dispose();
    expect(sender.counts.dropped).toBe(1);
  });
});

import { describe, expect, it } from 'vitest';
import { MAX_BOOKED_AHEAD, NO_OWNER, PadBookings } from '../../client/audio/voice-bookings.ts';
import { seededRandom } from '../helpers/random.ts';

/** One sample at 48 kHz, s: the least step between two starts on a voice. */
const GAP = 1 / 48_000;
const HOSTILE = 1;
const HONEST = 2;

/** book() with the engine's arguments; gain and velocity 0.5. */
const book = (pad: PadBookings, now: number, time: number, owner: number) => pad.book(now, time, GAP, owner, 0.5, 0.5);

/** What book() decided, as a plain object: `replays` are the bookings played again after the hit. */
const decision = (pad: PadBookings) => {
  const replays: number[] = [];
  for (let k = pad.replayFrom; k < pad.replayTo; k++) if (k !== pad.slot) replays.push(pad.bookedTime(pad.voice, k));
  return {
    voice: pad.voice,
    time: pad.time,
    replays,
    cancelled: pad.cancelledVoice < 0 ? null : { voice: pad.cancelledVoice, time: pad.cancelledTime },
    gaveWay: pad.gaveWay,
  };
};

describe('PadBookings', () => {
  it('plays hits at once on the voice started longest ago, in turn', () => {
    const pad = new PadBookings(3);
    const voices: number[] = [];
    for (const now of [1, 1.1, 1.2, 1.3, 1.4]) {
      expect(book(pad, now, now, NO_OWNER)).toBe(true);
      expect(decision(pad)).toMatchObject({ time: now, replays: [], cancelled: null, gaveWay: null });
      expect(pad.cancelAt).toBeNaN();
      voices.push(pad.voice);
    }
    expect(voices).toEqual([0, 1, 2, 0, 1]);
    expect(pad.booked).toBe(0); // nothing ahead
  });

  it('keeps a player’s planned hits at their exact times, each on the voice started longest ago', () => {
    const pad = new PadBookings(2);
    for (const time of [1.01, 1.025, 1.04, 1.055]) {
      expect(book(pad, 1, time, HONEST)).toBe(true);
      expect(decision(pad)).toMatchObject({ time, replays: [], cancelled: null, gaveWay: null });
      expect(pad.cancelAt).toBeNaN(); // after everything on its voice: nothing to redo
    }
    expect(pad.booked).toBe(4);
    expect(pad.lastStart(0)).toBe(1.04);
    expect(pad.lastStart(1)).toBe(1.055);
  });

  it('starts a hit at its own time though every voice is booked later, and books those again after it', () => {
    const pad = new PadBookings(3);
    // A hostile player books the pad ~147 ms ahead: 2, 1 and 1 hits on the three voices.
    for (const time of [1.14, 1.145, 1.15, 1.155]) book(pad, 1, time, HOSTILE);
    expect([0, 1, 2].map((v) => pad.lastStart(v))).toEqual([1.155, 1.145, 1.15]);

    // An honest hit planned 3 ms ahead: at 1.003, not after the hostile's bookings.
    expect(book(pad, 1, 1.003, HONEST)).toBe(true);
    expect(decision(pad)).toEqual({ voice: 1, time: 1.003, replays: [1.145], cancelled: null, gaveWay: null });
    expect(pad.cancelAt).toBe(1.003);
    // And one played at once: now, on a voice with one booking ahead, which plays again after it.
    expect(book(pad, 1.001, 1.001, NO_OWNER)).toBe(true);
    expect(decision(pad)).toEqual({ voice: 2, time: 1.001, replays: [1.15], cancelled: null, gaveWay: null });
    expect(pad.slot).toBe(-1); // begun, not booked
    expect(pad.booked).toBe(5); // the honest booking, and the hostile's four, none lost
  });

  it('moves a start by one sample at most, and keeps a voice’s starts a sample apart', () => {
    const pad = new PadBookings(1);
    book(pad, 1, 1.1, HOSTILE);
    // Exactly at a booked time: it starts then, and the booking plays again a sample later.
    expect(book(pad, 1, 1.1, HONEST)).toBe(true);
    expect(decision(pad)).toEqual({ voice: 0, time: 1.1, replays: [1.1 + GAP], cancelled: null, gaveWay: null });
    // Twice at once in the same instant on one voice: the second a sample later.
    const one = new PadBookings(1);
    book(one, 2, 2, NO_OWNER);
    book(one, 2, 2, NO_OWNER);
    expect(one.time).toBe(2 + GAP);
  });

  it('forgets bookings whose time has come', () => {
    const pad = new PadBookings(2);
    book(pad, 1, 1.05, HOSTILE);
    book(pad, 1, 1.1, HOSTILE);
    expect(pad.booked).toBe(2);
    book(pad, 1.06, 1.06, NO_OWNER); // the one at 1.05 has begun
    expect(pad.booked).toBe(1);
    expect(pad.voice).toBe(0); // the voice that began at 1.05, not the one booked for 1.1
    expect(decision(pad).replays).toEqual([]);
  });

  describe(`a pad booked full (${MAX_BOOKED_AHEAD} hits ahead)`, () => {
    /** The hostile's bookings 70–140 ms ahead, and the honest player's one. */
    const full = () => {
      const pad = new PadBookings(3);
      for (let i = 0; i < MAX_BOOKED_AHEAD - 1; i++) expect(book(pad, 1, 1.07 + i * 0.01, HOSTILE)).toBe(true);
      expect(book(pad, 1, 1.148, HONEST)).toBe(true);
      expect(pad.booked).toBe(MAX_BOOKED_AHEAD);
      return pad;
    };
    const hostileLatest = 1.07 + (MAX_BOOKED_AHEAD - 2) * 0.01;

    it('lets the player holding most of them give way: its new hit, planned furthest ahead', () => {
      const pad = full();
      expect(book(pad, 1, 1.149, HOSTILE)).toBe(false);
      expect(pad.gaveWay).toBe(HOSTILE);
      expect(pad.booked).toBe(MAX_BOOKED_AHEAD);
    });

    it('cancels that player’s booking furthest ahead for another’s hit, which starts at its own time', () => {
      const pad = full();
      expect(book(pad, 1, 1.004, HONEST)).toBe(true);
      const d = decision(pad);
      expect(d.time).toBe(1.004);
      expect(d.cancelled?.time).toBe(hostileLatest);
      expect(d.gaveWay).toBe(HOSTILE);
      expect(pad.booked).toBe(MAX_BOOKED_AHEAD);
    });

    it('cancels it even for a hit planned further ahead than all of it', () => {
      const pad = full();
      expect(book(pad, 1, 1.149, 3)).toBe(true);
      expect(decision(pad)).toMatchObject({ time: 1.149, gaveWay: HOSTILE });
      expect(pad.cancelledTime).toBe(hostileLatest);
      // And the honest player's own booking, the latest on the pad, stays.
      expect(book(pad, 1, 1.0045, 4)).toBe(true);
      expect(pad.gaveWay).toBe(HOSTILE);
    });

    it('books again, on the cancelled booking’s voice, what followed it there', () => {
      const pad = new PadBookings(1);
      for (let i = 0; i < MAX_BOOKED_AHEAD - 1; i++) book(pad, 1, 1.01 + i * 0.01, HOSTILE);
      book(pad, 1, 1.145, HONEST); // after the hostile's on the only voice
      expect(book(pad, 1, 1.146, HONEST)).toBe(true);
      // The hostile's latest (1.07) goes; the voice is redone from there: the honest 1.145, then the new hit.
      expect(pad.cancelledTime).toBe(1.07);
      expect(pad.cancelAt).toBe(1.07);
      const played: number[] = [];
      for (let k = pad.replayFrom; k < pad.replayTo; k++) played.push(pad.bookedTime(0, k));
      expect(played).toEqual([1.145, 1.146]);
      expect(pad.slot).toBe(pad.replayTo - 1);
    });

    it('never makes a hit played at once give way, nor cancel anything', () => {
      const pad = full();
      for (let i = 0; i < 5; i++) {
        expect(book(pad, 1.001, 1.001, NO_OWNER)).toBe(true);
        // At once: a sample later for each start already on its voice at this instant.
        expect(pad.time - 1.001).toBeLessThanOrEqual(GAP * i * 1.000001);
        expect(pad.gaveWay).toBeNull();
        expect(pad.cancelledVoice).toBe(-1);
      }
      expect(pad.booked).toBe(MAX_BOOKED_AHEAD);
    });
  });

  // Any mix of players, leads and times. The decisions, carried out on a model of each voice's
  // starts as Tone would be given them, keep every rule the engine relies on.
  it.each([1, 2, 3, 4])('keeps its rules over a random jam (seed %i)', (seed) => {
    const random = seededRandom(seed);
    const voices = 1 + (seed % 3);
    const pad = new PadBookings(voices);
    type Start = { time: number; owner: number; ahead: boolean };
    /** Per voice, the starts given to it, in order. */
    const lines: Start[][] = Array.from({ length: voices }, () => []);
    const bookedAhead = (now: number) => lines.flat().filter((start) => start.ahead && start.time > now);
    const held = (now: number, owner: number) => bookedAhead(now).filter((start) => start.owner === owner).length;
    const owners = [NO_OWNER, 0, 1, 2];
    /** Gives voice `v` its start `time`: Tone's rule, after the last start on it. */
    const give = (v: number, start: Start) => {
      const line = lines[v] as Start[];
      const last = line.at(-1);
      if (last) expect(start.time - last.time).toBeGreaterThanOrEqual(GAP * 0.999999);
      line.push(start);
    };
    /** Cancels voice `v` from `time` on: what it held from then. */
    const cancel = (v: number, time: number) => {
      const line = lines[v] as Start[];
      const from = line.findIndex((start) => start.time >= time);
      return from < 0 ? [] : line.splice(from);
    };
    let cancelled = 0;
    let refused = 0;
    let now = 10;
    for (let n = 0; n < 2_000; n++) {
      now += random() * 0.004;
      for (let v = 0; v < voices; v++) lines[v] = (lines[v] as Start[]).filter((start) => start.time > now - 1);
      const owner = owners[Math.floor(random() * owners.length)] as number;
      // Most hits planned a few ms ahead, some at once, some a flood's ~147 ms.
      const r = random();
      const time = r < 0.2 ? now : r < 0.7 ? now + random() * 0.01 : now + 0.1 + random() * 0.049;
      const heldBefore = owners.map((o) => held(now, o) + (o === owner ? 1 : 0));
      const ok = book(pad, now, time, owner);
      if (!ok) {
        // Only a hit booked ahead on a full pad, of the player holding the most, its furthest ahead.
        expect(time).toBeGreaterThan(now);
        expect(bookedAhead(now).length).toBe(MAX_BOOKED_AHEAD);
        expect(pad.gaveWay).toBe(owner);
        expect(heldBefore[owners.indexOf(owner)]).toBe(Math.max(...heldBefore));
        expect(bookedAhead(now).filter((s) => s.owner === owner && s.time > time)).toEqual([]);
        refused += 1;
        continue;
      }
      // Never later than asked, but by a sample.
      expect(pad.time).toBeGreaterThanOrEqual(time);
      expect(pad.time - time).toBeLessThanOrEqual(GAP * 1.000001);
      const gone = pad.cancelledVoice;
      if (gone >= 0) {
        expect(pad.gaveWay).not.toBeNull();
        expect(bookedAhead(now).length).toBe(MAX_BOOKED_AHEAD);
        expect(heldBefore[owners.indexOf(pad.gaveWay as number)]).toBe(Math.max(...heldBefore));
        const victim = (lines[gone] as Start[]).find((start) => start.time === pad.cancelledTime);
        expect(victim?.owner).toBe(pad.gaveWay);
        expect(victim?.ahead).toBe(true);
        cancelled += 1;
      } else {
        expect(pad.gaveWay).toBeNull();
      }
      // What each voice holds from where it is redone is exactly what is played on it again (less
      // the cancelled booking), in order, each at its own time or a few samples later.
      const redo = (v: number, at: number, from: number, to: number, skip: number) => {
        const before = cancel(v, at).filter((start) => !(v === gone && start.time === pad.cancelledTime));
        let count = 0;
        for (let k = from; k < to; k++) if (k !== skip) count++;
        expect(count).toBe(before.length);
        return (k: number) => {
          const start = before.shift() as Start;
          const at = pad.bookedTime(v, k);
          expect(at - start.time).toBeGreaterThanOrEqual(0);
          expect(at - start.time).toBeLessThan(GAP * 9);
          give(v, { ...start, time: at });
        };
      };
      if (pad.alsoVoice >= 0) {
        expect(pad.alsoVoice).toBe(gone);
        const again = redo(pad.alsoVoice, pad.alsoCancelAt, pad.alsoFrom, pad.alsoTo, -1);
        for (let k = pad.alsoFrom; k < pad.alsoTo; k++) again(k);
      } else if (gone >= 0) {
        expect(gone).toBe(pad.voice);
      }
      const v = pad.voice;
      const mine: Start = { time: pad.time, owner, ahead: time > now };
      const inRange = pad.slot >= pad.replayFrom && pad.slot < pad.replayTo;
      if (Number.isNaN(pad.cancelAt)) {
        expect(pad.replayTo - pad.replayFrom).toBe(0);
        if (gone === v) expect.unreachable('a cancelled booking’s voice is redone');
        give(v, mine);
      } else {
        expect(pad.cancelAt).toBeLessThanOrEqual(pad.time);
        const again = redo(v, pad.cancelAt, pad.replayFrom, pad.replayTo, pad.slot);
        if (pad.slot >= 0) expect(pad.bookedTime(v, pad.slot)).toBe(pad.time);
        if (!inRange) give(v, mine);
        for (let k = pad.replayFrom; k < pad.replayTo; k++) {
          if (k === pad.slot) give(v, mine);
          else again(k);
        }
      }
      // The pad's own count of bookings ahead is the model's, never above the limit.
      expect(pad.booked).toBe(bookedAhead(now).length);
      expect(pad.booked).toBeLessThanOrEqual(MAX_BOOKED_AHEAD);
    }
    // The flood filled the pad now and then, both ways.
    expect(cancelled).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });
});

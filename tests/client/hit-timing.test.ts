import { describe, expect, it } from 'vitest';
import {
  type ClockFix,
  HitTiming,
  LATE_LIMIT,
  LATE_SPAN,
  MAX_STEADY_DELAY_MS,
  MIN_STEADY_DELAY_MS,
  PHRASE_GAP_MS,
  STEADY_MARGIN_MS,
  TRANSITS,
} from '../../client/net/hit-timing.ts';

/** Clocks in step, and known to be: offset 0, no drift. */
const IN_STEP: ClockFix = { offsetMs: 0, at: 0, driftPpm: 0 };
/** An estimate that the controller's clock is `offsetMs` ahead of ours (no drift). */
const ahead = (offsetMs: number): ClockFix => ({ offsetMs, at: 0, driftPpm: 0 });

/** A hit that arrived at `arrived` after `transit` ms, with clocks in step. */
function observe(timing: HitTiming, transit: number, arrived: number): void {
  timing.observe(arrived - transit, arrived, IN_STEP);
}

/**
 * A steady-mode hit as daw-peers.ts handles it: tapped at `tap` (DAW clock) on a controller
 * whose clock is `skew` ahead of ours, estimated as `clock`, arriving `transit` ms later; asks
 * when to play it, then records its transit. Returns the play time (NaN: now).
 */
function play(timing: HitTiming, tap: number, transit: number, skew = 0, clock = IN_STEP): number {
  const arrived = tap + transit;
  const playAt = timing.steadyPlayAt(tap + skew, clock, arrived);
  timing.observe(tap + skew, arrived, clock);
  return playAt;
}

/** `count` hits `every` ms apart from `start`, each with the transit `transit(i)`; returns the next tap time. */
function phrase(
  timing: HitTiming,
  start: number,
  count: number,
  every: number,
  transit: (i: number) => number,
  skew = 0,
  clock = IN_STEP,
): number {
  for (let i = 0; i < count; i++) play(timing, start + i * every, transit(i), skew, clock);
  return start + count * every;
}

describe('HitTiming', () => {
  it('knows nothing before the first hit: no one-way delay, no steady delay, and plays it now without calling it late', () => {
    const timing = new HitTiming();
    expect(timing.oneWayMs(IN_STEP)).toBeNaN();
    expect(timing.steadyDelayMs).toBeNaN();
    expect(timing.steadyPlayAt(1000, IN_STEP, 1010)).toBeNaN();
    expect(timing.late).toBe(0);
    expect(timing.jitterMs).toBe(0);
  });

  describe('jitter (RFC 3550 §6.4.1)', () => {
    it('moves 1/16 of the way to each |D| and so converges to the step of an alternating pattern', () => {
      const timing = new HitTiming();
      observe(timing, 10, 0);
      expect(timing.jitterMs).toBe(0); // one transit: no difference yet
      for (let k = 1; k <= 200; k++) {
        observe(timing, k % 2 === 1 ? 22 : 10, k * 100);
        // J_k = 12 · (1 − (15/16)^k): the closed form of J += (|D| − J) / 16 with |D| = 12.
        if (k === 1 || k === 16 || k === 200) expect(timing.jitterMs).toBeCloseTo(12 * (1 - (15 / 16) ** k), 9);
      }
      expect(timing.jitterMs).toBeCloseTo(12, 3);
    });

    it('is 0 for a constant transit, whatever its size, and decays back after a single spike', () => {
      const timing = new HitTiming();
      for (let k = 0; k < 50; k++) observe(timing, 40, k * 100);
      expect(timing.jitterMs).toBe(0);
      observe(timing, 56, 5_000); // |D| = 16: J = 1
      expect(timing.jitterMs).toBe(1);
      observe(timing, 40, 5_100); // |D| = 16 again
      expect(timing.jitterMs).toBeCloseTo(1 + 15 / 16, 9);
      for (let k = 0; k < 100; k++) observe(timing, 40, 6_000 + k * 100);
      expect(timing.jitterMs).toBeLessThan(0.01);
    });

    it('ignores transits that are not numbers', () => {
      const timing = new HitTiming();
      observe(timing, 10, 0);
      observe(timing, Number.NaN, 100);
      observe(timing, Number.POSITIVE_INFINITY, 200);
      observe(timing, 10, 300);
      expect(timing.jitterMs).toBe(0);
      expect(timing.oneWayMs(IN_STEP)).toBe(10);
    });
  });

  it(`gives the median of the last ${TRANSITS} transits as the one-way delay`, () => {
    const timing = new HitTiming();
    for (const [k, transit] of [5, 1, 9, 3, 7].entries()) observe(timing, transit, k);
    expect(timing.oneWayMs(IN_STEP)).toBe(5);
    for (let k = 0; k < TRANSITS - 1; k++) observe(timing, 100, 10 + k);
    expect(timing.oneWayMs(IN_STEP)).toBe(100); // only one of the first five is still kept
  });

  describe('steady delay', () => {
    it('is the 98th percentile of the transits plus the margin, rounded up', () => {
      const timing = new HitTiming();
      // Transits 1..50 (shuffled): the 98th percentile of 50 is the 49th smallest, 49.
      for (let i = 0; i < 50; i++) observe(timing, ((i * 17) % 50) + 1, i * 100);
      const tap = 10_000;
      expect(timing.steadyPlayAt(tap, IN_STEP, tap + 5)).toBe(tap + 49 + STEADY_MARGIN_MS);
      expect(timing.steadyDelayMs).toBe(49 + STEADY_MARGIN_MS);
    });

    it('with a full window, ignores the worst 2% of transits (one hiccup in 64 does not set the delay)', () => {
      const timing = new HitTiming();
      phrase(timing, 0, TRANSITS - 1, 100, () => 8.4);
      observe(timing, 120, 6_400); // one hiccup
      play(timing, 10_000, 8);
      expect(timing.steadyDelayMs).toBe(Math.ceil(8.4 + STEADY_MARGIN_MS));
    });

    it('never rests on the largest transit: one stall among a few dozen makes one hit late, not a slow phrase', () => {
      const timing = new HitTiming();
      // 40 hits (fewer than 50, where the 98th percentile would be the largest) and one stall of 120 ms.
      let tap = phrase(timing, 0, 20, 100, () => 10);
      play(timing, tap, 120);
      tap = phrase(timing, tap + 100, 19, 100, () => 10) + PHRASE_GAP_MS;
      expect(play(timing, tap, 10)).toBe(tap + 10 + STEADY_MARGIN_MS);
      expect(timing.steadyDelayMs).toBe(10 + STEADY_MARGIN_MS);
      // Two transits of 30 are a path, not a stall: the delay covers them.
      const slow = new HitTiming();
      tap = phrase(slow, 0, 38, 100, (i) => (i === 5 || i === 30 ? 30 : 10)) + PHRASE_GAP_MS;
      play(slow, tap, 10);
      expect(slow.steadyDelayMs).toBe(30 + STEADY_MARGIN_MS);
      // A single transit is all there is to go on.
      const one = new HitTiming();
      observe(one, 7, 0);
      expect(one.steadyPlayAt(5_000, IN_STEP, 5_001)).toBe(5_000 + 7 + STEADY_MARGIN_MS);
    });

    it(`is at least ${MIN_STEADY_DELAY_MS} ms (loopback) and at most ${MAX_STEADY_DELAY_MS} ms (a bad network)`, () => {
      const loopback = new HitTiming();
      phrase(loopback, 0, 10, 100, () => -3); // an offset estimate a little off can make transits look negative
      expect(loopback.steadyPlayAt(5_000, IN_STEP, 4_997)).toBe(5_000 + MIN_STEADY_DELAY_MS);
      const awful = new HitTiming();
      phrase(awful, 0, 10, 100, () => 400);
      expect(awful.steadyPlayAt(5_000, IN_STEP, 5_001)).toBe(5_000 + MAX_STEADY_DELAY_MS);
    });

    it('keeps the spacing of the taps: every on-time hit plays at its tap time + the same delay', () => {
      const timing = new HitTiming();
      let tap = phrase(timing, 0, 20, 100, (i) => 10 + (i % 3)); // transits 10–12
      tap += PHRASE_GAP_MS;
      const lateBefore = timing.late; // the first hits, timed against one or two transits, may be late
      const taps = [0, 125, 250, 333, 500, 625].map((t) => tap + t);
      const played = taps.map((t, i) => play(timing, t, 9 + (i % 4)));
      const delay = timing.steadyDelayMs;
      expect(delay).toBe(12 + STEADY_MARGIN_MS);
      expect(played).toEqual(taps.map((t) => t + delay));
      expect(timing.late).toBe(lateBefore);
    });

    it('keeps the clock offset of the phrase start for the whole phrase, unless the clock jumped', () => {
      const timing = new HitTiming();
      // A controller whose clock is 1000 ms ahead, known to be.
      let tap = phrase(timing, 0, 20, 100, () => 10, 1000, ahead(1000)) + PHRASE_GAP_MS;
      const delay = 10 + STEADY_MARGIN_MS;
      expect(play(timing, tap, 10, 1000, ahead(1000))).toBe(tap + delay);
      // The estimate is refined by 6 ms mid-phrase: plans do not move.
      expect(play(timing, tap + 100, 10, 1000, ahead(1006))).toBe(tap + 100 + delay);
      // A clock that jumped (an estimate off by more than OFFSET_JUMP_MS) is followed at once.
      expect(play(timing, tap + 200, 10, 1080, ahead(1080))).toBe(tap + 200 + delay);
      tap += 300;
      const unsynced: ClockFix = { offsetMs: 0, at: Number.NaN, driftPpm: 0 };
      expect(timing.steadyPlayAt(tap + 1080, unsynced, tap + 10)).toBeNaN(); // not synced: at once
      expect(timing.oneWayMs(unsynced)).toBeNaN();
    });

    it('puts the transits kept into our clock with the estimate of now, so a refined estimate corrects them all', () => {
      const timing = new HitTiming();
      // Clocks in step, but the first estimate (right after the sync burst, on a busy machine) is 3 ms off.
      let tap = phrase(timing, 0, 40, 100, () => 10, 0, ahead(3));
      expect(timing.oneWayMs(ahead(3))).toBe(13);
      // Clock sync refines its estimate: every transit kept follows, not only the next ones.
      expect(timing.oneWayMs(IN_STEP)).toBe(10);
      // And a phrase started with the refined estimate gets the delay of the true transits.
      tap += PHRASE_GAP_MS;
      expect(play(timing, tap, 10, 0, IN_STEP)).toBe(tap + 10 + STEADY_MARGIN_MS);
      expect(timing.steadyDelayMs).toBe(10 + STEADY_MARGIN_MS);
    });

    it('plans the same true play time whatever error the estimate has at the phrase start', () => {
      // The tap time and the transits are put into our clock with the same estimate, so its error
      // cancels out: a hit is neither planned before its transits allow nor later than they need.
      for (const error of [-4, 0, 4]) {
        const timing = new HitTiming();
        let tap = phrase(timing, 0, 40, 100, () => 10, 1000, ahead(1000)) + PHRASE_GAP_MS;
        expect(play(timing, tap, 10, 1000, ahead(1000 + error))).toBe(tap + 10 + STEADY_MARGIN_MS);
        expect(timing.steadyDelayMs).toBe(10 + error + STEADY_MARGIN_MS); // as the estimate sees it
        tap += 100;
        expect(play(timing, tap, 10, 1000, ahead(1000 + error))).toBe(tap + 10 + STEADY_MARGIN_MS);
        expect(timing.late).toBe(0);
      }
    });

    it('measures jitter on raw transits: a clock estimate that moves is no jitter', () => {
      const timing = new HitTiming();
      for (let k = 0; k < 40; k++) timing.observe(k * 100, k * 100 + 10, ahead(k % 2 === 0 ? 0 : 3));
      expect(timing.jitterMs).toBe(0);
    });

    it('forgets its transits when the controller’s clock is another (a new channel)', () => {
      const timing = new HitTiming();
      const tap = phrase(timing, 0, 20, 100, () => 10, 1000, ahead(1000)) + PHRASE_GAP_MS;
      timing.clockReset();
      expect(timing.oneWayMs(ahead(5))).toBeNaN();
      expect(timing.steadyPlayAt(tap + 5, ahead(5), tap + 10)).toBeNaN(); // nothing timed on this clock yet
      timing.observe(tap + 5, tap + 12, ahead(5));
      expect(timing.oneWayMs(ahead(5))).toBe(12);
    });

    it('carries the phrase’s offset on by the clocks’ drift (a phrase may last minutes)', () => {
      const timing = new HitTiming();
      const ppm = 50; // the controller's clock gains 50 µs a second on ours
      let tap = phrase(timing, 0, 20, 100, () => 10, 1000, ahead(1000)) + PHRASE_GAP_MS;
      const delay = 10 + STEADY_MARGIN_MS;
      // A phrase of 2 minutes, a hit every 100 ms: each is planned at its true tap time + the delay.
      const start = tap;
      // Made at the phrase's first arrival and never refined after.
      const estimate: ClockFix = { offsetMs: 1000, at: start + 10, driftPpm: ppm };
      for (let i = 0; i <= 1_200; i++, tap += 100) {
        const skew = 1000 + ((tap - start) * ppm) / 1e6;
        const playAt = timing.steadyPlayAt(tap + skew, estimate, tap + 10);
        timing.observe(tap + skew, tap + 10, estimate);
        if (i % 300 === 0) expect(playAt).toBeCloseTo(tap + delay, 6);
      }
      expect(timing.late).toBe(0);
    });

    it('plays at once, and does not count late, a hit whose tap time is in the future (a broken or hostile phone)', () => {
      const timing = new HitTiming();
      const tap = phrase(timing, 0, 20, 100, () => 10) + PHRASE_GAP_MS;
      const lateBefore = timing.late;
      expect(timing.steadyPlayAt(tap + 1e12, IN_STEP, tap + 10)).toBeNaN();
      expect(timing.lastLate).toBe(false);
      expect(timing.late).toBe(lateBefore);
      observe(timing, -1e12, tap + 10); // and its "transit" is no transit
      expect(timing.oneWayMs(IN_STEP)).toBe(10);
    });

    it(`does not move mid-phrase, and moves at the start of the next one (after ${PHRASE_GAP_MS} ms of silence)`, () => {
      const timing = new HitTiming();
      let tap = phrase(timing, 0, TRANSITS, 100, () => 20);
      tap += PHRASE_GAP_MS;
      play(timing, tap, 20);
      expect(timing.steadyDelayMs).toBe(20 + STEADY_MARGIN_MS);
      // The network gets better mid-phrase: every transit in the window is now 4 ms, but the delay stays.
      tap = phrase(timing, tap + 100, TRANSITS, PHRASE_GAP_MS - 1, () => 4);
      expect(timing.steadyDelayMs).toBe(20 + STEADY_MARGIN_MS);
      expect(timing.oneWayMs(IN_STEP)).toBe(4);
      // A gap of exactly PHRASE_GAP_MS (arrival to arrival) starts a phrase: now it follows the transits.
      const last = tap - (PHRASE_GAP_MS - 1) + 4; // the previous hit's arrival
      const nextTap = last + PHRASE_GAP_MS - 4;
      expect(play(timing, nextTap, 4)).toBe(nextTap + 4 + STEADY_MARGIN_MS);
      expect(timing.steadyDelayMs).toBe(4 + STEADY_MARGIN_MS);
      expect(timing.late).toBe(0);
    });

    it('plays a hit that arrives after its steady time now, and counts it late', () => {
      const timing = new HitTiming();
      let tap = phrase(timing, 0, 20, 100, () => 10) + PHRASE_GAP_MS;
      expect(timing.late).toBe(0);
      expect(play(timing, tap, 10)).toBe(tap + 10 + STEADY_MARGIN_MS);
      expect(play(timing, tap + 100, 10 + STEADY_MARGIN_MS - 0.1)).toBe(tap + 110 + STEADY_MARGIN_MS); // 0.1 ms to spare
      expect(play(timing, tap + 200, 11 + STEADY_MARGIN_MS)).toBeNaN();
      expect(timing.late).toBe(1);
      expect(timing.steadyDelayMs).toBe(10 + STEADY_MARGIN_MS);
      // Far apart (past LATE_SPAN hits), so the delay does not rise in between.
      tap = phrase(timing, tap + 300, LATE_SPAN, 100, () => 10);
      expect(play(timing, tap, 10 + STEADY_MARGIN_MS)).toBeNaN(); // exactly at its time: too late to schedule
      expect(timing.late).toBe(2);
    });

    it(`rises at once, mid-phrase, after ${LATE_LIMIT} late hits among the last ${LATE_SPAN}, to cover them`, () => {
      const timing = new HitTiming();
      let tap = phrase(timing, 0, TRANSITS, 100, () => 10); // a full window of 10 ms
      tap += PHRASE_GAP_MS;
      play(timing, tap, 10);
      expect(timing.steadyDelayMs).toBe(10 + STEADY_MARGIN_MS);
      // The network slows to 30 ms, mid-phrase.
      expect(play(timing, tap + 100, 30)).toBeNaN();
      expect(timing.steadyDelayMs).toBe(10 + STEADY_MARGIN_MS); // one late hit is not a trend
      expect(play(timing, tap + 200, 30)).toBeNaN();
      expect(timing.late).toBe(LATE_LIMIT);
      expect(timing.steadyDelayMs).toBeGreaterThanOrEqual(30 + STEADY_MARGIN_MS);
      expect(timing.steadyDelayMs).toBeLessThanOrEqual(MAX_STEADY_DELAY_MS);
      // From the next hit on, the slower hits are on time again, all with one delay.
      const delay = timing.steadyDelayMs;
      for (let i = 3; i < 10; i++) expect(play(timing, tap + i * 100, 30)).toBe(tap + i * 100 + delay);
      expect(timing.late).toBe(LATE_LIMIT);
    });

    it(`does not rise for late hits further apart than ${LATE_SPAN} hits, nor ever go down mid-phrase`, () => {
      const timing = new HitTiming();
      let tap = phrase(timing, 0, TRANSITS, 100, () => 10) + PHRASE_GAP_MS;
      play(timing, tap, 10);
      tap += 100;
      expect(play(timing, tap, 25)).toBeNaN();
      for (let i = 1; i < LATE_SPAN; i++)
        expect(play(timing, tap + i * 100, 5)).toBe(tap + i * 100 + 10 + STEADY_MARGIN_MS);
      expect(play(timing, tap + LATE_SPAN * 100, 25)).toBeNaN();
      expect(timing.late).toBe(2);
      expect(timing.steadyDelayMs).toBe(10 + STEADY_MARGIN_MS);
    });
  });
});

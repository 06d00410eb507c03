import { describe, expect, it } from 'vitest';
import {
  HitTiming,
  LATE_LIMIT,
  LATE_SPAN,
  MAX_STEADY_DELAY_MS,
  MIN_STEADY_DELAY_MS,
  PHRASE_GAP_MS,
  STEADY_MARGIN_MS,
  TRANSITS,
} from '../../client/net/hit-timing.ts';

/**
 * A steady-mode hit as daw-peers.ts handles it: tapped at `tap` (DAW clock), arriving `transit`
 * ms later; asks when to play it, then records its transit. Returns the play time (NaN: now).
 */
function play(timing: HitTiming, tap: number, transit: number): number {
  const arrived = tap + transit;
  const playAt = timing.steadyPlayAt(tap, 0, 0, arrived); // clocks in step: offset 0
  timing.observe(transit, arrived);
  return playAt;
}

/** `count` hits `every` ms apart from `start`, each with the transit `transit(i)`; returns the next tap time. */
function phrase(
  timing: HitTiming,
  start: number,
  count: number,
  every: number,
  transit: (i: number) => number,
): number {
  for (let i = 0; i < count; i++) play(timing, start + i * every, transit(i));
  return start + count * every;
}

describe('HitTiming', () => {
  it('knows nothing before the first hit: no one-way delay, no steady delay, and plays it now without calling it late', () => {
    const timing = new HitTiming();
    expect(timing.oneWayMs).toBeNaN();
    expect(timing.steadyDelayMs).toBeNaN();
    expect(timing.steadyPlayAt(1000, 0, 0, 1010)).toBeNaN();
    expect(timing.late).toBe(0);
    expect(timing.jitterMs).toBe(0);
  });

  describe('jitter (RFC 3550 §6.4.1)', () => {
    it('moves 1/16 of the way to each |D| and so converges to the step of an alternating pattern', () => {
      const timing = new HitTiming();
      timing.observe(10, 0);
      expect(timing.jitterMs).toBe(0); // one transit: no difference yet
      for (let k = 1; k <= 200; k++) {
        timing.observe(k % 2 === 1 ? 22 : 10, k * 100);
        // J_k = 12 · (1 − (15/16)^k): the closed form of J += (|D| − J) / 16 with |D| = 12.
        if (k === 1 || k === 16 || k === 200) expect(timing.jitterMs).toBeCloseTo(12 * (1 - (15 / 16) ** k), 9);
      }
      expect(timing.jitterMs).toBeCloseTo(12, 3);
    });

    it('is 0 for a constant transit, whatever its size, and decays back after a single spike', () => {
      const timing = new HitTiming();
      for (let k = 0; k < 50; k++) timing.observe(40, k * 100);
      expect(timing.jitterMs).toBe(0);
      timing.observe(56, 5_000); // |D| = 16: J = 1
      expect(timing.jitterMs).toBe(1);
      timing.observe(40, 5_100); // |D| = 16 again
      expect(timing.jitterMs).toBeCloseTo(1 + 15 / 16, 9);
      for (let k = 0; k < 100; k++) timing.observe(40, 6_000 + k * 100);
      expect(timing.jitterMs).toBeLessThan(0.01);
    });

    it('ignores transits that are not numbers', () => {
      const timing = new HitTiming();
      timing.observe(10, 0);
      timing.observe(Number.NaN, 100);
      timing.observe(Number.POSITIVE_INFINITY, 200);
      timing.observe(10, 300);
      expect(timing.jitterMs).toBe(0);
      expect(timing.oneWayMs).toBe(10);
    });
  });

  it(`gives the median of the last ${TRANSITS} transits as the one-way delay`, () => {
    const timing = new HitTiming();
    for (const [k, transit] of [5, 1, 9, 3, 7].entries()) timing.observe(transit, k);
    expect(timing.oneWayMs).toBe(5);
    for (let k = 0; k < TRANSITS - 1; k++) timing.observe(100, 10 + k);
    expect(timing.oneWayMs).toBe(100); // only one of the first five is still kept
  });

  describe('steady delay', () => {
    it('is the 98th percentile of the transits plus the margin, rounded up', () => {
      const timing = new HitTiming();
      // Transits 1..50 (shuffled): the 98th percentile of 50 is the 49th smallest, 49.
      for (let i = 0; i < 50; i++) timing.observe(((i * 17) % 50) + 1, i * 100);
      const tap = 10_000;
      expect(timing.steadyPlayAt(tap, 0, 0, tap + 5)).toBe(tap + 49 + STEADY_MARGIN_MS);
      expect(timing.steadyDelayMs).toBe(49 + STEADY_MARGIN_MS);
    });

    it('with a full window, ignores the worst 2% of transits (one hiccup in 64 does not set the delay)', () => {
      const timing = new HitTiming();
      phrase(timing, 0, TRANSITS - 1, 100, () => 8.4);
      timing.observe(120, 6_400); // one hiccup
      play(timing, 10_000, 8);
      expect(timing.steadyDelayMs).toBe(Math.ceil(8.4 + STEADY_MARGIN_MS));
    });

    it(`is at least ${MIN_STEADY_DELAY_MS} ms (loopback) and at most ${MAX_STEADY_DELAY_MS} ms (a bad network)`, () => {
      const loopback = new HitTiming();
      phrase(loopback, 0, 10, 100, () => -3); // an offset estimate a little off can make transits look negative
      expect(loopback.steadyPlayAt(5_000, 0, 0, 4_997)).toBe(5_000 + MIN_STEADY_DELAY_MS);
      const awful = new HitTiming();
      phrase(awful, 0, 10, 100, () => 400);
      expect(awful.steadyPlayAt(5_000, 0, 0, 5_001)).toBe(5_000 + MAX_STEADY_DELAY_MS);
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
      let tap = phrase(timing, 0, 20, 100, () => 10) + PHRASE_GAP_MS;
      const delay = 10 + STEADY_MARGIN_MS;
      /** A hit tapped at `at` (DAW clock) by a controller whose clock is `skew` ahead, estimated as `estimate`. */
      const hit = (at: number, skew: number, estimate: number) => {
        const playAt = timing.steadyPlayAt(at + skew, estimate, 0, at + 10);
        timing.observe(10, at + 10);
        return playAt;
      };
      // Controller clock 1000 ms ahead; the estimate is refined by 6 ms mid-phrase: plans do not move.
      expect(hit(tap, 1000, 1000)).toBe(tap + delay);
      expect(hit(tap + 100, 1000, 1006)).toBe(tap + 100 + delay);
      // A clock that jumped (an estimate off by more than OFFSET_JUMP_MS) is followed at once.
      expect(hit(tap + 200, 1080, 1080)).toBe(tap + 200 + delay);
      // A new phrase takes the estimate as it is then.
      tap += 200 + PHRASE_GAP_MS;
      expect(hit(tap, 1006, 1006)).toBe(tap + delay);
      expect(timing.steadyPlayAt(tap + 100, Number.NaN, 0, tap + 110)).toBeNaN(); // not synced: at once
    });

    it('carries the phrase’s offset on by the clocks’ drift (a phrase may last minutes)', () => {
      const timing = new HitTiming();
      let tap = phrase(timing, 0, 20, 100, () => 10) + PHRASE_GAP_MS;
      const delay = 10 + STEADY_MARGIN_MS;
      const ppm = 50; // the controller's clock gains 50 µs a second on ours
      // A phrase of 2 minutes, a hit every 100 ms: each is planned at its true tap time + the delay.
      const start = tap;
      for (let i = 0; i <= 1_200; i++, tap += 100) {
        const skew = 1000 + ((tap - start) * ppm) / 1e6;
        const playAt = timing.steadyPlayAt(tap + skew, 1000, ppm, tap + 10); // the estimate as at the start
        timing.observe(10, tap + 10);
        if (i % 300 === 0) expect(playAt).toBeCloseTo(tap + delay, 6);
      }
      expect(timing.late).toBe(0);
    });

    it('plays at once, and does not count late, a hit whose tap time is in the future (a broken or hostile phone)', () => {
      const timing = new HitTiming();
      const tap = phrase(timing, 0, 20, 100, () => 10) + PHRASE_GAP_MS;
      const lateBefore = timing.late;
      expect(timing.steadyPlayAt(tap + 1e12, 0, 0, tap + 10)).toBeNaN();
      expect(timing.lastLate).toBe(false);
      expect(timing.late).toBe(lateBefore);
      timing.observe(-1e12, tap + 10); // and its "transit" is no transit
      expect(timing.oneWayMs).toBe(10);
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
      expect(timing.oneWayMs).toBe(4);
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

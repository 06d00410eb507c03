import { describe, expect, it } from 'vitest';
import {
  ClockSync,
  DRIFT_SPAN_MS,
  MAX_DRIFT_PPM,
  SYNC_BEST,
  SYNC_MAX_RTT_MS,
  SYNC_MIN_SAMPLES,
  SYNC_WINDOW,
} from '../../client/net/clock-sync.ts';
import { exponential, seededRandom } from '../helpers/random.ts';

/**
 * One ping → pong round trip: sent at `t0` (our clock), `forward` ms on the way out, `back` ms
 * on the way home; the other clock reads ours + `offset(t)` at our time `t`.
 */
function roundTrip(sync: ClockSync, t0: number, forward: number, back: number, offset: (t: number) => number): boolean {
  const answeredAt = t0 + forward;
  return sync.sample(t0, answeredAt + offset(answeredAt), answeredAt + back);
}

/** A sample whose own offset is exactly `offset` and whose round trip is `rtt` (symmetric path). */
const exact = (sync: ClockSync, t0: number, rtt: number, offset: number) =>
  roundTrip(sync, t0, rtt / 2, rtt / 2, () => offset);

describe('ClockSync', () => {
  it('is not synced, and knows no offset, until SYNC_MIN_SAMPLES samples', () => {
    const sync = new ClockSync();
    for (let i = 0; i < SYNC_MIN_SAMPLES - 1; i++) {
      expect(exact(sync, i * 1000, 4, 250)).toBe(true);
      expect(sync.synced).toBe(false);
      expect(sync.offsetAt(i * 1000)).toBeNaN();
    }
    exact(sync, 5000, 4, 250);
    expect(sync.synced).toBe(true);
    expect(sync.samples).toBe(SYNC_MIN_SAMPLES);
    expect(sync.offsetAt(5000)).toBe(250);
    expect(sync.estimate).toMatchObject({ offsetMs: 250, bestRttMs: 4, driftPpm: 0 });
  });

  it.each([
    ['a negative round trip', 100, 50, 90],
    ['a round trip over SYNC_MAX_RTT_MS', 100, 50, 100 + SYNC_MAX_RTT_MS + 0.5],
    ['a NaN answer', 100, Number.NaN, 110],
    ['an infinite answer', 100, Number.POSITIVE_INFINITY, 110],
    ['a NaN send time', Number.NaN, 50, 110],
  ])('refuses %s and does not count it', (_name, t0, at, t3) => {
    const sync = new ClockSync();
    expect(sync.sample(t0, at, t3)).toBe(false);
    expect(sync.samples).toBe(0);
  });

  it('takes a round trip of exactly SYNC_MAX_RTT_MS, and one of 0 ms', () => {
    const sync = new ClockSync();
    expect(sync.sample(0, 500, SYNC_MAX_RTT_MS)).toBe(true);
    expect(sync.sample(2000, 2000, 2000)).toBe(true);
    expect(sync.samples).toBe(2);
  });

  it(`takes the median offset of the ${SYNC_BEST} lowest-rtt samples, dated by that sample`, () => {
    const sync = new ClockSync();
    // Slow round trips first, all saying +20 (each within its rtt/2 = 25 of the truth, 100).
    // All within DRIFT_SPAN_MS, so no drift is measured.
    for (let i = 0; i < 10; i++) exact(sync, i * 500, 50, 120);
    // The five fastest, offsets spread within their own rtt/2: the median is 100.5 (the mean would be 100.28).
    const fastest: [number, number][] = [
      [2, 100.9],
      [3, 99],
      [4, 100.5],
      [5, 100],
      [6, 101],
    ];
    for (const [k, [rtt, offset]] of fastest.entries()) exact(sync, 6_000 + k * 1000, rtt, offset);
    expect(sync.estimate.offsetMs).toBe(100.5);
    expect(sync.estimate.bestRttMs).toBe(2);
    // The rtt-4 sample went at 8 000 and was answered 2 ms later: that is when the offset held.
    expect(sync.estimate.at).toBe(8_002);
    expect(sync.offsetAt(60_000)).toBe(100.5); // no drift measured: no extrapolation
  });

  it('with an even number of best samples, averages the middle two offsets and times', () => {
    const sync = new ClockSync();
    for (const [k, offset] of [10, 13, 11, 16].entries()) exact(sync, k * 1000, 2 + k, offset);
    expect(sync.synced).toBe(true);
    expect(sync.estimate.offsetMs).toBe(12); // (11 + 13) / 2
    expect(sync.estimate.at).toBe((1000 + 1.5 + 2000 + 2) / 2);
  });

  it('stays within rtt / 2 of the truth through asymmetric queueing, where a plain mean does not', () => {
    const random = seededRandom(7);
    const truth = 3_456.7;
    const sync = new ClockSync();
    const offsets: number[] = [];
    const rtts: number[] = [];
    for (let i = 0; i < 60; i++) {
      // Uploads from a phone queue far more than downloads (a third of them behind a burst).
      const forward = 1 + exponential(random, 1) + (random() < 0.3 ? 20 + exponential(random, 30) : 0);
      const back = 1 + exponential(random, 0.5);
      const t0 = i * 1000;
      expect(roundTrip(sync, t0, forward, back, () => truth)).toBe(true);
      offsets.push(truth + (forward - back) / 2);
      rtts.push(forward + back);
    }
    const recent = offsets.slice(-SYNC_WINDOW);
    const naiveMean = recent.reduce((sum, o) => sum + o, 0) / recent.length;
    const fastest = rtts.slice(-SYNC_WINDOW).sort((a, b) => a - b);
    expect(sync.estimate.bestRttMs).toBeCloseTo(fastest[0] as number, 9);
    // The median of the SYNC_BEST fastest is one of them, so it is within that one's rtt / 2
    // (not necessarily within the very best one's: a median trades that for robustness).
    const bound = (fastest[SYNC_BEST - 1] as number) / 2;
    expect(bound).toBeLessThan(3);
    expect(Math.abs(sync.estimate.offsetMs - truth)).toBeLessThanOrEqual(bound);
    expect(Math.abs(naiveMean - truth)).toBeGreaterThan(bound * 3);
  });

  it(`forgets samples beyond the last ${SYNC_WINDOW}`, () => {
    const sync = new ClockSync();
    for (let i = 0; i < SYNC_BEST; i++) exact(sync, i * 1000, 1, 40); // very fast, an old offset
    for (let i = 0; i < SYNC_WINDOW - SYNC_BEST; i++) exact(sync, 10_000 + i * 1000, 10, 70);
    expect(sync.estimate.offsetMs).toBe(40); // the fast ones still win while they are kept
    expect(sync.estimate.bestRttMs).toBe(1);
    // Three more: three of the fast ones are overwritten, and the two left are not a majority.
    for (let i = 0; i < 3; i++) exact(sync, 50_000 + i * 1000, 10, 70);
    expect(sync.estimate.offsetMs).toBe(70);
    expect(sync.estimate.bestRttMs).toBe(1);
    for (let i = 0; i < 2; i++) exact(sync, 60_000 + i * 1000, 10, 70);
    expect(sync.estimate.bestRttMs).toBe(10);
  });

  describe('drift', () => {
    /** Samples once a second for `seconds`, mostly clean (±0.1 ms), every third one queued 20–50 ms on the way out. */
    function drifting(ppm: number, seconds: number, seed = 1) {
      const random = seededRandom(seed);
      const sync = new ClockSync();
      const truth = (t: number) => -2_000 + (t * ppm) / 1e6;
      let t0 = 0;
      for (let i = 0; i < seconds; i++) {
        t0 = 1_000_000 + i * 1000 + random() * 50;
        const queued = i % 3 === 0 ? 20 + random() * 30 : 0;
        roundTrip(sync, t0, 1 + random() * 0.2 + queued, 1 + random() * 0.2, truth);
      }
      return { sync, truth, last: t0 };
    }

    it.each([100, -60, 30])('measures %d ppm, and extrapolates the offset by it', (ppm) => {
      const { sync, truth, last } = drifting(ppm, 90);
      expect(Math.abs(sync.estimate.driftPpm - ppm)).toBeLessThan(10);
      // The estimate comes from samples up to SYNC_WINDOW s old: without its own time and the
      // drift, it would be (age × drift) off, 1.6 ms at 100 ppm.
      expect(Math.abs(sync.offsetAt(last) - truth(last))).toBeLessThan(0.3);
      expect(Math.abs(sync.offsetAt(last + 10_000) - truth(last + 10_000))).toBeLessThan(0.4);
    });

    it(`measures none before estimates ${DRIFT_SPAN_MS / 1000} s apart`, () => {
      const { sync } = drifting(100, 15);
      expect(sync.synced).toBe(true);
      expect(sync.estimate.driftPpm).toBe(0);
      expect(sync.offsetAt(sync.estimate.at + 60_000)).toBe(sync.estimate.offsetMs);
    });

    it(`ignores a slope beyond ${MAX_DRIFT_PPM} ppm (noise, not quartz), keeping the drift known so far`, () => {
      expect(drifting(5_000, 90).sync.estimate.driftPpm).toBe(0);
      expect(drifting(-5_000, 90).sync.estimate.driftPpm).toBe(0);
      // 100 ppm for a while, then a burst of noise that looks like 5,000 ppm: the 100 stays.
      const sync = new ClockSync();
      const truth = (t: number) => -2_000 + (t * 100) / 1e6;
      for (let i = 0; i < 90; i++) roundTrip(sync, 1_000_000 + i * 1000, 1, 1, truth);
      expect(sync.estimate.driftPpm).toBeCloseTo(100, 0);
      for (let i = 90; i < 140; i++) roundTrip(sync, 1_000_000 + i * 1000, 1, 1, (t) => truth(t) + (i - 90) * 5);
      expect(sync.estimate.driftPpm).toBeCloseTo(100, 0);
    });
  });

  it('forgets everything on reset (the other page reloaded): the old fast samples no longer count', () => {
    const { sync } = (() => {
      const s = new ClockSync();
      for (let i = 0; i < 40; i++) roundTrip(s, i * 1000, 0.5, 0.5, (t) => 10 + t * 1e-4); // 100 ppm
      return { sync: s };
    })();
    expect(sync.estimate.driftPpm).not.toBe(0);
    sync.reset();
    expect(sync.synced).toBe(false);
    expect(sync.offsetAt(50_000)).toBeNaN();
    expect(sync.estimate).toMatchObject({ offsetMs: 0, driftPpm: 0 });
    expect(sync.estimate.bestRttMs).toBeNaN();
    for (let i = 0; i < SYNC_MIN_SAMPLES; i++) exact(sync, 100_000 + i * 1000, 8, -300);
    expect(sync.estimate.offsetMs).toBe(-300);
    expect(sync.estimate.bestRttMs).toBe(8);
    expect(sync.offsetAt(200_000)).toBe(-300); // the old drift went with the old clock
  });
});

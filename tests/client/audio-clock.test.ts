import { describe, expect, it } from 'vitest';
import { AudioClock, CLOCK_READINGS, JUMP_MS, SLEW_MS_PER_S, WINDOW_MS } from '../../client/audio/audio-clock.ts';
import { seededRandom } from '../helpers/random.ts';

/** One render quantum at 44.1 kHz, ms. */
const QUANTUM_MS = (128 / 44_100) * 1000;

/**
 * An AudioContext's `currentTime` as headless Chromium moves it: in bursts of 3–4 render quanta
 * every ~10 ms (4 when rendering has fallen behind real time, else 3), flat in between. So
 * (currentTime − wall) is a sawtooth; its top edge is where the audio clock really is.
 */
function burstyContext(seed: number, startWall: number, startContext: number) {
  const random = seededRandom(seed);
  let rendered = 0; // ms of audio rendered since the start
  let nextBurst = startWall;
  /** The top edges (contextTime − wall, s, right after each burst) and their times. */
  const tops: [number, number][] = [];
  let suspendedMs = 0;
  return {
    /** currentTime (s) at wall-clock `wall`, which must not go backwards. */
    at(wall: number): number {
      while (nextBurst <= wall) {
        const behind = nextBurst - suspendedMs - startWall - rendered;
        rendered += (behind > 0 ? 4 : 3) * QUANTUM_MS;
        tops.push([nextBurst, startContext + rendered / 1000 - nextBurst / 1000]);
        nextBurst += 9 + random() * 2;
      }
      return startContext + rendered / 1000;
    },
    /** The highest top edge of the bursts in (from, to]. */
    edge(from: number, to: number): number {
      let edge = Number.NEGATIVE_INFINITY;
      for (const [at, top] of tops) if (at > from && at <= to && top > edge) edge = top;
      return edge;
    },
    /** The context stops for `ms` (suspend() … resume()): its time does not move meanwhile. */
    suspend(ms: number): void {
      suspendedMs += ms;
      nextBurst += ms;
    },
  };
}

/** The mapping in use, as contextTime − wall (s). */
const mapping = (clock: AudioClock, wall: number) => clock.toContext(wall) - wall / 1000;

describe('AudioClock', () => {
  it('is not ready, and maps nothing, before its first reading', () => {
    const clock = new AudioClock();
    expect(clock.ready).toBe(false);
    expect(clock.toContext(1000)).toBeNaN();
    expect(clock.toWall(1)).toBeNaN();
    clock.observe(Number.NaN, 1000);
    clock.observe(1, Number.POSITIVE_INFINITY);
    expect(clock.ready).toBe(false);
  });

  it('maps both ways with the first reading, exactly', () => {
    const clock = new AudioClock();
    const wall = 1_763_790_000_000.5;
    clock.observe(12.25, wall);
    expect(clock.ready).toBe(true);
    expect(clock.toContext(wall)).toBeCloseTo(12.25, 6);
    expect(clock.toContext(wall + 500)).toBeCloseTo(12.75, 6);
    expect(clock.toWall(13.25)).toBeCloseTo(wall + 1000, 3);
    expect(clock.toWall(clock.toContext(wall + 123.4))).toBeCloseTo(wall + 123.4, 3);
  });

  describe('on a bursty sawtooth, read at random moments', () => {
    /** Long enough to climb from the bottom of the sawtooth (~10 ms) at the slew rate. */
    const warmUpMs = 25_000;
    function run(seed: number, durationMs: number) {
      const random = seededRandom(seed * 7 + 1);
      const start = 1_700_000_000_000 + seed * 1234.5;
      const context = burstyContext(seed, start, 3.7);
      const clock = new AudioClock();
      const readings: [number, number][] = []; // [wall, contextTime − wall]
      const steps: { wall: number; mapped: number; trueEdge: number; readEdge: number; meanReading: number }[] = [];
      for (let wall = start; wall < start + durationMs; wall += 5 + random() * 36) {
        const contextTime = context.at(wall);
        clock.observe(contextTime, wall);
        readings.push([wall, contextTime - wall / 1000]);
        let readEdge = Number.NEGATIVE_INFINITY;
        let sum = 0;
        const recent = readings.slice(-CLOCK_READINGS);
        for (const [at, diff] of recent) {
          if (wall - at <= WINDOW_MS && diff > readEdge) readEdge = diff;
          sum += diff;
        }
        const meanReading = sum / recent.length;
        steps.push({
          wall,
          mapped: mapping(clock, wall),
          trueEdge: context.edge(wall - 200, wall),
          readEdge,
          meanReading,
        });
      }
      return { steps: steps.filter((s) => s.wall - start >= warmUpMs), all: steps };
    }

    it.each([1, 2, 3])('after warm-up, sits at the top edge of the readings (seed %d)', (seed) => {
      const { steps } = run(seed, warmUpMs + 30_000);
      expect(steps.length).toBeGreaterThan(1000);
      for (const { mapped, readEdge, trueEdge, meanReading } of steps) {
        // At or above the readings' edge, but for the slew: that edge itself wanders by about a
        // millisecond (which of the bursts' tops a reading happened to catch), and the mapping
        // follows it slowly rather than step. Half a quantum at most below it, a quantum above.
        expect((mapped - readEdge) * 1000).toBeGreaterThan(-QUANTUM_MS / 2);
        expect((mapped - readEdge) * 1000).toBeLessThan(QUANTUM_MS);
        // The same against the true tops of the last 200 ms of bursts, which no reading may have caught.
        expect((mapped - trueEdge) * 1000).toBeGreaterThan(-QUANTUM_MS);
        // Not the middle of the ~10 ms sawtooth, where the plain readings are on average.
        expect((mapped - meanReading) * 1000).toBeGreaterThan(3);
      }
    });

    it(`never moves faster than ${SLEW_MS_PER_S} ms a second while the edge stays within ${JUMP_MS} ms`, () => {
      const { all } = run(4, 20_000);
      const settled = (all[0]?.wall ?? 0) + WINDOW_MS; // until then it follows the edge itself
      for (let k = 1; k < all.length; k++) {
        const [before, after] = [all[k - 1], all[k]];
        if (!before || !after || before.wall < settled) continue;
        const movedMs = Math.abs(after.mapped - before.mapped) * 1000;
        // 1e-3 ms: the mapping is a sum of ~1.7e9 s values, exact to a few 1e-7 s.
        expect(movedMs).toBeLessThanOrEqual(((after.wall - before.wall) / 1000) * SLEW_MS_PER_S + 1e-3);
      }
      // In the first WINDOW_MS it does move faster: from the first reading (a random point of the
      // sawtooth) up to the edge, at once, while nothing is playing yet.
      const first = all[0]?.mapped ?? Number.NaN;
      const atSettle = all.find((reading) => reading.wall >= settled)?.mapped ?? Number.NaN;
      expect((atSettle - first) * 1000).toBeGreaterThan(0.1);
    });
  });

  it(`slews to a small step of the edge, at ${SLEW_MS_PER_S} ms a second`, () => {
    const clock = new AudioClock();
    // The first WINDOW_MS: it settles on a steady edge.
    for (let wall = 0; wall <= WINDOW_MS; wall += 100) clock.observe(10 + wall / 1000, wall);
    const start = WINDOW_MS;
    // The edge moves up 20 ms (< JUMP_MS) and stays there: the mapping creeps up to it.
    for (let wall = start + 100; wall <= start + 50_000; wall += 100) {
      clock.observe(10.02 + wall / 1000, wall);
      const expected = Math.min(20, ((wall - start) / 1000) * SLEW_MS_PER_S);
      expect((mapping(clock, wall) - 10) * 1000).toBeCloseTo(expected, 6);
    }
    // …and down as slowly, once the higher readings have left the window.
    for (let wall = start + 50_100; wall <= start + 60_000; wall += 100) clock.observe(10.01 + wall / 1000, wall);
    const moved = (10.02 - mapping(clock, start + 60_000)) * 1000;
    expect(moved).toBeCloseTo(((10_000 - WINDOW_MS) / 1000) * SLEW_MS_PER_S, 1);
  });

  it(`jumps to the edge when it is more than ${JUMP_MS} ms away, up or down`, () => {
    const clock = new AudioClock();
    for (let wall = 0; wall <= 5_000; wall += 50) clock.observe(2 + wall / 1000, wall);
    clock.observe(2.06 + 5.05, 5_050); // 60 ms ahead at once
    expect((mapping(clock, 5_050) - 2) * 1000).toBeCloseTo(60, 6);
    for (let wall = 5_100; wall <= 8_000; wall += 50) clock.observe(2.06 + wall / 1000, wall);
    expect((mapping(clock, 8_000) - 2.06) * 1000).toBeCloseTo(0, 6);
    // The context was suspended for 5 s (longer than WINDOW_MS): every reading since is 5 s lower.
    clock.observe(2.06 - 5 + 13.05, 13_050);
    expect(mapping(clock, 13_050)).toBeCloseTo(2.06 - 5, 6);
  });

  it(`jumps down at once after a suspension shorter than ${WINDOW_MS} ms (the old readings are of another clock)`, () => {
    const start = 1_700_000_000_000;
    const context = burstyContext(9, start, 1);
    const clock = new AudioClock();
    let wall = start;
    for (; wall < start + 40_000; wall += 23) clock.observe(context.at(wall), wall);
    const before = mapping(clock, wall);
    context.suspend(500);
    wall += 500;
    const resumed = context.at(wall);
    clock.observe(resumed, wall);
    // The audio clock lost 500 ms on the wall clock: a hit mapped with the old mapping would play 500 ms late.
    const after = mapping(clock, wall);
    expect((before - after) * 1000).toBeGreaterThan(490);
    expect(Math.abs(clock.toContext(wall) - resumed) * 1000).toBeLessThan(15);
  });
});

import { describe, expect, it } from 'vitest';
import { isValidTempo, MAX_BEATS_PER_BAR, MAX_BPM, MIN_BPM, type Tempo } from '../../client/net/hits.ts';
import { beatMs, beatPosition, isDownbeat, nextBeat } from '../../client/state/tempo.ts';
import {
  clampBpm,
  DEFAULT_BEATS_PER_BAR,
  DEFAULT_BPM,
  initialTempo,
  nextVersion,
  withBeatsPerBar,
  withBpm,
  withRunning,
} from '../../client/state/tempo-changes.ts';

const T2026 = Date.UTC(2026, 0, 1);
/** A DAW clock reading some months into 2026. */
const NOW = Date.UTC(2026, 10, 22, 6, 30);

/** nextBeat as [index, at], with index + 0: beat 0 comes out as −0 (Math.ceil of a tiny negative), which is 0 to every use. */
function beatAfter(t: Tempo, time: number): [number, number] {
  const { index, at } = nextBeat(t, time);
  return [index + 0, at];
}

const tempo = (over: Partial<Tempo> = {}): Tempo => ({
  version: 1,
  bpm: 120,
  beatsPerBar: 4,
  running: true,
  anchor: 10_000,
  ...over,
});

describe('tempo versions', () => {
  it('are quarter seconds since 2026, so a reloaded DAW (whose last version is lost) still counts up', () => {
    expect(nextVersion(0, T2026 + 1000)).toBe(4);
    expect(nextVersion(0, NOW)).toBe(Math.floor((NOW - T2026) / 250));
    // The page reloads a second later and starts from 0: its first version is still newer.
    const before = nextVersion(0, NOW);
    expect(nextVersion(0, NOW + 1000)).toBeGreaterThan(before);
  });

  it('always grow, by one when changes come faster than four a second', () => {
    let version = nextVersion(0, NOW);
    const seen = [version];
    for (let i = 1; i <= 10; i++) {
      version = nextVersion(version, NOW + i); // ten changes within 10 ms
      seen.push(version);
    }
    expect(seen).toEqual(seen.map((_, i) => (seen[0] as number) + i));
    expect(nextVersion(version, NOW + 60_000)).toBe(Math.floor((NOW + 60_000 - T2026) / 250));
  });

  it('are valid u32 before 2026 too (a phone with its clock set back)', () => {
    expect(nextVersion(0, Date.UTC(2020, 0, 1))).toBe(1);
    expect(nextVersion(41, Date.UTC(2020, 0, 1))).toBe(42);
  });
});

describe('tempo values', () => {
  it('starts stopped at the default bpm, and valid for the wire', () => {
    const t = initialTempo(NOW);
    expect(t).toEqual({
      version: nextVersion(0, NOW),
      bpm: DEFAULT_BPM,
      beatsPerBar: DEFAULT_BEATS_PER_BAR,
      running: false,
      anchor: NOW,
    });
    expect(isValidTempo(t)).toBe(true);
    expect(initialTempo(NOW, 1000).bpm).toBe(MAX_BPM);
  });

  it.each([
    [97.34, 97.3],
    [97.35000001, 97.4],
    [MIN_BPM - 1, MIN_BPM],
    [MAX_BPM + 0.5, MAX_BPM],
    [-120, MIN_BPM],
    [Number.NaN, DEFAULT_BPM],
    [Number.POSITIVE_INFINITY, DEFAULT_BPM],
  ])('clamps bpm %d to %d', (bpm, expected) => {
    expect(clampBpm(bpm)).toBe(expected);
  });

  it('measures beats from the anchor, fractional, negative before it', () => {
    const t = tempo({ bpm: 120, anchor: 10_000 });
    expect(beatMs(t)).toBe(500);
    expect(beatPosition(t, 10_000)).toBe(0);
    expect(beatPosition(t, 11_250)).toBe(2.5);
    expect(beatPosition(t, 9_000)).toBe(-2);
  });
});

describe('tempo changes', () => {
  it('a new bpm keeps the beat where it is now (the phase runs on), and moves the anchor', () => {
    const t = tempo({ bpm: 120, anchor: 10_000, version: 7 });
    const now = 11_250; // beat 2.5
    const faster = withBpm(t, 150, now);
    expect(faster.bpm).toBe(150);
    expect(faster.version).toBeGreaterThan(7);
    expect(faster.anchor).not.toBe(t.anchor);
    expect(beatPosition(faster, now)).toBeCloseTo(2.5, 9);
    // From now on beats come every 400 ms: beat 3 is half a beat (200 ms) away, not 250.
    expect(nextBeat(faster, now)).toEqual({ index: 3, at: expect.closeTo(now + 200, 6) });
    expect(nextBeat(faster, now + 201).at).toBeCloseTo(now + 600, 6);
    expect(faster.running).toBe(true);
    expect(faster.beatsPerBar).toBe(4);
    expect(t.bpm).toBe(120); // the old value is left alone
  });

  it('a bpm out of range is clamped, and the phase still kept', () => {
    const t = tempo();
    const wild = withBpm(t, 10_000, 12_100);
    expect(wild.bpm).toBe(MAX_BPM);
    expect(beatPosition(wild, 12_100)).toBeCloseTo(beatPosition(t, 12_100), 9);
    expect(isValidTempo(wild)).toBe(true);
  });

  it('starting puts beat 0 (a downbeat) right now; stopping keeps the anchor', () => {
    const t = tempo({ running: false, anchor: 1 });
    const started = withRunning(t, true, 50_000);
    expect(started).toMatchObject({ running: true, anchor: 50_000 });
    expect(beatAfter(started, 50_000)).toEqual([0, 50_000]);
    expect(isDownbeat(started, 0)).toBe(true);
    const stopped = withRunning(started, false, 53_000);
    expect(stopped).toMatchObject({ running: false, anchor: 50_000 });
    expect(stopped.version).toBeGreaterThan(started.version);
  });

  it(`beats per bar are whole, 1 to ${MAX_BEATS_PER_BAR}`, () => {
    const t = tempo();
    expect(withBeatsPerBar(t, 3, 0).beatsPerBar).toBe(3);
    expect(withBeatsPerBar(t, 6.6, 0).beatsPerBar).toBe(7);
    expect(withBeatsPerBar(t, 0, 0).beatsPerBar).toBe(1);
    expect(withBeatsPerBar(t, 99, 0).beatsPerBar).toBe(MAX_BEATS_PER_BAR);
    const changed = withBeatsPerBar(t, 3, NOW);
    expect(changed.version).toBeGreaterThan(t.version);
    expect(changed.anchor).toBe(t.anchor);
    expect(isValidTempo(changed)).toBe(true);
  });
});

describe('beats', () => {
  const t = tempo({ bpm: 90, anchor: 1_000, beatsPerBar: 3 }); // a beat every 666.67 ms

  it('the next beat at or after a time: the same beat when on it, else the following one', () => {
    const beat = 60_000 / 90;
    expect(beatAfter(t, 1_000)).toEqual([0, 1_000]);
    expect(nextBeat(t, 1_000.001)).toEqual({ index: 1, at: 1_000 + beat });
    // On a beat computed with rounding error, still that beat (not one a beat later).
    const fifth = 1_000 + 5 * beat;
    expect(nextBeat(t, fifth).index).toBe(5);
    expect(nextBeat(t, fifth - 1e-7).index).toBe(5);
    expect(nextBeat(t, 0).index).toBe(-1); // before the anchor: beats run backwards too
    expect(nextBeat(t, 0).at).toBeCloseTo(1_000 - beat, 9);
  });

  it('downbeats: every beatsPerBar-th beat from the anchor, before it too', () => {
    expect([-6, -4, -3, -1, 0, 1, 2, 3, 4, 6].map((i) => isDownbeat(t, i))).toEqual([
      true,
      false,
      true,
      false,
      true,
      false,
      false,
      true,
      false,
      true,
    ]);
    expect(isDownbeat(tempo({ beatsPerBar: 1 }), 17)).toBe(true);
  });
});

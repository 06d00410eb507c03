/**
 * The DAW's changes of its tempo (tempo.ts reads one): each makes a new Tempo with a newer
 * version. The DAW's alone: apart from tempo.ts so that phones do not load it.
 */
import { MAX_BEATS_PER_BAR, MAX_BPM, MIN_BPM, type Tempo } from '../net/hits.ts';
import { beatPosition } from './tempo.ts';

export const DEFAULT_BPM = 120;
export const DEFAULT_BEATS_PER_BAR = 4;

/**
 * Versions only grow, also across DAW page loads: quarter seconds since 2026 (a u32 lasts 34
 * years), or one more than the last when changes come faster.
 */
const VERSION_EPOCH_MS = Date.UTC(2026, 0, 1);
export function nextVersion(previous: number, now: number): number {
  return Math.max(previous + 1, Math.floor((now - VERSION_EPOCH_MS) / 250)) >>> 0;
}

export function initialTempo(now: number, bpm = DEFAULT_BPM): Tempo {
  return {
    version: nextVersion(0, now),
    bpm: clampBpm(bpm),
    beatsPerBar: DEFAULT_BEATS_PER_BAR,
    running: false,
    anchor: now,
  };
}

export function clampBpm(bpm: number): number {
  if (!Number.isFinite(bpm)) return DEFAULT_BPM;
  return Math.min(MAX_BPM, Math.max(MIN_BPM, Math.round(bpm * 10) / 10));
}

/** A new bpm, keeping the beat where it is now (the anchor moves so the phase runs on). */
export function withBpm(tempo: Tempo, bpm: number, now: number): Tempo {
  const next = clampBpm(bpm);
  const position = beatPosition(tempo, now);
  return { ...tempo, version: nextVersion(tempo.version, now), bpm: next, anchor: now - (position * 60_000) / next };
}

/** Starts the beat with beat 0 (the bar's first) right now, or stops it. */
export function withRunning(tempo: Tempo, running: boolean, now: number): Tempo {
  return { ...tempo, version: nextVersion(tempo.version, now), running, anchor: running ? now : tempo.anchor };
}

export function withBeatsPerBar(tempo: Tempo, beatsPerBar: number, now: number): Tempo {
  const beats = Math.min(MAX_BEATS_PER_BAR, Math.max(1, Math.round(beatsPerBar)));
  return { ...tempo, version: nextVersion(tempo.version, now), beatsPerBar: beats };
}

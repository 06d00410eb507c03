/**
 * A take's beat grid: where the files' time 0 is and how DAW wall-clock times become beats, from
 * the tempo the DAW had while recording (state/tempo.ts). Pure.
 *
 * With the beat running, time 0 is the downbeat of the bar the recording started in, so bar 1
 * in a DAW is a bar of the jam, and the grid follows the tempo's changes (a new bpm keeps the
 * beat's phase, state/tempo.ts withBpm). A beat started again mid-take starts a new phase the
 * file does not follow: the grid keeps the first. Without a beat, time 0 is the start and the
 * file is at 120 bpm (MIDI's default), with no grid to quantise to.
 */
import type { Tempo } from '../net/hits.ts';
import { beatMs, beatPosition } from '../state/tempo.ts';

/** The tempo from DAW time `at` on (ms since the epoch). */
export interface TempoChange {
  at: number;
  tempo: Tempo;
}

export interface GridSegment {
  /** Beats since time 0 where this bpm starts. */
  fromBeat: number;
  /** DAW wall time (ms) it starts. */
  fromMs: number;
  bpm: number;
}

export interface Grid {
  /** The DAW wall time (ms) of the files' time 0. */
  origin: number;
  /** Whether the beat ran: the grid is the jam's, and quantising means something. */
  beat: boolean;
  beatsPerBar: number;
  segments: GridSegment[];
}

const FREE_BPM = 120;
/** Anchors closer than this (ms) are the same beat (float error). */
const SAME_ANCHOR_MS = 1e-3;
/** A tempo change is seen (an effect, a tick) at most this long (ms) after it was made. */
const MAX_SWITCH_LAG_MS = 5_000;

/**
 * When the beat of `before` and of `after` are at the same position: the moment a bpm change was
 * made (withBpm keeps the phase). Same bpm: -Infinity (always) if the beats agree, else null
 * (never: the beat was started anew).
 */
function switchTime(before: Tempo, after: Tempo): number | null {
  const b0 = beatMs(before);
  const b1 = beatMs(after);
  if (before.bpm === after.bpm) {
    // The phase is the same iff the anchors differ by whole beats (withBpm may move an anchor by any number of them).
    const beats = (after.anchor - before.anchor) / b0;
    return Math.abs(beats - Math.round(beats)) * b0 < SAME_ANCHOR_MS ? Number.NEGATIVE_INFINITY : null;
  }
  return (before.anchor * b1 - after.anchor * b0) / (b1 - b0);
}

export function gridFor(startedAt: number, changes: readonly TempoChange[]): Grid {
  const first = changes.findIndex((change) => change.tempo.running);
  const firstChange = changes[first];
  if (!firstChange) {
    return {
      origin: startedAt,
      beat: false,
      beatsPerBar: 4,
      segments: [{ fromBeat: 0, fromMs: startedAt, bpm: FREE_BPM }],
    };
  }
  const base = firstChange.tempo;
  const bar = base.beatsPerBar;
  const originBeat = Math.floor(beatPosition(base, startedAt) / bar) * bar;
  const origin = base.anchor + originBeat * beatMs(base);
  const segments: GridSegment[] = [{ fromBeat: 0, fromMs: origin, bpm: base.bpm }];
  let current = base;
  for (const { at, tempo } of changes.slice(first + 1)) {
    const switchAt = switchTime(current, tempo);
    // A new phase (the beat started again), or a change the grid cannot place: the grid keeps what it has.
    if (switchAt === null) break;
    if (tempo.bpm !== current.bpm) {
      if (Math.abs(switchAt - at) > MAX_SWITCH_LAG_MS) break;
      segments.push({ fromBeat: beatPosition(current, switchAt) - originBeat, fromMs: switchAt, bpm: tempo.bpm });
    }
    current = tempo;
  }
  return { origin, beat: true, beatsPerBar: bar, segments };
}

/** Beats since the grid's time 0 at DAW time `t` (ms). */
export function beatsAt(grid: Grid, t: number): number {
  let segment = grid.segments[0] as GridSegment;
  for (const s of grid.segments) if (s.fromMs <= t) segment = s;
  return segment.fromBeat + ((t - segment.fromMs) * segment.bpm) / 60_000;
}

/** The DAW time (ms) of `beats` since the grid's time 0. */
export function msAtBeats(grid: Grid, beats: number): number {
  let segment = grid.segments[0] as GridSegment;
  for (const s of grid.segments) if (s.fromBeat <= beats) segment = s;
  return segment.fromMs + ((beats - segment.fromBeat) * 60_000) / segment.bpm;
}

/** `beats` moved to the nearest 1/`division` of a beat (4: sixteenth notes in 4/4). */
export const quantiseBeats = (beats: number, division: number): number => Math.round(beats * division) / division || 0; // no -0

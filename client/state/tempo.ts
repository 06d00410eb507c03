/**
 * The DAW's tempo as numbers: beat 0 at `anchor` (DAW wall clock, ms), a beat every
 * 60000 / bpm ms. Pure functions, shared by the DAW (metronome, beat light) and the
 * controllers (beat light, through their clock offset). Only the DAW changes a tempo:
 * tempo-changes.ts, kept apart so the phones' bundle does not carry it.
 */
import type { Tempo } from '../net/hits.ts';

export const beatMs = (tempo: Tempo): number => 60_000 / tempo.bpm;

/** Beats since the anchor at DAW time `t` (fractional; negative before it). */
export const beatPosition = (tempo: Tempo, t: number): number => (t - tempo.anchor) / beatMs(tempo);

/** The wall time (DAW clock) of the first beat at or after `t`, and its index since the anchor. */
export function nextBeat(tempo: Tempo, t: number): { index: number; at: number } {
  const index = Math.ceil(beatPosition(tempo, t) - 1e-9);
  return { index, at: tempo.anchor + index * beatMs(tempo) };
}

/** Whether beat `index` starts a bar. */
export const isDownbeat = (tempo: Tempo, index: number): boolean =>
  ((index % tempo.beatsPerBar) + tempo.beatsPerBar) % tempo.beatsPerBar === 0;

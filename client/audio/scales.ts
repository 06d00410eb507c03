/**
 * Keys, scales and the notes a melodic phone's 16 pads play. Pure data and arithmetic, shared
 * by the DAW (which renders and plays the notes) and the phone (which shows their names), so
 * both always agree on what a pad is.
 *
 * Layout: like the note grids of Push, Launchpad and MPC pads, the lowest note is bottom left
 * and notes rise left to right, then row by row upwards. Pads are numbered as everywhere else
 * in padmesh (kit.ts): row by row from the top left.
 */

export const SCALES = {
  major: { name: 'Major', steps: [0, 2, 4, 5, 7, 9, 11] },
  minor: { name: 'Minor', steps: [0, 2, 3, 5, 7, 8, 10] },
  'major-pentatonic': { name: 'Major pentatonic', steps: [0, 2, 4, 7, 9] },
  'minor-pentatonic': { name: 'Minor pentatonic', steps: [0, 3, 5, 7, 10] },
  blues: { name: 'Blues', steps: [0, 3, 5, 6, 7, 10] },
  dorian: { name: 'Dorian', steps: [0, 2, 3, 5, 7, 9, 10] },
  mixolydian: { name: 'Mixolydian', steps: [0, 2, 4, 5, 7, 9, 10] },
  'harmonic-minor': { name: 'Harmonic minor', steps: [0, 2, 3, 5, 7, 8, 11] },
  chromatic: { name: 'Chromatic', steps: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] },
} as const satisfies Record<string, { name: string; steps: readonly number[] }>;

export type ScaleId = keyof typeof SCALES;
export const SCALE_IDS = Object.keys(SCALES) as ScaleId[];

/** Pitch classes as musicians write keys; sharps, except the flat keys people name that way. */
export const KEY_NAMES = ['C', 'C♯', 'D', 'E♭', 'E', 'F', 'F♯', 'G', 'A♭', 'A', 'B♭', 'B'] as const;

/** The octave a melodic phone starts from when the DAW gives it no other: its lowest pad is the key's note there. */
export const DEFAULT_OCTAVE = 3;
export const MIN_OCTAVE = 1;
export const MAX_OCTAVE = 6;

const PADS = 16;
const COLUMNS = 4;

/** The MIDI note of octave `octave`'s `key` (C4 = 60, scientific pitch notation). */
export function rootNote(key: number, octave: number): number {
  return 12 * (octave + 1) + key;
}

/** The scale's notes upwards from `key` in `octave`: `count` of them, the first the key's own note. */
export function scaleNotes(key: number, scale: ScaleId, octave: number, count = PADS): number[] {
  const steps = SCALES[scale].steps;
  const root = rootNote(key, octave);
  const notes: number[] = [];
  for (let i = 0; i < count; i++) {
    notes.push(root + 12 * Math.floor(i / steps.length) + (steps[i % steps.length] ?? 0));
  }
  return notes;
}

/** Which step of the scale (0 = lowest) pad `pad` (row by row from the top left) plays. */
export function degreeOfPad(pad: number): number {
  const row = Math.floor(pad / COLUMNS);
  const rows = PADS / COLUMNS;
  return (rows - 1 - row) * COLUMNS + (pad % COLUMNS);
}

/** The MIDI note of each pad, in pad order (row by row from the top left). */
export function padNotes(key: number, scale: ScaleId, octave: number): number[] {
  const notes = scaleNotes(key, scale, octave);
  return Array.from({ length: PADS }, (_, pad) => notes[degreeOfPad(pad)] ?? 0);
}

/** "C3", "F♯4", "B♭2": in the key's own spelling. */
export function noteName(midi: number): string {
  const pitchClass = ((midi % 12) + 12) % 12;
  return `${KEY_NAMES[pitchClass]}${Math.floor(midi / 12) - 1}`;
}

/** A note's frequency (A4 = 440 Hz, equal temperament). */
export function noteHz(midi: number): number {
  return 440 * 2 ** ((midi - 69) / 12);
}

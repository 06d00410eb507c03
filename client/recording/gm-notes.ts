/**
 * Which MIDI note a pad is in a recording: drum pads as the General MIDI drum notes MIDI out
 * sends for them (midi/note-map.ts, played on channel 10), melodic players' pads as the notes
 * they sound (audio/scales.ts). Pure: the kits' pad ids are kept here because the kits' designs
 * need Tone.
 */
import { type Part, partNotes } from '../audio/instruments.ts';
import { drumNotesFor } from '../midi/note-map.ts';

/** General MIDI puts drums on channel 10: 9 counted from 0, as MIDI bytes and @tonejs/midi count. */
export const DRUM_CHANNEL = 9;

/** The electronic kit's pad ids, in pad order: the map for pads whose kit is unknown (own samples keep the pad's place). */
const ELECTRONIC_PAD_IDS = [
  'kick',
  'snare',
  'clap',
  'rim',
  'hat-closed',
  'hat-open',
  'crash',
  'ride',
  'tom-low',
  'tom-mid',
  'tom-high',
  'conga',
  'cowbell',
  'clave',
  'shaker',
  'tambourine',
];

/** Each built-in kit's pad ids in pad order (audio/kits/; a unit test holds them to the designs, which need Tone). */
export const KIT_PAD_IDS: Readonly<Record<string, readonly string[]>> = {
  electronic: ELECTRONIC_PAD_IDS,
  acoustic: [
    'kick',
    'snare',
    'rimshot',
    'cross-stick',
    'hat-closed',
    'hat-open',
    'hat-pedal',
    'crash',
    'ride',
    'ride-bell',
    'tom-floor',
    'tom-low',
    'tom-mid',
    'tom-high',
    'splash',
    'brush',
  ],
  percussion: [
    'tumba',
    'conga-open',
    'conga-slap',
    'quinto',
    'bongo-low',
    'bongo-high',
    'timbale-low',
    'timbale-high',
    'cascara',
    'agogo-low',
    'agogo-high',
    'cowbell',
    'claves',
    'shaker',
    'cabasa',
    'guiro',
  ],
};

/** Each built-in kit's drum notes in pad order, as MIDI out sends them; the electronic kit's for any other kit. */
const KIT_NOTES: Readonly<Record<string, readonly number[]>> = Object.fromEntries(
  Object.entries(KIT_PAD_IDS).map(([id, padIds]) => [id, drumNotesFor(padIds)]),
);

/**
 * The MIDI note pad `pad` plays: a melodic part's note, or for the drums the GM note of built-in
 * kit `kitId`'s pad (an unknown kit takes the electronic kit's note for its place: a musician's
 * own sample keeps its pad's role).
 */
export function noteFor(part: Part, pad: number, kitId = 'electronic'): number {
  if (part.instrument !== 'drums') return partNotes(part)[pad] ?? 0;
  return (KIT_NOTES[kitId] ?? KIT_NOTES.electronic)?.[pad] ?? 36;
}

/** GM programs (0-based) for the melodic instruments, so a DAW opens each track with a near sound. */
export const GM_PROGRAMS = { bass: 33, keys: 4, pluck: 25 } as const; // Electric Bass (finger), Electric Piano 1, Steel Guitar

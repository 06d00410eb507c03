/**
 * Which MIDI note a pad is in a recording: drum pads as General MIDI drum notes (played on
 * channel 10), melodic players' pads as the notes they sound (audio/scales.ts). Pure. The MIDI
 * out feature keeps a map of its own (client/midi/); the two are to be one at merge.
 */
import { type Part, partNotes } from '../audio/instruments.ts';

/** General MIDI puts drums on channel 10: 9 counted from 0, as MIDI bytes and @tonejs/midi count. */
export const DRUM_CHANNEL = 9;

/**
 * GM drum notes (General MIDI Level 1 percussion key map) by the built-in kits' pad ids
 * (audio/kits/): each the nearest GM instrument; pads without one take a near relative.
 */
const GM_DRUMS: Readonly<Record<string, number>> = {
  kick: 36, // Bass Drum 1
  snare: 38, // Acoustic Snare
  clap: 39, // Hand Clap
  rim: 37, // Side Stick
  rimshot: 40, // Electric Snare (a rimshot's crack)
  'cross-stick': 37, // Side Stick
  'hat-closed': 42, // Closed Hi-Hat
  'hat-open': 46, // Open Hi-Hat
  'hat-pedal': 44, // Pedal Hi-Hat
  crash: 49, // Crash Cymbal 1
  ride: 51, // Ride Cymbal 1
  'ride-bell': 53, // Ride Bell
  splash: 55, // Splash Cymbal
  brush: 69, // Cabasa (a brush swish has no GM note)
  'tom-floor': 41, // Low Floor Tom
  'tom-low': 45, // Low Tom
  'tom-mid': 47, // Low-Mid Tom
  'tom-high': 50, // High Tom
  conga: 63, // Open Hi Conga
  tumba: 64, // Low Conga
  'conga-open': 63, // Open Hi Conga
  'conga-slap': 62, // Mute Hi Conga
  quinto: 62, // Mute Hi Conga (the highest conga)
  'bongo-low': 61, // Low Bongo
  'bongo-high': 60, // Hi Bongo
  'timbale-low': 66, // Low Timbale
  'timbale-high': 65, // High Timbale
  cascara: 37, // Side Stick (sticks on the timbale's shell)
  'agogo-low': 68, // Low Agogo
  'agogo-high': 67, // High Agogo
  cowbell: 56, // Cowbell
  clave: 75, // Claves
  claves: 75, // Claves
  shaker: 70, // Maracas
  cabasa: 69, // Cabasa
  guiro: 73, // Short Guiro
  tambourine: 54, // Tambourine
};

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

/**
 * The MIDI note pad `pad` plays: a melodic part's note, or for the drums the GM note of built-in
 * kit `kitId`'s pad (an unknown kit, or a pad without a GM id, takes the electronic kit's note for
 * its place: a musician's own sample keeps its pad's role).
 */
export function noteFor(part: Part, pad: number, kitId = 'electronic'): number {
  if (part.instrument !== 'drums') return partNotes(part)[pad] ?? 0;
  const id = KIT_PAD_IDS[kitId]?.[pad] ?? '';
  return GM_DRUMS[id] ?? GM_DRUMS[ELECTRONIC_PAD_IDS[pad] ?? ''] ?? 36;
}

/** GM programs (0-based) for the melodic instruments, so a DAW opens each track with a near sound. */
export const GM_PROGRAMS = { bass: 33, keys: 4, pluck: 25 } as const; // Electric Bass (finger), Electric Piano 1, Steel Guitar

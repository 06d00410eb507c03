/**
 * What a controller can play: the room's drum kit, or a melodic instrument whose 16 pads are the
 * notes of the band's key and scale (scales.ts). The catalogue and the pads' looks are pure data;
 * each instrument's sound is a Tone.js design that
 * the DAW renders offline into one buffer per note (render-kit.ts), so playing a note costs what
 * a drum hit costs. One-shot notes with a natural decay: a tap is a pluck, not a held key. The
 * DAW alone imports this: it names each melodic phone's pads in the room state.
 */
import type { Band, PlayerSound } from '../../signal/protocol.ts';
import { DEFAULT_OCTAVE, MAX_OCTAVE, MIN_OCTAVE, noteName, padNotes, SCALES, type ScaleId } from './scales.ts';

export const INSTRUMENTS = {
  drums: { name: 'Drums', color: null },
  bass: { name: 'Bass', color: '#4dabf7' },
  keys: { name: 'Keys', color: '#b197fc' },
  pluck: { name: 'Pluck', color: '#63e6be' },
} as const satisfies Record<string, { name: string; color: string | null }>;

export type InstrumentId = keyof typeof INSTRUMENTS;
export type MelodicId = Exclude<InstrumentId, 'drums'>;
export const INSTRUMENT_IDS = Object.keys(INSTRUMENTS) as InstrumentId[];

/** The octave each instrument sounds best from (its lowest pad). */
export const HOME_OCTAVE: Record<MelodicId, number> = { bass: 1, keys: DEFAULT_OCTAVE, pluck: DEFAULT_OCTAVE };

export const DEFAULT_BAND: Band = { key: 0, scale: 'minor-pentatonic', players: {} };

/** What a player plays, read defensively: room state comes off the network, ids may be from a newer page. */
export interface Part {
  instrument: InstrumentId;
  /** Only for melodic instruments. */
  octave: number;
  key: number;
  scale: ScaleId;
}

const isInstrument = (id: string): id is InstrumentId => Object.hasOwn(INSTRUMENTS, id);
const isScale = (id: string): id is ScaleId => Object.hasOwn(SCALES, id);

/** The part `peerId` plays in `band` (the drums when the band does not name it, or names what this page does not know). */
export function partOf(band: Band | undefined, peerId: string | null): Part {
  const key = band?.key ?? DEFAULT_BAND.key;
  const scale = band && isScale(band.scale) ? band.scale : (DEFAULT_BAND.scale as ScaleId);
  const sound: PlayerSound | undefined = peerId === null ? undefined : band?.players[peerId];
  const instrument = sound && isInstrument(sound.instrument) ? sound.instrument : 'drums';
  const octave = sound ? Math.min(MAX_OCTAVE, Math.max(MIN_OCTAVE, sound.octave)) : DEFAULT_OCTAVE;
  return { instrument, octave, key, scale };
}

/** Same sound: two players whose parts are equal share the rendered notes. */
export function partKey(part: Part): string {
  return part.instrument === 'drums' ? 'drums' : `${part.instrument}/${part.key}/${part.scale}/${part.octave}`;
}

/** A type, not an interface: it goes into room state, whose pads take unknown keys too. */
export type PadLabel = { name: string; color: string };

/**
 * A melodic part's pads as the phone shows them: note names, the key's own notes brighter (as
 * note grids mark the root), in pad order.
 */
export function melodicPads(part: Part): PadLabel[] {
  const base = part.instrument === 'drums' ? '#868e96' : INSTRUMENTS[part.instrument].color;
  return padNotes(part.key, part.scale, part.octave).map((note) => ({
    name: noteName(note),
    color: (note - part.key) % 12 === 0 ? '#f8f9fa' : base,
  }));
}

/** The notes a melodic part's pads play, in pad order (what the DAW renders). */
export function partNotes(part: Part): number[] {
  return padNotes(part.key, part.scale, part.octave);
}

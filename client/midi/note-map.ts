/**
 * Pads ↔ MIDI notes. A drum pad is a General MIDI percussion note (the electronic kit's meaning
 * of each pad position: kit.ts), a melodic phone's pad is the note it plays (scales.ts). Notes
 * coming in from a controller are mapped back to pads through the same drum map, plus the GM
 * notes nearest in kind (a second crash is a crash), so a GM drum controller plays sensibly.
 * Pure data and arithmetic.
 */
import { KIT } from '../audio/kit.ts';

/** GM percussion key of each pad, in pad order (row by row from the top left, as kit.ts). */
export const GM_DRUM_NOTES: readonly number[] = [
  36, // kick: Bass Drum 1
  38, // snare: Acoustic Snare
  39, // clap: Hand Clap
  37, // rim: Side Stick
  42, // closed hat: Closed Hi-Hat
  46, // open hat: Open Hi-Hat
  49, // crash: Crash Cymbal 1
  51, // ride: Ride Cymbal 1
  45, // low tom: Low Tom
  47, // mid tom: Low-Mid Tom
  50, // high tom: High Tom
  63, // conga: Open Hi Conga
  56, // cowbell: Cowbell
  75, // clave: Claves
  70, // shaker: Maracas (GM has no shaker)
  54, // tambourine: Tambourine
];

/** GM notes that are not on a pad but are the same kind of drum as one (note → the pad's own note). */
const GM_ALIASES: Readonly<Record<number, number>> = {
  35: 36, // Acoustic Bass Drum → kick
  40: 38, // Electric Snare → snare
  41: 45, // Low Floor Tom → low tom
  43: 45, // High Floor Tom → low tom
  44: 42, // Pedal Hi-Hat → closed hat
  48: 47, // Hi-Mid Tom → mid tom
  52: 49, // Chinese Cymbal → crash
  53: 51, // Ride Bell → ride
  55: 49, // Splash Cymbal → crash
  57: 49, // Crash Cymbal 2 → crash
  59: 51, // Ride Cymbal 2 → ride
  62: 63, // Mute Hi Conga → conga
  64: 63, // Low Conga → conga
  69: 70, // Cabasa → shaker
  76: 75, // Hi Wood Block → clave
  77: 75, // Low Wood Block → clave
  82: 70, // Shaker (GS) → shaker
};

/** Pad of each MIDI note (−1: none), for notes coming in. */
const PAD_OF_NOTE: Int8Array = (() => {
  const table = new Int8Array(128).fill(-1);
  GM_DRUM_NOTES.forEach((note, pad) => {
    table[note] = pad;
  });
  for (const [alias, note] of Object.entries(GM_ALIASES)) table[Number(alias)] = table[note] ?? -1;
  return table;
})();

/** The pad a MIDI note plays (any channel), or −1 if none. */
export function padOfNote(note: number): number {
  return PAD_OF_NOTE[note] ?? -1;
}

/** A pad's notes as the MIDI module keeps them: one byte per pad. */
export function notesTable(notes: readonly number[]): Uint8Array {
  const table = new Uint8Array(KIT.length);
  for (let pad = 0; pad < table.length; pad++) table[pad] = Math.min(127, Math.max(0, notes[pad] ?? 0));
  return table;
}

export const DRUM_NOTES: Uint8Array = notesTable(GM_DRUM_NOTES);

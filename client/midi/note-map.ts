/**
 * Pads ↔ MIDI notes. A drum pad is the General MIDI percussion note of what it plays in the
 * chosen built-in kit (audio/kits/: a pedal hat is 44 in the acoustic kit, a low bongo 61 in
 * the percussion kit), a melodic phone's pad is the note it plays (scales.ts). Notes coming in
 * from a controller are mapped back to pads through the same drum map, plus the GM notes
 * nearest in kind (a second crash is a crash), so a GM drum controller plays sensibly.
 * Pure data and arithmetic.
 */
import { KIT } from '../audio/kit.ts';

/** GM percussion key of each pad of the electronic kit (the default), in pad order (row by row from the top left, as kit.ts). */
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

/** The GM percussion key of each built-in pad sound (audio/kits/), by its id. */
const GM_BY_ID: Readonly<Record<string, number>> = {
  // electronic
  kick: 36,
  snare: 38,
  clap: 39,
  rim: 37,
  'hat-closed': 42,
  'hat-open': 46,
  crash: 49,
  ride: 51,
  'tom-low': 45,
  'tom-mid': 47,
  'tom-high': 50,
  conga: 63,
  cowbell: 56,
  clave: 75,
  shaker: 70,
  tambourine: 54,
  // acoustic (kick, snare, hats, crash, ride, toms as above)
  rimshot: 40,
  'cross-stick': 37,
  'hat-pedal': 44,
  'ride-bell': 53,
  'tom-floor': 41,
  splash: 55,
  // percussion (cowbell, shaker as above)
  tumba: 64,
  'conga-open': 63,
  'conga-slap': 62,
  'bongo-low': 61,
  'bongo-high': 60,
  'timbale-low': 66,
  'timbale-high': 65,
  'agogo-low': 68,
  'agogo-high': 67,
  claves: 75,
  cabasa: 69,
  guiro: 74,
};

/** The lowest and highest GM percussion keys: a pad whose sound GM has no key for gets a free one between. */
const GM_FIRST = 35;
const GM_LAST = 81;
/** Where the search for a free key starts (39 up: snare-side keys before the bass drums). */
const FREE_FROM = 39;

/**
 * A kit's drum notes in pad order, from its pads' ids: each its GM key; a sound GM has no key for
 * (a brush, a quinto), or a second pad on a key already taken, gets the first free key from 39 up.
 * Every pad's note is distinct, so notes coming in map back to one pad each.
 */
export function drumNotesFor(padIds: readonly string[]): number[] {
  const notes: number[] = [];
  const used = new Set<number>();
  for (const id of padIds) {
    const known = Object.hasOwn(GM_BY_ID, id) ? GM_BY_ID[id] : undefined;
    const note = known !== undefined && !used.has(known) ? known : -1;
    notes.push(note);
    if (note >= 0) used.add(note);
  }
  for (let pad = 0; pad < notes.length; pad++) {
    if ((notes[pad] as number) >= 0) continue;
    let free = FREE_FROM;
    for (let k = 0; k <= GM_LAST - GM_FIRST && used.has(free); k++) free = free >= GM_LAST ? GM_FIRST : free + 1;
    notes[pad] = free;
    used.add(free);
  }
  return notes;
}

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
  73: 74, // Short Guiro → guiro
  58: 56, // Vibraslap → cowbell
};

/**
 * The pad of each MIDI note (−1: none) for a kit's drum notes, for notes coming in: its own
 * notes, and GM's near kinds of them where the kit has no pad on that key.
 */
export function padTable(drumNotes: readonly number[]): Int8Array {
  const table = new Int8Array(128).fill(-1);
  drumNotes.forEach((note, pad) => {
    table[note] = pad;
  });
  for (const [alias, note] of Object.entries(GM_ALIASES)) {
    const key = Number(alias);
    if (table[key] === -1) table[key] = table[note] ?? -1;
  }
  return table;
}

const DEFAULT_PADS = padTable(GM_DRUM_NOTES);

/** The pad a MIDI note plays (any channel) in `table` (the electronic kit's by default), or −1 if none. */
export function padOfNote(note: number, table: Int8Array = DEFAULT_PADS): number {
  return table[note] ?? -1;
}

/** A pad's notes as the MIDI module keeps them: one byte per pad. */
export function notesTable(notes: readonly number[]): Uint8Array {
  const table = new Uint8Array(KIT.length);
  for (let pad = 0; pad < table.length; pad++) table[pad] = Math.min(127, Math.max(0, notes[pad] ?? 0));
  return table;
}

export const DRUM_NOTES: Uint8Array = notesTable(GM_DRUM_NOTES);

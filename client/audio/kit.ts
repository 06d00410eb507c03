/**
 * The drum kit: 16 pads in 4×4 grid order (row by row, top-left first). Pure data, so the phone
 * pages can draw the pads without loading the audio engine. The engine's voices follow this order.
 *
 * One family per row, one colour family per row (bright on the #111318 background):
 *   core drums (reds), hats and cymbals (yellows), toms and conga (blues/violets), percussion (greens).
 */
export interface KitPad {
  /** Stable identifier (kebab-case), safe for storage and tests. */
  id: string;
  /** Label shown on the pad, at most 24 characters. */
  name: string;
  /** Pad colour, `#rrggbb`. */
  color: string;
}

export const KIT: readonly KitPad[] = [
  { id: 'kick', name: 'Kick', color: '#ff5252' },
  { id: 'snare', name: 'Snare', color: '#ff8a3d' },
  { id: 'clap', name: 'Clap', color: '#ff5fa2' },
  { id: 'rim', name: 'Rim', color: '#ffa98f' },

  { id: 'hat-closed', name: 'Closed hat', color: '#ffd43b' },
  { id: 'hat-open', name: 'Open hat', color: '#f59f00' },
  { id: 'crash', name: 'Crash', color: '#fff08a' },
  { id: 'ride', name: 'Ride', color: '#d4e157' },

  { id: 'tom-low', name: 'Low tom', color: '#845ef7' },
  { id: 'tom-mid', name: 'Mid tom', color: '#5c7cfa' },
  { id: 'tom-high', name: 'High tom', color: '#4dabf7' },
  { id: 'conga', name: 'Conga', color: '#cc5de8' },

  { id: 'cowbell', name: 'Cowbell', color: '#20c997' },
  { id: 'clave', name: 'Clave', color: '#51cf66' },
  { id: 'shaker', name: 'Shaker', color: '#3bc9db' },
  { id: 'tambourine', name: 'Tambourine', color: '#94d82d' },
];

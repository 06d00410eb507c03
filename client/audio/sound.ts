/**
 * What the engine plays: sounds as channels of samples, per slot, at several velocities; and how
 * each slot plays them. Shared by the engine, the kit renderer and the sample importer (pure types
 * and constants, no imports).
 */

/** One sound: 1 or 2 channels of equal length at `sampleRate`. */
export interface PadSound {
  channels: Float32Array[];
  sampleRate: number;
}

/**
 * A slot's sound at several velocities, ascending: a hit plays the first layer whose `velocity`
 * is ≥ the hit's (the last one above all), scaled by the hit's gain.
 */
export interface SoundLayers {
  layers: readonly { velocity: number; sound: PadSound }[];
}

/** How a slot plays (the musician's per-pad controls). */
export interface SlotSettings {
  /** −60..+12, default 0. */
  volumeDb: number;
  /** Semitones −24..+24, default 0 (playback rate 2^(pitch/12)). */
  pitch: number;
  /** Seconds the sound may ring before a 20 ms fade, 0.02..30; Infinity = to its end. */
  decay: number;
  /** 0 = none; a hit in group g silences (20 ms fade) every other voice in g. */
  chokeGroup: number;
}

export const DEFAULT_SLOT_SETTINGS: SlotSettings = Object.freeze({
  volumeDb: 0,
  pitch: 0,
  decay: Number.POSITIVE_INFINITY,
  chokeGroup: 0,
});

export const SLOTS_PER_BANK = 16;
export const BANKS = 8;

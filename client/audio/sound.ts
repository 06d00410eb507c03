/**
 * What the DAW's sampler plays, shared by the engine, the kits and the musicians' own samples
 * (docs/architecture.md, "The sound engine"). Pure data and small pure helpers: no Web Audio.
 *
 * Slots: slot = bank × SLOTS_PER_BANK + pad. Bank 0 is the room's drum kit; later banks hold
 * melodic instruments given to single phones.
 */

/** One sound: 1 or 2 channels of equal length at `sampleRate`. */
export interface PadSound {
  channels: Float32Array[];
  sampleRate: number;
}

/**
 * A slot's sound at several velocities, ascending: a hit plays the first layer whose `velocity`
 * is ≥ the hit's (the last one above all), scaled by the hit's gain (velocityGain). So a layer
 * holds its velocity's timbre at full loudness: render it at gain 1, and the hit's velocity
 * sets how loud it plays.
 */
export interface SoundLayers {
  layers: readonly { velocity: number; sound: PadSound }[];
}

/** How a slot plays (the musician's per-pad controls). */
export interface SlotSettings {
  /** −60..+12 dB, default 0. */
  volumeDb: number;
  /** Semitones −24..+24, default 0 (playback rate 2^(pitch/12)). */
  pitch: number;
  /** Seconds the sound may ring before a 20 ms fade, 0.02..30; Infinity = to its end. */
  decay: number;
  /** 0 = none; a hit in group g silences (20 ms fade) every other voice in g. 0..CHOKE_GROUPS. */
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
/** Every slot: 128. */
export const SLOTS = SLOTS_PER_BANK * BANKS;

export const VOLUME_DB_MIN = -60;
export const VOLUME_DB_MAX = 12;
export const PITCH_MIN = -24;
export const PITCH_MAX = 24;
export const DECAY_MIN_S = 0.02;
export const DECAY_MAX_S = 30;
/** Choke groups 1..CHOKE_GROUPS (0: none). */
export const CHOKE_GROUPS = 16;
/** The fade of a choke, of a decay's end and of a stolen voice (s). */
export const FADE_S = 0.02;

/** Velocity → gain: a 30 dB range, so soft taps stay audible and the curve feels even. */
export const VELOCITY_RANGE_DB = 30;

/** The gain a hit of velocity `v` (0..1) plays at: 10^(1.5·(v − 1)), −30 dB at 0, 1 at 1. */
export function velocityGain(v: number): number {
  return 10 ** ((VELOCITY_RANGE_DB / 20) * (v - 1));
}

const clamp = (value: number, min: number, max: number, fallback: number): number =>
  Number.isNaN(value) ? fallback : value < min ? min : value > max ? max : value;

/**
 * `settings` with every field in its range (a NaN takes the default; a choke group that is not a
 * whole number in range is none).
 */
export function clampSlotSettings(settings: SlotSettings): SlotSettings {
  const decay = settings.decay;
  const group = settings.chokeGroup;
  return {
    volumeDb: clamp(settings.volumeDb, VOLUME_DB_MIN, VOLUME_DB_MAX, 0),
    pitch: clamp(settings.pitch, PITCH_MIN, PITCH_MAX, 0),
    decay:
      decay === Number.POSITIVE_INFINITY || Number.isNaN(decay)
        ? Number.POSITIVE_INFINITY
        : clamp(decay, DECAY_MIN_S, DECAY_MAX_S, 0),
    chokeGroup: Number.isInteger(group) && group >= 0 && group <= CHOKE_GROUPS ? group : 0,
  };
}

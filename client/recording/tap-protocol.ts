/** Messages between the recording (recording.ts) and its output tap on the audio thread (tap-worklet.ts). */

export const TAP_PROCESSOR = 'padmesh-output-tap';
/** The tap's channels: the engine's output is stereo. */
export const TAP_CHANNELS = 2;
/**
 * The tap keeps this many past frames (~0.7 s at 48 kHz), so a start message that reaches the
 * audio thread after its start time (it always does, by a render burst or more) still begins at
 * the start's exact frame.
 */
export const PREROLL_FRAMES = 32_768;

export type TapMessage =
  /** Record from context time `at` (s) on; one chunk of PCM per `chunkFrames` frames. */
  | { type: 'start'; at: number; chunkFrames: number }
  /** Stop at context time `at` (s): what is left goes out, then `stopped`. */
  | { type: 'stop'; at: number };

export type TapReport =
  /** Recording began; `missing` frames from the start time had already gone (the start came later than the preroll reaches). */
  | { type: 'started'; missing: number }
  /** 16-bit interleaved PCM (its buffer transferred). */
  | { type: 'pcm'; pcm: Int16Array; frames: number }
  | { type: 'stopped' };

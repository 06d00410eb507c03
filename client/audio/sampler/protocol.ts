/**
 * What the engine (main thread) and the sampler's processor (audio thread, worklet.ts) say to
 * each other over the node's port, and the layout of the shared status array. Hits go through
 * the SharedArrayBuffer ring (hit-ring.ts) where the page is cross-origin isolated; the `hit`
 * message is the fallback.
 */
import type { SlotSettings, SoundLayers } from '../sound.ts';

/** The processor's name, as registered. */
export const PROCESSOR = 'padmesh-sampler';

/** `processorOptions` of the node: the shared buffers, in ring mode. */
export interface SamplerOptions {
  ring?: SharedArrayBuffer;
  status?: SharedArrayBuffer;
}

/** Main thread → processor. Every message but `hit` is answered with an `ack` for its slot. */
export type SamplerMessage =
  | { type: 'hit'; slot: number; velocity: number; start: number; owner: number }
  | { type: 'sound'; slot: number; sound: SoundLayers | null }
  | { type: 'settings'; slot: number; settings: SlotSettings };

/** Processor → main thread. */
export type SamplerReport =
  | { type: 'ack'; slot: number }
  | { type: 'error'; slot: number; message: string }
  /** Per owner, hits that gave way (a voice stolen for another hit, or refused) since the last report. */
  | { type: 'gave-way'; owners: number[]; counts: number[] }
  /** Port mode: the status array (ring mode shares it instead). */
  | { type: 'status'; status: Float64Array };

/** Fields of the status array (Float64s): the processor's counters since it started. */
export const STATUS = {
  hits: 0,
  started: 1,
  late: 2,
  silent: 3,
  stolen: 4,
  refused: 5,
  cut: 6,
  sounding: 7,
  peakVoices: 8,
  waiting: 9,
  overflows: 10,
  /** The frame of the last quantum rendered. */
  frame: 11,
  /** The slot of the last hit started (−1: none yet), and its layer's length in frames. */
  lastSlot: 12,
  lastLength: 13,
} as const;
export const STATUS_FIELDS = 14;

export type SamplerStats = { -readonly [K in keyof typeof STATUS]: number };

/** The status array as an object. */
export function readStatus(status: Float64Array): SamplerStats {
  const stats = {} as SamplerStats;
  for (const key of Object.keys(STATUS) as (keyof typeof STATUS)[]) stats[key] = status[STATUS[key]] ?? 0;
  return stats;
}

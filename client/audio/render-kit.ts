/**
 * PLACEHOLDER, made by the engine's part of issue 10 so the sampler has something to play: the
 * kit part replaces this whole file (its renderKit with velocity layers and the IndexedDB cache,
 * its KitDesign in client/audio/kits). Until then: the types as docs/ENGINE-V2 has them, and a
 * renderKit that renders each pad's design offline (Tone's OfflineContext, at each of its layers'
 * velocities), with no cache. PLACEHOLDER_KIT is today's 16 Tone voices (tone-voices.ts) as such
 * a design, rendered at velocity 1 only.
 */
import { type BaseContext, Gain, type InputNode, OfflineContext } from 'tone';
import { KIT } from './kit.ts';
import type { PadSound, SoundLayers } from './sound.ts';
import { buildToneKit, replaceDefaultContext } from './tone-voices.ts';

export interface KitPadDesign {
  id: string;
  name: string;
  color: string;
  chokeGroup?: number;
  /** Velocities to render (ascending), e.g. [0.4, 0.75, 1]. */
  layers: readonly number[];
  /** Seconds to render (the tail included). */
  length: number;
  /** Plays one hit at `time` into `out` on a Tone context (live or offline) at `velocity` 0..1. */
  play(context: BaseContext, out: InputNode, time: number, velocity: number): void;
}

export interface KitDesign {
  id: string;
  version: number;
  name: string;
  pads: readonly KitPadDesign[];
}

/** Below this a rendered tail is silence, and is trimmed (−90 dBFS). */
const SILENCE = 3e-5;

/** Renders every pad's layers, calling onPad as each is ready (pad order). */
export async function renderKit(
  design: KitDesign,
  sampleRate: number,
  onPad: (pad: number, sound: SoundLayers) => void,
  signal?: AbortSignal,
): Promise<void> {
  for (let pad = 0; pad < design.pads.length; pad++) {
    const padDesign = design.pads[pad] as KitPadDesign;
    const layers: { velocity: number; sound: PadSound }[] = [];
    for (const velocity of padDesign.layers) {
      if (signal?.aborted) return;
      const context = new OfflineContext(1, padDesign.length, sampleRate);
      replaceDefaultContext(context);
      padDesign.play(context, context.destination, 0, velocity);
      const buffer = (await context.render()).get();
      if (buffer === undefined) continue;
      layers.push({ velocity, sound: { channels: [trimmed(buffer.getChannelData(0))], sampleRate } });
    }
    if (signal?.aborted) return;
    if (layers.length > 0) onPad(pad, { layers });
  }
}

function trimmed(samples: Float32Array): Float32Array {
  let end = samples.length;
  while (end > 1 && Math.abs(samples[end - 1] as number) < SILENCE) end--;
  return samples.slice(0, end);
}

/** Seconds each of today's pads rings (kit.ts order), tail included. */
const LENGTHS = [1, 0.6, 0.5, 0.2, 0.3, 1.2, 3.5, 3, 1.2, 1.1, 1, 0.6, 1, 0.25, 0.4, 0.8];

/** Today's 16 Tone voices (tone-voices.ts) as a kit design; the closed hat chokes the open hat (group 1). */
export const PLACEHOLDER_KIT: KitDesign = {
  id: 'placeholder-electronic',
  version: 1,
  name: 'Electronic',
  pads: KIT.map((pad, index) => ({
    ...pad,
    ...(pad.id === 'hat-closed' || pad.id === 'hat-open' ? { chokeGroup: 1 } : {}),
    layers: [1],
    length: LENGTHS[index] ?? 1,
    play(context, out, time, velocity) {
      const bus = new Gain({ context, gain: 1 });
      bus.connect(out);
      const kit = buildToneKit(context, context.rawContext as unknown as BaseAudioContext, bus, (node) => node, index);
      kit.startSources(time);
      kit.pads[index]?.voices[0]?.play(time, 1, velocity);
    },
  })),
};

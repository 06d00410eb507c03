/**
 * Turns a built-in kit's Tone.js designs (kits/) into the buffers the engine plays: every pad at
 * each of its velocities, rendered offline, or read back from the IndexedDB cache (kit-cache.ts).
 *
 * Sound must be ready moments after "Enable sound", so:
 * - pads are handed over as they are ready, the most played first (each design's `priority`);
 * - ONE OfflineAudioContext renders many pads at once, each into its own output channel through a
 *   ChannelMerger (a context per pad costs its setup and a render-thread round trip each: 16 of
 *   them took 2.4–3.0 s in a prototype); the first render holds the loudest layer of the
 *   FIRST_PADS most played pads (small: they sound soonest), the second every other pad's loudest
 *   layer, so every pad sounds after two renders, and the softer layers follow in a third;
 * - a pad's graph is cut from the output once its length has passed, so the render thread stops
 *   working on it (kits/voices.ts keeps the voices themselves light);
 * - Tone's OfflineContext wraps the native context, and is rendered natively: Tone's own render()
 *   first steps its JS clock through the whole length (for the Transport, unused here);
 * - a read from the cache goes pad by pad, in the same order.
 * A storage failure never stops sound: the kit is rendered without the cache, and the returned
 * status says why (KitRenderStatus.cacheError).
 */
import './quiet-tone.ts';
import { getContext, OfflineContext, setContext } from 'tone';
import { canSuspendOffline, ensureCancelAndHold } from './firefox-audio.ts';
import {
  asSoundLayers,
  type KitCache,
  KitCacheError,
  kitCacheKey,
  openKitCache,
  type RenderedKit,
} from './kit-cache.ts';
import type { KitDesign } from './kits/design.ts';
import type { PadSound, SoundLayers } from './sound.ts';

/** Chromium's cap on an OfflineAudioContext's channels and on a ChannelMerger's inputs. */
export const MAX_CHANNELS = 32;
/** How many of the most played pads get the first render to themselves (kick, snare, hats). */
export const FIRST_PADS = 4;
/** Below this (−80 dBFS) a sound's end is silence, and is cut off. */
export const SILENCE = 1e-4;
/** Every sound ends with a fade this long (s), so none can end on a step. */
export const END_FADE = 0.005;
/** Web Audio's render quantum (frames): suspends happen on its boundaries. */
const QUANTUM = 128;
/** Whether renders cut each sound's graph off once it has ended (see renderOffline; off: for comparison). */
const RELEASE_FINISHED = true;

export interface KitRenderStatus {
  /** Where the sounds came from. */
  from: 'cache' | 'render';
  /**
   * 'hit': read from the cache; 'stored': rendered, then saved; 'unavailable': rendered, and the
   * cache could not be written (cacheError says why).
   */
  cache: 'hit' | 'stored' | 'unavailable';
  /**
   * The storage failure, with its code (KitCacheError): why cache is 'unavailable', or, beside
   * 'stored', what was wrong with what was stored before (a damaged record, a slow read).
   */
  cacheError: string | null;
  /** ms from the call until the first pad was handed over, and until the last pad's every layer was. */
  firstPadMs: number;
  allPadsMs: number;
}

/** One sound to render: a pad at a velocity. */
export interface RenderJob {
  pad: number;
  velocity: number;
}

/** Renders jobs, one channel each (raw: before trimming), at `sampleRate`. */
export type Renderer = (design: KitDesign, jobs: readonly RenderJob[], sampleRate: number) => Promise<Float32Array[]>;

/** What renderKit uses; tests hand in their own where the real one cannot run. */
export interface RenderKitDeps {
  openCache: () => Promise<KitCache>;
  render: Renderer;
  now: () => number;
}

/**
 * Renders (or reads from the IndexedDB cache) every pad's layers, calling onPad as each is ready,
 * most played pads first. A pad may be handed over twice: first with its loudest layer alone,
 * then with all its layers (each call's sound replaces the last). Each sound handed over is the
 * receiver's own: nothing here keeps or reads it afterwards (it may be transferred to a worklet,
 * which empties its buffers). Never calls onPad after
 * `signal` aborts; then it rejects with the signal's reason. Resolves with where the sounds came
 * from and whether the cache worked.
 */
export function renderKit(
  design: KitDesign,
  sampleRate: number,
  onPad: (pad: number, sound: SoundLayers) => void,
  signal?: AbortSignal,
): Promise<KitRenderStatus> {
  return renderKitWith(
    { openCache: openKitCache, render: renderOffline, now: () => performance.now() },
    design,
    sampleRate,
    onPad,
    signal,
  );
}

/** Pads in the order they are rendered and handed over: by priority, then pad order. */
export function padOrder(design: KitDesign): number[] {
  const rank = (pad: number) => design.pads[pad]?.priority ?? Number.POSITIVE_INFINITY;
  return design.pads.map((_, pad) => pad).sort((a, b) => rank(a) - rank(b) || a - b);
}

/**
 * The renders, in order: the loudest layer of the FIRST_PADS most played pads (a small render,
 * so they sound soonest), then the loudest layer of the others, then every other layer (loudest
 * first), each render at most MAX_CHANNELS sounds.
 */
export function renderPlan(design: KitDesign): RenderJob[][] {
  const order = padOrder(design);
  const groups: RenderJob[][] = [[], [], []];
  order.forEach((pad, rank) => {
    const layers = design.pads[pad]?.layers ?? [];
    for (let i = layers.length - 1; i >= 0; i--) {
      const group = i < layers.length - 1 ? 2 : rank < FIRST_PADS ? 0 : 1;
      groups[group]?.push({ pad, velocity: layers[i] as number });
    }
  });
  const renders: RenderJob[][] = [];
  for (const jobs of groups) {
    for (let i = 0; i < jobs.length; i += MAX_CHANNELS) renders.push(jobs.slice(i, i + MAX_CHANNELS));
  }
  return renders;
}

/**
 * A rendered channel as a sound: its silent end (below SILENCE) cut off, then END_FADE of fade
 * out. A copy: the render's buffer is not kept alive by it.
 */
export function finishSound(raw: Float32Array, sampleRate: number): PadSound {
  let end = raw.length;
  while (end > 0 && Math.abs(raw[end - 1] as number) < SILENCE) end--;
  const data = raw.slice(0, Math.max(end, 1));
  const fade = Math.min(data.length, Math.round(END_FADE * sampleRate));
  for (let i = 0; i < fade; i++) {
    const k = data.length - fade + i;
    data[k] = (data[k] as number) * ((fade - i) / (fade + 1));
  }
  return { channels: [data], sampleRate };
}

/** renderKit with its parts handed in (see RenderKitDeps). */
export async function renderKitWith(
  deps: RenderKitDeps,
  design: KitDesign,
  sampleRate: number,
  onPad: (pad: number, sound: SoundLayers) => void,
  signal?: AbortSignal,
): Promise<KitRenderStatus> {
  const started = deps.now();
  let firstPadMs = Number.NaN;
  const hand = (pad: number, sound: SoundLayers) => {
    if (signal?.aborted) return;
    onPad(pad, sound);
    if (Number.isNaN(firstPadMs)) firstPadMs = deps.now() - started;
  };
  const stopIfAborted = () => {
    if (signal?.aborted) throw signal.reason ?? new DOMException('kit render aborted', 'AbortError');
  };
  stopIfAborted();
  const key = kitCacheKey(design, sampleRate);
  const order = padOrder(design);

  let cache: KitCache | null = null;
  let cacheError: KitCacheError | null = null;
  try {
    try {
      cache = await deps.openCache();
    } catch (error) {
      cacheError = asKitCacheError(error);
    }
    stopIfAborted();
    if (cache) {
      try {
        const found = await cache.read(key, order, (pad, value) => {
          const sound = asSoundLayers(value, design.pads[pad]?.layers ?? [], sampleRate);
          if (sound) hand(pad, sound);
          return sound !== null;
        });
        stopIfAborted();
        if (found) {
          return { from: 'cache', cache: 'hit', cacheError: null, firstPadMs, allPadsMs: deps.now() - started };
        }
      } catch (error) {
        stopIfAborted();
        if (!(error instanceof KitCacheError)) throw error; // onPad's own failure
        cacheError = error;
      }
    }

    // Not cached (or unreadable): render, pass by pass.
    const layers: (PadSound | undefined)[][] = design.pads.map((pad) => pad.layers.map(() => undefined));
    const complete = (pad: number) => layers[pad]?.every((sound) => sound !== undefined) ?? false;
    const soundOf = (pad: number): SoundLayers => {
      const velocities = design.pads[pad]?.layers ?? [];
      const have: { velocity: number; sound: PadSound }[] = [];
      velocities.forEach((velocity, i) => {
        const sound = layers[pad]?.[i];
        if (sound) have.push({ velocity, sound });
      });
      return { layers: have };
    };
    for (const jobs of renderPlan(design)) {
      const channels = await deps.render(design, jobs, sampleRate);
      stopIfAborted();
      const touched = new Set<number>();
      jobs.forEach((job, i) => {
        const velocities = design.pads[job.pad]?.layers ?? [];
        const slot = layers[job.pad];
        const raw = channels[i];
        if (slot && raw) slot[velocities.indexOf(job.velocity)] = finishSound(raw, sampleRate);
        touched.add(job.pad);
      });
      // A copy: the receiver owns what it is given (the engine may transfer it to the audio
      // thread, which empties it here), and the originals are stored in the cache below.
      for (const pad of order) if (touched.has(pad)) hand(pad, copyOf(soundOf(pad)));
    }
    const allPadsMs = deps.now() - started;

    if (!design.pads.every((_, pad) => complete(pad))) {
      throw new Error(`kit ${design.id}: a render gave fewer sounds than asked for`);
    }
    const rendered: RenderedKit = {
      key,
      kitId: design.id,
      version: design.version,
      sampleRate,
      pads: design.pads.map((_, pad) => soundOf(pad)),
    };
    let stored = false;
    if (cache) {
      try {
        await cache.write(rendered);
        stored = true;
      } catch (error) {
        cacheError ??= asKitCacheError(error);
      }
    }
    return {
      from: 'render',
      cache: stored ? 'stored' : 'unavailable',
      cacheError: cacheError?.message ?? null,
      firstPadMs,
      allPadsMs,
    };
  } finally {
    cache?.close();
  }
}

function copyOf(sound: SoundLayers): SoundLayers {
  return {
    layers: sound.layers.map(({ velocity, sound: { channels, sampleRate } }) => ({
      velocity,
      sound: { channels: channels.map((channel) => channel.slice()), sampleRate },
    })),
  };
}

function asKitCacheError(error: unknown): KitCacheError {
  return error instanceof KitCacheError ? error : new KitCacheError('KIT_CACHE_FAILED', String(error));
}

/**
 * The real renderer: one OfflineAudioContext, each job's sound into its own channel of the
 * output (a ChannelMerger), every hit at time 0, as long as the longest of them. With
 * `release`, each sound's graph is cut from the output once its length has passed (the render
 * suspends there), so the render thread stops working on it: Tone's signals never stop on
 * their own.
 */
export async function renderOffline(
  design: KitDesign,
  jobs: readonly RenderJob[],
  sampleRate: number,
  release = RELEASE_FINISHED,
): Promise<Float32Array[]> {
  if (jobs.length === 0) return [];
  if (jobs.length > MAX_CHANNELS) throw new Error(`at most ${MAX_CHANNELS} sounds per render, not ${jobs.length}`);
  const quanta = (seconds: number) => Math.max(1, Math.ceil((seconds * sampleRate) / QUANTUM));
  const length = Math.max(...jobs.map((job) => quanta(design.pads[job.pad]?.length ?? 0))) * QUANTUM;
  ensureCancelAndHold(); // Firefox: Tone's envelopes need it (firefox-audio.ts)
  const raw = new OfflineAudioContext({ numberOfChannels: jobs.length, length, sampleRate });
  raw.destination.channelInterpretation = 'discrete';
  const cutLive = canSuspendOffline(raw);
  const context = new OfflineContext(raw);
  const merger = raw.createChannelMerger(jobs.length);
  merger.connect(raw.destination);
  /** Outputs to cut, by the frame their sound has ended at. */
  const endings = new Map<number, GainNode[]>();
  /** Without a suspend (Firefox): each channel's frame to zero it from after the render. */
  const zeroFrom: number[] = [];
  // Tone makes some things (noise buffers) on its global context: this one, while the hits are built.
  const previous = getContext();
  setContext(context);
  try {
    jobs.forEach((job, channel) => {
      const pad = design.pads[job.pad];
      if (!pad) throw new Error(`kit ${design.id} has no pad ${job.pad}`);
      const out = raw.createGain();
      out.connect(merger, 0, channel);
      pad.play(context, out, 0, job.velocity);
      const end = quanta(pad.length) * QUANTUM;
      zeroFrom[channel] = release && end < length ? end : length;
      if (cutLive && release && end < length) endings.set(end, [...(endings.get(end) ?? []), out]);
    });
  } finally {
    setContext(previous);
  }
  for (const [frame, outs] of endings) {
    raw
      .suspend(frame / sampleRate)
      .then(() => {
        for (const out of outs) out.disconnect();
        return raw.resume();
      })
      .catch(() => {}); // a suspend the render has passed (never, as scheduled before it started)
  }
  try {
    const buffer = await raw.startRendering();
    return jobs.map((_, channel) => {
      const data = buffer.getChannelData(channel);
      // The output a mid-render cut would have left silent from that frame on.
      if (!cutLive) data.fill(0, zeroFrom[channel]);
      return data;
    });
  } finally {
    context.dispose();
  }
}

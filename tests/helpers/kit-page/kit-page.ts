/**
 * The page of tests/e2e/kit-render.test.ts and bench/kit-render.ts: padmesh's real kit renderer
 * (client/audio/render-kit.ts, real Tone.js, a real OfflineAudioContext, real IndexedDB) in real
 * Chromium. It renders a built-in kit and reports, per pad and layer, what a musician would hear
 * wrong: silence, clipping, a click at the start, a cut-off tail, layers that do not differ; and
 * when each pad was handed over. Sounds stay in the page; only figures and checksums come back.
 */
import '../../../client/audio/quiet-tone.ts';
import { Offline } from 'tone';
import { KitCacheError } from '../../../client/audio/kit-cache.ts';
import { BUILT_IN_KITS, type KitDesign } from '../../../client/audio/kits/index.ts';
import {
  END_FADE,
  type KitRenderStatus,
  renderKit,
  renderKitWith,
  renderOffline,
  renderPlan,
} from '../../../client/audio/render-kit.ts';
import type { SoundLayers } from '../../../client/audio/sound.ts';

export interface LayerReport {
  velocity: number;
  channels: number;
  /** Samples. */
  length: number;
  /** Largest magnitude (1 = 0 dBFS). */
  peak: number;
  /** Magnitude of the first sample, and the largest of the first 0.1 ms. */
  first: number;
  startMax: number;
  /** Largest magnitude over the 5 ms before the renderer's end fade (render-kit.ts's END_FADE): how the sound itself ended. */
  endMax: number;
  /** RMS of the first difference over RMS: higher is brighter (a spectral centroid stand-in). */
  brightness: number;
  rms: number;
  /** FNV-1a of the samples' bytes. */
  checksum: number;
}

export interface PadReport {
  id: string;
  name: string;
  color: string;
  chokeGroup: number;
  /** The design's render length, in samples. */
  renderLength: number;
  layers: LayerReport[];
}

export interface KitReport {
  status: KitRenderStatus;
  /** Each onPad call: which pad, how many layers, ms after the call to renderKit. */
  calls: { pad: number; layers: number; atMs: number }[];
  pads: PadReport[];
  totalMs: number;
  /** FNV-1a over every pad's final layers. */
  checksum: number;
  sampleRate: number;
  /** OfflineAudioContexts made meanwhile (0: nothing was rendered). */
  renders: number;
}

export interface KitPage {
  ready: boolean;
  kits(): { id: string; name: string; version: number; pads: number; renders: number }[];
  /** renderKit as the DAW calls it (cache included), with a report. */
  render(kitId: string, sampleRate: number): Promise<KitReport>;
  /** renderKit without the cache (its opening fails at once): the render alone; `release` as renderOffline's. */
  renderUncached(kitId: string, sampleRate: number, release?: boolean): Promise<KitReport>;
  /** renderKit, aborted once `afterPads` onPad calls were made; says what happened. */
  renderAborted(
    kitId: string,
    sampleRate: number,
    afterPads: number,
  ): Promise<{ calls: number; callsAfterAbort: number; rejected: string | null }>;
  /** Every sound rendered in its own OfflineAudioContext, one after another (ms). */
  renderOneByOne(kitId: string, sampleRate: number): Promise<number>;
  /** Every sound rendered with Tone.Offline, one after another, as the prototype did (ms). */
  renderToneOffline(kitId: string, sampleRate: number): Promise<number>;
  /** Renders `jobs` in one render (renderOffline); each channel's peak. For looking into a kit. */
  peaks(
    kitId: string,
    sampleRate: number,
    jobs: { pad: number; velocity: number }[],
    release?: boolean,
  ): Promise<number[]>;
  /** Deletes the kit cache's database. */
  clearCache(): Promise<void>;
  /** Opens the kit cache's database at a layout version from the future, and keeps it (the cache cannot open). */
  occupyCacheWithNewerLayout(): Promise<void>;
}

/** Counts the OfflineAudioContexts made (instrumentation: they are the real ones). */
let offlineContexts = 0;
const NativeOfflineAudioContext = window.OfflineAudioContext;
window.OfflineAudioContext = class extends NativeOfflineAudioContext {
  constructor(...args: ConstructorParameters<typeof OfflineAudioContext>) {
    super(...args);
    offlineContexts++;
  }
} as typeof OfflineAudioContext;

const kitById = (id: string): KitDesign => {
  const kit = BUILT_IN_KITS.find((k) => k.id === id);
  if (!kit) throw new Error(`no built-in kit ${id}`);
  return kit;
};

function fnv(hash: number, data: Float32Array): number {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let h = hash;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i] as number;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

function layerReport(velocity: number, channels: Float32Array[], sampleRate: number): LayerReport {
  const data = channels[0] as Float32Array;
  let peak = 0;
  let sum = 0;
  let diff = 0;
  for (let i = 0; i < data.length; i++) {
    const x = data[i] as number;
    const a = Math.abs(x);
    if (a > peak) peak = a;
    sum += x * x;
    if (i > 0) diff += (x - (data[i - 1] as number)) ** 2;
  }
  const start = Math.max(1, Math.round(0.0001 * sampleRate));
  const fade = Math.round(END_FADE * sampleRate);
  let startMax = 0;
  for (let i = 0; i < Math.min(start, data.length); i++) startMax = Math.max(startMax, Math.abs(data[i] as number));
  let endMax = 0;
  for (let i = Math.max(0, data.length - 2 * fade); i < data.length - fade; i++) {
    endMax = Math.max(endMax, Math.abs(data[i] as number));
  }
  let checksum = 0x811c9dc5;
  for (const channel of channels) checksum = fnv(checksum, channel);
  return {
    velocity,
    channels: channels.length,
    length: data.length,
    peak,
    first: Math.abs(data[0] as number),
    startMax,
    endMax,
    brightness: sum > 0 ? Math.sqrt(diff / sum) : 0,
    rms: Math.sqrt(sum / Math.max(1, data.length)),
    checksum,
  };
}

async function report(
  kit: KitDesign,
  sampleRate: number,
  run: (onPad: (pad: number, sound: SoundLayers) => void) => Promise<KitRenderStatus>,
): Promise<KitReport> {
  const sounds: (SoundLayers | undefined)[] = kit.pads.map(() => undefined);
  const calls: KitReport['calls'] = [];
  const contextsBefore = offlineContexts;
  const t0 = performance.now();
  const status = await run((pad, sound) => {
    calls.push({ pad, layers: sound.layers.length, atMs: performance.now() - t0 });
    sounds[pad] = sound;
  });
  const totalMs = performance.now() - t0;
  let checksum = 0x811c9dc5;
  const pads = kit.pads.map((design, pad) => {
    const layers = (sounds[pad]?.layers ?? []).map(({ velocity, sound }) => {
      for (const channel of sound.channels) checksum = fnv(checksum, channel);
      return layerReport(velocity, sound.channels, sound.sampleRate);
    });
    return {
      id: design.id,
      name: design.name,
      color: design.color,
      chokeGroup: design.chokeGroup ?? 0,
      renderLength: Math.ceil(design.length * sampleRate),
      layers,
    };
  });
  return { status, calls, pads, totalMs, checksum, sampleRate, renders: offlineContexts - contextsBefore };
}

const noCache = () => Promise.reject(new KitCacheError('KIT_CACHE_UNAVAILABLE', 'left out on purpose'));
const occupied: IDBDatabase[] = [];

const page: KitPage = {
  ready: true,
  kits: () =>
    BUILT_IN_KITS.map((kit) => ({
      id: kit.id,
      name: kit.name,
      version: kit.version,
      pads: kit.pads.length,
      renders: renderPlan(kit).length,
    })),
  render: (kitId, sampleRate) => {
    const kit = kitById(kitId);
    return report(kit, sampleRate, (onPad) => renderKit(kit, sampleRate, onPad));
  },
  renderUncached: (kitId, sampleRate, release) => {
    const kit = kitById(kitId);
    return report(kit, sampleRate, (onPad) =>
      renderKitWith(
        {
          openCache: noCache,
          render: (design, jobs, rate) => renderOffline(design, jobs, rate, release),
          now: () => performance.now(),
        },
        kit,
        sampleRate,
        onPad,
      ),
    );
  },
  async renderAborted(kitId, sampleRate, afterPads) {
    const kit = kitById(kitId);
    const controller = new AbortController();
    let calls = 0;
    let callsAfterAbort = 0;
    let rejected: string | null = null;
    try {
      await renderKit(
        kit,
        sampleRate,
        () => {
          calls++;
          if (controller.signal.aborted) callsAfterAbort++;
          if (calls === afterPads) controller.abort();
        },
        controller.signal,
      );
    } catch (error) {
      rejected = error instanceof Error || error instanceof DOMException ? error.name : String(error);
    }
    return { calls, callsAfterAbort, rejected };
  },
  async renderOneByOne(kitId, sampleRate) {
    const kit = kitById(kitId);
    const t0 = performance.now();
    for (const jobs of renderPlan(kit)) for (const job of jobs) await renderOffline(kit, [job], sampleRate);
    return performance.now() - t0;
  },
  async renderToneOffline(kitId, sampleRate) {
    const kit = kitById(kitId);
    const t0 = performance.now();
    for (const jobs of renderPlan(kit)) {
      for (const job of jobs) {
        const pad = kit.pads[job.pad];
        if (!pad) continue;
        await Offline((context) => pad.play(context, context.destination, 0, job.velocity), pad.length, 1, sampleRate);
      }
    }
    return performance.now() - t0;
  },
  async peaks(kitId, sampleRate, jobs, release) {
    const channels = await renderOffline(kitById(kitId), jobs, sampleRate, release);
    return channels.map((channel) => channel.reduce((peak, x) => Math.max(peak, Math.abs(x)), 0));
  },
  clearCache: () =>
    new Promise((resolve, reject) => {
      for (const db of occupied.splice(0)) db.close();
      const request = indexedDB.deleteDatabase('padmesh-kits');
      request.onsuccess = () => resolve();
      request.onerror = () => reject(request.error);
      request.onblocked = () => reject(new Error('the kit cache is held open'));
    }),
  occupyCacheWithNewerLayout: () =>
    new Promise((resolve, reject) => {
      const request = indexedDB.open('padmesh-kits', 1_000);
      request.onsuccess = () => {
        occupied.push(request.result);
        resolve();
      };
      request.onerror = () => reject(request.error);
    }),
};
(window as unknown as { kitPage: KitPage }).kitPage = page;

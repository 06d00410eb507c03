/**
 * The kit renderer's logic in Node: which pads come first, how sounds are grouped into renders,
 * how a rendered channel is finished, and renderKitWith's handling of the cache (hit, miss,
 * damaged, failing) and of an abort. Node has no OfflineAudioContext and no IndexedDB, so the
 * renderer and the cache here are stand-ins that record what they are asked (the real ones run
 * in tests/e2e/kit-render.test.ts); the designs are the real built-in kits.
 */
import { describe, expect, it } from 'vitest';
import { type KitCache, KitCacheError, kitCacheKey, type RenderedKit } from '../../client/audio/kit-cache.ts';
import type { KitDesign } from '../../client/audio/kits/design.ts';
import { ELECTRONIC_KIT, PERCUSSION_KIT } from '../../client/audio/kits/index.ts';
import {
  END_FADE,
  FIRST_PADS,
  finishSound,
  MAX_CHANNELS,
  padOrder,
  type RenderJob,
  type RenderKitDeps,
  renderKitWith,
  renderPlan,
  SILENCE,
} from '../../client/audio/render-kit.ts';
import type { SoundLayers } from '../../client/audio/sound.ts';

const RATE = 48_000;

/** A kit of `pads` pads, with the given priorities and layers, that plays nothing (the stand-in renderer makes the sound). */
function kit(pads: { priority?: number; layers?: number[] }[], id = 'test'): KitDesign {
  return {
    id,
    version: 1,
    name: 'Test',
    pads: pads.map((p, i) => ({
      id: `pad-${i}`,
      name: `Pad ${i}`,
      color: '#ffffff',
      layers: p.layers ?? [1],
      length: 0.01,
      ...(p.priority === undefined ? {} : { priority: p.priority }),
      play() {},
    })),
  };
}

/** A sound the stand-in renderer makes for a job: 1000 samples of (pad + velocity), so each is recognisable. */
const sample = (job: RenderJob) => job.pad + job.velocity;
function fakeRenderer(log: RenderJob[][], gate?: () => Promise<void>) {
  return async (_design: KitDesign, jobs: readonly RenderJob[]) => {
    log.push([...jobs]);
    await gate?.();
    return jobs.map((job) => new Float32Array(1000).fill(sample(job)));
  };
}

/** An in-memory cache that behaves as kit-cache.ts's, with failures on demand. */
function memoryCache(
  store: Map<string, RenderedKit>,
  fail: { open?: KitCacheError; read?: KitCacheError; write?: KitCacheError } = {},
) {
  const log = { reads: 0, writes: 0, closed: 0 };
  const open = async (): Promise<KitCache> => {
    if (fail.open) throw fail.open;
    return {
      async read(key, order, accept) {
        log.reads++;
        if (fail.read) throw fail.read;
        const found = store.get(key);
        if (!found) return false;
        for (const pad of order) {
          if (!accept(pad, found.pads[pad])) throw new KitCacheError('KIT_CACHE_CORRUPT', `pad ${pad}`);
        }
        return true;
      },
      async write(rendered) {
        log.writes++;
        if (fail.write) throw fail.write;
        store.set(rendered.key, rendered);
      },
      close() {
        log.closed++;
      },
    };
  };
  return { open, log };
}

function deps(openCache: RenderKitDeps['openCache'], render: RenderKitDeps['render']): RenderKitDeps {
  let t = 0;
  return { openCache, render, now: () => (t += 1) };
}

/** Runs renderKitWith, recording each onPad call as [pad, the velocities it carried]. */
async function run(design: KitDesign, d: RenderKitDeps, signal?: AbortSignal) {
  const calls: [number, number[]][] = [];
  const sounds = new Map<number, SoundLayers>();
  const status = await renderKitWith(
    d,
    design,
    RATE,
    (pad, sound) => {
      calls.push([pad, sound.layers.map((l) => l.velocity)]);
      sounds.set(pad, sound);
    },
    signal,
  );
  return { status, calls, sounds };
}

describe('the order pads are rendered and handed over in', () => {
  it('puts pads with a priority first, lowest first, then the rest in pad order', () => {
    expect(padOrder(kit([{}, { priority: 2 }, {}, { priority: 0 }, { priority: 1 }]))).toEqual([3, 4, 1, 0, 2]);
    expect(padOrder(kit([{}, {}, {}]))).toEqual([0, 1, 2]);
  });

  it('starts the electronic kit with the kick, the snare and the hats', () => {
    const ids = padOrder(ELECTRONIC_KIT).map((pad) => ELECTRONIC_KIT.pads[pad]?.id);
    expect(ids.slice(0, 4)).toEqual(['kick', 'snare', 'hat-closed', 'hat-open']);
    expect(new Set(ids).size).toBe(16);
  });

  it("renders the FIRST_PADS most played pads' loudest layers first, then the other loudest, then the rest, at most MAX_CHANNELS at once", () => {
    expect(FIRST_PADS).toBe(4);
    const design = kit([
      { layers: [0.3, 0.6, 1] },
      { priority: 0, layers: [0.5, 1] },
      { layers: [1] },
      { layers: [1] },
      { priority: 1, layers: [1] },
      { layers: [0.5, 1] },
    ]);
    expect(renderPlan(design)).toEqual([
      [
        { pad: 1, velocity: 1 },
        { pad: 4, velocity: 1 },
        { pad: 0, velocity: 1 },
        { pad: 2, velocity: 1 },
      ],
      [
        { pad: 3, velocity: 1 },
        { pad: 5, velocity: 1 },
      ],
      [
        { pad: 1, velocity: 0.5 },
        { pad: 0, velocity: 0.6 },
        { pad: 0, velocity: 0.3 },
        { pad: 5, velocity: 0.5 },
      ],
    ]);
    // 40 pads of 3 layers: 4 loudest, the 36 other loudest (32 + 4), then 80 others (32 + 32 + 16).
    const big = renderPlan(kit(Array.from({ length: 40 }, () => ({ layers: [0.3, 0.6, 1] }))));
    expect(big.map((jobs) => jobs.length)).toEqual([4, MAX_CHANNELS, 4, MAX_CHANNELS, MAX_CHANNELS, 16]);
    // A small kit: no empty render.
    expect(renderPlan(kit([{}, {}])).map((jobs) => jobs.length)).toEqual([2]);
  });

  it('renders the percussion kit in three renders: 4 most played pads, the other 12, then the 32 softer layers', () => {
    expect(renderPlan(PERCUSSION_KIT).map((jobs) => jobs.length)).toEqual([4, 12, 32]);
  });
});

describe('a rendered channel, finished', () => {
  it('loses its silent end and fades out over END_FADE, as a copy', () => {
    const raw = new Float32Array(2000);
    raw.fill(0.5, 0, 1000);
    raw.fill(SILENCE / 2, 1000); // below SILENCE: cut
    const sound = finishSound(raw, RATE);
    const data = sound.channels[0] as Float32Array;
    expect(sound.sampleRate).toBe(RATE);
    expect(data.length).toBe(1000);
    const fade = Math.round(END_FADE * RATE);
    expect(data[1000 - fade - 1]).toBe(0.5); // untouched before the fade
    expect(data[999]).toBeLessThan(0.5 / fade); // its last sample nearly 0
    for (let i = 1000 - fade; i < 1000; i++) expect(data[i] as number).toBeLessThan(data[i - 1] as number);
    raw[0] = 0.25;
    expect(data[0]).toBe(0.5); // a copy
  });

  it('keeps one sample of a silent render', () => {
    expect(finishSound(new Float32Array(10), RATE).channels[0]?.length).toBe(1);
  });
});

describe('renderKitWith', () => {
  const design = kit([{ layers: [0.5, 1] }, { priority: 0, layers: [0.25, 0.5, 1] }, { layers: [1] }]);

  it('renders a kit not cached: every loudest layer first, then each pad again whole, then stores it', async () => {
    const store = new Map<string, RenderedKit>();
    const cache = memoryCache(store);
    const renders: RenderJob[][] = [];
    const { status, calls, sounds } = await run(design, deps(cache.open, fakeRenderer(renders)));
    expect(calls).toEqual([
      [1, [1]],
      [0, [1]],
      [2, [1]],
      [1, [0.25, 0.5, 1]],
      [0, [0.5, 1]],
    ]);
    expect(renders.length).toBe(2);
    // Each layer is its own render's channel.
    const layer = (pad: number, i: number) => sounds.get(pad)?.layers[i]?.sound.channels[0]?.[0];
    expect(layer(1, 0)).toBeCloseTo(1.25);
    expect(layer(1, 2)).toBeCloseTo(2);
    expect(layer(0, 0)).toBeCloseTo(0.5);
    expect(status).toMatchObject({ from: 'render', cache: 'stored', cacheError: null });
    expect(status.firstPadMs).toBeLessThanOrEqual(status.allPadsMs);
    const stored = store.get(kitCacheKey(design, RATE));
    expect(stored?.pads.map((p) => p.layers.map((l) => l.velocity))).toEqual([[0.5, 1], [0.25, 0.5, 1], [1]]);
    expect(cache.log.closed).toBe(1);
  });

  it('hands over sounds the receiver owns: taking their buffers (a transfer to a worklet) spoils nothing', async () => {
    const store = new Map<string, RenderedKit>();
    const intact: boolean[] = [];
    await renderKitWith(deps(memoryCache(store).open, fakeRenderer([])), design, RATE, (_pad, sound) => {
      for (const { sound: s } of sound.layers) {
        intact.push(s.channels.every((channel) => channel.length === 1000));
        // What postMessage(…, transfer) does to the sender's copy: its buffers are emptied.
        structuredClone(s.channels, { transfer: s.channels.map((channel) => channel.buffer as ArrayBuffer) });
      }
    });
    expect(intact.length).toBe(3 + 5);
    expect(intact.every(Boolean)).toBe(true);
    const stored = store.get(kitCacheKey(design, RATE));
    for (const pad of stored?.pads ?? []) {
      for (const { sound } of pad.layers) expect(sound.channels[0]?.length).toBe(1000);
    }
  });

  it('reads a cached kit in priority order, whole, without rendering', async () => {
    const store = new Map<string, RenderedKit>();
    await run(design, deps(memoryCache(store).open, fakeRenderer([])));
    const renders: RenderJob[][] = [];
    const { status, calls, sounds } = await run(design, deps(memoryCache(store).open, fakeRenderer(renders)));
    expect(renders).toEqual([]);
    expect(calls).toEqual([
      [1, [0.25, 0.5, 1]],
      [0, [0.5, 1]],
      [2, [1]],
    ]);
    expect(sounds.get(2)?.layers[0]?.sound.channels[0]?.[0]).toBeCloseTo(3);
    expect(status).toMatchObject({ from: 'cache', cache: 'hit', cacheError: null });
  });

  it('keys the cache by kit, version and sample rate', async () => {
    expect(kitCacheKey({ id: 'a', version: 1 }, 48_000)).not.toBe(kitCacheKey({ id: 'a', version: 2 }, 48_000));
    expect(kitCacheKey({ id: 'a', version: 1 }, 48_000)).not.toBe(kitCacheKey({ id: 'a', version: 1 }, 44_100));
    expect(kitCacheKey({ id: 'a', version: 1 }, 48_000)).not.toBe(kitCacheKey({ id: 'b', version: 1 }, 48_000));
    // A kit stored at another version or sample rate is rendered anew.
    const store = new Map<string, RenderedKit>();
    await run(design, deps(memoryCache(store).open, fakeRenderer([])));
    const renders: RenderJob[][] = [];
    const newer = { ...design, version: 2 };
    expect((await run(newer, deps(memoryCache(store).open, fakeRenderer(renders)))).status.from).toBe('render');
    expect(renders.length).toBe(2);
    const other = await renderKitWith(deps(memoryCache(store).open, fakeRenderer(renders)), design, 44_100, () => {});
    expect(other.from).toBe('render');
  });

  it('renders a cached kit whose record is not sound, hands over the rendered pads, and stores them again', async () => {
    const store = new Map<string, RenderedKit>();
    await run(design, deps(memoryCache(store).open, fakeRenderer([])));
    const stored = store.get(kitCacheKey(design, RATE)) as RenderedKit;
    const broken: SoundLayers = {
      layers: [{ velocity: 1, sound: { channels: [new Float32Array([Number.NaN])], sampleRate: RATE } }],
    };
    store.set(stored.key, { ...stored, pads: [stored.pads[0] as SoundLayers, stored.pads[1] as SoundLayers, broken] });
    const cache = memoryCache(store);
    const { status, calls } = await run(design, deps(cache.open, fakeRenderer([])));
    expect(status.from).toBe('render');
    expect(status.cache).toBe('stored');
    expect(status.cacheError).toContain('KIT_CACHE_CORRUPT');
    expect(calls.at(-1)).toEqual([0, [0.5, 1]]); // rendered, handed over whole
    expect(cache.log.writes).toBe(1);
    expect(store.get(stored.key)?.pads[2]?.layers[0]?.sound.channels[0]?.[0]).toBeCloseTo(3);
  });

  type Failures = { open?: KitCacheError; read?: KitCacheError; write?: KitCacheError };
  it.each<[string, Failures, 'stored' | 'unavailable']>([
    ['the cache cannot open', { open: new KitCacheError('KIT_CACHE_UNAVAILABLE', 'private mode') }, 'unavailable'],
    ['the quota is full', { write: new KitCacheError('KIT_CACHE_QUOTA', 'full') }, 'unavailable'],
    ['reading fails (and writing works)', { read: new KitCacheError('KIT_CACHE_FAILED', 'disk') }, 'stored'],
  ])('plays without the cache when %s, and says why', async (_case, fail, cache) => {
    const store = new Map<string, RenderedKit>();
    const { status, calls } = await run(design, deps(memoryCache(store, fail).open, fakeRenderer([])));
    expect(calls.length).toBe(5);
    expect(status.from).toBe('render');
    expect(status.cache).toBe(cache);
    const error = fail.open ?? fail.read ?? fail.write;
    expect(status.cacheError).toBe(error?.message);
    expect(store.size).toBe(cache === 'stored' ? 1 : 0);
  });

  it('stops handing over pads once aborted, and rejects with the reason', async () => {
    const controller = new AbortController();
    let release = () => {};
    const gate = () => new Promise<void>((resolve) => (release = resolve));
    const calls: number[] = [];
    const renders: RenderJob[][] = [];
    const done = renderKitWith(
      deps(memoryCache(new Map()).open, fakeRenderer(renders, gate)),
      design,
      RATE,
      (pad) => calls.push(pad),
      controller.signal,
    );
    await expect.poll(() => renders.length).toBe(1);
    controller.abort(new Error('kit switched'));
    release();
    await expect(done).rejects.toThrow('kit switched');
    expect(calls).toEqual([]);
    expect(renders.length).toBe(1); // the second render was never started
  });

  it('stops between pads read from the cache', async () => {
    const store = new Map<string, RenderedKit>();
    await run(design, deps(memoryCache(store).open, fakeRenderer([])));
    const controller = new AbortController();
    const calls: number[] = [];
    const done = renderKitWith(
      deps(memoryCache(store).open, fakeRenderer([])),
      design,
      RATE,
      (pad) => {
        calls.push(pad);
        controller.abort();
      },
      controller.signal,
    );
    await expect(done).rejects.toMatchObject({ name: 'AbortError' });
    expect(calls).toEqual([1]);
  });

  it('does not start when already aborted', async () => {
    const renders: RenderJob[][] = [];
    const cache = memoryCache(new Map());
    await expect(
      renderKitWith(deps(cache.open, fakeRenderer(renders)), design, RATE, () => {}, AbortSignal.abort()),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(renders).toEqual([]);
    expect(cache.log.reads).toBe(0);
  });

  it("passes onPad's own failure on, not as a storage failure", async () => {
    await expect(
      renderKitWith(deps(memoryCache(new Map()).open, fakeRenderer([])), design, RATE, () => {
        throw new Error('engine full');
      }),
    ).rejects.toThrow('engine full');
  });
});

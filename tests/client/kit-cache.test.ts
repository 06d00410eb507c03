/**
 * kit-cache.ts's checks, in Node: what a stored record must be to be played, and how storage
 * errors are named. IndexedDB itself (and every failure of it) runs in real Chromium in
 * tests/e2e/kit-render.test.ts; Node has none.
 */
import { describe, expect, it } from 'vitest';
import { asCacheError, asSoundLayers, KitCacheError, openKitCache } from '../../client/audio/kit-cache.ts';

const RATE = 48_000;
const layer = (velocity: number, channels: Float32Array[], sampleRate = RATE) => ({
  velocity,
  sound: { channels, sampleRate },
});
const samples = (n: number, value = 0.1) => new Float32Array(n).fill(value);

describe('a stored pad, read back', () => {
  it("is sound when its layers are the pad's, of 1 or 2 equal finite channels at the sample rate", () => {
    const mono = { layers: [layer(0.5, [samples(10)]), layer(1, [samples(4)])] };
    expect(asSoundLayers(mono, [0.5, 1], RATE)).toBe(mono);
    const stereo = { layers: [layer(1, [samples(10), samples(10, -0.1)])] };
    expect(asSoundLayers(stereo, [1], RATE)).toBe(stereo);
  });

  it.each([
    ['nothing', undefined],
    ['not an object', 'kick'],
    ['no layers', {}],
    ['other velocities', { layers: [layer(0.7, [samples(10)])] }],
    ['a layer too few', { layers: [] }],
    ['another sample rate', { layers: [layer(1, [samples(10)], 44_100)] }],
    ['no channels', { layers: [layer(1, [])] }],
    ['three channels', { layers: [layer(1, [samples(4), samples(4), samples(4)])] }],
    ['channels of different lengths', { layers: [layer(1, [samples(4), samples(5)])] }],
    ['an empty channel', { layers: [layer(1, [new Float32Array(0)])] }],
    ['a channel that is not a Float32Array', { layers: [layer(1, [[0.1, 0.2] as unknown as Float32Array])] }],
    ['a NaN sample', { layers: [layer(1, [new Float32Array([0, Number.NaN])])] }],
    ['an infinite sample', { layers: [layer(1, [new Float32Array([Number.POSITIVE_INFINITY])])] }],
  ])('is refused when it has %s', (_case, value) => {
    expect(asSoundLayers(value, [1], RATE)).toBeNull();
  });
});

describe('storage errors', () => {
  it('name a full quota, and keep the rest under the code given', () => {
    const quota = asCacheError(new DOMException('no room', 'QuotaExceededError'), 'KIT_CACHE_FAILED');
    expect(quota.code).toBe('KIT_CACHE_QUOTA');
    expect(quota.message).toContain('no room');
    const version = asCacheError(new DOMException('newer on disk', 'VersionError'), 'KIT_CACHE_UNAVAILABLE');
    expect(version.code).toBe('KIT_CACHE_UNAVAILABLE');
    expect(version.message).toContain('VersionError');
    const same = new KitCacheError('KIT_CACHE_BLOCKED', 'tab');
    expect(asCacheError(same, 'KIT_CACHE_FAILED')).toBe(same);
  });

  it('say the cache is unavailable where there is no IndexedDB', async () => {
    await expect(openKitCache(undefined)).rejects.toMatchObject({ code: 'KIT_CACHE_UNAVAILABLE' });
  });

  it('say the cache is unavailable where opening it throws (private mode in some browsers)', async () => {
    const throwing = {
      open() {
        throw new DOMException('denied', 'InvalidStateError');
      },
    } as unknown as IDBFactory;
    await expect(openKitCache(throwing)).rejects.toMatchObject({ code: 'KIT_CACHE_UNAVAILABLE' });
  });
});

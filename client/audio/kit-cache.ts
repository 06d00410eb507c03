/**
 * Rendered kits kept in IndexedDB, so a kit is rendered once per kit version and sample rate
 * (render-kit.ts renders; this module only stores). Storage is a convenience, never a condition
 * for sound: every failure (no IndexedDB, private mode, an upgrade blocked by another tab, a full
 * quota, a hang, a damaged record) is a KitCacheError with a code, and the caller plays without
 * the cache.
 *
 * Layout: store `kits` holds one manifest per rendered kit, store `pads` one record per pad (its
 * layers), both written in one transaction, so a kit is there whole or not at all; reading goes
 * pad by pad in the order asked, so the first pads sound before the last are read.
 */
import type { SoundLayers } from './sound.ts';

const DB_NAME = 'padmesh-kits';
/** The record layout's version: bumping it drops every cached kit (see onupgradeneeded). */
const DB_VERSION = 1;
/** Opening waits this long (ms) at most: a hang or a long block must not hold the sound back. */
export const CACHE_OPEN_TIMEOUT_MS = 1_000;
/** Reading a whole kit (a few MB) waits this long (ms) at most, then the kit is rendered. */
export const CACHE_READ_TIMEOUT_MS = 3_000;
/** Writing a kit waits this long (ms) at most before it is reported failed. */
export const CACHE_WRITE_TIMEOUT_MS = 10_000;

export type KitCacheErrorCode =
  /** No IndexedDB here, or the browser refused to open it (private mode, disabled storage, a newer layout on disk). */
  | 'KIT_CACHE_UNAVAILABLE'
  /** Another tab holds the database open at an older layout and did not let go. */
  | 'KIT_CACHE_BLOCKED'
  /** The storage quota is full. */
  | 'KIT_CACHE_QUOTA'
  /** The database did not answer in time. */
  | 'KIT_CACHE_TIMEOUT'
  /** A stored record is not a rendered pad of this kit. */
  | 'KIT_CACHE_CORRUPT'
  /** Any other storage error. */
  | 'KIT_CACHE_FAILED';

export class KitCacheError extends Error {
  constructor(
    readonly code: KitCacheErrorCode,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'KitCacheError';
  }
}

/** What identifies a rendered kit: a new version or another sample rate is another render. */
export function kitCacheKey(kit: { id: string; version: number }, sampleRate: number): string {
  return `${kit.id}@${kit.version}@${sampleRate}`;
}

/** A rendered kit as stored. */
export interface RenderedKit {
  key: string;
  kitId: string;
  version: number;
  sampleRate: number;
  pads: readonly SoundLayers[];
}

interface Manifest {
  key: string;
  kitId: string;
  version: number;
  sampleRate: number;
  pads: number;
}

interface PadRecord {
  key: string;
  pad: number;
  sound: SoundLayers;
}

export interface KitCache {
  /**
   * Reads kit `key`'s pads in `order`, handing each record's sound to `accept` (which says
   * whether it is sound, see asSoundLayers) as it arrives. Resolves true when every pad was
   * there and accepted, false when the kit is not stored; rejects with a KitCacheError (an
   * unaccepted record: KIT_CACHE_CORRUPT).
   */
  read(key: string, order: readonly number[], accept: (pad: number, sound: unknown) => boolean): Promise<boolean>;
  /** Stores a rendered kit whole, and drops the kit's other versions. Rejects with a KitCacheError. */
  write(kit: RenderedKit): Promise<void>;
  close(): void;
}

/** Opens the cache. Rejects with a KitCacheError (never hangs longer than CACHE_OPEN_TIMEOUT_MS). */
export function openKitCache(factory: IDBFactory | undefined = globalThis.indexedDB): Promise<KitCache> {
  return new Promise((resolve, reject) => {
    if (!factory) return reject(new KitCacheError('KIT_CACHE_UNAVAILABLE', 'this browser has no IndexedDB here'));
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      reject(new KitCacheError('KIT_CACHE_TIMEOUT', `opening the database took over ${CACHE_OPEN_TIMEOUT_MS} ms`));
    }, CACHE_OPEN_TIMEOUT_MS);
    const fail = (error: KitCacheError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(error);
    };
    let request: IDBOpenDBRequest;
    try {
      request = factory.open(DB_NAME, DB_VERSION);
    } catch (error) {
      return fail(asCacheError(error, 'KIT_CACHE_UNAVAILABLE'));
    }
    request.onupgradeneeded = () => {
      const db = request.result;
      for (const name of Array.from(db.objectStoreNames)) db.deleteObjectStore(name);
      db.createObjectStore('kits', { keyPath: 'key' });
      db.createObjectStore('pads', { keyPath: ['key', 'pad'] });
    };
    request.onblocked = () =>
      fail(new KitCacheError('KIT_CACHE_BLOCKED', 'another tab holds the kit cache open at an older layout'));
    request.onerror = () => fail(asCacheError(request.error, 'KIT_CACHE_UNAVAILABLE'));
    request.onsuccess = () => {
      const db = request.result;
      // Let another tab's newer layout in rather than block it.
      db.onversionchange = () => db.close();
      if (settled) return db.close(); // too late: the caller went on without us
      settled = true;
      clearTimeout(timer);
      resolve(cacheOn(db));
    };
  });
}

function cacheOn(db: IDBDatabase): KitCache {
  return {
    read(key, order, accept) {
      return new Promise((resolve, reject) => {
        let settled = false;
        const finish = (outcome: boolean | KitCacheError) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (outcome instanceof KitCacheError) reject(outcome);
          else resolve(outcome);
        };
        const timer = setTimeout(
          () => finish(new KitCacheError('KIT_CACHE_TIMEOUT', `reading the kit took over ${CACHE_READ_TIMEOUT_MS} ms`)),
          CACHE_READ_TIMEOUT_MS,
        );
        let tx: IDBTransaction;
        try {
          tx = db.transaction(['kits', 'pads'], 'readonly');
        } catch (error) {
          return finish(asCacheError(error, 'KIT_CACHE_FAILED'));
        }
        tx.onerror = () => finish(asCacheError(tx.error, 'KIT_CACHE_FAILED'));
        tx.onabort = () => finish(asCacheError(tx.error, 'KIT_CACHE_FAILED'));
        const manifest = tx.objectStore('kits').get(key);
        manifest.onsuccess = () => {
          const found = manifest.result as Manifest | undefined;
          if (found === undefined) return finish(false);
          if (typeof found.pads !== 'number' || found.pads !== order.length) {
            return finish(new KitCacheError('KIT_CACHE_CORRUPT', `kit ${key} was stored with another pad count`));
          }
          const pads = tx.objectStore('pads');
          let left = order.length;
          // Requests in one transaction complete in the order made: the first pads arrive first.
          for (const pad of order) {
            const get = pads.get([key, pad]);
            get.onsuccess = () => {
              if (settled) return;
              const record = get.result as PadRecord | undefined;
              if (record === undefined) {
                return finish(new KitCacheError('KIT_CACHE_CORRUPT', `kit ${key} lacks pad ${pad}`));
              }
              let ok: boolean;
              try {
                ok = accept(pad, record.sound);
              } catch (error) {
                // The caller's own failure: report it as it is, not as storage's.
                settled = true;
                clearTimeout(timer);
                return reject(error);
              }
              if (!ok) return finish(new KitCacheError('KIT_CACHE_CORRUPT', `kit ${key}'s pad ${pad} is not sound`));
              if (--left === 0) finish(true);
            };
          }
          if (order.length === 0) finish(true);
        };
      });
    },
    write(kit) {
      return new Promise((resolve, reject) => {
        let settled = false;
        const finish = (error: KitCacheError | null) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (error) reject(error);
          else resolve();
        };
        const timer = setTimeout(
          () =>
            finish(new KitCacheError('KIT_CACHE_TIMEOUT', `writing the kit took over ${CACHE_WRITE_TIMEOUT_MS} ms`)),
          CACHE_WRITE_TIMEOUT_MS,
        );
        try {
          const tx = db.transaction(['kits', 'pads'], 'readwrite');
          tx.oncomplete = () => finish(null);
          tx.onerror = () => finish(asCacheError(tx.error, 'KIT_CACHE_FAILED'));
          tx.onabort = () => finish(asCacheError(tx.error, 'KIT_CACHE_FAILED'));
          const kits = tx.objectStore('kits');
          const pads = tx.objectStore('pads');
          // The kit's other versions are dead weight (its other sample rates are kept: devices change).
          const others = kits.openCursor();
          others.onsuccess = () => {
            const cursor = others.result;
            if (!cursor) return;
            const old = cursor.value as Manifest;
            if (old.kitId === kit.kitId && old.version !== kit.version) {
              pads.delete(IDBKeyRange.bound([old.key, 0], [old.key, Number.MAX_SAFE_INTEGER]));
              cursor.delete();
            }
            cursor.continue();
          };
          kit.pads.forEach((sound, pad) => {
            pads.put({ key: kit.key, pad, sound } satisfies PadRecord);
          });
          kits.put({
            key: kit.key,
            kitId: kit.kitId,
            version: kit.version,
            sampleRate: kit.sampleRate,
            pads: kit.pads.length,
          } satisfies Manifest);
        } catch (error) {
          finish(asCacheError(error, 'KIT_CACHE_FAILED'));
        }
      });
    },
    close() {
      db.close();
    },
  };
}

/** A storage error as a KitCacheError: a full quota says so, anything else is `fallback`. */
export function asCacheError(error: unknown, fallback: KitCacheErrorCode): KitCacheError {
  if (error instanceof KitCacheError) return error;
  const name = typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : '';
  const message =
    error instanceof Error || (typeof error === 'object' && error !== null && 'message' in error)
      ? String((error as { message: unknown }).message)
      : String(error);
  if (name === 'QuotaExceededError')
    return new KitCacheError('KIT_CACHE_QUOTA', message || 'the storage quota is full');
  return new KitCacheError(fallback, name ? `${name}: ${message}` : message);
}

/**
 * A stored pad's sound, if it is one this kit can play: the layers `velocities` (ascending), each
 * 1 or 2 Float32Array channels of one length > 0 at `sampleRate`, every sample finite. Null
 * otherwise (a damaged or foreign record).
 */
export function asSoundLayers(value: unknown, velocities: readonly number[], sampleRate: number): SoundLayers | null {
  if (typeof value !== 'object' || value === null) return null;
  const layers = (value as { layers?: unknown }).layers;
  if (!Array.isArray(layers) || layers.length !== velocities.length) return null;
  for (let i = 0; i < layers.length; i++) {
    const layer = layers[i] as { velocity?: unknown; sound?: unknown } | null;
    if (typeof layer !== 'object' || layer === null || layer.velocity !== velocities[i]) return null;
    const sound = layer.sound as { channels?: unknown; sampleRate?: unknown } | null;
    if (typeof sound !== 'object' || sound === null || sound.sampleRate !== sampleRate) return null;
    const channels = sound.channels;
    if (!Array.isArray(channels) || channels.length < 1 || channels.length > 2) return null;
    const first = channels[0];
    if (!(first instanceof Float32Array) || first.length === 0) return null;
    for (const channel of channels) {
      if (!(channel instanceof Float32Array) || channel.length !== first.length) return null;
      for (let k = 0; k < channel.length; k++) if (!Number.isFinite(channel[k])) return null;
    }
  }
  return value as SoundLayers;
}

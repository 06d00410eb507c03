/**
 * Where a take's hits and sound go as they come, so a DAW tab reload loses at most the last
 * flush: IndexedDB (database `padmesh-recording`), one transaction per flush. Where IndexedDB is
 * missing or refuses to open, a store in memory does the same job for this page's life only
 * (shorter: MAX_MEMORY_MS in recording.ts), and the page says so. Every failure is a
 * RecordingError with a code; none of them touches the jam.
 *
 *   takes   key: id → TakeMeta (one take is kept: a new one replaces it)
 *   chunks  key: [take id, kind, seq] → { hits: HitChunk } or { pcm: Int16Array, frames }
 */
import type { TempoChange } from './grid.ts';
import type { HitChunk, TakePlayer, TakeSound } from './take.ts';

const DB_NAME = 'padmesh-recording';
const DB_VERSION = 1;
const TAKES = 'takes';
const CHUNKS = 'chunks';
/** Opening waits this long (ms) at most: then recording goes on in memory. */
const OPEN_TIMEOUT_MS = 2_000;

export type RecordingErrorCode =
  /** No IndexedDB here, or it refused to open (private windows, disabled storage). */
  | 'STORAGE_UNAVAILABLE'
  /** The storage quota is full. */
  | 'STORAGE_FULL'
  /** Any other storage failure. */
  | 'STORAGE_FAILED';

export class RecordingError extends Error {
  constructor(
    readonly code: RecordingErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RecordingError';
  }
}

/** What is known of a take besides its chunks: enough to export it after a reload. */
export interface TakeMeta {
  id: string;
  /** DAW wall clock (ms) when Record was pressed. */
  startedAt: number;
  /** When Stop was pressed (or the take stopped at a limit); null while recording, or if the tab went away. */
  stoppedAt: number | null;
  /** The last flush: how far a take cut short by a reload got. */
  lastAt: number;
  stopReason: string | null;
  sampleRate: number;
  channels: number;
  /** PCM frames stored, and hits stored. */
  frames: number;
  /** Frames from the start the tap could not reach back to (silence in the WAV). */
  missing: number;
  hits: number;
  players: TakePlayer[];
  sounds: TakeSound[];
  tempos: TempoChange[];
  /** The drum kit's name when recording began, for the file's name. */
  kit: string;
}

export interface PcmChunk {
  pcm: Int16Array;
  frames: number;
}

export interface TakeStore {
  /** 'disk': kept across a reload (IndexedDB); 'memory': this page only. */
  readonly kind: 'disk' | 'memory';
  /** Drops any kept take, then keeps this one's meta. */
  begin(meta: TakeMeta): Promise<void>;
  /** One flush, all or nothing: the meta as it is now, new hits and new PCM. */
  append(meta: TakeMeta, hits: HitChunk | null, pcm: readonly PcmChunk[]): Promise<void>;
  /** The kept take's meta, if any. */
  latest(): Promise<TakeMeta | null>;
  hits(id: string): Promise<HitChunk[]>;
  /** The take's PCM chunks in order, handed to `visit` a batch of at most `batch` at a time. */
  pcm(id: string, batch: number, visit: (chunks: PcmChunk[]) => void): Promise<void>;
  discard(): Promise<void>;
}

interface ChunkRecord {
  take: string;
  kind: 'hits' | 'pcm';
  seq: number;
  hits?: HitChunk;
  pcm?: Int16Array;
  frames?: number;
}

function asRecordingError(error: unknown, fallback: RecordingErrorCode): RecordingError {
  if (error instanceof RecordingError) return error;
  const name = (error as { name?: unknown } | null)?.name;
  if (name === 'QuotaExceededError') return new RecordingError('STORAGE_FULL', 'the storage for this page is full');
  const text = error instanceof Error ? error.message : String(error);
  return new RecordingError(fallback, text || 'storage failed');
}

const done = (tx: IDBTransaction): Promise<void> =>
  new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(asRecordingError(tx.error, 'STORAGE_FAILED'));
    tx.onabort = () => reject(asRecordingError(tx.error, 'STORAGE_FAILED'));
  });

const result = <T>(request: IDBRequest<T>): Promise<T> =>
  new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(asRecordingError(request.error, 'STORAGE_FAILED'));
  });

/** Opens the store on IndexedDB. Rejects with a RecordingError (STORAGE_UNAVAILABLE) within OPEN_TIMEOUT_MS. */
export function openTakeStore(factory: IDBFactory | undefined = globalThis.indexedDB): Promise<TakeStore> {
  return new Promise((resolve, reject) => {
    if (!factory) return reject(new RecordingError('STORAGE_UNAVAILABLE', 'this browser has no IndexedDB here'));
    let settled = false;
    const fail = (error: unknown) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(asRecordingError(error, 'STORAGE_UNAVAILABLE'));
    };
    const timer = setTimeout(() => fail(new Error(`opening storage took over ${OPEN_TIMEOUT_MS} ms`)), OPEN_TIMEOUT_MS);
    let request: IDBOpenDBRequest;
    try {
      request = factory.open(DB_NAME, DB_VERSION);
    } catch (error) {
      return fail(error);
    }
    request.onupgradeneeded = () => {
      const db = request.result;
      for (const name of Array.from(db.objectStoreNames)) db.deleteObjectStore(name);
      db.createObjectStore(TAKES, { keyPath: 'id' });
      db.createObjectStore(CHUNKS, { keyPath: ['take', 'kind', 'seq'] });
    };
    request.onblocked = () => fail(new Error('another tab holds the recording storage open at an older layout'));
    request.onerror = () => fail(request.error);
    request.onsuccess = () => {
      const db = request.result;
      db.onversionchange = () => db.close();
      if (settled) return db.close();
      settled = true;
      clearTimeout(timer);
      resolve(storeOn(db));
    };
  });
}

function storeOn(db: IDBDatabase): TakeStore {
  const seq = { hits: 0, pcm: 0 };
  const tx = (mode: IDBTransactionMode): IDBTransaction => {
    try {
      return db.transaction([TAKES, CHUNKS], mode);
    } catch (error) {
      throw asRecordingError(error, 'STORAGE_FAILED');
    }
  };
  const range = (id: string, kind: 'hits' | 'pcm') =>
    IDBKeyRange.bound([id, kind, 0], [id, kind, Number.MAX_SAFE_INTEGER]);
  return {
    kind: 'disk',
    async begin(meta) {
      const t = tx('readwrite');
      t.objectStore(TAKES).clear();
      t.objectStore(CHUNKS).clear();
      t.objectStore(TAKES).put(meta);
      seq.hits = 0;
      seq.pcm = 0;
      await done(t);
    },
    async append(meta, hits, pcm) {
      const t = tx('readwrite');
      t.objectStore(TAKES).put(meta);
      const chunks = t.objectStore(CHUNKS);
      if (hits && hits.tapAt.length > 0) {
        chunks.put({ take: meta.id, kind: 'hits', seq: seq.hits++, hits } satisfies ChunkRecord);
      }
      for (const chunk of pcm) {
        chunks.put({
          take: meta.id,
          kind: 'pcm',
          seq: seq.pcm++,
          pcm: chunk.pcm,
          frames: chunk.frames,
        } satisfies ChunkRecord);
      }
      await done(t);
    },
    async latest() {
      const all = (await result(tx('readonly').objectStore(TAKES).getAll())) as TakeMeta[];
      return all[0] ?? null;
    },
    async hits(id) {
      const records = (await result(tx('readonly').objectStore(CHUNKS).getAll(range(id, 'hits')))) as ChunkRecord[];
      return records.flatMap((record) => (record.hits ? [record.hits] : []));
    },
    async pcm(id, batch, visit) {
      // A batch per transaction: the whole take is never in memory at once.
      let from = 0;
      for (;;) {
        const bounds = IDBKeyRange.bound([id, 'pcm', from], [id, 'pcm', Number.MAX_SAFE_INTEGER]);
        const records = (await result(tx('readonly').objectStore(CHUNKS).getAll(bounds, batch))) as ChunkRecord[];
        if (records.length === 0) return;
        visit(records.flatMap((r) => (r.pcm ? [{ pcm: r.pcm, frames: r.frames ?? 0 }] : [])));
        from = (records.at(-1)?.seq ?? from) + 1;
        if (records.length < batch) return;
      }
    },
    async discard() {
      const t = tx('readwrite');
      t.objectStore(TAKES).clear();
      t.objectStore(CHUNKS).clear();
      await done(t);
    },
  };
}

/** The same store in memory: for a browser without IndexedDB. Nothing survives the page. */
export function memoryTakeStore(): TakeStore {
  let meta: TakeMeta | null = null;
  let hits: HitChunk[] = [];
  let pcm: PcmChunk[] = [];
  return {
    kind: 'memory',
    async begin(next) {
      meta = next;
      hits = [];
      pcm = [];
    },
    async append(next, newHits, newPcm) {
      meta = next;
      if (newHits && newHits.tapAt.length > 0) hits.push(newHits);
      pcm.push(...newPcm);
    },
    latest: async () => meta,
    hits: async (id) => (meta?.id === id ? [...hits] : []),
    async pcm(id, batch, visit) {
      if (meta?.id !== id) return;
      for (let i = 0; i < pcm.length; i += batch) visit(pcm.slice(i, i + batch));
    },
    async discard() {
      meta = null;
      hits = [];
      pcm = [];
    },
  };
}

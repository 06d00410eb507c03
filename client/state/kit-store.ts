/**
 * The DAW's user kits, kept in IndexedDB so own samples survive reloads and work offline, and
 * the current one handed to the sound engine through a SampleSink. Every change is one
 * IndexedDB transaction, made before anything else changes: a refusal (a full quota, no
 * storage, a bad file) leaves the kit, the store and the engine as they were.
 *
 * Database `padmesh-kits` (version 1):
 *   kits    key: kit id → { name, pads: 16 × { name, color, settings, sound: null | shape } }
 *   sounds  key: `${kitId}:${pad}` → { sampleRate, frames, scale, channels: Int16Array[] }
 *   meta    key: 'current' → the current kit's id
 * A sound's key is its kit and pad, so replacing a pad's sound overwrites it and deleting a kit
 * deletes a key range: no sound is ever left behind.
 */
import { nanoid } from 'nanoid';
import { batch } from 'solid-js';
import { createStore } from 'solid-js/store';
import * as v from 'valibot';
import {
  builtInKit,
  ColorSchema,
  decodeKitFile,
  encodeKitFile,
  issueText,
  KIT_FILE_EXTENSION,
  KIT_PADS,
  KitNameSchema,
  kitSampleBytes,
  PadNameSchema,
  packSound,
  SettingsSchema,
  type SoundShape,
  SoundShapeSchema,
  type StoredSound,
  soundBytes,
  type UserKit,
  unpackSound,
} from '../audio/kit-file.ts';
import {
  asSampleError,
  decodeSample,
  MAX_KIT_FILE_BYTES,
  MAX_KIT_SAMPLE_BYTES,
  MAX_PAD_NAME_CHARS,
  resampleSound,
  SampleError,
  SampleErrorCode,
} from '../audio/sample-import.ts';
import type { SlotSettings } from '../audio/sound.ts';
import type { SampleSink } from './sample-sink.ts';

const DB_NAME = 'padmesh-kits';
const DB_VERSION = 1;
const KITS = 'kits';
const SOUNDS = 'sounds';
const META = 'meta';
const CURRENT = 'current';
const soundKey = (kitId: string, pad: number) => `${kitId}:${pad}`;
/** Every sound key of a kit (':' < ';'). */
const kitSounds = (kitId: string) => IDBKeyRange.bound(`${kitId}:`, `${kitId};`, false, true);

const KitRecordSchema = v.object({
  name: KitNameSchema,
  pads: v.pipe(
    v.array(
      v.object({
        name: PadNameSchema,
        color: ColorSchema,
        settings: SettingsSchema,
        sound: v.nullable(SoundShapeSchema),
      }),
    ),
    v.length(KIT_PADS),
  ),
});
type KitRecord = v.InferOutput<typeof KitRecordSchema>;
const SoundRecordSchema = v.object({
  sampleRate: v.number(),
  frames: v.number(),
  scale: v.number(),
  channels: v.array(v.instance(Int16Array)),
});

const shapeOf = (sound: StoredSound): SoundShape => ({
  sampleRate: sound.sampleRate,
  frames: sound.frames,
  channels: sound.channels.length as 1 | 2,
  scale: sound.scale,
});
const recordOf = (kit: UserKit): KitRecord => ({
  name: kit.name,
  pads: kit.pads.map((pad) => ({
    name: pad.name,
    color: pad.color,
    settings: pad.settings,
    sound: pad.sound ? shapeOf(pad.sound) : null,
  })),
});

const unavailable = (why: string) =>
  new SampleError(
    SampleErrorCode.STORAGE_UNAVAILABLE,
    `Own samples cannot be kept: this browser gives the page no storage (IndexedDB: ${why}). Private windows often do not.`,
  );

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** Resolves when the transaction has committed; rejects with its error (QuotaExceededError…) if it aborts. */
function committed(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error ?? new DOMException('The transaction was aborted', 'AbortError'));
    tx.onerror = (event) => event.preventDefault(); // reported by onabort
  });
}

/** The kits in IndexedDB. Every method is one transaction. */
export class KitDb {
  private constructor(private readonly db: IDBDatabase) {}

  static async open(): Promise<KitDb> {
    if (typeof indexedDB === 'undefined' || indexedDB === null) throw unavailable('missing');
    try {
      const req = indexedDB.open(DB_NAME, DB_VERSION);
      req.onupgradeneeded = () => {
        const db = req.result;
        for (const name of [KITS, SOUNDS, META]) if (!db.objectStoreNames.contains(name)) db.createObjectStore(name);
      };
      return new KitDb(await request(req));
    } catch (error) {
      throw unavailable(error instanceof Error ? error.message || error.name : String(error));
    }
  }

  close(): void {
    this.db.close();
  }

  async list(): Promise<{ id: string; name: string }[]> {
    const tx = this.db.transaction(KITS, 'readonly');
    const store = tx.objectStore(KITS);
    const [keys, values] = await Promise.all([request(store.getAllKeys()), request(store.getAll())]);
    return keys.flatMap((key, index) => {
      const name = v.safeParse(KitRecordSchema, values[index]);
      return typeof key === 'string' && name.success ? [{ id: key, name: name.output.name }] : [];
    });
  }

  async current(): Promise<string | null> {
    const id = await request(this.db.transaction(META, 'readonly').objectStore(META).get(CURRENT));
    return typeof id === 'string' ? id : null;
  }

  /** A kit with its sounds, or null if it is missing or its records are damaged. */
  async load(id: string): Promise<UserKit | null> {
    const tx = this.db.transaction([KITS, SOUNDS], 'readonly');
    const [record, soundKeys, soundValues] = await Promise.all([
      request(tx.objectStore(KITS).get(id)),
      request(tx.objectStore(SOUNDS).getAllKeys(kitSounds(id))),
      request(tx.objectStore(SOUNDS).getAll(kitSounds(id))),
    ]);
    const kit = v.safeParse(KitRecordSchema, record);
    if (!kit.success) return null;
    const sounds = new Map(soundKeys.map((key, index) => [key, soundValues[index]]));
    const pads = kit.output.pads.map((pad, index) => {
      const shape = pad.sound;
      const stored = v.safeParse(SoundRecordSchema, sounds.get(soundKey(id, index)));
      const whole =
        shape !== null &&
        stored.success &&
        stored.output.channels.length === shape.channels &&
        stored.output.channels.every((channel) => channel.length === shape.frames);
      // A sound whose record is missing or does not match its shape plays the built-in sound.
      return { ...pad, sound: whole ? { ...shape, channels: stored.output.channels } : null };
    });
    return { name: kit.output.name, pads };
  }

  /**
   * One read-write transaction: `body` makes its requests; resolves once they are committed. If
   * `body` throws (a value that cannot be stored), nothing of it is kept.
   */
  private async write(stores: string[], body: (tx: IDBTransaction) => void): Promise<void> {
    const tx = this.db.transaction(stores, 'readwrite');
    const done = committed(tx);
    try {
      body(tx);
    } catch (error) {
      done.catch(() => {}); // the abort below is this failure, reported here
      tx.abort();
      throw error;
    }
    await done;
  }

  /** Writes a whole kit (its sounds replaced) and makes it current. */
  saveKit(id: string, kit: UserKit): Promise<void> {
    return this.write([KITS, SOUNDS, META], (tx) => {
      tx.objectStore(KITS).put(recordOf(kit), id);
      const sounds = tx.objectStore(SOUNDS);
      sounds.delete(kitSounds(id));
      kit.pads.forEach((pad, index) => {
        if (pad.sound) sounds.put(pad.sound, soundKey(id, index));
      });
      tx.objectStore(META).put(id, CURRENT);
    });
  }

  /** Writes one pad of a kit: the kit's record, and its sound (put, or deleted when null). */
  savePad(id: string, kit: UserKit, pad: number): Promise<void> {
    return this.write([KITS, SOUNDS], (tx) => {
      tx.objectStore(KITS).put(recordOf(kit), id);
      const sound = kit.pads[pad]?.sound ?? null;
      if (sound) tx.objectStore(SOUNDS).put(sound, soundKey(id, pad));
      else tx.objectStore(SOUNDS).delete(soundKey(id, pad));
    });
  }

  /** The kit's record only (names, colours, settings). */
  saveRecord(id: string, kit: UserKit): Promise<void> {
    return this.write([KITS], (tx) => tx.objectStore(KITS).put(recordOf(kit), id));
  }

  setCurrent(id: string): Promise<void> {
    return this.write([META], (tx) => tx.objectStore(META).put(id, CURRENT));
  }

  delete(id: string): Promise<void> {
    return this.write([KITS, SOUNDS], (tx) => {
      tx.objectStore(KITS).delete(id);
      tx.objectStore(SOUNDS).delete(kitSounds(id));
    });
  }
}

// ─── The DAW's live kit ──────────────────────────────────────────────────────────────────────
export interface PadView {
  name: string;
  color: string;
  /** The pad's own sound's length (s) and channels, or null while it plays the built-in sound. */
  sample: { seconds: number; channels: number } | null;
  settings: SlotSettings;
}

export interface KitStoreView {
  /** Stored kits, for the picker. */
  kits: { id: string; name: string }[];
  /** The current kit's id (null until storage answered, or without storage). */
  id: string | null;
  name: string;
  pads: PadView[];
  /** Bytes of sample data in the current kit (≤ MAX_KIT_SAMPLE_BYTES). */
  bytes: number;
  /** Set once the stored kit is restored (or storage is known to be missing). */
  loaded: boolean;
  /** What is being done (a file decoding, a kit loading), for the page. */
  busy: string | null;
  /** The last refusal, until the next action. */
  error: { code: SampleErrorCode; message: string } | null;
  /** The last success, in words. */
  notice: string | null;
  /** Imported sounds are normalised (the page's checkbox). */
  normalise: boolean;
  /** Actions finished (done or refused), so a page or a test can tell one from the next. */
  done: number;
}

/** A built-in pad as a new kit (or a pad given back its built-in sound) shows it. */
export interface BuiltInLook {
  name: string;
  color: string;
  /** The built-in kit's choke group for it (the closed hat's and open hat's); absent: none. */
  chokeGroup?: number;
}

export interface KitStoreOptions {
  /** The built-in kit's pad names and colours, for a new kit. */
  builtInLooks: readonly BuiltInLook[];
  /** Opens the database (tests can pass a failing one). */
  openDb?: () => Promise<KitDb>;
}

const padView = (pad: UserKit['pads'][number]): PadView => ({
  name: pad.name,
  color: pad.color,
  sample: pad.sound ? { seconds: pad.sound.frames / pad.sound.sampleRate, channels: pad.sound.channels.length } : null,
  settings: { ...pad.settings },
});

/** A file's name without its extension, as a pad name. */
export const padNameOf = (fileName: string): string =>
  fileName
    .replace(/\.[^.]*$/, '')
    .trim()
    .slice(0, MAX_PAD_NAME_CHARS) || 'Sample';

const kitFileName = (name: string) => `${name.replace(/[^\w\- ]+/g, '').trim() || 'kit'}${KIT_FILE_EXTENSION}`;

/**
 * The DAW's kit: restored from IndexedDB on creation, handed to `sink`, changed by the page's
 * actions. Actions run one at a time, in order; each either changes everything it should (store,
 * engine, view) or, refused, nothing, and says why in `view.error`.
 */
export function createKitStore(sink: SampleSink, options: KitStoreOptions) {
  let builtInLooks = options.builtInLooks;
  const chokeOf = (pad: number) => builtInLooks[pad]?.chokeGroup ?? 0;
  const fresh = (): UserKit => {
    const made = builtInKit('My kit', builtInLooks);
    return {
      ...made,
      pads: made.pads.map((pad, i) => ({ ...pad, settings: { ...pad.settings, chokeGroup: chokeOf(i) } })),
    };
  };
  let kit: UserKit = fresh();
  let db: KitDb | null = null;
  let dbError: SampleError | null = null;
  const [view, setView] = createStore<KitStoreView>({
    kits: [],
    id: null,
    name: kit.name,
    pads: kit.pads.map(padView),
    bytes: 0,
    loaded: false,
    busy: null,
    error: null,
    notice: null,
    normalise: false,
    done: 0,
  });

  /** Each pad to the engine: its settings, then its sound. Sounds at another rate are resampled first. */
  async function apply(next: UserKit, pads: readonly number[]): Promise<void> {
    const sounds = await Promise.all(
      pads.map(async (pad) => {
        const stored = next.pads[pad]?.sound;
        return stored ? resampleSound(unpackSound(stored), sink.sampleRate) : null;
      }),
    );
    pads.forEach((pad, index) => {
      const entry = next.pads[pad];
      if (!entry) return;
      sink.setSlotSettings(pad, entry.settings);
      const sound = sounds[index];
      if (sound) sink.setSlotSound(pad, { layers: [{ velocity: 1, sound }] });
      else sink.useBuiltIn(pad);
    });
  }

  const everyPad = Array.from({ length: KIT_PADS }, (_, pad) => pad);

  function show(next: UserKit, id: string | null, pads: readonly number[] = everyPad) {
    kit = next;
    batch(() => {
      setView('id', id);
      setView('name', next.name);
      setView('bytes', kitSampleBytes(next));
      // Each pad's view merged into the one at its place (every field is set, so nothing of the old stays).
      for (const pad of pads) {
        const entry = next.pads[pad];
        if (entry) setView('pads', pad, padView(entry));
      }
    });
  }

  async function storage(): Promise<KitDb> {
    if (db) return db;
    throw dbError ?? unavailable('not open');
  }

  let queue: Promise<unknown> = Promise.resolve();
  /** Runs `work` after every earlier action; a refusal goes to view.error, nothing else changes. */
  function run(busy: string, work: () => Promise<string | null>): Promise<boolean> {
    const next = queue.then(async () => {
      batch(() => {
        setView('busy', busy);
        setView('error', null);
        setView('notice', null);
      });
      try {
        const notice = await work();
        setView('notice', notice);
        return true;
      } catch (error) {
        const refusal = asSampleError(error);
        setView('error', { code: refusal.code, message: refusal.message });
        return false;
      } finally {
        batch(() => {
          setView('busy', null);
          setView('done', (done) => done + 1);
        });
      }
    });
    queue = next;
    return next;
  }

  async function refreshList(store: KitDb) {
    setView('kits', await store.list());
  }

  // Restore the current kit (or make the first one).
  const restored = run('Loading your kit…', async () => {
    try {
      db = await (options.openDb ?? KitDb.open)();
    } catch (error) {
      dbError = asSampleError(error);
      await apply(kit, everyPad);
      setView('loaded', true);
      return null; // not an error until the musician tries to keep a sample
    }
    let id = await db.current();
    let stored = id === null ? null : await db.load(id);
    if (id === null || stored === null) {
      id = nanoid();
      stored = fresh();
      await db.saveKit(id, stored);
    }
    await apply(stored, everyPad);
    show(stored, id);
    await refreshList(db);
    setView('loaded', true);
    return null;
  });

  /** A changed copy of the current kit with pad `pad` replaced. */
  const withPad = (pad: number, change: Partial<UserKit['pads'][number]>): UserKit => ({
    ...kit,
    pads: kit.pads.map((entry, index) => (index === pad ? { ...entry, ...change } : entry)),
  });

  return {
    view,
    /** Settles when the stored kit has been restored and handed to the sink. */
    restored,

    /** An audio file onto pad `pad` (dropped or picked): decoded, kept, then played. */
    setNormalise: (normalise: boolean) => setView('normalise', normalise),

    importSample(pad: number, file: File): Promise<boolean> {
      return run(`Loading ${file.name}…`, async () => {
        const store = await storage();
        const id = view.id as string;
        const sound = await decodeSample(file, sink.sampleRate, { normalise: view.normalise });
        const stored = packSound(sound);
        const next = withPad(pad, { sound: stored, name: padNameOf(file.name) });
        const bytes = kitSampleBytes(next);
        if (bytes > MAX_KIT_SAMPLE_BYTES) {
          throw new SampleError(
            SampleErrorCode.KIT_FULL,
            `The kit would hold ${(bytes / 2 ** 20).toFixed(1)} MB of samples; a kit holds at most ${MAX_KIT_SAMPLE_BYTES / 2 ** 20} MB. Clear a pad first, or use a shorter sound.`,
          );
        }
        await store.savePad(id, next, pad);
        void navigator.storage?.persist?.().catch(() => false); // ask the browser not to evict samples
        const { settings } = next.pads[pad] as UserKit['pads'][number];
        sink.setSlotSettings(pad, settings);
        sink.setSlotSound(pad, { layers: [{ velocity: 1, sound }] });
        show(next, id, [pad]);
        await refreshList(store);
        return `${file.name} is on pad ${pad + 1} (${(soundBytes(stored) / 1024).toFixed(0)} KB kept).`;
      });
    },

    /** Pad `pad` plays its built-in sound again (its own sound is deleted). */
    clearPad(pad: number, builtIn: { name: string; color: string }): Promise<boolean> {
      return run('Clearing…', async () => {
        const store = await storage();
        const id = view.id as string;
        const next = withPad(pad, { sound: null, name: builtIn.name, color: builtIn.color });
        await store.savePad(id, next, pad);
        sink.useBuiltIn(pad);
        show(next, id, [pad]);
        return null;
      });
    },

    /** A pad's name and colour (phones show them). */
    setPadLook(pad: number, look: { name: string; color: string }): Promise<boolean> {
      return run('Saving…', async () => {
        const name = v.safeParse(PadNameSchema, look.name.trim());
        if (!name.success) throw new SampleError(SampleErrorCode.INVALID_VALUE, `Pad name: ${issueText(name.issues)}`);
        const color = v.safeParse(ColorSchema, look.color);
        if (!color.success)
          throw new SampleError(SampleErrorCode.INVALID_VALUE, `Pad colour: ${issueText(color.issues)}`);
        const store = await storage();
        const id = view.id as string;
        const next = withPad(pad, { name: name.output, color: color.output });
        await store.saveRecord(id, next);
        show(next, id, [pad]);
        return null;
      });
    },

    setPadSettings(pad: number, settings: SlotSettings): Promise<boolean> {
      return run('Saving…', async () => {
        const parsed = v.safeParse(SettingsSchema, settings);
        if (!parsed.success) throw new SampleError(SampleErrorCode.INVALID_VALUE, issueText(parsed.issues));
        const store = await storage();
        const id = view.id as string;
        const next = withPad(pad, { settings: parsed.output });
        await store.saveRecord(id, next);
        sink.setSlotSettings(pad, parsed.output);
        show(next, id, [pad]);
        return null;
      });
    },

    /** The current kit as one file (a download). */
    exportKit(): { name: string; blob: Blob } {
      return {
        name: kitFileName(kit.name),
        blob: new Blob([encodeKitFile(kit)], { type: 'application/octet-stream' }),
      };
    },

    /** A kit file from a friend: checked whole, kept as a new kit, made current. */
    importKitFile(file: File): Promise<boolean> {
      return run(`Reading ${file.name}…`, async () => {
        if (file.size > MAX_KIT_FILE_BYTES) {
          // Not read at all: decodeKitFile would refuse it the same way, after reading it.
          throw new SampleError(
            SampleErrorCode.KIT_FILE_TOO_LARGE,
            `The kit file is ${(file.size / 2 ** 20).toFixed(1)} MB; kit files may be at most ${MAX_KIT_FILE_BYTES / 2 ** 20} MB.`,
          );
        }
        const imported = decodeKitFile(new Uint8Array(await file.arrayBuffer()));
        const store = await storage();
        const names = new Set(view.kits.map((entry) => entry.name));
        let name = imported.name;
        for (let n = 2; names.has(name); n++) name = `${imported.name.slice(0, 35)} (${n})`;
        const next = { ...imported, name };
        const id = nanoid();
        await store.saveKit(id, next);
        await apply(next, everyPad);
        show(next, id);
        await refreshList(store);
        return `Kit “${name}” imported.`;
      });
    },

    selectKit(id: string): Promise<boolean> {
      return run('Loading kit…', async () => {
        const store = await storage();
        const next = await store.load(id);
        if (!next) throw new SampleError(SampleErrorCode.STORAGE_UNAVAILABLE, 'That kit could not be read back.');
        await store.setCurrent(id);
        await apply(next, everyPad);
        show(next, id);
        return null;
      });
    },

    newKit(): Promise<boolean> {
      return run('Making a kit…', async () => {
        const store = await storage();
        const id = nanoid();
        const next = fresh();
        const names = new Set(view.kits.map((entry) => entry.name));
        for (let n = 2; names.has(next.name); n++) next.name = `My kit ${n}`;
        await store.saveKit(id, next);
        await apply(next, everyPad);
        show(next, id);
        await refreshList(store);
        return null;
      });
    },

    /** Deletes the current kit; another (or a fresh one) becomes current. */
    deleteKit(): Promise<boolean> {
      return run('Deleting kit…', async () => {
        const store = await storage();
        const gone = view.id as string;
        const rest = view.kits.filter((entry) => entry.id !== gone);
        let id = rest[0]?.id ?? null;
        let next = id === null ? null : await store.load(id);
        if (id === null || next === null) {
          id = nanoid();
          next = fresh();
          await store.saveKit(id, next);
        } else {
          await store.setCurrent(id);
        }
        await store.delete(gone);
        await apply(next, everyPad);
        show(next, id);
        await refreshList(store);
        return null;
      });
    },

    renameKit(name: string): Promise<boolean> {
      return run('Saving…', async () => {
        const parsed = v.safeParse(KitNameSchema, name);
        if (!parsed.success) throw new SampleError(SampleErrorCode.INVALID_VALUE, issueText(parsed.issues));
        const store = await storage();
        const id = view.id as string;
        const next = { ...kit, name: parsed.output };
        await store.saveRecord(id, next);
        show(next, id, []);
        await refreshList(store);
        return null;
      });
    },

    /** Stored sounds are handed over again (the engine was rebuilt, or a built-in kit loaded over them). */
    reapply: () => apply(kit, everyPad),

    /**
     * The built-in sounds are now another kit's (Electronic, Acoustic, Percussion): every pad
     * that plays its built-in sound takes that kit's name, colour and choke group; pads with the
     * musician's own sounds keep theirs. Kept with the kit when storage works; shown either way.
     */
    useBuiltInLooks(looks: readonly BuiltInLook[]): Promise<boolean> {
      builtInLooks = looks;
      return run('Switching sounds…', async () => {
        const next: UserKit = {
          ...kit,
          pads: kit.pads.map((pad, i) => {
            const look = looks[i];
            if (pad.sound || !look) return pad;
            return {
              ...pad,
              name: look.name,
              color: look.color,
              settings: { ...pad.settings, chokeGroup: chokeOf(i) },
            };
          }),
        };
        if (db && view.id !== null) await db.saveRecord(view.id, next);
        next.pads.forEach((pad, i) => {
          if (!pad.sound) sink.setSlotSettings(i, pad.settings);
        });
        show(next, view.id);
        return null;
      });
    },

    dispose(): void {
      db?.close();
    },
  };
}

export type KitStore = ReturnType<typeof createKitStore>;

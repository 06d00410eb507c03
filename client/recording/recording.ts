/**
 * The Record button's work on the DAW page: a take of every hit (take.ts) and of the engine's
 * output (tap-worklet.ts), kept as it comes (take-store.ts) and, on Stop, a MIDI file
 * (midi-file.ts) and a WAV (wav.ts) to download. After a reload of the DAW tab the kept take is
 * offered for download again.
 *
 * The hit path's share is `hit()`: one call into the take's preallocated arrays (nothing when
 * not recording). Everything else (storage, the tap's chunks, tempo, names) is off that path.
 *
 * Limits (see README, "Recording"): a take runs MAX_RECORDING_MS at most, MAX_MEMORY_MS where
 * it cannot be stored (no IndexedDB), and no longer than STORAGE_SHARE of the free storage the
 * browser reports allows; MAX_TAKE_HITS hits (take.ts). At a limit it stops cleanly and says why.
 */
import { createSignal } from 'solid-js';
import type { DrumEngine } from '../audio/engine.ts';
import type { Part } from '../audio/instruments.ts';
import { type Tempo, wallClock } from '../net/hits.ts';
import { downloadBlob } from '../src/download.ts';
import { gridFor, type TempoChange } from './grid.ts';
import { joinChunks, MAX_TAKE_HITS, Take, type TakeSound, takeSound } from './take.ts';
import {
  memoryTakeStore,
  openTakeStore,
  type PcmChunk,
  RecordingError,
  type RecordingErrorCode,
  type TakeMeta,
  type TakeStore,
} from './take-store.ts';
import { TAP_CHANNELS, TAP_PROCESSOR, type TapMessage, type TapReport } from './tap-protocol.ts';
import tapUrl from './tap-worklet.ts?worker&url';
import { BYTES_PER_SAMPLE, wavHeader } from './wav.ts';

/** The longest take: 30 minutes is ~330 MB of 48 kHz stereo 16-bit WAV, which a browser can still hand over as one file. */
export const MAX_RECORDING_MS = 30 * 60_000;
/** Without IndexedDB the sound stays in this page's memory (~11 MB a minute at 48 kHz): 10 minutes at most. */
export const MAX_MEMORY_MS = 10 * 60_000;
/** How often hits and sound go to storage: a reload loses at most this much (ms). */
export const FLUSH_MS = 1_000;
/** Of the free storage the browser reports, the share a take may fill (the rest is for kits and samples). */
export const STORAGE_SHARE = 0.8;
/** Stop waits this long (ms) for the tap's last chunk (a suspended context sends none). */
const STOP_WAIT_MS = 3_000;
/** PCM chunks read back per batch when the WAV is made (a second each). */
const EXPORT_BATCH = 32;

export type RecordingState = 'idle' | 'recording' | 'stopping' | 'stopped';

export interface RecordingMessage {
  code: RecordingErrorCode | 'LIMIT' | 'TAKE_FULL' | 'NO_SOUND';
  text: string;
}

/** A kept take as the page shows it. */
export interface KeptTake {
  meta: TakeMeta;
  /** The files' time 0 on the DAW's clock (ms): the bar line before the start if the beat ran. */
  origin: number;
  /** The take did not stop (the tab was reloaded or closed while recording). */
  unfinished: boolean;
  /** The beat ran: quantising has a grid. */
  beat: boolean;
}

export interface RecordingOptions {
  engine: DrumEngine;
  /** The jam's tempo now. */
  tempo: () => Tempo;
  /** Where to keep takes; IndexedDB by default. */
  openStore?: () => Promise<TakeStore>;
}

const minutes = (ms: number) => `${Math.round(ms / 60_000)} min`;

export function createRecording(options: RecordingOptions) {
  const { engine } = options;
  const [state, setState] = createSignal<RecordingState>('idle');
  const [elapsedMs, setElapsedMs] = createSignal(0);
  const [limitMs, setLimitMs] = createSignal(MAX_RECORDING_MS);
  const [message, setMessage] = createSignal<RecordingMessage | null>(null);
  const [kept, setKept] = createSignal<KeptTake | null>(null);
  const [storeKind, setStoreKind] = createSignal<'disk' | 'memory' | null>(null);
  /** Of the take being recorded: hits and frames kept so far (what a reload now would keep). */
  const [saved, setSaved] = createSignal({ hits: 0, frames: 0 });

  let take: Take | null = null;
  let meta: TakeMeta | null = null;
  let tempos: TempoChange[] = [];
  let pcm: PcmChunk[] = [];
  let writing: Promise<void> = Promise.resolve();
  let flushTimer: ReturnType<typeof setInterval> | undefined;
  let tickTimer: ReturnType<typeof setInterval> | undefined;
  let onStopped: (() => void) | null = null;

  // What every player's pads play and their names, kept for the next take too.
  let drums: TakeSound = takeSound({ instrument: 'drums', octave: 3, key: 0, scale: 'minor-pentatonic' }, 'electronic');
  let kitName = 'electronic';
  const sounds = new Map<string | null, TakeSound>();
  const names = new Map<string, string>();

  const store: Promise<TakeStore> = (options.openStore ?? openTakeStore)().catch((error: unknown) => {
    const problem = error instanceof RecordingError ? error.message : String(error);
    setMessage({
      code: 'STORAGE_UNAVAILABLE',
      text: `Recordings cannot be kept across a reload here (${problem}): a take stays in this page, up to ${minutes(MAX_MEMORY_MS)}.`,
    });
    return memoryTakeStore();
  });
  // A take kept from before a reload is offered; `storeKind` is set once that is known.
  void store.then(async (opened) => {
    try {
      const found = await opened.latest();
      if (found && state() === 'idle') setKept(keptOf(found));
    } catch {
      // Nothing to offer.
    }
    setStoreKind(opened.kind);
  });

  let tap: AudioWorkletNode | null = null;
  const tapReady = async (): Promise<AudioWorkletNode> => {
    if (tap) return tap;
    await engine.context.audioWorklet.addModule(tapUrl);
    const node = new AudioWorkletNode(engine.context, TAP_PROCESSOR, {
      numberOfInputs: 1,
      numberOfOutputs: 0,
      channelCount: TAP_CHANNELS,
      channelCountMode: 'explicit',
    });
    node.port.onmessage = ({ data }: MessageEvent<TapReport>) => {
      if (data.type === 'pcm') pcm.push({ pcm: data.pcm, frames: data.frames });
      else if (data.type === 'started' && meta) meta.missing = data.missing;
      else if (data.type === 'stopped') onStopped?.();
    };
    engine.output.connect(node);
    tap = node;
    return node;
  };
  // The tap is made as soon as sound runs: Record must not wait for its module (nor miss the start).
  const makeTap = () => {
    if (engine.state === 'running') void tapReady().catch(() => {});
  };
  const stopWatching = engine.onStateChange(makeTap);
  makeTap();
  const tell = (message: TapMessage) => tap?.port.postMessage(message);
  /** The context time of a DAW time; now if the context does not run (a stop must not wait for it). */
  const contextAt = (wallMs: number) => {
    const at = engine.contextTimeAt(wallMs);
    return Number.isFinite(at) ? at : 0;
  };

  /** The meta with the take's players, sounds and tempos as they are now. */
  const currentMeta = (m: TakeMeta, source: Take | null): TakeMeta => {
    if (source) {
      m.players = source.players.map((player) => ({ ...player }));
      m.sounds = [...source.sounds];
    }
    m.tempos = [...tempos];
    return m;
  };

  /** One flush: new hits and sound to storage. Serialised: a slow store never sees two at once. */
  const flush = (current: Take | null = take): Promise<void> => {
    if (!meta) return writing;
    const m = meta;
    writing = writing.then(async () => {
      if (meta !== m) return;
      const hits = current ? current.drain() : null;
      const chunks = pcm.splice(0);
      const before = { lastAt: m.lastAt, hits: m.hits, frames: m.frames };
      m.lastAt = wallClock();
      m.hits += hits?.tapAt.length ?? 0;
      m.frames += chunks.reduce((sum, chunk) => sum + chunk.frames, 0);
      try {
        await (await store).append(currentMeta(m, current), hits, chunks);
      } catch (error) {
        Object.assign(m, before); // all or nothing: the meta says what is stored
        throw error;
      }
      setSaved({ hits: m.hits, frames: m.frames });
    });
    return writing;
  };

  const fail = (error: unknown) => {
    const code = error instanceof RecordingError ? error.code : 'STORAGE_FAILED';
    const text =
      code === 'STORAGE_FULL'
        ? 'Storage is full: the recording stopped. What was kept is below.'
        : `The recording could not be kept (${error instanceof Error ? error.message : String(error)}): it stopped. What was kept is below.`;
    void stop({ code, text });
  };

  const tick = () => {
    if (!meta || state() !== 'recording') return;
    const elapsed = wallClock() - meta.startedAt;
    setElapsedMs(elapsed);
    if (elapsed >= limitMs()) {
      void stop({ code: 'LIMIT', text: `The recording stopped at its limit of ${minutes(limitMs())}.` });
    } else if (take && take.count >= take.capacity) {
      void stop({ code: 'TAKE_FULL', text: `The recording stopped: it holds ${MAX_TAKE_HITS} hits at most.` });
    }
  };

  async function start(): Promise<void> {
    if (state() === 'recording' || state() === 'stopping') return;
    if (engine.state !== 'running') {
      setMessage({ code: 'NO_SOUND', text: 'Turn sound on first: the recording takes what the DAW plays.' });
      return;
    }
    const startedAt = wallClock();
    const next = new Take(startedAt, drums);
    for (const [peerId, name] of names) next.name(peerId, name);
    for (const [peerId, sound] of sounds) next.sound(peerId, sound);
    take = next;
    tempos = [{ at: startedAt, tempo: { ...options.tempo() } }]; // a copy: the jam's is a store proxy, which storage cannot clone
    pcm = [];
    meta = {
      id: `take-${Math.round(startedAt)}`,
      startedAt,
      stoppedAt: null,
      lastAt: startedAt,
      stopReason: null,
      sampleRate: engine.sampleRate,
      channels: TAP_CHANNELS,
      frames: 0,
      missing: 0,
      hits: 0,
      players: [],
      sounds: [],
      tempos: [],
      kit: kitName,
    };
    const m = meta;
    const startTap = (node: AudioWorkletNode) =>
      node.port.postMessage({
        type: 'start',
        at: contextAt(startedAt),
        chunkFrames: engine.sampleRate,
      } satisfies TapMessage);
    if (tap) startTap(tap);
    setKept(null);
    if (message()?.code !== 'STORAGE_UNAVAILABLE') setMessage(null);
    setElapsedMs(0);
    setSaved({ hits: 0, frames: 0 });
    setState('recording');
    try {
      const opened = await store;
      setLimitMs(await allowedMs(opened));
      await opened.begin(currentMeta(m, take));
      if (!tap) {
        const node = await tapReady();
        if (meta !== m) return; // stopped meanwhile
        startTap(node); // its preroll reaches back to the start only as far as it ran: `missing` says the rest
      }
    } catch (error) {
      if (meta === m) fail(error);
      return;
    }
    if (meta !== m) return; // stopped while storage was opening: no timers for a take that has ended
    flushTimer = setInterval(() => void flush().catch(fail), FLUSH_MS);
    tickTimer = setInterval(tick, 250);
  }

  async function stop(reason: RecordingMessage | null = null): Promise<void> {
    if (state() !== 'recording' || !meta) return;
    const m = meta;
    setState('stopping');
    clearInterval(flushTimer);
    clearInterval(tickTimer);
    const stoppedAt = wallClock();
    const stoppedTake = take;
    take = null; // hits from now on are not part of it
    if (reason) setMessage(reason);
    // The tap's last chunk, up to the stop's exact frame (or no wait, if it never started).
    if (tap) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, STOP_WAIT_MS);
        onStopped = () => {
          clearTimeout(timer);
          resolve();
        };
        tell({ type: 'stop', at: contextAt(stoppedAt) });
      });
      onStopped = null;
    }
    m.stoppedAt = stoppedAt;
    m.stopReason = reason?.text ?? null;
    try {
      // The last hits, whatever the store did before.
      await flush(stoppedTake);
    } catch (error) {
      const code = error instanceof RecordingError ? error.code : 'STORAGE_FAILED';
      setMessage({ code, text: `${reason ? `${reason.text} ` : ''}The end of the take could not be kept.` });
      m.stoppedAt = m.lastAt; // the take is what was stored
    }
    meta = null;
    setElapsedMs(stoppedAt - m.startedAt);
    setKept(keptOf(m));
    setState('stopped');
  }

  async function allowedMs(opened: TakeStore): Promise<number> {
    if (opened.kind === 'memory') return MAX_MEMORY_MS;
    try {
      const estimate = await navigator.storage?.estimate?.();
      if (estimate?.quota === undefined) return MAX_RECORDING_MS;
      const free = Math.max(0, estimate.quota - (estimate.usage ?? 0));
      const bytesPerMs = (engine.sampleRate * TAP_CHANNELS * BYTES_PER_SAMPLE) / 1000;
      return Math.min(MAX_RECORDING_MS, Math.floor((free * STORAGE_SHARE) / bytesPerMs));
    } catch {
      return MAX_RECORDING_MS;
    }
  }

  async function downloadMidi(quantise: boolean): Promise<void> {
    const current = kept();
    if (!current) return;
    const opened = await store;
    const hits = joinChunks(await opened.hits(current.meta.id));
    // Loaded when asked for: the DAW page opens without the MIDI writer.
    const { buildMidi } = await import('./midi-file.ts');
    const bytes = buildMidi(
      {
        name: `padmesh jam ${fileStamp(current.meta.startedAt)}`,
        players: current.meta.players,
        sounds: current.meta.sounds,
        hits,
        grid: gridFor(current.meta.startedAt, current.meta.tempos),
      },
      { quantise },
    );
    downloadBlob(
      `padmesh-${fileStamp(current.meta.startedAt)}.mid`,
      new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'audio/midi' }),
    );
  }

  async function downloadWav(): Promise<void> {
    const current = kept();
    if (!current) return;
    downloadBlob(`padmesh-${fileStamp(current.meta.startedAt)}.wav`, await wavOf(await store, current));
  }

  /** Gone from storage first, then from the page: a reload right after Discard must not offer it again. */
  async function discard(): Promise<void> {
    setMessage(null);
    await (await store).discard().catch(() => {});
    setKept(null);
  }

  return {
    state,
    elapsedMs,
    limitMs,
    message,
    kept,
    storeKind,
    saved,
    start,
    stop: () => stop(),
    downloadMidi,
    downloadWav,
    discard,
    /** The hit path: a hit played (peerId null: this computer); tapAt NaN (clock not yet synced) falls back to arrival. */
    hit(peerId: string | null, pad: number, velocity: number, tapAt: number, arrivedAt: number): void {
      if (take !== null) take.hit(peerId, pad, velocity, Number.isNaN(tapAt) ? arrivedAt : tapAt);
    },
    /** The jam's tempo changed. */
    tempo(next: Tempo): void {
      if (take !== null) tempos.push({ at: wallClock(), tempo: { ...next } });
    },
    /** The drum kit (a built-in kit's id) everyone on drums plays from now on. */
    kit(kitId: string): void {
      kitName = kitId;
      drums = takeSound({ instrument: 'drums', octave: 3, key: 0, scale: 'minor-pentatonic' }, kitId);
      take?.sound(undefined, drums);
    },
    /** What a player's pads play from now on (their part, or the drums while no bank holds it). */
    part(peerId: string, part: Part): void {
      const sound = part.instrument === 'drums' ? null : takeSound(part, kitName);
      if (sound) sounds.set(peerId, sound);
      else sounds.delete(peerId);
      take?.sound(peerId, sound ?? drums);
    },
    /** A player's name (their track's). */
    name(peerId: string, name: string): void {
      names.set(peerId, name);
      take?.name(peerId, name);
    },
    dispose(): void {
      stopWatching();
      clearInterval(flushTimer);
      clearInterval(tickTimer);
      tap?.disconnect();
      if (tap) tap.port.onmessage = null;
    },
  };
}

export type Recording = ReturnType<typeof createRecording>;

function keptOf(meta: TakeMeta): KeptTake {
  const grid = gridFor(meta.startedAt, meta.tempos);
  return { meta, origin: grid.origin, unfinished: meta.stoppedAt === null, beat: grid.beat };
}

/**
 * The take's sound as a WAV: silence from the files' time 0 (the bar line) to the start (and for
 * any start the tap missed), then what was kept, cut or padded with silence to end at Stop's frame
 * (the tap stops at the audio thread's reading of it, a render burst either way).
 */
async function wavOf(store: TakeStore, kept: KeptTake): Promise<Blob> {
  const { meta } = kept;
  const rate = meta.sampleRate;
  const lead = Math.max(0, Math.round(((meta.startedAt - kept.origin) / 1000) * rate)) + meta.missing;
  const wanted =
    meta.stoppedAt === null
      ? Number.POSITIVE_INFINITY
      : Math.max(0, Math.round(((meta.stoppedAt - meta.startedAt) / 1000) * rate) - meta.missing);
  const parts: BlobPart[] = [];
  let frames = 0;
  await store.pcm(meta.id, EXPORT_BATCH, (chunks) => {
    const batch: Int16Array<ArrayBuffer>[] = [];
    for (const chunk of chunks) {
      const take = Math.min(chunk.frames, wanted - frames);
      if (take <= 0) break;
      const pcm = chunk.pcm as Int16Array<ArrayBuffer>;
      batch.push(take === chunk.frames ? pcm : pcm.subarray(0, take * meta.channels));
      frames += take;
    }
    // A Blob per batch: the browser may keep it out of the page's memory.
    parts.push(new Blob(batch));
  });
  // Short of Stop's frame: by a render burst (the tap stopped at its reading of Stop), or by
  // audio time the context lost (a glitch: the laptop too busy to render in time), or by chunks
  // storage could not take. Silence to Stop's frame keeps the WAV as long as the MIDI file.
  const tail = Number.isFinite(wanted) ? Math.max(0, wanted - frames) : 0;
  const total = lead + frames + tail;
  return new Blob(
    [
      wavHeader(total, meta.channels, rate),
      new Int16Array(lead * meta.channels),
      ...parts,
      new Int16Array(tail * meta.channels),
    ],
    { type: 'audio/wav' },
  );
}

/** 2026-12-07-1732, local time: a file name that sorts. */
function fileStamp(at: number): string {
  const d = new Date(at);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())}-${two(d.getHours())}${two(d.getMinutes())}`;
}

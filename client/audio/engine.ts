/**
 * The DAW page's sound engine: a sampler on the audio thread (an AudioWorklet: sampler/worklet.ts,
 * its DSP in sampler/sampler-core.ts) playing each slot's sound (sound.ts), fed hits from here.
 *
 * The hit path (trigger) is the point of it: it checks the hit, writes four numbers into a
 * SharedArrayBuffer ring (sampler/hit-ring.ts) and returns. No allocation, no await, no log,
 * no message: the audio thread finds the hit at its next render quantum and starts it at its
 * own frame. Where the page is not cross-origin isolated (no SharedArrayBuffer) hits go as port
 * messages instead (a cross-thread wake-up and a structured clone each: slower, same sound).
 *
 * Tone.js is not on this path at all: it is the sound designer, and kits are its voices rendered
 * offline into buffers (loadKit → render-kit.ts, loaded on demand). Today's live Tone engine is
 * tone-voices.ts, kept as the benchmark's baseline.
 *
 * Master: sampler → bus (1/HEADROOM) → soft clipper (soft-clip.ts) → speakers, with an analyser
 * on the clipper for the output meter; the metronome's clicks go into the bus.
 *
 * Limits on what controllers can do to the engine live at the top of this file (MAX_LEAD_S) and
 * in the sampler's modules (POLYPHONY, PENDING_CAPACITY, MAX_AHEAD_PER_OWNER, RING_CAPACITY).
 */

import { wallClock } from '../net/hits.ts';
import { AudioClock } from './audio-clock.ts';
import { outputLatencyMs, peakDb, playClick } from './output-readings.ts';
import type { renderKit } from './render-kit.ts';
import { AheadQuota } from './sampler/ahead-quota.ts';
import { createRingBuffer, HitRingWriter, START_NOW } from './sampler/hit-ring.ts';
import {
  PROCESSOR,
  readStatus,
  type SamplerMessage,
  type SamplerReport,
  type SamplerStats,
  STATUS_FIELDS,
} from './sampler/protocol.ts';
import workletUrl from './sampler/worklet.ts?worker&url';
import { HEADROOM, softClipCurve } from './soft-clip.ts';
import {
  clampSlotSettings,
  DEFAULT_SLOT_SETTINGS,
  SLOTS,
  SLOTS_PER_BANK,
  type SlotSettings,
  type SoundLayers,
} from './sound.ts';

/** A built-in kit's design, as the kit renderer takes it (client/audio/kits). */
export type KitDesign = Parameters<typeof renderKit>[0];

/** No owner: a hit from this computer. */
export const NO_OWNER = -1;
/** A planned hit is never more than this far ahead (s); one planned further starts now (steady mode plans ≤ 150 ms). */
export const MAX_LEAD_S = 1;

export type SamplerTransport = 'ring' | 'port';

export interface DrumEngineOptions {
  /** How hits reach the audio thread: the shared ring where possible ('auto', the default), or as asked. */
  transport?: SamplerTransport | 'auto';
}

export interface DrumEngine {
  /** Resumes the AudioContext; call from a user gesture ("Enable sound" button). Resolves when running and ready. */
  start(): Promise<void>;
  /** 'suspended' | 'running' | 'closed' — the AudioContext's state. */
  readonly state: AudioContextState;
  /**
   * Plays slot `slot` (0..127; bank 0 is the drum kit's pads 0..15) at velocity 0..1 NOW, or at
   * context time `at` (s) if that is later (steady mode; see contextTimeAt), exactly there.
   * Never throws, never awaits, never logs, never allocates (ring mode).
   * Ignored (returns false) for a slot out of range or without a sound, a non-finite or
   * non-positive velocity, or while the context is not running (a hit queued on a suspended
   * context would play late). Velocities above 1 count as 1. Returns true if the hit was handed
   * to the sampler.
   *
   * `owner` (a small number ≥ 0 per player; NO_OWNER for this computer) is whose hit it is. A
   * hit always starts at its own time, whatever others have planned. A player with
   * MAX_AHEAD_PER_OWNER hits planned ahead already gives way with its new ones, and `overbooked`
   * says so at once; a voice the sampler takes from the player sounding the most is reported
   * later, through onGaveWay.
   */
  trigger(slot: number, velocity: number, at?: number, owner?: number): boolean;
  /**
   * After trigger(): the owner of the hit just given if it was not played (trigger returned
   * false) because its owner had too many planned ahead or the ring was full, else null.
   */
  readonly overbooked: number | null;
  /** Hits handed to the sampler since creation (the e2e tests read it). */
  readonly triggered: number;
  /**
   * The context time (s) the last hit handed over starts at, or after: for a hit played at once,
   * the clock when this is first read after the call (the sampler starts it at its next quantum).
   */
  readonly lastStartTime: number;
  /** The AudioContext's clock now (s). */
  readonly currentTime: number;
  readonly sampleRate: number;
  /** The context time (s) of a wall-clock time (ms since the epoch, this page's clock); NaN if not running. */
  contextTimeAt(wallMs: number): number;
  /** A metronome click at context time `at` (s): accented on the bar's first beat. */
  click(at: number, accent: boolean): void;
  /** What the browser reports: (baseLatency + outputLatency) in ms, or null if not reported. */
  outputLatencyMs(): number | null;
  /** Current output peak level in dBFS (−Infinity when silent), from an analyser on the master output. */
  peakDb(): number;
  /** Silences the speakers, or not (the meter and the metronome go on): MIDI out's local sound switch. */
  setMuted(muted: boolean): void;
  /** The engine's AudioContext and its master output (after the clipper, before the speakers), for a recording tap. */
  readonly context: AudioContext;
  readonly output: AudioNode;
  /** Subscribe to context state changes (running/suspended); returns an unsubscribe function. */
  onStateChange(listener: (state: AudioContextState) => void): () => void;
  /** A slot's sound (null: silence). Copied to the audio thread. Throws on a malformed sound. */
  setSlotSound(slot: number, sound: SoundLayers | null): void;
  /** How a slot's next hits play (values out of range are brought into it: sound.ts). */
  setSlotSettings(slot: number, settings: SlotSettings): void;
  /**
   * Renders (or reads from the cache) a kit design into bank `bank` (0: the drum kit; others, a
   * melodic part's notes), each pad playable as soon as it is ready. A later load into the same
   * bank stops this one.
   */
  loadKit(design: KitDesign, bank?: number): Promise<void>;
  /** Resolves when the sampler runs on the audio thread (its module loaded, its node made). */
  readonly ready: Promise<void>;
  /**
   * Output underruns the browser reports for this context (AudioContext.playbackStats), or NaN
   * where it reports none.
   */
  readonly underruns: number;
  /** How hits reach the audio thread. */
  readonly transport: SamplerTransport;
  /** Hits refused because the ring was full (the audio thread had stopped reading). */
  readonly overflows: number;
  /** The sampler's counters (sampler/protocol.ts), as last reported, and sounds the audio thread refused. */
  stats(): SamplerStats & { errors: number };
  /** Told, for each owner, how many of its hits gave way on the audio thread (stolen or refused). */
  onGaveWay(listener: (owner: number, count: number) => void): () => void;
  dispose(): void;
}

/** Contexts' playback statistics, where the browser has them (Chromium's AudioContext.playbackStats). */
interface PlaybackStats {
  underrunEvents?: number;
}

export function createDrumEngine(options: DrumEngineOptions = {}): DrumEngine {
  const raw = new AudioContext({ latencyHint: 'interactive' });
  const isolated = typeof SharedArrayBuffer === 'function' && globalThis.crossOriginIsolated === true;
  const wanted = options.transport ?? 'auto';
  if (wanted === 'ring' && !isolated) throw new Error('the ring needs a cross-origin isolated page');
  const transport: SamplerTransport = wanted === 'auto' ? (isolated ? 'ring' : 'port') : wanted;
  const ringBuffer = transport === 'ring' ? createRingBuffer() : null;
  const statusBuffer = transport === 'ring' ? new SharedArrayBuffer(STATUS_FIELDS * 8) : null;
  const ring = ringBuffer ? new HitRingWriter(ringBuffer) : null;
  let status: Float64Array = statusBuffer ? new Float64Array(statusBuffer) : new Float64Array(STATUS_FIELDS);

  // ---- master: bus → soft clipper → speakers, with an analyser tap for the level meter ----
  const bus = raw.createGain();
  bus.gain.value = 1 / HEADROOM;
  const clipper = raw.createWaveShaper();
  clipper.curve = softClipCurve();
  clipper.oversample = 'none'; // oversampling would add resampler delay
  bus.connect(clipper);
  clipper.connect(raw.destination);
  let outputMuted = false;
  const analyser = raw.createAnalyser();
  analyser.fftSize = 2048; // ~43 ms at 48 kHz: more than one animation frame, so no peak is missed
  clipper.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);

  // ---- the sampler node, once its module is loaded; messages wait for it ----
  let node: AudioWorkletNode | null = null;
  const queued: SamplerMessage[] = [];
  const post = (message: SamplerMessage) => {
    if (node) node.port.postMessage(message);
    else queued.push(message);
  };
  /** Per slot: messages (sound, settings) not yet acknowledged: its hits go after them, by port. */
  const inFlight = new Int32Array(SLOTS);
  /** Per slot: 1 if it has a sound. */
  const hasSound = new Uint8Array(SLOTS);
  const gaveWayListeners = new Set<(owner: number, count: number) => void>();
  let errors = 0;

  const onReport = ({ data }: MessageEvent<SamplerReport>) => {
    switch (data.type) {
      case 'ack':
        if ((inFlight[data.slot] ?? 0) > 0) inFlight[data.slot] = (inFlight[data.slot] as number) - 1;
        return;
      case 'error':
        errors++;
        if ((inFlight[data.slot] ?? 0) > 0) inFlight[data.slot] = (inFlight[data.slot] as number) - 1;
        return;
      case 'gave-way':
        for (let i = 0; i < data.owners.length; i++) {
          for (const listener of gaveWayListeners) listener(data.owners[i] as number, data.counts[i] as number);
        }
        return;
      case 'status':
        status = data.status;
        return;
    }
  };

  let disposed = false;
  const ready = raw.audioWorklet.addModule(workletUrl).then(() => {
    if (disposed) return;
    const made = new AudioWorkletNode(raw, PROCESSOR, {
      numberOfInputs: 0,
      numberOfOutputs: 1,
      outputChannelCount: [2],
      processorOptions: ringBuffer && statusBuffer ? { ring: ringBuffer, status: statusBuffer } : {},
    });
    made.port.onmessage = onReport;
    made.connect(bus);
    node = made;
    for (const message of queued.splice(0)) made.port.postMessage(message);
  });
  ready.catch(() => {}); // start() and the page see it; an unobserved rejection must not be reported twice

  const listeners = new Set<(state: AudioContextState) => void>();
  // Kept from the events, so the hit path reads a boolean rather than asking the context.
  let running = raw.state === 'running';
  const onNativeStateChange = () => {
    const state = raw.state;
    running = state === 'running';
    for (const listener of listeners) listener(state);
  };
  raw.addEventListener('statechange', onNativeStateChange);

  const quota = new AheadQuota();
  let triggered = 0;
  let lastStartTime = Number.NaN;
  let overbooked: number | null = null;
  let portOverflows = 0;

  // The wall ↔ audio clock mapping is read often, so it stays fresh (see audio-clock.ts).
  const audioClock = new AudioClock();
  const readClock = () => {
    if (raw.state === 'running') audioClock.observe(raw.currentTime, wallClock());
  };
  const clockReader = setInterval(readClock, 23); // not a multiple of a render buffer's period

  // Metronome: a short sine blip per click, straight to the bus (two a second, off the hit path).
  const click = (at: number, accent: boolean) => {
    if (!disposed && raw.state === 'running') playClick(raw, bus, at, accent);
  };

  const setSlotSound = (slot: number, sound: SoundLayers | null) => {
    checkSlot(slot);
    if (sound !== null) checkSound(sound);
    hasSound[slot] = sound === null ? 0 : 1;
    inFlight[slot] = (inFlight[slot] as number) + 1;
    post({ type: 'sound', slot, sound });
  };
  const setSlotSettings = (slot: number, settings: SlotSettings) => {
    checkSlot(slot);
    inFlight[slot] = (inFlight[slot] as number) + 1;
    post({ type: 'settings', slot, settings: clampSlotSettings(settings) });
  };

  /** The load under way into each bank. */
  const kitLoads = new Map<number, AbortController>();

  return {
    async start() {
      if (disposed) throw new Error('drum engine disposed');
      await raw.resume();
      await ready;
    },
    get state() {
      return raw.state;
    },
    trigger(slot, velocity, at, owner = NO_OWNER) {
      overbooked = null;
      if (!(velocity > 0) || velocity === Number.POSITIVE_INFINITY) return false; // also NaN
      if (hasSound[slot] !== 1 || disposed || !running) return false; // also a bad slot
      const v = velocity > 1 ? 1 : velocity;
      // The clock is read only for a hit asked for a time: reading it is a call into the browser.
      const now = at === undefined ? Number.NaN : raw.currentTime;
      const planned = at !== undefined && at > now && at < now + MAX_LEAD_S;
      if (planned && !quota.take(owner, at, now)) {
        overbooked = owner;
        return false;
      }
      const start = planned ? at : START_NOW;
      if (ring !== null && inFlight[slot] === 0) {
        if (!ring.write(slot, v, start, owner)) {
          overbooked = owner;
          return false;
        }
      } else if (node !== null || queued.length < 1024) {
        post({ type: 'hit', slot, velocity: v, start, owner });
      } else {
        portOverflows++;
        overbooked = owner;
        return false;
      }
      triggered++;
      lastStartTime = planned ? at : now; // NaN for a hit at once: the getter reads the clock then
      return true;
    },
    get overbooked() {
      return overbooked;
    },
    get triggered() {
      return triggered;
    },
    get lastStartTime() {
      if (Number.isNaN(lastStartTime) && triggered > 0) lastStartTime = raw.currentTime;
      return lastStartTime;
    },
    get currentTime() {
      return raw.currentTime;
    },
    get sampleRate() {
      return raw.sampleRate;
    },
    contextTimeAt(wallMs) {
      readClock();
      return raw.state === 'running' ? audioClock.toContext(wallMs) : Number.NaN;
    },
    click,
    outputLatencyMs: () => outputLatencyMs(raw),
    peakDb: () => peakDb(analyser, samples),
    setMuted(muted) {
      if (muted === outputMuted) return;
      outputMuted = muted;
      if (muted) clipper.disconnect(raw.destination);
      else clipper.connect(raw.destination);
    },
    context: raw,
    output: clipper,
    onStateChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    setSlotSound,
    setSlotSettings,
    async loadKit(design, bank = 0) {
      if (!Number.isInteger(bank) || bank < 0 || bank >= SLOTS / SLOTS_PER_BANK)
        throw new RangeError(`no bank ${bank}`);
      kitLoads.get(bank)?.abort();
      const load = new AbortController();
      kitLoads.set(bank, load);
      const base = bank * SLOTS_PER_BANK;
      design.pads.forEach((pad, i) => {
        setSlotSettings(base + i, { ...DEFAULT_SLOT_SETTINGS, chokeGroup: pad.chokeGroup ?? 0 });
      });
      const { renderKit } = await import('./render-kit.ts');
      try {
        await renderKit(
          design,
          raw.sampleRate,
          (pad, sound) => {
            if (!load.signal.aborted && !disposed) setSlotSound(base + pad, sound);
          },
          load.signal,
        );
      } finally {
        if (kitLoads.get(bank) === load) kitLoads.delete(bank);
      }
    },
    ready,
    get underruns() {
      const stats = (raw as AudioContext & { playbackStats?: PlaybackStats }).playbackStats;
      const events = stats?.underrunEvents;
      return typeof events === 'number' ? events : Number.NaN;
    },
    transport,
    get overflows() {
      return (ring?.overflows ?? 0) + portOverflows;
    },
    stats() {
      const stats = readStatus(status);
      stats.overflows = ring !== null ? ring.overflows : portOverflows;
      return { ...stats, errors };
    },
    onGaveWay(listener) {
      gaveWayListeners.add(listener);
      return () => {
        gaveWayListeners.delete(listener);
      };
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const load of kitLoads.values()) load.abort();
      clearInterval(clockReader);
      raw.removeEventListener('statechange', onNativeStateChange);
      listeners.clear();
      gaveWayListeners.clear();
      if (node) {
        node.port.onmessage = null;
        node.port.close();
        node.disconnect();
      }
      clipper.disconnect();
      analyser.disconnect();
      void raw.close().catch(() => {});
    },
  };
}

function checkSlot(slot: number): void {
  if (!Number.isInteger(slot) || slot < 0 || slot >= SLOTS) throw new Error(`no slot ${slot} (0..${SLOTS - 1})`);
}

/** Throws, saying what is wrong, unless `sound` is one the sampler can play. */
export function checkSound(sound: SoundLayers): void {
  if (!Array.isArray(sound.layers) || sound.layers.length === 0) throw new Error('a sound needs at least one layer');
  for (const { velocity, sound: pad } of sound.layers) {
    if (!Number.isFinite(velocity)) throw new Error('a layer’s velocity must be a number');
    const channels = pad?.channels;
    if (!Array.isArray(channels) || channels.length < 1 || channels.length > 2) {
      throw new Error('a sound has 1 or 2 channels');
    }
    const length = channels[0]?.length ?? 0;
    for (const channel of channels) {
      if (!(channel instanceof Float32Array)) throw new Error('a sound’s channels are Float32Arrays');
      if (channel.length !== length) throw new Error('a sound’s channels differ in length');
    }
    if (length === 0) throw new Error('a sound is empty');
    if (!(pad.sampleRate > 0) || !Number.isFinite(pad.sampleRate)) throw new Error('a sound needs a sample rate');
  }
}

/**
 * The page of tests/e2e/engine.test.ts: padmesh's real sound engine (client/audio/engine.ts: the
 * AudioWorklet sampler, its ring or its port) in real Chromium, and a recording of everything it
 * outputs, sample by sample on the AudioContext's own clock, so a test can see when a sound
 * really starts and how loud and high it is. The recording taps the engine's master (the soft
 * clipper, the one node connected to the speakers) through an AudioWorklet of its own; the
 * engine itself is untouched. Its sounds are made here (test tones: constant levels and sines),
 * so what each hit must sound like is known exactly.
 */
import { createDrumEngine, type DrumEngine, type SamplerTransport } from '../../../client/audio/engine.ts';
import type { SlotSettings } from '../../../client/audio/sound.ts';

export interface Triggered {
  played: boolean;
  /** engine.lastStartTime after the call (s); NaN if nothing played yet. */
  start: number;
  overbooked: number | null;
  /** The context's clock just before and just after the call (s). */
  before: number;
  after: number;
}

/** [slot, velocity, at (s after `base`; null: none), owner (null: none)] */
export type Hit = [number, number, number | null, number | null];

/** A test tone: `level` for `seconds` (a constant), or a sine of `frequency` Hz peaking at `level`. */
export interface Tone {
  level: number;
  seconds: number;
  frequency?: number;
  /** Its sample rate (default the context's). */
  sampleRate?: number;
}

export interface Flood {
  /** Hits handed over (trigger returned true) and refused. */
  played: number;
  refused: number;
  /** How long the run took, s of wall clock. */
  seconds: number;
}

export interface EnginePage {
  ready: boolean;
  isolated: boolean;
  /** A new engine (the last one disposed), recorded from now on. */
  fresh(transport?: SamplerTransport): Promise<{ sampleRate: number; transport: SamplerTransport }>;
  setSound(slot: number, tone: Tone): void;
  setSettings(slot: number, settings: SlotSettings): void;
  /**
   * Triggers `hits` in one task, `at` relative to `base`: the context's time at the call plus
   * `lead` s. Returns `base` and each call's outcome.
   */
  play(hits: Hit[], lead: number): { base: number; results: Triggered[] };
  /** `rate` hits a second at once for `seconds` (wall clock), spread over `slots`, from owners 0..3. */
  flood(rate: number, seconds: number, slots: number[]): Promise<Flood>;
  /** The engine's counters (its sampler's, as last reported) and the browser's underruns. */
  stats(): ReturnType<DrumEngine['stats']> & { triggered: number; underruns: number };
  /** Waits (bounded) until the audio thread has reported `count` hits taken (or started, or …). */
  statsReach(count: number, field?: 'hits' | 'started'): Promise<void>;
  /**
   * Waits (bounded) until the browser's playback statistics cover the context's clock as it is
   * now (Chromium brings them up to date about once a second).
   */
  playbackCaughtUp(): Promise<void>;
  /** Per owner, the hits the engine said gave way on the audio thread. */
  gaveWay(): Record<string, number>;
  /** Waits (bounded) until the recording reaches context time `time` (s). */
  recordedUntil(time: number): Promise<void>;
  /** Root mean square of the output over context times [from, to) (s). */
  rms(from: number, to: number): number;
  /** The first moment in [from, to) (s) the output's magnitude exceeds `threshold`, NaN if none. */
  firstAbove(from: number, to: number, threshold: number): number;
  /** The last moment in [from, to) (s) the output's magnitude exceeds `threshold`, NaN if none. */
  lastAbove(from: number, to: number, threshold: number): number;
  /** Upward zero crossings in [from, to) (s), per second: a sine's frequency. */
  frequency(from: number, to: number): number;
  /** Where in [from, to) a sound begins: each moment the output rises above `threshold` from below it. */
  onsets(from: number, to: number, threshold: number): number[];
}

// The worklet: hands over each render quantum's first channel with the frame it starts at.
const CAPTURE = `
registerProcessor('capture', class extends AudioWorkletProcessor {
  constructor() {
    super();
    this.frames = new Float64Array(32);
    this.samples = new Float32Array(128 * 32);
    this.count = 0;
  }
  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel) this.samples.set(channel, this.count * 128);
    else this.samples.fill(0, this.count * 128, this.count * 128 + 128);
    this.frames[this.count] = currentFrame;
    this.count += 1;
    if (this.count === 32) {
      this.port.postMessage({ frames: this.frames, samples: this.samples }, [this.frames.buffer, this.samples.buffer]);
      this.frames = new Float64Array(32);
      this.samples = new Float32Array(128 * 32);
      this.count = 0;
    }
    return true;
  }
});`;
const captureUrl = URL.createObjectURL(new Blob([CAPTURE], { type: 'text/javascript' }));

/** The node the engine connects to the speakers (its soft clipper), caught as it connects. */
let master: AudioNode | null = null;
const connect = AudioNode.prototype.connect;
AudioNode.prototype.connect = function (this: AudioNode, ...args: unknown[]) {
  if (args[0] instanceof AudioDestinationNode && this instanceof WaveShaperNode) master = this;
  return (connect as (...a: unknown[]) => unknown).apply(this, args);
} as typeof connect;

/**
 * Up to a minute of output, from the context's first frame on (index = frame). Not from its currentTime
 * when the engine is made: on a busy machine the audio thread can be rendering frames the main thread's
 * clock has already passed (CI once lost a hit played at once that way).
 */
let recording = new Float32Array(0);
let recordedTo = 0;
/** The context's time when the engine was made: the browser's playback statistics count from about then. */
let engineMadeAt = 0;
let sampleRate = 48_000;
let engine: DrumEngine | null = null;
let gaveWay: Record<string, number> = {};
/** Which engine's recording this is: a disposed engine's last messages must not land in the next one's. */
let generation = 0;

const live = () => engine as DrumEngine;
const index = (time: number) => Math.round(time * sampleRate);
const bounded = (from: number, to: number) => ({
  a: Math.max(0, index(from)),
  b: Math.min(recording.length, index(to)),
});
const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const page: EnginePage = {
  ready: true,
  isolated: crossOriginIsolated,
  async fresh(transport) {
    engine?.dispose();
    master = null;
    gaveWay = {};
    engine = createDrumEngine(transport ? { transport } : {});
    engine.onGaveWay((owner, count) => {
      gaveWay[owner] = (gaveWay[owner] ?? 0) + count;
    });
    await engine.start();
    const tap = master as AudioNode | null;
    if (!tap) throw new Error('the engine connected no WaveShaper to the speakers');
    const context = tap.context as AudioContext;
    sampleRate = context.sampleRate;
    await context.audioWorklet.addModule(captureUrl);
    const capture = new AudioWorkletNode(context, 'capture', { numberOfInputs: 1, numberOfOutputs: 1 });
    const mute = context.createGain();
    mute.gain.value = 0;
    tap.connect(capture);
    capture.connect(mute);
    mute.connect(context.destination); // pulled by the graph, heard by no one
    recording = new Float32Array(sampleRate * 60);
    recordedTo = 0;
    engineMadeAt = context.currentTime;
    const mine = ++generation;
    capture.port.onmessage = ({ data }: MessageEvent<{ frames: Float64Array; samples: Float32Array }>) => {
      if (mine !== generation) return;
      for (let q = 0; q < data.frames.length; q++) {
        const at = data.frames[q] as number;
        if (at < 0 || at + 128 > recording.length) continue;
        recording.set(data.samples.subarray(q * 128, q * 128 + 128), at);
        recordedTo = Math.max(recordedTo, at + 128);
      }
    };
    return { sampleRate, transport: engine.transport };
  },
  setSound(slot, tone) {
    const rate = tone.sampleRate ?? sampleRate;
    const samples = new Float32Array(Math.round(tone.seconds * rate));
    for (let i = 0; i < samples.length; i++) {
      samples[i] =
        tone.frequency === undefined ? tone.level : tone.level * Math.sin((2 * Math.PI * tone.frequency * i) / rate);
    }
    live().setSlotSound(slot, { layers: [{ velocity: 1, sound: { channels: [samples], sampleRate: rate } }] });
  },
  setSettings(slot, settings) {
    live().setSlotSettings(slot, settings);
  },
  play(hits, lead) {
    const e = live();
    const base = e.currentTime + lead;
    const results = hits.map(([slot, velocity, at, owner]) => {
      const before = e.currentTime;
      const played = e.trigger(slot, velocity, at === null ? undefined : base + at, owner ?? undefined);
      return { played, start: e.lastStartTime, overbooked: e.overbooked, before, after: e.currentTime };
    });
    return { base, results };
  },
  async flood(rate, seconds, slots) {
    const e = live();
    let played = 0;
    let refused = 0;
    let sent = 0;
    const began = performance.now();
    const total = Math.round(rate * seconds);
    // Each timer tick hands over every hit due by then (timers fire every few ms, not every 0.6 ms).
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - began) / 1000) * rate));
      for (; sent < due; sent++) {
        if (e.trigger(slots[sent % slots.length] as number, 0.8, undefined, sent % 4)) played++;
        else refused++;
      }
      await wait(2);
    }
    return { played, refused, seconds: (performance.now() - began) / 1000 };
  },
  stats() {
    const e = live();
    return { ...e.stats(), triggered: e.triggered, underruns: e.underruns };
  },
  async statsReach(count, field = 'hits') {
    const until = performance.now() + 15_000;
    while (live().stats()[field] < count) {
      if (performance.now() > until)
        throw new Error(`the sampler reported ${live().stats()[field]} of ${count} ${field}`);
      await wait(20);
    }
  },
  async playbackCaughtUp() {
    const context = (master as AudioNode).context as AudioContext & { playbackStats?: { totalDuration: number } };
    const now = context.currentTime;
    const until = performance.now() + 15_000;
    while ((context.playbackStats?.totalDuration ?? Number.POSITIVE_INFINITY) < now - engineMadeAt - 0.05) {
      if (performance.now() > until) throw new Error('the playback statistics did not catch up');
      await wait(50);
    }
  },
  gaveWay() {
    return { ...gaveWay };
  },
  async recordedUntil(time) {
    const until = performance.now() + 15_000;
    while (recordedTo < time * sampleRate) {
      if (performance.now() > until) throw new Error(`recorded only up to ${recordedTo / sampleRate} s of ${time} s`);
      await wait(20);
    }
  },
  rms(from, to) {
    const { a, b } = bounded(from, to);
    let sum = 0;
    for (let i = a; i < b; i++) sum += (recording[i] as number) ** 2;
    return b > a ? Math.sqrt(sum / (b - a)) : 0;
  },
  firstAbove(from, to, threshold) {
    const { a, b } = bounded(from, to);
    for (let i = a; i < b; i++) if (Math.abs(recording[i] as number) > threshold) return i / sampleRate;
    return Number.NaN;
  },
  lastAbove(from, to, threshold) {
    const { a, b } = bounded(from, to);
    for (let i = b - 1; i >= a; i--) if (Math.abs(recording[i] as number) > threshold) return i / sampleRate;
    return Number.NaN;
  },
  frequency(from, to) {
    const { a, b } = bounded(from, to);
    let crossings = 0;
    for (let i = a + 1; i < b; i++) if ((recording[i - 1] as number) <= 0 && (recording[i] as number) > 0) crossings++;
    return b > a ? crossings / ((b - a) / sampleRate) : 0;
  },
  onsets(from, to, threshold) {
    const { a, b } = bounded(from, to);
    const found: number[] = [];
    for (let i = Math.max(a, 1); i < b; i++) {
      if (Math.abs(recording[i] as number) > threshold && Math.abs(recording[i - 1] as number) <= threshold) {
        found.push(i / sampleRate);
      }
    }
    return found;
  },
};
(window as unknown as { enginePage: EnginePage }).enginePage = page;

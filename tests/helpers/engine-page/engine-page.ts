/**
 * The page of tests/e2e/engine.test.ts: padmesh's real drum engine (client/audio/engine.ts, real
 * Tone.js) in real Chromium, and a recording of everything it outputs, sample by sample on the
 * AudioContext's own clock, so a test can see when a sound really starts. The recording taps
 * the engine's master (the soft clipper, the one node connected to the speakers) through an
 * AudioWorklet; the engine itself is untouched.
 */
import { createDrumEngine, type DrumEngine } from '../../../client/audio/engine.ts';

export interface Triggered {
  played: boolean;
  /** engine.lastStartTime after the call (s); NaN if nothing played yet. */
  start: number;
  overbooked: number | null;
  /** The context's clock just before and just after the call (s). */
  before: number;
  after: number;
  /** How long the call took on the main thread (ms). */
  callMs: number;
}

/** [pad, velocity, at (s after `base`; null: none), owner (null: none)] */
export type Hit = [number, number, number | null, number | null];

export interface EnginePage {
  ready: boolean;
  /** A new engine (the last one disposed), recorded from now on. Resolves with its sample rate. */
  fresh(): Promise<number>;
  /**
   * Triggers `hits` in one task, `at` relative to `base`: the context's time at the call plus
   * `lead` s. Returns `base` and each call's outcome.
   */
  play(hits: Hit[], lead: number): { base: number; results: Triggered[] };
  /**
   * Triggers `hits` in one task (`at` relative to the clock now), the last with the context's
   * clock, as the main thread reads it, moved on by `jump` s just after the engine's first read
   * in that call, and still for the rest of it: what the real clock does when the audio thread
   * renders meanwhile (it is live, not fixed per task), made certain. It stays moved on for this
   * engine (the audio thread is not moved). Returns the last call's outcome.
   */
  triggerWhileClockMoves(hits: Hit[], jump: number): Triggered;
  /** Waits (bounded) until the recording reaches context time `time` (s). */
  recordedUntil(time: number): Promise<void>;
  /** Root mean square of the output over context times [from, to) (s). */
  rms(from: number, to: number): number;
  /** The first moment in [from, to) (s) the output's magnitude exceeds `threshold`, NaN if none. */
  firstAbove(from: number, to: number, threshold: number): number;
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

/**
 * The main thread's view of every AudioContext's clock (see triggerWhileClockMoves): while
 * `held` is a number it reads that, and moves it on by `jumpBy` s at the read `readsLeft` reads
 * from then; otherwise it reads the real clock, `moved` s ahead.
 */
const clock = Object.getOwnPropertyDescriptor(BaseAudioContext.prototype, 'currentTime') as PropertyDescriptor;
const realTime = (context: BaseAudioContext) => clock.get?.call(context) as number;
let moved = 0;
let jumpBy = 0;
let readsLeft = -1;
let held = Number.NaN;
Object.defineProperty(BaseAudioContext.prototype, 'currentTime', {
  get(this: BaseAudioContext) {
    if (Number.isNaN(held)) return realTime(this) + moved;
    if (readsLeft >= 0 && readsLeft-- === 0) {
      held += jumpBy;
      moved += jumpBy;
    }
    return held;
  },
});

/** The node the engine connects to the speakers (its soft clipper), caught as it connects. */
let master: AudioNode | null = null;
const connect = AudioNode.prototype.connect;
AudioNode.prototype.connect = function (this: AudioNode, ...args: unknown[]) {
  if (args[0] instanceof AudioDestinationNode && this instanceof WaveShaperNode) master = this;
  return (connect as (...a: unknown[]) => unknown).apply(this, args);
} as typeof connect;

/** Up to a minute of output, from the frame `first` on. */
let recording = new Float32Array(0);
let first = 0;
let recordedTo = 0;
let sampleRate = 48_000;
let engine: DrumEngine | null = null;
/** Which engine's recording this is: a disposed engine's last messages must not land in the next one's. */
let generation = 0;

const page: EnginePage = {
  ready: true,
  async fresh() {
    engine?.dispose();
    master = null;
    moved = 0;
    readsLeft = -1;
    held = Number.NaN;
    engine = createDrumEngine();
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
    first = Math.ceil(context.currentTime * sampleRate);
    recordedTo = first;
    const mine = ++generation;
    capture.port.onmessage = ({ data }: MessageEvent<{ frames: Float64Array; samples: Float32Array }>) => {
      if (mine !== generation) return;
      for (let q = 0; q < data.frames.length; q++) {
        const at = (data.frames[q] as number) - first;
        if (at < 0 || at + 128 > recording.length) continue;
        recording.set(data.samples.subarray(q * 128, q * 128 + 128), at);
        recordedTo = Math.max(recordedTo, first + at + 128);
      }
    };
    return sampleRate;
  },
  play(hits, lead) {
    const live = engine as DrumEngine;
    const base = live.currentTime + lead;
    const results = hits.map(([pad, velocity, at, owner]) => {
      const before = live.currentTime;
      const t0 = performance.now();
      const played = live.trigger(pad, velocity, at === null ? undefined : base + at, owner ?? undefined);
      const callMs = performance.now() - t0;
      return {
        played,
        start: live.lastStartTime,
        overbooked: live.overbooked,
        before,
        after: live.currentTime,
        callMs,
      };
    });
    return { base, results };
  },
  triggerWhileClockMoves(hits, jump) {
    const live = engine as DrumEngine;
    held = live.currentTime; // still, for the whole task but the one move
    const base = held;
    const [pad, velocity, at, owner] = hits.at(-1) as Hit;
    for (const [p, v, a, o] of hits.slice(0, -1)) live.trigger(p, v, a === null ? undefined : base + a, o ?? undefined);
    const before = live.currentTime;
    jumpBy = jump;
    readsLeft = 1; // the engine's own read first, then the clock moves
    const t0 = performance.now();
    const played = live.trigger(pad, velocity, at === null ? undefined : base + at, owner ?? undefined);
    const callMs = performance.now() - t0;
    readsLeft = -1;
    held = Number.NaN;
    return { played, start: live.lastStartTime, overbooked: live.overbooked, before, after: live.currentTime, callMs };
  },
  async recordedUntil(time) {
    const until = performance.now() + 15_000;
    while (recordedTo < time * sampleRate) {
      if (performance.now() > until) throw new Error(`recorded only up to ${recordedTo / sampleRate} s of ${time} s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  },
  rms(from, to) {
    const a = Math.max(0, Math.round(from * sampleRate) - first);
    const b = Math.min(recording.length, Math.round(to * sampleRate) - first);
    let sum = 0;
    for (let i = a; i < b; i++) sum += (recording[i] as number) ** 2;
    return b > a ? Math.sqrt(sum / (b - a)) : 0;
  },
  firstAbove(from, to, threshold) {
    const a = Math.max(0, Math.floor(from * sampleRate) - first);
    const b = Math.min(recording.length, Math.ceil(to * sampleRate) - first);
    for (let i = a; i < b; i++) if (Math.abs(recording[i] as number) > threshold) return (first + i) / sampleRate;
    return Number.NaN;
  },
};
(window as unknown as { enginePage: EnginePage }).enginePage = page;

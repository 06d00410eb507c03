/**
 * Today's (issue 9's) live Tone.js drum engine, kept as it was: the benchmark's baseline
 * ("today's Tone voices", bench/engine-trigger.ts), and the voice designs the placeholder kit
 * renderer plays offline (render-kit.ts) until the kits replace them. The DAW page plays the
 * sampler (engine.ts) and never loads this module.
 *
 * What follows is the engine as it was (only its name, its interface's name, and the kit built
 * by `buildToneKit` so one pad can also be built on an offline context):
 *
 * The DAW page's drum engine: 16 synthesized drum sounds (see kit.ts), played the moment a hit
 * arrives. The only module that imports 'tone', and with named imports only. (That trims little:
 * Tone 15's index module runs code at import time, so any import from 'tone' costs most of the
 * DAW chunk's ~69 kB gzip, as `npm run build` shows.)
 *
 * Latency is the point of the whole app, so:
 * - the Tone context has lookAhead 0 and an 'interactive' latency hint, and every hit is started
 *   at the context's current time (never `now()`, which adds the lookAhead);
 * - nothing is scheduled through Tone's Transport or its JS clock: each hit goes straight to
 *   Web Audio automation and source starts;
 * - the master "limiter" is a soft-knee waveshaper, not a DynamicsCompressorNode, because
 *   Chromium's compressor delays its output by a fixed look-ahead (288 samples, ~6 ms, measured
 *   offline when this was written).
 *
 * Voices are shared by every player, and in steady mode hits are booked on them ahead of time:
 * which voice plays a hit, so that no player's booking ever delays another's hit, is
 * voice-bookings.ts's rule; this module carries it out on Tone's voices.
 *
 * Sound design follows the TR-808's architecture where it fits: one noise source and a bank of
 * six square oscillators run all the time and are shared; hats, cymbals, cowbell, clap and shaker
 * are envelopes (VCAs) and filters on those shared sources, so a hit starts no source at all.
 * Pitched drums (kick, toms, conga, snare body, rim, clave) are MembraneSynths, which start an
 * oscillator per hit so their attack always has the same phase.
 */
import './quiet-tone.ts';
import {
  AmplitudeEnvelope,
  type BaseContext,
  BiquadFilter,
  Context,
  Gain,
  getContext,
  type InputNode,
  MembraneSynth,
  Noise,
  Oscillator,
  setContext,
} from 'tone';
import { AudioClock } from './audio-clock.ts';
import { KIT } from './kit.ts';
import { outputLatencyMs, peakDb, playClick } from './output-readings.ts';
import { HEADROOM, softClipCurve } from './soft-clip.ts';
import { NO_OWNER, PadBookings } from './voice-bookings.ts';

export interface ToneVoicesEngine {
  /** Resumes the AudioContext; call from a user gesture ("Enable sound" button). Resolves when running. */
  start(): Promise<void>;
  /** 'suspended' | 'running' | 'closed' — the AudioContext's state. */
  readonly state: AudioContextState;
  /**
   * Plays pad `pad` (0..15) at velocity 0..1 NOW, or at context time `at` (s) if that is
   * later (steady mode; see contextTimeAt). Never throws, never awaits, never logs.
   * Ignored (returns false) for an out-of-range pad, a non-finite or non-positive velocity, or
   * while the context is not running (a hit queued on a suspended context would play late).
   * Velocities above 1 count as 1. Returns true if a voice was started.
   *
   * `owner` (a small number ≥ 0 per player; NO_OWNER for this computer) is whose hit it is.
   * A hit always starts at its own time, whatever else is booked on the pad; when a pad is
   * booked full, the player holding most of it gives way (voice-bookings.ts), and
   * `overbooked` says who.
   */
  trigger(pad: number, velocity: number, at?: number, owner?: number): boolean;
  /**
   * After trigger(): the owner of a hit that gave way in it, or null. It is the hit just given
   * (trigger returned false) or one booked earlier, now cancelled. Either was never heard.
   */
  readonly overbooked: number | null;
  /** Number of voices started since creation (the e2e test reads it). */
  readonly triggered: number;
  /** The context time (s) the last voice was started at. */
  readonly lastStartTime: number;
  /** The AudioContext's clock now (s). */
  readonly currentTime: number;
  /** The context time (s) of a wall-clock time (ms since the epoch, this page's clock); NaN if not running. */
  contextTimeAt(wallMs: number): number;
  /** A metronome click at context time `at` (s): accented on the bar's first beat. */
  click(at: number, accent: boolean): void;
  /** What the browser reports: (baseLatency + outputLatency) in ms, or null if not reported. */
  outputLatencyMs(): number | null;
  /** Current output peak level in dBFS (−Infinity when silent), from an analyser on the master output. */
  peakDb(): number;
  /** Subscribe to context state changes (running/suspended); returns an unsubscribe function. */
  onStateChange(listener: (state: AudioContextState) => void): () => void;
  dispose(): void;
}

/** One playable instance of a sound. A pad owns a few; voice-bookings.ts says which plays a hit. */
interface Voice {
  /**
   * Starts the sound at `time` (context seconds), `gain` 0..1 loudness, `velocity` 0..1 for timbre.
   * Cuts short the sound it was playing. `time` must be after every start booked on it before.
   */
  play(time: number, gain: number, velocity: number): void;
  /** Forgets everything booked on it from `time` on; the sound playing then ends at `time`, as if cut by a hit. */
  cancel(time: number): void;
}

interface Pad {
  readonly voices: readonly Voice[];
  /** Which voice plays a hit, and what is booked on each (voice-bookings.ts). */
  readonly bookings: PadBookings;
  /** Pads whose sound this pad cuts off. */
  readonly chokes: readonly number[];
  /**
   * For a pad other pads cut off (the open hat): a gain per voice, after it, that a choke
   * closes and the voice's next start opens. Its own automation, so a choke holds whatever
   * order hits were booked in, and booking a voice anew leaves it alone.
   */
  readonly gates: readonly AudioParam[] | null;
}

/** Anything we built and must dispose. */
interface Disposable {
  dispose(): unknown;
}

/** Velocity → gain: a 30 dB range, so soft taps stay audible and the curve feels even. */
const VELOCITY_RANGE_DB = 30;
/** A choke's fade (time constant, s): about as quick as the envelopes' 30 ms release. */
const CHOKE_TIME_CONSTANT = 0.006;

/** The 808's six metal oscillators (Hz); the cowbell taps the last two. */
const METAL_HZ = [205.3, 304.4, 369.6, 522.7, 540, 800] as const;

/** Contexts owned by engines, so a new engine never closes a live engine's context. */
const engineContexts = new WeakSet<object>();

/**
 * Makes `context` Tone's global one. Importing 'tone' created a default context (with its own
 * AudioContext and clock worker); nothing uses it, so it is closed rather than kept alive.
 */
export function replaceDefaultContext(context: BaseContext): void {
  const previous = getContext();
  setContext(context);
  if (previous !== context && !engineContexts.has(previous)) {
    engineContexts.add(previous); // never closed twice
    previous.dispose();
  }
}

export function createToneVoicesEngine(): ToneVoicesEngine {
  // Our own native AudioContext, wrapped by Tone: the native object gives us outputLatency (Tone's
  // default wrapper, standardized-audio-context, does not expose it) and no wrapper work per node.
  const raw = new AudioContext({ latencyHint: 'interactive' });
  // lookAhead 0: hits are not delayed by Tone's default 100 ms. updateInterval is Tone's JS clock
  // tick, which only drives the Transport and Tone's internal clean-up timers (we schedule nothing
  // through it); without it lookAhead 0 would wake the main thread every 10 ms.
  const context = new Context({ context: raw, latencyHint: 'interactive', lookAhead: 0, updateInterval: 0.05 });
  engineContexts.add(context);
  replaceDefaultContext(context);

  const owned: Disposable[] = [];
  const own = <T extends Disposable>(node: T): T => {
    owned.push(node);
    return node;
  };

  // ---- master: bus → soft clipper → speakers, with an analyser tap for the level meter ----
  const bus = own(new Gain({ context, gain: 1 / HEADROOM }));
  const clipper = raw.createWaveShaper();
  clipper.curve = softClipCurve();
  clipper.oversample = 'none'; // oversampling would add resampler delay
  bus.connect(clipper);
  clipper.connect(raw.destination);
  const analyser = raw.createAnalyser();
  analyser.fftSize = 2048; // ~43 ms at 48 kHz: more than one animation frame, so no peak is missed
  clipper.connect(analyser);
  const samples = new Float32Array(analyser.fftSize);

  const kit = buildToneKit(context, raw, bus, own);
  const { pads, gateNodes } = kit;
  const minGap = kit.minGap;
  let sourcesStarted = false;
  const startSources = () => {
    if (sourcesStarted || raw.state !== 'running') return;
    sourcesStarted = true;
    kit.startSources();
  };

  const dbPerUnit = VELOCITY_RANGE_DB / 20;

  const listeners = new Set<(state: AudioContextState) => void>();
  const onNativeStateChange = () => {
    startSources();
    const state = raw.state;
    for (const listener of listeners) listener(state);
  };
  raw.addEventListener('statechange', onNativeStateChange);
  startSources();

  let triggered = 0;
  let lastStartTime = Number.NaN;
  let overbooked: number | null = null;
  let disposed = false;

  // The wall ↔ audio clock mapping is read often, so it stays fresh (see audio-clock.ts).
  const audioClock = new AudioClock();
  const readClock = () => {
    if (raw.state === 'running') audioClock.observe(raw.currentTime, performance.timeOrigin + performance.now());
  };
  const clockReader = setInterval(readClock, 23); // not a multiple of a render buffer's period

  // Metronome: a short sine blip per click, straight to the bus (two a second, off the hit path).
  const click = (at: number, accent: boolean) => {
    if (!disposed && raw.state === 'running') playClick(raw, bus.input, at, accent);
  };

  return {
    async start() {
      if (disposed) throw new Error('drum engine disposed');
      await context.resume();
      startSources();
    },
    get state() {
      return raw.state;
    },
    trigger(pad, velocity, at, owner = NO_OWNER) {
      overbooked = null;
      if (!(velocity > 0) || velocity === Number.POSITIVE_INFINITY) return false; // also NaN
      const slot = pads[pad];
      if (slot === undefined || disposed || raw.state !== 'running') return false;
      if (!sourcesStarted) startSources();
      const v = velocity > 1 ? 1 : velocity;
      const gain = 10 ** (dbPerUnit * (v - 1));
      const now = raw.currentTime;
      // Never more than a second ahead: a planned hit is tens of ms out.
      const asked = at !== undefined && at > now && at < now + 1 ? at : now;
      const plan = slot.bookings;
      const booked = plan.book(now, asked, minGap, owner, gain, v);
      overbooked = plan.gaveWay;
      if (!booked) return false;
      const index = plan.voice;
      const voice = slot.voices[index];
      if (voice === undefined) return false;
      const time = plan.time;
      try {
        const gates = slot.gates;
        for (let c = 0; c < slot.chokes.length; c++) {
          const choked = pads[slot.chokes[c] ?? -1]?.gates;
          if (choked) for (let k = 0; k < choked.length; k++) choked[k]?.setTargetAtTime(0, time, CHOKE_TIME_CONSTANT);
        }
        gates?.[index]?.setValueAtTime(1, time);
        // Booked before later hits on its voice: they are cancelled there and booked again after it
        // (voice-bookings.ts). Nothing to cancel in the common case, hits in time order.
        if (!Number.isNaN(plan.cancelAt)) voice.cancel(plan.cancelAt);
        // The sound first, unless bookings before it on this voice must be given first (time order).
        const inReplays = plan.slot >= plan.replayFrom && plan.slot < plan.replayTo;
        if (!inReplays) voice.play(time, gain, v);
        for (let k = plan.replayFrom; k < plan.replayTo; k++) {
          voice.play(plan.bookedTime(index, k), plan.bookedGain(index, k), plan.bookedVelocity(index, k));
        }
        // A booking cancelled to make room on a full pad: its voice is redone without it, after.
        const also = plan.alsoVoice;
        const other = slot.voices[also];
        if (other !== undefined) {
          other.cancel(plan.alsoCancelAt);
          for (let k = plan.alsoFrom; k < plan.alsoTo; k++) {
            other.play(plan.bookedTime(also, k), plan.bookedGain(also, k), plan.bookedVelocity(also, k));
          }
        }
        // Its sound never starts, so its gate must not open what its voice played before (unless
        // this hit, on that voice, starts first and is what sounds then).
        const cancelled = plan.cancelledVoice;
        if (gates !== null && cancelled >= 0 && !(cancelled === index && time < plan.cancelledTime)) {
          gates[cancelled]?.setTargetAtTime(0, plan.cancelledTime, CHOKE_TIME_CONSTANT);
        }
      } catch {
        return false; // never seen; the contract is "never throws"
      }
      triggered++;
      lastStartTime = time;
      return true;
    },
    get overbooked() {
      return overbooked;
    },
    get triggered() {
      return triggered;
    },
    get lastStartTime() {
      return lastStartTime;
    },
    get currentTime() {
      return raw.currentTime;
    },
    contextTimeAt(wallMs) {
      readClock();
      return raw.state === 'running' ? audioClock.toContext(wallMs) : Number.NaN;
    },
    click,
    outputLatencyMs: () => outputLatencyMs(raw),
    peakDb: () => peakDb(analyser, samples),
    onStateChange(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      clearInterval(clockReader);
      raw.removeEventListener('statechange', onNativeStateChange);
      listeners.clear();
      for (const node of owned) node.dispose();
      for (const gate of gateNodes) gate.disconnect();
      clipper.disconnect();
      analyser.disconnect();
      context.dispose(); // closes the AudioContext
    },
  };
}

/**
 * The 16 pads' voices on `context` (live or offline), each pad's output into `bus`. Only pad
 * `only`'s voices are built when it is given (the other pads have none).
 */
export function buildToneKit(
  context: BaseContext,
  raw: BaseAudioContext,
  bus: InputNode,
  own: <T extends Disposable>(node: T) => T,
  only?: number,
) {
  // Tone's sources refuse a start at or before their previous start ("Start time must be strictly
  // greater than previous start time"); one sample later is inaudible and satisfies it.
  const minGap = 1 / raw.sampleRate;

  // ---- shared sources (started once the context runs; starting earlier only logs Tone warnings) ----
  const noise = own(new Noise({ context, type: 'white' }));
  const noiseBus = own(new Gain({ context, gain: 1 }));
  noise.connect(noiseBus);
  const metalBus = own(new Gain({ context, gain: 0.5 }));
  const bellBus = own(new Gain({ context, gain: 0.5 }));
  const metal = METAL_HZ.map((frequency) => {
    const osc = own(new Oscillator({ context, frequency, type: 'square' }));
    osc.connect(metalBus);
    if (frequency === 540 || frequency === 800) osc.connect(bellBus);
    return osc;
  });
  // Hats and cymbals get a little noise mixed in for sizzle.
  const hatBus = own(new Gain({ context, gain: 1 }));
  metalBus.connect(hatBus);
  mix(noiseBus, hatBus, 0.15);
  const cymbalBus = own(new Gain({ context, gain: 1 }));
  metalBus.connect(cymbalBus);
  mix(noiseBus, cymbalBus, 0.45);

  /** Starts the shared sources (once), at `time` or now. */
  let sourcesStarted = false;
  const startSources = (time?: number) => {
    if (sourcesStarted) return;
    sourcesStarted = true;
    noise.start(time);
    for (const osc of metal) osc.start(time);
  };

  function mix(from: Gain, to: Gain, level: number) {
    const g = own(new Gain({ context, gain: level }));
    from.connect(g);
    g.connect(to);
  }

  // ---- voice builders (each voice plays into its pad's output gain, `out`) ----

  /** A pitched drum: a MembraneSynth whose pitch falls from note·2^octaves to note. */
  const drum = (
    out: InputNode,
    o: {
      note: number;
      /** Pitch drop (octaves) at velocity 0 and 1: harder hits are snappier. */
      octaves: readonly [number, number];
      pitchDecay: number;
      decay: number;
      /** Level within a layered voice. */
      mix?: number;
      type?: 'sine' | 'triangle';
    },
  ): Voice => {
    const synth = own(
      new MembraneSynth({
        context,
        pitchDecay: o.pitchDecay,
        octaves: o.octaves[1],
        oscillator: { type: o.type ?? 'sine' },
        // The 1 ms attack ramp keeps the start click-free; sustain 0 lets Tone stop the oscillator itself.
        envelope: { attack: 0.001, decay: o.decay, sustain: 0, release: 0.05 },
      }),
    );
    synth.connect(out);
    const oscillator = synth.oscillator;
    const [softOct, hardOct] = o.octaves;
    const mixLevel = o.mix ?? 1;
    return {
      play(time, gain, velocity) {
        if (softOct !== hardOct) synth.octaves = softOct + (hardOct - softOct) * velocity;
        try {
          synth.triggerAttack(o.note, time, gain * mixLevel);
        } catch {
          // Tone moves a start it finds in the past to the audio clock, and that clock moves on
          // while a call runs (currentTime is live, not fixed per task): two starts moved so can
          // meet, and Tone refuses the second. One sample after the clock cannot meet one.
          synth.triggerAttack(o.note, Math.max(time, raw.currentTime) + minGap, gain * mixLevel);
        }
      },
      cancel(time) {
        synth.envelope.cancel(time);
        oscillator.frequency.cancelScheduledValues(time);
        // Drops the starts and stops booked from `time` on, and stops the oscillator then (a
        // start booked later made an oscillator of its own: stopped before it starts, it is silent).
        oscillator.stop(time);
      },
    };
  };

  /**
   * A VCA-and-filter voice on a shared source. Each envelope is fired at the given offsets
   * (seconds after the hit) with the given gains: several short bursts make a clap, a snap plus a
   * tail makes the 808's two-stage cowbell. Attack 0 is an instant step, the transient of a noise
   * or metal sound, and also Tone's cheapest envelope path.
   */
  const shaped = (
    out: InputNode,
    o: {
      source: Gain;
      filter: {
        type: BiquadFilterType;
        frequency: number;
        Q: number;
        /** How many octaves lower the filter sits at velocity 0 (softer hits are darker). */
        soften?: number;
      };
      envelopes: readonly { attack: number; decay: number; hits: readonly (readonly [number, number])[] }[];
      /** Level within a layered voice. */
      mix?: number;
    },
  ): Voice => {
    const filter = own(
      new BiquadFilter({ context, type: o.filter.type, frequency: o.filter.frequency, Q: o.filter.Q }),
    );
    filter.connect(out);
    // Flattened (envelope, offset, gain) strikes: the hit path walks one array with an index.
    const strikes: { env: AmplitudeEnvelope; offset: number; gain: number }[] = [];
    const envs: AmplitudeEnvelope[] = [];
    for (const e of o.envelopes) {
      const env = own(
        new AmplitudeEnvelope({
          context,
          attack: e.attack,
          decay: e.decay,
          sustain: 0,
          release: 0.03, // only when a booking is cancelled (cancel below)
          attackCurve: 'linear',
        }),
      );
      // VCA before the filter: an idle voice is a silent input, which the browser can skip.
      o.source.connect(env);
      env.connect(filter);
      envs.push(env);
      for (const [offset, gain] of e.hits) {
        strikes.push({ env, offset, gain });
      }
    }
    const soften = o.filter.soften ?? 0;
    const baseFrequency = o.filter.frequency;
    const mixLevel = o.mix ?? 1;
    return {
      play(time, gain, velocity) {
        if (soften !== 0) filter.frequency.setValueAtTime(baseFrequency * 2 ** (soften * (velocity - 1)), time);
        const level = gain * mixLevel;
        for (let i = 0; i < strikes.length; i++) {
          const strike = strikes[i];
          if (strike !== undefined) strike.env.triggerAttack(time + strike.offset, level * strike.gain);
        }
      },
      cancel(time) {
        if (soften !== 0) filter.frequency.cancelScheduledValues(time);
        for (let i = 0; i < envs.length; i++) {
          const env = envs[i];
          if (env === undefined) continue;
          env.cancel(time);
          env.triggerRelease(time);
        }
      },
    };
  };

  /** Two layers played together (snare = body + noise, rim = tone + click). */
  const layered = (a: Voice, b: Voice): Voice => ({
    play(time, gain, velocity) {
      a.play(time, gain, velocity);
      b.play(time, gain, velocity);
    },
    cancel(time) {
      a.cancel(time);
      b.cancel(time);
    },
  });

  const once = [[0, 1]] as const;

  // ---- the kit, in KIT order. `level` is the pad's output gain, balanced by measured peak level
  // (not by ear, in headless Chromium when this was written): at velocity 1 a pad peaked between
  // about −5 dBFS (kick) and −14 dBFS (shaker). ----
  const builders: readonly {
    voices: number;
    level: number;
    build: (out: InputNode) => Voice;
    chokes?: readonly number[];
  }[] = [
    // 0 Kick
    {
      voices: 3,
      level: 0.56,
      build: (out) => drum(out, { note: 48, octaves: [3.5, 5.5], pitchDecay: 0.045, decay: 0.45 }),
    },
    // 1 Snare: a tuned body and a burst of noise
    {
      voices: 3,
      level: 0.7,
      build: (out) =>
        layered(
          drum(out, { note: 185, octaves: [0.8, 1.5], pitchDecay: 0.03, decay: 0.13, mix: 0.45, type: 'triangle' }),
          shaped(out, {
            source: noiseBus,
            filter: { type: 'bandpass', frequency: 4500, Q: 0.5, soften: 0.8 },
            envelopes: [{ attack: 0, decay: 0.2, hits: once }],
            mix: 0.6,
          }),
        ),
    },
    // 2 Clap: three quick noise bursts, then a short tail, through a bandpass
    {
      voices: 2,
      level: 1.9,
      build: (out) =>
        shaped(out, {
          source: noiseBus,
          filter: { type: 'bandpass', frequency: 1150, Q: 1.3, soften: 0.5 },
          envelopes: [
            {
              attack: 0,
              decay: 0.009,
              hits: [
                [0, 1],
                [0.011, 0.85],
                [0.022, 0.75],
              ],
            },
            { attack: 0, decay: 0.2, hits: [[0.031, 0.7]] },
          ],
        }),
    },
    // 3 Rim: a high, very short tone with a click
    {
      voices: 2,
      level: 0.53,
      build: (out) =>
        layered(
          drum(out, { note: 1700, octaves: [0.5, 0.5], pitchDecay: 0.005, decay: 0.03, mix: 0.4, type: 'triangle' }),
          shaped(out, {
            source: noiseBus,
            filter: { type: 'highpass', frequency: 2500, Q: 0.7 },
            envelopes: [{ attack: 0, decay: 0.012, hits: once }],
            mix: 0.4,
          }),
        ),
    },
    // 4 Closed hat (chokes the open hat)
    {
      voices: 3,
      level: 0.41,
      chokes: [5],
      build: (out) =>
        shaped(out, {
          source: hatBus,
          filter: { type: 'highpass', frequency: 7500, Q: 0.9 },
          envelopes: [{ attack: 0, decay: 0.05, hits: once }],
        }),
    },
    // 5 Open hat
    {
      voices: 2,
      level: 0.46,
      build: (out) =>
        shaped(out, {
          source: hatBus,
          filter: { type: 'highpass', frequency: 7000, Q: 0.9 },
          envelopes: [{ attack: 0, decay: 0.5, hits: once }],
        }),
    },
    // 6 Crash: noisier, long
    {
      voices: 2,
      level: 0.21,
      build: (out) =>
        shaped(out, {
          source: cymbalBus,
          filter: { type: 'highpass', frequency: 3800, Q: 0.7 },
          envelopes: [
            { attack: 0, decay: 0.08, hits: once },
            { attack: 0, decay: 1.8, hits: [[0, 0.6]] },
          ],
        }),
    },
    // 7 Ride: a ping and a long wash, narrower band
    {
      voices: 3,
      level: 0.17,
      build: (out) =>
        shaped(out, {
          source: hatBus,
          filter: { type: 'bandpass', frequency: 5200, Q: 0.8 },
          envelopes: [
            { attack: 0, decay: 0.06, hits: once },
            { attack: 0, decay: 1.3, hits: [[0, 0.45]] },
          ],
        }),
    },
    // 8–10 Toms
    {
      voices: 2,
      level: 0.5,
      build: (out) => drum(out, { note: 82, octaves: [1.5, 2.5], pitchDecay: 0.06, decay: 0.55 }),
    },
    {
      voices: 2,
      level: 0.47,
      build: (out) => drum(out, { note: 117, octaves: [1.5, 2.5], pitchDecay: 0.055, decay: 0.45 }),
    },
    {
      voices: 2,
      level: 0.45,
      build: (out) => drum(out, { note: 165, octaves: [1.5, 2.5], pitchDecay: 0.05, decay: 0.38 }),
    },
    // 11 Conga
    {
      voices: 2,
      level: 0.4,
      build: (out) => drum(out, { note: 310, octaves: [0.5, 1], pitchDecay: 0.015, decay: 0.22 }),
    },
    // 12 Cowbell: 540 + 800 Hz squares through a resonant bandpass, snap + tail (808). The 0.5 ms
    // attack avoids a click: the squares are running, so a hit can land anywhere in their cycle.
    {
      voices: 2,
      level: 0.29,
      build: (out) =>
        shaped(out, {
          source: bellBus,
          filter: { type: 'bandpass', frequency: 850, Q: 2.5, soften: 0.3 },
          envelopes: [
            { attack: 0.0005, decay: 0.05, hits: once },
            { attack: 0.0005, decay: 0.45, hits: once },
          ],
        }),
    },
    // 13 Clave
    {
      voices: 2,
      level: 0.32,
      build: (out) => drum(out, { note: 2500, octaves: [0.5, 0.5], pitchDecay: 0.003, decay: 0.06 }),
    },
    // 14 Shaker: soft attack, bright noise
    {
      voices: 3,
      level: 0.35,
      build: (out) =>
        shaped(out, {
          source: noiseBus,
          filter: { type: 'bandpass', frequency: 6000, Q: 1, soften: 0.5 },
          envelopes: [{ attack: 0.012, decay: 0.08, hits: once }],
        }),
    },
    // 15 Tambourine: jingles (two quick hits) and a ring
    {
      voices: 2,
      level: 0.32,
      build: (out) =>
        shaped(out, {
          source: cymbalBus,
          filter: { type: 'highpass', frequency: 6500, Q: 1.5 },
          envelopes: [
            {
              attack: 0,
              decay: 0.1,
              hits: [
                [0, 1],
                [0.018, 0.6],
              ],
            },
            { attack: 0, decay: 0.3, hits: [[0, 0.35]] },
          ],
        }),
    },
  ];

  const choked = new Set(builders.flatMap((b) => b.chokes ?? []));
  const gateNodes: GainNode[] = [];
  const pads: Pad[] = builders.map((b, index) => {
    const out = own(new Gain({ context, gain: b.level }));
    out.connect(bus);
    const voices: Voice[] = [];
    const gates: AudioParam[] = [];
    for (let i = 0; i < b.voices && (only === undefined || only === index); i++) {
      if (!choked.has(index)) {
        voices.push(b.build(out));
        continue;
      }
      const gate = raw.createGain();
      gate.connect(out.input);
      gateNodes.push(gate);
      gates.push(gate.gain);
      voices.push(b.build(gate));
    }
    return {
      voices,
      bookings: new PadBookings(b.voices),
      chokes: b.chokes ?? [],
      gates: gates.length > 0 ? gates : null,
    };
  });
  if (pads.length !== KIT.length) throw new Error(`engine has ${pads.length} sounds, kit has ${KIT.length} pads`);

  return { pads, gateNodes, startSources, minGap };
}

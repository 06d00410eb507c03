/**
 * Building blocks of the built-in kits' voices: each builds the Tone.js nodes of ONE hit on the
 * given context (an offline one, when render-kit.ts renders a kit) and schedules it. Nothing is
 * shared between hits, so a design plays the same on any context; sources start and stop with
 * their hit, so a render ends in silence.
 *
 * Every envelope starts from silence with a ramp of at least MIN_ATTACK: a sound that jumps from
 * 0 on its first sample clicks, whatever it is.
 */
import {
  AmplitudeEnvelope,
  type BaseContext,
  BiquadFilter,
  connect,
  Gain,
  type InputNode,
  MembraneSynth,
  Noise,
  Oscillator,
  type ToneAudioNode,
} from 'tone';
import type { KitPadDesign } from './design.ts';

/** One hit being built: where, when, how hard. */
export interface Hit {
  context: BaseContext;
  out: InputNode;
  time: number;
  velocity: number;
}

/** The shortest attack ramp (s): ~24 samples at 48 kHz, inaudible as a fade, no step from 0. */
export const MIN_ATTACK = 0.0005;

/** `soft` at velocity 0, `hard` at velocity 1, in between on a line. */
export const byVelocity = (velocity: number, soft: number, hard: number): number => soft + (hard - soft) * velocity;

/** The hit with its output through a gain of `gain` (a pad's level, a layer's mix). */
export function scaled(hit: Hit, gain: number): Hit {
  const node = new Gain({ context: hit.context, gain });
  node.connect(hit.out);
  return { ...hit, out: node };
}

export interface MembraneOptions {
  /** Hz the pitch falls to. */
  frequency: number;
  /** Pitch drop (octaves) at velocity 0 and 1: harder hits are snappier. */
  octaves: readonly [number, number];
  pitchDecay: number;
  decay: number;
  attack?: number;
  type?: 'sine' | 'triangle';
  gain?: number;
}

/** A pitched drum: a MembraneSynth whose pitch falls from frequency·2^octaves to frequency. */
export function membrane(hit: Hit, o: MembraneOptions): void {
  const synth = new MembraneSynth({
    context: hit.context,
    pitchDecay: o.pitchDecay,
    octaves: byVelocity(hit.velocity, o.octaves[0], o.octaves[1]),
    oscillator: { type: o.type ?? 'sine' },
    // Sustain 0: Tone stops the oscillator at the end of the decay, so the render ends in silence.
    envelope: { attack: Math.max(o.attack ?? 0.001, MIN_ATTACK), decay: o.decay, sustain: 0, release: 0.05 },
  });
  synth.connect(hit.out);
  synth.triggerAttack(o.frequency, hit.time, o.gain ?? 1);
}

/** A noise source running from the hit for `length` s. */
export function noise(hit: Hit, length: number, type: 'white' | 'pink' | 'brown' = 'white'): ToneAudioNode {
  const source = new Noise({ context: hit.context, type });
  source.start(hit.time).stop(hit.time + length);
  return source;
}

/** Square oscillators (a metal bank, the 808's way) summed at `gain` each, running from the hit for `length` s. */
export function squares(hit: Hit, length: number, frequencies: readonly number[], gain: number): ToneAudioNode {
  const sum = new Gain({ context: hit.context, gain });
  for (const frequency of frequencies) {
    const osc = new Oscillator({ context: hit.context, frequency, type: 'square' });
    osc.connect(sum);
    osc.start(hit.time).stop(hit.time + length);
  }
  return sum;
}

/** Several sources into one node, each at its own gain. */
export function mixed(hit: Hit, parts: readonly (readonly [ToneAudioNode, number])[]): ToneAudioNode {
  const sum = new Gain({ context: hit.context, gain: 1 });
  for (const [node, gain] of parts) {
    const g = new Gain({ context: hit.context, gain });
    node.connect(g);
    g.connect(sum);
  }
  return sum;
}

export interface ShapedOptions {
  source: ToneAudioNode;
  filter: {
    type: BiquadFilterType;
    frequency: number;
    Q: number;
    /** How many octaves lower the filter sits at velocity 0 (softer hits are darker). */
    soften?: number;
  };
  /** Each envelope fires at the given offsets (s after the hit) with the given gains. */
  envelopes: readonly { attack: number; decay: number; hits: readonly (readonly [number, number])[] }[];
  gain?: number;
}

/**
 * Envelopes (VCAs) and a filter on a source. Several short bursts make a clap; a snap and a
 * tail, the 808's cowbell.
 */
export function shaped(hit: Hit, o: ShapedOptions): void {
  const soften = o.filter.soften ?? 0;
  const filter = new BiquadFilter({
    context: hit.context,
    type: o.filter.type,
    frequency: o.filter.frequency * 2 ** (soften * (hit.velocity - 1)),
    Q: o.filter.Q,
  });
  filter.connect(hit.out);
  const level = o.gain ?? 1;
  for (const e of o.envelopes) {
    const env = new AmplitudeEnvelope({
      context: hit.context,
      attack: Math.max(e.attack, MIN_ATTACK),
      decay: e.decay,
      sustain: 0,
      release: 0.03,
      attackCurve: 'linear',
    });
    o.source.connect(env);
    env.connect(filter);
    for (const [offset, gain] of e.hits) env.triggerAttack(hit.time + offset, level * gain);
  }
}

export interface PartialsOptions {
  /** Hz of the ratio-1 partial. */
  frequency: number;
  /** [ratio to `frequency`, gain, decay (s)] per sine partial: bells, shells and bars are inharmonic. */
  partials: readonly (readonly [number, number, number])[];
  attack?: number;
  /** The pitch starts this many semitones high and falls to it in `bendTime` s (a struck head). */
  bend?: number;
  bendTime?: number;
  gain?: number;
}

/** A sum of decaying sine partials: agogo bells, timbale shells, claves. */
export function partials(hit: Hit, o: PartialsOptions): void {
  const attack = Math.max(o.attack ?? 0.001, MIN_ATTACK);
  const level = o.gain ?? 1;
  for (const [ratio, gain, decay] of o.partials) {
    const frequency = o.frequency * ratio;
    const osc = new Oscillator({ context: hit.context, frequency, type: 'sine' });
    if (o.bend !== undefined && o.bend !== 0) {
      osc.frequency.setValueAtTime(frequency * 2 ** (o.bend / 12), hit.time);
      osc.frequency.exponentialRampToValueAtTime(frequency, hit.time + (o.bendTime ?? 0.02));
    }
    const env = new AmplitudeEnvelope({
      context: hit.context,
      attack,
      decay,
      sustain: 0,
      release: 0.03,
      attackCurve: 'linear',
    });
    osc.connect(env);
    env.connect(hit.out);
    osc.start(hit.time).stop(hit.time + attack + decay);
    env.triggerAttack(hit.time, level * gain);
  }
}

/** Room impulse responses, one per context and shape (a render builds many hits on one context). */
const rooms = new WeakMap<BaseContext, Map<string, AudioBuffer>>();

export interface RoomOptions {
  /** Seconds the room rings (to −60 dB). */
  decay: number;
  /** Hz the tail is darkened to by its end (walls absorb the highs first). */
  darkenTo: number;
  /** Level of the room against the dry sound. */
  wet: number;
}

/**
 * The hit with a small room: its output goes to `out` dry and through a convolver whose impulse
 * response is decaying noise, darker as it decays (generated, seeded: every render the same room).
 */
export function withRoom(hit: Hit, o: RoomOptions): Hit {
  const { context } = hit;
  const key = `${o.decay}/${o.darkenTo}`;
  let byShape = rooms.get(context);
  if (!byShape) {
    byShape = new Map();
    rooms.set(context, byShape);
  }
  let ir = byShape.get(key);
  if (!ir) {
    ir = roomImpulse(context, o.decay, o.darkenTo);
    byShape.set(key, ir);
  }
  const input = new Gain({ context, gain: 1 });
  input.connect(hit.out);
  const convolver = context.createConvolver();
  convolver.normalize = false;
  convolver.buffer = ir;
  const wet = new Gain({ context, gain: o.wet });
  connect(input, convolver);
  connect(convolver, wet);
  wet.connect(hit.out);
  return { ...hit, out: input };
}

function roomImpulse(context: BaseContext, decay: number, darkenTo: number): AudioBuffer {
  const rate = context.sampleRate;
  const length = Math.ceil(decay * rate);
  const data = new Float32Array(length);
  let seed = 0x9e3779b9;
  let low = 0;
  for (let i = 0; i < length; i++) {
    // xorshift32: a fixed room, not Math.random's
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    const white = (seed >>> 0) / 0x100000000 - 0.5;
    const t = i / length;
    // A one-pole lowpass sweeping from ~16 kHz down to darkenTo.
    const cutoff = 16000 * (darkenTo / 16000) ** t;
    const a = 1 - Math.exp((-2 * Math.PI * cutoff) / rate);
    low += a * (white - low);
    const envelope = 10 ** ((-3 * i) / length); // −60 dB at the end
    // A 2 ms fade-in: the direct sound is the dry path's.
    const fadeIn = Math.min(1, i / (0.002 * rate));
    data[i] = low * envelope * fadeIn * 0.12;
  }
  const buffer = context.createBuffer(1, length, rate);
  buffer.copyToChannel(data, 0);
  return buffer;
}

/** A pad as the kits write it: its voice, and the level (gain) it plays at. */
export interface VoicePad extends Omit<KitPadDesign, 'play'> {
  level: number;
  voice: (hit: Hit) => void;
}

/** A kit's pads from a table of voices: each plays its voice through its level. */
export function padsOf(pads: readonly VoicePad[]): KitPadDesign[] {
  return pads.map(({ level, voice, ...pad }) => ({
    ...pad,
    play(context, out, time, velocity) {
      voice(scaled({ context, out, time, velocity }, level));
    },
  }));
}

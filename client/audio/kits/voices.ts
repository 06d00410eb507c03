/**
 * Building blocks of the built-in kits' voices: each builds the Tone.js nodes of ONE hit on the
 * given context (an offline one, when render-kit.ts renders a kit) and schedules it.
 *
 * Light on the render thread, because a kit is rendered while the musician waits: envelopes are
 * automation on a Gain's Param (Tone's Envelope keeps a ConstantSourceNode running for the whole
 * render), oscillators are Tone's ToneOscillatorNode (its Oscillator adds two running signals),
 * and hits at the same time on one context share their sources (noise, square banks): a render
 * plays every pad at time 0, so one noise source feeds them all, as one did in the 808. The room
 * is a few delay lines, not a convolver (16 convolvers made a render seconds long).
 *
 * Every envelope starts from silence with a ramp of at least MIN_ATTACK: a sound that jumps from
 * 0 on its first sample clicks, whatever it is.
 */
import '../quiet-tone.ts';
import {
  type BaseContext,
  BiquadFilter,
  connect,
  Gain,
  type InputNode,
  type Param,
  ToneAudioBuffer,
  type ToneAudioNode,
  ToneBufferSource,
  ToneOscillatorNode,
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
/** Shared sources run this long (s) after their hit: longer than any pad (kits.test.ts holds pads to it). */
export const LONGEST_SOUND = 5;

/** `soft` at velocity 0, `hard` at velocity 1, in between on a line. */
export const byVelocity = (velocity: number, soft: number, hard: number): number => soft + (hard - soft) * velocity;

/** The hit with its output through a gain of `gain` (a pad's level, a layer's mix). */
export function scaled(hit: Hit, gain: number): Hit {
  const node = new Gain({ context: hit.context, gain });
  node.connect(hit.out);
  return { ...hit, out: node };
}

/** Sources shared by the hits built at one time on one context, by what they are. */
const sharedSources = new WeakMap<BaseContext, Map<string, ToneAudioNode>>();

function shared(hit: Hit, key: string, make: () => ToneAudioNode): ToneAudioNode {
  let byKey = sharedSources.get(hit.context);
  if (!byKey) {
    byKey = new Map();
    sharedSources.set(hit.context, byKey);
  }
  const k = `${key}@${hit.time}`;
  let node = byKey.get(k);
  if (!node) {
    node = make();
    byKey.set(k, node);
  }
  return node;
}

/** Seeded noise, per sample rate and colour: every render of a kit is the same sound, so a render and its cached copy are one. */
const noiseData = new Map<string, Float32Array<ArrayBuffer>>();

function noiseSamples(sampleRate: number, type: 'white' | 'pink' | 'brown'): Float32Array<ArrayBuffer> {
  const key = `${sampleRate}/${type}`;
  let data = noiseData.get(key);
  if (data) return data;
  data = new Float32Array(Math.ceil(LONGEST_SOUND * sampleRate));
  let seed = 0x2545f491;
  // Pink: Paul Kellet's economy filter; brown: leaky integration (as Tone's Noise makes them).
  let b0 = 0;
  let b1 = 0;
  let b2 = 0;
  let last = 0;
  for (let i = 0; i < data.length; i++) {
    seed ^= seed << 13; // xorshift32
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    const white = ((seed >>> 0) / 0x100000000) * 2 - 1;
    if (type === 'white') {
      data[i] = white;
    } else if (type === 'pink') {
      b0 = 0.99765 * b0 + white * 0.099046;
      b1 = 0.963 * b1 + white * 0.2965164;
      b2 = 0.57 * b2 + white * 1.0526913;
      data[i] = (b0 + b1 + b2 + white * 0.1848) * 0.11;
    } else {
      last = (last + 0.02 * white) / 1.02;
      data[i] = last * 3.5;
    }
  }
  noiseData.set(key, data);
  return data;
}

/** A noise source running from the hit (shared by the hits at its time): the same noise every render. */
export function noise(hit: Hit, type: 'white' | 'pink' | 'brown' = 'white'): ToneAudioNode {
  return shared(hit, `noise/${type}`, () => {
    const { context } = hit;
    const data = noiseSamples(context.sampleRate, type);
    const buffer = context.createBuffer(1, data.length, context.sampleRate);
    buffer.copyToChannel(data, 0);
    const source = new ToneBufferSource({ context, url: new ToneAudioBuffer(buffer) });
    source.start(hit.time);
    return source;
  });
}

/** Square oscillators (a metal bank, the 808's way) summed at `gain` each, running from the hit (shared). */
export function squares(hit: Hit, frequencies: readonly number[], gain: number): ToneAudioNode {
  return shared(hit, `squares/${frequencies.join(',')}/${gain}`, () => {
    const sum = new Gain({ context: hit.context, gain });
    for (const frequency of frequencies) {
      const osc = new ToneOscillatorNode({ context: hit.context, frequency, type: 'square' });
      osc.connect(sum);
      osc.start(hit.time).stop(hit.time + LONGEST_SOUND);
    }
    return sum;
  });
}

/** Several sources into one node, each at its own gain (shared, by `key`). */
export function mixed(hit: Hit, key: string, parts: readonly (readonly [ToneAudioNode, number])[]): ToneAudioNode {
  return shared(hit, `mix/${key}`, () => {
    const sum = new Gain({ context: hit.context, gain: 1 });
    for (const [node, gain] of parts) {
      const g = new Gain({ context: hit.context, gain });
      node.connect(g);
      g.connect(sum);
    }
    return sum;
  });
}

/**
 * Strikes an envelope on `param` (a VCA's gain, resting at 0) at `time`: a linear rise to
 * `level` in `attack`, then an exponential fall to 0 that ends at attack + decay, as Tone's
 * Envelope does (sustain 0; a strike on a sounding envelope rises from where it is).
 */
export function strike(param: Param<'gain'>, time: number, level: number, attack: number, decay: number): void {
  const rise = Math.max(attack, MIN_ATTACK);
  const now = param.getValueAtTime(time);
  const remaining = now > 0 ? rise * Math.max(0, 1 - now / level) : rise;
  if (remaining <= 0) {
    param.cancelScheduledValues(time);
    param.setValueAtTime(level, time);
  } else {
    param.linearRampTo(level, remaining, time);
  }
  param.exponentialApproachValueAtTime(0, time + Math.max(remaining, 0), decay);
}

/** A VCA: `source` through a gain that rests at 0 (strike() opens it). */
function vca(hit: Hit, source: ToneAudioNode, to: InputNode): Gain {
  const gain = new Gain({ context: hit.context, gain: 0 });
  source.connect(gain);
  gain.connect(to);
  return gain;
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

/**
 * A pitched drum, as Tone's MembraneSynth plays it: a sine (or triangle) whose pitch falls
 * exponentially from frequency·2^octaves to frequency in pitchDecay, under an envelope that
 * ends at attack + decay (the oscillator stops then). Built from its parts: MembraneSynth
 * refuses a drop under half an octave, which hand drums need, and costs more to render.
 */
export function membrane(hit: Hit, o: MembraneOptions): void {
  const { context, time } = hit;
  const attack = Math.max(o.attack ?? 0.001, MIN_ATTACK);
  const octaves = byVelocity(hit.velocity, o.octaves[0], o.octaves[1]);
  const osc = new ToneOscillatorNode({ context, frequency: o.frequency, type: o.type ?? 'sine' });
  osc.frequency.setValueAtTime(o.frequency * 2 ** octaves, time);
  osc.frequency.exponentialRampToValueAtTime(o.frequency, time + o.pitchDecay);
  strike(vca(hit, osc, hit.out).gain, time, o.gain ?? 1, attack, o.decay);
  osc.start(time).stop(time + attack + o.decay);
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
    const gain = vca(hit, o.source, filter).gain;
    for (const [offset, g] of e.hits) strike(gain, hit.time + offset, level * g, e.attack, e.decay);
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
    const osc = new ToneOscillatorNode({ context: hit.context, frequency, type: 'sine' });
    if (o.bend !== undefined && o.bend !== 0) {
      osc.frequency.setValueAtTime(frequency * 2 ** (o.bend / 12), hit.time);
      osc.frequency.exponentialRampToValueAtTime(frequency, hit.time + (o.bendTime ?? 0.02));
    }
    strike(vca(hit, osc, hit.out).gain, hit.time, level * gain, attack, decay);
    osc.start(hit.time).stop(hit.time + attack + decay);
  }
}

export interface RoomOptions {
  /** Seconds the room's tail takes to fall 60 dB. */
  decay: number;
  /** Hz above which the walls absorb (the reflections and tail are lowpassed here). */
  darkenTo: number;
  /** Level of the room against the dry sound. */
  wet: number;
}

/** Early reflections (s after the sound, gain): a small room's walls, floor and ceiling. */
const REFLECTIONS = [
  [0.0073, 0.5],
  [0.0119, 0.42],
  [0.0171, 0.35],
  [0.0233, 0.28],
  [0.0311, 0.2],
] as const;
/** Loop lengths (s) of the tail's two feedback delays: prime-ish, so their echoes do not line up. */
const TAIL_LOOPS = [0.0297, 0.0371] as const;

/**
 * The hit with a small room: its output goes to `out` dry, and through early reflections (delay
 * taps) and a diffuse tail (two damped feedback delays) whose level falls 60 dB in `decay` s.
 * Plain Web Audio nodes: some twenty per pad, which as Tone objects cost more to build than the
 * rest of the voice.
 */
export function withRoom(hit: Hit, o: RoomOptions): Hit {
  const { context } = hit;
  const input = context.createGain();
  connect(input, hit.out);
  const damp = lowpass(context, o.darkenTo);
  const wet = context.createGain();
  wet.gain.value = o.wet;
  input.connect(damp);
  connect(wet, hit.out);
  for (const [delayTime, gain] of REFLECTIONS) {
    const tap = context.createDelay(delayTime);
    tap.delayTime.value = delayTime;
    const level = context.createGain();
    level.gain.value = gain;
    damp.connect(tap);
    tap.connect(level);
    level.connect(wet);
  }
  for (const delayTime of TAIL_LOOPS) {
    const loop = context.createDelay(delayTime);
    loop.delayTime.value = delayTime;
    // Each pass round the loop loses 60 dB · loop / decay.
    const back = context.createGain();
    back.gain.value = 10 ** ((-3 * delayTime) / o.decay);
    const dark = lowpass(context, o.darkenTo);
    const send = context.createGain();
    send.gain.value = 0.25;
    damp.connect(send);
    send.connect(loop);
    loop.connect(dark);
    dark.connect(back);
    back.connect(loop);
    dark.connect(wet);
  }
  return { ...hit, out: input };
}

function lowpass(context: BaseContext, frequency: number): BiquadFilterNode {
  const filter = context.createBiquadFilter();
  filter.type = 'lowpass';
  filter.frequency.value = frequency;
  filter.Q.value = 0.5;
  return filter;
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

/**
 * The electronic kit: padmesh's original 16 voices (the engine played them live before v2),
 * designed after the TR-808 where it fits: hats, cymbals, cowbell, clap and shaker are envelopes
 * and filters on a noise source and a bank of six square oscillators; pitched drums are
 * membranes (MembraneSynth's design, voices.ts). Velocity changes the timbre where it did live (pitch drop, filter), so those
 * pads have three layers; the others, one.
 *
 * `level` is each pad's gain, balanced by measured peak level in headless Chromium when the voices
 * were live (at velocity 1 a pad peaked between about −5 dBFS, kick, and −14 dBFS, shaker).
 */
import type { KitDesign } from './design.ts';
import {
  type Hit,
  membrane,
  mixed,
  noise,
  padsOf,
  type ShapedOptions,
  shaped,
  squares,
  type VoicePad,
} from './voices.ts';

/** The 808's six metal oscillators (Hz); the cowbell's bell is the last two. */
const METAL_HZ = [205.3, 304.4, 369.6, 522.7, 540, 800] as const;
const BELL_HZ = [540, 800] as const;

type Source = 'noise' | 'hat' | 'cymbal' | 'bell';

/** The live engine's shared sources: noise, the metal bank, and their mixes (voices.ts shares them between pads). */
function source(hit: Hit, kind: Source) {
  switch (kind) {
    case 'noise':
      return noise(hit);
    case 'bell':
      return squares(hit, BELL_HZ, 0.5);
    case 'hat':
      return mixed(hit, 'hat', [
        [squares(hit, METAL_HZ, 0.5), 1],
        [noise(hit), 0.15],
      ]);
    case 'cymbal':
      return mixed(hit, 'cymbal', [
        [squares(hit, METAL_HZ, 0.5), 1],
        [noise(hit), 0.45],
      ]);
  }
}

const once = [[0, 1]] as const;
const VELOCITY_LAYERS = [0.35, 0.7, 1] as const;
const ONE_LAYER = [1] as const;

/** A VCA-and-filter voice on one of the shared sources. */
const on = (kind: Source, o: Omit<ShapedOptions, 'source'>) => (hit: Hit) =>
  shaped(hit, { ...o, source: source(hit, kind) });

const PADS: readonly VoicePad[] = [
  {
    id: 'kick',
    name: 'Kick',
    color: '#ff5252',
    level: 0.56,
    length: 0.55,
    layers: VELOCITY_LAYERS,
    priority: 0,
    voice: (hit) => membrane(hit, { frequency: 48, octaves: [3.5, 5.5], pitchDecay: 0.045, decay: 0.45 }),
  },
  {
    id: 'snare',
    name: 'Snare',
    color: '#ff8a3d',
    level: 0.7,
    length: 0.3,
    layers: VELOCITY_LAYERS,
    priority: 1,
    voice: (hit) => {
      membrane(hit, {
        frequency: 185,
        octaves: [0.8, 1.5],
        pitchDecay: 0.03,
        decay: 0.13,
        gain: 0.45,
        type: 'triangle',
      });
      on('noise', {
        filter: { type: 'bandpass', frequency: 4500, Q: 0.5, soften: 0.8 },
        envelopes: [{ attack: 0, decay: 0.2, hits: once }],
        gain: 0.6,
      })(hit);
    },
  },
  {
    id: 'clap',
    name: 'Clap',
    color: '#ff5fa2',
    level: 1.9,
    length: 0.3,
    layers: VELOCITY_LAYERS,
    priority: 4,
    voice: on('noise', {
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
  {
    id: 'rim',
    name: 'Rim',
    color: '#ffa98f',
    level: 0.53,
    length: 0.12,
    layers: ONE_LAYER,
    voice: (hit) => {
      membrane(hit, {
        frequency: 1700,
        octaves: [0.5, 0.5],
        pitchDecay: 0.005,
        decay: 0.03,
        gain: 0.4,
        type: 'triangle',
      });
      on('noise', {
        filter: { type: 'highpass', frequency: 2500, Q: 0.7 },
        envelopes: [{ attack: 0, decay: 0.012, hits: once }],
        gain: 0.4,
      })(hit);
    },
  },
  {
    id: 'hat-closed',
    name: 'Closed hat',
    color: '#ffd43b',
    level: 0.41,
    length: 0.1,
    layers: ONE_LAYER,
    chokeGroup: 1,
    priority: 2,
    voice: on('hat', {
      filter: { type: 'highpass', frequency: 7500, Q: 0.9 },
      envelopes: [{ attack: 0, decay: 0.05, hits: once }],
    }),
  },
  {
    id: 'hat-open',
    name: 'Open hat',
    color: '#f59f00',
    level: 0.46,
    length: 0.56,
    layers: ONE_LAYER,
    chokeGroup: 1,
    priority: 3,
    voice: on('hat', {
      filter: { type: 'highpass', frequency: 7000, Q: 0.9 },
      envelopes: [{ attack: 0, decay: 0.5, hits: once }],
    }),
  },
  {
    id: 'crash',
    name: 'Crash',
    color: '#fff08a',
    level: 0.21,
    length: 1.86,
    layers: ONE_LAYER,
    voice: on('cymbal', {
      filter: { type: 'highpass', frequency: 3800, Q: 0.7 },
      envelopes: [
        { attack: 0, decay: 0.08, hits: once },
        { attack: 0, decay: 1.8, hits: [[0, 0.6]] },
      ],
    }),
  },
  {
    id: 'ride',
    name: 'Ride',
    color: '#d4e157',
    level: 0.17,
    length: 1.36,
    layers: ONE_LAYER,
    voice: on('hat', {
      filter: { type: 'bandpass', frequency: 5200, Q: 0.8 },
      envelopes: [
        { attack: 0, decay: 0.06, hits: once },
        { attack: 0, decay: 1.3, hits: [[0, 0.45]] },
      ],
    }),
  },
  {
    id: 'tom-low',
    name: 'Low tom',
    color: '#845ef7',
    level: 0.5,
    length: 0.6,
    layers: VELOCITY_LAYERS,
    voice: (hit) => membrane(hit, { frequency: 82, octaves: [1.5, 2.5], pitchDecay: 0.06, decay: 0.55 }),
  },
  {
    id: 'tom-mid',
    name: 'Mid tom',
    color: '#5c7cfa',
    level: 0.47,
    length: 0.5,
    layers: VELOCITY_LAYERS,
    voice: (hit) => membrane(hit, { frequency: 117, octaves: [1.5, 2.5], pitchDecay: 0.055, decay: 0.45 }),
  },
  {
    id: 'tom-high',
    name: 'High tom',
    color: '#4dabf7',
    level: 0.45,
    length: 0.43,
    layers: VELOCITY_LAYERS,
    voice: (hit) => membrane(hit, { frequency: 165, octaves: [1.5, 2.5], pitchDecay: 0.05, decay: 0.38 }),
  },
  {
    id: 'conga',
    name: 'Conga',
    color: '#cc5de8',
    level: 0.4,
    length: 0.27,
    layers: VELOCITY_LAYERS,
    voice: (hit) => membrane(hit, { frequency: 310, octaves: [0.5, 1], pitchDecay: 0.015, decay: 0.22 }),
  },
  {
    id: 'cowbell',
    name: 'Cowbell',
    color: '#20c997',
    level: 0.29,
    length: 0.5,
    layers: VELOCITY_LAYERS,
    voice: on('bell', {
      filter: { type: 'bandpass', frequency: 850, Q: 2.5, soften: 0.3 },
      envelopes: [
        { attack: 0.0005, decay: 0.05, hits: once },
        { attack: 0.0005, decay: 0.45, hits: once },
      ],
    }),
  },
  {
    id: 'clave',
    name: 'Clave',
    color: '#51cf66',
    level: 0.32,
    length: 0.1,
    layers: ONE_LAYER,
    voice: (hit) => membrane(hit, { frequency: 2500, octaves: [0.5, 0.5], pitchDecay: 0.003, decay: 0.06 }),
  },
  {
    id: 'shaker',
    name: 'Shaker',
    color: '#3bc9db',
    level: 0.35,
    length: 0.14,
    layers: VELOCITY_LAYERS,
    voice: on('noise', {
      filter: { type: 'bandpass', frequency: 6000, Q: 1, soften: 0.5 },
      envelopes: [{ attack: 0.012, decay: 0.08, hits: once }],
    }),
  },
  {
    id: 'tambourine',
    name: 'Tambourine',
    color: '#94d82d',
    level: 0.32,
    length: 0.36,
    layers: ONE_LAYER,
    voice: on('cymbal', {
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

export const ELECTRONIC_KIT: KitDesign = {
  id: 'electronic',
  version: 1,
  name: 'Electronic',
  pads: padsOf(PADS),
};

/**
 * The acoustic-like kit: a drum set in a small room. Drums are a pitched membrane with a second,
 * higher mode and the stick's attack, through a short room; hats and cymbals are a bank of
 * squares at inharmonic ratios plus noise, filtered, brighter and longer the harder they are hit;
 * the ride and its bell have a pitched ping. Three velocity layers per pad: a soft hit is darker
 * and rounder, a hard one snappier and brighter.
 *
 * Levels were set from measured peaks (`npx tsx bench/kit-render.ts --quick --pads` prints each
 * pad's): drums peak around −5 dBFS at velocity 1, hats and cymbals −9 to −14 dBFS.
 */
import type { KitDesign } from './design.ts';
import {
  byVelocity,
  type Hit,
  membrane,
  mixed,
  noise,
  padsOf,
  partials,
  type RoomOptions,
  shaped,
  squares,
  type VoicePad,
  withRoom,
} from './voices.ts';

const LAYERS = [0.35, 0.7, 1] as const;

/** A small, slightly dead room (a rehearsal space). */
const ROOM: RoomOptions = { decay: 0.35, darkenTo: 2500, wet: 0.5 };
/** How long the room rings on after a sound (s): until it is under −80 dBFS, where a render's end is cut. */
const ROOM_TAIL = ROOM.decay * 1.3;

/** Cymbal metal: six squares at a cymbal's inharmonic spread (Hz). */
const CYMBAL_HZ = [313, 447, 561, 733, 927, 1183] as const;
const HAT_HZ = [411, 587, 733, 943, 1208, 1561] as const;

/** Metal and noise for a hat or cymbal hit. */
function metal(hit: Hit, frequencies: readonly number[], noiseLevel: number) {
  return mixed(hit, `metal/${frequencies.join(',')}/${noiseLevel}`, [
    [squares(hit, frequencies, 0.35), 1],
    [noise(hit), noiseLevel],
  ]);
}

/** The stick's attack on a head: a short, filtered burst of noise. */
function stick(hit: Hit, frequency: number, gain: number, decay = 0.008) {
  shaped(hit, {
    source: noise(hit),
    filter: { type: 'bandpass', frequency, Q: 0.9, soften: 1 },
    envelopes: [{ attack: 0.0005, decay, hits: [[0, 1]] }],
    gain: gain * byVelocity(hit.velocity, 0.4, 1),
  });
}

/** A tom: membrane, a second mode a fifth and a bit above, the stick, the room. */
function tom(frequency: number, decay: number) {
  return (dry: Hit) => {
    const hit = withRoom(dry, ROOM);
    membrane(hit, { frequency, octaves: [0.5, 1.1], pitchDecay: 0.07, decay });
    membrane(hit, {
      frequency: frequency * 1.58,
      octaves: [0.3, 0.6],
      pitchDecay: 0.04,
      decay: decay * 0.4,
      gain: 0.25,
    });
    stick(hit, 1800, 0.25);
  };
}

const PADS: readonly VoicePad[] = [
  {
    id: 'kick',
    name: 'Kick',
    color: '#ff5252',
    level: 0.46,
    length: 0.45 + ROOM_TAIL,
    layers: LAYERS,
    priority: 0,
    voice: (dry) => {
      const hit = withRoom(dry, { ...ROOM, wet: 0.25 });
      membrane(hit, { frequency: 52, octaves: [1.6, 2.6], pitchDecay: 0.035, decay: 0.42 });
      // The shell's thump and the beater's click.
      membrane(hit, { frequency: 82, octaves: [0.4, 0.9], pitchDecay: 0.02, decay: 0.1, gain: 0.3 });
      stick(hit, 3200, 0.5, 0.006);
    },
  },
  {
    id: 'snare',
    name: 'Snare',
    color: '#ff8a3d',
    level: 0.45,
    length: 0.3 + ROOM_TAIL,
    layers: LAYERS,
    priority: 1,
    voice: (dry) => {
      const hit = withRoom(dry, ROOM);
      membrane(hit, {
        frequency: 190,
        octaves: [0.4, 0.9],
        pitchDecay: 0.02,
        decay: 0.12,
        gain: 0.5,
        type: 'triangle',
      });
      membrane(hit, { frequency: 330, octaves: [0.2, 0.4], pitchDecay: 0.015, decay: 0.07, gain: 0.2 });
      // The wires: longer and brighter the harder the hit.
      const wires = byVelocity(hit.velocity, 0.16, 0.26);
      shaped(hit, {
        source: noise(hit),
        filter: { type: 'highpass', frequency: 1800, Q: 0.7, soften: 0.9 },
        envelopes: [{ attack: 0.001, decay: wires, hits: [[0, 1]] }],
        gain: 0.55,
      });
      stick(hit, 2500, 0.35);
    },
  },
  {
    id: 'rimshot',
    name: 'Rimshot',
    color: '#ff5fa2',
    level: 0.4,
    length: 0.3 + ROOM_TAIL,
    layers: LAYERS,
    priority: 6,
    voice: (dry) => {
      const hit = withRoom(dry, ROOM);
      // The head's body is the same however hard; the crack of stick on rim grows with force.
      const crack = byVelocity(hit.velocity, 0.35, 1);
      membrane(hit, { frequency: 210, octaves: [0.5, 1], pitchDecay: 0.015, decay: 0.1, gain: 0.5, type: 'triangle' });
      partials(hit, {
        gain: crack,
        frequency: 920,
        partials: [
          [1, 0.5, 0.03],
          [2.3, 0.25, 0.02],
        ],
      });
      shaped(hit, {
        source: noise(hit),
        filter: { type: 'highpass', frequency: 2200, Q: 0.7, soften: 1 },
        envelopes: [{ attack: 0.0005, decay: 0.2, hits: [[0, 1]] }],
        gain: 0.5 * crack,
      });
      stick(hit, 4000, 0.7);
    },
  },
  {
    id: 'cross-stick',
    name: 'Cross stick',
    color: '#ffa98f',
    level: 0.39,
    length: 0.08 + ROOM_TAIL,
    layers: LAYERS,
    voice: (dry) => {
      const hit = withRoom(dry, { ...ROOM, wet: 0.7 });
      membrane(hit, {
        frequency: 480,
        octaves: [0.2, 0.4],
        pitchDecay: 0.01,
        decay: 0.05,
        gain: 0.6,
        type: 'triangle',
      });
      partials(hit, {
        frequency: 1650,
        partials: [
          [1, 0.4, 0.025],
          [1.83, 0.2, 0.015],
        ],
      });
      stick(hit, 2200, 0.6, 0.01);
    },
  },
  {
    id: 'hat-closed',
    name: 'Closed hat',
    color: '#ffd43b',
    level: 0.26,
    length: 0.12,
    layers: LAYERS,
    chokeGroup: 1,
    priority: 2,
    voice: (hit) => {
      const decay = byVelocity(hit.velocity, 0.035, 0.06);
      shaped(hit, {
        source: metal(hit, HAT_HZ, 0.6),
        filter: { type: 'highpass', frequency: 7500, Q: 0.8, soften: 0.7 },
        envelopes: [{ attack: 0.0008, decay, hits: [[0, 1]] }],
      });
    },
  },
  {
    id: 'hat-open',
    name: 'Open hat',
    color: '#f59f00',
    level: 0.28,
    length: 0.85,
    layers: LAYERS,
    chokeGroup: 1,
    priority: 3,
    voice: (hit) => {
      const decay = byVelocity(hit.velocity, 0.45, 0.8);
      shaped(hit, {
        source: metal(hit, HAT_HZ, 0.6),
        filter: { type: 'highpass', frequency: 6500, Q: 0.8, soften: 0.6 },
        envelopes: [
          { attack: 0.001, decay: 0.04, hits: [[0, 0.6]] },
          { attack: 0.003, decay, hits: [[0, 0.55]] },
        ],
      });
    },
  },
  {
    id: 'hat-pedal',
    name: 'Pedal hat',
    color: '#ffe066',
    level: 0.2,
    length: 0.08,
    layers: LAYERS,
    chokeGroup: 1,
    voice: (hit) => {
      // The two cymbals closing: a slower "chick", lower than a stick on a closed hat.
      shaped(hit, {
        source: metal(hit, HAT_HZ, 0.9),
        filter: { type: 'bandpass', frequency: 6000, Q: 0.9, soften: 0.6 },
        envelopes: [{ attack: 0.004, decay: 0.035, hits: [[0, 1]] }],
      });
    },
  },
  {
    id: 'crash',
    name: 'Crash',
    color: '#fff08a',
    level: 0.16,
    length: 2.45,
    layers: LAYERS,
    priority: 4,
    voice: (hit) => {
      const decay = byVelocity(hit.velocity, 1.5, 2.3);
      const source = metal(hit, CYMBAL_HZ, 0.9);
      shaped(hit, {
        source,
        filter: { type: 'highpass', frequency: 3200, Q: 0.6, soften: 0.8 },
        envelopes: [
          { attack: 0.001, decay: 0.12, hits: [[0, 0.9]] },
          { attack: 0.008, decay, hits: [[0, 0.6]] },
        ],
      });
      // The body of the crash: a darker band under the sizzle.
      shaped(hit, {
        source,
        filter: { type: 'bandpass', frequency: 1400, Q: 0.8, soften: 0.5 },
        envelopes: [{ attack: 0.004, decay: decay * 0.6, hits: [[0, 0.25]] }],
      });
    },
  },
  {
    id: 'ride',
    name: 'Ride',
    color: '#d4e157',
    level: 0.26,
    length: 1.75,
    layers: LAYERS,
    priority: 5,
    voice: (hit) => {
      partials(hit, {
        frequency: 2650,
        partials: [
          [1, 0.22, 0.5],
          [1.47, 0.14, 0.35],
          [2.09, 0.1, 0.25],
        ],
        gain: byVelocity(hit.velocity, 0.6, 1),
      });
      shaped(hit, {
        source: metal(hit, CYMBAL_HZ, 0.5),
        filter: { type: 'bandpass', frequency: 6500, Q: 0.7, soften: 0.6 },
        envelopes: [
          { attack: 0.0008, decay: 0.05, hits: [[0, 0.8]] },
          { attack: 0.003, decay: 1.6, hits: [[0, 0.35]] },
        ],
      });
    },
  },
  {
    id: 'ride-bell',
    name: 'Ride bell',
    color: '#c0eb75',
    level: 0.27,
    length: 1.45,
    layers: LAYERS,
    voice: (hit) => {
      partials(hit, {
        frequency: 1040,
        partials: [
          [1, 0.45, 1.3],
          [2.02, 0.25, 0.9],
          [2.76, 0.2, 0.7],
          [5.4, byVelocity(hit.velocity, 0.04, 0.14), 0.35],
        ],
      });
      shaped(hit, {
        source: metal(hit, CYMBAL_HZ, 0.4),
        filter: { type: 'highpass', frequency: 5000, Q: 0.7, soften: 0.6 },
        envelopes: [{ attack: 0.0008, decay: 0.5, hits: [[0, 0.25]] }],
      });
    },
  },
  {
    id: 'tom-floor',
    name: 'Floor tom',
    color: '#845ef7',
    level: 0.39,
    length: 0.7 + ROOM_TAIL,
    layers: LAYERS,
    voice: tom(78, 0.65),
  },
  {
    id: 'tom-low',
    name: 'Low tom',
    color: '#7048e8',
    level: 0.4,
    length: 0.6 + ROOM_TAIL,
    layers: LAYERS,
    voice: tom(104, 0.55),
  },
  {
    id: 'tom-mid',
    name: 'Mid tom',
    color: '#5c7cfa',
    level: 0.41,
    length: 0.5 + ROOM_TAIL,
    layers: LAYERS,
    voice: tom(138, 0.46),
  },
  {
    id: 'tom-high',
    name: 'High tom',
    color: '#4dabf7',
    level: 0.41,
    length: 0.42 + ROOM_TAIL,
    layers: LAYERS,
    voice: tom(182, 0.38),
  },
  {
    id: 'splash',
    name: 'Splash',
    color: '#20c997',
    level: 0.19,
    length: 0.95,
    layers: LAYERS,
    voice: (hit) => {
      const decay = byVelocity(hit.velocity, 0.55, 0.85);
      shaped(hit, {
        source: metal(hit, HAT_HZ, 0.8),
        filter: { type: 'highpass', frequency: 4800, Q: 0.7, soften: 0.7 },
        envelopes: [
          { attack: 0.001, decay: 0.06, hits: [[0, 0.8]] },
          { attack: 0.005, decay, hits: [[0, 0.6]] },
        ],
      });
    },
  },
  {
    id: 'brush',
    name: 'Brush swish',
    color: '#51cf66',
    level: 1.07,
    length: 0.45,
    layers: LAYERS,
    voice: (hit) => {
      // Brushes swept on the snare: a slow rise and fall of wire noise, no stick.
      const decay = byVelocity(hit.velocity, 0.2, 0.32);
      shaped(hit, {
        source: noise(hit, 'pink'),
        filter: { type: 'bandpass', frequency: 3500, Q: 0.6, soften: 0.8 },
        envelopes: [{ attack: 0.06, decay, hits: [[0, 1]] }],
      });
    },
  },
];

export const ACOUSTIC_KIT: KitDesign = {
  id: 'acoustic',
  version: 1,
  name: 'Acoustic',
  pads: padsOf(PADS),
};

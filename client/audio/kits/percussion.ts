/**
 * The percussion kit: Latin hand percussion. Congas and bongos are membranes that barely bend,
 * with the hand's slap as filtered noise; timbales and bells are sums of inharmonic partials;
 * shakers, cabasa and guiro are noise shaped in time (beads, a scrape's ridges). Three velocity
 * layers per pad: harder is brighter, with more attack.
 *
 * Levels were set from measured peaks (`npx tsx bench/kit-render.ts --quick --pads` prints each
 * pad's): drums peak around −6 dBFS at velocity 1, bells −9, the small things −10 to −12 dBFS.
 */
import type { KitDesign } from './design.ts';
import {
  byVelocity,
  type Hit,
  membrane,
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
/** A little air around the drums (a live room, not a hall). */
const ROOM: RoomOptions = { decay: 0.3, darkenTo: 3000, wet: 0.35 };
/** How long the room rings on after a sound (s): until it is under −80 dBFS, where a render's end is cut. */
const ROOM_TAIL = ROOM.decay * 1.3;

/** The hand on the head: a short noise burst, brighter and louder the harder it is. */
function palm(hit: Hit, frequency: number, gain: number, decay = 0.012) {
  shaped(hit, {
    source: noise(hit),
    filter: { type: 'bandpass', frequency, Q: 1.1, soften: 1 },
    envelopes: [{ attack: 0.0008, decay, hits: [[0, 1]] }],
    gain: gain * byVelocity(hit.velocity, 0.3, 1),
  });
}

/** An open tone on a hand drum: it rings, the hand barely heard. */
function handDrum(frequency: number, decay: number, slap = 0.25) {
  return (dry: Hit) => {
    const hit = withRoom(dry, ROOM);
    membrane(hit, { frequency, octaves: [0.12, 0.35], pitchDecay: 0.02, decay });
    membrane(hit, {
      frequency: frequency * 2.1,
      octaves: [0.1, 0.2],
      pitchDecay: 0.01,
      decay: decay * 0.3,
      gain: 0.15,
    });
    palm(hit, frequency * 8, slap);
  };
}

/** A timbale: shell partials that ring, a small bend at the strike, the stick. */
function timbale(frequency: number) {
  return (dry: Hit) => {
    const hit = withRoom(dry, ROOM);
    partials(hit, {
      frequency,
      partials: [
        [1, 0.55, 0.55],
        [1.59, 0.28, 0.4],
        [2.14, byVelocity(hit.velocity, 0.1, 0.22), 0.3],
        [2.65, byVelocity(hit.velocity, 0.05, 0.15), 0.22],
      ],
      bend: 1.5,
      bendTime: 0.02,
    });
    palm(hit, 3500, 0.5, 0.008);
  };
}

/** A bell: strongly inharmonic partials, the higher ones fading first (agogo, cowbell). */
function bell(frequency: number, decay: number) {
  return (hit: Hit) => {
    partials(hit, {
      frequency,
      partials: [
        [1, 0.5, decay],
        [2.76, byVelocity(hit.velocity, 0.12, 0.3), decay * 0.5],
        [5.4, byVelocity(hit.velocity, 0.03, 0.12), decay * 0.3],
        [8.93, byVelocity(hit.velocity, 0.01, 0.05), decay * 0.2],
      ],
    });
    palm(hit, 5000, 0.2, 0.004);
  };
}

/**
 * A scrape: `ridges` short bursts, `spacing` s apart, through a resonant band (the guiro's
 * ridges), with the gourd ringing a little after the last one.
 */
function scrape(ridges: number, spacing: number, frequency: number) {
  return (hit: Hit) => {
    const hits: [number, number][] = [];
    // Firm at the start, steady, easing off at the end of the stroke.
    for (let i = 0; i < ridges; i++) hits.push([i * spacing, i < 2 ? 1 : i > ridges - 4 ? 0.55 : 0.75]);
    shaped(hit, {
      source: noise(hit),
      filter: { type: 'bandpass', frequency, Q: 2.5, soften: 0.6 },
      envelopes: [{ attack: 0.0015, decay: spacing * 0.7, hits }],
    });
    shaped(hit, {
      source: noise(hit),
      filter: { type: 'bandpass', frequency: frequency * 0.4, Q: 6 },
      envelopes: [{ attack: 0.01, decay: ridges * spacing + 0.08, hits: [[0, 0.35]] }],
    });
  };
}

const PADS: readonly VoicePad[] = [
  {
    id: 'tumba',
    name: 'Tumba',
    color: '#ff5252',
    level: 0.46,
    length: 0.5 + ROOM_TAIL,
    layers: LAYERS,
    priority: 2,
    voice: handDrum(175, 0.48),
  },
  {
    id: 'conga-open',
    name: 'Conga open',
    color: '#ff8a3d',
    level: 0.46,
    length: 0.4 + ROOM_TAIL,
    layers: LAYERS,
    priority: 0,
    voice: handDrum(235, 0.38),
  },
  {
    id: 'conga-slap',
    name: 'Conga slap',
    color: '#ff5fa2',
    level: 0.6,
    length: 0.12 + ROOM_TAIL,
    layers: LAYERS,
    priority: 1,
    voice: (dry) => {
      const hit = withRoom(dry, ROOM);
      // The slap: the head choked at once, a crack of hand on skin.
      membrane(hit, { frequency: 320, octaves: [0.2, 0.45], pitchDecay: 0.008, decay: 0.06, gain: 0.5 });
      shaped(hit, {
        source: noise(hit),
        filter: { type: 'bandpass', frequency: 2400, Q: 1.4, soften: 0.8 },
        envelopes: [{ attack: 0.0008, decay: 0.055, hits: [[0, 1]] }],
        gain: byVelocity(hit.velocity, 0.5, 1),
      });
    },
  },
  {
    id: 'quinto',
    name: 'Quinto',
    color: '#ffa98f',
    level: 0.46,
    length: 0.32 + ROOM_TAIL,
    layers: LAYERS,
    voice: handDrum(300, 0.3),
  },
  {
    id: 'bongo-low',
    name: 'Bongo low',
    color: '#ffd43b',
    level: 0.4,
    length: 0.2 + ROOM_TAIL,
    layers: LAYERS,
    priority: 3,
    voice: handDrum(390, 0.18, 0.35),
  },
  {
    id: 'bongo-high',
    name: 'Bongo high',
    color: '#f59f00',
    level: 0.39,
    length: 0.16 + ROOM_TAIL,
    layers: LAYERS,
    priority: 4,
    voice: handDrum(560, 0.13, 0.35),
  },
  {
    id: 'timbale-low',
    name: 'Timbale low',
    color: '#fff08a',
    level: 0.42,
    length: 0.6 + ROOM_TAIL,
    layers: LAYERS,
    voice: timbale(290),
  },
  {
    id: 'timbale-high',
    name: 'Timbale high',
    color: '#d4e157',
    level: 0.39,
    length: 0.6 + ROOM_TAIL,
    layers: LAYERS,
    voice: timbale(420),
  },
  {
    id: 'cascara',
    name: 'Cascara',
    color: '#845ef7',
    level: 0.44,
    length: 0.08,
    layers: LAYERS,
    voice: (hit) => {
      // A stick on the timbale's metal shell: a dry, pitched click.
      partials(hit, {
        frequency: 1870,
        partials: [
          [1, 0.5, 0.045],
          [1.71, 0.3, 0.03],
          [2.93, byVelocity(hit.velocity, 0.05, 0.2), 0.02],
        ],
      });
      palm(hit, 3200, 0.7, 0.01);
    },
  },
  {
    id: 'agogo-low',
    name: 'Agogo low',
    color: '#7048e8',
    level: 0.38,
    length: 0.62,
    layers: LAYERS,
    voice: bell(720, 0.6),
  },
  {
    id: 'agogo-high',
    name: 'Agogo high',
    color: '#5c7cfa',
    level: 0.38,
    length: 0.52,
    layers: LAYERS,
    voice: bell(960, 0.5),
  },
  {
    id: 'cowbell',
    name: 'Cowbell',
    color: '#4dabf7',
    level: 0.4,
    length: 0.42,
    layers: LAYERS,
    priority: 5,
    voice: (hit) => {
      // The mambo bell: a square pair through a resonant band, a snap and a short ring.
      shaped(hit, {
        source: squares(hit, [587, 845], 0.5),
        filter: { type: 'bandpass', frequency: 1000, Q: 1.8, soften: 0.5 },
        envelopes: [
          { attack: 0.0008, decay: 0.04, hits: [[0, 1]] },
          { attack: 0.0008, decay: 0.38, hits: [[0, 0.45]] },
        ],
      });
    },
  },
  {
    id: 'claves',
    name: 'Claves',
    color: '#20c997',
    level: 0.5,
    length: 0.1,
    layers: LAYERS,
    priority: 6,
    voice: (hit) =>
      partials(hit, {
        frequency: 2480,
        partials: [
          [1, 0.6, 0.085],
          [2.71, byVelocity(hit.velocity, 0.02, 0.1), 0.03],
        ],
        bend: 0.3,
        bendTime: 0.004,
      }),
  },
  {
    id: 'shaker',
    name: 'Shaker',
    color: '#51cf66',
    level: 0.375,
    length: 0.14,
    layers: LAYERS,
    priority: 7,
    voice: (hit) =>
      shaped(hit, {
        source: noise(hit),
        filter: { type: 'bandpass', frequency: 6500, Q: 1.2, soften: 0.6 },
        envelopes: [{ attack: byVelocity(hit.velocity, 0.02, 0.01), decay: 0.08, hits: [[0, 1]] }],
      }),
  },
  {
    id: 'cabasa',
    name: 'Cabasa',
    color: '#3bc9db',
    level: 0.38,
    length: 0.16,
    layers: LAYERS,
    voice: (hit) =>
      // Beads rolled over the ridged metal: a quick run of bursts.
      shaped(hit, {
        source: noise(hit),
        filter: { type: 'bandpass', frequency: 7000, Q: 0.8, soften: 1.2 },
        envelopes: [
          {
            attack: 0.002,
            decay: 0.03,
            hits: [
              [0, 0.7],
              [0.012, 1],
              [0.026, 0.8],
              [0.042, 0.55],
              [0.06, 0.3],
            ],
          },
        ],
      }),
  },
  {
    id: 'guiro',
    name: 'Guiro',
    color: '#94d82d',
    level: 1.03,
    length: 0.32,
    layers: LAYERS,
    voice: scrape(14, 0.014, 2600),
  },
];

export const PERCUSSION_KIT: KitDesign = {
  id: 'percussion',
  version: 1,
  name: 'Percussion',
  pads: padsOf(PADS),
};

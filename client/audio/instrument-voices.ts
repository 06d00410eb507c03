/**
 * The melodic instruments' sounds: Tone.js synths, one note per pad, designed to be rendered
 * offline into buffers like a drum kit (a KitDesign: render-kit.ts renders and caches it), so the
 * DAW plays a note exactly as it plays a drum hit. One-shot: each note is struck and decays by
 * itself, as a plucked bass, an electric piano or a harp does.
 *
 * Velocity shapes the timbre (the render keeps two layers; the sampler sets the level): a harder
 * hit opens the bass's filter further, brightens the keys' FM and the pluck's attack.
 */
import { type BaseContext, FMSynth, Gain, type InputNode, MonoSynth, PluckSynth } from 'tone';
import { INSTRUMENTS, type MelodicId, type Part, partNotes } from './instruments.ts';
import type { KitDesign, KitPadDesign } from './kits/design.ts';
import { noteHz, noteName } from './scales.ts';

/** Bumped when a design changes, so kits cached from the old one are rendered again. */
const DESIGN_VERSION = 1;
const LAYERS = [0.55, 1] as const;

type Strike = (context: BaseContext, out: InputNode, time: number, velocity: number, hz: number) => void;

const designs: Record<MelodicId, { length: number; level: number; strike: Strike }> = {
  // A round picked bass: saw through a resonant low-pass whose envelope falls with the note.
  bass: {
    length: 1.6,
    level: 0.55,
    strike: (context, out, time, velocity, hz) => {
      const synth = new MonoSynth({
        context,
        oscillator: { type: 'sawtooth' },
        filter: { type: 'lowpass', Q: 2.5, rolloff: -24 },
        envelope: { attack: 0.003, decay: 1.2, sustain: 0, release: 0.1 },
        filterEnvelope: {
          attack: 0.002,
          decay: 0.25,
          sustain: 0.15,
          release: 0.1,
          baseFrequency: 70,
          octaves: 2 + 2.5 * velocity,
        },
      });
      synth.connect(out);
      synth.triggerAttack(hz, time, 1);
    },
  },
  // An electric piano: a sine carrier and a bell-like modulator whose index decays quickly.
  keys: {
    length: 2.4,
    level: 0.5,
    strike: (context, out, time, velocity, hz) => {
      const synth = new FMSynth({
        context,
        harmonicity: 3.01,
        modulationIndex: 4 + 10 * velocity,
        oscillator: { type: 'sine' },
        modulation: { type: 'sine' },
        envelope: { attack: 0.002, decay: 2.2, sustain: 0, release: 0.2 },
        modulationEnvelope: { attack: 0.002, decay: 0.35, sustain: 0.1, release: 0.2 },
      });
      synth.connect(out);
      synth.triggerAttack(hz, time, 1);
    },
  },
  // A plucked string (Karplus-Strong): brighter with a harder hit.
  pluck: {
    length: 2,
    level: 0.7,
    strike: (context, out, time, velocity, hz) => {
      const synth = new PluckSynth({
        context,
        attackNoise: 0.6 + 1.4 * velocity,
        dampening: 2500 + 4500 * velocity,
        resonance: 0.96,
      });
      const level = new Gain({ context, gain: 1 });
      synth.connect(level);
      level.connect(out);
      synth.triggerAttack(hz, time);
    },
  },
};

/** A melodic part as a kit: 16 pads, each one note of the part's key and scale. */
export function melodicKit(part: Part & { instrument: MelodicId }): KitDesign {
  const design = designs[part.instrument];
  const notes = partNotes(part);
  const pads: KitPadDesign[] = notes.map((note) => ({
    id: `note-${note}`,
    name: noteName(note),
    color: INSTRUMENTS[part.instrument].color,
    layers: LAYERS,
    length: design.length,
    play(context, out, time, velocity) {
      // Full level at every layer: the sampler scales each hit by its velocity.
      const level = new Gain({ context, gain: design.level });
      level.connect(out);
      design.strike(context, level, time, velocity, noteHz(note));
    },
  }));
  return {
    id: `${part.instrument}-${part.key}-${part.scale}-${part.octave}`,
    version: DESIGN_VERSION,
    name: `${INSTRUMENTS[part.instrument].name} (${notes.length} notes)`,
    pads,
  };
}

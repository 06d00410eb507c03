/**
 * A take as a Standard MIDI File (format 1) through @tonejs/midi: one track per player (per
 * player and instrument, if they changed instrument mid-take), named by the player's name; drums
 * on channel 10 as GM drum notes, melodic parts on channels of their own with a GM program. The
 * tempo map and time signature are the jam's beat (grid.ts); without a beat, 120 bpm. Pure.
 */
import * as tonejsMidi from '@tonejs/midi';
import { DRUM_CHANNEL } from './gm-notes.ts';
import { beatsAt, type Grid, quantiseBeats } from './grid.ts';
import type { HitChunk, TakePlayer, TakeSound } from './take.ts';

// The browser build gets @tonejs/midi's ES module (named exports); Node (unit tests) its UMD build, under `default`.
const { Midi } = 'Midi' in tonejsMidi ? tonejsMidi : (tonejsMidi as unknown as { default: typeof tonejsMidi }).default;
type MidiTrack = ReturnType<InstanceType<typeof Midi>['addTrack']>;

/**
 * Ticks per quarter note: 960 (as Logic and Ableton write) keeps a tick ≤ 2.1 ms even at the
 * slowest tempo (30 bpm), so a note lands within ~1 ms of its tap; @tonejs/midi's own 480 would not.
 */
export const PPQ = 960;
/** Quantise to sixteenth notes (a quarter of a beat). */
export const QUANTISE_DIVISION = 4;
/** A drum hit is a sixteenth note long; a melodic note an eighth (pads are one-shot: a tap is a pluck). */
const DRUM_TICKS = PPQ / 4;
const NOTE_TICKS = PPQ / 2;

export interface MidiTake {
  name: string;
  players: readonly TakePlayer[];
  sounds: readonly TakeSound[];
  hits: HitChunk;
  grid: Grid;
}

/** An empty format-1 file (one empty track) whose header says PPQ: @tonejs/midi takes its tick rate only from a parsed file. */
function emptyFile(ppq: number): Uint8Array {
  const header = [0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, 0, 1, 0, 1, ppq >> 8, ppq & 0xff];
  const endOfTrack = [0x4d, 0x54, 0x72, 0x6b, 0, 0, 0, 4, 0, 0xff, 0x2f, 0];
  return new Uint8Array([...header, ...endOfTrack]);
}

export function buildMidi(take: MidiTake, options: { quantise?: boolean } = {}): Uint8Array {
  const { grid, hits, players, sounds } = take;
  const quantise = options.quantise === true && grid.beat;
  const midi = new Midi(emptyFile(PPQ));
  midi.header.name = take.name;
  for (const segment of grid.segments) {
    midi.header.tempos.push({ ticks: Math.round(segment.fromBeat * PPQ), bpm: segment.bpm });
  }
  midi.header.timeSignatures.push({ ticks: 0, timeSignature: [grid.beatsPerBar, 4] });
  midi.header.update();

  // Tracks in order of player, then of the first hit of each of their instruments.
  const trackKey = (player: number, sound: TakeSound) => `${player}/${sound.drums ? 'drums' : sound.label}`;
  const keys = new Map<string, { player: number; sound: TakeSound }>();
  for (let i = 0; i < hits.tapAt.length; i++) {
    const player = hits.player[i] as number;
    const sound = sounds[hits.sound[i] as number];
    if (sound && !keys.has(trackKey(player, sound))) keys.set(trackKey(player, sound), { player, sound });
  }
  const ordered = [...keys.entries()].sort(([, a], [, b]) => a.player - b.player);
  const tracksOf = new Map<number, number>();
  for (const [, { player }] of ordered) tracksOf.set(player, (tracksOf.get(player) ?? 0) + 1);
  const tracks = new Map<string, MidiTrack>();
  let nextChannel = 0;
  for (const [key, { player, sound }] of ordered) {
    const track = midi.addTrack();
    const name = players[player]?.name ?? `Player ${player}`;
    track.name = (tracksOf.get(player) ?? 0) > 1 ? `${name} (${sound.label})` : name;
    if (sound.drums) {
      track.channel = DRUM_CHANNEL;
    } else {
      if (nextChannel === DRUM_CHANNEL) nextChannel++;
      track.channel = nextChannel % 16;
      nextChannel++;
      track.instrument.number = sound.program;
    }
    tracks.set(key, track);
  }

  for (let i = 0; i < hits.tapAt.length; i++) {
    const sound = sounds[hits.sound[i] as number];
    if (!sound) continue;
    const track = tracks.get(trackKey(hits.player[i] as number, sound));
    let beats = beatsAt(grid, hits.tapAt[i] as number);
    if (quantise) beats = quantiseBeats(beats, QUANTISE_DIVISION);
    track?.addNote({
      midi: sound.notes[hits.pad[i] as number] ?? 0,
      ticks: Math.max(0, Math.round(beats * PPQ)),
      durationTicks: sound.drums ? DRUM_TICKS : NOTE_TICKS,
      velocity: (hits.velocity[i] as number) / 127,
    });
  }
  return midi.toArray();
}

/**
 * The recording's pure parts: the GM note map, the take's hit arrays, the beat grid and
 * quantising, the MIDI file (written with @tonejs/midi and read back with it), and the WAV
 * encoder (read back here byte by byte). The browser parts (the output tap, IndexedDB, the
 * downloads) are tested end to end in tests/e2e/recording.test.ts.
 */
import * as tonejsMidi from '@tonejs/midi';
import { describe, expect, it } from 'vitest';
import type { Part } from '../../client/audio/instruments.ts';
import { BUILT_IN_KITS } from '../../client/audio/kits/index.ts';
import { drumNotesFor } from '../../client/midi/note-map.ts';
import type { Tempo } from '../../client/net/hits.ts';
import { DRUM_CHANNEL, KIT_PAD_IDS, noteFor } from '../../client/recording/gm-notes.ts';
import { beatsAt, gridFor, msAtBeats, quantiseBeats, type TempoChange } from '../../client/recording/grid.ts';
import { buildMidi, PPQ } from '../../client/recording/midi-file.ts';
import { type HitChunk, joinChunks, Take, takeSound } from '../../client/recording/take.ts';
import { interleave, toInt16, WAV_HEADER_BYTES, wavHeader } from '../../client/recording/wav.ts';
import { withBpm, withRunning } from '../../client/state/tempo-changes.ts';

const { Midi } = (tonejsMidi as unknown as { default: typeof tonejsMidi }).default;

const DRUMS: Part = { instrument: 'drums', octave: 3, key: 0, scale: 'minor-pentatonic' };
const BASS: Part = { instrument: 'bass', octave: 1, key: 0, scale: 'minor-pentatonic' };
const T0 = 1_796_000_000_000;
const tempo = (over: Partial<Tempo> = {}): Tempo => ({
  version: 1,
  bpm: 120,
  beatsPerBar: 4,
  running: true,
  anchor: T0,
  ...over,
});

describe('noteFor (GM notes)', () => {
  it('knows every built-in kit’s pads, in the designs’ order', () => {
    for (const kit of BUILT_IN_KITS) expect(KIT_PAD_IDS[kit.id]).toEqual(kit.pads.map((pad) => pad.id));
  });

  it('gives drums their GM notes, per kit, and melodic parts their notes', () => {
    expect(Array.from({ length: 4 }, (_, pad) => noteFor(DRUMS, pad))).toEqual([36, 38, 39, 37]);
    expect(noteFor(DRUMS, 4, 'acoustic')).toBe(42); // closed hat
    expect(noteFor(DRUMS, 6, 'acoustic')).toBe(44); // pedal hat
    expect(noteFor(DRUMS, 5, 'percussion')).toBe(60); // high bongo
    // An unknown kit (a user kit): each pad keeps its place's role.
    expect(noteFor(DRUMS, 0, 'my-kit')).toBe(36);
    // Bass from C1: the bottom-left pad is C1 (24).
    expect(noteFor(BASS, 12)).toBe(24);
    expect(noteFor(BASS, 3)).toBe(60); // 15 steps of a 5-note scale up: three octaves
    expect(DRUM_CHANNEL).toBe(9);
    // The same notes MIDI out sends for the kit, so a recording and a live take agree.
    for (const kit of BUILT_IN_KITS) {
      const padIds = kit.pads.map((pad) => pad.id);
      expect(Array.from({ length: 16 }, (_, pad) => noteFor(DRUMS, pad, kit.id))).toEqual(drumNotesFor(padIds));
    }
    for (const kit of BUILT_IN_KITS) {
      for (let pad = 0; pad < 16; pad++) {
        const note = noteFor(DRUMS, pad, kit.id);
        expect(note).toBeGreaterThanOrEqual(35); // GM percussion: 35–81
        expect(note).toBeLessThanOrEqual(81);
      }
    }
  });
});

describe('Take', () => {
  it('keeps each hit’s player, sound, pad, velocity and tap time; drains what is new', () => {
    const take = new Take(T0, takeSound(DRUMS, 'electronic'), 4);
    take.name('ana', 'Ana');
    take.hit('ana', 0, 100, T0 + 10.25);
    take.hit(null, 1, 110, T0 + 20.5);
    take.sound('ana', takeSound(BASS, 'electronic'));
    take.hit('ana', 12, 90, T0 + 30.75);
    take.hit('ana', 12, 90, T0 - 1); // tapped before Record: not part of it
    take.hit('ana', 12, 90, Number.NaN);
    const first = take.drain();
    expect(Array.from(first.player)).toEqual([1, 0, 1]);
    expect(Array.from(first.sound)).toEqual([0, 0, 1]);
    expect(Array.from(first.pad)).toEqual([0, 1, 12]);
    expect(Array.from(first.velocity)).toEqual([100, 110, 90]);
    expect(Array.from(first.tapAt)).toEqual([T0 + 10.25, T0 + 20.5, T0 + 30.75]);
    expect(take.players).toEqual([
      { peerId: null, name: 'This computer' },
      { peerId: 'ana', name: 'Ana' },
    ]);
    take.hit('ben', 3, 1, T0 + 40); // unnamed so far: its peerId
    take.hit('ben', 3, 1, T0 + 41); // full
    expect(take.overflow).toBe(1);
    const second = take.drain();
    expect(Array.from(second.player)).toEqual([2]);
    expect(take.players[2]).toEqual({ peerId: 'ben', name: 'ben' });
    expect(take.drain().tapAt.length).toBe(0);
    expect(Array.from(joinChunks([first, second]).tapAt)).toEqual(Array.from(take.all().tapAt));
  });

  it('a new kit changes the sound of everyone on drums, not of a melodic player', () => {
    const take = new Take(T0, takeSound(DRUMS, 'electronic'));
    take.sound('ben', takeSound(BASS, 'electronic'));
    take.sound(undefined, takeSound(DRUMS, 'acoustic'));
    take.hit('ana', 6, 100, T0 + 1);
    take.hit('ben', 12, 100, T0 + 2);
    const hits = take.drain();
    expect(take.sounds[hits.sound[0] as number]?.notes[6]).toBe(44);
    expect(take.sounds[hits.sound[1] as number]?.notes[12]).toBe(24);
  });
});

describe('the beat grid', () => {
  it('without a beat: time 0 is the start, 120 bpm, no grid to quantise to', () => {
    const grid = gridFor(T0 + 123, [{ at: T0, tempo: tempo({ running: false }) }]);
    expect(grid).toMatchObject({ origin: T0 + 123, beat: false });
    expect(beatsAt(grid, T0 + 123 + 500)).toBeCloseTo(1, 12);
  });

  it('with the beat: time 0 is the bar line before the start, on the metronome’s beats', () => {
    // 120 bpm from T0: bars of 2 s. Recording starts 5.3 s in: the bar from 4 s.
    const grid = gridFor(T0 + 5_300, [{ at: T0 + 5_300, tempo: tempo() }]);
    expect(grid).toMatchObject({ origin: T0 + 4_000, beat: true, beatsPerBar: 4 });
    expect(beatsAt(grid, T0 + 5_300)).toBeCloseTo(2.6, 12);
    expect(msAtBeats(grid, 2.6)).toBeCloseTo(T0 + 5_300, 6);
    // Started before the anchor (the beat started later): the bar counts back from it.
    expect(gridFor(T0 - 100, [{ at: T0 - 100, tempo: tempo() }]).origin).toBe(T0 - 2_000);
  });

  it('follows a tempo change made mid-take, keeping the phase; a restarted beat is not followed', () => {
    const start = tempo();
    const changeAt = T0 + 3_250; // mid-beat: beat 6.5
    const faster = withBpm(start, 150, changeAt);
    const changes: TempoChange[] = [
      { at: T0 + 1_000, tempo: start },
      { at: changeAt + 2, tempo: faster }, // seen a moment after it was made
      { at: T0 + 9_000, tempo: withRunning(faster, true, T0 + 9_000) }, // a new phase: ignored
    ];
    const grid = gridFor(T0 + 1_000, changes);
    expect(grid.origin).toBe(T0);
    expect(grid.segments.map(({ fromBeat, bpm }) => [fromBeat, bpm])).toEqual([
      [0, 120],
      [6.5, 150],
    ]);
    expect(grid.segments[1]?.fromMs).toBeCloseTo(changeAt, 6);
    expect(beatsAt(grid, changeAt + 400)).toBeCloseTo(7.5, 9); // a beat is 400 ms at 150
    expect(msAtBeats(grid, 7.5)).toBeCloseTo(changeAt + 400, 6);
  });

  it('quantises to the nearest sixteenth', () => {
    expect(quantiseBeats(2.6, 4)).toBe(2.5);
    expect(quantiseBeats(2.63, 4)).toBe(2.75);
    expect(quantiseBeats(-0.1, 4)).toBe(0);
  });
});

const chunk = (rows: [player: number, sound: number, pad: number, velocity: number, tapAt: number][]): HitChunk => ({
  player: Uint16Array.from(rows.map((r) => r[0])),
  sound: Uint16Array.from(rows.map((r) => r[1])),
  pad: Uint8Array.from(rows.map((r) => r[2])),
  velocity: Uint8Array.from(rows.map((r) => r[3])),
  tapAt: Float64Array.from(rows.map((r) => r[4])),
});

describe('buildMidi', () => {
  const players = [
    { peerId: null, name: 'This computer' },
    { peerId: 'ana', name: 'Ana' },
    { peerId: 'ben', name: 'Ben' },
  ];
  const sounds = [
    takeSound(DRUMS, 'electronic'),
    takeSound(BASS, 'electronic'),
    takeSound({ ...BASS, instrument: 'keys', octave: 3 }, 'electronic'),
  ];

  it('writes a track per player (and instrument), named, on GM channels, notes at their times and velocities', () => {
    const grid = gridFor(T0 + 100, [{ at: T0 + 100, tempo: tempo({ bpm: 90, beatsPerBar: 3 }) }]);
    const hits = chunk([
      [1, 0, 0, 100, T0 + 100.4],
      [2, 1, 12, 64, T0 + 333.3],
      [1, 0, 1, 127, T0 + 1_000.9],
      [0, 0, 2, 110, T0 + 1_500],
      [2, 2, 12, 1, T0 + 2_000],
    ]);
    const midi = new Midi(buildMidi({ name: 'jam', players, sounds, hits, grid }));
    expect(midi.header.ppq).toBe(PPQ);
    expect(midi.header.name).toBe('jam');
    // MIDI keeps a tempo as whole µs per beat: 90 bpm reads back as 90.00009.
    expect(midi.header.tempos.map(({ bpm, ticks }) => [Number(bpm.toFixed(3)), ticks])).toEqual([[90, 0]]);
    expect(midi.header.timeSignatures[0]?.timeSignature).toEqual([3, 4]);
    const summary = midi.tracks.map((track) => ({
      name: track.name,
      channel: track.channel,
      program: track.instrument.number,
      notes: track.notes.map((note) => [note.midi, Math.round(note.velocity * 127)]),
    }));
    expect(summary).toEqual([
      { name: 'This computer', channel: 9, program: 0, notes: [[39, 110]] },
      {
        name: 'Ana',
        channel: 9,
        program: 0,
        notes: [
          [36, 100],
          [38, 127],
        ],
      },
      { name: 'Ben (Bass)', channel: 0, program: 33, notes: [[24, 64]] },
      { name: 'Ben (Keys)', channel: 1, program: 4, notes: [[48, 1]] },
    ]);
    // Times from the bar line (T0 here), to within half a tick (at 90 bpm: 0.35 ms).
    const times = midi.tracks.flatMap((track) => track.notes.map((note) => note.time * 1000));
    const expected = [1_500, 100.4, 1_000.9, 333.3, 2_000];
    times.forEach((time, i) => {
      expect(Math.abs(time - (expected[i] as number))).toBeLessThanOrEqual(60_000 / 90 / PPQ / 2);
    });
  });

  it('quantises to sixteenths only when asked and the beat ran; melodic channels skip channel 10', () => {
    const grid = gridFor(T0, [{ at: T0, tempo: tempo() }]);
    const hits = chunk([[1, 0, 0, 100, T0 + 130]]); // 0.26 beats: nearest sixteenth 0.25
    const plain = new Midi(buildMidi({ name: '', players, sounds, hits, grid }));
    expect(plain.tracks[0]?.notes[0]?.ticks).toBe(Math.round(0.26 * PPQ));
    const snapped = new Midi(buildMidi({ name: '', players, sounds, hits, grid }, { quantise: true }));
    expect(snapped.tracks[0]?.notes[0]?.ticks).toBe(PPQ / 4);
    const free = new Midi(buildMidi({ name: '', players, sounds, hits, grid: gridFor(T0, []) }, { quantise: true }));
    expect(free.tracks[0]?.notes[0]?.ticks).toBe(Math.round(0.26 * PPQ));

    const many = Array.from({ length: 12 }, (_, p) => ({ peerId: `p${p}`, name: `P${p}` }));
    const melodic = chunk(many.map((_, p) => [p, 1, 0, 100, T0 + p] as [number, number, number, number, number]));
    const channels = new Midi(buildMidi({ name: '', players: many, sounds, hits: melodic, grid })).tracks.map(
      (track) => track.channel,
    );
    expect(channels).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12]);
  });
});

describe('WAV', () => {
  it('writes a 16-bit PCM header a reader takes', () => {
    const header = Buffer.from(wavHeader(48_000, 2, 48_000));
    expect(header.length).toBe(WAV_HEADER_BYTES);
    expect(header.toString('ascii', 0, 4)).toBe('RIFF');
    expect(header.readUInt32LE(4)).toBe(36 + 48_000 * 4);
    expect(header.toString('ascii', 8, 16)).toBe('WAVEfmt ');
    expect(header.readUInt32LE(16)).toBe(16);
    expect(header.readUInt16LE(20)).toBe(1); // PCM
    expect(header.readUInt16LE(22)).toBe(2);
    expect(header.readUInt32LE(24)).toBe(48_000);
    expect(header.readUInt32LE(28)).toBe(48_000 * 4);
    expect(header.readUInt16LE(32)).toBe(4);
    expect(header.readUInt16LE(34)).toBe(16);
    expect(header.toString('ascii', 36, 40)).toBe('data');
    expect(header.readUInt32LE(40)).toBe(48_000 * 4);
    expect(() => wavHeader(2 ** 30, 2, 48_000)).toThrow(RangeError);
  });

  it('turns samples into 16-bit integers: full scale, clipped beyond, NaN silent', () => {
    expect([0, 1, -1, 0.5, -0.5, 2, -2, Number.NaN].map(toInt16)).toEqual([
      0, 32767, -32768, 16384, -16384, 32767, -32768, 0,
    ]);
  });

  it('interleaves stereo, copies mono to both sides, and writes silence for no input', () => {
    const out = new Int16Array(8);
    interleave([Float32Array.of(1, 0.5), Float32Array.of(-1, -0.5)], 0, 2, out, 0, 2);
    interleave([Float32Array.of(0, 0.25)], 1, 1, out, 2, 2);
    interleave([], 0, 1, out, 3, 2);
    expect(Array.from(out)).toEqual([32767, -32768, 16384, -16384, 8192, 8192, 0, 0]);
  });
});

import { describe, expect, it } from 'vitest';
import { DEFAULT_BAND, melodicPads, partKey, partOf } from '../../client/audio/instruments.ts';
import {
  degreeOfPad,
  noteHz,
  noteName,
  padNotes,
  rootNote,
  SCALE_IDS,
  SCALES,
  scaleNotes,
} from '../../client/audio/scales.ts';

describe('scales', () => {
  it('puts C4 at MIDI 60 and A4 at 440 Hz', () => {
    expect(rootNote(0, 4)).toBe(60);
    expect(noteHz(69)).toBe(440);
    expect(noteName(60)).toBe('C4');
    expect(noteName(70)).toBe('B♭4');
    expect(noteName(66)).toBe('F♯4');
    expect(noteName(21)).toBe('A0');
  });

  it('walks a scale up through the octaves from its key', () => {
    expect(scaleNotes(0, 'major', 3, 9)).toEqual([48, 50, 52, 53, 55, 57, 59, 60, 62]);
    expect(scaleNotes(9, 'minor-pentatonic', 2, 7)).toEqual([45, 48, 50, 52, 55, 57, 60]);
    expect(scaleNotes(0, 'chromatic', 4, 13)).toEqual(Array.from({ length: 13 }, (_, i) => 60 + i));
  });

  it('lays notes out lowest at the bottom left, rising to the right and then upwards', () => {
    // Pads are numbered row by row from the top left (kit.ts): pad 12 is bottom left.
    expect(degreeOfPad(12)).toBe(0);
    expect(degreeOfPad(15)).toBe(3);
    expect(degreeOfPad(8)).toBe(4);
    expect(degreeOfPad(0)).toBe(12);
    expect(degreeOfPad(3)).toBe(15);
    const notes = padNotes(0, 'major', 3);
    expect(notes[12]).toBe(48); // C3
    expect(notes[3]).toBe(Math.max(...notes));
    expect(new Set(notes).size).toBe(16);
  });

  it('has only scales whose steps rise within an octave from 0', () => {
    for (const id of SCALE_IDS) {
      const steps: readonly number[] = SCALES[id].steps;
      expect(steps[0]).toBe(0);
      for (let i = 1; i < steps.length; i++) expect(steps[i]).toBeGreaterThan(steps[i - 1] ?? 0);
      expect(steps.at(-1)).toBeLessThan(12);
    }
  });
});

describe('parts', () => {
  it('plays the drums for anyone the band does not name', () => {
    expect(partOf(undefined, 'p1').instrument).toBe('drums');
    expect(partOf(DEFAULT_BAND, 'p1').instrument).toBe('drums');
    expect(partOf(DEFAULT_BAND, null).instrument).toBe('drums');
  });

  it('reads what a newer page may have written as what this page knows', () => {
    const band = {
      key: 2,
      scale: 'lydian-dominant',
      players: { p1: { instrument: 'theremin', octave: 3, pads: [] }, p2: { instrument: 'bass', octave: 9, pads: [] } },
    };
    expect(partOf(band, 'p1')).toMatchObject({ instrument: 'drums', key: 2, scale: DEFAULT_BAND.scale });
    expect(partOf(band, 'p2')).toMatchObject({ instrument: 'bass', octave: 6 });
  });

  it('names the notes and marks the key’s own', () => {
    const part = partOf({ key: 9, scale: 'minor', players: { p1: { instrument: 'keys', octave: 3, pads: [] } } }, 'p1');
    const pads = melodicPads(part);
    expect(pads[12]?.name).toBe('A3');
    expect(pads[15]?.name).toBe('D4');
    const roots = pads.filter((pad) => /^A\d$/.test(pad.name));
    expect(roots.length).toBeGreaterThanOrEqual(2);
    for (const root of roots) expect(root.color).toBe('#f8f9fa');
    expect(pads[13]?.color).not.toBe('#f8f9fa');
  });

  it('gives equal parts one key, so players on the same part share its sounds', () => {
    const band = {
      key: 0,
      scale: 'major',
      players: { a: { instrument: 'bass', octave: 1, pads: [] }, b: { instrument: 'bass', octave: 1, pads: [] } },
    };
    expect(partKey(partOf(band, 'a'))).toBe(partKey(partOf(band, 'b')));
    expect(partKey(partOf(band, 'c'))).toBe('drums');
  });
});

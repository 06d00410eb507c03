import { describe, expect, it } from 'vitest';
import { PENDING_CAPACITY, POLYPHONY, QUANTUM, SamplerCore, VOICES } from '../../client/audio/sampler/sampler-core.ts';
import { DEFAULT_SLOT_SETTINGS, FADE_S, type SoundLayers, velocityGain } from '../../client/audio/sound.ts';

const RATE = 48_000;
const FADE = FADE_S * RATE; // 960 frames

/** A mono sound of `length` frames, each `value` (or value(i)). */
const sound = (length: number, value: number | ((i: number) => number), sampleRate = RATE): SoundLayers => ({
  layers: [
    {
      velocity: 1,
      sound: {
        channels: [Float32Array.from({ length }, (_, i) => (typeof value === 'number' ? value : value(i)))],
        sampleRate,
      },
    },
  ],
});

/** Renders `frames` (a multiple of QUANTUM) from frame `from` (default 0); returns both channels. */
function render(core: SamplerCore, frames: number, from = 0): { left: Float32Array; right: Float32Array } {
  const left = new Float32Array(frames);
  const right = new Float32Array(frames);
  const l = new Float32Array(QUANTUM);
  const r = new Float32Array(QUANTUM);
  for (let q = 0; q < frames / QUANTUM; q++) {
    core.render(l, r, from + q * QUANTUM);
    left.set(l, q * QUANTUM);
    right.set(r, q * QUANTUM);
  }
  return { left, right };
}

const firstNonZero = (samples: Float32Array) => samples.findIndex((s) => s !== 0);
const seconds = (frame: number) => frame / RATE;

describe('SamplerCore', () => {
  it('starts a hit exactly at its frame, inside the quantum it falls in', () => {
    const core = new SamplerCore(RATE);
    core.setSound(0, sound(1000, 0.5));
    expect(core.hit(0, 1, seconds(300), 1)).toBe(true);
    const { left, right } = render(core, 1536);
    expect(firstNonZero(left)).toBe(300);
    expect(left[300]).toBeCloseTo(0.5, 6);
    expect(left[1299]).toBeCloseTo(0.5, 6);
    expect(left[1300]).toBe(0); // the sound is 1000 frames long
    expect(Array.from(right)).toEqual(Array.from(left)); // mono: both channels
    expect(core.late).toBe(0);
  });

  it('starts a hit played at once at the next quantum, and a hit whose frame has passed there too, counted late', () => {
    const core = new SamplerCore(RATE);
    core.setSound(0, sound(1000, 0.5));
    render(core, 512); // the clock is at frame 512
    core.hit(0, 1, -1, 1);
    expect(firstNonZero(render(core, 128, 512).left)).toBe(0);
    expect(core.late).toBe(0);
    const late = new SamplerCore(RATE);
    late.setSound(0, sound(1000, 0.5));
    render(late, 512);
    late.hit(0, 1, seconds(100), 1);
    expect(firstNonZero(render(late, 128, 512).left)).toBe(0);
    expect(late.late).toBe(1);
  });

  it('plays hits planned in any order each at its own frame', () => {
    const core = new SamplerCore(RATE);
    core.setSound(0, sound(10, 0.5));
    for (const frame of [900, 200, 650, 201]) core.hit(0, 1, seconds(frame), 1);
    const { left } = render(core, 1024);
    const onsets: number[] = [];
    for (let i = 0; i < left.length; i++) if (left[i] !== 0 && (i === 0 || left[i - 1] === 0)) onsets.push(i);
    expect(onsets).toEqual([200, 650, 900]); // 200 and 201 overlap: one run of sound from 200
    expect(left[205]).toBeCloseTo(1, 6); // both sound there
    expect(core.started).toBe(4);
  });

  it('scales a layer by the velocity gain (30 dB) and the slot volume, and picks the layer by velocity', () => {
    const core = new SamplerCore(RATE);
    const layer = (velocity: number, value: number) => ({
      velocity,
      sound: { channels: [new Float32Array(256).fill(value)], sampleRate: RATE },
    });
    core.setSound(3, { layers: [layer(1, 0.3), layer(0.4, 0.1), layer(0.75, 0.2)] }); // any order
    const level = (velocity: number) => {
      core.hit(3, velocity, -1, 1);
      return render(core, 512).left[10] as number;
    };
    expect(level(1)).toBeCloseTo(0.3, 6);
    expect(level(0.75)).toBeCloseTo(0.2 * velocityGain(0.75), 6);
    expect(level(0.5)).toBeCloseTo(0.2 * velocityGain(0.5), 6);
    expect(level(0.4)).toBeCloseTo(0.1 * velocityGain(0.4), 6);
    expect(level(0.1)).toBeCloseTo(0.1 * velocityGain(0.1), 6);
    expect(velocityGain(0)).toBeCloseTo(10 ** (-30 / 20), 9);
    core.setSettings(3, { ...DEFAULT_SLOT_SETTINGS, volumeDb: -6 });
    expect(level(1)).toBeCloseTo(0.3 * 10 ** (-6 / 20), 6);
    core.setSettings(3, { ...DEFAULT_SLOT_SETTINGS, volumeDb: 40 }); // brought to +12
    expect(level(1)).toBeCloseTo(0.3 * 10 ** (12 / 20), 5);
  });

  it('pitches by playback rate, interpolating, and plays a sound at its own sample rate', () => {
    const core = new SamplerCore(RATE);
    const ramp = (i: number) => i / 1000;
    core.setSound(0, sound(1000, ramp));
    core.setSettings(0, { ...DEFAULT_SLOT_SETTINGS, pitch: 12 }); // twice as fast
    core.hit(0, 1, -1, 1);
    const up = render(core, 512).left;
    expect(up[100]).toBeCloseTo(0.2, 6);
    expect(up[499]).toBeCloseTo(0.998, 6);
    expect(up[500]).toBe(0); // ended: half the length
    core.setSettings(0, { ...DEFAULT_SLOT_SETTINGS, pitch: -12 });
    core.hit(0, 1, -1, 1);
    const down = render(core, 512, 512).left;
    expect(down[101]).toBeCloseTo(0.0505, 6); // halfway between samples 50 and 51
    core.setSettings(0, DEFAULT_SLOT_SETTINGS);
    core.setSound(1, sound(1000, ramp, RATE / 2)); // a 24 kHz sound lasts twice as long here
    core.hit(1, 1, -1, 1);
    const slow = render(core, 2048, 1024).left;
    expect(slow[1997]).toBeCloseTo(0.9985, 6);
    expect(slow[2000]).toBe(0);
  });

  it('ends a voice at its slot’s decay with a 20 ms fade', () => {
    const core = new SamplerCore(RATE);
    core.setSound(0, sound(48_000, 0.5));
    core.setSettings(0, { ...DEFAULT_SLOT_SETTINGS, decay: 0.05 }); // 2400 frames
    core.hit(0, 1, seconds(128), 1);
    const { left } = render(core, 4096);
    expect(left[128 + 2399]).toBeCloseTo(0.5, 6);
    expect(left[128 + 2400 + FADE / 2]).toBeCloseTo(0.25, 3);
    expect(left[128 + 2400 + FADE]).toBe(0);
    expect(left.slice(128 + 2400 + FADE).every((s) => s === 0)).toBe(true);
  });

  it('fades every other voice of a choke group over 20 ms when a hit in it starts, whatever order they came in', () => {
    const core = new SamplerCore(RATE);
    const open = 5;
    const closed = 4;
    core.setSound(open, sound(48_000, 0.5));
    core.setSound(closed, sound(48_000, 0.25));
    core.setSound(6, sound(48_000, 0.125)); // in no group
    for (const slot of [open, closed]) core.setSettings(slot, { ...DEFAULT_SLOT_SETTINGS, chokeGroup: 1 });
    core.hit(closed, 1, seconds(2000), 2); // planned first, for later
    core.hit(open, 1, seconds(100), 1);
    core.hit(6, 1, seconds(100), 1);
    const { left } = render(core, 4096);
    expect(left[1999]).toBeCloseTo(0.5 + 0.125, 6);
    expect(left[2000 + FADE / 2]).toBeCloseTo(0.25 + 0.125 + 0.25, 3); // the open hat half faded
    expect(left[2000 + FADE + 10]).toBeCloseTo(0.25 + 0.125, 6); // gone; the closed hat and slot 6 ring on
  });

  it('takes a voice from the owner sounding the most, its oldest, when the pool is full, and reports it', () => {
    const core = new SamplerCore(RATE);
    core.setSound(0, sound(48_000, 0.001));
    core.setSound(1, sound(48_000, 0.5));
    core.hit(1, 1, seconds(0), 2); // the honest player's one long note
    for (let i = 0; i < POLYPHONY - 1; i++) core.hit(0, 1, seconds(1 + i), 1); // the greedy one fills the rest
    render(core, 256);
    expect(core.sounding).toBe(POLYPHONY);
    core.hit(1, 1, seconds(300), 2); // the honest player again
    const { left } = render(core, 2048, 256);
    expect(core.stolen).toBe(1);
    expect(left[FADE + 200]).toBeCloseTo(1 + 0.001 * (POLYPHONY - 2), 4); // both honest notes, the greedy one's oldest gone
    const reports: [number, number][] = [];
    core.takeGaveWay((owner, count) => reports.push([owner, count]));
    expect(reports).toEqual([[1, 1]]);
    core.takeGaveWay((owner, count) => reports.push([owner, count]));
    expect(reports).toHaveLength(1); // reported once
  });

  it('steals from the greedy owner also for its own hits, and never more voices than the pool has', () => {
    const core = new SamplerCore(RATE);
    core.setSound(0, sound(480_000, 0.001));
    let frame = 0;
    for (let i = 0; i < 1000; i++) {
      core.hit(0, 1, -1, i % 200 === 0 ? 2 : 1); // player 2 plays 5 notes among player 1's 995
      render(core, 128, frame);
      frame += 128;
      expect(core.sounding).toBeLessThanOrEqual(POLYPHONY);
    }
    expect(core.peakVoices).toBeLessThanOrEqual(VOICES);
    const reports = new Map<number, number>();
    core.takeGaveWay((owner, count) => reports.set(owner, count));
    expect(reports.get(1)).toBe(1000 - POLYPHONY);
    expect(reports.get(2)).toBeUndefined(); // never the top holder: never stolen from
    expect(core.stolen).toBe(1000 - POLYPHONY);
  });

  it('refuses a hit, and reports its owner, when too many wait for their frame', () => {
    const core = new SamplerCore(RATE);
    core.setSound(0, sound(10, 0.5));
    for (let i = 0; i < PENDING_CAPACITY; i++) expect(core.hit(0, 1, 10 + i / RATE, 1)).toBe(true);
    expect(core.hit(0, 1, 1, 7)).toBe(false);
    expect(core.refused).toBe(1);
    const reports: [number, number][] = [];
    core.takeGaveWay((owner, count) => reports.push([owner, count]));
    expect(reports).toEqual([[7, 1]]);
  });

  it('plays stereo sounds on both channels, and nothing for an empty slot or a bad hit', () => {
    const core = new SamplerCore(RATE);
    core.setSound(2, {
      layers: [
        {
          velocity: 1,
          sound: { channels: [new Float32Array(300).fill(0.5), new Float32Array(300).fill(-0.25)], sampleRate: RATE },
        },
      ],
    });
    core.hit(2, 1, -1, 1);
    core.hit(9, 1, -1, 1); // no sound
    expect(core.hit(200, 1, -1, 1)).toBe(false);
    expect(core.hit(2, 0, -1, 1)).toBe(false);
    expect(core.hit(2, Number.NaN, -1, 1)).toBe(false);
    expect(core.hit(1.5, 1, -1, 1)).toBe(false);
    const { left, right } = render(core, 384);
    expect(left[0]).toBeCloseTo(0.5, 6);
    expect(right[0]).toBeCloseTo(-0.25, 6);
    expect(core.silent).toBe(1);
    expect(core.started).toBe(1);
    core.setSound(2, null);
    core.hit(2, 1, -1, 1);
    expect(render(core, 128, 384).left.every((s) => s === 0)).toBe(true);
  });

  it('refuses a malformed sound with a message', () => {
    const core = new SamplerCore(RATE);
    expect(() => core.setSound(0, { layers: [] })).toThrow(/layer/);
    const bad = new Float32Array(3);
    expect(() =>
      core.setSound(0, {
        layers: [{ velocity: 1, sound: { channels: [bad, new Float32Array(4)], sampleRate: RATE } }],
      }),
    ).toThrow(/length/);
    expect(() => core.setSound(0, { layers: [{ velocity: 1, sound: { channels: [bad], sampleRate: 0 } }] })).toThrow(
      /sample rate/,
    );
    expect(() => core.setSound(128, null)).toThrow(/slot/);
  });
});

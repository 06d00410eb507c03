import { describe, expect, it } from 'vitest';
import {
  asSampleError,
  dbToGain,
  downmix,
  MAX_SOUND_SECONDS,
  NORMALISE_PEAK_DB,
  normalise,
  peakOf,
  prepareSound,
  SampleError,
  SampleErrorCode,
  soundStart,
  TRIM_PRE_ROLL_MS,
  TRIM_THRESHOLD_DB,
} from '../../client/audio/sample-import.ts';

const RATE = 48_000;
const PRE_ROLL = Math.round((TRIM_PRE_ROLL_MS / 1000) * RATE);
const THRESHOLD = dbToGain(TRIM_THRESHOLD_DB);

/** `silence` frames just under the threshold (noise floor), then a decaying 440 Hz tone. */
function sound(silence: number, length: number, amplitude = 0.5, floor = THRESHOLD * 0.9): Float32Array {
  const data = new Float32Array(silence + length);
  for (let i = 0; i < silence; i++) data[i] = i % 2 ? floor : -floor;
  for (let i = 0; i < length; i++) {
    data[silence + i] = amplitude * Math.exp(-i / RATE / 0.1) * Math.sin((2 * Math.PI * 440 * i) / RATE + 0.3);
  }
  return data;
}

function refusal(work: () => unknown): SampleError {
  try {
    work();
  } catch (error) {
    if (error instanceof SampleError) return error;
    throw error;
  }
  throw new Error('not refused');
}

describe('trimming leading silence', () => {
  it('starts the sound the pre-roll before the first sample at the threshold, on any channel', () => {
    const left = sound(10_000, 2_000);
    const right = sound(7_000, 5_000);
    expect(soundStart([left], RATE)).toBe(10_000 - PRE_ROLL);
    // The right channel's onset is earlier: it decides.
    expect(soundStart([left, right], RATE)).toBe(7_000 - PRE_ROLL);
  });

  it('keeps an onset closer to the start than the pre-roll from the first sample', () => {
    expect(soundStart([sound(10, 100)], RATE)).toBe(0);
  });

  it('counts a sample exactly at the threshold as the onset, and one just under as silence', () => {
    const data = new Float32Array(1_000);
    data[500] = -THRESHOLD;
    expect(soundStart([data], RATE)).toBe(500 - PRE_ROLL);
    data[500] = THRESHOLD * 0.999;
    expect(soundStart([data], RATE)).toBe(-1);
  });

  it('prepareSound cuts the silence and keeps the rest sample for sample', () => {
    const data = sound(24_000, 4_800);
    const out = prepareSound([data], RATE, { normalise: false });
    expect(out.sampleRate).toBe(RATE);
    expect(out.channels).toHaveLength(1);
    expect(out.channels[0]).toEqual(data.subarray(24_000 - PRE_ROLL));
    // The input is left as it was (a decoded buffer can be reused).
    expect(data[0]).toBeCloseTo(-THRESHOLD * 0.9, 9);
  });

  it('refuses a silent sound, and an empty one', () => {
    expect(refusal(() => prepareSound([new Float32Array(48_000)], RATE, { normalise: true })).code).toBe(
      SampleErrorCode.SOUND_SILENT,
    );
    expect(refusal(() => prepareSound([sound(4_800, 0)], RATE, { normalise: false })).code).toBe(
      SampleErrorCode.SOUND_SILENT,
    );
    expect(refusal(() => prepareSound([], RATE, { normalise: false })).code).toBe(SampleErrorCode.SOUND_SILENT);
    expect(refusal(() => prepareSound([new Float32Array(0)], RATE, { normalise: false })).code).toBe(
      SampleErrorCode.SOUND_SILENT,
    );
  });
});

describe('the length limit', () => {
  const rate = 8_000; // small arrays, same rule
  it('takes a sound exactly the limit long, and refuses one a sample longer, saying the limit', () => {
    const limit = MAX_SOUND_SECONDS * rate;
    const loud = (frames: number) => new Float32Array(frames).fill(0.5);
    expect(prepareSound([loud(limit)], rate, { normalise: false }).channels[0]).toHaveLength(limit);
    const error = refusal(() => prepareSound([loud(limit + 1)], rate, { normalise: false }));
    expect(error.code).toBe(SampleErrorCode.SOUND_TOO_LONG);
    expect(error.message).toContain(`${MAX_SOUND_SECONDS} s`);
  });

  it('counts the length after trimming: a long silence before a short sound is fine', () => {
    const frames = (MAX_SOUND_SECONDS + 5) * rate;
    const data = new Float32Array(frames);
    data.fill(0.5, frames - rate);
    expect(prepareSound([data], rate, { normalise: false }).channels[0]).toHaveLength(
      rate + Math.round((TRIM_PRE_ROLL_MS / 1000) * rate),
    );
  });
});

describe('normalising', () => {
  it('brings the peak (on any channel) to the target, keeping the channels’ balance', () => {
    const left = sound(0, 4_800, 0.1);
    const right = sound(0, 4_800, 0.25);
    const out = prepareSound([left, right], RATE, { normalise: true });
    const target = dbToGain(NORMALISE_PEAK_DB);
    expect(peakOf(out.channels)).toBeCloseTo(target, 6);
    expect(peakOf([out.channels[0] as Float32Array])).toBeCloseTo((target * peakOf([left])) / peakOf([right]), 6);
  });

  it('turns a sound that peaks over full scale down, and leaves it alone when not asked', () => {
    const hot = sound(0, 4_800, 1.8);
    expect(peakOf(prepareSound([hot], RATE, { normalise: true }).channels)).toBeCloseTo(dbToGain(-1), 6);
    expect(peakOf(prepareSound([hot], RATE, { normalise: false }).channels)).toBeCloseTo(peakOf([hot]), 9);
  });

  it('leaves silence silent (no division by zero)', () => {
    const channels = [new Float32Array(10)];
    normalise(channels);
    expect([...(channels[0] as Float32Array)]).toEqual(new Array(10).fill(0));
  });
});

describe('downmix', () => {
  const ramp = (offset: number) => Float32Array.from({ length: 8 }, (_, i) => (i + offset) / 100);

  it('keeps mono and stereo as they are', () => {
    const mono = [ramp(0)];
    const stereo = [ramp(0), ramp(1)];
    expect(downmix(mono)).toEqual(mono);
    expect(downmix(stereo)).toEqual(stereo);
    expect(prepareSound(stereo, RATE, { normalise: false }).channels).toHaveLength(2);
  });

  it('mixes quad as Web Audio does: L = ½(L + SL), R = ½(R + SR)', () => {
    const [left, right] = downmix([ramp(0), ramp(10), ramp(20), ramp(30)]);
    for (let i = 0; i < 8; i++) {
      expect(left?.[i]).toBeCloseTo(0.5 * ((i + 0) / 100 + (i + 20) / 100), 6);
      expect(right?.[i]).toBeCloseTo(0.5 * ((i + 10) / 100 + (i + 30) / 100), 6);
    }
  });

  it('mixes 5.1 as Web Audio does: centre and surrounds at −3 dB, LFE dropped', () => {
    const channels = [0.1, 0.2, 0.3, 0.9, 0.4, 0.5].map((value) => new Float32Array(4).fill(value));
    const [left, right] = downmix(channels);
    expect(left?.[0]).toBeCloseTo(0.1 + Math.SQRT1_2 * 0.3 + Math.SQRT1_2 * 0.4, 6);
    expect(right?.[3]).toBeCloseTo(0.2 + Math.SQRT1_2 * 0.3 + Math.SQRT1_2 * 0.5, 6);
  });

  it('averages any other count into left (even channels) and right (odd)', () => {
    const channels = [0.3, 0.6, 0.9].map((value) => new Float32Array(2).fill(value));
    const [left, right] = downmix(channels);
    expect(left?.[1]).toBeCloseTo((0.3 + 0.9) / 2, 6);
    expect(right?.[1]).toBeCloseTo(0.6, 6);
    const out = prepareSound(channels, RATE, { normalise: false });
    expect(out.channels).toHaveLength(2);
  });
});

describe('errors', () => {
  it('a full quota becomes STORAGE_FULL; anything else keeps its message under the fallback code', () => {
    expect(asSampleError(new DOMException('quota', 'QuotaExceededError')).code).toBe(SampleErrorCode.STORAGE_FULL);
    const other = asSampleError(new Error('disk on fire'));
    expect(other.code).toBe(SampleErrorCode.STORAGE_UNAVAILABLE);
    expect(other.message).toBe('disk on fire');
    const kept = new SampleError(SampleErrorCode.KIT_FULL, 'full');
    expect(asSampleError(kept)).toBe(kept);
  });
});

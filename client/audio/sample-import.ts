/**
 * A musician's own sample: an audio file dropped on (or picked for) a DAW pad becomes a
 * PadSound. The browser decodes it (whatever it can: WAV, MP3, OGG/Opus, FLAC, M4A) at the
 * engine's sample rate; then, in pure code: down to ≤ 2 channels, leading silence trimmed,
 * optionally normalised. Every limit on samples and kits lives here, and every refusal is a
 * SampleError with a code the page shows.
 */
import type { PadSound } from './sound.ts';

// ─── Limits (the only place they are set; the page states them) ─────────────────────────────
/** An audio file larger than this is refused before it is read (20 MiB: a 30 s stereo 96 kHz 24-bit WAV is 17 MB). */
export const MAX_SAMPLE_FILE_BYTES = 20 * 1024 * 1024;
/** A sound longer than this, after its leading silence is trimmed, is refused (a pad plays one-shots). */
export const MAX_SOUND_SECONDS = 30;
/** A kit keeps at most this much sample data (16-bit PCM, as stored): 48 MiB ≈ 8 min of stereo at 48 kHz. */
export const MAX_KIT_SAMPLE_BYTES = 48 * 1024 * 1024;
/** A kit file holds its samples and a little JSON: anything larger is refused before it is read. */
export const MAX_KIT_FILE_BYTES = MAX_KIT_SAMPLE_BYTES + 1024 * 1024;
/** The JSON part of a kit file (names, colours, settings, sound shapes) is far smaller than this. */
export const MAX_KIT_JSON_BYTES = 64 * 1024;
/** Stored sounds' sample rates (Hz): what a kit file may declare. */
export const MIN_SAMPLE_RATE = 8_000;
export const MAX_SAMPLE_RATE = 192_000;
/** Where a sound starts: the first sample at or above this level (dBFS) on any channel. */
export const TRIM_THRESHOLD_DB = -50;
/** Kept before that onset, so the attack's first rise is not cut (ms). */
export const TRIM_PRE_ROLL_MS = 2;
/** "Normalise" brings the sound's peak to this level (dBFS). */
export const NORMALISE_PEAK_DB = -1;
/** Names shown on pads (phones show them too) and kits. */
export const MAX_PAD_NAME_CHARS = 24;
export const MAX_KIT_NAME_CHARS = 40;

const MIB = 1024 * 1024;
/** The limits in words, for the page. */
export const LIMITS_TEXT =
  `Audio files up to ${MAX_SAMPLE_FILE_BYTES / MIB} MB, sounds up to ${MAX_SOUND_SECONDS} s ` +
  `(after leading silence is trimmed), ${MAX_KIT_SAMPLE_BYTES / MIB} MB of samples per kit.`;

// ─── Errors ───────────────────────────────────────────────────────────────────────────────
export const SampleErrorCode = {
  /** The audio file is over MAX_SAMPLE_FILE_BYTES. */
  FILE_TOO_LARGE: 'FILE_TOO_LARGE',
  /** The browser could not decode the file (not audio, a format it lacks, or damaged). */
  DECODE_FAILED: 'DECODE_FAILED',
  /** Longer than MAX_SOUND_SECONDS after trimming. */
  SOUND_TOO_LONG: 'SOUND_TOO_LONG',
  /** Nothing in it reaches TRIM_THRESHOLD_DB. */
  SOUND_SILENT: 'SOUND_SILENT',
  /** The kit would hold more than MAX_KIT_SAMPLE_BYTES. */
  KIT_FULL: 'KIT_FULL',
  /** The browser's storage quota is used up (QuotaExceededError). */
  STORAGE_FULL: 'STORAGE_FULL',
  /** This browser gives the page no IndexedDB (some private modes), or it failed. */
  STORAGE_UNAVAILABLE: 'STORAGE_UNAVAILABLE',
  /** A kit file over MAX_KIT_FILE_BYTES. */
  KIT_FILE_TOO_LARGE: 'KIT_FILE_TOO_LARGE',
  /** A kit file from a newer padmesh (or not a version this one reads). */
  KIT_FILE_VERSION: 'KIT_FILE_VERSION',
  /** Not a kit file, truncated, damaged, or with values out of range. */
  KIT_FILE_CORRUPT: 'KIT_FILE_CORRUPT',
  /** A name or setting typed on the page that is out of range. */
  INVALID_VALUE: 'INVALID_VALUE',
} as const;
export type SampleErrorCode = (typeof SampleErrorCode)[keyof typeof SampleErrorCode];

/** A refusal: nothing was changed; `message` says why, for a person. */
export class SampleError extends Error {
  constructor(
    readonly code: SampleErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'SampleError';
  }
}

/** Any failure as a SampleError: storage errors get their codes, anything else keeps `fallback`. */
export function asSampleError(error: unknown, fallback: SampleErrorCode = SampleErrorCode.STORAGE_UNAVAILABLE) {
  if (error instanceof SampleError) return error;
  const name = error instanceof Error || error instanceof DOMException ? error.name : '';
  if (name === 'QuotaExceededError') {
    return new SampleError(
      SampleErrorCode.STORAGE_FULL,
      'The browser’s storage for this page is full: free some (delete a kit or a sound), then try again.',
    );
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new SampleError(fallback, detail);
}

// ─── Pure sound processing ─────────────────────────────────────────────────────────────────
export const dbToGain = (db: number): number => 10 ** (db / 20);

/**
 * Down to at most 2 channels: 1 and 2 are kept; quad and 5.1 as Web Audio's speaker rules mix
 * them to stereo; any other count alternates its channels to left and right, averaged.
 */
export function downmix(channels: readonly Float32Array[]): Float32Array[] {
  if (channels.length <= 2) return [...channels];
  const length = channels[0]?.length ?? 0;
  const left = new Float32Array(length);
  const right = new Float32Array(length);
  const ch = (index: number) => channels[index] as Float32Array;
  if (channels.length === 4) {
    // L, R, SL, SR
    const [l, r, sl, sr] = [ch(0), ch(1), ch(2), ch(3)];
    for (let i = 0; i < length; i++) {
      left[i] = 0.5 * ((l[i] as number) + (sl[i] as number));
      right[i] = 0.5 * ((r[i] as number) + (sr[i] as number));
    }
  } else if (channels.length === 6) {
    // L, R, C, LFE, SL, SR: the LFE is dropped, as Web Audio does.
    const [l, r, c, sl, sr] = [ch(0), ch(1), ch(2), ch(4), ch(5)];
    for (let i = 0; i < length; i++) {
      const centre = Math.SQRT1_2 * (c[i] as number);
      left[i] = (l[i] as number) + centre + Math.SQRT1_2 * (sl[i] as number);
      right[i] = (r[i] as number) + centre + Math.SQRT1_2 * (sr[i] as number);
    }
  } else {
    const sides = [left, right] as const;
    const counts = [0, 0];
    channels.forEach((channel, index) => {
      const side = sides[index % 2] as Float32Array;
      counts[index % 2] = (counts[index % 2] as number) + 1;
      for (let i = 0; i < length; i++) side[i] = (side[i] as number) + (channel[i] as number);
    });
    sides.forEach((side, index) => {
      const scale = 1 / (counts[index] as number);
      for (let i = 0; i < length; i++) side[i] = (side[i] as number) * scale;
    });
  }
  return [left, right];
}

/** The largest absolute sample on any channel. */
export function peakOf(channels: readonly Float32Array[]): number {
  let peak = 0;
  for (const channel of channels) {
    for (let i = 0; i < channel.length; i++) {
      const value = Math.abs(channel[i] as number);
      if (value > peak) peak = value;
    }
  }
  return peak;
}

/**
 * The index of the first frame to keep: TRIM_PRE_ROLL_MS before the first sample on any channel
 * at or above TRIM_THRESHOLD_DB, or -1 when nothing reaches it (a silent sound).
 */
export function soundStart(channels: readonly Float32Array[], sampleRate: number): number {
  // As a Float32 (what the samples are), so a sample exactly at the threshold counts.
  const threshold = Math.fround(dbToGain(TRIM_THRESHOLD_DB));
  let onset = Number.POSITIVE_INFINITY;
  for (const channel of channels) {
    const end = Math.min(channel.length, onset);
    for (let i = 0; i < end; i++) {
      if (Math.abs(channel[i] as number) >= threshold) {
        onset = i;
        break;
      }
    }
  }
  if (onset === Number.POSITIVE_INFINITY) return -1;
  return Math.max(0, onset - Math.round((TRIM_PRE_ROLL_MS / 1000) * sampleRate));
}

/** The channels from `start` on (copies, so the decoded buffer can be let go). */
export const trimStart = (channels: readonly Float32Array[], start: number): Float32Array[] =>
  channels.map((channel) => channel.slice(start));

/** Scales in place so the peak is NORMALISE_PEAK_DB (a silent sound is left alone). */
export function normalise(channels: Float32Array[]): void {
  const peak = peakOf(channels);
  if (peak === 0) return;
  const gain = dbToGain(NORMALISE_PEAK_DB) / peak;
  for (const channel of channels) for (let i = 0; i < channel.length; i++) channel[i] = (channel[i] as number) * gain;
}

export interface PrepareOptions {
  /** Bring the peak to NORMALISE_PEAK_DB. */
  normalise: boolean;
}

/**
 * Decoded channels (any count, at `sampleRate`) → the PadSound a pad plays: ≤ 2 channels,
 * leading silence trimmed, optionally normalised. Throws a SampleError for a silent or too long
 * sound. The input is not changed.
 */
export function prepareSound(decoded: readonly Float32Array[], sampleRate: number, options: PrepareOptions): PadSound {
  if (decoded.length === 0 || (decoded[0]?.length ?? 0) === 0) {
    throw new SampleError(SampleErrorCode.SOUND_SILENT, 'The file holds no sound.');
  }
  const mixed = downmix(decoded);
  const start = soundStart(mixed, sampleRate);
  if (start < 0) {
    throw new SampleError(
      SampleErrorCode.SOUND_SILENT,
      `The file is silent: nothing in it reaches ${TRIM_THRESHOLD_DB} dBFS.`,
    );
  }
  const frames = (mixed[0] as Float32Array).length - start;
  const seconds = frames / sampleRate;
  if (seconds > MAX_SOUND_SECONDS) {
    throw new SampleError(
      SampleErrorCode.SOUND_TOO_LONG,
      `The sound is ${seconds.toFixed(1)} s long; a pad takes at most ${MAX_SOUND_SECONDS} s.`,
    );
  }
  // trimStart copies; downmix of >2 channels already made new arrays, which slice copies once more (rare).
  const channels = trimStart(mixed, start);
  if (options.normalise) normalise(channels);
  return { channels, sampleRate };
}

// ─── In the browser ────────────────────────────────────────────────────────────────────────
/** Refuses a file over MAX_SAMPLE_FILE_BYTES without reading it. */
export function checkSampleFile(file: Blob): void {
  if (file.size > MAX_SAMPLE_FILE_BYTES) {
    throw new SampleError(
      SampleErrorCode.FILE_TOO_LARGE,
      `The file is ${(file.size / MIB).toFixed(1)} MB; audio files may be at most ${MAX_SAMPLE_FILE_BYTES / MIB} MB.`,
    );
  }
}

/**
 * A dropped or picked file → a PadSound at `sampleRate` (the engine's). decodeAudioData decodes
 * and resamples to its context's rate; an OfflineAudioContext needs no user gesture.
 */
export async function decodeSample(file: Blob, sampleRate: number, options: PrepareOptions): Promise<PadSound> {
  checkSampleFile(file);
  const bytes = await file.arrayBuffer();
  let buffer: AudioBuffer;
  try {
    buffer = await new OfflineAudioContext(1, 1, sampleRate).decodeAudioData(bytes);
  } catch (error) {
    const why = error instanceof Error && error.message ? ` (${error.message})` : '';
    throw new SampleError(
      SampleErrorCode.DECODE_FAILED,
      `This browser cannot decode that file as audio${why}. Try WAV, MP3, OGG, FLAC or M4A.`,
    );
  }
  const channels: Float32Array[] = [];
  for (let index = 0; index < buffer.numberOfChannels; index++) channels.push(buffer.getChannelData(index));
  return prepareSound(channels, buffer.sampleRate, options);
}

/**
 * A stored sound at another rate (a kit made on a 44.1 kHz machine, played at 48 kHz) → the
 * engine's rate, resampled by the browser's own resampler (an OfflineAudioContext render).
 */
export async function resampleSound(sound: PadSound, sampleRate: number): Promise<PadSound> {
  if (sound.sampleRate === sampleRate) return sound;
  const frames = sound.channels[0]?.length ?? 0;
  const length = Math.max(1, Math.ceil((frames * sampleRate) / sound.sampleRate));
  const context = new OfflineAudioContext(sound.channels.length, length, sampleRate);
  const source = new AudioBuffer({
    numberOfChannels: sound.channels.length,
    length: frames,
    sampleRate: sound.sampleRate,
  });
  sound.channels.forEach((channel, index) => {
    source.copyToChannel(channel as Float32Array<ArrayBuffer>, index);
  });
  const node = new AudioBufferSourceNode(context, { buffer: source });
  node.connect(context.destination);
  node.start();
  const rendered = await context.startRendering();
  const channels: Float32Array[] = [];
  for (let index = 0; index < rendered.numberOfChannels; index++) channels.push(rendered.getChannelData(index));
  return { channels, sampleRate };
}

/**
 * A user kit (16 pads: name, colour, own sound or the built-in one, settings) and its one-file
 * form for sharing (`.padkit`). Pure: no DOM, no storage, so Node tests drive it.
 *
 * Sounds are kept as 16-bit PCM with one scale per sound (the sound's peak): half the bytes of
 * Float32 in IndexedDB and in files, and 96 dB below the sound's own peak is far under anything
 * a drum one-shot holds (most sources were 16-bit or lossy to begin with). The scale keeps a
 * decoded sound that peaks over full scale intact, and a quiet one at full resolution.
 *
 * The file (all integers little-endian):
 *   0  8 bytes  magic "PMKIT\r\n\x1a" (a text-mode copy or a wrong file is caught at once)
 *   8  u32      format version (KIT_FILE_VERSION)
 *  12  u32      JSON length J (≤ MAX_KIT_JSON_BYTES)
 *  16  u32      CRC-32 of every byte from 20 to the end
 *  20  J bytes  JSON: { name, pads: [16 × { name, color, settings, sound: null | shape }] }
 * 20+J          each pad's sound in pad order, each channel in turn: frames × int16
 * Nothing is allocated for a sound before the whole file is known to hold exactly the bytes its
 * JSON declares, so a hostile length cannot make a large buffer.
 */
import * as v from 'valibot';
import {
  MAX_KIT_FILE_BYTES,
  MAX_KIT_JSON_BYTES,
  MAX_KIT_NAME_CHARS,
  MAX_KIT_SAMPLE_BYTES,
  MAX_PAD_NAME_CHARS,
  MAX_SAMPLE_RATE,
  MAX_SOUND_SECONDS,
  MIN_SAMPLE_RATE,
  peakOf,
  SampleError,
  SampleErrorCode,
} from './sample-import.ts';
import { DEFAULT_SLOT_SETTINGS, type PadSound, SLOTS_PER_BANK, type SlotSettings } from './sound.ts';

export const KIT_FILE_VERSION = 1;
export const KIT_FILE_EXTENSION = '.padkit';
export const KIT_FILE_MAGIC = new Uint8Array([0x50, 0x4d, 0x4b, 0x49, 0x54, 0x0d, 0x0a, 0x1a]);
const HEADER_BYTES = 20;
/** A kit's pads: one bank. */
export const KIT_PADS = SLOTS_PER_BANK;
/** Choke groups a kit may use (0 = none). */
export const MAX_CHOKE_GROUP = 16;
/** A stored sound's scale (its peak) is at most this: +18 dBFS, what the engine's clipper takes. */
export const MAX_SOUND_SCALE = 8;
const INT16_FULL = 32767;

/** A sound as stored: 16-bit PCM per channel; a sample's value is `int / 32767 × scale`. */
export interface StoredSound {
  sampleRate: number;
  frames: number;
  /** The amplitude of full scale (the sound's peak; 1 for a silent one). */
  scale: number;
  channels: Int16Array[];
}

export interface UserPad {
  name: string;
  /** `#rrggbb` */
  color: string;
  /** The pad's own sound, or null for the built-in kit's sound on this pad. */
  sound: StoredSound | null;
  settings: SlotSettings;
}

export interface UserKit {
  name: string;
  /** KIT_PADS of them. */
  pads: UserPad[];
}

// ─── Sounds ─────────────────────────────────────────────────────────────────────────────────
export function packSound(sound: PadSound): StoredSound {
  const frames = sound.channels[0]?.length ?? 0;
  const scale = Math.min(MAX_SOUND_SCALE, peakOf(sound.channels)) || 1;
  const toInt = INT16_FULL / scale;
  const channels = sound.channels.map((channel) => {
    const ints = new Int16Array(frames);
    for (let i = 0; i < frames; i++) {
      const value = Math.round((channel[i] as number) * toInt);
      ints[i] = value > INT16_FULL ? INT16_FULL : value < -INT16_FULL ? -INT16_FULL : value;
    }
    return ints;
  });
  return { sampleRate: sound.sampleRate, frames, scale, channels };
}

export function unpackSound(stored: StoredSound): PadSound {
  const toFloat = stored.scale / INT16_FULL;
  const channels = stored.channels.map((ints) => {
    const floats = new Float32Array(ints.length);
    for (let i = 0; i < ints.length; i++) floats[i] = (ints[i] as number) * toFloat;
    return floats;
  });
  return { channels, sampleRate: stored.sampleRate };
}

/** The bytes a sound takes as stored. */
export const soundBytes = (sound: { frames: number; channels: unknown[] | number }): number =>
  sound.frames * (typeof sound.channels === 'number' ? sound.channels : sound.channels.length) * 2;

/** Every sound's bytes in a kit. */
export const kitSampleBytes = (kit: UserKit): number =>
  kit.pads.reduce((sum, pad) => sum + (pad.sound ? soundBytes(pad.sound) : 0), 0);

/** A kit whose pads all play the built-in sounds, under the built-in names and colours. */
export function builtInKit(name: string, looks: readonly { name: string; color: string }[]): UserKit {
  return {
    name,
    pads: Array.from({ length: KIT_PADS }, (_, index) => ({
      name: looks[index]?.name ?? `Pad ${index + 1}`,
      color: looks[index]?.color ?? '#888888',
      sound: null,
      settings: { ...DEFAULT_SLOT_SETTINGS },
    })),
  };
}

// ─── Schemas (the file's JSON; kit-store reads its records with them too) ──────────────────
export const KitNameSchema = v.pipe(v.string(), v.trim(), v.minLength(1), v.maxLength(MAX_KIT_NAME_CHARS));
export const PadNameSchema = v.pipe(v.string(), v.minLength(1), v.maxLength(MAX_PAD_NAME_CHARS));
export const ColorSchema = v.pipe(v.string(), v.regex(/^#[0-9a-fA-F]{6}$/));
const finite = () => v.pipe(v.number(), v.finite());

/** JSON has no Infinity: a decay "to its end" is written null. */
export const SettingsSchema = v.object({
  volumeDb: v.pipe(finite(), v.minValue(-60), v.maxValue(12)),
  pitch: v.pipe(finite(), v.minValue(-24), v.maxValue(24)),
  decay: v.pipe(
    v.union([v.null(), v.literal(Number.POSITIVE_INFINITY), v.pipe(finite(), v.minValue(0.02), v.maxValue(30))]),
    v.transform((decay) => decay ?? Number.POSITIVE_INFINITY),
  ),
  chokeGroup: v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(MAX_CHOKE_GROUP)),
});

/** A sound's shape (its PCM comes after the JSON, or from its own record in IndexedDB). */
export const SoundShapeSchema = v.pipe(
  v.object({
    sampleRate: v.pipe(v.number(), v.integer(), v.minValue(MIN_SAMPLE_RATE), v.maxValue(MAX_SAMPLE_RATE)),
    frames: v.pipe(v.number(), v.integer(), v.minValue(1)),
    channels: v.union([v.literal(1), v.literal(2)]),
    scale: v.pipe(finite(), v.gtValue(0), v.maxValue(MAX_SOUND_SCALE)),
  }),
  v.check(
    (shape) => shape.frames <= Math.ceil(MAX_SOUND_SECONDS * shape.sampleRate),
    `a sound is longer than ${MAX_SOUND_SECONDS} s`,
  ),
);
export type SoundShape = v.InferOutput<typeof SoundShapeSchema>;

const PadJsonSchema = v.object({
  name: PadNameSchema,
  color: ColorSchema,
  settings: SettingsSchema,
  sound: v.nullable(SoundShapeSchema),
});

const KitJsonSchema = v.pipe(
  v.object({
    name: KitNameSchema,
    pads: v.pipe(v.array(PadJsonSchema), v.length(KIT_PADS, `a kit has ${KIT_PADS} pads`)),
  }),
  v.check(
    (kit) => kit.pads.reduce((sum, pad) => sum + (pad.sound ? soundBytes(pad.sound) : 0), 0) <= MAX_KIT_SAMPLE_BYTES,
    `the kit's samples are over ${MAX_KIT_SAMPLE_BYTES / (1024 * 1024)} MB`,
  ),
);

/** A valibot failure in words: where and what. */
export function issueText(issues: readonly v.BaseIssue<unknown>[]): string {
  const [issue] = issues;
  if (!issue) return 'invalid';
  const path = v.getDotPath(issue);
  return path ? `${path}: ${issue.message}` : issue.message;
}

// ─── CRC-32 (IEEE), to tell a damaged file from a good one ─────────────────────────────────
const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) crc = (CRC_TABLE[(crc ^ (bytes[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

// ─── The file ───────────────────────────────────────────────────────────────────────────────
const corrupt = (why: string) =>
  new SampleError(SampleErrorCode.KIT_FILE_CORRUPT, `That is not a usable padmesh kit file: ${why}.`);

export function encodeKitFile(kit: UserKit): Uint8Array<ArrayBuffer> {
  const json = {
    name: kit.name,
    pads: kit.pads.map((pad) => ({
      name: pad.name,
      color: pad.color,
      settings: { ...pad.settings, decay: Number.isFinite(pad.settings.decay) ? pad.settings.decay : null },
      sound: pad.sound
        ? {
            sampleRate: pad.sound.sampleRate,
            frames: pad.sound.frames,
            channels: pad.sound.channels.length,
            scale: pad.sound.scale,
          }
        : null,
    })),
  };
  const text = new TextEncoder().encode(JSON.stringify(json));
  const total = HEADER_BYTES + text.length + kitSampleBytes(kit);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  bytes.set(KIT_FILE_MAGIC, 0);
  view.setUint32(8, KIT_FILE_VERSION, true);
  view.setUint32(12, text.length, true);
  bytes.set(text, HEADER_BYTES);
  let at = HEADER_BYTES + text.length;
  for (const pad of kit.pads) {
    for (const channel of pad.sound?.channels ?? []) {
      for (let i = 0; i < channel.length; i++, at += 2) view.setInt16(at, channel[i] as number, true);
    }
  }
  view.setUint32(16, crc32(bytes.subarray(HEADER_BYTES)), true);
  return bytes;
}

/**
 * A kit file's bytes → the kit, or a SampleError (KIT_FILE_TOO_LARGE, KIT_FILE_VERSION,
 * KIT_FILE_CORRUPT) saying what is wrong. Reads nothing past what it has checked.
 */
export function decodeKitFile(bytes: Uint8Array): UserKit {
  if (bytes.length > MAX_KIT_FILE_BYTES) {
    throw new SampleError(
      SampleErrorCode.KIT_FILE_TOO_LARGE,
      `The kit file is ${(bytes.length / (1024 * 1024)).toFixed(1)} MB; kit files may be at most ${MAX_KIT_FILE_BYTES / (1024 * 1024)} MB.`,
    );
  }
  if (bytes.length < HEADER_BYTES) throw corrupt('it is too short to have a header');
  if (!KIT_FILE_MAGIC.every((byte, index) => bytes[index] === byte)) throw corrupt('it does not start as one');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  if (version !== KIT_FILE_VERSION) {
    throw new SampleError(
      SampleErrorCode.KIT_FILE_VERSION,
      `The kit file is format version ${version}; this padmesh reads version ${KIT_FILE_VERSION}.`,
    );
  }
  const jsonBytes = view.getUint32(12, true);
  if (jsonBytes > MAX_KIT_JSON_BYTES) throw corrupt(`its description claims ${jsonBytes} bytes`);
  if (HEADER_BYTES + jsonBytes > bytes.length) throw corrupt('it is cut short');
  if (crc32(bytes.subarray(HEADER_BYTES)) !== view.getUint32(16, true)) {
    throw corrupt('its checksum does not match (the file is damaged or cut short)');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(
      new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(HEADER_BYTES, HEADER_BYTES + jsonBytes)),
    );
  } catch {
    throw corrupt('its description is not valid JSON');
  }
  const result = v.safeParse(KitJsonSchema, parsed);
  if (!result.success) throw corrupt(issueText(result.issues));
  const kit = result.output;
  const declared = kit.pads.reduce((sum, pad) => sum + (pad.sound ? soundBytes(pad.sound) : 0), 0);
  const held = bytes.length - HEADER_BYTES - jsonBytes;
  if (held !== declared) {
    throw corrupt(`it holds ${held} bytes of sound where its description says ${declared}`);
  }
  let at = HEADER_BYTES + jsonBytes;
  return {
    name: kit.name,
    pads: kit.pads.map((pad) => {
      const shape = pad.sound;
      let sound: StoredSound | null = null;
      if (shape) {
        const channels: Int16Array[] = [];
        for (let c = 0; c < shape.channels; c++) {
          const ints = new Int16Array(shape.frames);
          for (let i = 0; i < shape.frames; i++, at += 2) ints[i] = view.getInt16(at, true);
          channels.push(ints);
        }
        sound = { sampleRate: shape.sampleRate, frames: shape.frames, scale: shape.scale, channels };
      }
      return { name: pad.name, color: pad.color, settings: pad.settings, sound };
    }),
  };
}

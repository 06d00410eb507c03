import { afterEach, describe, expect, it } from 'vitest';
import {
  builtInKit,
  crc32,
  decodeKitFile,
  encodeKitFile,
  KIT_FILE_MAGIC,
  KIT_FILE_VERSION,
  KIT_PADS,
  kitSampleBytes,
  MAX_SOUND_SCALE,
  packSound,
  type StoredSound,
  type UserKit,
  unpackSound,
} from '../../client/audio/kit-file.ts';
import {
  MAX_KIT_FILE_BYTES,
  MAX_KIT_JSON_BYTES,
  MAX_SAMPLE_RATE,
  MAX_SOUND_SECONDS,
  peakOf,
  SampleError,
  SampleErrorCode,
} from '../../client/audio/sample-import.ts';
import { DEFAULT_SLOT_SETTINGS } from '../../client/audio/sound.ts';
import { seededRandom } from '../helpers/random.ts';

const LOOKS = Array.from({ length: KIT_PADS }, (_, i) => ({ name: `Pad ${i}`, color: '#12ab9f' }));

function tone(frames: number, amplitude: number, hz: number, rate: number): Float32Array {
  return Float32Array.from({ length: frames }, (_, i) => amplitude * Math.sin((2 * Math.PI * hz * i) / rate));
}

/** A kit with a stereo 48 kHz sound on pad 0, a mono 44.1 kHz one on pad 5, settings of every kind. */
function sampleKit(): UserKit {
  const kit = builtInKit('Friends’ kit ✓', LOOKS);
  const stereo = packSound({
    channels: [tone(300, 0.8, 440, 48_000), tone(300, 1.4, 220, 48_000)],
    sampleRate: 48_000,
  });
  const mono = packSound({ channels: [tone(201, 0.2, 1000, 44_100)], sampleRate: 44_100 });
  kit.pads[0] = { name: 'Kick (mine)', color: '#ff0000', sound: stereo, settings: { ...DEFAULT_SLOT_SETTINGS } };
  kit.pads[5] = {
    name: 'Hat',
    color: '#00FF00',
    sound: mono,
    settings: { volumeDb: -6.5, pitch: -3, decay: 0.25, chokeGroup: 1 },
  };
  kit.pads[6] = {
    ...(kit.pads[6] as UserKit['pads'][number]),
    settings: { volumeDb: 12, pitch: 24, decay: 30, chokeGroup: 1 },
  };
  return kit;
}

const ints = (sound: StoredSound, channel: number) => sound.channels[channel] as Int16Array;

function refusal(bytes: Uint8Array): SampleError {
  try {
    decodeKitFile(bytes);
  } catch (error) {
    if (error instanceof SampleError) return error;
    throw error;
  }
  throw new Error('the file was accepted');
}

/** A file as a hostile sender would make it: any JSON, any sound bytes, a correct header and checksum. */
function craft(json: unknown, soundBytes = 0, version = KIT_FILE_VERSION): Uint8Array {
  const text = new TextEncoder().encode(typeof json === 'string' ? json : JSON.stringify(json));
  const bytes = new Uint8Array(20 + text.length + soundBytes);
  bytes.set(KIT_FILE_MAGIC);
  const view = new DataView(bytes.buffer);
  view.setUint32(8, version, true);
  view.setUint32(12, text.length, true);
  bytes.set(text, 20);
  view.setUint32(16, crc32(bytes.subarray(20)), true);
  return bytes;
}

/** The JSON of a good kit whose pad 0 has `sound` (a shape) and the rest none. */
function kitJson(pad0: Record<string, unknown> = {}, sound: unknown = null) {
  return {
    name: 'K',
    pads: Array.from({ length: KIT_PADS }, (_, i) => ({
      name: `P${i}`,
      color: '#000000',
      settings: { volumeDb: 0, pitch: 0, decay: null, chokeGroup: 0 },
      sound: i === 0 ? sound : null,
      ...(i === 0 ? pad0 : {}),
    })),
  };
}

/** Counts the Int16Arrays made (the only buffers a decoded kit allocates per sound), by length. */
const made: number[] = [];
const RealInt16Array = globalThis.Int16Array;
function countInt16Arrays(): void {
  made.length = 0;
  globalThis.Int16Array = new Proxy(RealInt16Array, {
    construct(target, args: unknown[]) {
      if (typeof args[0] === 'number') made.push(args[0]);
      return Reflect.construct(target, args);
    },
  });
}
afterEach(() => {
  globalThis.Int16Array = RealInt16Array;
});

describe('sounds as 16-bit PCM with a scale', () => {
  it('come back within half a step of the scale, peaks over full scale included', () => {
    const hot = tone(1000, 1.7, 440, 48_000);
    const packed = packSound({ channels: [hot], sampleRate: 48_000 });
    expect(packed.scale).toBeCloseTo(peakOf([hot]), 6);
    const back = unpackSound(packed).channels[0] as Float32Array;
    const step = packed.scale / 32767;
    for (let i = 0; i < hot.length; i++) expect(Math.abs((back[i] as number) - (hot[i] as number))).toBeLessThan(step);
    expect(Math.max(...ints(packed, 0).map(Math.abs))).toBe(32767);
  });

  it('keep a quiet sound at full resolution, and a silent one silent', () => {
    const quiet = packSound({ channels: [tone(500, 0.001, 100, 8000)], sampleRate: 8000 });
    expect(Math.max(...ints(quiet, 0).map(Math.abs))).toBe(32767);
    const silent = packSound({ channels: [new Float32Array(4)], sampleRate: 8000 });
    expect(silent.scale).toBe(1);
    expect([...(unpackSound(silent).channels[0] as Float32Array)]).toEqual([0, 0, 0, 0]);
  });

  it('clip what is beyond the scale limit rather than wrap', () => {
    const packed = packSound({ channels: [Float32Array.of(0, 20, -20)], sampleRate: 8000 });
    expect(packed.scale).toBe(MAX_SOUND_SCALE);
    expect([...ints(packed, 0)]).toEqual([0, 32767, -32767]);
  });
});

describe('the kit file', () => {
  it('round-trips a kit: names, colours, settings (decay to its end too), sounds sample for sample', () => {
    const kit = sampleKit();
    const bytes = encodeKitFile(kit);
    expect(bytes.length).toBe(20 + new DataView(bytes.buffer).getUint32(12, true) + kitSampleBytes(kit));
    expect(decodeKitFile(bytes)).toEqual(kit);
    // Also from a view into a larger buffer at an odd offset (a file read into a bigger block).
    const larger = new Uint8Array(bytes.length + 3);
    larger.set(bytes, 1);
    expect(decodeKitFile(larger.subarray(1, 1 + bytes.length))).toEqual(kit);
  });

  it('round-trips a kit of built-in pads only', () => {
    const kit = builtInKit('Empty', LOOKS);
    expect(decodeKitFile(encodeKitFile(kit))).toEqual(kit);
  });

  it('is refused when any single byte is changed (every position, several flips each)', () => {
    const bytes = encodeKitFile(sampleKit());
    const random = seededRandom(7);
    for (let at = 0; at < bytes.length; at++) {
      for (const mask of [0x01, 0x80, 1 + Math.floor(random() * 255)]) {
        const changed = bytes.slice();
        changed[at] = (changed[at] as number) ^ mask;
        const code = refusal(changed).code;
        expect([SampleErrorCode.KIT_FILE_CORRUPT, SampleErrorCode.KIT_FILE_VERSION]).toContain(code);
        if (code === SampleErrorCode.KIT_FILE_VERSION) expect(at >= 8 && at < 12).toBe(true);
      }
    }
  });

  it('is refused when cut short anywhere, or given extra bytes', () => {
    const bytes = encodeKitFile(sampleKit());
    for (let length = 0; length < bytes.length; length++) {
      expect(refusal(bytes.subarray(0, length)).code).toBe(SampleErrorCode.KIT_FILE_CORRUPT);
    }
    const longer = new Uint8Array(bytes.length + 2);
    longer.set(bytes);
    expect(refusal(longer).code).toBe(SampleErrorCode.KIT_FILE_CORRUPT);
    expect(refusal(craft(kitJson(), 2)).message).toContain('holds 2 bytes of sound where its description says 0');
  });

  it('names its format version when it is not this one', () => {
    for (const version of [0, 2, 0xffffffff]) {
      const error = refusal(craft(kitJson(), 0, version));
      expect(error.code).toBe(SampleErrorCode.KIT_FILE_VERSION);
      expect(error.message).toContain(`version ${version}`);
    }
  });

  it('refuses a file that is not one, saying so', () => {
    expect(refusal(new TextEncoder().encode('RIFF....WAVEfmt and so on, an audio file')).message).toContain(
      'does not start as one',
    );
    expect(refusal(new Uint8Array(0)).message).toContain('too short');
  });

  it('refuses a file over the size limit without reading it', () => {
    const error = refusal(new Uint8Array(MAX_KIT_FILE_BYTES + 1));
    expect(error.code).toBe(SampleErrorCode.KIT_FILE_TOO_LARGE);
    expect(error.message).toContain(`${MAX_KIT_FILE_BYTES / 2 ** 20} MB`);
  });

  it('refuses huge declared lengths without allocating for them', () => {
    countInt16Arrays();
    // A JSON length far past the file, and one past the limit.
    const header = craft(kitJson());
    for (const length of [0xffffffff, MAX_KIT_JSON_BYTES + 1, header.length]) {
      const bytes = header.slice();
      new DataView(bytes.buffer).setUint32(12, length, true);
      expect(refusal(bytes).code).toBe(SampleErrorCode.KIT_FILE_CORRUPT);
    }
    // Sounds declaring more frames than the file holds, within and beyond every limit.
    const shape = (frames: number, sampleRate = 48_000, channels = 2) => ({ sampleRate, frames, channels, scale: 1 });
    const claims = [
      shape(1000),
      shape(MAX_SOUND_SECONDS * 48_000),
      shape(MAX_SOUND_SECONDS * 48_000 + 1),
      shape(2 ** 31),
      shape(1e300),
      shape(MAX_SOUND_SECONDS * MAX_SAMPLE_RATE, MAX_SAMPLE_RATE),
    ];
    for (const claim of claims)
      expect(refusal(craft(kitJson({}, claim), 10)).code).toBe(SampleErrorCode.KIT_FILE_CORRUPT);
    // Many pads each within the sound limit, together over the kit's limit (≈ 22 MB each at 192 kHz stereo).
    const big = kitJson();
    for (const pad of big.pads.slice(0, 3)) pad.sound = shape(MAX_SOUND_SECONDS * MAX_SAMPLE_RATE, MAX_SAMPLE_RATE);
    expect(refusal(craft(big, 10)).message).toContain('over 48 MB');
    expect(made).toEqual([]);
  });

  it('checks every value, and says where the bad one is', () => {
    const sound = { sampleRate: 48_000, frames: 2, channels: 1, scale: 1 };
    const cases: [unknown, string][] = [
      ['[1,2', 'not valid JSON'],
      [null, 'Invalid type'],
      [[], 'name: Invalid key'],
      [{ ...kitJson(), pads: kitJson().pads.slice(1) }, `a kit has ${KIT_PADS} pads`],
      [{ ...kitJson(), name: '' }, 'name'],
      [{ ...kitJson(), name: 'x'.repeat(41) }, 'name'],
      [kitJson({ name: 'x'.repeat(25) }), 'pads.0.name'],
      [kitJson({ color: 'red' }), 'pads.0.color'],
      [kitJson({ color: '#ff00001' }), 'pads.0.color'],
      [kitJson({ settings: { volumeDb: 13, pitch: 0, decay: null, chokeGroup: 0 } }), 'pads.0.settings.volumeDb'],
      [kitJson({ settings: { volumeDb: 0, pitch: -25, decay: null, chokeGroup: 0 } }), 'pads.0.settings.pitch'],
      [kitJson({ settings: { volumeDb: 0, pitch: 0, decay: 0.01, chokeGroup: 0 } }), 'pads.0.settings.decay'],
      [kitJson({ settings: { volumeDb: 0, pitch: 0, decay: null, chokeGroup: 1.5 } }), 'pads.0.settings.chokeGroup'],
      [kitJson({ settings: { volumeDb: 0, pitch: 0, decay: null, chokeGroup: 99 } }), 'pads.0.settings.chokeGroup'],
      [kitJson({ settings: { volumeDb: '0', pitch: 0, decay: null, chokeGroup: 0 } }), 'pads.0.settings.volumeDb'],
      [kitJson({}, { ...sound, channels: 3 }), 'pads.0.sound.channels'],
      [kitJson({}, { ...sound, sampleRate: 1e9 }), 'pads.0.sound.sampleRate'],
      [kitJson({}, { ...sound, sampleRate: 44_100.5 }), 'pads.0.sound.sampleRate'],
      [kitJson({}, { ...sound, frames: -2 }), 'pads.0.sound.frames'],
      [kitJson({}, { ...sound, frames: 0 }), 'pads.0.sound.frames'],
      [kitJson({}, { ...sound, scale: 0 }), 'pads.0.sound.scale'],
      [kitJson({}, { ...sound, scale: 1e9 }), 'pads.0.sound.scale'],
      [kitJson({}, 'a sound'), 'pads.0.sound'],
    ];
    for (const [json, where] of cases) {
      const error = refusal(craft(json, 4));
      expect(error.code).toBe(SampleErrorCode.KIT_FILE_CORRUPT);
      expect(error.message).toContain(where);
    }
    // Not UTF-8.
    const latin = craft('"x"');
    latin[20] = 0xff;
    new DataView(latin.buffer).setUint32(16, crc32(latin.subarray(20)), true);
    expect(refusal(latin).message).toContain('not valid JSON');
  });

  it('takes what it does not know as harmless: unknown fields are dropped, __proto__ changes nothing', () => {
    const json = JSON.stringify({ ...kitJson(), extra: 1 }).replace(
      '"name":"K"',
      '"name":"K","__proto__":{"polluted":1}',
    );
    const kit = decodeKitFile(craft(json));
    expect(kit.name).toBe('K');
    expect(Object.keys(kit)).toEqual(['name', 'pads']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('reads a sound a hostile file declares correctly, at the limit', () => {
    const frames = 3;
    const json = kitJson({}, { sampleRate: 8000, frames, channels: 2, scale: 2 });
    const bytes = craft(json, frames * 2 * 2);
    const view = new DataView(bytes.buffer);
    const at = bytes.length - frames * 4;
    [1, -1, 32767, -32768, 0, 5].forEach((value, i) => {
      view.setInt16(at + i * 2, value, true);
    });
    view.setUint32(16, crc32(bytes.subarray(20)), true);
    const sound = decodeKitFile(bytes).pads[0]?.sound as StoredSound;
    expect([...ints(sound, 0)]).toEqual([1, -1, 32767]);
    expect([...ints(sound, 1)]).toEqual([-32768, 0, 5]);
  });
});

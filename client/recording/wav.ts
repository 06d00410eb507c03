/**
 * WAV (RIFF, WAVE_FORMAT_PCM) in 16-bit little-endian samples, interleaved. Pure.
 *
 * Why 16-bit integer PCM and not 32-bit float: every DAW and audio tool imports it (float WAV
 * trips a few), it is half the size (twice the recording time in the same storage), and nothing
 * is lost that matters: the engine's output has passed its soft clipper (audio/soft-clip.ts),
 * so it never exceeds ±0.98, and 16 bits give 96 dB below that, past what a drum jam's room noise
 * and a laptop's speakers show.
 */

export const WAV_HEADER_BYTES = 44;
export const BYTES_PER_SAMPLE = 2;

/** The 44-byte header of a 16-bit PCM WAV of `frames` frames. */
export function wavHeader(frames: number, channels: number, sampleRate: number): ArrayBuffer {
  const dataBytes = frames * channels * BYTES_PER_SAMPLE;
  if (dataBytes > 0xffffffff - 36) throw new RangeError('a WAV holds at most 4 GiB of samples');
  const header = new ArrayBuffer(WAV_HEADER_BYTES);
  const view = new DataView(header);
  const ascii = (at: number, text: string) => {
    for (let i = 0; i < text.length; i++) view.setUint8(at + i, text.charCodeAt(i));
  };
  ascii(0, 'RIFF');
  view.setUint32(4, 36 + dataBytes, true);
  ascii(8, 'WAVE');
  ascii(12, 'fmt ');
  view.setUint32(16, 16, true); // fmt chunk size
  view.setUint16(20, 1, true); // WAVE_FORMAT_PCM
  view.setUint16(22, channels, true);
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, sampleRate * channels * BYTES_PER_SAMPLE, true); // byte rate
  view.setUint16(32, channels * BYTES_PER_SAMPLE, true); // block align
  view.setUint16(34, BYTES_PER_SAMPLE * 8, true); // bits per sample
  ascii(36, 'data');
  view.setUint32(40, dataBytes, true);
  return header;
}

/** One sample, −1..1 (beyond: clipped; NaN: 0), as a 16-bit integer. */
export function toInt16(sample: number): number {
  if (Number.isNaN(sample)) return 0;
  const s = sample > 1 ? 1 : sample < -1 ? -1 : sample;
  return Math.round(s < 0 ? s * 0x8000 : s * 0x7fff);
}

/**
 * Writes `frames` frames of `channels` (each −1..1; a missing channel is silence, a mono input
 * goes to both sides) interleaved into `out` from frame `at` of it. For the audio thread: no allocation.
 */
export function interleave(
  channels: readonly Float32Array[],
  from: number,
  frames: number,
  out: Int16Array,
  at: number,
  outChannels: number,
): void {
  const count = channels.length;
  for (let c = 0; c < outChannels; c++) {
    const source = count === 0 ? undefined : channels[c < count ? c : count - 1];
    let o = at * outChannels + c;
    if (source === undefined) {
      for (let i = 0; i < frames; i++, o += outChannels) out[o] = 0;
    } else {
      for (let i = 0; i < frames; i++, o += outChannels) out[o] = toInt16(source[from + i] as number);
    }
  }
}

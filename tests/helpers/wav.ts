/** WAV files made in the test (16-bit PCM), so browser tests drop real audio files of known content. */

export interface WavOptions {
  sampleRate?: number;
  channels?: 1 | 2;
  /** Seconds of digital silence before the sound. */
  silence?: number;
  /** Seconds of sound: a 220 Hz tone, decaying, at `amplitude` (0 for a silent file). */
  seconds: number;
  amplitude?: number;
}

export function wav({ sampleRate = 44_100, channels = 1, silence = 0, seconds, amplitude = 0.5 }: WavOptions): Buffer {
  const lead = Math.round(silence * sampleRate);
  const frames = lead + Math.round(seconds * sampleRate);
  const data = frames * channels * 2;
  const bytes = Buffer.alloc(44 + data);
  bytes.write('RIFF', 0, 'ascii');
  bytes.writeUInt32LE(36 + data, 4);
  bytes.write('WAVEfmt ', 8, 'ascii');
  bytes.writeUInt32LE(16, 16);
  bytes.writeUInt16LE(1, 20); // PCM
  bytes.writeUInt16LE(channels, 22);
  bytes.writeUInt32LE(sampleRate, 24);
  bytes.writeUInt32LE(sampleRate * channels * 2, 28);
  bytes.writeUInt16LE(channels * 2, 32);
  bytes.writeUInt16LE(16, 34);
  bytes.write('data', 36, 'ascii');
  bytes.writeUInt32LE(data, 40);
  for (let i = lead; i < frames; i++) {
    const t = (i - lead) / sampleRate;
    const value = amplitude * Math.exp(-t / Math.max(seconds / 3, 0.01)) * Math.sin(2 * Math.PI * 220 * t + 0.5);
    for (let c = 0; c < channels; c++) {
      bytes.writeInt16LE(Math.round(value * (c === 1 ? 0.5 : 1) * 32767), 44 + (i * channels + c) * 2);
    }
  }
  return bytes;
}

/**
 * The recording's tap on the engine's output (audio thread): between `start` and `stop` it turns
 * the output into 16-bit interleaved PCM (wav.ts) and sends it to the page a chunk at a time (its
 * buffer transferred). It keeps the last PREROLL_FRAMES of output, so recording begins at the
 * exact frame of the start time even though the message arrives later; if it arrives later than
 * that, it says how many frames were missed (the WAV gets silence there, so it still lines up with
 * the MIDI file). Stop takes effect at its own frame too.
 *
 * Built by Vite as a worker bundle (`?worker&url` in recording.ts): one self-contained file.
 */
import { PREROLL_FRAMES, TAP_CHANNELS, TAP_PROCESSOR, type TapMessage, type TapReport } from './tap-protocol.ts';
import { interleave } from './wav.ts';

// The AudioWorkletGlobalScope, which TypeScript's DOM library does not describe.
declare const sampleRate: number;
declare const currentTime: number;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
  constructor(options?: unknown);
}
declare function registerProcessor(name: string, processor: new (options: AudioWorkletNodeOptions) => unknown): void;

// Plain private fields, not #private ones: the build lowers #fields to WeakMaps (see sampler/worklet.ts).
class OutputTap extends AudioWorkletProcessor {
  private readonly _preroll = [new Float32Array(PREROLL_FRAMES), new Float32Array(PREROLL_FRAMES)];
  /** Frames written into the preroll ever (its write position is this modulo its length). */
  private _prerolled = 0;
  private _startAt = Number.NaN;
  private _recording = false;
  private _stopAt = Number.POSITIVE_INFINITY;
  private _chunkFrames = 0;
  private _chunk: Int16Array | null = null;
  private _filled = 0;
  private readonly _one: Float32Array[] = [new Float32Array(1), new Float32Array(1)];

  constructor(options: AudioWorkletNodeOptions) {
    super(options);
    this.port.onmessage = ({ data }: MessageEvent<TapMessage>) => {
      if (data.type === 'start') {
        this._startAt = data.at;
        this._stopAt = Number.POSITIVE_INFINITY;
        this._chunkFrames = Math.max(128, Math.floor(data.chunkFrames));
        this._chunk = null;
        this._filled = 0;
        this._recording = false;
      } else {
        this._stopAt = data.at;
      }
    };
  }

  process(inputs: Float32Array[][]): boolean {
    const channels = inputs[0] ?? [];
    const frames = channels[0]?.length ?? 128;
    if (!Number.isNaN(this._startAt) && !this._recording) this._begin();
    if (this._recording) {
      // This quantum's frames before the stop.
      const to = Math.min(frames, Math.max(0, Math.ceil((this._stopAt - currentTime) * sampleRate - 1e-6)));
      this._write(channels, 0, to);
      if (to < frames) {
        this._send();
        this.port.postMessage({ type: 'stopped' } satisfies TapReport);
        this._recording = false;
        this._startAt = Number.NaN;
      }
    }
    this._keep(channels, frames);
    return true;
  }

  /** Starts from the preroll: the frames from the start time up to now, as many as it still holds. */
  private _begin(): void {
    this._recording = true;
    const back = Math.max(0, Math.round((currentTime - this._startAt) * sampleRate));
    const held = Math.min(back, PREROLL_FRAMES, this._prerolled);
    this._startAt = Number.NaN;
    this.port.postMessage({ type: 'started', missing: back - held } satisfies TapReport);
    for (let k = held; k > 0; k--) {
      const at = (this._prerolled - k) % PREROLL_FRAMES;
      (this._one[0] as Float32Array)[0] = (this._preroll[0] as Float32Array)[at] as number;
      (this._one[1] as Float32Array)[0] = (this._preroll[1] as Float32Array)[at] as number;
      this._write(this._one, 0, 1);
    }
  }

  private _write(channels: readonly Float32Array[], from: number, to: number): void {
    let at = from;
    while (at < to) {
      if (this._chunk === null) {
        this._chunk = new Int16Array(this._chunkFrames * TAP_CHANNELS); // once a chunk (a second), not per quantum
        this._filled = 0;
      }
      const count = Math.min(to - at, this._chunkFrames - this._filled);
      interleave(channels, at, count, this._chunk, this._filled, TAP_CHANNELS);
      this._filled += count;
      at += count;
      if (this._filled === this._chunkFrames) this._send();
    }
  }

  private _keep(channels: readonly Float32Array[], frames: number): void {
    for (let c = 0; c < TAP_CHANNELS; c++) {
      const ring = this._preroll[c] as Float32Array;
      const source = channels[Math.min(c, channels.length - 1)];
      let w = this._prerolled % PREROLL_FRAMES;
      for (let i = 0; i < frames; i++) {
        ring[w] = source ? (source[i] as number) : 0;
        w = w + 1 === PREROLL_FRAMES ? 0 : w + 1;
      }
    }
    this._prerolled += frames;
  }

  private _send(): void {
    const chunk = this._chunk;
    if (chunk === null || this._filled === 0) return;
    const pcm = this._filled === this._chunkFrames ? chunk : chunk.slice(0, this._filled * TAP_CHANNELS);
    this.port.postMessage({ type: 'pcm', pcm, frames: this._filled } satisfies TapReport, [pcm.buffer]);
    this._chunk = null;
    this._filled = 0;
  }
}

registerProcessor(TAP_PROCESSOR, OutputTap);

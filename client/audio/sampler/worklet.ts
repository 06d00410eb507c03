/**
 * The sampler's AudioWorklet processor (audio thread). Each render quantum it takes the hits the
 * main thread published in the SharedArrayBuffer ring (hit-ring.ts) or sent as port messages
 * (where the page is not cross-origin isolated, and for a slot whose sound is still on its way),
 * then renders them with SamplerCore. It reports, never on the hit path:
 * - in a shared status array (ring mode), every quantum: STATUS_FIELDS counters, a few stores;
 * - by message: that a slot's sound or settings arrived (`ack`), whose hits gave way (at most
 *   every REPORT_S), and, in port mode, the status (at most every REPORT_S, when it changed).
 *
 * Built by Vite as a worker bundle (`?worker&url` in engine.ts): one self-contained file.
 */
import type { SlotSettings, SoundLayers } from '../sound.ts';
import { HitRingReader } from './hit-ring.ts';
import {
  PROCESSOR,
  type SamplerMessage,
  type SamplerOptions,
  type SamplerReport,
  STATUS,
  STATUS_FIELDS,
} from './protocol.ts';
import { QUANTUM, SamplerCore } from './sampler-core.ts';

// The AudioWorkletGlobalScope, which TypeScript's DOM library does not describe.
declare const sampleRate: number;
declare const currentFrame: number;
declare class AudioWorkletProcessor {
  readonly port: MessagePort;
  constructor(options?: unknown);
}
declare function registerProcessor(name: string, processor: new (options: AudioWorkletNodeOptions) => unknown): void;

/** How often (s of audio) gave-way reports and port-mode status go out at most. */
const REPORT_S = 0.05;

class SamplerProcessor extends AudioWorkletProcessor {
  readonly #core = new SamplerCore(sampleRate);
  readonly #ring: HitRingReader | null;
  readonly #status: Float64Array | null;
  readonly #sink = (slot: number, velocity: number, start: number, owner: number) => {
    this.#core.hit(slot, velocity, start, owner);
  };
  readonly #reportFrames = Math.round(REPORT_S * sampleRate);
  #reportedAt = 0;
  #statusKey = -1;
  readonly #owners: number[] = [];
  readonly #counts: number[] = [];
  readonly #collect = (owner: number, count: number) => {
    this.#owners.push(owner);
    this.#counts.push(count);
  };
  readonly #left = new Float32Array(QUANTUM);
  readonly #right = new Float32Array(QUANTUM);

  constructor(options: AudioWorkletNodeOptions) {
    super(options);
    const shared = options.processorOptions as SamplerOptions | undefined;
    this.#ring = shared?.ring ? new HitRingReader(shared.ring) : null;
    this.#status = shared?.status ? new Float64Array(shared.status) : null;
    this.port.onmessage = (event: MessageEvent<SamplerMessage>) => this.#onMessage(event.data);
  }

  #onMessage(message: SamplerMessage): void {
    const core = this.#core;
    try {
      switch (message.type) {
        case 'hit':
          core.hit(message.slot, message.velocity, message.start, message.owner);
          return;
        case 'sound':
          core.setSound(message.slot, message.sound as SoundLayers | null);
          break;
        case 'settings':
          core.setSettings(message.slot, message.settings as SlotSettings);
          break;
        default:
          return;
      }
    } catch (error) {
      this.port.postMessage({ type: 'error', slot: message.slot, message: String(error) } satisfies SamplerReport);
    }
    this.port.postMessage({ type: 'ack', slot: message.slot } satisfies SamplerReport);
  }

  process(_inputs: Float32Array[][], outputs: Float32Array[][]): boolean {
    const core = this.#core;
    this.#ring?.drain(this.#sink);
    const out = outputs[0];
    const left = out?.[0] ?? this.#left;
    const right = out?.[1] ?? this.#right;
    core.render(left, right, currentFrame);
    const status = this.#status;
    if (status !== null) writeStatus(status, core, this.#ring?.overflows ?? 0);
    if (currentFrame - this.#reportedAt >= this.#reportFrames) this.#report();
    return true;
  }

  /** Gave-way hits, and (port mode) the status when it changed. Allocates: only every REPORT_S, and only with news. */
  #report(): void {
    const core = this.#core;
    this.#reportedAt = currentFrame;
    if (core.gaveWayPending) {
      this.#owners.length = 0;
      this.#counts.length = 0;
      core.takeGaveWay(this.#collect);
      this.port.postMessage({
        type: 'gave-way',
        owners: this.#owners.slice(),
        counts: this.#counts.slice(),
      } satisfies SamplerReport);
    }
    if (this.#status !== null) return;
    const key = core.hits + core.stolen + core.refused + core.late + core.cut + core.silent + core.peakVoices;
    if (key === this.#statusKey) return;
    this.#statusKey = key;
    const status = new Float64Array(STATUS_FIELDS);
    writeStatus(status, core, 0);
    this.port.postMessage({ type: 'status', status } satisfies SamplerReport, [status.buffer]);
  }
}

function writeStatus(status: Float64Array, core: SamplerCore, overflows: number): void {
  status[STATUS.hits] = core.hits;
  status[STATUS.started] = core.started;
  status[STATUS.late] = core.late;
  status[STATUS.silent] = core.silent;
  status[STATUS.stolen] = core.stolen;
  status[STATUS.refused] = core.refused;
  status[STATUS.cut] = core.cut;
  status[STATUS.sounding] = core.sounding;
  status[STATUS.peakVoices] = core.peakVoices;
  status[STATUS.waiting] = core.waiting;
  status[STATUS.overflows] = overflows;
  status[STATUS.frame] = currentFrame;
}

registerProcessor(PROCESSOR, SamplerProcessor);

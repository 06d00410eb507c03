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

// Plain private fields, not #private ones: the build lowers #fields to WeakMaps (for its oldest
// targets), a lookup per access, which this hot path cannot afford.
class SamplerProcessor extends AudioWorkletProcessor {
  private readonly _core = new SamplerCore(sampleRate);
  private readonly _ring: HitRingReader | null;
  private readonly _status: Float64Array | null;
  private readonly _sink = (slot: number, velocity: number, start: number, owner: number) => {
    this._core.hit(slot, velocity, start, owner);
  };
  private readonly _reportFrames = Math.round(REPORT_S * sampleRate);
  private _reportedAt = 0;
  private _statusKey = -1;
  private readonly _owners: number[] = [];
  private readonly _counts: number[] = [];
  private readonly _collect = (owner: number, count: number) => {
    this._owners.push(owner);
    this._counts.push(count);
  };
  private readonly _left = new Float32Array(QUANTUM);
  private readonly _right = new Float32Array(QUANTUM);

  constructor(options: AudioWorkletNodeOptions) {
    super(options);
    const shared = options.processorOptions as SamplerOptions | undefined;
    this._ring = shared?.ring ? new HitRingReader(shared.ring) : null;
    this._status = shared?.status ? new Float64Array(shared.status) : null;
    this.port.onmessage = (event: MessageEvent<SamplerMessage>) => this._onMessage(event.data);
  }

  private _onMessage(message: SamplerMessage): void {
    const core = this._core;
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
    const core = this._core;
    this._ring?.drain(this._sink);
    const out = outputs[0];
    const left = out?.[0] ?? this._left;
    const right = out?.[1] ?? this._right;
    core.render(left, right, currentFrame);
    const status = this._status;
    if (status !== null) writeStatus(status, core, this._ring?.overflows ?? 0);
    if (currentFrame - this._reportedAt >= this._reportFrames) this._report();
    return true;
  }

  /** Gave-way hits, and (port mode) the status when it changed. Allocates: only every REPORT_S, and only with news. */
  private _report(): void {
    const core = this._core;
    this._reportedAt = currentFrame;
    if (core.gaveWayPending) {
      this._owners.length = 0;
      this._counts.length = 0;
      core.takeGaveWay(this._collect);
      this.port.postMessage({
        type: 'gave-way',
        owners: this._owners.slice(),
        counts: this._counts.slice(),
      } satisfies SamplerReport);
    }
    if (this._status !== null) return;
    const key = core.hits + core.stolen + core.refused + core.late + core.cut + core.silent + core.peakVoices;
    if (key === this._statusKey) return;
    this._statusKey = key;
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
  status[STATUS.lastSlot] = core.lastSlot;
  status[STATUS.lastLength] = core.lastLength;
}

registerProcessor(PROCESSOR, SamplerProcessor);

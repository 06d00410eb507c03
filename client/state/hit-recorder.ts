/**
 * An opt-in record of every hit the DAW plays, for the benchmarks and for anyone who wants to
 * see their timing in numbers: open the DAW page as `/daw?record=20000` and read
 * `window.padmeshRecorder.export()` (the console, or a test driver). Preallocated typed
 * arrays: recording adds no allocation to the hit path, and stops when full.
 */
import type { HitEvent } from '../net/daw-peers.ts';

export const VIA_CODE = { p2p: 0, relay: 1, local: 2 } as const;

export interface RecordedHits {
  count: number;
  /** Index into `peers`. */
  peer: number[];
  peers: string[];
  seq: number[];
  pad: number[];
  /** 0 p2p, 1 relay, 2 this computer. */
  via: number[];
  /** Tap time, controller's clock (ms since the epoch). */
  sentAt: number[];
  /** Arrival, DAW clock. */
  arrivedAt: number[];
  /** Tap time in the DAW's clock (NaN while unsynced). */
  tapAt: number[];
  /** Steady mode's planned play time (NaN: at once). */
  playAt: number[];
  /**
   * When the engine starts the sound, in ms of the AudioContext's clock (NaN if it did not):
   * the audio clock itself, so the spacing of sounds can be checked against the spacing of taps.
   */
  audioAt: number[];
  /** Steady mode's planned time on the AudioContext's clock (ms; NaN: at once): where audioAt should be. */
  plannedAt: number[];
  /**
   * The AudioContext's clock (ms) just after the engine took the hit: a sound can start no
   * sooner, so a steady hit starts at its planned time, or now if the clock had passed it.
   */
  clockAt: number[];
  late: number[];
}

export class HitRecorder {
  private readonly peers: string[] = [];
  private readonly peer: Uint16Array;
  private readonly seq: Float64Array;
  private readonly pad: Uint8Array;
  private readonly via: Uint8Array;
  private readonly late: Uint8Array;
  private readonly sentAt: Float64Array;
  private readonly arrivedAt: Float64Array;
  private readonly tapAt: Float64Array;
  private readonly playAt: Float64Array;
  private readonly audioAt: Float64Array;
  private readonly plannedAt: Float64Array;
  private readonly clockAt: Float64Array;
  private recorded = 0;

  constructor(readonly capacity: number) {
    this.peer = new Uint16Array(capacity);
    this.seq = new Float64Array(capacity);
    this.pad = new Uint8Array(capacity);
    this.via = new Uint8Array(capacity);
    this.late = new Uint8Array(capacity);
    this.sentAt = new Float64Array(capacity);
    this.arrivedAt = new Float64Array(capacity);
    this.tapAt = new Float64Array(capacity);
    this.playAt = new Float64Array(capacity);
    this.audioAt = new Float64Array(capacity);
    this.plannedAt = new Float64Array(capacity);
    this.clockAt = new Float64Array(capacity);
  }

  get count(): number {
    return this.recorded;
  }

  /**
   * `late`: it missed its steady-mode time (arrived too late, or the audio clock had passed it).
   * `plannedAt`, `clockAt`: see RecordedHits (ms of the AudioContext's clock).
   */
  record(
    hit: Readonly<HitEvent>,
    audioAt: number,
    late = hit.late,
    plannedAt = Number.NaN,
    clockAt = Number.NaN,
  ): void {
    const i = this.recorded;
    if (i >= this.capacity) return;
    this.recorded = i + 1;
    let peer = this.peers.indexOf(hit.peerId);
    if (peer < 0) peer = this.peers.push(hit.peerId) - 1;
    this.peer[i] = peer;
    this.seq[i] = hit.seq;
    this.pad[i] = hit.pad;
    this.via[i] = VIA_CODE[hit.via];
    this.late[i] = late ? 1 : 0;
    this.sentAt[i] = hit.sentAt;
    this.arrivedAt[i] = hit.arrivedAt;
    this.tapAt[i] = hit.tapAt;
    this.playAt[i] = hit.playAt;
    this.audioAt[i] = audioAt;
    this.plannedAt[i] = plannedAt;
    this.clockAt[i] = clockAt;
  }

  clear(): void {
    this.recorded = 0;
  }

  export(): RecordedHits {
    const n = this.recorded;
    const list = (a: ArrayLike<number>) => Array.from({ length: n }, (_, i) => a[i] as number);
    return {
      count: n,
      peers: [...this.peers],
      peer: list(this.peer),
      seq: list(this.seq),
      pad: list(this.pad),
      via: list(this.via),
      sentAt: list(this.sentAt),
      arrivedAt: list(this.arrivedAt),
      tapAt: list(this.tapAt),
      playAt: list(this.playAt),
      audioAt: list(this.audioAt),
      plannedAt: list(this.plannedAt),
      clockAt: list(this.clockAt),
      late: list(this.late),
    };
  }
}

/** `?record=N` on the DAW page's URL: a recorder of N hits (at most a million), else null. */
export function recorderFromUrl(search: string): HitRecorder | null {
  const value = Number(new URLSearchParams(search).get('record'));
  if (!Number.isInteger(value) || value <= 0) return null;
  return new HitRecorder(Math.min(value, 1_000_000));
}

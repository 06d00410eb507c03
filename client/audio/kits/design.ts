/**
 * What a built-in kit is: 16 pads, each a Tone.js voice design that render-kit.ts renders offline
 * into velocity layers (buffers the engine plays). Types only; the kits are beside this file.
 */
import type { BaseContext, InputNode } from 'tone';

export interface KitPadDesign {
  /** Stable identifier (kebab-case). */
  id: string;
  /** Shown on the pads (phones too): at most 24 characters. */
  name: string;
  /** `#rrggbb`. */
  color: string;
  /** 0 or absent = none; a hit in group g silences every other voice in g (a closed hat, the open hat). */
  chokeGroup?: number;
  /**
   * Which pads are rendered and handed over first when a kit loads: lower first; absent = after
   * every pad that has one, in pad order. Give it to what is played most (kick, snare, hats).
   */
  priority?: number;
  /** Velocities to render (ascending), e.g. [0.4, 0.75, 1]. One entry: the timbre does not change with velocity. */
  layers: readonly number[];
  /** Seconds to render (the tail included): the sound must be silent by then. */
  length: number;
  /**
   * Plays one hit at `time` into `out` on a Tone context (live or offline) at `velocity` 0..1.
   * Velocity sets the timbre only, at the pad's full level: the engine scales each hit's loudness.
   * Builds its nodes on `context` (pass it to every Tone node).
   */
  play(context: BaseContext, out: InputNode, time: number, velocity: number): void;
}

export interface KitDesign {
  /** Stable identifier: part of the cache key. */
  id: string;
  /** Bump when any pad's sound changes: a cached render of another version is never used. */
  version: number;
  name: string;
  /** 16 pads in grid order. */
  pads: readonly KitPadDesign[];
}

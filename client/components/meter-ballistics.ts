/**
 * How the DAW's level meter moves: a peak meter's ballistics. The bar jumps up to a new peak at
 * once, holds HOLD_MS, then falls back at FALL_DB_PER_S (as digital peak meters do); it is drawn
 * in whole STEP_DB steps from FLOOR_DB to 0 dBFS. So under a dense stream of hits (less than ~140 ms
 * apart: the hold and the analyser's window) the bar holds still, and a bar that holds still costs
 * the page nothing: a level jittering between reads (each read a new
 * width, a style change and a frame, 30 a second while anything sounded) is time an arriving hit
 * waits. Pure.
 */
export const FLOOR_DB = -60;
export const STEP_DB = 1;
export const HOLD_MS = 100;
export const FALL_DB_PER_S = 20;

/** The meter's state, updated in place by `meterRead` (nothing is allocated per read). */
export interface MeterState {
  /** The level the bar shows (before rounding to steps), dBFS. */
  levelDb: number;
  /** Until when it holds before falling, and when it was last read (ms, any one clock). */
  holdUntilMs: number;
  readAtMs: number;
}

export const silentMeter = (nowMs: number): MeterState => ({
  levelDb: FLOOR_DB,
  holdUntilMs: nowMs,
  readAtMs: nowMs,
});

/** A peak read at `nowMs` (dBFS; −Infinity or NaN when silent): up at once to it, else held, else falling. */
export function meterRead(state: MeterState, peakDb: number, nowMs: number): void {
  const peak = peakDb > FLOOR_DB ? Math.min(0, peakDb) : FLOOR_DB;
  if (peak >= state.levelDb) {
    state.levelDb = peak;
    state.holdUntilMs = nowMs + HOLD_MS;
  } else if (nowMs > state.holdUntilMs) {
    const fallingMs = nowMs - Math.max(state.readAtMs, state.holdUntilMs);
    const fallen = state.levelDb - (FALL_DB_PER_S * fallingMs) / 1000;
    state.levelDb = fallen > peak ? fallen : peak;
  }
  if (nowMs > state.readAtMs) state.readAtMs = nowMs;
}

/** The fraction of the bar `levelDb` fills, in whole steps (0 at FLOOR_DB and below, 1 at 0 dBFS). */
export function barFraction(levelDb: number): number {
  if (!(levelDb > FLOOR_DB)) return 0;
  const steps = Math.round((Math.min(0, levelDb) - FLOOR_DB) / STEP_DB);
  return steps / (-FLOOR_DB / STEP_DB);
}

/**
 * Maps this page's wall clock (ms, `performance.timeOrigin + performance.now()`) to the
 * AudioContext's clock (s) and back, so a hit can be scheduled for an exact wall-clock time.
 *
 * `currentTime` does not run smoothly. The audio thread renders in bursts (in headless
 * Chromium, 3–4 render quanta of 2.9 ms every ~10 ms), moving `currentTime` on a burst at a
 * time, so (currentTime − wall) read at a random moment is a sawtooth whose top edge is where
 * the audio clock really is: sounds must be scheduled at or after it. The top of the readings
 * of the last WINDOW_MS is that edge, but it steps by a few ms as bursts come and go, and a
 * step in the mapping would shift every steady-mode hit after it: the groove would stutter.
 * So the mapping used follows the edge at no more than SLEW_MS_PER_S (far faster than any
 * two clocks drift apart, far slower than a musician hears), and jumps only when the two are
 * more than JUMP_MS apart (the context was suspended and resumed), or in the first WINDOW_MS
 * of readings, while the window fills (else the first, low readings would take ~20 s to
 * climb to the edge).
 *
 * Pure: it is handed readings; allocation-free.
 */
export const CLOCK_READINGS = 64;
export const WINDOW_MS = 2_000;
export const SLEW_MS_PER_S = 0.5;
export const JUMP_MS = 50;

export class AudioClock {
  private readonly diff = new Float64Array(CLOCK_READINGS);
  private readonly at = new Float64Array(CLOCK_READINGS);
  private next = 0;
  private count = 0;
  /** contextTime − wall/1000, s: the mapping in use. */
  private applied = Number.NaN;
  private lastAt = Number.NaN;
  /** Until then (the first WINDOW_MS of readings) the mapping is the edge itself: nothing plays yet to be shifted. */
  private settledAt = Number.NaN;

  /** A reading of the context's `currentTime` (s) taken at wall-clock `wallMs`. */
  observe(contextTime: number, wallMs: number): void {
    if (!Number.isFinite(contextTime) || !Number.isFinite(wallMs)) return;
    const reading = contextTime - wallMs / 1000;
    if ((this.applied - reading) * 1000 > JUMP_MS) {
      // The context was suspended and resumed: its clock lost that time, and the readings before
      // are of the old mapping (as the top of the window they would hold it for WINDOW_MS).
      this.count = 0;
      this.next = 0;
      this.settledAt = Number.NaN;
    }
    const i = this.next;
    this.diff[i] = reading;
    this.at[i] = wallMs;
    this.next = (i + 1) % CLOCK_READINGS;
    if (this.count < CLOCK_READINGS) this.count += 1;
    let edge = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < this.count; k++) {
      const diff = this.diff[k] as number;
      if (wallMs - (this.at[k] as number) <= WINDOW_MS && diff > edge) edge = diff;
    }
    if (Number.isNaN(this.settledAt)) this.settledAt = wallMs + WINDOW_MS;
    const gap = edge - this.applied;
    if (Number.isNaN(gap) || Math.abs(gap) * 1000 > JUMP_MS || wallMs < this.settledAt) {
      this.applied = edge;
    } else {
      const step = (Math.max(0, wallMs - this.lastAt) / 1000) * (SLEW_MS_PER_S / 1000);
      this.applied += gap > step ? step : gap < -step ? -step : gap;
    }
    this.lastAt = wallMs;
  }

  get ready(): boolean {
    return !Number.isNaN(this.applied);
  }

  /** The context time (s) of wall-clock `wallMs`; NaN before any reading. */
  toContext(wallMs: number): number {
    return wallMs / 1000 + this.applied;
  }

  /** The wall-clock time (ms) of context time `contextTime`; NaN before any reading. */
  toWall(contextTime: number): number {
    return (contextTime - this.applied) * 1000;
  }
}

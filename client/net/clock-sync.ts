/**
 * NTP-style clock sync between two pages, from ping/pong round trips over the data channel.
 * Each round trip gives a sample: we sent at t0 (our clock), the other end stamped `at` (its
 * clock) and we got the answer at t3. If the path is symmetric, the other clock read `at`
 * at our (t0 + t3) / 2, so offset = at − (t0 + t3) / 2, with an error of at most rtt / 2.
 *
 * Queueing only ever adds delay, and rarely equally both ways, so the fastest round trips
 * carry the truest offsets: the estimate is the median offset of the BEST lowest-rtt samples
 * among the last WINDOW. Clocks also drift (tens of ppm on phones), so the estimate is kept
 * with its time (that of the sample(s) the median came from, which may be half a minute old,
 * not the time it was computed: with 100 ppm of drift, 16 s of age is 1.6 ms), re-measured
 * with every ping, and the drift is the slope between estimates at least DRIFT_SPAN_MS apart;
 * `offsetAt(t)` extrapolates by it.
 *
 * Pure: no timers, no clock of its own; allocation-free after construction.
 */

/** Samples kept (one per ping: a second each, so about half a minute). */
export const SYNC_WINDOW = 32;
/** The estimate is the median of this many lowest-rtt samples. */
export const SYNC_BEST = 5;
/** Samples needed before the estimate is trusted. */
export const SYNC_MIN_SAMPLES = 4;
/** Round trips longer than this are not clock samples (the answer was held up somewhere). */
export const SYNC_MAX_RTT_MS = 1_000;
/** Drift is measured between estimates at least this far apart. */
export const DRIFT_SPAN_MS = 20_000;
/** Real quartz drifts by tens of ppm; beyond this the "drift" is noise and is not applied. */
export const MAX_DRIFT_PPM = 500;
/**
 * Samples needed before an estimate may anchor a drift measurement. The first estimates are
 * medians of the few samples there are, queued ones included (a few ms off); as an anchor such
 * an error would become (error / DRIFT_SPAN_MS) of drift, hundreds of ppm, extrapolated for a minute.
 */
const DRIFT_MIN_SAMPLES = 2 * SYNC_BEST;

export interface ClockEstimate {
  /** Their clock minus ours, ms, at `at`. */
  offsetMs: number;
  /** The smallest round trip among the samples kept, ms. */
  bestRttMs: number;
  /** Our time at which the offset held: the median sample's (the middle of its round trip). */
  at: number;
  /** ppm: how fast their clock runs ahead of ours (0 until measured). */
  driftPpm: number;
}

export class ClockSync {
  /** Our time of each sample: the middle of its round trip, when the other clock read `at`. */
  private readonly t = new Float64Array(SYNC_WINDOW);
  private readonly offset = new Float64Array(SYNC_WINDOW);
  private readonly rtt = new Float64Array(SYNC_WINDOW);
  /** Scratch for picking the best samples (indexes sorted by rtt). */
  private readonly order = new Uint8Array(SYNC_WINDOW);
  /** Scratch: the best samples' indexes, sorted by offset. */
  private readonly best = new Uint8Array(SYNC_BEST);
  private next = 0;
  private count = 0;
  private sampleCount = 0;
  /** An earlier estimate, to measure drift against. */
  private anchorOffset = 0;
  private anchorAt = Number.NaN;
  readonly estimate: ClockEstimate = { offsetMs: 0, bestRttMs: Number.NaN, at: Number.NaN, driftPpm: 0 };

  /** Every sample ever taken (for display). */
  get samples(): number {
    return this.sampleCount;
  }

  get synced(): boolean {
    return this.count >= SYNC_MIN_SAMPLES;
  }

  /**
   * A round trip: `t0` we sent (our clock), `at` they answered (their clock), `t3` we got it
   * (our clock). Returns false for a sample that cannot be true (negative or huge rtt).
   */
  sample(t0: number, at: number, t3: number): boolean {
    const rtt = t3 - t0;
    if (!(rtt >= 0 && rtt <= SYNC_MAX_RTT_MS) || !Number.isFinite(at)) return false;
    const i = this.next;
    this.t[i] = (t0 + t3) / 2;
    this.offset[i] = at - (t0 + t3) / 2;
    this.rtt[i] = rtt;
    this.next = (i + 1) % SYNC_WINDOW;
    if (this.count < SYNC_WINDOW) this.count += 1;
    this.sampleCount += 1;
    if (this.synced) this.update();
    return true;
  }

  /** Their clock minus ours at our time `t`, drift included; NaN until synced. */
  offsetAt(t: number): number {
    if (!this.synced) return Number.NaN;
    const { offsetMs, at, driftPpm } = this.estimate;
    return offsetMs + ((t - at) * driftPpm) / 1e6;
  }

  /** Forgets everything (the other end's page reloaded, so its clock may be another). */
  reset(): void {
    this.count = 0;
    this.next = 0;
    this.anchorAt = Number.NaN;
    this.estimate.offsetMs = 0;
    this.estimate.bestRttMs = Number.NaN;
    this.estimate.at = Number.NaN;
    this.estimate.driftPpm = 0;
  }

  private update(): void {
    const n = this.count;
    // Insertion sort of indexes by rtt: n ≤ 32, once a second.
    for (let k = 0; k < n; k++) {
      let j = k;
      while (j > 0 && (this.rtt[this.order[j - 1] as number] as number) > (this.rtt[k] as number)) {
        this.order[j] = this.order[j - 1] as number;
        j -= 1;
      }
      this.order[j] = k;
    }
    // The best of those, sorted by offset (insertion sort again: ≤ SYNC_BEST).
    const best = Math.min(SYNC_BEST, n);
    for (let k = 0; k < best; k++) {
      const index = this.order[k] as number;
      const offset = this.offset[index] as number;
      let j = k;
      while (j > 0 && (this.offset[this.best[j - 1] as number] as number) > offset) {
        this.best[j] = this.best[j - 1] as number;
        j -= 1;
      }
      this.best[j] = index;
    }
    // The median, with its own time: under drift an offset is only true at the time it was measured.
    const lo = this.best[(best - 1) >> 1] as number;
    const hi = this.best[best >> 1] as number;
    const offset = ((this.offset[lo] as number) + (this.offset[hi] as number)) / 2;
    const at = ((this.t[lo] as number) + (this.t[hi] as number)) / 2;
    const estimate = this.estimate;
    estimate.offsetMs = offset;
    estimate.bestRttMs = this.rtt[this.order[0] as number] as number;
    estimate.at = at;
    if (Number.isNaN(this.anchorAt)) {
      if (n < DRIFT_MIN_SAMPLES) return;
      this.anchorAt = at;
      this.anchorOffset = offset;
    } else if (at - this.anchorAt >= DRIFT_SPAN_MS) {
      const ppm = ((offset - this.anchorOffset) / (at - this.anchorAt)) * 1e6;
      // Smooth it: one span's slope is noisy by (estimate error / span). A slope past what quartz
      // does is that noise (a noisy path, the relay's): the drift known so far stays.
      if (Math.abs(ppm) <= MAX_DRIFT_PPM) {
        estimate.driftPpm = estimate.driftPpm === 0 ? ppm : estimate.driftPpm * 0.5 + ppm * 0.5;
      }
      this.anchorAt = at;
      this.anchorOffset = offset;
    }
  }
}

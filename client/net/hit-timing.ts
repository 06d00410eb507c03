/**
 * What the DAW knows of one controller's timing, from its hits: one-way latency, jitter, and
 * steady mode's fixed delay.
 *
 * A hit's transit is its arrival minus its tap time put into the DAW's clock (clock-sync.ts).
 * Jitter is RFC 3550's interarrival jitter (a running mean of how much consecutive transits
 * differ, gain 1/16), the figure RTP tools show; latency is the median transit of the last
 * TRANSITS hits.
 *
 * Steady mode plays each hit at tap time + the delay chosen here, so hits keep the spacing
 * they were played with. The delay must cover nearly every transit (a later hit plays at once,
 * out of the groove), so it is the 98th percentile of recent transits plus a small margin. It
 * must also stay put while someone plays, or the spacing changes, so it only moves:
 * - at the start of a phrase (no hit for PHRASE_GAP_MS), to wherever the transits say; or
 * - up, at once, when LATE_LIMIT of the last LATE_SPAN hits were late.
 *
 * Allocation-free after construction.
 */

/** Transits kept for the median and the percentile. */
export const TRANSITS = 64;
/** A silence this long starts a new phrase, where the steady delay may change. */
export const PHRASE_GAP_MS = 1_000;
/** Late hits among the last LATE_SPAN that raise the steady delay at once. */
export const LATE_LIMIT = 2;
export const LATE_SPAN = 32;
/**
 * Added to the transit percentile: the DAW's own timers, and the audio clock's mapping, which
 * may sit a millisecond below where the audio thread really is (audio/audio-clock.ts).
 */
export const STEADY_MARGIN_MS = 2;
/** Never less (transits this small are loopback, and 1 ms keeps sub-ms noise from making hits late)… */
export const MIN_STEADY_DELAY_MS = 2;
/** …and never more: past this, steady mode would hurt more than the jitter it hides. */
export const MAX_STEADY_DELAY_MS = 150;
const STEADY_QUANTILE = 0.98;
/** A clock offset estimate that moves this much mid-phrase is a clock that jumped, not a refinement. */
export const OFFSET_JUMP_MS = 50;

export class HitTiming {
  readonly #transits = new Float64Array(TRANSITS);
  /** One more than the transits: a late hit's own transit joins them (see steadyPlayAt). */
  readonly #scratch = new Float64Array(TRANSITS + 1);
  #next = 0;
  #count = 0;
  #lastTransit = Number.NaN;
  #lastArrival = Number.NEGATIVE_INFINITY;
  /** The clock offset steady mode uses for this phrase (see steadyPlayAt). */
  #phraseOffset = Number.NaN;
  /** Our clock when #phraseOffset was taken. */
  #phraseStart = 0;
  /** Bit i: whether the i-th most recent steady hit was late (LATE_SPAN ≤ 32 bits). */
  #lateBits = 0;
  jitterMs = 0;
  /** The fixed tap → play delay of steady mode, ms. */
  steadyDelayMs = Number.NaN;
  /** Hits that missed the steady window and were played at once. */
  late = 0;
  /** Whether the last steadyPlayAt's hit was late (rather than played at once for another reason). */
  lastLate = false;

  /** Median transit of the recent hits, ms (NaN until a hit has been timed). Not for the hit path: it sorts. */
  get oneWayMs(): number {
    return this.#count === 0 ? Number.NaN : this.#quantile(0.5);
  }

  /**
   * Steady mode: when to play a hit tapped at `sentAt` (the controller's clock), given the
   * clock offset now (controller − DAW) and its drift, or NaN to play it now: because it is already past
   * that (it is then counted late), or nothing has been timed yet. `now` is our clock. Call
   * before `observe` for the same hit.
   *
   * The offset is taken at the phrase start and kept for the phrase, like the delay: clock
   * sync refines its estimate as samples come in, and each step would shift every hit after
   * it (only a change of more than OFFSET_JUMP_MS, a clock that jumped, is followed at once).
   */
  steadyPlayAt(sentAt: number, offsetMs: number, driftPpm: number, now: number): number {
    this.lastLate = false;
    if (this.#count === 0 || Number.isNaN(offsetMs)) return Number.NaN;
    // The phrase's offset, carried on by the drift (a phrase can last minutes: 50 ppm is 3 ms a minute).
    const carried = this.#phraseOffset + ((now - this.#phraseStart) * driftPpm) / 1e6;
    // A new phrase: the one moment the delay and offset may move freely (it sorts: rare by design).
    if (now - this.#lastArrival >= PHRASE_GAP_MS || Number.isNaN(this.steadyDelayMs)) {
      this.steadyDelayMs = this.#steadyTarget();
      this.#phraseOffset = offsetMs;
      this.#phraseStart = now;
    } else if (!(Math.abs(offsetMs - carried) <= OFFSET_JUMP_MS)) {
      this.#phraseOffset = offsetMs;
      this.#phraseStart = now;
    }
    const offset = this.#phraseOffset + ((now - this.#phraseStart) * driftPpm) / 1e6;
    const tapAt = sentAt - offset;
    const playAt = tapAt + this.steadyDelayMs;
    // A tap time in the future is no tap (a broken or hostile phone): played now, never scheduled
    // far ahead, where it would hold its voice (and so later hits on it) back.
    if (playAt > now + MAX_STEADY_DELAY_MS) return Number.NaN;
    const isLate = playAt <= now;
    this.#lateBits = ((this.#lateBits << 1) | (isLate ? 1 : 0)) >>> 0;
    if (!isLate) return playAt;
    this.late += 1;
    this.lastLate = true;
    if (popcount(this.#lateBits & LATE_MASK) >= LATE_LIMIT) {
      // This hit's transit counts too (it is observed only after the sound): else, with a full
      // window, the 98th percentile would pass over the only other late transit kept.
      const target = this.#steadyTarget(now - tapAt);
      if (target > this.steadyDelayMs) this.steadyDelayMs = target;
      this.#lateBits = 0;
    }
    return Number.NaN;
  }

  /** A hit that arrived another way (the relay): not a transit of this path, but the phrase goes on. */
  arrived(arrivedAt: number): void {
    this.#lastArrival = arrivedAt;
  }

  /** A hit's transit (arrival − tap time in the DAW's clock) and our clock at its arrival: after the sound. */
  observe(transitMs: number, arrivedAt: number): void {
    // Beyond these a transit is a clock not yet synced or a phone lying about its taps, not a path.
    if (!(transitMs > -MAX_STEADY_DELAY_MS && transitMs < 10_000)) return;
    if (!Number.isNaN(this.#lastTransit)) {
      const d = transitMs - this.#lastTransit;
      this.jitterMs += ((d < 0 ? -d : d) - this.jitterMs) / 16;
    }
    this.#lastTransit = transitMs;
    this.#lastArrival = arrivedAt;
    this.#transits[this.#next] = transitMs;
    this.#next = (this.#next + 1) % TRANSITS;
    if (this.#count < TRANSITS) this.#count += 1;
  }

  #steadyTarget(extra = Number.NaN): number {
    const delay = Math.ceil(this.#quantile(STEADY_QUANTILE, extra) + STEADY_MARGIN_MS);
    return Math.min(MAX_STEADY_DELAY_MS, Math.max(MIN_STEADY_DELAY_MS, delay));
  }

  /**
   * Insertion sort into scratch: n ≤ 65, and no view objects (this runs on the hit path at a
   * phrase start). The transits kept, and `extra` with them unless it is NaN.
   */
  #quantile(q: number, extra = Number.NaN): number {
    const kept = this.#count;
    const n = Number.isNaN(extra) ? kept : kept + 1;
    const sorted = this.#scratch;
    for (let k = 0; k < n; k++) {
      const value = k < kept ? (this.#transits[k] as number) : extra;
      let j = k;
      while (j > 0 && (sorted[j - 1] as number) > value) {
        sorted[j] = sorted[j - 1] as number;
        j -= 1;
      }
      sorted[j] = value;
    }
    return sorted[Math.min(n - 1, Math.max(0, Math.ceil(q * n) - 1))] as number;
  }
}

const LATE_MASK = LATE_SPAN >= 32 ? 0xffffffff : (1 << LATE_SPAN) - 1;

function popcount(bits: number): number {
  let v = bits >>> 0;
  let count = 0;
  while (v !== 0) {
    v &= v - 1;
    count += 1;
  }
  return count;
}

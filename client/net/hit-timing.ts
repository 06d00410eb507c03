/**
 * What the DAW knows of one controller's timing, from its hits: one-way latency, jitter, and
 * steady mode's fixed delay.
 *
 * A hit's transit is its arrival minus its tap time put into the DAW's clock (clock-sync.ts).
 * Transits are kept raw (arrival − tap time in the controller's clock, with the arrival time)
 * and put into the DAW's clock only when they are used, with the clock estimate of that moment:
 * clock sync refines its estimate as samples come in (right after its opening burst, on a busy
 * machine, by a few ms), and a transit converted once, at its arrival, would keep that early
 * error for as long as it is kept. Jitter is RFC 3550's interarrival jitter (a running mean of
 * how much consecutive transits differ, gain 1/16: of raw transits, as RFC 3550 has it, so no
 * clock estimate enters it), the figure RTP tools show; latency is the median transit of the
 * last TRANSITS hits.
 *
 * Steady mode plays each hit at tap time + the delay chosen here, so hits keep the spacing
 * they were played with. The delay must cover nearly every transit (a later hit plays at once,
 * out of the groove), so it is the 98th percentile of recent transits plus a small margin, but
 * never the largest transit kept: one stall (a busy phone or DAW main thread between the tap and
 * its arrival: on a loaded machine, 80 ms where the rest took 10) must not set the delay of a
 * whole phrase; it makes at most that one hit late. (With fewer than 50 transits kept the 98th
 * percentile would be the largest; with a full window of 64 it is the second largest anyway.)
 * It must also stay put while someone plays, or the spacing changes, so it only moves:
 * - at the start of a phrase (no hit for PHRASE_GAP_MS), to wherever the transits say; or
 * - up, at once, when LATE_LIMIT of the last LATE_SPAN hits were late (a real shift of the path).
 *
 * Pure and allocation-free after construction.
 */

/**
 * A clock estimate (clock-sync.ts's ClockEstimate fits): the controller's clock minus ours was
 * `offsetMs` at our time `at`, moving by `driftPpm`. `at` is NaN while there is none.
 */
export interface ClockFix {
  readonly offsetMs: number;
  readonly at: number;
  readonly driftPpm: number;
}

/** The controller's clock minus ours at our time `t` by `clock` (NaN without an estimate). */
export const offsetAt = (clock: ClockFix, t: number): number =>
  clock.offsetMs + ((t - clock.at) * clock.driftPpm) / 1e6;

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
/** The steady delay's percentile of the transits kept (never the largest of them: see above). */
export const STEADY_QUANTILE = 0.98;
/** A clock offset estimate that moves this much mid-phrase is a clock that jumped, not a refinement. */
export const OFFSET_JUMP_MS = 50;

export class HitTiming {
  /** Arrival − tap time in the controller's clock (a transit before the clock offset), ms. */
  private readonly raw = new Float64Array(TRANSITS);
  /** Our clock at each one's arrival (the clock offset is taken at that time). */
  private readonly arrivals = new Float64Array(TRANSITS);
  /** One more than the transits: a late hit's own transit joins them (see steadyPlayAt). */
  private readonly scratch = new Float64Array(TRANSITS + 1);
  private next = 0;
  private count = 0;
  private lastRaw = Number.NaN;
  private lastArrival = Number.NEGATIVE_INFINITY;
  /** The clock offset steady mode uses for this phrase (see steadyPlayAt). */
  private phraseOffset = Number.NaN;
  /** Our clock when `phraseOffset` was taken. */
  private phraseStart = 0;
  /** Bit i: whether the i-th most recent steady hit was late (LATE_SPAN ≤ 32 bits). */
  private lateBits = 0;
  jitterMs = 0;
  /** The fixed tap → play delay of steady mode, ms. */
  steadyDelayMs = Number.NaN;
  /** Hits that missed the steady window and were played at once. */
  late = 0;
  /** Whether the last steadyPlayAt's hit was late (rather than played at once for another reason). */
  lastLate = false;

  /**
   * Median transit of the recent hits, ms, by the clock estimate `clock` (NaN until a hit has
   * been timed, or without an estimate). Not for the hit path: it sorts.
   */
  oneWayMs(clock: ClockFix): number {
    if (this.count === 0 || Number.isNaN(offsetAt(clock, this.lastArrival))) return Number.NaN;
    const n = this.sort(clock, Number.NaN);
    return this.scratch[Math.max(0, Math.ceil(0.5 * n) - 1)] as number;
  }

  /**
   * Steady mode: when to play a hit tapped at `sentAt` (the controller's clock), given the
   * clock estimate now, or NaN to play it now: because it is already past that (it is then
   * counted late), or nothing has been timed yet, or there is no estimate. `now` is our clock.
   * Call before `observe` for the same hit.
   *
   * The offset is taken at the phrase start and kept for the phrase, like the delay: clock
   * sync refines its estimate as samples come in, and each step would shift every hit after
   * it (only a change of more than OFFSET_JUMP_MS, a clock that jumped, is followed at once).
   */
  steadyPlayAt(sentAt: number, clock: ClockFix, now: number): number {
    this.lastLate = false;
    const offsetMs = offsetAt(clock, now);
    if (this.count === 0 || Number.isNaN(offsetMs)) return Number.NaN;
    const driftPpm = clock.driftPpm;
    // The phrase's offset, carried on by the drift (a phrase can last minutes: 50 ppm is 3 ms a minute).
    const carried = this.phraseOffset + ((now - this.phraseStart) * driftPpm) / 1e6;
    // A new phrase: the one moment the delay and offset may move freely (it sorts: rare by design).
    if (now - this.lastArrival >= PHRASE_GAP_MS || Number.isNaN(this.steadyDelayMs)) {
      this.steadyDelayMs = this.steadyTarget(clock, Number.NaN);
      this.phraseOffset = offsetMs;
      this.phraseStart = now;
    } else if (!(Math.abs(offsetMs - carried) <= OFFSET_JUMP_MS)) {
      this.phraseOffset = offsetMs;
      this.phraseStart = now;
    }
    const offset = this.phraseOffset + ((now - this.phraseStart) * driftPpm) / 1e6;
    const tapAt = sentAt - offset;
    const playAt = tapAt + this.steadyDelayMs;
    // A tap time in the future is no tap (a broken or hostile phone): played now, never scheduled
    // far ahead, where it would hold its voice (and so later hits on it) back.
    if (playAt > now + MAX_STEADY_DELAY_MS) return Number.NaN;
    const isLate = playAt <= now;
    this.lateBits = ((this.lateBits << 1) | (isLate ? 1 : 0)) >>> 0;
    if (!isLate) return playAt;
    this.late += 1;
    this.lastLate = true;
    if (popcount(this.lateBits & LATE_MASK) >= LATE_LIMIT) {
      // This hit's transit counts too (it is observed only after the sound): else the target,
      // which passes over the largest transit, would pass over the only other late one kept.
      const target = this.steadyTarget(clock, now - tapAt);
      if (target > this.steadyDelayMs) this.steadyDelayMs = target;
      this.lateBits = 0;
    }
    return Number.NaN;
  }

  /** A hit that arrived another way (the relay): not a transit of this path, but the phrase goes on. */
  arrived(arrivedAt: number): void {
    this.lastArrival = arrivedAt;
  }

  /**
   * A hit tapped at `sentAt` (the controller's clock) that arrived at `arrivedAt` (ours), with
   * the clock estimate now: after the sound.
   */
  observe(sentAt: number, arrivedAt: number, clock: ClockFix): void {
    const raw = arrivedAt - sentAt;
    const transitMs = raw + offsetAt(clock, arrivedAt);
    // Beyond these a transit is a clock not yet synced or a phone lying about its taps, not a path.
    if (!(transitMs > -MAX_STEADY_DELAY_MS && transitMs < 10_000)) return;
    if (!Number.isNaN(this.lastRaw)) {
      const d = raw - this.lastRaw;
      this.jitterMs += ((d < 0 ? -d : d) - this.jitterMs) / 16;
    }
    this.lastRaw = raw;
    this.lastArrival = arrivedAt;
    this.raw[this.next] = raw;
    this.arrivals[this.next] = arrivedAt;
    this.next = (this.next + 1) % TRANSITS;
    if (this.count < TRANSITS) this.count += 1;
  }

  /**
   * The controller's clock is another from now on (a new channel, perhaps a reloaded page or
   * another device: clock sync starts afresh), so the raw transits kept mean nothing any more.
   */
  clockReset(): void {
    this.count = 0;
    this.next = 0;
    this.lastRaw = Number.NaN;
  }

  /**
   * The STEADY_QUANTILE of the transits kept (and `extra`, unless NaN), but never the largest
   * of them, + the margin, rounded up to whole ms and clamped.
   */
  private steadyTarget(clock: ClockFix, extra: number): number {
    const n = this.sort(clock, extra);
    const rank = Math.max(0, Math.min(n - 2, Math.ceil(STEADY_QUANTILE * n) - 1));
    const delay = Math.ceil((this.scratch[rank] as number) + STEADY_MARGIN_MS);
    return Math.min(MAX_STEADY_DELAY_MS, Math.max(MIN_STEADY_DELAY_MS, delay));
  }

  /**
   * Into scratch, sorted: the transits kept, each put into our clock by `clock` at its arrival,
   * and `extra` (already a transit) unless it is NaN. Returns how many. Insertion sort: n ≤ 65,
   * and no view objects (this runs on the hit path at a phrase start).
   */
  private sort(clock: ClockFix, extra: number): number {
    const kept = this.count;
    const n = Number.isNaN(extra) ? kept : kept + 1;
    const sorted = this.scratch;
    for (let k = 0; k < n; k++) {
      const value = k < kept ? (this.raw[k] as number) + offsetAt(clock, this.arrivals[k] as number) : extra;
      let j = k;
      while (j > 0 && (sorted[j - 1] as number) > value) {
        sorted[j] = sorted[j - 1] as number;
        j -= 1;
      }
      sorted[j] = value;
    }
    return n;
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

/**
 * Which of a pad's voices plays a hit, and the rule that one player's plan never delays
 * another's hit (issue 9, item 11).
 *
 * A pad has a few voices, shared by every player. In steady mode a hit is booked on a voice
 * for its planned time, up to 150 ms ahead, and a voice's starts must come in time order
 * (Tone's sources refuse a start before one already booked). Pushing a hit behind the bookings
 * on its voice let a player who books far ahead (a phone lying about its tap times) make
 * everyone's hits on that pad late. So:
 * - A hit starts at the time it asks for (or a sample later, when two starts on a voice would
 *   coincide), never behind another hit's booking.
 * - It takes a voice whose last start is before its time: the one started longest ago.
 * - If every voice is booked for later, it goes on the voice with the fewest such bookings,
 *   and those are cancelled there and booked again after it, at their own times. Nobody's hit
 *   moves: each sound starts, and is cut by the next on its voice, as if every hit had reached
 *   the engine at the moment it plays. That is the rule any engine here must keep.
 * - A pad holds at most MAX_BOOKED_AHEAD hits booked ahead (booking them again costs
 *   main-thread time). When it is full, the player holding the most of them gives way: its
 *   hit planned furthest ahead, the new one or a booked one, is not played, and `gaveWay`
 *   names that player so the DAW counts it where its numbers are shown. A player who books a
 *   pad full loses only its own hits.
 * Hits that start now (instant mode, the laptop's keys) are never booked ahead: they never give
 * way and never make another hit give way.
 *
 * Pure and allocation-free after construction: the engine calls `book()` and carries out what
 * its fields say (engine.ts). Times are context seconds.
 */

/** Hits one pad may hold booked ahead (a player 150 ms behind would need 53 hits a second on one pad to fill it). */
export const MAX_BOOKED_AHEAD = 8;

/** No owner: a hit from this computer. */
export const NO_OWNER = -1;

export class PadBookings {
  readonly voices: number;
  /** Per voice: its latest start that has begun (≤ now), −Infinity for none. */
  private readonly begun: Float64Array;
  /** Per voice: how many hits it has booked ahead. */
  private readonly count: Int32Array;
  /** Per voice, MAX_BOOKED_AHEAD slots from voice × MAX_BOOKED_AHEAD: its bookings, in time order. */
  private readonly bookingTime: Float64Array;
  private readonly gain: Float64Array;
  private readonly velocity: Float64Array;
  private readonly owner: Int32Array;
  private total = 0;

  // ---- What book() decided. The engine: (1) on voice `alsoVoice`, if ≥ 0: cancel from
  // `alsoCancelAt`, play its bookings `alsoFrom` … `alsoTo` − 1; (2) on `voice`: cancel from
  // `cancelAt` unless NaN, play the hit itself first unless `slot` ≥ 0 (booked: it is then one of
  // the bookings), then bookings `replayFrom` … `replayTo` − 1, in order. ----
  /** The voice that plays the hit. */
  voice = 0;
  /** When it starts: the time asked for, or a sample later. */
  time = 0;
  /** Its slot on `voice` when booked ahead, else −1 (it starts now). */
  slot = -1;
  cancelAt = Number.NaN;
  replayFrom = 0;
  replayTo = 0;
  alsoVoice = -1;
  alsoCancelAt = Number.NaN;
  alsoFrom = 0;
  alsoTo = 0;
  /** A booking cancelled to make room: its voice (−1 for none) and time. Its sound never starts. */
  cancelledVoice = -1;
  cancelledTime = Number.NaN;
  /** Whose hit gave way, or null: the new one (book() returned false) or the cancelled booking. */
  gaveWay: number | null = null;

  constructor(voices: number) {
    this.voices = voices;
    this.begun = new Float64Array(voices).fill(Number.NEGATIVE_INFINITY);
    this.count = new Int32Array(voices);
    this.bookingTime = new Float64Array(voices * MAX_BOOKED_AHEAD);
    this.gain = new Float64Array(voices * MAX_BOOKED_AHEAD);
    this.velocity = new Float64Array(voices * MAX_BOOKED_AHEAD);
    this.owner = new Int32Array(voices * MAX_BOOKED_AHEAD);
  }

  /** Hits booked ahead of the last `now` given, on all voices. */
  get booked(): number {
    return this.total;
  }

  /** The latest start on voice `v`, begun or booked. */
  lastStart(v: number): number {
    const n = this.count[v] as number;
    return n > 0 ? (this.bookingTime[v * MAX_BOOKED_AHEAD + n - 1] as number) : (this.begun[v] as number);
  }

  bookedTime(v: number, slot: number): number {
    return this.bookingTime[v * MAX_BOOKED_AHEAD + slot] as number;
  }
  bookedGain(v: number, slot: number): number {
    return this.gain[v * MAX_BOOKED_AHEAD + slot] as number;
  }
  bookedVelocity(v: number, slot: number): number {
    return this.velocity[v * MAX_BOOKED_AHEAD + slot] as number;
  }
  bookedOwner(v: number, slot: number): number {
    return this.owner[v * MAX_BOOKED_AHEAD + slot] as number;
  }

  /**
   * A hit of `owner` for `time` (≥ `now`, the context's current time); `gap` is the least step
   * between two starts on a voice (a sample). Returns false if the hit gives way (`gaveWay` is
   * then `owner`); else the fields above say what to do.
   */
  book(now: number, time: number, gap: number, owner: number, gain: number, velocity: number): boolean {
    this.forgetBegun(now);
    this.cancelledVoice = -1;
    this.cancelledTime = Number.NaN;
    this.alsoVoice = -1;
    this.gaveWay = null;
    const ahead = time > now;
    if (ahead && this.total >= MAX_BOOKED_AHEAD && !this.makeRoom(owner, time)) {
      this.gaveWay = owner;
      return false;
    }

    // A voice whose last start is before the time asked for: the one started longest ago.
    let voice = -1;
    for (let v = 0; v < this.voices; v++) {
      const last = this.lastStart(v);
      if (last < time && (voice < 0 || last < this.lastStart(voice))) voice = v;
    }
    let from: number;
    if (voice >= 0) {
      from = this.count[voice] as number; // after all its bookings
    } else {
      // Every voice is booked for later: the one with the fewest bookings from `time` on (the
      // least to book again), and of those the one whose start before `time` is oldest.
      let fewest = Number.POSITIVE_INFINITY;
      let oldest = Number.POSITIVE_INFINITY;
      from = 0;
      for (let v = 0; v < this.voices; v++) {
        const first = this.firstFrom(v, time);
        const later = (this.count[v] as number) - first;
        const before = this.startBefore(v, first);
        if (later < fewest || (later === fewest && before < oldest)) {
          fewest = later;
          oldest = before;
          voice = v;
          from = first;
        }
      }
    }
    const base = voice * MAX_BOOKED_AHEAD;
    const n = this.count[voice] as number;
    const before = this.startBefore(voice, from);
    const start = time > before + gap ? time : before + gap; // a sample after the start before it
    this.voice = voice;
    this.time = start;
    // From where this voice's automation is redone: the hit's time if bookings follow it, or
    // earlier if a booking on it was cancelled to make room. Never later than the hit: a voice's
    // starts must be given in time order.
    let cancelAt = from < n ? start : Number.NaN;
    if (this.cancelledVoice === voice) cancelAt = Math.min(start, this.cancelledTime);
    if (this.cancelledVoice >= 0 && this.cancelledVoice !== voice) {
      this.alsoVoice = this.cancelledVoice;
      this.alsoCancelAt = this.cancelledTime;
      this.alsoFrom = this.firstFrom(this.alsoVoice, this.cancelledTime);
      this.alsoTo = this.count[this.alsoVoice] as number;
    }
    if (ahead) {
      // Booked ahead: into its place in time order; the later ones move up a slot.
      for (let k = n; k > from; k--) this.move(base + k - 1, base + k);
      this.bookingTime[base + from] = start;
      this.gain[base + from] = gain;
      this.velocity[base + from] = velocity;
      this.owner[base + from] = owner;
      this.count[voice] = n + 1;
      this.total += 1;
      this.slot = from;
    } else {
      // Now (a sample later at most): begun, not booked. Every booking on the voice is after it.
      this.begun[voice] = start;
      this.slot = -1;
    }
    // Bookings played again keep their times, but a voice's starts must stay a sample apart.
    let previous = start;
    const count = this.count[voice] as number;
    for (let k = from + (ahead ? 1 : 0); k < count; k++) {
      const at = this.bookingTime[base + k] as number;
      previous = at > previous + gap ? at : previous + gap;
      this.bookingTime[base + k] = previous;
    }
    this.cancelAt = cancelAt;
    this.replayFrom = Number.isNaN(cancelAt) ? count : this.firstFrom(voice, cancelAt);
    this.replayTo = count;
    return true;
  }

  /**
   * The pad is full: the player holding the most bookings (this hit counted; of two, the one
   * booked further ahead) gives way with its hit planned furthest ahead. False if that is this hit.
   */
  private makeRoom(owner: number, time: number): boolean {
    let loser = owner;
    let held = this.held(owner) + 1;
    let latest = Math.max(time, this.latestOf(owner));
    for (let v = 0; v < this.voices; v++) {
      for (let k = 0; k < (this.count[v] as number); k++) {
        const other = this.owner[v * MAX_BOOKED_AHEAD + k] as number;
        if (other === loser) continue;
        const otherHeld = this.held(other) + (other === owner ? 1 : 0);
        const otherLatest = other === owner ? Math.max(time, this.latestOf(other)) : this.latestOf(other);
        if (otherHeld > held || (otherHeld === held && otherLatest > latest)) {
          loser = other;
          held = otherHeld;
          latest = otherLatest;
        }
      }
    }
    if (loser === owner && time >= this.latestOf(owner)) return false;
    // Its booking furthest ahead goes; the voice's later bookings move down a slot.
    for (let v = 0; v < this.voices; v++) {
      const base = v * MAX_BOOKED_AHEAD;
      const n = this.count[v] as number;
      for (let k = 0; k < n; k++) {
        if (this.owner[base + k] !== loser || this.bookingTime[base + k] !== latest) continue;
        this.cancelledVoice = v;
        this.cancelledTime = latest;
        this.gaveWay = loser;
        for (let j = k + 1; j < n; j++) this.move(base + j, base + j - 1);
        this.count[v] = n - 1;
        this.total -= 1;
        return true;
      }
    }
    return true; // not reached: `latest` is one of the loser's bookings
  }

  /** How many hits `owner` has booked. */
  private held(owner: number): number {
    let held = 0;
    for (let v = 0; v < this.voices; v++) {
      for (let k = 0; k < (this.count[v] as number); k++) if (this.owner[v * MAX_BOOKED_AHEAD + k] === owner) held++;
    }
    return held;
  }

  /** The time of `owner`'s booking furthest ahead (−Infinity for none). */
  private latestOf(owner: number): number {
    let latest = Number.NEGATIVE_INFINITY;
    for (let v = 0; v < this.voices; v++) {
      for (let k = 0; k < (this.count[v] as number); k++) {
        const i = v * MAX_BOOKED_AHEAD + k;
        if (this.owner[i] === owner && (this.bookingTime[i] as number) > latest) latest = this.bookingTime[i] as number;
      }
    }
    return latest;
  }

  private move(from: number, to: number): void {
    this.bookingTime[to] = this.bookingTime[from] as number;
    this.gain[to] = this.gain[from] as number;
    this.velocity[to] = this.velocity[from] as number;
    this.owner[to] = this.owner[from] as number;
  }

  /** The start on voice `v` before its booking `slot`: the booking before it, or the voice's begun start. */
  private startBefore(v: number, slot: number): number {
    return slot > 0 ? (this.bookingTime[v * MAX_BOOKED_AHEAD + slot - 1] as number) : (this.begun[v] as number);
  }

  /** The first booking on voice `v` at or after `time` (its count if none). */
  private firstFrom(v: number, time: number): number {
    const base = v * MAX_BOOKED_AHEAD;
    const n = this.count[v] as number;
    let k = 0;
    while (k < n && (this.bookingTime[base + k] as number) < time) k++;
    return k;
  }

  /** Bookings whose time has come are no longer ahead: they become each voice's begun start. */
  private forgetBegun(now: number): void {
    if (this.total === 0) return;
    for (let v = 0; v < this.voices; v++) {
      const base = v * MAX_BOOKED_AHEAD;
      const n = this.count[v] as number;
      let done = 0;
      while (done < n && (this.bookingTime[base + done] as number) <= now) done++;
      if (done === 0) continue;
      this.begun[v] = this.bookingTime[base + done - 1] as number;
      for (let k = done; k < n; k++) this.move(base + k, base + k - done);
      this.count[v] = n - done;
      this.total -= done;
    }
  }
}

/**
 * How many hits each player may have waiting for their start (steady mode plans hits up to
 * ~150 ms ahead), decided on the main thread as a hit is handed over, so that trigger() can say
 * at once whose hit gave way. Waiting hits hold no voice in the sampler (sampler-core.ts), so
 * they delay no one; the quota only bounds the sampler's waiting list, and a player over it
 * loses its own new hits, never anyone else's.
 *
 * Pure and allocation-free: OWNER_ROWS rows of MAX_AHEAD_PER_OWNER start times; a row belongs to
 * an owner while it holds a time still ahead of the clock. Times are context seconds.
 */

/** Hits one player may have waiting: a player 150 ms behind could play 400 hits a second within it. */
export const MAX_AHEAD_PER_OWNER = 64;
/** Players who may have hits waiting at once (a room has far fewer). */
export const OWNER_ROWS = 64;

const NONE = -0x80000000;

// Plain private fields, not #private ones: the build lowers #fields to WeakMaps (for its oldest
// targets), a lookup per access, which this hot path cannot afford.
export class AheadQuota {
  private readonly _owner = new Int32Array(OWNER_ROWS).fill(NONE);
  private readonly _count = new Int32Array(OWNER_ROWS);
  /** Per row, its latest time (the row is free once the clock has passed it). */
  private readonly _latest = new Float64Array(OWNER_ROWS).fill(Number.NEGATIVE_INFINITY);
  private readonly _times = new Float64Array(OWNER_ROWS * MAX_AHEAD_PER_OWNER);

  /**
   * Takes a place for `owner`'s hit starting at `time` (> now). False if that owner already has
   * MAX_AHEAD_PER_OWNER hits waiting (or, never in a real room, OWNER_ROWS other players have).
   */
  take(owner: number, time: number, now: number): boolean {
    let row = -1;
    let spare = -1;
    for (let r = 0; r < OWNER_ROWS; r++) {
      if (this._owner[r] === owner) {
        row = r;
        break;
      }
      if (spare < 0 && (this._latest[r] as number) <= now) spare = r;
    }
    if (row < 0) {
      if (spare < 0) return false;
      row = spare;
      this._owner[row] = owner;
      this._count[row] = 0;
      this._latest[row] = Number.NEGATIVE_INFINITY;
    }
    // Forget the times the clock has passed.
    const base = row * MAX_AHEAD_PER_OWNER;
    const times = this._times;
    let kept = 0;
    const count = this._count[row] as number;
    for (let k = 0; k < count; k++) {
      const t = times[base + k] as number;
      if (t > now) times[base + kept++] = t;
    }
    if (kept >= MAX_AHEAD_PER_OWNER) {
      this._count[row] = kept;
      return false;
    }
    times[base + kept] = time;
    this._count[row] = kept + 1;
    if (time > (this._latest[row] as number)) this._latest[row] = time;
    return true;
  }

  /** Hits `owner` has waiting after `now`. */
  waiting(owner: number, now: number): number {
    for (let r = 0; r < OWNER_ROWS; r++) {
      if (this._owner[r] !== owner) continue;
      let n = 0;
      const base = r * MAX_AHEAD_PER_OWNER;
      for (let k = 0; k < (this._count[r] as number); k++) if ((this._times[base + k] as number) > now) n++;
      return n;
    }
    return 0;
  }
}

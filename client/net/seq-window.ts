/**
 * Plays each hit once. Hits ride an unordered, no-retransmit channel (and, for redundancy,
 * may arrive more than once), so the DAW keeps, per controller, the sequence numbers it has
 * seen among the last WINDOW: a replay of one of them is a duplicate; one older than the
 * window cannot be told from a duplicate and is dropped as stale. Gaps ahead of the newest
 * seq are counted as lost until (if ever) the missing hit turns up late.
 */
export const SEQ_WINDOW = 256;

export type SeqVerdict = 'new' | 'duplicate' | 'stale';

export class SeqWindow {
  /** seen[seq % WINDOW] === seq exactly when that seq has been played: no bit tricks, no false positives. */
  private readonly seen = new Float64Array(SEQ_WINDOW).fill(-1);
  private currentEpoch = -1;
  private newestSeq = -1;
  /** Seqs skipped over and not (yet) seen. */
  lost = 0;

  /** The sequence's epoch (−1 before any hit). */
  get epoch(): number {
    return this.currentEpoch;
  }

  /** The highest seq accepted in this epoch (−1 before any hit). */
  get newest(): number {
    return this.newestSeq;
  }

  accept(epoch: number, seq: number): SeqVerdict {
    if (epoch !== this.currentEpoch) {
      // A new page load of the controller: its seqs start over.
      this.currentEpoch = epoch;
      this.seen.fill(-1);
      this.newestSeq = seq;
      this.seen[seq % SEQ_WINDOW] = seq;
      return 'new';
    }
    if (seq > this.newestSeq) {
      // Only gaps we can still fill count: beyond the window they are gone for good either way.
      this.lost += Math.min(seq - this.newestSeq - 1, SEQ_WINDOW);
      this.newestSeq = seq;
      this.seen[seq % SEQ_WINDOW] = seq;
      return 'new';
    }
    if (seq <= this.newestSeq - SEQ_WINDOW) return 'stale';
    const slot = seq % SEQ_WINDOW;
    if (this.seen[slot] === seq) return 'duplicate';
    this.seen[slot] = seq;
    if (this.lost > 0) this.lost -= 1;
    return 'new';
  }
}

/**
 * The controller's outgoing pad hits: over the data channel when it is open, else through
 * the signal server's relay, else held for at most HOLD_MS in case one of them comes back
 * (a channel opening, a socket reconnecting, the DAW's page coming back) and then dropped and
 * counted. A hit is never sent late beyond that: a drum hit a quarter second late is a wrong
 * note, not a slow one. A relayed hit the server hands back (`bounced`: the DAW was away when
 * it got there) is held again under its seq, or dropped and counted: never lost quietly.
 *
 * The hot path (`send` with an open channel) writes into a buffer it owns and allocates
 * nothing; the relay path makes one small object, as JSON needs.
 */
import { PacketWriter, type RelayHit, relayHit, wallClock } from './hits.ts';

export const HOLD_MS = 250;
export const HOLD_LIMIT = 32;
/**
 * Each hit goes out on the channel 1 + REPEATS times, as RTP's redundancy does: inside the
 * next packets (each packet carries the earlier hits that still have copies due, oldest
 * first), or, when no hit follows within TAIL_MS, in a packet of its own. So no single lost
 * packet loses a hit, not even the last of a phrase, and the DAW plays each seq once.
 * Copies are never sent for a hit older than HOLD_MS.
 */
export const REPEATS = 2;
export const TAIL_MS = 10;
/**
 * Relayed hits remembered (the latest), in case the server hands one back: at the DAW's limit
 * of 250 hits/s, more than HOLD_MS of them, so a hit forgotten is one too old to send anyway.
 */
export const RELAY_MEMORY = 64;

export interface HitTransports {
  /** Sends a packet on the open data channel; false if there is none (or it is backed up). */
  p2p(packet: Uint8Array): boolean;
  /**
   * Whether the channel has been heard from lately. A channel that went quiet may be dead
   * without knowing it yet: a hit sent on it then goes through the relay too (the DAW
   * plays whichever copy comes first, once).
   */
  p2pLively(): boolean;
  /**
   * Sends a hit through the signal server now; false if the socket cannot take it now (or the
   * DAW is known to be away). The hit's seq is its reference in any error the server answers with.
   */
  relay(hit: RelayHit): boolean;
}

export interface HitCounts {
  p2p: number;
  relay: number;
  /** Held too long without any way out, or more held than HOLD_LIMIT. */
  dropped: number;
  /** Sent on a quiet channel and, to be safe, through the relay as well. */
  doubled: number;
  /** Packets sent only to repeat earlier hits (no hit followed them within TAIL_MS). */
  tails: number;
}

export type SendOutcome = 'p2p' | 'relay' | 'held' | 'dropped';

export interface HitSenderOptions {
  epoch: number;
  /** Wall-clock ms (ms since the Unix epoch, with fractions): the hit's `sentAt`. */
  now?: () => number;
  holdMs?: number;
  holdLimit?: number;
  /** Told after every change of the counts that is not a plain send (a drop). */
  onDrop?: () => void;
}

// TypeScript `private`, not `#private`: built for the phones' floor (Safari 15.4) every `#` member
// becomes a WeakMap lookup on each use, and a tap comes through here (docs/architecture.md).
export class HitSender {
  readonly counts: HitCounts = { p2p: 0, relay: 0, dropped: 0, doubled: 0, tails: 0 };
  readonly epoch: number;
  private readonly transports: HitTransports;
  private readonly writer: PacketWriter;
  private readonly now: () => number;
  private readonly holdMs: number;
  private readonly onDrop: (() => void) | undefined;
  private seq = 0;
  // Held hits in parallel typed arrays (a ring): nothing allocated while holding. A held hit's
  // seq is −1 until it is first sent (a hit handed back by the server keeps the one it had).
  private readonly heldSeq: Float64Array;
  private readonly heldPad: Uint8Array;
  private readonly heldVelocity: Uint8Array;
  private readonly heldAt: Float64Array;
  private heldStart = 0;
  private heldCount = 0;
  // The last REPEATS hits sent on the channel, a ring, newest at recentNext − 1, with the
  // copies each still has due.
  private readonly recentSeq = new Float64Array(REPEATS);
  private readonly recentPad = new Uint8Array(REPEATS);
  private readonly recentVelocity = new Uint8Array(REPEATS);
  private readonly recentAt = new Float64Array(REPEATS);
  private readonly recentDue = new Uint8Array(REPEATS);
  private recentNext = 0;
  private recentCount = 0;
  private expiryTimer: ReturnType<typeof setTimeout> | undefined;
  private tailTimer: ReturnType<typeof setTimeout> | undefined;
  private lastP2pAt = Number.NEGATIVE_INFINITY;
  // The last RELAY_MEMORY relayed hits (a ring): what `bounced` looks a seq up in.
  private readonly relayedSeq = new Float64Array(RELAY_MEMORY).fill(-1);
  private readonly relayedPad = new Uint8Array(RELAY_MEMORY);
  private readonly relayedVelocity = new Uint8Array(RELAY_MEMORY);
  private readonly relayedAt = new Float64Array(RELAY_MEMORY);
  private relayedNext = 0;
  private readonly sendTail = () => this.tail();

  constructor(transports: HitTransports, options: HitSenderOptions) {
    this.transports = transports;
    this.epoch = options.epoch >>> 0;
    this.writer = new PacketWriter(this.epoch);
    this.now = options.now ?? wallClock;
    this.holdMs = options.holdMs ?? HOLD_MS;
    this.onDrop = options.onDrop;
    const limit = options.holdLimit ?? HOLD_LIMIT;
    this.heldSeq = new Float64Array(limit);
    this.heldPad = new Uint8Array(limit);
    this.heldVelocity = new Uint8Array(limit);
    this.heldAt = new Float64Array(limit);
  }

  get held(): number {
    return this.heldCount;
  }

  /** A tap: out now, or held briefly, or dropped. `velocity` is 1–127. */
  send(pad: number, velocity: number): SendOutcome {
    const tappedAt = this.now();
    // Hits held earlier go first, so the DAW hears them in the order they were played.
    if (this.heldCount > 0) this.flush();
    if (this.heldCount === 0) {
      const outcome = this.transmit(-1, pad, velocity, tappedAt, tappedAt);
      if (outcome !== null) return outcome;
    }
    return this.hold(-1, pad, velocity, tappedAt);
  }

  /**
   * The server handed a relayed hit back undelivered (its DAW was away when it arrived): it is
   * held again under its own seq while it is fresh (a DAW page reloading is back within the
   * hold), else dropped and counted. A seq no longer remembered counts as dropped at once.
   */
  bounced(seq: number): void {
    const i = this.relayedSeq.indexOf(seq);
    if (i < 0) return this.drop(1);
    this.relayedSeq[i] = -1;
    const tappedAt = this.relayedAt[i] as number;
    if (this.now() - tappedAt > this.holdMs) return this.drop(1);
    this.hold(seq, this.relayedPad[i] as number, this.relayedVelocity[i] as number, tappedAt);
  }

  /** A way out may be back: sends the held hits that are still fresh, drops the stale ones. */
  flush(): void {
    const now = this.now();
    const limit = this.heldPad.length;
    let dropped = 0;
    while (this.heldCount > 0) {
      const i = this.heldStart;
      const tappedAt = this.heldAt[i] as number;
      if (now - tappedAt > this.holdMs) {
        dropped += 1;
      } else {
        const pad = this.heldPad[i] as number;
        if (this.transmit(this.heldSeq[i] as number, pad, this.heldVelocity[i] as number, tappedAt, now) === null) {
          break;
        }
      }
      this.heldStart = (i + 1) % limit;
      this.heldCount -= 1;
    }
    if (dropped > 0) this.drop(dropped);
    this.armExpiry();
  }

  /** Drops everything held (the page is going away). */
  dispose(): void {
    clearTimeout(this.expiryTimer);
    clearTimeout(this.tailTimer);
    this.recentCount = 0;
    if (this.heldCount > 0) this.drop(this.heldCount);
    this.heldCount = 0;
  }

  /** Sends one hit (a new one when `given` is −1, numbered then; else again under seq `given`). */
  private transmit(
    given: number,
    pad: number,
    velocity: number,
    tappedAt: number,
    now: number,
  ): 'p2p' | 'relay' | null {
    const seq = given < 0 ? this.seq : given;
    if (this.transports.p2p(this.packet(seq, pad, velocity, tappedAt, now))) {
      if (given < 0) this.seq = seq + 1;
      this.counts.p2p += 1;
      this.spendRepeats(now);
      this.remember(seq, pad, velocity, tappedAt);
      this.lastP2pAt = now;
      if (this.tailTimer === undefined) this.tailTimer = setTimeout(this.sendTail, TAIL_MS);
      if (!this.transports.p2pLively() && this.transports.relay(relayHit(this.epoch, seq, pad, velocity, tappedAt))) {
        this.counts.doubled += 1;
        this.relayed(seq, pad, velocity, tappedAt);
      }
      return 'p2p';
    }
    if (this.transports.relay(relayHit(this.epoch, seq, pad, velocity, tappedAt))) {
      if (given < 0) this.seq = seq + 1;
      this.counts.relay += 1;
      this.relayed(seq, pad, velocity, tappedAt);
      return 'relay';
    }
    return null;
  }

  /**
   * Remembers a hit that went through the relay. (Also a doubled one, sent on a quiet channel
   * too: if the server hands its relay copy back, the DAW is away, so the channel is likely dead
   * as well; holding it again is safe, the DAW plays each seq once.)
   */
  private relayed(seq: number, pad: number, velocity: number, tappedAt: number): void {
    const r = this.relayedNext;
    this.relayedSeq[r] = seq;
    this.relayedPad[r] = pad;
    this.relayedVelocity[r] = velocity;
    this.relayedAt[r] = tappedAt;
    this.relayedNext = (r + 1) % RELAY_MEMORY;
  }

  /** A HIT packet: the earlier hits with copies due (oldest first), then this one (if `seq` ≥ 0). */
  private packet(seq: number, pad: number, velocity: number, tappedAt: number, now: number): Uint8Array {
    let count = 0;
    for (let k = this.recentCount; k >= 1; k--) {
      const i = (this.recentNext - k + REPEATS) % REPEATS;
      if (!this.isDue(i, now)) continue;
      this.writer.record(
        count++,
        this.recentSeq[i] as number,
        this.recentPad[i] as number,
        this.recentVelocity[i] as number,
        this.recentAt[i] as number,
      );
    }
    if (seq >= 0) this.writer.record(count++, seq, pad, velocity, tappedAt);
    return this.writer.hits(count);
  }

  private isDue(i: number, now: number): boolean {
    return (this.recentDue[i] as number) > 0 && now - (this.recentAt[i] as number) <= this.holdMs;
  }

  /** The packet built with packet went out: each repeated hit has one copy fewer due. */
  private spendRepeats(now: number): void {
    for (let k = 1; k <= this.recentCount; k++) {
      const i = (this.recentNext - k + REPEATS) % REPEATS;
      if (this.isDue(i, now)) this.recentDue[i] = (this.recentDue[i] as number) - 1;
    }
  }

  /** No hit followed within TAIL_MS: the copies still due go out on their own. */
  private tail(): void {
    this.tailTimer = undefined;
    const now = this.now();
    const quietFor = now - this.lastP2pAt;
    if (quietFor < TAIL_MS) {
      // Hits are still flowing and carry the copies: look again when they pause.
      this.tailTimer = setTimeout(this.sendTail, TAIL_MS - quietFor);
      return;
    }
    let due = 0;
    for (let k = 1; k <= this.recentCount; k++) {
      if (this.isDue((this.recentNext - k + REPEATS) % REPEATS, now)) due += 1;
    }
    if (due === 0) return;
    if (this.transports.p2p(this.packet(-1, 0, 0, 0, now))) {
      this.counts.tails += 1;
      this.spendRepeats(now);
      this.lastP2pAt = now;
    }
    this.tailTimer = setTimeout(this.sendTail, TAIL_MS);
  }

  private remember(seq: number, pad: number, velocity: number, tappedAt: number): void {
    const i = this.recentNext;
    this.recentSeq[i] = seq;
    this.recentPad[i] = pad;
    this.recentVelocity[i] = velocity;
    this.recentAt[i] = tappedAt;
    this.recentDue[i] = REPEATS;
    this.recentNext = (i + 1) % REPEATS;
    if (this.recentCount < REPEATS) this.recentCount += 1;
  }

  private hold(seq: number, pad: number, velocity: number, tappedAt: number): SendOutcome {
    const limit = this.heldPad.length;
    if (this.heldCount >= limit) {
      this.drop(1);
      return 'dropped';
    }
    const i = (this.heldStart + this.heldCount) % limit;
    this.heldSeq[i] = seq;
    this.heldPad[i] = pad;
    this.heldVelocity[i] = velocity;
    this.heldAt[i] = tappedAt;
    this.heldCount += 1;
    this.armExpiry();
    return 'held';
  }

  private drop(count: number): void {
    this.counts.dropped += count;
    this.onDrop?.();
  }

  /** Wakes up when the oldest held hit goes stale, so drops are counted (and shown) on time. */
  private armExpiry(): void {
    clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    if (this.heldCount === 0) return;
    const oldest = this.heldAt[this.heldStart] as number;
    const delay = Math.max(0, oldest + this.holdMs - this.now()) + 1;
    this.expiryTimer = setTimeout(() => this.flush(), delay);
  }
}

import type { RateLimit } from './limits.ts';

/**
 * A token bucket on an injected clock (ms). Allocation-free per call: it sits on the path of
 * every inbound message.
 */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private readonly rate: RateLimit,
    now: number,
  ) {
    this.tokens = rate.burst;
    this.updatedAt = now;
  }

  /** Takes one token if there is one. */
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Takes `count` tokens at once if there are that many (a byte budget: count is the size). */
  takeMany(count: number, now: number): boolean {
    this.refill(now);
    if (this.tokens < count) return false;
    this.tokens -= count;
    return true;
  }

  /** How long (ms) until `count` tokens are there (0 if they are now); Infinity for more than the burst. */
  msUntil(count: number, now: number): number {
    this.refill(now);
    if (this.tokens >= count) return 0;
    if (count > this.rate.burst) return Number.POSITIVE_INFINITY;
    return ((count - this.tokens) * 1000) / this.rate.perSecond;
  }

  /** Whether a token is there, without taking it. */
  has(now: number): boolean {
    this.refill(now);
    return this.tokens >= 1;
  }

  /** Whether the bucket has refilled completely (nothing to remember about its owner). */
  isFull(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.rate.burst;
  }

  private refill(now: number): void {
    const elapsed = now - this.updatedAt;
    if (elapsed <= 0) return;
    this.updatedAt = now;
    this.tokens = Math.min(this.rate.burst, this.tokens + (elapsed * this.rate.perSecond) / 1000);
  }
}

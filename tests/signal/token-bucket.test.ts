import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../signal/token-bucket.ts';

describe('TokenBucket', () => {
  it('allows a burst, then the sustained rate', () => {
    const bucket = new TokenBucket({ perSecond: 10, burst: 3 }, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([true, true, true, false]);
    expect(bucket.take(50)).toBe(false); // half a token
    expect(bucket.take(100)).toBe(true); // one token after 100 ms at 10/s
    expect(bucket.take(100)).toBe(false);
  });

  it('never holds more than the burst', () => {
    const bucket = new TokenBucket({ perSecond: 1000, burst: 2 }, 0);
    expect(bucket.isFull(60_000)).toBe(true);
    expect([bucket.take(60_000), bucket.take(60_000), bucket.take(60_000)]).toEqual([true, true, false]);
  });

  it('peeks without taking, and ignores a clock that goes back', () => {
    const bucket = new TokenBucket({ perSecond: 1, burst: 1 }, 1000);
    expect(bucket.has(1000)).toBe(true);
    expect(bucket.take(1000)).toBe(true);
    expect(bucket.has(500)).toBe(false);
    expect(bucket.isFull(2000)).toBe(true);
  });
});

import { describe, expect, it } from 'vitest';
import { AheadQuota, MAX_AHEAD_PER_OWNER, OWNER_ROWS } from '../../client/audio/sampler/ahead-quota.ts';

describe('AheadQuota', () => {
  it('lets a player have MAX_AHEAD_PER_OWNER hits waiting, refuses its next, and leaves the others alone', () => {
    const quota = new AheadQuota();
    for (let i = 0; i < MAX_AHEAD_PER_OWNER; i++) expect(quota.take(1, 10 + i * 0.001, 9.9)).toBe(true);
    expect(quota.take(1, 10.5, 9.9)).toBe(false);
    expect(quota.waiting(1, 9.9)).toBe(MAX_AHEAD_PER_OWNER);
    expect(quota.take(2, 10.01, 9.9)).toBe(true); // another player
    expect(quota.take(-1, 10.01, 9.9)).toBe(true); // this computer
  });

  it('gives a place back once the clock passes its hit', () => {
    const quota = new AheadQuota();
    for (let i = 0; i < MAX_AHEAD_PER_OWNER; i++) quota.take(1, 10 + i * 0.01, 9.9);
    expect(quota.take(1, 11, 9.9)).toBe(false);
    expect(quota.take(1, 11, 10.025)).toBe(true); // three have started: 10, 10.01, 10.02
    expect(quota.waiting(1, 10.025)).toBe(MAX_AHEAD_PER_OWNER - 3 + 1);
  });

  it('has a row for each of OWNER_ROWS players at once, and rows come free when their hits have started', () => {
    const quota = new AheadQuota();
    for (let owner = 0; owner < OWNER_ROWS; owner++) expect(quota.take(owner, 10, 9)).toBe(true);
    expect(quota.take(OWNER_ROWS, 10, 9)).toBe(false);
    expect(quota.take(OWNER_ROWS, 11, 10.5)).toBe(true); // every earlier hit has started
    expect(quota.take(0, 11, 10.5)).toBe(true);
  });
});

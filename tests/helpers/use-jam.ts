/** The jam rig's hooks for a test file (apart from jam.ts, which the benchmarks import too: no Vitest there). */
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { Jam } from './jam.ts';

/**
 * One Jam for a test file: launched before its tests (handed to `take`), reset after each test,
 * which fails if any page logged an error, and closed after them all.
 */
export function useJam(take: (jam: Jam) => void): void {
  let jam: Jam | undefined;
  beforeAll(async () => {
    jam = await Jam.launch();
    take(jam);
  });
  afterAll(async () => {
    await jam?.close();
  });
  afterEach(async () => {
    if (jam === undefined) return;
    const errors = [...jam.errors];
    await jam.reset();
    expect(errors).toEqual([]);
  });
}

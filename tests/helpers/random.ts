/** A seeded random source (mulberry32), so simulated networks and clocks give the same numbers every run. */
export function seededRandom(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** An exponentially distributed delay of mean `mean` (queueing), from a uniform source. */
export const exponential = (random: () => number, mean: number): number => -Math.log(1 - random()) * mean;

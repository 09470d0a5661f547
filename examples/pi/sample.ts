// The pure part of the π example: a seedable PRNG and the hit counter. Kept apart from the
// program so a test can compute the expected estimate sequentially with the same code.

/** Scrambles a seed so consecutive seeds (base, base+1, …) start unrelated streams. */
function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}

/** mulberry32: a tiny 32-bit PRNG, bit-for-bit identical on every host and Node.js version. */
export function mulberry32(seed: number): () => number {
  let a = mix32(seed);
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Counts how many of `n` points in the unit square fall inside the quarter circle. */
export function countHits(seed: number, n: number): number {
  const rand = mulberry32(seed);
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const x = rand();
    const y = rand();
    if (x * x + y * y <= 1) hits++;
  }
  return hits;
}

/** The whole computation run sequentially: the reference a parallel run must equal exactly. */
export function estimateSequential(base: number, batches: number, perBatch: number): number {
  let hits = 0;
  for (let b = 0; b < batches; b++) hits += countHits(base + b, perBatch);
  return (4 * hits) / (batches * perBatch);
}

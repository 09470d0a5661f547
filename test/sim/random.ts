// Seeded randomness for the simulator: independent streams per concern (hosts, faults, program,
// service times), so a change in one (say, the scheduler sends ops in another order) does not
// reshuffle the others, and distributions around a mean.
import { seededRandom } from "../helpers/seeded-random.ts";

export class Random {
  private readonly next: () => number;
  private spare: number | null = null;

  constructor(seed: number, stream = 0) {
    this.next = seededRandom(mix32(seed, stream));
  }

  /** [0, 1) */
  float(): number {
    return this.next();
  }

  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }

  /** Exponential with this mean. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  /** Log-normal with this mean and shape sigma (sigma 0: always the mean). */
  lognormal(mean: number, sigma: number): number {
    if (sigma === 0) return mean;
    return mean * Math.exp(sigma * this.normal() - (sigma * sigma) / 2);
  }

  /** Standard normal (Box–Muller, one spare kept). */
  normal(): number {
    if (this.spare !== null) {
      const value = this.spare;
      this.spare = null;
      return value;
    }
    const u = 1 - this.next();
    const v = this.next();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

/** A 32-bit hash of two integers (for deriving stream seeds). */
export function mix32(a: number, b: number): number {
  let h = Math.imul((a >>> 0) ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul((b >>> 0) + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return h >>> 0;
}

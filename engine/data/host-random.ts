/**
 * A small seeded random stream on the host, for data generation and shuffling (work that
 * happens before tensors exist, so it does not need to be an op). It reads consecutive
 * counters of core/random's counter-based generator, so a seed fixes every number drawn, on
 * every platform.
 */

import { randomBits } from '../core/random.js';

export class HostRandom {
  private counter = 0;
  readonly seed: number;

  constructor(seed: number) {
    this.seed = seed >>> 0;
  }

  /** Uniform in [0, 1), 32 random bits. */
  uniform(): number {
    return randomBits(this.seed, this.counter++) * 2 ** -32;
  }

  /** Uniform in [lo, hi). */
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.uniform();
  }

  /** Standard normal, by Box–Muller on two uniforms. */
  normal(): number {
    const u1 = 1 - this.uniform(); // (0, 1]: log stays finite
    const u2 = this.uniform();
    return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** A uniformly random permutation of 0..n-1 (Fisher–Yates). */
  permutation(n: number): number[] {
    const out = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = out[i]!;
      out[i] = out[j]!;
      out[j] = t;
    }
    return out;
  }
}

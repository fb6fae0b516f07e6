/**
 * Fixed-bin histograms of tensor values for the training views: the session bins each
 * parameter and its gradient every few steps, and the Train panel stacks them over time. A
 * histogram spans the finite values' range (a constant tensor gets a unit-wide range around its
 * value) in `bins` equal bins; NaN and ±Inf are counted apart, never binned. One pass, no sort.
 */

import type { ValueHistogram } from '../protocol/messages.js';

/** The default number of bins: enough to show a shape, small enough to send every few steps. */
export const HISTOGRAM_BINS = 24;

/** The histogram of `data` in `bins` equal bins over its finite range. */
export function histogramOf(data: ArrayLike<number>, bins = HISTOGRAM_BINS): ValueHistogram {
  if (!Number.isInteger(bins) || bins < 1)
    throw new RangeError(`a histogram needs a whole number of bins >= 1, got ${bins}`);
  let lo = Infinity;
  let hi = -Infinity;
  let nonFinite = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0) {
      nonFinite++;
      continue;
    }
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const counts: number[] = new Array<number>(bins).fill(0);
  if (lo > hi) return { lo: 0, hi: 0, counts, nonFinite };
  if (lo === hi) {
    lo -= 0.5;
    hi += 0.5;
  }
  const scale = bins / (hi - lo);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v - v !== 0) continue;
    // The maximum lands on the last bin's closed right edge.
    counts[Math.min(bins - 1, Math.floor((v - lo) * scale))]!++;
  }
  return { lo, hi, counts, nonFinite };
}

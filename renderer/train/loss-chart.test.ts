import { describe, expect, it } from 'vitest';
import { roundStep } from './LossChart.js';

describe('the loss chart axis', () => {
  it('rounds a quarter of the largest loss up to a round step', () => {
    expect([0.3, 0.29, 0.31, 1.2 / 4, 0.0019, 7, 11, 0.25, 1].map(roundStep)).toEqual([
      0.3, 0.3, 0.4, 0.3, 0.002, 8, 15, 0.25, 1,
    ]);
  });

  it('is never below the value and at most 1.5 times it', () => {
    for (let v = 1e-6; v < 1e6; v *= 1.37) {
      const s = roundStep(v);
      expect(s).toBeGreaterThanOrEqual(v * (1 - 1e-9));
      expect(s).toBeLessThanOrEqual(v * 1.5 + 1e-12);
    }
  });

  it('falls back to 1 for nothing to show', () => {
    expect([0, -1, NaN, Infinity].map(roundStep)).toEqual([1, 1, 1, 1]);
  });
});

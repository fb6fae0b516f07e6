import { describe, expect, it } from 'vitest';
import { histogramOf } from './histograms.js';

describe('histogramOf', () => {
  it('bins values over their range, the maximum in the last bin', () => {
    const h = histogramOf([0, 1, 2, 3, 4, 5, 6, 7, 8], 4);
    expect(h).toEqual({ lo: 0, hi: 8, counts: [2, 2, 2, 3], nonFinite: 0 });
  });

  it('counts every finite value exactly once, on bin edges too', () => {
    const data = Float32Array.from({ length: 1000 }, (_, i) => Math.sin(i) * (i % 7));
    const h = histogramOf(data, 24);
    expect(h.counts).toHaveLength(24);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(h.lo).toBe(Math.min(...data));
    expect(h.hi).toBe(Math.max(...data));
  });

  it('keeps NaN and Infinity out of the bins and out of the range', () => {
    const h = histogramOf([NaN, -1, Infinity, 1, -Infinity], 2);
    expect(h).toEqual({ lo: -1, hi: 1, counts: [1, 1], nonFinite: 3 });
  });

  it('gives a constant tensor a unit-wide range around its value', () => {
    expect(histogramOf([3, 3, 3], 3)).toEqual({
      lo: 2.5,
      hi: 3.5,
      counts: [0, 3, 0],
      nonFinite: 0,
    });
  });

  it('is empty (and says so by its zero range) when no value is finite', () => {
    expect(histogramOf([NaN, NaN], 2)).toEqual({ lo: 0, hi: 0, counts: [0, 0], nonFinite: 2 });
    expect(histogramOf([], 2).counts).toEqual([0, 0]);
  });

  it('refuses a bin count that is not a whole number >= 1', () => {
    expect(() => histogramOf([1], 0)).toThrow(/whole number of bins/);
    expect(() => histogramOf([1], 2.5)).toThrow(/whole number of bins/);
  });
});

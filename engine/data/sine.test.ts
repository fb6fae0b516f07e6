/**
 * The `sine` regression set: shapes and dtypes, the same points for a seed, x uniform over
 * [−range, range], targets sin(x) plus noise of the stated deviation; and its Data tab preview
 * (a regression: shapes, first rows, no class counts).
 */

import { describe, expect, it } from 'vitest';
import { previewClassificationSet, previewRegressionSet, PREVIEW_ROWS } from './preview.js';
import { sine } from './synthetic.js';
import { makeDataset } from '../worker/train-session.js';

const values = (t: { dataSync(): ArrayLike<number> }): number[] => Array.from(t.dataSync());

describe('the sine regression set', () => {
  it('has x [n, 1] and y [n, 1], both f32, the same for a seed and different across seeds', () => {
    const a = sine(200, { seed: 3 });
    expect([a.x.shape, a.x.dtype, a.y.shape, a.y.dtype]).toEqual([
      [200, 1],
      'f32',
      [200, 1],
      'f32',
    ]);
    const b = sine(200, { seed: 3 });
    expect(values(b.x)).toEqual(values(a.x));
    expect(values(b.y)).toEqual(values(a.y));
    expect(values(sine(200, { seed: 4 }).x)).not.toEqual(values(a.x));
  });

  it('spreads x uniformly over [−range, range]', () => {
    const xs = values(sine(4000, { seed: 1, range: 2 }).x);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(-2);
    expect(Math.max(...xs)).toBeLessThan(2);
    // Uniform: mean about 0, variance about (2·range)²/12 = 4/3; each quarter about 1/4.
    const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
    const variance = xs.reduce((s, v) => s + (v - mean) ** 2, 0) / xs.length;
    expect(Math.abs(mean)).toBeLessThan(0.06);
    expect(variance).toBeCloseTo(4 / 3, 1);
    for (const [lo, hi] of [
      [-2, -1],
      [-1, 0],
      [0, 1],
      [1, 2],
    ] as const) {
      const share = xs.filter((x) => x >= lo && x < hi).length / xs.length;
      expect(share).toBeGreaterThan(0.22);
      expect(share).toBeLessThan(0.28);
    }
  });

  it('targets are amplitude·sin(x) plus noise of std `noise`', () => {
    const clean = sine(100, { seed: 2, noise: 0, amplitude: 2 });
    const cx = values(clean.x);
    values(clean.y).forEach((y, i) => expect(y).toBeCloseTo(2 * Math.sin(cx[i]!), 5));
    const noisy = sine(5000, { seed: 2, noise: 0.1 });
    const nx = values(noisy.x);
    const residuals = values(noisy.y).map((y, i) => y - Math.sin(nx[i]!));
    const mean = residuals.reduce((s, r) => s + r, 0) / residuals.length;
    const std = Math.sqrt(residuals.reduce((s, r) => s + (r - mean) ** 2, 0) / residuals.length);
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(std).toBeGreaterThan(0.09);
    expect(std).toBeLessThan(0.11);
    // The default noise is that small one.
    const byDefault = sine(5000, { seed: 2 });
    expect(values(byDefault.y)).toEqual(values(noisy.y));
  });

  it('refuses counts and ranges that make no set', () => {
    expect(() => sine(-1)).toThrow(/sine: n must be a non-negative integer/);
    expect(() => sine(10, { range: 0 })).toThrow(/sine: range must be a positive number/);
    expect(() => sine(10, { noise: -1 })).toThrow(/sine: noise must be 0 or more/);
    expect(sine(0).x.shape).toEqual([0, 1]);
  });

  it('is a data set the worker trains on: f32 targets, no classes', () => {
    const set = makeDataset('sine', 50, 7);
    expect(set.classes).toBe(0);
    expect(set.y.dtype).toBe('f32');
    expect(values(set.x)).toEqual(values(sine(50, { seed: 7 }).x));
  });

  it('previews as a regression: shapes [N, 1] and [N, 1], first rows, no class counts', () => {
    const set = makeDataset('sine', 300, 0);
    const p = previewClassificationSet('sine', set);
    expect(p).toEqual(previewRegressionSet('sine', set));
    expect(p.task).toBe('regression');
    expect(p.examples).toBe(300);
    expect(p.features).toEqual({ shape: [1], dtype: 'f32' });
    expect(p.labels).toEqual({ shape: [1], dtype: 'f32' });
    expect(p.columns).toEqual(['x', 'y']);
    expect(p.rows).toHaveLength(PREVIEW_ROWS);
    const [x, y] = p.rows[0] as [number, number];
    expect(x).toBeCloseTo(values(set.x)[0]!, 3);
    expect(y).toBeCloseTo(values(set.y)[0]!, 3);
    expect(p.classes).toEqual([]);
    expect(p.classCounts).toEqual([]);
    expect(p.notes.join(' ')).toMatch(/sin\(x\).*regression/);
  });
});

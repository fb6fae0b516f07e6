import { describe, expect, it } from 'vitest';
import { chartExtent, linePath, niceTicks, pointsPath, tickLabel } from './chart-geometry.js';

describe('chart geometry', () => {
  it('finds the finite extent of every line and widens a single value', () => {
    const extent = chartExtent([
      { name: 'a', x: [0, 1, 2], y: [3, NaN, 5] },
      { name: 'b', x: [4], y: [-1] },
    ]);
    expect(extent).toEqual({ x: { min: 0, max: 4 }, y: { min: -1, max: 5 } });
    expect(chartExtent([{ name: 'c', x: [2], y: [10] }])).toEqual({
      x: { min: 1, max: 3 },
      y: { min: 5, max: 15 },
    });
    expect(chartExtent([{ name: 'd', x: [NaN], y: [1] }])).toBeNull();
  });

  it('picks round ticks that cover the range', () => {
    expect(niceTicks({ min: 0, max: 9.3 }, 5)).toEqual({
      ticks: [0, 2, 4, 6, 8, 10],
      range: { min: 0, max: 10 },
    });
    expect(niceTicks({ min: 0.013, max: 0.048 }, 4).ticks).toEqual([0.01, 0.02, 0.03, 0.04, 0.05]);
    expect(niceTicks({ min: 0, max: 3 }, 6, true).ticks).toEqual([0, 1, 2, 3]);
    expect(tickLabel(0.1 + 0.2)).toBe('0.3');
    expect(tickLabel(2e-5)).toBe('2.0e-5');
  });

  it('draws a scatter series as one small circle per finite point, in any x order', () => {
    const box = { left: 10, top: 0, width: 100, height: 50 };
    const d = pointsPath(
      { name: 's', x: [1, 0, NaN], y: [0, 1, 2], scatter: true },
      { min: 0, max: 1 },
      { min: 0, max: 1 },
      box,
      2,
    );
    // (1, 0) is the bottom-right corner (110, 50), (0, 1) the top-left (10, 0).
    expect(d).toBe(
      'M108.0,50.0 a2,2 0 1,0 4,0 a2,2 0 1,0 -4,0 M8.0,0.0 a2,2 0 1,0 4,0 a2,2 0 1,0 -4,0',
    );
  });

  it('draws a line in the box, y up, with a gap at non-finite points', () => {
    const box = { left: 10, top: 0, width: 100, height: 50 };
    const path = linePath(
      { name: 'a', x: [0, 1, 2, 3], y: [0, 1, Infinity, 0] },
      { min: 0, max: 3 },
      { min: 0, max: 1 },
      box,
    );
    expect(path).toBe('M10.0,50.0 L43.3,0.0 M110.0,50.0');
  });
});

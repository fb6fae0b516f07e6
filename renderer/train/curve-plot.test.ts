/**
 * The fitted-curve plot's geometry: data to canvas and back, round ticks inside the range,
 * and the prediction read off the curve between its samples.
 */

import { describe, expect, it } from 'vitest';
import { niceTicks, plotArea, predictionAt, tickLabel, toCanvas, xAt } from './curve-plot.js';

const bounds = { xMin: -3, xMax: 3, yMin: -1.5, yMax: 1.5 };

describe('the fitted-curve plot', () => {
  it('maps the bounds onto the plot area, y up, and canvas columns back to x', () => {
    const area = plotArea(272, 204);
    expect(area.width).toBeGreaterThan(200);
    expect(area.left + area.width).toBeLessThan(272);
    expect(toCanvas(-3, 1.5, area, bounds)).toEqual({ px: area.left, py: area.top });
    expect(toCanvas(3, -1.5, area, bounds)).toEqual({
      px: area.left + area.width,
      py: area.top + area.height,
    });
    const mid = toCanvas(0, 0, area, bounds);
    expect(xAt(mid.px, area, bounds)).toBeCloseTo(0, 9);
    // Outside the plot area: clamped to the bounds.
    expect(xAt(0, area, bounds)).toBe(-3);
    expect(xAt(1000, area, bounds)).toBe(3);
  });

  it('picks round ticks 1, 2 or 5 × 10^k apart, inside the range', () => {
    expect(niceTicks(-3.2, 3.2, 6)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
    expect(niceTicks(-1.3, 1.3, 4)).toEqual([-1, -0.5, 0, 0.5, 1]);
    expect(niceTicks(0, 1000, 5)).toEqual([0, 200, 400, 600, 800, 1000]);
    expect(niceTicks(0.1, 0.35, 5)).toEqual([0.1, 0.15, 0.2, 0.25, 0.3, 0.35]);
    expect(niceTicks(1, 1)).toEqual([]);
    expect(tickLabel(0.30000000000000004)).toBe('0.3');
    expect(tickLabel(1234.5)).toBe('1230');
  });

  it('reads the prediction between samples, clamped past the ends', () => {
    const curve = { xs: Float32Array.from([0, 1, 2]), predicted: Float32Array.from([0, 10, 4]) };
    expect(predictionAt(curve, 0.5)).toBeCloseTo(5, 6);
    expect(predictionAt(curve, 1.75)).toBeCloseTo(5.5, 6);
    expect(predictionAt(curve, 2)).toBe(4);
    expect(predictionAt(curve, -1)).toBe(0);
    expect(predictionAt(curve, 9)).toBe(4);
    expect(predictionAt({ xs: new Float32Array(0), predicted: new Float32Array(0) }, 1)).toBeNaN();
  });
});

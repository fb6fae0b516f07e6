/**
 * The geometry of the fitted-curve plot (a 1-D regression's "What it learned"): the plot area
 * inside its axis margins, the mapping between data and canvas pixels, round tick values for
 * the axes, and the model's prediction at any x read off the worker's curve (linear
 * interpolation between its evenly spread samples). Pure functions, no DOM.
 */

import type { RegressionCurve } from '../../engine/protocol/messages.js';

export type CurveBounds = RegressionCurve['bounds'];

/** The plot area of a width×height canvas: room on the left and below for tick labels. */
export interface PlotArea {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

export const MARGIN = { left: 30, right: 8, top: 8, bottom: 18 } as const;

export function plotArea(width: number, height: number): PlotArea {
  return {
    left: MARGIN.left,
    top: MARGIN.top,
    width: Math.max(1, width - MARGIN.left - MARGIN.right),
    height: Math.max(1, height - MARGIN.top - MARGIN.bottom),
  };
}

/** Where data point (x, y) falls on the canvas. */
export function toCanvas(
  x: number,
  y: number,
  area: PlotArea,
  b: CurveBounds,
): { px: number; py: number } {
  return {
    px: area.left + ((x - b.xMin) / (b.xMax - b.xMin)) * area.width,
    py: area.top + ((b.yMax - y) / (b.yMax - b.yMin)) * area.height,
  };
}

/** The x under canvas pixel column `px`, kept inside the bounds. */
export function xAt(px: number, area: PlotArea, b: CurveBounds): number {
  const t = Math.min(1, Math.max(0, (px - area.left) / area.width));
  return b.xMin + t * (b.xMax - b.xMin);
}

/**
 * Round values 1, 2 or 5 times a power of ten apart inside [min, max], spaced so about
 * `count` intervals cover the range, for axis ticks and grid lines.
 */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min) || !Number.isFinite(min) || !Number.isFinite(max)) return [];
  const range = max - min;
  const power = 10 ** Math.floor(Math.log10(range / Math.max(1, count)));
  // The spacing whose number of intervals is nearest the count asked for.
  const step = [1, 2, 5, 10]
    .map((m) => m * power)
    .reduce((best, s) => (Math.abs(range / s - count) < Math.abs(range / best - count) ? s : best));
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step)
    ticks.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  return ticks;
}

/** A tick value as a short label (at most 3 significant digits). */
export function tickLabel(v: number): string {
  return String(Number(v.toPrecision(3)));
}

/** The model's prediction at `x`, interpolated between the curve's samples (clamped at ends). */
export function predictionAt(curve: Pick<RegressionCurve, 'xs' | 'predicted'>, x: number): number {
  const { xs, predicted } = curve;
  const n = xs.length;
  if (n === 0) return NaN;
  if (n === 1 || x <= xs[0]!) return predicted[0]!;
  if (x >= xs[n - 1]!) return predicted[n - 1]!;
  // The samples are evenly spread, so the segment is found without a search.
  const t = ((x - xs[0]!) / (xs[n - 1]! - xs[0]!)) * (n - 1);
  const i = Math.min(n - 2, Math.floor(t));
  const f = t - i;
  return predicted[i]! * (1 - f) + predicted[i + 1]! * f;
}

/**
 * The geometry of a cell's line chart, without React: the value range of every line, "nice"
 * axis ticks (1, 2 or 5 times a power of ten) and each line as an SVG path in a plot box.
 * Points with a non-finite coordinate break a line into pieces rather than spoiling the path.
 */

import type { ChartSeries } from '../../engine/protocol/messages.js';

export interface Range {
  readonly min: number;
  readonly max: number;
}

/** The finite extent of the lines' x and y values (a unit range around a single value). */
export function chartExtent(series: readonly ChartSeries[]): { x: Range; y: Range } | null {
  let x0 = Infinity;
  let x1 = -Infinity;
  let y0 = Infinity;
  let y1 = -Infinity;
  for (const s of series)
    for (let i = 0; i < s.x.length; i++) {
      const x = s.x[i]!;
      const y = s.y[i]!;
      if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
      x0 = Math.min(x0, x);
      x1 = Math.max(x1, x);
      y0 = Math.min(y0, y);
      y1 = Math.max(y1, y);
    }
  if (x0 > x1) return null;
  const widen = (lo: number, hi: number): Range =>
    lo === hi
      ? { min: lo - (Math.abs(lo) || 1) / 2, max: hi + (Math.abs(hi) || 1) / 2 }
      : { min: lo, max: hi };
  return { x: widen(x0, x1), y: widen(y0, y1) };
}

/**
 * About `count` round tick values covering the range, and the range widened to them; `whole`
 * keeps the step at least 1 (for counts such as steps and episodes).
 */
export function niceTicks(
  range: Range,
  count = 5,
  whole = false,
): { ticks: number[]; range: Range } {
  const span = range.max - range.min;
  const raw = span / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const nice = ([1, 2, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
  const step = whole ? Math.max(1, nice) : nice;
  const min = Math.floor(range.min / step) * step;
  const max = Math.ceil(range.max / step) * step;
  const ticks: number[] = [];
  for (let v = min; v <= max + step / 2; v += step) ticks.push(Number(v.toPrecision(12)));
  return { ticks, range: { min, max } };
}

export interface PlotBox {
  readonly left: number;
  readonly top: number;
  readonly width: number;
  readonly height: number;
}

/** A line as an SVG path in the box (M/L commands; a gap at every non-finite point). */
export function linePath(s: ChartSeries, x: Range, y: Range, box: PlotBox): string {
  const sx = (v: number) => box.left + ((v - x.min) / (x.max - x.min)) * box.width;
  const sy = (v: number) => box.top + box.height - ((v - y.min) / (y.max - y.min)) * box.height;
  const parts: string[] = [];
  let pen = false;
  for (let i = 0; i < s.x.length; i++) {
    const xv = s.x[i]!;
    const yv = s.y[i]!;
    if (!Number.isFinite(xv) || !Number.isFinite(yv)) {
      pen = false;
      continue;
    }
    parts.push(`${pen ? 'L' : 'M'}${sx(xv).toFixed(1)},${sy(yv).toFixed(1)}`);
    pen = true;
  }
  return parts.join(' ');
}

/** A scatter series as an SVG path of small circles (`r` pixels), skipping non-finite points. */
export function pointsPath(s: ChartSeries, x: Range, y: Range, box: PlotBox, r = 2.5): string {
  const sx = (v: number) => box.left + ((v - x.min) / (x.max - x.min)) * box.width;
  const sy = (v: number) => box.top + box.height - ((v - y.min) / (y.max - y.min)) * box.height;
  const parts: string[] = [];
  for (let i = 0; i < s.x.length; i++) {
    const xv = s.x[i]!;
    const yv = s.y[i]!;
    if (!Number.isFinite(xv) || !Number.isFinite(yv)) continue;
    const cx = sx(xv) - r;
    const cy = sy(yv);
    parts.push(
      `M${cx.toFixed(1)},${cy.toFixed(1)} a${r},${r} 0 1,0 ${2 * r},0 a${r},${r} 0 1,0 ${-2 * r},0`,
    );
  }
  return parts.join(' ');
}

/** A tick label: short, without float noise. */
export function tickLabel(v: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(1);
  return String(Number(v.toPrecision(6)));
}

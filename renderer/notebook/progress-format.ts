/**
 * How a progress output reads as text: its percent, its times and its metrics, shared by the bar
 * under a cell and the one-line text saved in a notebook for other readers.
 */

import type { CellValue } from '../../engine/protocol/messages.js';

export type ProgressValue = Extract<CellValue, { kind: 'progress' }>;

/** Whole percent done, rounded down so that 100% means finished. */
export function progressPercent(value: ProgressValue): number {
  return Math.min(100, Math.max(0, Math.floor((value.done / value.total) * 100)));
}

/** A metric with four significant digits (NaN and ±Infinity as such). */
export function formatMetric(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v)) return String(v);
  const size = Math.abs(v);
  if (size >= 1e-3 && size < 1e5) return String(Number(v.toPrecision(4)));
  return v.toExponential(2);
}

/** A duration as "850 ms", "12.3 s", "4:05" or "1:02:03". */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const seconds = Math.round(ms / 1000);
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}

/** The metrics as "loss=0.41 accuracy=0.9". */
export function metricsText(value: ProgressValue): string {
  return Object.entries(value.metrics)
    .map(([name, v]) => `${name}=${formatMetric(v)}`)
    .join(' ');
}

/** One line: "train: 120/600 (20%) loss=0.41". */
export function progressText(value: ProgressValue): string {
  const metrics = metricsText(value);
  return (
    `${value.title ?? 'progress'}: ${value.done}/${value.total} (${progressPercent(value)}%)` +
    (metrics ? ` ${metrics}` : '')
  );
}

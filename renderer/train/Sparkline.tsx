/**
 * A small line of a positive statistic over the recorded steps (an edge's gradient norm), on a
 * log scale between the series' own smallest and largest values, with the shown step marked.
 * `data-points` counts the points drawn (what tests read).
 */

import { memo } from 'react';
import type { SeriesPoint } from './view-history.js';

export interface SparklineProps {
  readonly points: readonly SeriesPoint[];
  /** The step to mark (the scrubbed one), if any. */
  readonly mark?: number | null;
  readonly width?: number;
  readonly height?: number;
  readonly testId?: string;
}

/** The polyline's points, log scale in y (values ≤ 0 sit at the bottom). */
export function sparklinePath(
  points: readonly SeriesPoint[],
  width: number,
  height: number,
): string {
  const positive = points.filter((p) => p.value > 0 && Number.isFinite(p.value));
  if (positive.length === 0) return '';
  const logs = positive.map((p) => Math.log10(p.value));
  const lo = Math.min(...logs);
  const hi = Math.max(...logs);
  const first = points[0]!.step;
  const span = Math.max(1, points.at(-1)!.step - first);
  const pad = 2;
  return points
    .map((p) => {
      const x = pad + ((p.step - first) / span) * (width - 2 * pad);
      const t =
        p.value > 0 && Number.isFinite(p.value) && hi > lo
          ? (Math.log10(p.value) - lo) / (hi - lo)
          : p.value > 0
            ? 0.5
            : 0;
      const y = height - pad - t * (height - 2 * pad);
      return `${x.toFixed(1)},${y.toFixed(1)}`;
    })
    .join(' ');
}

function SparklineView({ points, mark, width = 160, height = 36, testId }: SparklineProps) {
  const first = points[0]?.step ?? 0;
  const span = Math.max(1, (points.at(-1)?.step ?? 0) - first);
  const markX =
    mark === null || mark === undefined || points.length < 2
      ? null
      : 2 + ((mark - first) / span) * (width - 4);
  return (
    <svg
      className="wg-sparkline"
      data-testid={testId}
      data-points={points.length}
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
    >
      {markX !== null && (
        <line className="wg-sparkline__mark" x1={markX} x2={markX} y1={0} y2={height} />
      )}
      <polyline className="wg-sparkline__line" points={sparklinePath(points, width, height)} />
    </svg>
  );
}

export const Sparkline = memo(SparklineView);

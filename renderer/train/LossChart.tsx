/**
 * The loss and accuracy chart (SVG): training-batch loss and accuracy per progress message and
 * the periodic validation, against the step, loss on the left axis (0 to its largest value)
 * and accuracy on the right (0 to 1; only for a classifier); the step axis grows with the run.
 * It re-renders only when the training store's history changes, which the store does at most
 * once per animation frame.
 */

import { memo } from 'react';
import type { MetricPoint } from '../state/training.js';
import { useTraining } from './context.js';
import { useTrainTask } from './TaskMetrics.js';

const W = 272;
const H = 126;
const PAD = { left: 30, right: 28, top: 10, bottom: 18 };

/** The next 1, 2 or 5 times a power of ten at or above n. */
function roundUp(n: number): number {
  const p = 10 ** Math.floor(Math.log10(n));
  return ([1, 2, 5, 10].find((m) => m * p >= n) ?? 10) * p;
}

function pathOf(
  points: readonly MetricPoint[],
  value: (p: MetricPoint) => number,
  x: (step: number) => number,
  y: (v: number) => number,
): string {
  let d = '';
  for (const p of points) {
    const v = value(p);
    if (!Number.isFinite(v)) continue;
    d += `${d ? 'L' : 'M'}${x(p.step).toFixed(1)},${y(v).toFixed(1)}`;
  }
  return d;
}

/** The smallest round number (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten) ≥ v. */
export function roundStep(v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) return 1;
  const power = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) {
    const step = Number((m * power).toPrecision(3));
    if (step >= v * (1 - 1e-9)) return step;
  }
  return 10 * power;
}

function LossChartView() {
  const train = useTraining((s) => s.train);
  const validation = useTraining((s) => s.validation);
  // Accuracy (the right axis) only where the model classifies.
  const accuracy = useTrainTask() === 'classification';
  // The x axis follows the data (to a round number of steps), so a long run's first steps
  // are not squeezed against the left edge.
  const total = useTraining((s) => s.progress?.totalSteps ?? 0);
  const last = Math.max(train.at(-1)?.step ?? 0, validation.at(-1)?.step ?? 0);
  const maxStep = Math.min(Math.max(1, total), roundUp(Math.max(20, last * 1.15)));
  let maxLoss = 0;
  for (const p of train) if (Number.isFinite(p.loss)) maxLoss = Math.max(maxLoss, p.loss);
  for (const p of validation) if (Number.isFinite(p.loss)) maxLoss = Math.max(maxLoss, p.loss);
  // Four equal steps of a round size, so the loss ticks read 0.3, 0.6, 0.9, 1.2.
  maxLoss = 4 * roundStep((maxLoss > 0 ? maxLoss * 1.02 : 1) / 4);
  const iw = W - PAD.left - PAD.right;
  const ih = H - PAD.top - PAD.bottom;
  const x = (step: number): number => PAD.left + (step / maxStep) * iw;
  const yLoss = (v: number): number => PAD.top + ih - (Math.min(v, maxLoss) / maxLoss) * ih;
  const yAcc = (v: number): number => PAD.top + ih - v * ih;
  const grid = [0, 0.25, 0.5, 0.75, 1];
  return (
    <svg
      className="wg-chart"
      data-testid="loss-chart"
      data-points={train.length}
      width={W}
      height={H}
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label={accuracy ? 'Loss and accuracy by step' : 'Loss by step'}
      data-accuracy={accuracy}
    >
      {grid.map((g) => (
        <g key={g}>
          <line
            className="wg-chart__grid"
            x1={PAD.left}
            x2={W - PAD.right}
            y1={yAcc(g)}
            y2={yAcc(g)}
          />
          <text className="wg-chart__tick" x={PAD.left - 4} y={yAcc(g) + 3} textAnchor="end">
            {Number((maxLoss * g).toPrecision(3))}
          </text>
          {accuracy && (
            <text className="wg-chart__tick is-acc" x={W - PAD.right + 4} y={yAcc(g) + 3}>
              {g}
            </text>
          )}
        </g>
      ))}
      <text className="wg-chart__tick" x={PAD.left} y={H - 4}>
        0
      </text>
      <text className="wg-chart__tick" x={W - PAD.right} y={H - 4} textAnchor="end">
        {maxStep} steps
      </text>
      <path className="wg-chart__line is-loss" d={pathOf(train, (p) => p.loss, x, yLoss)} />
      <path
        className="wg-chart__line is-acc"
        d={accuracy ? pathOf(train, (p) => p.accuracy, x, yAcc) : ''}
      />
      <path
        className="wg-chart__line is-loss is-val"
        d={pathOf(validation, (p) => p.loss, x, yLoss)}
      />
      <path
        className="wg-chart__line is-acc is-val"
        d={accuracy ? pathOf(validation, (p) => p.accuracy, x, yAcc) : ''}
      />
    </svg>
  );
}

export const LossChart = memo(LossChartView);

/** The chart's key: which line is which (accuracy only where the model classifies). */
export function ChartKey() {
  const accuracy = useTrainTask() === 'classification';
  return (
    <div className="wg-chart-key" data-testid="chart-key">
      <span className="is-loss">loss</span>
      <span className="is-loss is-val">val loss</span>
      {accuracy && <span className="is-acc">accuracy</span>}
      {accuracy && <span className="is-acc is-val">val accuracy</span>}
    </div>
  );
}

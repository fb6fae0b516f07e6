/**
 * What a regression learned, as the worker sends it (a few times a second while training runs,
 * like the decision boundary). For one feature, the curve it fits: the training points as dots
 * and the model's prediction over the data's x range as a line; pointing at the plot (or the
 * arrow keys once it has focus) reads the model's prediction at that x off the curve, Escape
 * clears the reading. For several features, predicted against actual: a dot per validation
 * row (its target across, the model's prediction up) and the dashed line where a perfect
 * model's dots would lie. The canvas carries `data-kind`, `data-step`, `data-version` and
 * `data-points` for tests.
 */

import {
  type KeyboardEvent as ReactKeyboardEvent,
  type MouseEvent as ReactMouseEvent,
  memo,
  useLayoutEffect,
  useRef,
  useState,
} from 'react';
import type { RegressionCurve as Curve } from '../../engine/protocol/messages.js';
import { classColour } from './class-colours.js';
import { useTraining } from './context.js';
import {
  type PlotArea,
  niceTicks,
  plotArea,
  predictionAt,
  tickLabel,
  toCanvas,
  xAt,
} from './curve-plot.js';

const WIDTH = 272;
const HEIGHT = 204;
/** The data's colour (class 1's blue) and the model's (class 0's coral), as in the boundary. */
const POINT_COLOUR = classColour(1);
const LINE_COLOUR = classColour(0);
/** The line of perfect predictions (styles.css's --fg-2). */
const IDEAL_COLOUR = '#99a3b5';

function drawAxes(ctx: CanvasRenderingContext2D, area: PlotArea, curve: Curve): void {
  const b = curve.bounds;
  ctx.font = '9.5px ui-monospace, SFMono-Regular, Menlo, monospace';
  ctx.fillStyle = '#6b7587';
  ctx.lineWidth = 1;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  for (const x of niceTicks(b.xMin, b.xMax, 6)) {
    const { px } = toCanvas(x, b.yMin, area, b);
    ctx.strokeStyle = x === 0 ? '#3a4453' : '#222933';
    ctx.beginPath();
    ctx.moveTo(Math.round(px) + 0.5, area.top);
    ctx.lineTo(Math.round(px) + 0.5, area.top + area.height);
    ctx.stroke();
    ctx.fillText(tickLabel(x), px, area.top + area.height + 4);
  }
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const y of niceTicks(b.yMin, b.yMax, 4)) {
    const { py } = toCanvas(b.xMin, y, area, b);
    ctx.strokeStyle = y === 0 ? '#3a4453' : '#222933';
    ctx.beginPath();
    ctx.moveTo(area.left, Math.round(py) + 0.5);
    ctx.lineTo(area.left + area.width, Math.round(py) + 0.5);
    ctx.stroke();
    ctx.fillText(tickLabel(y), area.left - 4, py);
  }
}

function draw(canvas: HTMLCanvasElement, curve: Curve, probe: number | null): void {
  const ratio = window.devicePixelRatio || 1;
  const [w, h] = [Math.round(WIDTH * ratio), Math.round(HEIGHT * ratio)];
  if (canvas.width !== w || canvas.height !== h) {
    canvas.width = w;
    canvas.height = h;
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, WIDTH, HEIGHT);
  const area = plotArea(WIDTH, HEIGHT);
  const b = curve.bounds;
  drawAxes(ctx, area, curve);
  ctx.save();
  ctx.beginPath();
  ctx.rect(area.left, area.top, area.width, area.height);
  ctx.clip();
  // The data: small dots, translucent where they pile up.
  ctx.fillStyle = POINT_COLOUR;
  ctx.globalAlpha = 0.7;
  for (let i = 0; i + 1 < curve.points.length; i += 2) {
    const { px, py } = toCanvas(curve.points[i]!, curve.points[i + 1]!, area, b);
    ctx.beginPath();
    ctx.arc(px, py, 2.2, 0, 2 * Math.PI);
    ctx.fill();
  }
  ctx.globalAlpha = 1;
  // The model: one line through its predictions, over a dark halo so it reads on the dots.
  const path = new Path2D();
  curve.xs.forEach((x, i) => {
    const { px, py } = toCanvas(x, curve.predicted[i]!, area, b);
    if (i === 0) path.moveTo(px, py);
    else path.lineTo(px, py);
  });
  ctx.lineJoin = 'round';
  if (curve.kind === 'scatter') {
    ctx.strokeStyle = IDEAL_COLOUR;
    ctx.lineWidth = 1.2;
    ctx.setLineDash([5, 4]);
    ctx.stroke(path);
    ctx.setLineDash([]);
  } else {
    ctx.strokeStyle = 'rgba(13, 16, 20, 0.85)';
    ctx.lineWidth = 4.5;
    ctx.stroke(path);
    ctx.strokeStyle = LINE_COLOUR;
    ctx.lineWidth = 2.2;
    ctx.stroke(path);
  }
  if (probe !== null && curve.kind === 'curve') {
    const { px, py } = toCanvas(probe, predictionAt(curve, probe), area, b);
    ctx.strokeStyle = 'rgba(238, 242, 248, 0.5)';
    ctx.lineWidth = 1;
    ctx.setLineDash([3, 3]);
    ctx.beginPath();
    ctx.moveTo(px, area.top);
    ctx.lineTo(px, area.top + area.height);
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.fillStyle = '#eef2f8';
    ctx.beginPath();
    ctx.arc(px, py, 3.5, 0, 2 * Math.PI);
    ctx.fill();
  }
  ctx.restore();
  ctx.strokeStyle = '#2d3542';
  ctx.strokeRect(area.left + 0.5, area.top + 0.5, area.width - 1, area.height - 1);
}

const format = (v: number): string => (Math.abs(v) < 1e-9 ? '0' : v.toPrecision(3));

function RegressionCurveView({ oneFeature }: { oneFeature: boolean }) {
  const curve = useTraining((s) => s.curve);
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const [probe, setProbe] = useState<number | null>(null);

  useLayoutEffect(() => {
    if (canvasRef.current && curve) draw(canvasRef.current, curve, probe);
  }, [curve, probe]);

  if (!curve)
    return (
      <p className="wg-views__empty" data-testid="regression-curve-empty">
        {oneFeature
          ? 'Start or step training to see the curve the model fits through the data.'
          : 'Start or step training to see its predictions against the validation targets.'}
      </p>
    );
  const scatter = curve.kind === 'scatter';

  const b = curve.bounds;
  const onMove = (e: ReactMouseEvent<HTMLCanvasElement>): void => {
    if (scatter) return;
    const r = e.currentTarget.getBoundingClientRect();
    setProbe(xAt(((e.clientX - r.left) / r.width) * WIDTH, plotArea(WIDTH, HEIGHT), b));
  };
  const onKeyDown = (e: ReactKeyboardEvent<HTMLCanvasElement>): void => {
    if (scatter) return;
    const step = (b.xMax - b.xMin) / 40;
    const at = probe ?? (b.xMin + b.xMax) / 2;
    if (e.key === 'ArrowLeft' || e.key === 'ArrowRight') {
      e.preventDefault();
      const next = at + (e.key === 'ArrowLeft' ? -step : step);
      setProbe(Math.min(b.xMax, Math.max(b.xMin, next)));
    } else if (e.key === 'Enter' && probe === null) setProbe(at);
    else if (e.key === 'Escape') setProbe(null);
  };

  return (
    <div className="wg-boundary wg-curve">
      <canvas
        ref={canvasRef}
        className="wg-boundary__canvas wg-curve__canvas"
        data-testid="regression-curve"
        data-kind={curve.kind}
        data-version={curve.version}
        data-step={curve.step}
        data-points={curve.points.length / 2}
        style={{ width: WIDTH, height: HEIGHT, ...(scatter ? { cursor: 'default' } : {}) }}
        tabIndex={0}
        role="img"
        aria-label={
          scatter
            ? `Predicted against actual for ${curve.points.length / 2} validation rows after ` +
              `step ${curve.step}`
            : `The curve the model fits after step ${curve.step}, over ` +
              `${curve.points.length / 2} training points; point at it or use the arrow keys ` +
              'to read a prediction'
        }
        onMouseMove={onMove}
        onMouseLeave={() => setProbe(null)}
        onKeyDown={onKeyDown}
      />
      <div className="wg-boundary__caption">
        {scatter ? (
          <span className="wg-curve__legend">
            <i style={{ background: POINT_COLOUR }} /> validation row
            <i className="wg-curve__line" style={{ background: IDEAL_COLOUR }} /> exact
          </span>
        ) : (
          <span className="wg-curve__legend">
            <i style={{ background: POINT_COLOUR }} /> data
            <i className="wg-curve__line" style={{ background: LINE_COLOUR }} /> model
          </span>
        )}
        <span>step {curve.step}</span>
      </div>
      <p className="wg-curve__reading" data-testid="regression-curve-reading">
        {scatter
          ? 'Actual target across, prediction up: dots above the line are predicted too high, ' +
            'below it too low.'
          : probe === null
            ? 'Point at the plot to read the model’s prediction.'
            : `x = ${format(probe)} → model ${format(predictionAt(curve, probe))}`}
      </p>
    </div>
  );
}

export const RegressionCurve = memo(RegressionCurveView);

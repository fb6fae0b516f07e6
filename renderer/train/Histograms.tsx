/**
 * Weight and gradient histograms of one parameter over time (`histograms`): pick the parameter
 * (`histogram-param`); each of the two heat strips has one row per snapshot the session took
 * (oldest at the top), its counts re-binned onto the range every row shares, brighter where
 * more values fall; below each strip, the snapshot at the shown step as bars. Scrubbing shows
 * the rows up to the scrubbed step. Strips are drawn on a canvas (dozens of rows of bins
 * would be thousands of SVG elements), one pixel per bin, stretched by CSS.
 */

import { memo, useDeferredValue, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { HistogramSnapshot, ValueHistogram } from '../../engine/protocol/messages.js';
import { useTraining } from './context.js';
import { formatNorm } from './grad-scale.js';
import { commonRange, rebin } from './view-history.js';

const W = 272;
const BARS_H = 28;
const BINS = 48;

/** The rows of one strip: each snapshot's histogram re-binned onto the shared range. */
export function stripRows(
  hists: readonly ValueHistogram[],
  bins = BINS,
): { lo: number; hi: number; rows: number[][] } | null {
  const range = commonRange(hists);
  if (range === null) return null;
  return { ...range, rows: hists.map((h) => rebin(h, range.lo, range.hi, bins)) };
}

/**
 * Paints the strip one pixel per (row, bin) into the canvas's own small bitmap, which CSS
 * stretches to the strip's size: one putImageData per update, however many rows and bins.
 */
function drawStrip(canvas: HTMLCanvasElement, rows: readonly number[][]): void {
  const ctx = canvas.getContext('2d');
  if (!ctx || rows.length === 0) return;
  const bins = rows[0]!.length;
  if (canvas.width !== bins) canvas.width = bins;
  if (canvas.height !== rows.length) canvas.height = rows.length;
  const image = ctx.createImageData(bins, rows.length);
  const px = image.data;
  rows.forEach((row, r) => {
    let max = 0;
    for (const count of row) if (count > max) max = count;
    row.forEach((count, b) => {
      if (count <= 0 || max === 0) return;
      // Square root: the tails stay visible beside the peak. The accent colour, by alpha.
      const t = Math.sqrt(count / max);
      const i = 4 * (r * bins + b);
      px[i] = 91;
      px[i + 1] = 140;
      px[i + 2] = 255;
      px[i + 3] = Math.round(255 * (0.12 + 0.88 * t));
    });
  });
  ctx.putImageData(image, 0, 0);
}

function barsPath(row: readonly number[], width: number, height: number): string {
  let max = 0;
  for (const count of row) if (count > max) max = count;
  max ||= 1;
  const binW = width / row.length;
  let d = `M0,${height}`;
  row.forEach((count, b) => {
    const y = height - (count / max) * (height - 2);
    d += `L${(b * binW).toFixed(1)},${y.toFixed(1)}L${((b + 1) * binW).toFixed(1)},${y.toFixed(1)}`;
  });
  return `${d}L${width},${height}Z`;
}

function Strip({
  kind,
  hists,
  steps,
}: {
  kind: 'weights' | 'gradients';
  hists: readonly ValueHistogram[];
  steps: readonly number[];
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const strip = useMemo(() => stripRows(hists), [hists]);
  useLayoutEffect(() => {
    if (canvas.current) drawStrip(canvas.current, strip?.rows ?? []);
  }, [strip]);
  const last = strip?.rows.at(-1);
  return (
    <div
      className="wg-hist__strip"
      data-testid={`histogram-${kind}`}
      data-rows={strip?.rows.length ?? 0}
      data-step={steps.at(-1) ?? undefined}
    >
      <div className="wg-hist__head">
        <span>{kind}</span>
        <span className="wg-mono">
          {steps.length > 0 ? `steps ${steps[0]}–${steps.at(-1)}` : 'no snapshot yet'}
        </span>
      </div>
      <canvas ref={canvas} className="wg-hist__canvas" width={BINS} height={1} />
      {last && (
        <svg className="wg-hist__bars" width={W} height={BARS_H} viewBox={`0 0 ${W} ${BARS_H}`}>
          <path d={barsPath(last, W, BARS_H)} />
        </svg>
      )}
      {strip && (
        <div className="wg-hist__axis wg-mono">
          <span>{formatNorm(strip.lo)}</span>
          <span>{formatNorm(strip.hi)}</span>
        </div>
      )}
    </div>
  );
}

function HistogramsView() {
  // Deferred: a new snapshot re-renders the strips at low priority, in slices between frames.
  const snapshots = useDeferredValue(useTraining((s) => s.views.snapshots));
  const scrub = useTraining((s) => s.views.scrub);
  const shownStep = useTraining((s) => s.views.shownStep);
  const [chosen, setChosen] = useState<string | null>(null);
  const visible: readonly HistogramSnapshot[] = useMemo(
    () =>
      scrub === null || shownStep === null
        ? snapshots
        : snapshots.filter((s) => s.step <= shownStep),
    [snapshots, scrub, shownStep],
  );
  const params = snapshots.at(-1)?.params.map((p) => p.param) ?? [];
  const param = chosen !== null && params.includes(chosen) ? chosen : (params[0] ?? null);
  const { weights, grads, steps } = useMemo(() => {
    const w: ValueHistogram[] = [];
    const g: ValueHistogram[] = [];
    const st: number[] = [];
    for (const snap of visible) {
      const p = snap.params.find((x) => x.param === param);
      if (!p) continue;
      st.push(snap.step);
      w.push(p.weights);
      if (p.grads) g.push(p.grads);
    }
    return { weights: w, grads: g, steps: st };
  }, [visible, param]);
  if (params.length === 0)
    return (
      <div className="wg-hist is-empty" data-testid="histograms">
        Weight and gradient histograms appear here once training has run.
      </div>
    );
  return (
    <div className="wg-hist" data-testid="histograms" data-param={param ?? undefined}>
      <select
        className="wg-train__input"
        data-testid="histogram-param"
        aria-label="Parameter"
        value={param ?? ''}
        onChange={(e) => setChosen(e.target.value)}
      >
        {params.map((p) => (
          <option key={p} value={p}>
            {p}
          </option>
        ))}
      </select>
      <Strip kind="weights" hists={weights} steps={steps} />
      <Strip kind="gradients" hists={grads} steps={steps} />
    </div>
  );
}

export const Histograms = memo(HistogramsView);

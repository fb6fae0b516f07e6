/**
 * What a regression learned, for the Train tab's "What it learned". For one feature, the curve
 * it fits: the model's output (no gradients, dropout off) at CURVE_POINTS evenly spread x
 * values over the training points' range, with the points themselves. For several features
 * (a CSV), predicted against actual: each validation row's target and the model's prediction
 * (up to SCATTER_MAX_ROWS rows), with the line a perfect model's points lie on. Both are in the
 * target's own units (a standardised target is scaled back) and cost one batched forward pass,
 * a few times a second at most (learned-views.ts throttles them like the decision boundary).
 * Frames and sample points are pure functions on plain arrays.
 */

import { WiregradError } from '../core/errors.js';
import type { Graph } from '../graph/graph.js';
import type { PlotBounds } from '../protocol/messages.js';
import type { Tensor } from '../tensor.js';
import { featuresOf, forwardInChunks, modelIO, pointBox } from './predict.js';
import type { TargetScale } from './training-task.js';

/** x values the model is evaluated at per curve. */
export const CURVE_POINTS = 200;
/** Training points a curve carries at most (the first ones; the sets are in random order). */
export const CURVE_MAX_POINTS = 2000;
/** Validation rows a predicted-against-actual view shows at most (the split is shuffled). */
export const SCATTER_MAX_ROWS = 1000;

/**
 * The frame of 1-D points (x, y interleaved): their bounding box grown by `margin` of each
 * side's extent (x and y separately: the plot is not square data).
 */
export function curveBounds(points: Float32Array, margin = 0.05): PlotBounds {
  const box = pointBox(points);
  if (!box) return { xMin: -1, xMax: 1, yMin: -1, yMax: 1 };
  const { xMin, xMax, yMin, yMax } = box;
  const dx = Math.max(xMax - xMin, 1e-6) * margin;
  const dy = Math.max(yMax - yMin, 1e-6) * margin;
  return { xMin: xMin - dx, xMax: xMax + dx, yMin: yMin - dy, yMax: yMax + dy };
}

/** `count` x values evenly spread from xMin to xMax, both ends included. */
export function curveXs(bounds: PlotBounds, count: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++)
    out[i] =
      count === 1 ? bounds.xMin : bounds.xMin + ((bounds.xMax - bounds.xMin) * i) / (count - 1);
  return out;
}

/**
 * The model's output for the examples whose features are row-major in `inputs` (as many per
 * example as its data input takes), one number per example, scaled back by `scale`
 * (t = t'·std + mean).
 */
export function predictValues(
  graph: Graph,
  params: ReadonlyMap<string, Tensor>,
  inputs: Float32Array,
  scale: TargetScale = { mean: 0, std: 1 },
): Float32Array {
  const io = modelIO(graph);
  const features = featuresOf(io);
  const count = inputs.length / features;
  if (!Number.isInteger(count))
    throw new WiregradError(
      `the model's data input takes ${features} values per example, but ${inputs.length} ` +
        'values came',
    );
  const out = new Float32Array(count);
  forwardInChunks(graph, params, io, inputs, count, (result, start, n) => {
    if (result.size !== n)
      throw new WiregradError(
        `the model's '${io.output}' output has shape [${result.shape.join(', ')}]; a ` +
          'regression view needs one number per example',
      );
    const values = result.dataSync();
    for (let i = 0; i < n; i++) out[start + i] = values[i]! * scale.std + scale.mean;
  });
  return out;
}

/**
 * Predicted against actual: the points (actual, predicted) interleaved, a square frame around
 * them (the same range on both axes, so the line of perfect predictions runs at 45°) and that
 * line's two ends as `xs` and `line`.
 */
export function scatterOf(
  actual: Float32Array,
  predicted: Float32Array,
): { points: Float32Array; bounds: PlotBounds; xs: Float32Array; line: Float32Array } {
  const n = Math.min(actual.length, predicted.length);
  const points = new Float32Array(2 * n);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    points[2 * i] = actual[i]!;
    points[2 * i + 1] = predicted[i]!;
    for (const v of [actual[i]!, predicted[i]!])
      if (Number.isFinite(v)) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
  }
  if (lo > hi) [lo, hi] = [-1, 1];
  const pad = Math.max(hi - lo, 1e-6) * 0.05;
  const bounds = { xMin: lo - pad, xMax: hi + pad, yMin: lo - pad, yMax: hi + pad };
  const ends = Float32Array.from([bounds.xMin, bounds.xMax]);
  return { points, bounds, xs: ends, line: Float32Array.from(ends) };
}

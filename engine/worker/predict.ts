/**
 * Asking a training graph what it predicts, for the views of what a model learned: class
 * probabilities for a batch of examples with the current weights (no gradients, dropout off),
 * the grid of the 2-D plane a decision boundary is drawn from, and confusion counts. The
 * graph's label input only feeds the loss, so it gets placeholder labels (zeros) and the loss
 * is ignored. The grid and counting functions are pure, on plain arrays.
 */

import { noGrad } from '../autograd/grad.js';
import { WiregradError } from '../core/errors.js';
import type { DType } from '../core/dtype.js';
import type { Graph } from '../graph/graph.js';
import * as ops from '../ops/index.js';
import { tidy } from '../runtime/scope.js';
import type { PlotBounds } from '../protocol/messages.js';
import type { Tensor } from '../tensor.js';

/** The nodes a prediction needs: the data and label inputs and the classifier's output. */
export interface ModelIO {
  readonly data: string;
  /** Declared shape of the data input (-1 for the batch dimension). */
  readonly dataShape: readonly number[];
  readonly label: string;
  readonly labelShape: readonly number[];
  readonly labelDType: DType;
  /** The output's name: `logits`, else `output`. */
  readonly output: string;
}

/** Finds the data and label inputs and the output of a training graph, or says what is missing. */
export function modelIO(graph: Graph): ModelIO {
  const data = graph.inputs.find((n) => n.attrs['role'] === 'data');
  const label = graph.inputs.find((n) => n.attrs['role'] === 'label');
  const output = graph.outputs.find((o) => o.name === 'logits' || o.name === 'output');
  if (!data || !label || !output)
    throw new WiregradError(
      "the model needs an input with role 'data', one with role 'label' and an output named " +
        "'logits' to make predictions",
    );
  return {
    data: data.id,
    dataShape: data.attrs['shape'] as readonly number[],
    label: label.id,
    labelShape: label.attrs['shape'] as readonly number[],
    labelDType: label.attrs['dtype'] as DType,
    output: output.name,
  };
}

/** Features per example the data input takes (the product of its non-batch dimensions). */
export function featuresOf(io: ModelIO): number {
  return io.dataShape.slice(1).reduce((a, b) => a * b, 1);
}

/** Examples per forward pass: bounds the memory a large request (a 64×64 grid) takes. */
const CHUNK = 1024;

/**
 * Checks that `inputs` holds `count` examples of the data input's size, all finite; the error
 * says what came and what the model takes (`hint` ends the size message).
 */
export function checkExamples(io: ModelIO, inputs: Float32Array, count: number, hint = ''): void {
  const features = featuresOf(io);
  if (!Number.isInteger(count) || count < 1)
    throw new WiregradError(`predict needs at least one example, got ${count}`);
  if (inputs.length !== count * features)
    throw new WiregradError(
      `the model's data input takes ${features} values per example ` +
        `(shape [N, ${io.dataShape.slice(1).join(', ')}]), but ${count} example(s) came with ` +
        `${inputs.length} values${hint}`,
    );
  const bad = inputs.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0)
    throw new WiregradError(
      `example ${Math.floor(bad / features)}, value ${bad % features} is ${inputs[bad]}: ` +
        'the model can only be asked about finite numbers',
    );
}

/**
 * Runs the model on `count` examples (row-major in `inputs`) with the given weights, no
 * gradients and dropout off, `chunk` examples per forward pass, each in its own scope; the
 * label input gets zeros. `read(output, start, n)` takes each pass's output before its scope
 * ends.
 */
export function forwardInChunks(
  graph: Graph,
  params: ReadonlyMap<string, Tensor>,
  io: ModelIO,
  inputs: Float32Array,
  count: number,
  read: (output: Tensor, start: number, n: number) => void,
  chunk = CHUNK,
): void {
  const features = featuresOf(io);
  noGrad(() => {
    for (let start = 0; start < count; start += chunk) {
      const n = Math.min(chunk, count - start);
      tidy(() => {
        const x = ops.tensor(inputs.subarray(start * features, (start + n) * features), {
          shape: [n, ...io.dataShape.slice(1)],
          dtype: 'f32',
        });
        const y = ops.zeros([n, ...io.labelShape.slice(1)], { dtype: io.labelDType });
        const out = graph.run(
          { [io.data]: x, [io.label]: y },
          { params: params as Map<string, Tensor>, training: false },
        )[io.output]!;
        read(out, start, n);
      });
    }
  });
}

/**
 * Softmax of the model's output for `count` examples whose features are row-major in
 * `inputs`. Throws a readable error when the sizes do not fit the model's data input.
 */
export function predictProbabilities(
  graph: Graph,
  params: ReadonlyMap<string, Tensor>,
  inputs: Float32Array,
  count: number,
): { probabilities: Float32Array; classes: number } {
  const io = modelIO(graph);
  checkExamples(io, inputs, count, '; train the model on this kind of data first');
  if (io.labelDType !== 'i32')
    throw new WiregradError('the model is not a classifier (its labels are not integers)');
  const rows: Float32Array[] = [];
  let classes = 0;
  forwardInChunks(graph, params, io, inputs, count, (out) => {
    if (out.rank !== 2)
      throw new WiregradError(
        `the model's '${io.output}' output has shape [${out.shape.join(', ')}]; class ` +
          'probabilities need [N, classes]',
      );
    classes = out.shape[1]!;
    rows.push(Float32Array.from(ops.softmax(out, 1).dataSync()));
  });
  const probabilities = new Float32Array(count * classes);
  let offset = 0;
  for (const r of rows) {
    probabilities.set(r, offset);
    offset += r.length;
  }
  return { probabilities, classes };
}

// ---- decision boundary grid -----------------------------------------------------------------

export type GridBounds = PlotBounds;

/** The bounding box of the finite points (x, y interleaved), or null when there are none. */
export function pointBox(points: Float32Array): GridBounds | null {
  let xMin = Infinity;
  let xMax = -Infinity;
  let yMin = Infinity;
  let yMax = -Infinity;
  for (let i = 0; i + 1 < points.length; i += 2) {
    const x = points[i]!;
    const y = points[i + 1]!;
    if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
    xMin = Math.min(xMin, x);
    xMax = Math.max(xMax, x);
    yMin = Math.min(yMin, y);
    yMax = Math.max(yMax, y);
  }
  return xMin > xMax ? null : { xMin, xMax, yMin, yMax };
}

/**
 * A square region around 2-D points (x, y interleaved): their bounding box grown by `margin`
 * of its larger side on every side, and widened along the shorter side so a square canvas
 * shows the data undistorted.
 */
export function gridBounds(points: Float32Array, margin = 0.1): GridBounds {
  const box = pointBox(points);
  if (!box) return { xMin: -1, xMax: 1, yMin: -1, yMax: 1 };
  const { xMin, xMax, yMin, yMax } = box;
  const half = (Math.max(xMax - xMin, yMax - yMin, 1e-6) * (1 + 2 * margin)) / 2;
  const cx = (xMin + xMax) / 2;
  const cy = (yMin + yMax) / 2;
  return { xMin: cx - half, xMax: cx + half, yMin: cy - half, yMax: cy + half };
}

/** The centres of a size×size grid over `bounds`, row-major from the top left, x and y interleaved. */
export function gridPoints(bounds: GridBounds, size: number): Float32Array {
  const out = new Float32Array(size * size * 2);
  const dx = (bounds.xMax - bounds.xMin) / size;
  const dy = (bounds.yMax - bounds.yMin) / size;
  for (let row = 0; row < size; row++)
    for (let col = 0; col < size; col++) {
      const i = (row * size + col) * 2;
      out[i] = bounds.xMin + (col + 0.5) * dx;
      out[i + 1] = bounds.yMax - (row + 0.5) * dy;
    }
  return out;
}

/** The most probable class of each row of `probabilities` and its probability scaled to 0..255. */
export function summariseProbabilities(
  probabilities: Float32Array,
  classes: number,
): { predicted: Uint8Array; confidence: Uint8Array } {
  const n = classes > 0 ? Math.floor(probabilities.length / classes) : 0;
  const predicted = new Uint8Array(n);
  const confidence = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let p = -Infinity;
    for (let c = 0; c < classes; c++) {
      const v = probabilities[i * classes + c]!;
      if (v > p) {
        p = v;
        best = c;
      }
    }
    predicted[i] = best;
    confidence[i] = Number.isFinite(p) ? Math.round(Math.min(1, Math.max(0, p)) * 255) : 0;
  }
  return { predicted, confidence };
}

// ---- confusion matrix ------------------------------------------------------------------------

/**
 * Counts (true, predicted) pairs into a classes×classes matrix, row-major (row = true class).
 * Labels or predictions outside [0, classes) are an error: they would silently vanish.
 */
export function countConfusion(
  labels: ArrayLike<number>,
  predicted: ArrayLike<number>,
  classes: number,
): number[] {
  if (labels.length !== predicted.length)
    throw new WiregradError(
      `confusion counting needs as many predictions (${predicted.length}) as labels (${labels.length})`,
    );
  const counts = new Array<number>(classes * classes).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const t = labels[i]!;
    const p = predicted[i]!;
    if (!(t >= 0 && t < classes && p >= 0 && p < classes))
      throw new WiregradError(
        `example ${i}: class ${t} (true) or ${p} (predicted) is outside 0..${classes - 1}`,
      );
    const k = t * classes + p;
    counts[k] = counts[k]! + 1;
  }
  return counts;
}

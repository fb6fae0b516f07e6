/**
 * Numerically stable `softmax` / `logSoftmax` (primitives with kernels), and the losses built
 * from ops: `crossEntropy` (with label smoothing) and `mseLoss`.
 */

import { DTypeError, ShapeError, WiregradError, formatShape } from '../core/errors.js';
import { normalizeAxis, shapesEqual, sizeOf } from '../core/shape.js';
import { runOp } from '../runtime/dispatch.js';

import type { Tensor } from '../tensor.js';
import { type OpCost, type TensorMeta, defineOp } from './registry.js';
import { requireFloat } from './util.js';
import { add, exp, mul, neg, sub } from './elementwise.js';
import { mean, sum } from './reduce.js';
import { oneHot, transpose } from './movement.js';

const F32 = 4;

// ---- softmax ----------------------------------------------------------------------------

interface AxisAttrs {
  /** Normalised (non-negative). */
  readonly axis: number;
}

function softmaxInfer(op: string) {
  return ([x]: readonly TensorMeta[], a: AxisAttrs): TensorMeta => {
    requireFloat(op, x!);
    normalizeAxis(a.axis, x!.shape.length, op);
    return { shape: x!.shape, dtype: x!.dtype };
  };
}

const softmaxCost = ([x]: readonly TensorMeta[]): OpCost => ({
  flops: 5 * sizeOf(x!.shape),
  bytes: 2 * sizeOf(x!.shape) * F32,
});

defineOp<AxisAttrs>({
  name: 'softmax',
  arity: 1,
  attrs: { axis: { kind: 'int', doc: 'the axis that sums to one' } },
  normalizeAttrs: ([x], a) => ({ axis: normalizeAxis(a.axis, x!.shape.length, 'softmax') }),
  doc: 'exp(x) / sum(exp(x)) along an axis, computed after subtracting the maximum.',
  gradientDoc: 'dx = y·(dy − sum(dy·y, axis)), the Jacobian diag(y) − y·yᵀ applied to dy.',
  inferShape: softmaxInfer('softmax'),
  gradient: (_x, y, dy, { axis }) => [mul(y, sub(dy, sum(mul(dy, y), axis, true)))],
  cost: softmaxCost,
});

defineOp<AxisAttrs>({
  name: 'logSoftmax',
  arity: 1,
  attrs: { axis: { kind: 'int', doc: 'the axis normalised over' } },
  normalizeAttrs: ([x], a) => ({ axis: normalizeAxis(a.axis, x!.shape.length, 'logSoftmax') }),
  doc: 'x − log(sum(exp(x))) along an axis, computed after subtracting the maximum.',
  gradientDoc: 'dx = dy − softmax(x)·sum(dy, axis), with softmax(x) = exp(y).',
  inferShape: softmaxInfer('logSoftmax'),
  gradient: (_x, y, dy, { axis }) => [sub(dy, mul(exp(y), sum(dy, axis, true)))],
  cost: softmaxCost,
});

export function softmax(x: Tensor, axis = -1): Tensor {
  return runOp('softmax', [x], { axis: normalizeAxis(axis, x.rank, 'softmax') });
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return runOp('logSoftmax', [x], { axis: normalizeAxis(axis, x.rank, 'logSoftmax') });
}

// ---- losses -----------------------------------------------------------------------------

export type Reduction = 'mean' | 'sum' | 'none';

function reduceLoss(op: string, loss: Tensor, reduction: Reduction): Tensor {
  switch (reduction) {
    case 'mean':
      return mean(loss);
    case 'sum':
      return sum(loss);
    case 'none':
      return loss;
    default:
      throw new WiregradError(
        `unknown reduction '${String(reduction satisfies never)}'; use 'mean', 'sum' or 'none'`,
        { op },
      );
  }
}

export interface CrossEntropyOptions {
  readonly reduction?: Reduction;
  /** ε in [0, 1]: the target is (1 − ε)·one-hot + ε/C, as PyTorch's label_smoothing. */
  readonly labelSmoothing?: number;
}

/** Labels are read back to check their range where that is cheap: tensors in CPU memory. */
function checkLabelRange(labels: Tensor, classes: number): void {
  if (labels.isSymbolic || labels.device !== 'cpu') return;
  const data = labels.dataSync();
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < 0 || v >= classes)
      throw new WiregradError(
        `label ${v} (at flat index ${i} of labels ${formatShape(labels.shape)}) is out of ` +
          `range for C = ${classes} classes; labels must be class indices in [0, ${classes})`,
        { op: 'crossEntropy' },
      );
  }
}

/**
 * Cross-entropy of logits [N, C] (or [N, C, d1, …]) against integer class labels [N]
 * (or [N, d1, …]): −log softmax(logits)[label], reduced by mean (default), sum or none.
 */
export function crossEntropy(
  logits: Tensor,
  labels: Tensor,
  options: CrossEntropyOptions = {},
): Tensor {
  const op = 'crossEntropy';
  const { reduction = 'mean', labelSmoothing = 0 } = options;
  requireFloat(op, logits);
  if (logits.rank < 2)
    throw new ShapeError(
      `expects logits [N, C] or [N, C, d1, …], got ${formatShape(logits.shape)}; a single ` +
        `sample's logits [C] must be reshaped to [1, C]`,
      { op },
    );
  const [n, c, ...rest] = logits.shape as [number, number, ...number[]];
  if (labels.dtype !== 'i32')
    throw new DTypeError(
      `labels must be i32 class indices, got ${labels.dtype} ${formatShape(labels.shape)}; ` +
        `cast them (labels.cast('i32')), or for soft targets use ` +
        `-(target · logSoftmax(logits, 1)).sum(1)`,
      { op },
    );
  const labelShape = [n, ...rest];
  if (!shapesEqual(labels.shape, labelShape))
    throw new ShapeError(
      `labels ${formatShape(labels.shape)} do not fit logits ${formatShape(logits.shape)}; ` +
        `they must be ${formatShape(labelShape)} (the logits' shape without the class axis 1)`,
      { op },
    );
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
    throw new WiregradError(`labelSmoothing must be in [0, 1], got ${labelSmoothing}`, { op });
  checkLabelRange(labels, c);
  const lsm = logSoftmax(logits, 1);
  // Pick log p[label] with a one-hot mask; oneHot puts the class axis last: move it to axis 1.
  const hot = oneHot(labels, c, { dtype: lsm.dtype });
  const mask =
    rest.length === 0 ? hot : transpose(hot, [0, hot.rank - 1, ...rest.map((_, i) => i + 1)]);
  let loss = neg(sum(mul(lsm, mask), 1));
  if (labelSmoothing > 0)
    loss = add(mul(loss, 1 - labelSmoothing), mul(neg(mean(lsm, 1)), labelSmoothing));
  return reduceLoss(op, loss, reduction);
}

/** Mean squared error (pred − target)², reduced by mean (default), sum or none. */
export function mseLoss(
  pred: Tensor,
  target: Tensor,
  options: { readonly reduction?: Reduction } = {},
): Tensor {
  // Broadcasting pred [N, 1] against target [N] silently gives an [N, N] loss: refuse it.
  if (!shapesEqual(pred.shape, target.shape))
    throw new ShapeError(
      `pred ${formatShape(pred.shape)} and target ${formatShape(target.shape)} differ in ` +
        `shape; reshape one so that they match`,
      { op: 'mseLoss' },
    );
  requireFloat('mseLoss', pred, target);
  const d = sub(pred, target);
  return reduceLoss('mseLoss', mul(d, d), options.reduction ?? 'mean');
}

/**
 * Reductions over one, several or all axes, with or without keeping the reduced axes:
 * sum, mean, max, min and argmax.
 */

import { WiregradError, formatShape } from '../core/errors.js';
import { normalizeAxes, normalizeAxis, reducedShape, sizeOf } from '../core/shape.js';
import { runOp } from '../runtime/dispatch.js';
import type { Tensor } from '../tensor.js';
import { defineOp, type TensorMeta } from './registry.js';
import { requireFloat } from './util.js';
import { cast, div, equal, mul } from './elementwise.js';
import { expand, reshape } from './movement.js';

export interface ReduceAttrs {
  /** The axes to reduce, normalised and sorted (all axes when the list is every axis). */
  readonly axes: readonly number[];
  readonly keepDims: boolean;
}

const reduceAttrs = {
  axes: { kind: 'ints', doc: 'axes to reduce (negative counts from the end)' },
  keepDims: { kind: 'bool', doc: 'keep reduced axes as size 1' },
} as const;

function reduceInfer(op: string, floatOnly: boolean) {
  return ([x]: readonly TensorMeta[], a: ReduceAttrs): TensorMeta => {
    if (floatOnly) requireFloat(op, x!);
    else if (x!.dtype === 'bool')
      throw new WiregradError(`does not take bool tensors; cast to 'i32' or 'f32' first`, { op });
    const axes = normalizeAxes(a.axes, x!.shape.length, op);
    if (op !== 'sum')
      for (const ax of axes)
        if (x!.shape[ax] === 0)
          throw new WiregradError(
            `cannot reduce over an empty axis ${ax} of ${formatShape(x!.shape)}`,
            { op },
          );
    return { shape: reducedShape(x!.shape, axes, a.keepDims), dtype: x!.dtype };
  };
}

/** Gradient of a reduction back to the input shape: reinsert the reduced axes, then expand. */
function unreduce(g: Tensor, x: Tensor, a: ReduceAttrs): Tensor {
  const kept = reducedShape(x.shape, normalizeAxes(a.axes, x.rank), true);
  return expand(reshape(g, kept), x.shape);
}

const reduceCost = ([x]: readonly TensorMeta[], out: TensorMeta) => ({
  flops: sizeOf(x!.shape),
  bytes: (sizeOf(x!.shape) + sizeOf(out.shape)) * 4,
});

const normalizeReduce = ([x]: readonly TensorMeta[], a: ReduceAttrs): ReduceAttrs => ({
  ...a,
  axes: normalizeAxes(a.axes, x!.shape.length),
});

defineOp<ReduceAttrs>({
  name: 'sum',
  arity: 1,
  attrs: reduceAttrs,
  normalizeAttrs: normalizeReduce,
  doc: 'Sum over the given axes.',
  gradientDoc:
    'Each input element adds once to the sum: dx = dy copied back over the reduced axes.',
  inferShape: reduceInfer('sum', false),
  gradient: ([x], _y, dy, a) => [unreduce(dy, x!, a)],
  cost: reduceCost,
});

function extremum(name: 'max' | 'min'): void {
  defineOp<ReduceAttrs>({
    name,
    arity: 1,
    attrs: reduceAttrs,
    normalizeAttrs: normalizeReduce,
    doc: `${name === 'max' ? 'Maximum' : 'Minimum'} over the given axes.`,
    gradientDoc:
      'The gradient flows to the elements equal to the result, shared equally among ties.',
    inferShape: reduceInfer(name, false),
    gradient([x], y, dy, a) {
      // Share among ties, as PyTorch's amax/amin do.
      const hit = cast(equal(x!, unreduce(y, x!, a)), dy.dtype);
      const count = runOp('sum', [hit], { axes: a.axes, keepDims: a.keepDims });
      return [mul(hit, unreduce(div(dy, count), x!, a))];
    },
    cost: reduceCost,
  });
}
extremum('max');
extremum('min');

interface ArgmaxAttrs {
  readonly axis: number;
  readonly keepDims: boolean;
}

defineOp<ArgmaxAttrs>({
  name: 'argmax',
  arity: 1,
  attrs: { axis: { kind: 'int' }, keepDims: { kind: 'bool' } },
  normalizeAttrs: ([x], a) => ({ ...a, axis: normalizeAxis(a.axis, x!.shape.length, 'argmax') }),
  doc: 'Index of the largest element along an axis (the first one among ties), as i32.',
  inferShape([x], a) {
    const axis = normalizeAxis(a.axis, x!.shape.length, 'argmax');
    if (x!.shape[axis] === 0)
      throw new WiregradError(`cannot take argmax over an empty axis`, { op: 'argmax' });
    return { shape: reducedShape(x!.shape, [axis], a.keepDims), dtype: 'i32' };
  },
  cost: reduceCost,
});

type Axes = number | readonly number[] | undefined;

function reduceOp(name: string, x: Tensor, axis: Axes, keepDims = false): Tensor {
  return runOp(name, [x], { axes: normalizeAxes(axis, x.rank, name), keepDims });
}

export const sum = (x: Tensor, axis?: Axes, keepDims = false): Tensor =>
  reduceOp('sum', x, axis, keepDims);
export const max = (x: Tensor, axis?: Axes, keepDims = false): Tensor =>
  reduceOp('max', x, axis, keepDims);
export const min = (x: Tensor, axis?: Axes, keepDims = false): Tensor =>
  reduceOp('min', x, axis, keepDims);

/** Mean over the given axes (all by default). */
export function mean(x: Tensor, axis?: Axes, keepDims = false): Tensor {
  const axes = normalizeAxes(axis, x.rank, 'mean');
  let n = 1;
  for (const a of axes) n *= x.shape[a]!;
  const s = runOp('sum', [x.dtype === 'i32' ? cast(x, 'f32') : x], { axes, keepDims });
  return div(s, n);
}

/** Index of the maximum along `axis` (the flattened tensor when undefined). */
export function argmax(x: Tensor, axis?: number, keepDims = false): Tensor {
  if (axis === undefined) return runOp('argmax', [reshape(x, [x.size])], { axis: 0, keepDims });
  return runOp('argmax', [x], { axis: normalizeAxis(axis, x.rank, 'argmax'), keepDims });
}

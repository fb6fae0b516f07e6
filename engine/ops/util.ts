/**
 * Small pieces the op definitions share: turning a JavaScript number into a tensor beside its
 * partner operand, dtype checks with messages that name the op, and `sumToShape`, which undoes
 * broadcasting in gradient rules.
 */

import { type DType, isFloat } from '../core/dtype.js';
import { DTypeError, formatShape } from '../core/errors.js';
import { type Shape, shapesEqual } from '../core/shape.js';
import { Tensor } from '../tensor.js';
import type { TensorMeta } from './registry.js';
import { runOp } from '../runtime/dispatch.js';

/** A number becomes a 0-d tensor of `like`'s dtype on `like`'s device. */
export function asTensor(value: Tensor | number, like: Tensor): Tensor {
  if (value instanceof Tensor) return value;
  // As in PyTorch, a fractional number promotes an integer tensor to float.
  const dtype: DType =
    like.dtype === 'bool' || (like.dtype === 'i32' && !Number.isInteger(value))
      ? 'f32'
      : like.dtype;
  return runOp('fill', [], { shape: [], value, dtype, device: like.device });
}

export function requireFloat(op: string, ...inputs: readonly TensorMeta[]): void {
  for (const t of inputs)
    if (!isFloat(t.dtype))
      throw new DTypeError(
        `expects floating-point inputs, got ${t.dtype} ${formatShape(t.shape)}; ` +
          `cast it first (x.cast('f32'))`,
        { op },
      );
}

export function requireDType(op: string, t: TensorMeta, ...allowed: DType[]): void {
  if (!allowed.includes(t.dtype))
    throw new DTypeError(
      `expects ${allowed.join(' or ')}, got ${t.dtype} ${formatShape(t.shape)}`,
      { op },
    );
}

/** Sums `g` over the dimensions that broadcasting expanded, so it takes `shape` again. */
export function sumToShape(g: Tensor, shape: Shape): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.rank; i++) {
    const d = i < lead ? 1 : shape[i - lead]!;
    if (i < lead || (d === 1 && g.shape[i] !== 1)) axes.push(i);
  }
  const summed = axes.length > 0 ? runOp('sum', [g], { axes, keepDims: true }) : g;
  return shapesEqual(summed.shape, shape)
    ? summed
    : runOp('reshape', [summed], { shape: [...shape] });
}

/** Reshape only when the shape changes (reshape is a view, but a node is a node). */
export function reshapeTo(x: Tensor, shape: Shape): Tensor {
  return shapesEqual(x.shape, shape) ? x : runOp('reshape', [x], { shape: [...shape] });
}

export function requireSameDType(op: string, a: TensorMeta, b: TensorMeta): void {
  if (a.dtype !== b.dtype)
    throw new DTypeError(
      `operands differ in dtype: ${a.dtype} ${formatShape(a.shape)} and ${b.dtype} ` +
        `${formatShape(b.shape)}; cast one of them (x.cast('${a.dtype}'))`,
      { op },
    );
}

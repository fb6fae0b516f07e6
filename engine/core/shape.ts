/**
 * Shape arithmetic shared by op definitions and kernels: sizes, row-major strides, NumPy
 * broadcasting and axis normalisation. Everything here is pure and allocation-light.
 */

import { ShapeError, formatShape } from './errors.js';

export type Shape = readonly number[];

export function sizeOf(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

export function shapesEqual(a: Shape, b: Shape): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** NumPy/PyTorch broadcasting of two shapes; throws a ShapeError naming both shapes. */
export function broadcastShapes(a: Shape, b: Shape, op?: string): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da === db || db === 1) out[i] = da;
    else if (da === 1) out[i] = db;
    else
      throw new ShapeError(
        `shapes ${formatShape(a)} and ${formatShape(b)} cannot be broadcast together ` +
          `(dimension ${i - n} is ${da} vs ${db})`,
        { op },
      );
  }
  return out;
}

/**
 * Strides for reading a tensor of `shape` as if it had `outShape` (broadcast): broadcast
 * dimensions get stride 0. `shape` must broadcast to `outShape`.
 */
export function broadcastStrides(shape: Shape, outShape: Shape): number[] {
  const strides = stridesOf(shape);
  const out = new Array<number>(outShape.length).fill(0);
  const offset = outShape.length - shape.length;
  for (let i = 0; i < shape.length; i++) out[i + offset] = shape[i] === 1 ? 0 : strides[i]!;
  return out;
}

/** Normalises a possibly negative axis into [0, rank); throws naming the op. */
export function normalizeAxis(axis: number, rank: number, op?: string): number {
  if (!Number.isInteger(axis) || axis < -rank || axis >= Math.max(rank, 1))
    throw new ShapeError(`axis ${axis} is out of range for a tensor of rank ${rank}`, { op });
  return axis < 0 ? axis + rank : axis;
}

/** Normalises `axis` (one, several, or all when undefined) to a sorted unique list. */
export function normalizeAxes(
  axis: number | readonly number[] | undefined,
  rank: number,
  op?: string,
): number[] {
  if (axis === undefined) return Array.from({ length: rank }, (_, i) => i);
  const list = typeof axis === 'number' ? [axis] : axis;
  const out = [...new Set(list.map((a) => normalizeAxis(a, rank, op)))];
  return out.sort((x, y) => x - y);
}

/** The shape after reducing `axes`; kept axes become 1 when keepDims. */
export function reducedShape(shape: Shape, axes: readonly number[], keepDims: boolean): number[] {
  const out: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    if (axes.includes(i)) {
      if (keepDims) out.push(1);
    } else out.push(shape[i]!);
  }
  return out;
}

export function assertValidShape(shape: Shape, op?: string): void {
  for (const d of shape)
    if (!Number.isInteger(d) || d < 0)
      throw new ShapeError(
        `invalid shape ${formatShape(shape)}: dimensions must be integers >= 0`,
        {
          op,
        },
      );
}

/**
 * Loop helpers shared by the reference kernels: elementwise maps with NumPy broadcasting.
 * Contiguous and scalar operands take a flat loop; anything else walks the output with an
 * odometer over broadcast strides (stride 0 on broadcast dimensions).
 */

import type { TypedArray } from '../../../core/dtype.js';
import { type Shape, broadcastStrides, shapesEqual } from '../../../core/shape.js';
import type { CpuTensor } from '../cpu-backend.js';

/** Calls `visit(outIndex, offsets…)` for every output element, in row-major order. */
export function forEachBroadcast(
  outShape: Shape,
  inShapes: readonly Shape[],
  visit: (i: number, offsets: Int32Array) => void,
): void {
  const rank = outShape.length;
  const strides = inShapes.map((s) => broadcastStrides(s, outShape));
  const n = inShapes.length;
  const offsets = new Int32Array(n);
  const index = new Int32Array(rank);
  let total = 1;
  for (const d of outShape) total *= d;
  for (let i = 0; i < total; i++) {
    visit(i, offsets);
    // Advance the odometer and the input offsets.
    for (let d = rank - 1; d >= 0; d--) {
      index[d]!++;
      for (let k = 0; k < n; k++) offsets[k]! += strides[k]![d]!;
      if (index[d]! < outShape[d]!) break;
      for (let k = 0; k < n; k++) offsets[k]! -= strides[k]![d]! * outShape[d]!;
      index[d] = 0;
    }
  }
}

export function mapUnary(x: CpuTensor, out: CpuTensor, f: (v: number) => number): void {
  const a = x.data;
  const o = out.data;
  for (let i = 0; i < o.length; i++) o[i] = f(a[i]!);
}

export function mapBinary(
  a: CpuTensor,
  b: CpuTensor,
  out: CpuTensor,
  f: (x: number, y: number) => number,
): void {
  const A = a.data;
  const B = b.data;
  const O: TypedArray = out.data;
  const n = O.length;
  if (shapesEqual(a.shape, out.shape) && shapesEqual(b.shape, out.shape)) {
    for (let i = 0; i < n; i++) O[i] = f(A[i]!, B[i]!);
  } else if (b.size === 1 && shapesEqual(a.shape, out.shape)) {
    const y = B[0]!;
    for (let i = 0; i < n; i++) O[i] = f(A[i]!, y);
  } else if (a.size === 1 && shapesEqual(b.shape, out.shape)) {
    const x = A[0]!;
    for (let i = 0; i < n; i++) O[i] = f(x, B[i]!);
  } else {
    forEachBroadcast(out.shape, [a.shape, b.shape], (i, off) => {
      O[i] = f(A[off[0]!]!, B[off[1]!]!);
    });
  }
}

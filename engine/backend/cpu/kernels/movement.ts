/**
 * Reference CPU kernels for the movement ops. Attrs arrive normalised (the op definitions check
 * them), except that axes are normalised again here for graph documents that store negative
 * ones. Index tensors are data, so gather, scatterAdd and oneHot check every index here and
 * throw an error naming the index, where it sits, the axis size and the op.
 */

import type { TypedArray } from '../../../core/dtype.js';
import { WiregradError, formatShape } from '../../../core/errors.js';
import { type Shape, sizeOf, stridesOf } from '../../../core/shape.js';
import type { CpuBackend, CpuTensor } from '../cpu-backend.js';
import { forEachBroadcast } from './broadcast.js';

/**
 * Copies a box of `shape` from `src` (at `srcOff`, with `srcStrides`) to `dst` (at `dstOff`,
 * with `dstStrides`), a row at a time along the last axis, which is contiguous on both sides.
 */
function copyBox(
  shape: Shape,
  src: TypedArray,
  srcOff: number,
  srcStrides: readonly number[],
  dst: TypedArray,
  dstOff: number,
  dstStrides: readonly number[],
): void {
  const rank = shape.length;
  if (sizeOf(shape) === 0) return;
  if (rank === 0) {
    dst[dstOff] = src[srcOff]!;
    return;
  }
  const row = shape[rank - 1]!;
  const rows = sizeOf(shape) / row;
  const idx = new Int32Array(rank - 1);
  let s = srcOff;
  let d = dstOff;
  for (let r = 0; r < rows; r++) {
    for (let j = 0; j < row; j++) dst[d + j] = src[s + j]!;
    // Odometer over the leading axes.
    for (let k = rank - 2; k >= 0; k--) {
      idx[k]!++;
      s += srcStrides[k]!;
      d += dstStrides[k]!;
      if (idx[k]! < shape[k]!) break;
      s -= srcStrides[k]! * shape[k]!;
      d -= dstStrides[k]! * shape[k]!;
      idx[k] = 0;
    }
  }
}

/** [outer, n, inner]: x viewed as outer × n × inner blocks around `axis`. */
function splitAt(shape: Shape, axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis]!, sizeOf(shape.slice(axis + 1))];
}

/** Where flat position `j` of `shape` sits, as `[i, j, …]`, for error messages. */
function positionOf(j: number, shape: Shape): string {
  const strides = stridesOf(shape);
  return formatShape(strides.map((s, d) => Math.floor(j / s) % shape[d]!));
}

/** Throws unless every index lies in [0, n); `bound` says what n is, e.g. 'depth is 3'. */
function checkIndices(op: string, indices: CpuTensor, n: number, bound: string): void {
  const I = indices.data;
  for (let j = 0; j < I.length; j++) {
    const k = I[j]!;
    if (k < 0 || k >= n)
      throw new WiregradError(
        `index ${k} at indices${positionOf(j, indices.shape)} is out of range: ${bound}, ` +
          `so indices must lie in [0, ${n})`,
        { op },
      );
  }
}

const axisBound = (axis: number, shape: Shape): string =>
  `axis ${axis} of ${formatShape(shape)} has size ${shape[axis]}`;

const axisOf = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

export function registerMovementKernels(cpu: CpuBackend): void {
  cpu.registerReference('expand', ([x], out) => {
    const X = x!.data;
    const O = out.data;
    forEachBroadcast(out.shape, [x!.shape], (i, off) => {
      O[i] = X[off[0]!]!;
    });
  });

  cpu.registerReference<{ perm: readonly number[] }>('transpose', ([x], out, { perm }) => {
    const X = x!.data;
    const O = out.data;
    const inStrides = stridesOf(x!.shape);
    // Walk the output in order, reading the input through permuted strides.
    const permuted = perm.map((p) => inStrides[p]!);
    const rank = perm.length;
    if (rank === 2) {
      const [r, c] = out.shape as [number, number];
      const [s0, s1] = permuted as [number, number];
      for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) O[i * c + j] = X[i * s0 + j * s1]!;
      return;
    }
    const idx = new Int32Array(rank);
    let off = 0;
    for (let i = 0; i < O.length; i++) {
      O[i] = X[off]!;
      for (let d = rank - 1; d >= 0; d--) {
        idx[d]!++;
        off += permuted[d]!;
        if (idx[d]! < out.shape[d]!) break;
        off -= permuted[d]! * out.shape[d]!;
        idx[d] = 0;
      }
    }
  });

  cpu.registerReference<{ begin: readonly number[] }>('slice', ([x], out, { begin }) => {
    const strides = stridesOf(x!.shape);
    const start = begin.reduce((off, b, d) => off + b * strides[d]!, 0);
    copyBox(out.shape, x!.data, start, strides, out.data, 0, stridesOf(out.shape));
  });

  cpu.registerReference<{ pads: readonly number[]; value: number }>(
    'pad',
    ([x], out, { pads, value }) => {
      const strides = stridesOf(out.shape);
      const start = strides.reduce((off, s, d) => off + pads[2 * d]! * s, 0);
      out.data.fill(value);
      copyBox(x!.shape, x!.data, 0, stridesOf(x!.shape), out.data, start, strides);
    },
  );

  cpu.registerReference<{ axis: number }>('concat', (inputs, out, attrs) => {
    const axis = axisOf(attrs.axis, out.shape.length);
    const [outer, total, inner] = splitAt(out.shape, axis);
    const O = out.data;
    let offset = 0;
    for (const t of inputs) {
      // Each input is `outer` blocks of `block` elements, landing `offset` into each output row.
      const block = t.shape[axis]! * inner;
      const X = t.data;
      for (let o = 0; o < outer; o++) {
        const src = o * block;
        const dst = o * total * inner + offset;
        for (let j = 0; j < block; j++) O[dst + j] = X[src + j]!;
      }
      offset += block;
    }
  });

  cpu.registerReference<{ axis: number }>('gather', ([x, indices], out, attrs) => {
    const axis = axisOf(attrs.axis, x!.shape.length);
    const [outer, n, inner] = splitAt(x!.shape, axis);
    checkIndices('gather', indices!, n, axisBound(axis, x!.shape));
    const X = x!.data;
    const I = indices!.data;
    const O = out.data;
    const m = I.length;
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < m; j++) {
        const src = (o * n + I[j]!) * inner;
        const dst = (o * m + j) * inner;
        for (let t = 0; t < inner; t++) O[dst + t] = X[src + t]!;
      }
  });

  cpu.registerReference<{ axis: number }>('scatterAdd', ([x, indices, updates], out, attrs) => {
    const axis = axisOf(attrs.axis, x!.shape.length);
    const [outer, n, inner] = splitAt(x!.shape, axis);
    checkIndices('scatterAdd', indices!, n, axisBound(axis, x!.shape));
    const U = updates!.data;
    const I = indices!.data;
    const O = out.data;
    O.set(x!.data);
    const m = I.length;
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < m; j++) {
        const dst = (o * n + I[j]!) * inner;
        const src = (o * m + j) * inner;
        for (let t = 0; t < inner; t++) O[dst + t]! += U[src + t]!;
      }
  });

  cpu.registerReference<{ depth: number; onValue: number; offValue: number }>(
    'oneHot',
    ([indices], out, { depth, onValue, offValue }) => {
      checkIndices('oneHot', indices!, depth, `depth is ${depth}`);
      const I = indices!.data;
      const O = out.data;
      O.fill(offValue);
      for (let j = 0; j < I.length; j++) O[j * depth + I[j]!] = onValue;
    },
  );
}

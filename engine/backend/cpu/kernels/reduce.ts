/**
 * Reference CPU kernels for reductions. The input is viewed as [outer, reduced, inner] blocks
 * after moving reduced axes: for the common case of contiguous reduced axes this is a plain
 * strided loop; otherwise the input is walked once with an odometer, accumulating into the
 * output position each element maps to. Sums accumulate in float64.
 */

import { stridesOf } from '../../../core/shape.js';
import type { CpuBackend, CpuTensor } from '../cpu-backend.js';

/** For each input element (row-major), the flat output index it reduces into. */
function outputIndexMap(x: CpuTensor, axes: readonly number[]): Int32Array {
  const rank = x.shape.length;
  const keptStrides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let d = rank - 1; d >= 0; d--) {
    if (!axes.includes(d)) {
      keptStrides[d] = s;
      s *= x.shape[d]!;
    }
  }
  const map = new Int32Array(x.size);
  const idx = new Int32Array(rank);
  let o = 0;
  for (let i = 0; i < x.size; i++) {
    map[i] = o;
    for (let d = rank - 1; d >= 0; d--) {
      idx[d]!++;
      o += keptStrides[d]!;
      if (idx[d]! < x.shape[d]!) break;
      o -= keptStrides[d]! * x.shape[d]!;
      idx[d] = 0;
    }
  }
  return map;
}

/** [outer, reduce, inner] when the reduced axes are one contiguous run, else null. */
function contiguousSplit(x: CpuTensor, axes: readonly number[]): [number, number, number] | null {
  if (axes.length === 0) return [x.size, 1, 1];
  for (let i = 1; i < axes.length; i++) if (axes[i] !== axes[i - 1]! + 1) return null;
  const first = axes[0]!;
  const last = axes[axes.length - 1]!;
  let outer = 1;
  let red = 1;
  let inner = 1;
  x.shape.forEach((d, i) => {
    if (i < first) outer *= d;
    else if (i <= last) red *= d;
    else inner *= d;
  });
  return [outer, red, inner];
}

type Combine = 'sum' | 'max' | 'min';

function reduce(x: CpuTensor, out: CpuTensor, axes: readonly number[], kind: Combine): void {
  const X = x.data;
  const O = out.data;
  const init = kind === 'sum' ? 0 : kind === 'max' ? -Infinity : Infinity;
  const acc = new Float64Array(O.length).fill(init);
  const split = contiguousSplit(x, axes);
  const step = (a: number, v: number): number =>
    kind === 'sum'
      ? a + v
      : v !== v || a !== a
        ? NaN
        : kind === 'max'
          ? v > a
            ? v
            : a
          : v < a
            ? v
            : a;
  if (split) {
    const [outer, red, inner] = split;
    for (let o = 0; o < outer; o++)
      for (let r = 0; r < red; r++) {
        const base = (o * red + r) * inner;
        const ob = o * inner;
        if (kind === 'sum') for (let i = 0; i < inner; i++) acc[ob + i]! += X[base + i]!;
        else for (let i = 0; i < inner; i++) acc[ob + i] = step(acc[ob + i]!, X[base + i]!);
      }
  } else {
    const map = outputIndexMap(x, axes);
    for (let i = 0; i < X.length; i++) acc[map[i]!] = step(acc[map[i]!]!, X[i]!);
  }
  O.set(acc);
}

export function registerReduceKernels(cpu: CpuBackend): void {
  for (const kind of ['sum', 'max', 'min'] as const)
    cpu.registerReference<{ axes: readonly number[] }>(kind, ([x], out, { axes }) =>
      reduce(x!, out, axes, kind),
    );

  cpu.registerReference<{ axis: number }>('argmax', ([x], out, { axis }) => {
    const X = x!.data;
    const O = out.data;
    const strides = stridesOf(x!.shape);
    const n = x!.shape[axis]!;
    const inner = strides[axis]!;
    const outer = x!.size / (n * inner);
    for (let o = 0; o < outer; o++)
      for (let i = 0; i < inner; i++) {
        const base = o * n * inner + i;
        let best = 0;
        let bestV = X[base]!;
        for (let k = 1; k < n; k++) {
          const v = X[base + k * inner]!;
          // NaN counts as the maximum, as in PyTorch.
          if (v > bestV || (v !== v && bestV === bestV)) {
            bestV = v;
            best = k;
          }
        }
        O[o * inner + i] = best;
      }
  });
}

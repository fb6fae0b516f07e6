/**
 * Reference CPU kernels for the elementwise ops. Arithmetic runs in float64 (JavaScript
 * numbers) and rounds when stored, so f32 results are correctly rounded per op.
 */

import type { TypedArray } from '../../../core/dtype.js';
import { shapesEqual } from '../../../core/shape.js';
import type { CpuBackend, CpuTensor } from '../cpu-backend.js';
import { forEachBroadcast, mapBinary, mapUnary } from './broadcast.js';

/** erf by Abramowitz–Stegun 7.1.26 refined: |error| < 1.2e-7, enough for float32. */
export function erf(x: number): number {
  // W. J. Cody's rational approximations would be exact to double; float32 tensors need
  // ~1e-7, which this continued-fraction-free series/asymptotic pair gives.
  const ax = Math.abs(x);
  let r: number;
  if (ax < 2.5) {
    // Maclaurin series: erf x = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1))
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 60; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    r = (2 / Math.sqrt(Math.PI)) * sum;
  } else {
    // Continued fraction for erfc, converges fast for large |x|.
    let f = 0;
    for (let n = 60; n >= 1; n--) f = n / 2 / (ax + f);
    r = 1 - Math.exp(-ax * ax) / Math.sqrt(Math.PI) / (ax + f);
  }
  return x < 0 ? -r : r;
}

const SQRT1_2 = Math.SQRT1_2;

export function registerElementwiseKernels(cpu: CpuBackend): void {
  const unary = (op: string, f: (v: number) => number): void =>
    cpu.registerReference(op, ([x], out) => mapUnary(x!, out, f));
  unary('neg', (v) => -v);
  unary('exp', Math.exp);
  unary('log', Math.log);
  unary('sqrt', Math.sqrt);
  unary('abs', Math.abs);
  unary('sign', (v) => (v > 0 ? 1 : v < 0 ? -1 : v)); // keeps NaN and ±0
  unary('tanh', Math.tanh);
  unary('sigmoid', (v) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v))));
  unary('relu', (v) => (v > 0 ? v : v === v ? 0 : v));
  unary('erf', erf);
  unary('gelu', (v) => 0.5 * v * (1 + erf(v * SQRT1_2)));
  cpu.registerReference<{ alpha?: number }>('leakyRelu', ([x], out, { alpha = 0.01 }) =>
    mapUnary(x!, out, (v) => (v > 0 ? v : v * alpha)),
  );

  const binary = (op: string, f: (a: number, b: number) => number): void =>
    cpu.registerReference(op, ([a, b], out) => mapBinary(a!, b!, out, f));
  binary('add', (a, b) => a + b);
  binary('sub', (a, b) => a - b);
  binary('mul', (a, b) => a * b);
  binary('div', (a, b) => a / b);
  binary('pow', Math.pow);
  // NaN propagates through maximum/minimum, as in PyTorch.
  binary('maximum', (a, b) => (a !== a || b !== b ? NaN : a > b ? a : b));
  binary('minimum', (a, b) => (a !== a || b !== b ? NaN : a < b ? a : b));
  // Comparisons run in their own loops where an operand is whole or a scalar (relu's gradient
  // compares every activation with 0): a shared loop calling `f` is several times slower.
  const compare = (
    op: string,
    f: (a: number, b: number) => number,
    flat: (A: TypedArray, B: TypedArray, O: TypedArray, n: number, sa: number, sb: number) => void,
  ): void =>
    cpu.registerReference(op, ([a, b], out) => {
      // Step 1 walks an operand of the output's shape, step 0 repeats a scalar.
      const step = (t: CpuTensor): number =>
        shapesEqual(t.shape, out.shape) ? 1 : t.size === 1 ? 0 : -1;
      const [sa, sb] = [step(a!), step(b!)];
      if (sa >= 0 && sb >= 0) flat(a!.data, b!.data, out.data, out.size, sa, sb);
      else mapBinary(a!, b!, out, f);
    });
  compare(
    'equal',
    (a, b) => (a === b ? 1 : 0),
    (A, B, O, n, sa, sb) => {
      for (let i = 0, ia = 0, ib = 0; i < n; i++, ia += sa, ib += sb)
        O[i] = A[ia]! === B[ib]! ? 1 : 0;
    },
  );
  compare(
    'greater',
    (a, b) => (a > b ? 1 : 0),
    (A, B, O, n, sa, sb) => {
      for (let i = 0, ia = 0, ib = 0; i < n; i++, ia += sa, ib += sb)
        O[i] = A[ia]! > B[ib]! ? 1 : 0;
    },
  );
  compare(
    'less',
    (a, b) => (a < b ? 1 : 0),
    (A, B, O, n, sa, sb) => {
      for (let i = 0, ia = 0, ib = 0; i < n; i++, ia += sa, ib += sb)
        O[i] = A[ia]! < B[ib]! ? 1 : 0;
    },
  );

  cpu.registerReference('where', ([c, a, b], out) => {
    const C = c!.data;
    const A = a!.data;
    const B = b!.data;
    const O = out.data;
    forEachBroadcast(out.shape, [c!.shape, a!.shape, b!.shape], (i, off) => {
      O[i] = C[off[0]!] ? A[off[1]!]! : B[off[2]!]!;
    });
  });

  cpu.registerReference('cast', ([x], out: CpuTensor) => {
    const src = x!.data;
    const dst = out.data;
    if (out.dtype === 'bool')
      for (let i = 0; i < dst.length; i++) dst[i] = src[i] !== 0 ? 1 : 0; // NaN is nonzero: true
    else if (out.dtype === 'i32') for (let i = 0; i < dst.length; i++) dst[i] = Math.trunc(src[i]!);
    else dst.set(src);
  });
}

/**
 * Numerical test helpers: `expectClose` compares arrays with stated tolerances and reports the
 * worst element; `gradcheck` compares autodiff gradients with central differences computed in
 * float64 (the CPU reference kernels run f64), as PyTorch's gradcheck does.
 */

import { expect } from 'vitest';
import * as wg from '../../engine/index.js';
import type { Tensor } from '../../engine/index.js';

export interface Tolerance {
  readonly rtol?: number;
  readonly atol?: number;
}

/** |a - b| <= atol + rtol·|b| elementwise (NaN equals NaN; ±Inf must match exactly). */
export function expectClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { rtol = 1e-5, atol = 1e-6 }: Tolerance = {},
  label = '',
): void {
  expect(actual.length, `${label} length`).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i]!;
    const b = expected[i]!;
    if (Number.isNaN(a) && Number.isNaN(b)) continue;
    if (!Number.isFinite(b) || !Number.isFinite(a)) {
      if (a !== b) {
        worst = i;
        worstExcess = Infinity;
        break;
      }
      continue;
    }
    const excess = Math.abs(a - b) - (atol + rtol * Math.abs(b));
    if (excess > worstExcess || (excess > 0 && worst < 0)) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0)
    expect.fail(
      `${label}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} ` +
        `(rtol ${rtol}, atol ${atol})`,
    );
}

export interface GradcheckOptions extends Tolerance {
  /** Finite-difference step (default 1e-6). */
  readonly eps?: number;
  /** Which inputs to check (default: every floating-point input). */
  readonly wrt?: readonly number[];
  readonly seed?: number;
}

/**
 * Checks the gradients of `f` at `inputs` (converted to f64) against central differences.
 * The scalar checked is sum(f(x) · R) with fixed random weights R, so every output element
 * and every input element is exercised.
 */
export function gradcheck(
  f: (...xs: Tensor[]) => Tensor,
  inputs: readonly Tensor[],
  options: GradcheckOptions = {},
): void {
  const { eps = 1e-6, rtol = 1e-5, atol = 1e-7, seed = 1234 } = options;
  const wrt =
    options.wrt ?? inputs.flatMap((t, i) => (t.dtype === 'f32' || t.dtype === 'f64' ? [i] : []));
  wg.tidy(() => {
    const xs = inputs.map((t, i) =>
      wrt.includes(i) ? wg.tensor(t.dataSync(), { shape: t.shape, dtype: 'f64' }) : t,
    );
    const probe = wg.noGrad(() => f(...xs));
    const weights = wg.ops.cast(wg.randn(probe.shape, { seed }), 'f64');
    const objective = (...args: Tensor[]): Tensor => {
      const y = f(...args);
      return y.dtype === 'f64' ? y.mul(weights).sum() : y.cast('f64').mul(weights).sum();
    };
    for (const i of wrt) xs[i]!.requiresGrad = true;
    objective(...xs).backward();
    for (const i of wrt) {
      const x = xs[i]!;
      const analytic = x.grad!.dataSync();
      const base = x.dataSync();
      const numeric = new Float64Array(base.length);
      for (let k = 0; k < base.length; k++) {
        // Not under noGrad: f may itself take gradients (grad of grad), which need the tape.
        const at = (delta: number): number =>
          wg.tidy(() => {
            const moved = Float64Array.from(base);
            moved[k]! += delta;
            const args = xs.map((t, j) =>
              j === i ? wg.tensor(moved, { shape: x.shape, dtype: 'f64' }) : t,
            );
            return objective(...args).item();
          });
        numeric[k] = (at(eps) - at(-eps)) / (2 * eps);
      }
      expectClose(analytic, numeric, { rtol, atol: atol + eps * 10 }, `gradient of input ${i}`);
    }
  });
}

/** Deterministic f64-friendly test data in [lo, hi). */
export function uniform(shape: readonly number[], seed: number, lo = -1, hi = 1): Tensor {
  return wg
    .rand(shape, { seed })
    .mul(hi - lo)
    .add(lo);
}

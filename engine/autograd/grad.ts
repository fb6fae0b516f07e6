/**
 * Functional autodiff, as in JAX: `grad(f)` is a function that returns the gradient of `f`
 * (which must return a scalar) with respect to chosen arguments; `valueAndGrad(f)` returns the
 * value too. They build the backward pass on the tape, so `grad(grad(f))` works. `noGrad(fn)`
 * runs `fn` without recording.
 */

import { WiregradError } from '../core/errors.js';
import type { Tensor } from '../tensor.js';
import { state } from '../runtime/state.js';
import * as ops from '../ops/index.js';
import { gradients } from './backward.js';

export type TensorFn = (...args: Tensor[]) => Tensor;

/** Runs `fn` with gradient recording off. */
export function noGrad<T>(fn: () => T): T {
  state.noGradDepth++;
  try {
    return fn();
  } finally {
    state.noGradDepth--;
  }
}

function differentiate(
  f: TensorFn,
  argnums: readonly number[],
  args: readonly Tensor[],
): { value: Tensor; grads: Tensor[] } {
  // Like torch.enable_grad: taking a gradient records even inside noGrad.
  const saved = state.noGradDepth;
  state.noGradDepth = 0;
  try {
    return differentiateRecording(f, argnums, args);
  } finally {
    state.noGradDepth = saved;
  }
}

function differentiateRecording(
  f: TensorFn,
  argnums: readonly number[],
  args: readonly Tensor[],
): { value: Tensor; grads: Tensor[] } {
  for (const i of argnums)
    if (i < 0 || i >= args.length)
      throw new WiregradError(`grad: argnum ${i} is out of range for ${args.length} arguments`);
  // Fresh differentiable aliases of the chosen arguments. When an argument is itself on the
  // tape of an outer grad, the alias links to it, so the outer pass sees through this one.
  const inputs = args.map((a, i) => {
    if (!argnums.includes(i)) return a;
    const alias = ops.identity(a);
    alias.requiresGrad = true;
    return alias;
  });
  const value = f(...inputs);
  if (value.size !== 1)
    throw new WiregradError(
      `grad: the function must return a scalar, got shape [${value.shape.join(', ')}]`,
    );
  const wrt = argnums.map((i) => inputs[i]!);
  const grads = value.requiresGrad
    ? gradients(value, wrt, { createGraph: true })
    : wrt.map((x) => ops.zerosLike(x));
  return { value, grads };
}

/** The gradient of scalar `f` with respect to argument `argnum` (default 0). */
export function grad(f: TensorFn, argnum?: number): (...args: Tensor[]) => Tensor;
/** The gradients of scalar `f` with respect to several arguments. */
export function grad(f: TensorFn, argnums: readonly number[]): (...args: Tensor[]) => Tensor[];
export function grad(
  f: TensorFn,
  argnums: number | readonly number[] = 0,
): (...args: Tensor[]) => Tensor | Tensor[] {
  const list = typeof argnums === 'number' ? [argnums] : argnums;
  return (...args) => {
    const { grads } = differentiate(f, list, args);
    return typeof argnums === 'number' ? grads[0]! : grads;
  };
}

/** Like `grad`, but also returns the value of `f`. */
export function valueAndGrad(
  f: TensorFn,
  argnums: number | readonly number[] = 0,
): (...args: Tensor[]) => { value: Tensor; grads: Tensor[] } {
  const list = typeof argnums === 'number' ? [argnums] : argnums;
  return (...args) => differentiate(f, list, args);
}

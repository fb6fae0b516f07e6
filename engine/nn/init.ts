/**
 * Parameter initialisation, seeded. Each layer takes one seed and derives a separate stream per
 * tensor from it (`deriveSeed`), so a layer's weights do not depend on how many other layers
 * were built before it once a seed is given. Without a seed, layers draw one from the global
 * `setSeed` stream, which makes whole programs reproducible.
 *
 * The bounds follow torch.nn: Linear and Conv2d use kaiming_uniform_(a=√5) for weights, which
 * works out to U(−1/√fan_in, 1/√fan_in), and the same bound for biases.
 */

import { WiregradError, formatShape } from '../core/errors.js';
import { hash32, nextSeed } from '../core/random.js';
import { rand, randn } from '../ops/creation.js';
import { tidy } from '../runtime/scope.js';
import type { Tensor } from '../tensor.js';

/** The seed given, or the next one from the global stream. */
export function resolveSeed(seed: number | undefined): number {
  return seed === undefined ? nextSeed() : seed >>> 0;
}

/** An independent stream number `stream` under `seed` (weights 0, bias 1, …). */
export function deriveSeed(seed: number, stream: number): number {
  return hash32((seed + Math.imul(stream + 1, 0x9e3779b1)) >>> 0);
}

/** fan_in as torch computes it: shape[1] times the receptive field (shape[2:]). */
export function fanIn(shape: readonly number[]): number {
  if (shape.length < 2)
    throw new WiregradError(`fan_in needs a tensor of rank 2 or more, got ${formatShape(shape)}`);
  return shape.slice(1).reduce((a, b) => a * b, 1);
}

/** Uniform values in [lo, hi). */
export function uniform(shape: readonly number[], lo: number, hi: number, seed: number): Tensor {
  return tidy(() =>
    rand(shape, { seed })
      .mul(hi - lo)
      .add(lo),
  );
}

/** Normal values with the given mean and standard deviation. */
export function normal(shape: readonly number[], mean: number, std: number, seed: number): Tensor {
  return tidy(() => randn(shape, { seed }).mul(std).add(mean));
}

/** torch.nn.init.kaiming_uniform_(a=√5): U(−1/√fan_in, 1/√fan_in), Linear's and Conv's default. */
export function torchDefaultUniform(shape: readonly number[], fan: number, seed: number): Tensor {
  const bound = fan > 0 ? 1 / Math.sqrt(fan) : 0;
  return uniform(shape, -bound, bound, seed);
}

/**
 * Normalisation and regularisation built from ops: `batchNorm` (batch statistics in training,
 * running statistics updated in place as PyTorch does), `batchNormPure` (the registered op's
 * side-effect-free form) with `batchNormUpdateStats` (the running statistics' next values),
 * `layerNorm` and `dropout`.
 */

import { ShapeError, WiregradError, formatShape } from '../core/errors.js';
import { shapesEqual } from '../core/shape.js';

import { noGrad } from '../autograd/grad.js';
import { tidy } from '../runtime/scope.js';
import type { Tensor } from '../tensor.js';

import { asTensor, requireFloat } from './util.js';
import { add, cast, detach, div, less, mul, sqrt, sub, where } from './elementwise.js';
import { mean } from './reduce.js';
import { reshape } from './movement.js';
import { rand } from './creation.js';

// ---- normalisation ----------------------------------------------------------------------

export interface BatchNormOptions {
  /** Scale per channel, [C]. */
  readonly gamma?: Tensor;
  /** Shift per channel, [C]. */
  readonly beta?: Tensor;
  /** Running mean [C]: read in eval mode, updated in place in training. */
  readonly runningMean?: Tensor;
  /** Running (unbiased) variance [C]: read in eval mode, updated in place in training. */
  readonly runningVar?: Tensor;
  /** Normalise with the batch's statistics (training) or with the running ones (eval). */
  readonly training: boolean;
  /** Weight of the new batch in the running averages (default 0.1, as PyTorch). */
  readonly momentum?: number;
  readonly eps?: number;
}

function requireChannelVector(name: string, t: Tensor | undefined, x: Tensor): void {
  const c = x.shape[1]!;
  if (t && !(t.rank === 1 && t.shape[0] === c))
    throw new ShapeError(
      `${name} ${formatShape(t.shape)} does not match x ${formatShape(x.shape)}; it must be [${c}]`,
      { op: 'batchNorm' },
    );
}

/**
 * Batch normalisation over every axis but the channel axis 1 (N for [N, C]; N, H, W for
 * [N, C, H, W]). In training it uses the batch mean and biased variance and, when running
 * statistics are given, updates them in place: r ← (1 − momentum)·r + momentum·batch, with
 * the unbiased variance, as PyTorch. In eval mode it uses the running statistics.
 */
export function batchNorm(x: Tensor, options: BatchNormOptions): Tensor {
  const op = 'batchNorm';
  const { gamma, beta, runningMean, runningVar, training, momentum = 0.1, eps = 1e-5 } = options;
  requireBatchNormInput(x);
  requireChannelVector('gamma', gamma, x);
  requireChannelVector('beta', beta, x);
  requireChannelVector('runningMean', runningMean, x);
  requireChannelVector('runningVar', runningVar, x);
  const statShape = x.shape.map((d, i) => (i === 1 ? d : 1));
  const axes = x.shape.flatMap((_, i) => (i === 1 ? [] : [i]));
  let xhat: Tensor;
  if (training) {
    const count = valuesPerChannel(x);
    // Shape inference runs on symbolic tensors at batch 1; only real data must be a batch.
    if (!x.isSymbolic) requireBatch(x, count);
    const mu = mean(x, axes, true);
    const centred = sub(x, mu);
    const variance = mean(mul(centred, centred), axes, true);
    xhat = div(centred, sqrt(add(variance, eps)));
    // A trace records the normalisation only: its symbolic statistics have no values to keep.
    if ((runningMean || runningVar) && !x.isSymbolic)
      updateRunningStats(mu, variance, count, momentum, runningMean, runningVar);
  } else {
    if (!runningMean || !runningVar)
      throw new WiregradError(
        `eval mode needs runningMean and runningVar; pass them, or use training: true to ` +
          `normalise with the batch's statistics`,
        { op },
      );
    const rm = reshape(cast(runningMean, x.dtype), statShape);
    const rv = reshape(cast(runningVar, x.dtype), statShape);
    xhat = div(sub(x, rm), sqrt(add(rv, eps)));
  }
  let y = xhat;
  if (gamma) y = mul(y, reshape(gamma, statShape));
  if (beta) y = add(y, reshape(beta, statShape));
  return y;
}

function updateRunningStats(
  mu: Tensor,
  variance: Tensor,
  count: number,
  momentum: number,
  runningMean: Tensor | undefined,
  runningVar: Tensor | undefined,
): void {
  // The running statistics are state, not part of the differentiated computation.
  noGrad(() =>
    tidy(() => {
      if (runningMean) runningMean.assign(blendStat(runningMean, mu, momentum));
      // PyTorch's running variance is unbiased (divides by n − 1).
      if (runningVar)
        runningVar.assign(blendStat(runningVar, mul(variance, count / (count - 1)), momentum));
    }),
  );
}

/** (1 − momentum)·running + momentum·batch, in the running statistic's shape and dtype. */
function blendStat(running: Tensor, batch: Tensor, momentum: number): Tensor {
  return add(
    mul(running, 1 - momentum),
    mul(cast(reshape(batch, running.shape), running.dtype), momentum),
  );
}

/** Values each channel's statistics are taken over: the size of x over C. */
function valuesPerChannel(x: Tensor): number {
  return x.size / Math.max(x.shape[1]!, 1);
}

function requireBatch(x: Tensor, count: number): void {
  if (count <= 1)
    throw new ShapeError(
      `training needs more than one value per channel, got x ${formatShape(x.shape)}; use a ` +
        `batch of 2 or more, or eval mode`,
      { op: 'batchNorm' },
    );
}

function requireBatchNormInput(x: Tensor): void {
  requireFloat('batchNorm', x);
  if (x.rank < 2)
    throw new ShapeError(`expects x [N, C, …], got ${formatShape(x.shape)}`, { op: 'batchNorm' });
}

export interface BatchNormPureOptions {
  /** Normalise with the batch's statistics (training) or with the running ones (eval). */
  readonly training: boolean;
  readonly eps?: number;
}

/**
 * Batch normalisation as a pure function of its five inputs, the form of the registered
 * `batchNorm` op that graph documents name: x [N, C, …], weight [C], bias [C], running mean
 * [C] and running variance [C]. Training normalises with the batch's mean and biased variance
 * and leaves the running statistics alone (get their next values with `batchNormUpdateStats`);
 * eval normalises with the running statistics, which receive no gradient (they are state).
 */
export function batchNormPure(
  x: Tensor,
  weight: Tensor,
  bias: Tensor,
  runningMean: Tensor,
  runningVar: Tensor,
  options: BatchNormPureOptions,
): Tensor {
  const { training, eps = 1e-5 } = options;
  requireBatchNormInput(x);
  requireChannelVector('weight', weight, x);
  requireChannelVector('bias', bias, x);
  requireChannelVector('runningMean', runningMean, x);
  requireChannelVector('runningVar', runningVar, x);
  return batchNorm(x, {
    gamma: weight,
    beta: bias,
    ...(training ? {} : { runningMean: detach(runningMean), runningVar: detach(runningVar) }),
    training,
    eps,
  });
}

/** The running statistics after one training step. */
export interface BatchNormStats {
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
}

/**
 * The running statistics after a training step on x, as PyTorch updates them:
 * running ← (1 − momentum)·running + momentum·batch, with the batch's UNBIASED variance
 * (divided by n − 1, n the values per channel). Returns new tensors and changes nothing; the
 * result carries no gradient.
 */
export function batchNormUpdateStats(
  x: Tensor,
  runningMean: Tensor,
  runningVar: Tensor,
  momentum = 0.1,
): BatchNormStats {
  requireBatchNormInput(x);
  requireChannelVector('runningMean', runningMean, x);
  requireChannelVector('runningVar', runningVar, x);
  if (!(momentum >= 0 && momentum <= 1))
    throw new WiregradError(`momentum must be in [0, 1], got ${momentum}`, { op: 'batchNorm' });
  const count = valuesPerChannel(x);
  requireBatch(x, count);
  const axes = x.shape.flatMap((_, i) => (i === 1 ? [] : [i]));
  return noGrad(() =>
    tidy(() => {
      const mu = mean(x, axes, true);
      const centred = sub(x, mu);
      const unbiased = mul(mean(mul(centred, centred), axes, true), count / (count - 1));
      return {
        runningMean: blendStat(runningMean, mu, momentum),
        runningVar: blendStat(runningVar, unbiased, momentum),
      };
    }),
  );
}

export interface LayerNormOptions {
  /** Scale, shaped as normalizedShape. */
  readonly gamma?: Tensor;
  /** Shift, shaped as normalizedShape. */
  readonly beta?: Tensor;
  readonly eps?: number;
}

/**
 * Layer normalisation over the trailing axes `normalizedShape` (mean and biased variance per
 * sample), then scaled by gamma and shifted by beta, as PyTorch's layer_norm.
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: number | readonly number[],
  options: LayerNormOptions = {},
): Tensor {
  const op = 'layerNorm';
  const { gamma, beta, eps = 1e-5 } = options;
  requireFloat(op, x);
  const norm = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  const lead = x.rank - norm.length;
  if (norm.length === 0 || lead < 0 || !shapesEqual(x.shape.slice(lead), norm))
    throw new ShapeError(
      `normalizedShape ${formatShape(norm)} must be the trailing dimensions of x ` +
        `${formatShape(x.shape)}`,
      { op },
    );
  for (const [name, t] of [
    ['gamma', gamma],
    ['beta', beta],
  ] as const)
    if (t && !shapesEqual(t.shape, norm))
      throw new ShapeError(
        `${name} ${formatShape(t.shape)} must have normalizedShape ${formatShape(norm)}`,
        { op },
      );
  const axes = norm.map((_, i) => lead + i);
  const centred = sub(x, mean(x, axes, true));
  const variance = mean(mul(centred, centred), axes, true);
  let y = div(centred, sqrt(add(variance, eps)));
  if (gamma) y = mul(y, gamma);
  if (beta) y = add(y, beta);
  return y;
}

// ---- dropout ----------------------------------------------------------------------------

export interface DropoutOptions {
  /** Off (eval mode) returns x unchanged. Default true. */
  readonly training?: boolean;
  /** Same seed, same mask. Default: drawn from `setSeed`'s stream. */
  readonly seed?: number;
}

/**
 * Zeroes each element with probability p and scales the rest by 1/(1 − p), so the expectation
 * is unchanged; the identity when not training or p = 0.
 */
export function dropout(x: Tensor, p: number, options: DropoutOptions = {}): Tensor {
  const { training = true, seed } = options;
  if (!(p >= 0 && p <= 1))
    throw new WiregradError(`p must be a probability in [0, 1], got ${p}`, { op: 'dropout' });
  requireFloat('dropout', x);
  if (!training || p === 0) return x;
  const u = rand(x.shape, {
    dtype: x.dtype,
    device: x.device,
    ...(seed === undefined ? {} : { seed }),
  });
  // p = 1 drops everything; its scale is never used, so keep it finite.
  const scale = p === 1 ? 0 : 1 / (1 - p);
  const mask = where(less(u, p), asTensor(0, x), asTensor(scale, x));
  return mul(x, mask);
}

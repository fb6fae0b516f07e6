/**
 * Dense layers: `Linear` (y = x·Wᵀ + b, weight [out, in] as torch.nn.Linear) and `Embedding`
 * (a lookup table of rows, indexed by i32 ids). Initialisation matches torch.nn: Linear's weight
 * and bias are U(−1/√in, 1/√in); Embedding's rows are N(0, 1).
 */

import { DTypeError, formatShape } from '../core/errors.js';
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { deriveSeed, normal, resolveSeed, torchDefaultUniform } from './init.js';
import { Module } from './module.js';

export interface LinearOptions {
  /** Learn an additive bias (default true). */
  readonly bias?: boolean;
  /** Seed for the initial values (default: drawn from `setSeed`'s stream). */
  readonly seed?: number;
}

export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(inFeatures: number, outFeatures: number, options: LinearOptions = {}) {
    super();
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    const seed = resolveSeed(options.seed);
    const shape = [outFeatures, inFeatures];
    this.weight = this.registerParameter(
      'weight',
      torchDefaultUniform(shape, inFeatures, deriveSeed(seed, 0)),
    );
    this.bias =
      options.bias === false
        ? null
        : this.registerParameter(
            'bias',
            torchDefaultUniform([outFeatures], inFeatures, deriveSeed(seed, 1)),
          );
  }

  /** x [..., in] → [..., out]. */
  forward(x: Tensor): Tensor {
    return ops.linear(x, this.weight, this.bias ?? undefined);
  }

  protected override extraRepr(): string {
    return `in=${this.inFeatures}, out=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

export interface EmbeddingOptions {
  readonly seed?: number;
}

export class Embedding extends Module {
  readonly numEmbeddings: number;
  readonly embeddingDim: number;
  readonly weight: Tensor;

  constructor(numEmbeddings: number, embeddingDim: number, options: EmbeddingOptions = {}) {
    super();
    this.numEmbeddings = numEmbeddings;
    this.embeddingDim = embeddingDim;
    const seed = resolveSeed(options.seed);
    this.weight = this.registerParameter(
      'weight',
      normal([numEmbeddings, embeddingDim], 0, 1, deriveSeed(seed, 0)),
    );
  }

  /** i32 ids of any shape → [...ids.shape, dim]. */
  forward(ids: Tensor): Tensor {
    if (ids.dtype !== 'i32')
      throw new DTypeError(
        `Embedding: ids must be i32, got ${ids.dtype} ${formatShape(ids.shape)}; ` +
          `cast them with ids.cast('i32')`,
      );
    return ops.gather(this.weight, ids, 0);
  }

  protected override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}`;
  }
}

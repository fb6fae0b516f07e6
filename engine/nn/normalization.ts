/**
 * Normalisation layers. `BatchNorm2d` (and `BatchNorm1d`, the same over [N, C] or [N, C, L])
 * learn a per-channel scale `weight` and shift `bias` and keep the buffers `running_mean`,
 * `running_var` and `num_batches_tracked` (PyTorch's names, so checkpoints interchange);
 * in training mode they normalise with the batch's statistics and update the running ones, in
 * eval mode they use the running ones. While a trace records them they call the registered
 * `batchNorm` op, so a traced model holds one `batchNorm` node on its weight, bias and running
 * statistics (state: `parameter` nodes with `trainable: false`), as the canvas's BatchNorm layer
 * and `GraphBuilder.batchNorm` make it. `LayerNorm` normalises each sample over its trailing
 * `normalizedShape` axes.
 */

import { WiregradError, formatShape } from '../core/errors.js';
import { noGrad } from '../autograd/grad.js';
import { GraphTracer } from '../graph/trace.js';
import * as ops from '../ops/index.js';
import { runOp } from '../runtime/dispatch.js';
import { tidy } from '../runtime/scope.js';
import { state } from '../runtime/state.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

export interface BatchNormLayerOptions {
  readonly eps?: number;
  /**
   * Weight of each new batch in the running statistics (default 0.1); null for a cumulative
   * average (weight 1/num_batches_tracked), as PyTorch's momentum=None.
   */
  readonly momentum?: number | null;
  /** Learn weight and bias (default true). */
  readonly affine?: boolean;
}

abstract class BatchNormBase extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;
  readonly runningMean: Tensor;
  readonly runningVar: Tensor;
  readonly numBatchesTracked: Tensor;
  /** The input ranks this layer accepts. */
  protected abstract readonly ranks: readonly number[];

  constructor(numFeatures: number, options: BatchNormLayerOptions = {}) {
    super();
    this.numFeatures = numFeatures;
    this.eps = options.eps ?? 1e-5;
    this.momentum = options.momentum === undefined ? 0.1 : options.momentum;
    const affine = options.affine ?? true;
    this.weight = affine ? this.registerParameter('weight', ops.ones([numFeatures])) : null;
    this.bias = affine ? this.registerParameter('bias', ops.zeros([numFeatures])) : null;
    this.runningMean = this.registerBuffer('running_mean', ops.zeros([numFeatures]));
    this.runningVar = this.registerBuffer('running_var', ops.ones([numFeatures]));
    this.numBatchesTracked = this.registerBuffer(
      'num_batches_tracked',
      ops.zeros([], { dtype: 'i32' }),
    );
  }

  forward(x: Tensor): Tensor {
    if (!this.ranks.includes(x.rank) || x.shape[1] !== this.numFeatures)
      throw new WiregradError(
        `${this.constructor.name}(${this.numFeatures}): expects input of rank ` +
          `${this.ranks.join(' or ')} with ${this.numFeatures} channels on axis 1, got ` +
          `${formatShape(x.shape)}`,
      );
    if (state.tracer) return this.traced(x);
    let momentum = this.momentum ?? 0;
    if (this.training) {
      noGrad(() =>
        tidy(() => {
          this.numBatchesTracked.assign(ops.add(this.numBatchesTracked, 1));
        }),
      );
      if (this.momentum === null) momentum = 1 / this.numBatchesTracked.item();
    }
    return ops.batchNorm(x, {
      ...(this.weight ? { gamma: this.weight } : {}),
      ...(this.bias ? { beta: this.bias } : {}),
      runningMean: this.runningMean,
      runningVar: this.runningVar,
      training: this.training,
      momentum,
      eps: this.eps,
    });
  }

  /**
   * The registered `batchNorm` op on (x, weight, bias, running mean, running variance): one
   * graph node, or, when gradients are taken through it inside the trace, its decomposition
   * (the dispatcher's rule for every composite op). Either computes what the eager forward
   * does; the running statistics are not updated (a trace has no values to update them with),
   * and a trainer updates them from the node's momentum. A cumulative average (momentum null)
   * has no fixed momentum, so the node then leaves it at the op's default.
   */
  private traced(x: Tensor): Tensor {
    const tracer = state.tracer;
    if (tracer instanceof GraphTracer) {
      tracer.captureState(this.runningMean);
      tracer.captureState(this.runningVar);
    }
    const c = [this.numFeatures];
    return runOp(
      'batchNorm',
      [
        x,
        this.weight ?? ops.ones(c, { dtype: x.dtype }),
        this.bias ?? ops.zeros(c, { dtype: x.dtype }),
        this.runningMean,
        this.runningVar,
      ],
      {
        training: this.training,
        ...(this.momentum !== null ? { momentum: this.momentum } : {}),
        eps: this.eps,
      },
    );
  }

  protected override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}`;
  }
}

/** Batch normalisation over [N, C, H, W] images, per channel. */
export class BatchNorm2d extends BatchNormBase {
  protected readonly ranks = [4];
}

/** Batch normalisation over [N, C] features or [N, C, L] sequences, per channel. */
export class BatchNorm1d extends BatchNormBase {
  protected readonly ranks = [2, 3];
}

export interface LayerNormLayerOptions {
  readonly eps?: number;
  /** Learn weight and bias of normalizedShape (default true). */
  readonly elementwiseAffine?: boolean;
}

export class LayerNorm extends Module {
  readonly normalizedShape: readonly number[];
  readonly eps: number;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;

  constructor(normalizedShape: number | readonly number[], options: LayerNormLayerOptions = {}) {
    super();
    this.normalizedShape =
      typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.eps = options.eps ?? 1e-5;
    const affine = options.elementwiseAffine ?? true;
    this.weight = affine ? this.registerParameter('weight', ops.ones(this.normalizedShape)) : null;
    this.bias = affine ? this.registerParameter('bias', ops.zeros(this.normalizedShape)) : null;
  }

  forward(x: Tensor): Tensor {
    return ops.layerNorm(x, this.normalizedShape, {
      ...(this.weight ? { gamma: this.weight } : {}),
      ...(this.bias ? { beta: this.bias } : {}),
      eps: this.eps,
    });
  }

  protected override extraRepr(): string {
    return `${formatShape(this.normalizedShape)}, eps=${this.eps}`;
  }
}

/**
 * Adam and AdamW, exactly torch.optim's single-tensor updates (maximize aside). With t the
 * parameter's step count:
 *
 *   g = grad + weightDecay·p                       (Adam's L2 penalty; AdamW skips this)
 *   p = p·(1 − lr·weightDecay)                     (AdamW's decoupled decay; Adam skips this)
 *   m = β1·m + (1 − β1)·g
 *   v = β2·v + (1 − β2)·g²
 *   v̂ = max(v̂, v) with amsgrad, else v̂ = v
 *   p = p − (lr / (1 − β1ᵗ))·m / (√v̂ / √(1 − β2ᵗ) + ε)
 *
 * The scalar factors are computed in double precision, as Python computes them, and rounded
 * once when they meet the tensor, as PyTorch's kernels do.
 */

import { WiregradError } from '../core/errors.js';
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { Optimizer, type ParamState } from './optimizer.js';

export interface AdamOptions {
  lr: number;
  betas: readonly [number, number];
  eps: number;
  weightDecay: number;
  amsgrad: boolean;
}

type AdamInit = Partial<AdamOptions>;

function adamOptions(options: AdamInit, weightDecay: number): AdamOptions {
  return {
    lr: options.lr ?? 1e-3,
    betas: options.betas ?? [0.9, 0.999],
    eps: options.eps ?? 1e-8,
    weightDecay: options.weightDecay ?? weightDecay,
    amsgrad: options.amsgrad ?? false,
  };
}

abstract class AdamBase extends Optimizer<AdamOptions> {
  /** AdamW decays the parameter directly; Adam adds the decay to the gradient. */
  protected abstract readonly decoupled: boolean;

  protected override validate(): void {
    super.validate();
    const { betas, eps, weightDecay } = this.options;
    this.requireNonNegative('eps', eps);
    this.requireNonNegative('weightDecay', weightDecay);
    betas.forEach((b, i) => {
      if (!(b >= 0 && b < 1))
        throw new WiregradError(
          `${this.constructor.name}: betas[${i}] must be in [0, 1), got ${b}`,
        );
    });
  }

  protected update(param: Tensor, grad: Tensor, state: ParamState): Tensor {
    const { lr, betas, eps, weightDecay, amsgrad } = this.options;
    const [beta1, beta2] = betas;
    const t = state.step;
    let p = param;
    let g = grad;
    if (weightDecay !== 0) {
      if (this.decoupled) p = ops.mul(p, 1 - lr * weightDecay);
      else g = ops.add(g, ops.mul(p, weightDecay));
    }
    const m0 = state.tensors.get('exp_avg');
    const v0 = state.tensors.get('exp_avg_sq');
    const gScaled = ops.mul(g, 1 - beta1);
    const g2Scaled = ops.mul(ops.mul(g, g), 1 - beta2);
    this.setState(state, 'exp_avg', m0 ? ops.add(ops.mul(m0, beta1), gScaled) : gScaled);
    this.setState(state, 'exp_avg_sq', v0 ? ops.add(ops.mul(v0, beta2), g2Scaled) : g2Scaled);
    const m = state.tensors.get('exp_avg')!;
    let v = state.tensors.get('exp_avg_sq')!;
    if (amsgrad) {
      const vmax = state.tensors.get('max_exp_avg_sq');
      this.setState(state, 'max_exp_avg_sq', vmax ? ops.maximum(vmax, v) : ops.identity(v));
      v = state.tensors.get('max_exp_avg_sq')!;
    }
    const stepSize = lr / (1 - beta1 ** t);
    const correction2Sqrt = Math.sqrt(1 - beta2 ** t);
    const denom = ops.add(ops.div(ops.sqrt(v), correction2Sqrt), eps);
    return ops.sub(p, ops.div(ops.mul(m, stepSize), denom));
  }
}

/** Adam (Kingma & Ba) with an L2 penalty added to the gradient, as torch.optim.Adam. */
export class Adam extends AdamBase {
  protected readonly decoupled = false;
  constructor(params: Iterable<Tensor>, options: AdamInit = {}) {
    super(params, adamOptions(options, 0));
  }
}

/** Adam with decoupled weight decay (Loshchilov & Hutter), as torch.optim.AdamW (decay 0.01). */
export class AdamW extends AdamBase {
  protected readonly decoupled = true;
  constructor(params: Iterable<Tensor>, options: AdamInit = {}) {
    super(params, adamOptions(options, 0.01));
  }
}

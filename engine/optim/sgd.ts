/**
 * Stochastic gradient descent with momentum, dampening, Nesterov momentum and L2 weight decay,
 * exactly torch.optim.SGD's update (maximize aside):
 *
 *   g = grad + weightDecay·p
 *   b = g                                  on the first step
 *   b = momentum·b + (1 − dampening)·g     afterwards
 *   g = g + momentum·b  (Nesterov)   or   g = b
 *   p = p − lr·g
 */

import { WiregradError } from '../core/errors.js';
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { Optimizer, type ParamState, canFuse } from './optimizer.js';
import { fusedElementwise } from '../jit/fused-op.js';
import '../jit/cpu-kernel.js';

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
}

export class SGD extends Optimizer<SGDOptions> {
  constructor(params: Iterable<Tensor>, options: Partial<SGDOptions> & { readonly lr: number }) {
    super(params, {
      lr: options.lr,
      momentum: options.momentum ?? 0,
      dampening: options.dampening ?? 0,
      nesterov: options.nesterov ?? false,
      weightDecay: options.weightDecay ?? 0,
    });
  }

  protected override validate(): void {
    super.validate();
    const o = this.options;
    this.requireNonNegative('momentum', o.momentum);
    this.requireNonNegative('weightDecay', o.weightDecay);
    if (o.nesterov && (o.momentum <= 0 || o.dampening !== 0))
      throw new WiregradError(
        `SGD: Nesterov momentum needs momentum > 0 and dampening 0 ` +
          `(got momentum ${o.momentum}, dampening ${o.dampening})`,
      );
  }

  protected update(p: Tensor, grad: Tensor, state: ParamState): Tensor {
    const { lr, momentum, dampening, nesterov, weightDecay } = this.options;
    // Without weight decay or Nesterov, and once a momentum buffer exists: fused kernels that
    // apply the same ops in the same order (equal to the bit on the CPU).
    const old = state.tensors.get('momentum_buffer');
    if (weightDecay === 0 && !nesterov && (momentum === 0 || old) && canFuse(p, grad, old))
      return this.fusedUpdate(p, grad, old, state);
    let g = weightDecay !== 0 ? ops.add(grad, ops.mul(p, weightDecay)) : grad;
    if (momentum !== 0) {
      const old = state.tensors.get('momentum_buffer');
      // identity aliases the gradient's storage, which is never written in place.
      const buf = old
        ? ops.add(ops.mul(old, momentum), ops.mul(g, 1 - dampening))
        : ops.identity(g);
      this.setState(state, 'momentum_buffer', buf);
      const b = state.tensors.get('momentum_buffer')!;
      g = nesterov ? ops.add(g, ops.mul(b, momentum)) : b;
    }
    return ops.sub(p, ops.mul(g, lr));
  }

  /** p − lr·g, and with momentum b' = momentum·b + (1 − dampening)·g first: fused kernels. */
  private fusedUpdate(p: Tensor, grad: Tensor, old: Tensor | undefined, state: ParamState): Tensor {
    const { lr, momentum, dampening } = this.options;
    let g = grad;
    if (old) {
      // The factors are inputs: a new momentum or dampening compiles nothing.
      const decayed = ops.full([], momentum, { device: p.device });
      const kept = ops.full([], 1 - dampening, { device: p.device });
      this.setState(state, 'momentum_buffer', fusedElementwise([old, grad, decayed, kept], BUFFER));
      g = state.tensors.get('momentum_buffer')!;
    }
    return fusedElementwise([p, g, ops.full([], lr, { device: p.device })], STEP);
  }
}

/** b' = x0·x2 + x1·x3: momentum·b + (1 − dampening)·g, in the unfused order. */
const BUFFER = 'mul(x0, x2); mul(x1, x3); add(t0, t1)';
/** p' = x0 − x1·x2: p − g·lr. */
const STEP = 'mul(x1, x2); sub(x0, t0)';

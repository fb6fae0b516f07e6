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
import { Optimizer, type ParamState, canFuse } from './optimizer.js';
import { fusedElementwise } from '../jit/fused-op.js';
import { type Operand, formatProgram } from '../jit/program.js';
import '../jit/cpu-kernel.js';

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
    const m0 = state.tensors.get('exp_avg');
    const v0 = state.tensors.get('exp_avg_sq');
    // From the second step on, without amsgrad or Adam's L2 penalty: three fused kernels.
    const plain = !amsgrad && (weightDecay === 0 || this.decoupled);
    if (m0 && v0 && plain && canFuse(param, grad, m0, v0))
      return this.fusedUpdate(param, grad, m0, v0, state);
    let p = param;
    let g = grad;
    if (weightDecay !== 0) {
      if (this.decoupled) p = ops.mul(p, 1 - lr * weightDecay);
      else g = ops.add(g, ops.mul(p, weightDecay));
    }
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

  private programs: AdamPrograms | null = null;

  /** The update above without amsgrad or Adam's L2 penalty, as three fused kernels. */
  private fusedUpdate(p: Tensor, g: Tensor, m0: Tensor, v0: Tensor, state: ParamState): Tensor {
    const { lr, betas, eps, weightDecay } = this.options;
    const [beta1, beta2] = betas;
    const t = state.step;
    this.programs ??= adamPrograms(beta1, beta2, eps, this.decoupled);
    this.setState(state, 'exp_avg', fusedElementwise([m0, g], this.programs.m));
    this.setState(state, 'exp_avg_sq', fusedElementwise([v0, g], this.programs.v));
    const m = state.tensors.get('exp_avg')!;
    const v = state.tensors.get('exp_avg_sq')!;
    // Step-dependent factors are inputs, so each program stays one compiled kernel.
    const stepSize = ops.full([], lr / (1 - beta1 ** t), { device: p.device });
    const correction2Sqrt = ops.full([], Math.sqrt(1 - beta2 ** t), { device: p.device });
    const inputs = [p, m, v, stepSize, correction2Sqrt];
    if (this.decoupled) inputs.push(ops.full([], 1 - lr * weightDecay, { device: p.device }));
    return fusedElementwise(inputs, this.programs.p);
  }
}

/** The three programs of a fused Adam step, for one optimiser's betas and eps. */
interface AdamPrograms {
  /** m' = β1·m + (1 − β1)·g, of x0 = m, x1 = g. */
  readonly m: string;
  /** v' = β2·v + (1 − β2)·g², of x0 = v, x1 = g. */
  readonly v: string;
  /**
   * p' = p·decay − (stepSize·m') / (√v' / c2 + ε), of x0 = p, x1 = m', x2 = v', x3 = stepSize,
   * x4 = c2 and, for AdamW, x5 = decay (1 − lr·weightDecay). The factors that change from step
   * to step are inputs, so each program is compiled once.
   */
  readonly p: string;
}

const constant = (value: number): Operand => ({ kind: 'const', value });
const input = (index: number): Operand => ({ kind: 'input', index });
const temp = (index: number): Operand => ({ kind: 'temp', index });

/** `decoupled`: AdamW, whose p is first scaled by x5 = 1 − lr·weightDecay. */
function adamPrograms(beta1: number, beta2: number, eps: number, decoupled: boolean): AdamPrograms {
  // With a decay the decayed p is t0, and the rest moves up by one.
  const d = decoupled ? 1 : 0;
  const decayed = decoupled ? temp(0) : input(0);
  return {
    m: formatProgram([
      { op: 'mul', args: [input(0), constant(beta1)] },
      { op: 'mul', args: [input(1), constant(1 - beta1)] },
      { op: 'add', args: [temp(0), temp(1)] },
    ]),
    v: formatProgram([
      { op: 'mul', args: [input(0), constant(beta2)] },
      { op: 'mul', args: [input(1), input(1)] },
      { op: 'mul', args: [temp(1), constant(1 - beta2)] },
      { op: 'add', args: [temp(0), temp(2)] },
    ]),
    p: formatProgram([
      ...(decoupled ? [{ op: 'mul' as const, args: [input(0), input(5)] }] : []),
      { op: 'sqrt', args: [input(2)] },
      { op: 'div', args: [temp(d), input(4)] },
      { op: 'add', args: [temp(d + 1), constant(eps)] },
      { op: 'mul', args: [input(1), input(3)] },
      { op: 'div', args: [temp(d + 3), temp(d + 2)] },
      { op: 'sub', args: [decayed, temp(d + 4)] },
    ]),
  };
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

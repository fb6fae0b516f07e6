/**
 * `Optimizer`, the base of SGD, Adam and AdamW, after torch.optim: one list of parameters, the
 * hyper-parameters in `options` (schedulers change `options.lr` between steps), and per-parameter
 * state (a step count and named tensors such as momentum buffers).
 *
 * `step()` reads each parameter's `.grad` and updates the parameter in place with
 * `param.assign(next)`, inside `tidy` and `noGrad`: intermediates are freed, nothing is recorded
 * on the tape, and the parameter keeps its identity, so modules and the tape never see a new
 * tensor. State tensors are kept (they outlive scopes) and updated in place the same way, so a
 * long training loop keeps the live-tensor count flat. Parameters without a gradient are skipped
 * (and their step count does not advance), as in PyTorch.
 */

import { noGrad } from '../autograd/grad.js';
import { WiregradError, formatShape } from '../core/errors.js';
import { shapesEqual } from '../core/shape.js';
import * as ops from '../ops/index.js';
import { withPhase } from '../runtime/events.js';
import { keep, tidy } from '../runtime/scope.js';
import type { Tensor } from '../tensor.js';

/** A hyper-parameter value: plain data, so a state dict can be written as JSON. */
export type HyperValue = number | boolean | readonly number[];

export interface BaseOptions {
  /** The learning rate. */
  lr: number;
}

/** The state kept for one parameter. */
export interface ParamState {
  /** Steps taken with a gradient for this parameter. */
  step: number;
  /** Named state tensors (`momentum_buffer`, `exp_avg`, `exp_avg_sq` …), PyTorch's names. */
  readonly tensors: Map<string, Tensor>;
}

/** An optimizer's state: options and per-parameter state, by index into `params`. */
export interface OptimizerStateDict {
  readonly options: Readonly<Record<string, HyperValue>>;
  readonly state: ReadonlyMap<number, Readonly<ParamState>>;
}

export abstract class Optimizer<O extends BaseOptions = BaseOptions> {
  readonly params: readonly Tensor[];
  /** Current hyper-parameters; change them between steps (schedulers change `lr`). */
  options: O;
  private readonly paramState = new Map<Tensor, ParamState>();

  constructor(params: Iterable<Tensor>, options: O) {
    this.params = [...params];
    if (this.params.length === 0)
      throw new WiregradError(`${this.constructor.name}: got an empty parameter list`);
    if (new Set(this.params).size !== this.params.length)
      throw new WiregradError(`${this.constructor.name}: a parameter appears more than once`);
    this.options = options;
    this.validate();
  }

  /** The learning rate (`options.lr`). */
  get lr(): number {
    return this.options.lr;
  }
  set lr(value: number) {
    this.options.lr = value;
  }

  /** Throws, naming the optimizer and the option, when a hyper-parameter is out of range. */
  protected validate(): void {
    this.requireNonNegative('lr', this.options.lr);
  }

  protected requireNonNegative(name: string, value: number): void {
    if (!(value >= 0) || !Number.isFinite(value))
      throw new WiregradError(`${this.constructor.name}: ${name} must be >= 0, got ${value}`);
  }

  /** The next value of `param` given its gradient; may update `state` with `setState`. */
  protected abstract update(param: Tensor, grad: Tensor, state: ParamState): Tensor;

  /** Replaces (in place) or creates a kept state tensor. */
  protected setState(state: ParamState, name: string, value: Tensor): void {
    const old = state.tensors.get(name);
    if (old) old.assign(value);
    else state.tensors.set(name, keep(value));
  }

  /** One update of every parameter that has a gradient. */
  step(): void {
    // Execution events show these ops as the step's optimizer phase.
    withPhase('optimizer', () => this.applyUpdates());
  }

  private applyUpdates(): void {
    tidy(() =>
      noGrad(() => {
        for (const p of this.params) {
          const g = p.grad;
          if (!g) continue;
          p.assertAlive(`${this.constructor.name}.step`);
          if (!shapesEqual(g.shape, p.shape) || g.dtype !== p.dtype)
            throw new WiregradError(
              `${this.constructor.name}.step: the gradient ${formatShape(g.shape)} ${g.dtype} ` +
                `does not match its parameter ${formatShape(p.shape)} ${p.dtype}`,
            );
          let s = this.paramState.get(p);
          if (!s) {
            s = { step: 0, tensors: new Map() };
            this.paramState.set(p, s);
          }
          s.step++;
          p.assign(this.update(p, g, s));
        }
      }),
    );
  }

  /** Frees every parameter's gradient (PyTorch's default `set_to_none`). */
  zeroGrad(): void {
    for (const p of this.params) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /**
   * The options (a copy) and the per-parameter state, keyed by index into `params`. The state
   * tensors are the optimizer's own: read or save them, do not dispose them.
   */
  stateDict(): OptimizerStateDict {
    const state = new Map<number, ParamState>();
    this.params.forEach((p, i) => {
      const s = this.paramState.get(p);
      if (s) state.set(i, { step: s.step, tensors: new Map(s.tensors) });
    });
    const options: Record<string, HyperValue> = {};
    for (const [k, v] of Object.entries(this.options)) options[k] = v as HyperValue;
    return { options, state };
  }

  /**
   * Restores options and state (copying the tensors, which stay the caller's). The state must
   * come from an optimizer of the same kind over parameters of the same shapes.
   */
  loadStateDict(dict: OptimizerStateDict): void {
    const name = this.constructor.name;
    const mine = Object.keys(this.options).sort().join(', ');
    const theirs = Object.keys(dict.options).sort().join(', ');
    if (mine !== theirs)
      throw new WiregradError(
        `${name}.loadStateDict: the options (${theirs}) are not ${name}'s (${mine}); ` +
          `was the state saved from another kind of optimizer?`,
      );
    for (const [i, s] of dict.state) {
      const p = this.params[i];
      if (!p)
        throw new WiregradError(
          `${name}.loadStateDict: state for parameter ${i}, but the optimizer has ` +
            `${this.params.length} parameters`,
        );
      for (const [key, t] of s.tensors)
        if (!shapesEqual(t.shape, p.shape))
          throw new WiregradError(
            `${name}.loadStateDict: state '${key}' of parameter ${i} has shape ` +
              `${formatShape(t.shape)}, but the parameter is ${formatShape(p.shape)}`,
          );
    }
    for (const s of this.paramState.values()) for (const t of s.tensors.values()) t.dispose();
    this.paramState.clear();
    noGrad(() => {
      for (const [i, s] of dict.state) {
        const p = this.params[i]!;
        const tensors = new Map<string, Tensor>();
        // A cast to the parameter's dtype is an alias sharing storage (never written in place).
        for (const [key, t] of s.tensors) tensors.set(key, keep(ops.cast(t, p.dtype)));
        this.paramState.set(p, { step: s.step, tensors });
      }
    });
    this.options = { ...this.options, ...(dict.options as Partial<O>) };
    this.validate();
  }

  /** Frees the optimizer's state tensors (not the parameters). */
  dispose(): void {
    for (const s of this.paramState.values()) for (const t of s.tensors.values()) t.dispose();
    this.paramState.clear();
  }
}

/**
 * Whether an update can run as fused kernels (`fusedElementwise`): every value is f32 on a
 * device with the fused kernel (absent ones aside). The optimisers' fused programs apply the
 * same ops in the same order as their op-by-op updates, each result rounded to f32 as an
 * unfused op's is, so on the CPU the result is the same to the bit, in a few kernels instead of
 * one per op (Adam: three per parameter instead of about twenty).
 */
export function canFuse(...values: readonly (Tensor | undefined)[]): boolean {
  return values.every(
    (t) =>
      t === undefined ||
      (t.dtype === 'f32' && t.storage?.backend.hasKernel('fusedElementwise') === true),
  );
}

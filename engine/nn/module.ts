/**
 * `Module`, the base of every layer, after torch.nn.Module. A module registers its parameters
 * (trainable tensors), buffers (state that is saved but not trained, such as batch norm's
 * running statistics) and submodules by name, in order; from those it answers `parameters()`,
 * `namedParameters()` (dotted names such as `layers.0.weight`), `stateDict()` and
 * `loadStateDict()`, and switches training/evaluation mode recursively.
 *
 * Registered tensors are kept (they outlive `tidy` scopes) and belong to the module:
 * `dispose()` frees them. Parameters require gradients. State-dict names follow PyTorch's
 * (`weight`, `bias`, `running_mean` …) so that checkpoints move between the two unchanged.
 * Registration is explicit (`registerParameter` …), since TypeScript cannot see attribute
 * assignment the way Python's `__setattr__` does.
 */

import { WiregradError, formatShape } from '../core/errors.js';
import { shapesEqual } from '../core/shape.js';
import { noGrad } from '../autograd/grad.js';
import * as ops from '../ops/index.js';
import { keep } from '../runtime/scope.js';
import type { Tensor } from '../tensor.js';

export interface LoadStateDictOptions {
  /** Require the keys to match exactly (default true). Shape mismatches always throw. */
  readonly strict?: boolean;
}

export interface LoadStateDictResult {
  /** Keys the module has that the state dict lacks (left unchanged). */
  readonly missingKeys: readonly string[];
  /** Keys the state dict has that the module lacks (ignored). */
  readonly unexpectedKeys: readonly string[];
}

export abstract class Module {
  /** Training mode (dropout active, batch norm on batch statistics); see `train()`/`eval()`. */
  training = true;
  private readonly ownParameters = new Map<string, Tensor>();
  private readonly ownBuffers = new Map<string, Tensor>();
  private readonly ownChildren = new Map<string, Module>();

  /** Computes the module's output. */
  abstract forward(...inputs: Tensor[]): Tensor;

  private checkName(name: string, what: string): void {
    if (name === '' || name.includes('.'))
      throw new WiregradError(
        `${this.constructor.name}: ${what} name '${name}' must be non-empty and contain no '.'`,
      );
    if (this.ownParameters.has(name) || this.ownBuffers.has(name) || this.ownChildren.has(name))
      throw new WiregradError(
        `${this.constructor.name}: '${name}' is already registered; choose another name`,
      );
  }

  /** Registers a trainable tensor: kept, requiring gradients, and owned by this module. */
  protected registerParameter(name: string, t: Tensor): Tensor {
    this.checkName(name, 'parameter');
    keep(t);
    t.requiresGrad = true;
    t.name ??= name;
    this.ownParameters.set(name, t);
    return t;
  }

  /** Registers a tensor that is saved in the state dict but not trained (running statistics). */
  protected registerBuffer(name: string, t: Tensor): Tensor {
    this.checkName(name, 'buffer');
    keep(t);
    t.name ??= name;
    this.ownBuffers.set(name, t);
    return t;
  }

  /** Registers a submodule; its entries appear under `name.` in names and state dicts. */
  protected registerModule<M extends Module>(name: string, module: M): M {
    this.checkName(name, 'submodule');
    this.ownChildren.set(name, module);
    return module;
  }

  /** The direct submodules, with their names, in registration order. */
  namedChildren(): [string, Module][] {
    return [...this.ownChildren];
  }

  children(): Module[] {
    return [...this.ownChildren.values()];
  }

  /** This module and every descendant, pre-order, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.ownChildren)
      out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name));
    return out;
  }

  /**
   * Every parameter with its dotted name, own parameters before each submodule's, in
   * registration order. A tensor shared by two modules appears once, under its first name.
   */
  namedParameters(): [string, Tensor][] {
    const seen = new Set<Tensor>();
    const out: [string, Tensor][] = [];
    for (const [path, m] of this.namedModules())
      for (const [name, t] of m.ownParameters) {
        if (seen.has(t)) continue;
        seen.add(t);
        out.push([path ? `${path}.${name}` : name, t]);
      }
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  namedBuffers(): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [path, m] of this.namedModules())
      for (const [name, t] of m.ownBuffers) out.push([path ? `${path}.${name}` : name, t]);
    return out;
  }

  /** The number of trainable scalars. */
  parameterCount(): number {
    return this.parameters().reduce((n, t) => n + t.size, 0);
  }

  /** Sets training mode on this module and every descendant. */
  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  /** Evaluation mode: `train(false)`. */
  eval(): this {
    return this.train(false);
  }

  /** Frees every parameter's gradient (PyTorch's default `set_to_none`). */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /**
   * Name → tensor for every parameter and buffer, as PyTorch orders them (per module: its
   * parameters, then its buffers, then its submodules). The tensors are the module's own, not
   * copies: read or save them, do not dispose them.
   */
  stateDict(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [path, m] of this.namedModules()) {
      const full = (name: string) => (path ? `${path}.${name}` : name);
      for (const [name, t] of m.ownParameters) out.set(full(name), t);
      for (const [name, t] of m.ownBuffers) out.set(full(name), t);
    }
    return out;
  }

  /**
   * Copies values from `state` into this module's parameters and buffers (casting to their
   * dtype). Nothing changes unless every check passes: shapes must match, and with `strict`
   * (the default) the keys too. The caller still owns the tensors of `state`.
   */
  loadStateDict(
    state: ReadonlyMap<string, Tensor>,
    options: LoadStateDictOptions = {},
  ): LoadStateDictResult {
    const strict = options.strict ?? true;
    const own = this.stateDict();
    const missingKeys = [...own.keys()].filter((k) => !state.has(k));
    const unexpectedKeys = [...state.keys()].filter((k) => !own.has(k));
    const problems: string[] = [];
    for (const [k, target] of own) {
      const source = state.get(k);
      if (source && !shapesEqual(source.shape, target.shape))
        problems.push(
          `'${k}' has shape ${formatShape(source.shape)} in the state dict but ` +
            `${formatShape(target.shape)} in the module`,
        );
    }
    const keysDiffer = strict && missingKeys.length + unexpectedKeys.length > 0;
    if (strict && missingKeys.length > 0) problems.push(`missing keys: ${missingKeys.join(', ')}`);
    if (strict && unexpectedKeys.length > 0)
      problems.push(`unexpected keys: ${unexpectedKeys.join(', ')}`);
    if (problems.length > 0)
      throw new WiregradError(
        `${this.constructor.name}.loadStateDict: ${problems.join('; ')}. Nothing was loaded` +
          (keysDiffer ? '; pass { strict: false } to load the keys that match' : ''),
      );
    noGrad(() => {
      for (const [k, target] of own) {
        const source = state.get(k);
        // assign takes over the storage of a fresh alias (storage is never written in place),
        // so the module's tensor keeps its identity and the caller's tensor stays usable.
        if (source) target.assign(ops.cast(source, target.dtype));
      }
    });
    return { missingKeys, unexpectedKeys };
  }

  /** Frees every parameter, gradient and buffer of this module and its descendants. */
  dispose(): void {
    for (const [, m] of this.namedModules()) {
      for (const t of m.ownParameters.values()) {
        t.grad?.dispose();
        t.grad = null;
        t.dispose();
      }
      for (const t of m.ownBuffers.values()) t.dispose();
    }
  }

  /** Shown after the class name when printing (e.g. `in=2, out=16`). */
  protected extraRepr(): string {
    return '';
  }

  /** A PyTorch-style summary of the module tree. */
  toString(): string {
    const head = `${this.constructor.name}(${this.extraRepr()}`;
    if (this.ownChildren.size === 0) return `${head})`;
    const lines = [...this.ownChildren].map(
      ([name, child]) => `  (${name}): ${child.toString().replace(/\n/g, '\n  ')}`,
    );
    return `${head}\n${lines.join('\n')}\n)`;
  }
}

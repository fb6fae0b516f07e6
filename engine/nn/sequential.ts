/**
 * `Sequential`: modules applied in order, registered as children '0', '1', … so that their
 * parameters are named `0.weight`, `1.bias` … (and `layers.0.weight` when a Sequential is
 * registered as `layers`), as in PyTorch.
 */

import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

export class Sequential extends Module {
  readonly layers: readonly Module[];

  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
    layers.forEach((m, i) => this.registerModule(String(i), m));
  }

  get length(): number {
    return this.layers.length;
  }

  /** The i-th layer (negative counts from the end). */
  at(i: number): Module | undefined {
    return this.layers.at(i);
  }

  forward(x: Tensor): Tensor {
    let y = x;
    for (const m of this.layers) y = m.forward(y);
    return y;
  }
}

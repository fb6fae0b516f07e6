/**
 * `Dropout`: in training mode zeroes each element with probability p and scales the rest by
 * 1/(1 − p); in eval mode it is the identity. With a seed, call k of forward uses the k-th
 * stream derived from it, so masks differ between steps but a rerun reproduces them; without
 * one, each call draws from the global `setSeed` stream.
 */

import { WiregradError } from '../core/errors.js';
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { deriveSeed } from './init.js';
import { Module } from './module.js';

export class Dropout extends Module {
  readonly p: number;
  readonly seed: number | undefined;
  private calls = 0;

  constructor(p = 0.5, options: { readonly seed?: number } = {}) {
    super();
    if (!(p >= 0 && p <= 1))
      throw new WiregradError(`Dropout: p must be a probability in [0, 1], got ${p}`);
    this.p = p;
    this.seed = options.seed;
  }

  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    const seed = this.seed === undefined ? undefined : deriveSeed(this.seed, this.calls++);
    return ops.dropout(x, this.p, { training: true, ...(seed === undefined ? {} : { seed }) });
  }

  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}

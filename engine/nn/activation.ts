/**
 * Parameter-free layers that wrap one op each, so they can sit in a `Sequential` and show up
 * in module trees: ReLU, LeakyReLU, Tanh, Sigmoid, GELU, Softmax, LogSoftmax and Flatten.
 */

import { ShapeError, formatShape } from '../core/errors.js';
import { normalizeAxis } from '../core/shape.js';
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return ops.relu(x);
  }
}

export class LeakyReLU extends Module {
  constructor(readonly negativeSlope = 0.01) {
    super();
  }
  forward(x: Tensor): Tensor {
    return ops.leakyRelu(x, this.negativeSlope);
  }
  protected override extraRepr(): string {
    return `negativeSlope=${this.negativeSlope}`;
  }
}

export class Tanh extends Module {
  forward(x: Tensor): Tensor {
    return ops.tanh(x);
  }
}

export class Sigmoid extends Module {
  forward(x: Tensor): Tensor {
    return ops.sigmoid(x);
  }
}

/** GELU, x·Φ(x), as the `gelu` op computes it. */
export class GELU extends Module {
  forward(x: Tensor): Tensor {
    return ops.gelu(x);
  }
}

export class Softmax extends Module {
  constructor(readonly axis = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return ops.softmax(x, this.axis);
  }
  protected override extraRepr(): string {
    return `axis=${this.axis}`;
  }
}

export class LogSoftmax extends Module {
  constructor(readonly axis = -1) {
    super();
  }
  forward(x: Tensor): Tensor {
    return ops.logSoftmax(x, this.axis);
  }
  protected override extraRepr(): string {
    return `axis=${this.axis}`;
  }
}

/** Merges axes startAxis..endAxis into one (default: everything but the batch axis). */
export class Flatten extends Module {
  constructor(
    readonly startAxis = 1,
    readonly endAxis = -1,
  ) {
    super();
  }
  forward(x: Tensor): Tensor {
    const start = normalizeAxis(this.startAxis, x.rank, 'Flatten');
    const end = normalizeAxis(this.endAxis, x.rank, 'Flatten');
    if (start > end)
      throw new ShapeError(
        `Flatten: startAxis ${this.startAxis} comes after endAxis ${this.endAxis} for x ` +
          `${formatShape(x.shape)}`,
      );
    if (end === x.rank - 1) return ops.flatten(x, start);
    const merged = x.shape.slice(start, end + 1).reduce((a, b) => a * b, 1);
    return ops.reshape(x, [...x.shape.slice(0, start), merged, ...x.shape.slice(end + 1)]);
  }
  protected override extraRepr(): string {
    return `startAxis=${this.startAxis}, endAxis=${this.endAxis}`;
  }
}

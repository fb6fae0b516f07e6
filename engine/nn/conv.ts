/**
 * Convolution and pooling layers over NCHW images: `Conv2d` (weight [Cout, Cin/groups, kh, kw],
 * torch.nn.Conv2d's init: weight and bias U(−1/√fan_in, 1/√fan_in) with
 * fan_in = Cin/groups·kh·kw), `MaxPool2d` and `AvgPool2d` (no parameters).
 */

import { WiregradError } from '../core/errors.js';
import * as ops from '../ops/index.js';
import type { Pair } from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { deriveSeed, resolveSeed, torchDefaultUniform } from './init.js';
import { Module } from './module.js';

export interface Conv2dLayerOptions {
  readonly stride?: Pair;
  /** Zero padding per side, or 'same' (stride 1). */
  readonly padding?: Pair | 'same';
  readonly dilation?: Pair;
  readonly groups?: number;
  readonly bias?: boolean;
  readonly seed?: number;
}

const pair = (p: Pair): [number, number] => (typeof p === 'number' ? [p, p] : [p[0], p[1]]);

export class Conv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: Pair;
  readonly padding: Pair | 'same';
  readonly dilation: Pair;
  readonly groups: number;
  readonly weight: Tensor;
  readonly bias: Tensor | null;

  constructor(
    inChannels: number,
    outChannels: number,
    kernelSize: Pair,
    options: Conv2dLayerOptions = {},
  ) {
    super();
    const groups = options.groups ?? 1;
    if (!Number.isInteger(groups) || groups < 1 || inChannels % groups || outChannels % groups)
      throw new WiregradError(
        `Conv2d: groups (${groups}) must be a positive integer dividing both inChannels ` +
          `(${inChannels}) and outChannels (${outChannels})`,
      );
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = pair(kernelSize);
    this.stride = options.stride ?? 1;
    this.padding = options.padding ?? 0;
    this.dilation = options.dilation ?? 1;
    this.groups = groups;
    const seed = resolveSeed(options.seed);
    const [kh, kw] = this.kernelSize;
    const fan = (inChannels / groups) * kh * kw;
    this.weight = this.registerParameter(
      'weight',
      torchDefaultUniform([outChannels, inChannels / groups, kh, kw], fan, deriveSeed(seed, 0)),
    );
    this.bias =
      options.bias === false
        ? null
        : this.registerParameter(
            'bias',
            torchDefaultUniform([outChannels], fan, deriveSeed(seed, 1)),
          );
  }

  /** x [N, Cin, H, W] → [N, Cout, Ho, Wo]. */
  forward(x: Tensor): Tensor {
    return ops.conv2d(x, this.weight, {
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      groups: this.groups,
      ...(this.bias ? { bias: this.bias } : {}),
    });
  }

  protected override extraRepr(): string {
    return (
      `${this.inChannels}, ${this.outChannels}, kernel=${this.kernelSize.join('x')}, ` +
      `stride=${String(this.stride)}, padding=${String(this.padding)}` +
      (this.groups !== 1 ? `, groups=${this.groups}` : '')
    );
  }
}

export interface Pool2dLayerOptions {
  /** Default: the kernel size. */
  readonly stride?: Pair;
  readonly padding?: Pair;
}

export class MaxPool2d extends Module {
  readonly options: ops.Pool2dOptions;
  constructor(kernelSize: Pair, options: Pool2dLayerOptions = {}) {
    super();
    this.options = { kernelSize, ...options };
  }
  forward(x: Tensor): Tensor {
    return ops.maxPool2d(x, this.options);
  }
  protected override extraRepr(): string {
    return `kernel=${String(this.options.kernelSize)}`;
  }
}

export class AvgPool2d extends Module {
  readonly options: ops.AvgPool2dOptions;
  constructor(
    kernelSize: Pair,
    options: Pool2dLayerOptions & { readonly countIncludePad?: boolean } = {},
  ) {
    super();
    this.options = { kernelSize, ...options };
  }
  forward(x: Tensor): Tensor {
    return ops.avgPool2d(x, this.options);
  }
  protected override extraRepr(): string {
    return `kernel=${String(this.options.kernelSize)}`;
  }
}

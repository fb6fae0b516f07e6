/**
 * Writing graph documents in code: `GraphBuilder` appends nodes with readable ids and gives
 * layer helpers (`linear`, `conv2d`, `batchNorm`) that create their parameters with PyTorch's
 * default init and group their nodes, so a layer shows as one block on the canvas and exports
 * as one module. Templates and the example graph files are made with it; the canvas's layers
 * (renderer/state/layers.ts) build the same nodes.
 */

import type { DType } from '../core/dtype.js';
import { GraphError } from '../core/errors.js';
import { Graph } from './graph.js';
import type { AttrValueJSON, GraphJSON, NodeJSON } from './ir.js';

export type Attrs = Readonly<Record<string, AttrValueJSON>>;

/** How `GraphBuilder.batchNorm` makes its layer; unset fields take PyTorch's defaults. */
export interface BatchNormHelperOptions {
  /** 1: BatchNorm1d over [N, C] or [N, C, L]; 2: BatchNorm2d over [N, C, H, W]. */
  readonly dims: 1 | 2;
  /** Normalise with the batch's statistics (default true) or the running ones. */
  readonly training?: boolean;
  /** Weight of each batch in the running statistics (default 0.1). */
  readonly momentum?: number;
  /** Added to the variance (default 1e-5). */
  readonly eps?: number;
}

/** The display name of a batch-norm layer's node, PyTorch's class name. */
export const batchNormLayerName = (dims: 1 | 2): string => `BatchNorm${dims}d`;

export class GraphBuilder {
  private readonly nodes: NodeJSON[] = [];
  private readonly outputs: { name: string; node: string }[] = [];
  private readonly counts = new Map<string, number>();
  private seed: number;
  private group: string | undefined;

  constructor(
    readonly name: string,
    options: { seed?: number } = {},
  ) {
    this.seed = options.seed ?? 1;
  }

  private freshId(base: string): string {
    const n = (this.counts.get(base) ?? 0) + 1;
    this.counts.set(base, n);
    return n === 1 && !this.nodes.some((x) => x.id === base) ? base : `${base}_${n}`;
  }

  private add(
    id: string,
    op: string,
    inputs: readonly string[],
    attrs: Attrs,
    name?: string,
  ): string {
    const node: NodeJSON = {
      id,
      op,
      inputs: [...inputs],
      attrs,
      ...(name !== undefined ? { name } : {}),
      ...(this.group ? { group: this.group } : {}),
    };
    this.nodes.push(node);
    return id;
  }

  input(id: string, shape: readonly number[], dtype: DType, role: 'data' | 'label'): string {
    return this.add(id, 'input', [], { shape: [...shape], dtype, role });
  }

  parameter(id: string, shape: readonly number[], init: Attrs): string {
    return this.add(id, 'parameter', [], {
      shape: [...shape],
      dtype: 'f32',
      seed: this.seed++,
      ...init,
    });
  }

  /** Appends `op` on `inputs`; the id defaults to the op name numbered. */
  op(op: string, inputs: readonly string[], attrs: Attrs = {}, id?: string): string {
    return this.add(id ?? this.freshId(op), op, inputs, attrs);
  }

  /** Runs `body` with its nodes tagged as members of the group `id`. */
  grouped<T>(id: string, body: () => T): T {
    const outer = this.group;
    this.group = id;
    try {
      return body();
    } finally {
      this.group = outer;
    }
  }

  /** y = x·Wᵀ + b, W [out, in], as torch.nn.Linear (uniform ±1/√in init). */
  linear(x: string, inFeatures: number, outFeatures: number, id: string): string {
    return this.grouped(id, () => {
      const w = this.parameter(`${id}.weight`, [outFeatures, inFeatures], {
        init: 'kaimingUniform',
        fanIn: inFeatures,
      });
      const b = this.parameter(`${id}.bias`, [outFeatures], {
        init: 'kaimingUniform',
        fanIn: inFeatures,
      });
      return this.op('linear', [x, w, b], {}, id);
    });
  }

  /** 2-D convolution with bias, as torch.nn.Conv2d. */
  conv2d(
    x: string,
    inChannels: number,
    outChannels: number,
    kernel: number,
    id: string,
    attrs: { stride?: number; padding?: number } = {},
  ): string {
    const fanIn = inChannels * kernel * kernel;
    return this.grouped(id, () => {
      const w = this.parameter(`${id}.weight`, [outChannels, inChannels, kernel, kernel], {
        init: 'kaimingUniform',
        fanIn,
      });
      const b = this.parameter(`${id}.bias`, [outChannels], { init: 'kaimingUniform', fanIn });
      const p = attrs.padding ?? 0;
      const s = attrs.stride ?? 1;
      const conv = this.op(
        'conv2d',
        [x, w],
        { stride: [s, s], padding: [p, p, p, p], dilation: [1, 1], groups: 1 },
        `${id}.conv`,
      );
      const bias = this.op('reshape', [b], { shape: [1, outChannels, 1, 1] }, `${id}.bias_view`);
      return this.op('add', [conv, bias], {}, id);
    });
  }

  /**
   * Batch normalisation per channel (axis 1), as torch.nn.BatchNorm1d/2d: the registered
   * `batchNorm` op on x, weight (ones), bias (zeros) and the running mean (zeros) and variance
   * (ones), which are `parameter` nodes with `trainable: false` (the trainer blends each batch's
   * statistics into them). Like the canvas's BatchNorm layer, the statistics take the weight's
   * and bias's seeds (their init reads none), so the layer uses two seeds as a Linear does.
   */
  batchNorm(x: string, features: number, id: string, options: BatchNormHelperOptions): string {
    const site = { node: id, op: 'batchNorm' };
    if (!Number.isInteger(features) || features < 1)
      throw new GraphError(
        `batchNorm needs a whole number of features >= 1, got ${features}`,
        site,
      );
    const { momentum = 0.1, eps = 1e-5 } = options;
    if (!(momentum >= 0 && momentum <= 1))
      throw new GraphError(`momentum must be in [0, 1], got ${momentum}`, site);
    if (!(eps > 0)) throw new GraphError(`eps must be positive, got ${eps}`, site);
    const c = [features];
    const seed = this.seed;
    return this.grouped(id, () => {
      const weight = this.parameter(`${id}.weight`, c, { init: 'ones' });
      const bias = this.parameter(`${id}.bias`, c, { init: 'zeros' });
      // The statistics reuse the two seeds (`parameter` would count on): set them explicitly.
      const mean = this.parameter(`${id}.running_mean`, c, {
        init: 'zeros',
        trainable: false,
        seed,
      });
      const variance = this.parameter(`${id}.running_var`, c, {
        init: 'ones',
        trainable: false,
        seed: seed + 1,
      });
      this.seed = seed + 2;
      const attrs = { training: options.training ?? true, momentum, eps };
      return this.add(
        id,
        'batchNorm',
        [x, weight, bias, mean, variance],
        attrs,
        batchNormLayerName(options.dims),
      );
    });
  }

  output(name: string, node: string): void {
    this.outputs.push({ name, node });
  }

  toJSON(meta?: Record<string, unknown>): GraphJSON {
    return {
      format: 'wiregrad.graph',
      version: 1,
      name: this.name,
      nodes: this.nodes,
      outputs: this.outputs,
      ...(meta ? { meta } : {}),
    };
  }

  build(meta?: Record<string, unknown>): Graph {
    return Graph.fromJSON(this.toJSON(meta));
  }
}

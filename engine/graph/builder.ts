/**
 * Writing graph documents in code: `GraphBuilder` appends nodes with readable ids and gives
 * layer helpers (`linear`, `conv2d`) that create their parameters with PyTorch's default init
 * and group their nodes, so a layer shows as one block on the canvas and exports as one
 * module. Templates and the example graph files are made with it.
 */

import type { DType } from '../core/dtype.js';
import { Graph } from './graph.js';
import type { AttrValueJSON, GraphJSON, NodeJSON } from './ir.js';

export type Attrs = Readonly<Record<string, AttrValueJSON>>;

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

  private add(id: string, op: string, inputs: readonly string[], attrs: Attrs): string {
    const node: NodeJSON = {
      id,
      op,
      inputs: [...inputs],
      attrs,
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

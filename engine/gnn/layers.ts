/**
 * Message-passing layers as `nn.Module`s, each `forward(x [n, in], edgeIndex [2, e], …)` →
 * [n, out], after the layers of PyTorch Geometric (same parameter shapes, initialisation and
 * defaults):
 *
 * - `GCNConv` (Kipf & Welling, ICLR 2017): out = D^-1/2 (A + I) D^-1/2 · x · Wᵀ + b.
 * - `SAGEConv` with mean aggregation (Hamilton et al., NeurIPS 2017):
 *   out_i = W_n · mean_{j→i} x_j + b + W_r · x_i.
 * - `GATConv` (Veličković et al., ICLR 2018): per head h, attention
 *   α_ji = softmax_j(LeakyReLU(a_srcᵀ W x_j + a_dstᵀ W x_i)) over the edges into i (self loops
 *   included), out_i = Σ_j α_ji W x_j; heads concatenated or averaged.
 *
 * Everything is built from gather/scatterAdd (message-passing.ts), so the layers train with
 * autograd on any device. Weights use Glorot-uniform init as PyG does, biases start at zero.
 */

import { ShapeError, formatShape } from '../core/errors.js';
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor.js';
import { Linear } from '../nn/linear.js';
import { Module } from '../nn/module.js';
import { deriveSeed, resolveSeed, uniform } from '../nn/init.js';
import {
  addSelfLoops,
  edgeEnds,
  gcnNorm,
  propagate,
  scatterSum,
  segmentSoftmax,
} from './message-passing.js';

/** Glorot/Xavier uniform: U(−a, a) with a = √(6 / (fanIn + fanOut)). */
function glorot(shape: readonly number[], fanIn: number, fanOut: number, seed: number): Tensor {
  const a = Math.sqrt(6 / (fanIn + fanOut));
  return uniform(shape, -a, a, seed);
}

function checkInputs(layer: string, x: Tensor, inFeatures: number, edgeIndex: Tensor): void {
  if (x.rank !== 2 || x.shape[1] !== inFeatures)
    throw new ShapeError(
      `${layer}: node features must be [nodes, ${inFeatures}], got ${formatShape(x.shape)}`,
    );
  if (edgeIndex.rank !== 2 || edgeIndex.shape[0] !== 2 || edgeIndex.dtype !== 'i32')
    throw new ShapeError(
      `${layer}: edgeIndex must be i32 [2, e] (sources, then targets), got ` +
        `${edgeIndex.dtype} ${formatShape(edgeIndex.shape)}`,
    );
}

export interface GCNConvOptions {
  /** Learn an additive bias (default true). */
  readonly bias?: boolean;
  /** Normalise the adjacency symmetrically (default true); false: use edge weights as given. */
  readonly normalize?: boolean;
  /** Add self loops before normalising (default true). */
  readonly selfLoops?: boolean;
  readonly seed?: number;
}

export class GCNConv extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  private readonly normalize: boolean;
  private readonly selfLoops: boolean;

  constructor(inFeatures: number, outFeatures: number, options: GCNConvOptions = {}) {
    super();
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.normalize = options.normalize ?? true;
    this.selfLoops = options.selfLoops ?? true;
    const seed = resolveSeed(options.seed);
    this.weight = this.registerParameter(
      'weight',
      glorot([outFeatures, inFeatures], inFeatures, outFeatures, deriveSeed(seed, 0)),
    );
    this.bias =
      options.bias === false ? null : this.registerParameter('bias', ops.zeros([outFeatures]));
  }

  /** x [n, in], edgeIndex [2, e] i32, optional edge weights [e] → [n, out]. */
  forward(x: Tensor, edgeIndex: Tensor, edgeWeight?: Tensor): Tensor {
    checkInputs('GCNConv', x, this.inFeatures, edgeIndex);
    const n = x.shape[0]!;
    const edges = this.normalize
      ? gcnNorm(edgeIndex, n, { weight: edgeWeight, selfLoops: this.selfLoops, dtype: x.dtype })
      : { edgeIndex, edgeWeight: edgeWeight ?? null };
    // Transform first, then aggregate: fewer columns travel along the edges when out < in.
    const h = ops.linear(x, this.weight);
    const out = propagate(h, edges.edgeIndex, { weight: edges.edgeWeight });
    return this.bias ? ops.add(out, this.bias) : out;
  }

  protected override extraRepr(): string {
    return `${this.inFeatures}, ${this.outFeatures}`;
  }
}

export interface SAGEConvOptions {
  readonly bias?: boolean;
  /** Add the transformed node's own features, W_r · x_i (default true). */
  readonly rootWeight?: boolean;
  readonly seed?: number;
}

export class SAGEConv extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  /** Applied to the mean of the neighbours' features (holds the bias). */
  readonly linNeighbors: Linear;
  /** Applied to the node's own features. */
  readonly linRoot: Linear | null;

  constructor(inFeatures: number, outFeatures: number, options: SAGEConvOptions = {}) {
    super();
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    const seed = resolveSeed(options.seed);
    this.linNeighbors = this.registerModule(
      'linNeighbors',
      new Linear(inFeatures, outFeatures, {
        bias: options.bias ?? true,
        seed: deriveSeed(seed, 0),
      }),
    );
    this.linRoot =
      options.rootWeight === false
        ? null
        : this.registerModule(
            'linRoot',
            new Linear(inFeatures, outFeatures, { bias: false, seed: deriveSeed(seed, 1) }),
          );
  }

  /** x [n, in], edgeIndex [2, e] i32 → [n, out]. */
  forward(x: Tensor, edgeIndex: Tensor): Tensor {
    checkInputs('SAGEConv', x, this.inFeatures, edgeIndex);
    const neighbours = propagate(x, edgeIndex, { aggregate: 'mean' });
    const out = this.linNeighbors.forward(neighbours);
    return this.linRoot ? ops.add(out, this.linRoot.forward(x)) : out;
  }

  protected override extraRepr(): string {
    return `${this.inFeatures}, ${this.outFeatures}, aggr=mean`;
  }
}

export interface GATConvOptions {
  /** Attention heads (default 1). */
  readonly heads?: number;
  /** Concatenate the heads' outputs ([n, heads·out]; default) or average them ([n, out]). */
  readonly concat?: boolean;
  /** Slope of the LeakyReLU on attention scores (default 0.2). */
  readonly negativeSlope?: number;
  /** Let each node attend to itself (default true). */
  readonly selfLoops?: boolean;
  /** Dropout on the attention weights while training (default 0). */
  readonly dropout?: number;
  readonly bias?: boolean;
  readonly seed?: number;
}

/** A GAT layer's output together with its attention weights, for inspection. */
export interface GATOutput {
  readonly out: Tensor;
  /** The edges attended over (self loops appended when enabled), [2, e']. */
  readonly edgeIndex: Tensor;
  /** Attention weight of each edge per head, [e', heads]; sums to 1 over a node's in-edges. */
  readonly attention: Tensor;
}

export class GATConv extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  readonly heads: number;
  readonly concat: boolean;
  /** [heads·out, in] */
  readonly weight: Tensor;
  /** [heads, out] */
  readonly attSrc: Tensor;
  readonly attDst: Tensor;
  readonly bias: Tensor | null;
  private readonly negativeSlope: number;
  private readonly selfLoops: boolean;
  private readonly dropout: number;
  private readonly seed: number;
  private calls = 0;

  constructor(inFeatures: number, outFeatures: number, options: GATConvOptions = {}) {
    super();
    const heads = options.heads ?? 1;
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.heads = heads;
    this.concat = options.concat ?? true;
    this.negativeSlope = options.negativeSlope ?? 0.2;
    this.selfLoops = options.selfLoops ?? true;
    this.dropout = options.dropout ?? 0;
    this.seed = resolveSeed(options.seed);
    const s = this.seed;
    this.weight = this.registerParameter(
      'weight',
      glorot([heads * outFeatures, inFeatures], inFeatures, heads * outFeatures, deriveSeed(s, 0)),
    );
    // PyG initialises att [1, heads, out] with glorot over its last two dimensions.
    this.attSrc = this.registerParameter(
      'attSrc',
      glorot([heads, outFeatures], heads, outFeatures, deriveSeed(s, 1)),
    );
    this.attDst = this.registerParameter(
      'attDst',
      glorot([heads, outFeatures], heads, outFeatures, deriveSeed(s, 2)),
    );
    const width = this.concat ? heads * outFeatures : outFeatures;
    this.bias = options.bias === false ? null : this.registerParameter('bias', ops.zeros([width]));
  }

  forward(x: Tensor, edgeIndex: Tensor): Tensor {
    return this.forwardWithAttention(x, edgeIndex).out;
  }

  /** The layer's output and the attention weights it used. */
  forwardWithAttention(x: Tensor, edgeIndex: Tensor): GATOutput {
    checkInputs('GATConv', x, this.inFeatures, edgeIndex);
    const n = x.shape[0]!;
    const [H, F] = [this.heads, this.outFeatures];
    const edges = this.selfLoops ? addSelfLoops(edgeIndex, n).edgeIndex : edgeIndex;
    const { src, dst } = edgeEnds(edges);
    const h = ops.reshape(ops.linear(x, this.weight), [n, H, F]);
    // Per-node halves of the score a·[Wx_j ‖ Wx_i]: [n, H] each, then one value per edge.
    const scoreSrc = ops.sum(ops.mul(h, this.attSrc), 2);
    const scoreDst = ops.sum(ops.mul(h, this.attDst), 2);
    const scores = ops.leakyRelu(
      ops.add(ops.gather(scoreSrc, src, 0), ops.gather(scoreDst, dst, 0)),
      this.negativeSlope,
    );
    const attention = segmentSoftmax(scores, dst, n);
    const used =
      this.training && this.dropout > 0
        ? ops.dropout(attention, this.dropout, { seed: deriveSeed(this.seed, 100 + this.calls++) })
        : attention;
    const e = src.shape[0]!;
    const messages = ops.mul(ops.gather(h, src, 0), ops.reshape(used, [e, H, 1]));
    const summed = scatterSum(messages, dst, n);
    let out = this.concat ? ops.reshape(summed, [n, H * F]) : ops.mean(summed, 1);
    if (this.bias) out = ops.add(out, this.bias);
    return { out, edgeIndex: edges, attention };
  }

  protected override extraRepr(): string {
    return `${this.inFeatures}, ${this.outFeatures}, heads=${this.heads}`;
  }
}

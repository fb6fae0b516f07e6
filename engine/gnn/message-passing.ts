/**
 * Sparse message passing built from two ops: `gather` picks the rows of the edges' source nodes
 * and `scatterAdd` sums values into the rows of their target nodes. Every function here is a
 * composition of ops, so it runs on any device, traces into graphs, and differentiates (twice,
 * too) through the ops' own gradient rules; the edge index is data and gets no gradient.
 *
 * - `scatterSum` / `scatterMean`: per-node sums and means of per-edge values.
 * - `propagate`: out[i] = Σ (or mean) over edges j→i of w_ji · x[j].
 * - `segmentSoftmax`: a softmax over the edges that share a target (GAT's attention).
 * - `addSelfLoops`, `gcnNorm`: the renormalised adjacency D^-1/2 (A + I) D^-1/2 of Kipf and
 *   Welling, "Semi-Supervised Classification with Graph Convolutional Networks" (ICLR 2017),
 *   as per-edge weights.
 */

import type { DType } from '../core/dtype.js';
import * as ops from '../ops/index.js';
import type { Tensor } from '../tensor.js';

/** The source and target nodes of each edge, as two [e] i32 tensors. */
export function edgeEnds(edgeIndex: Tensor): { src: Tensor; dst: Tensor } {
  const e = edgeIndex.shape[1]!;
  return {
    src: ops.reshape(ops.slice(edgeIndex, [0, 0], [1, e]), [e]),
    dst: ops.reshape(ops.slice(edgeIndex, [1, 0], [1, e]), [e]),
  };
}

/** out[i] = Σ values[k] over the edges k with index[k] = i; values [e, …] → [n, …]. */
export function scatterSum(values: Tensor, index: Tensor, numNodes: number): Tensor {
  const zeros = ops.zeros([numNodes, ...values.shape.slice(1)], {
    dtype: values.dtype,
    device: values.device,
  });
  return ops.scatterAdd(zeros, index, values, 0);
}

/**
 * The (weighted) number of edges per node: Σ weight[k] over the edges k with index[k] = i.
 * Unweighted counts come as `dtype` (default f32).
 */
export function degree(
  index: Tensor,
  numNodes: number,
  weight?: Tensor | null,
  dtype: DType = 'f32',
): Tensor {
  const w = weight ?? ops.ones([index.shape[0]!], { dtype, device: index.device });
  return scatterSum(w, index, numNodes);
}

/** Per-node mean of the values of its edges (0 for a node without edges). */
export function scatterMean(values: Tensor, index: Tensor, numNodes: number): Tensor {
  const sums = scatterSum(values, index, numNodes);
  const count = ops.maximum(degree(index, numNodes, null, values.dtype), 1);
  return ops.div(sums, ops.reshape(count, [numNodes, ...values.shape.slice(1).map(() => 1)]));
}

/** Scales per-edge rows [e, …] by per-edge weights [e]. */
function scaleRows(rows: Tensor, weight: Tensor): Tensor {
  return ops.mul(
    rows,
    ops.reshape(weight, [weight.shape[0]!, ...rows.shape.slice(1).map(() => 1)]),
  );
}

export interface PropagateOptions {
  /** Per-edge weights [e] (default 1). */
  readonly weight?: Tensor | null;
  /** How messages at a node combine (default 'sum'). */
  readonly aggregate?: 'sum' | 'mean';
}

/** Message passing: out[i] = aggregate over edges j→i of weight · x[j]; x [n, …] → [n, …]. */
export function propagate(x: Tensor, edgeIndex: Tensor, options: PropagateOptions = {}): Tensor {
  const { src, dst } = edgeEnds(edgeIndex);
  let messages = ops.gather(x, src, 0);
  if (options.weight) messages = scaleRows(messages, options.weight);
  const n = x.shape[0]!;
  return options.aggregate === 'mean'
    ? scatterMean(messages, dst, n)
    : scatterSum(messages, dst, n);
}

/**
 * Softmax of per-edge scores [e] or [e, heads] over the edges that share an index (their target
 * node), as attention weights. Softmax is unchanged by subtracting a constant from a group's
 * scores; the global maximum is one constant for every group, so subtracting it (cut from the
 * tape) keeps exp from overflowing without a segment-max op. A group far below the global
 * maximum could underflow to zero: its denominator is floored so it gives zeros, not NaN.
 */
export function segmentSoftmax(scores: Tensor, index: Tensor, numNodes: number): Tensor {
  const shifted = ops.exp(ops.sub(scores, ops.detach(ops.max(scores))));
  const sums = scatterSum(shifted, index, numNodes);
  const denominators = ops.gather(sums, index, 0);
  return ops.div(shifted, ops.maximum(denominators, 1e-30));
}

/** The edge index with an edge i→i appended for every node (weight `fill` when weighted). */
export function addSelfLoops(
  edgeIndex: Tensor,
  numNodes: number,
  weight?: Tensor | null,
  fill = 1,
): { edgeIndex: Tensor; edgeWeight: Tensor | null } {
  const nodes = ops.arange(0, numNodes, 1, { dtype: 'i32', device: edgeIndex.device });
  const loops = ops.stack([nodes, nodes], 0);
  return {
    edgeIndex: ops.concat([edgeIndex, loops], 1),
    edgeWeight: weight
      ? ops.concat([weight, ops.full([numNodes], fill, { dtype: weight.dtype })], 0)
      : null,
  };
}

export interface GcnNormOptions {
  /** Per-edge weights [e] (default 1). */
  readonly weight?: Tensor | null;
  /** Add self loops first, the "renormalisation trick" (default true). */
  readonly selfLoops?: boolean;
  /** The dtype of the weights when none are given (default f32; match the features). */
  readonly dtype?: DType;
}

/**
 * Symmetric normalisation: edge j→i gets weight w_ji / √(d_i d_j), d the weighted in-degree
 * (after adding self loops, when asked). Returns the edge index it applies to and the weights.
 */
export function gcnNorm(
  edgeIndex: Tensor,
  numNodes: number,
  options: GcnNormOptions = {},
): { edgeIndex: Tensor; edgeWeight: Tensor } {
  const looped =
    options.selfLoops === false
      ? { edgeIndex, edgeWeight: options.weight ?? null }
      : addSelfLoops(edgeIndex, numNodes, options.weight);
  const { src, dst } = edgeEnds(looped.edgeIndex);
  const w =
    looped.edgeWeight ??
    ops.ones([src.shape[0]!], { dtype: options.dtype ?? 'f32', device: edgeIndex.device });
  const deg = degree(dst, numNodes, w);
  // A node without edges has degree 0: its weight is 0, not ∞.
  const invSqrt = ops.where(ops.greater(deg, 0), ops.pow(ops.maximum(deg, 1e-12), -0.5), 0);
  const edgeWeight = ops.mul(ops.mul(ops.gather(invSqrt, src, 0), w), ops.gather(invSqrt, dst, 0));
  return { edgeIndex: looped.edgeIndex, edgeWeight };
}

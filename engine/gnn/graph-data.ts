/**
 * Graph data for graph neural networks: `GraphData` holds node features x [n, f], the edge list
 * edgeIndex [2, e] (i32; row 0 the source node, row 1 the target: messages flow from source to
 * target, as in PyTorch Geometric), optional edge weights [e] and node labels [n]. Adjacency is
 * never a dense matrix: layers gather rows at the sources and scatter-add them at the targets
 * (message-passing.ts), so memory grows with the edges, not with n². `edgeIndexFrom` builds an
 * edge index from pairs, both directions for an undirected graph.
 */

import { DTypeError, ShapeError, WiregradError, formatShape } from '../core/errors.js';
import { tensor } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';

export interface GraphDataInit {
  /** Node features [n, f]. */
  readonly x: Tensor;
  /** Edges [2, e] i32: edgeIndex[0][k] → edgeIndex[1][k]. */
  readonly edgeIndex: Tensor;
  /** Edge weights [e] (default: every edge weighs 1). */
  readonly edgeWeight?: Tensor | null;
  /** Node labels [n] (i32 classes) or targets. */
  readonly y?: Tensor | null;
}

/** Checks an edge index's shape, dtype and (when its data is readable here) its node range. */
export function checkEdgeIndex(edgeIndex: Tensor, numNodes: number, what = 'edgeIndex'): void {
  if (edgeIndex.dtype !== 'i32')
    throw new DTypeError(
      `${what} must be i32 node indices, got ${edgeIndex.dtype}; cast it with .cast('i32')`,
    );
  if (edgeIndex.rank !== 2 || edgeIndex.shape[0] !== 2)
    throw new ShapeError(
      `${what} must have shape [2, e] (sources in row 0, targets in row 1), got ` +
        `${formatShape(edgeIndex.shape)}; transpose an [e, 2] list of pairs`,
    );
  if (edgeIndex.isSymbolic || edgeIndex.device !== 'cpu') return;
  const data = edgeIndex.dataSync();
  const e = edgeIndex.shape[1]!;
  for (let k = 0; k < data.length; k++) {
    const v = data[k]!;
    if (v < 0 || v >= numNodes)
      throw new WiregradError(
        `${what}: edge ${k % e} has ${k < e ? 'source' : 'target'} node ${v}, outside ` +
          `[0, ${numNodes}) for a graph of ${numNodes} nodes`,
      );
  }
}

export class GraphData {
  readonly x: Tensor;
  readonly edgeIndex: Tensor;
  readonly edgeWeight: Tensor | null;
  readonly y: Tensor | null;

  constructor(init: GraphDataInit) {
    const { x, edgeIndex } = init;
    if (x.rank !== 2)
      throw new ShapeError(
        `GraphData: node features x must be [nodes, features], got ${formatShape(x.shape)}`,
      );
    const n = x.shape[0]!;
    checkEdgeIndex(edgeIndex, n, 'GraphData: edgeIndex');
    const w = init.edgeWeight ?? null;
    if (w && (w.rank !== 1 || w.shape[0] !== edgeIndex.shape[1]))
      throw new ShapeError(
        `GraphData: edgeWeight ${formatShape(w.shape)} must have one weight per edge ` +
          `([${edgeIndex.shape[1]}])`,
      );
    const y = init.y ?? null;
    if (y && y.shape[0] !== n)
      throw new ShapeError(
        `GraphData: labels y ${formatShape(y.shape)} must have one entry per node (${n})`,
      );
    this.x = x;
    this.edgeIndex = edgeIndex;
    this.edgeWeight = w;
    this.y = y;
  }

  get numNodes(): number {
    return this.x.shape[0]!;
  }

  get numEdges(): number {
    return this.edgeIndex.shape[1]!;
  }

  get numFeatures(): number {
    return this.x.shape[1]!;
  }

  /** Frees the graph's tensors. */
  dispose(): void {
    this.x.dispose();
    this.edgeIndex.dispose();
    this.edgeWeight?.dispose();
    this.y?.dispose();
  }
}

export interface EdgeIndexOptions {
  /** Add each pair in both directions (default false). */
  readonly undirected?: boolean;
}

/** An edge index [2, e] i32 from (source, target) pairs. */
export function edgeIndexFrom(
  pairs: readonly (readonly [number, number])[],
  options: EdgeIndexOptions = {},
): Tensor {
  const both = options.undirected ?? false;
  const e = pairs.length * (both ? 2 : 1);
  const data = new Int32Array(2 * e);
  pairs.forEach(([a, b], k) => {
    if (!Number.isInteger(a) || !Number.isInteger(b) || a < 0 || b < 0)
      throw new WiregradError(
        `edgeIndexFrom: pair ${k} is (${a}, ${b}); nodes are numbered by integers from 0`,
      );
    data[k] = a;
    data[e + k] = b;
    if (both) {
      data[pairs.length + k] = b;
      data[e + pairs.length + k] = a;
    }
  });
  return tensor(data, { shape: [2, e], dtype: 'i32' });
}

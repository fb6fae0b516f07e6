/**
 * The gradient flowing along each forward edge of a graph document, for the training views:
 * evaluate the graph recording which node each op's output belongs to (a composite's
 * primitives included), then run backward summing, per edge u → v, the contributions that v's
 * primitives pass into u's value. Backward's own hook reports each contribution as it sums it,
 * so these are backward's numbers. Used by the worker's training session (CPU) and by
 * `DeviceTrainer` (one device).
 */

import { backward } from '../autograd/backward.js';
import type { Graph } from '../graph/graph.js';
import { evaluateNodes } from '../graph/run.js';
import * as ops from '../ops/index.js';
import { type OpObserver, state } from '../runtime/state.js';
import type { Tensor } from '../tensor.js';

/** The key of the forward edge from → to in `backwardMeasuringEdges`' result. */
export const edgeKey = (from: string, to: string): string => `${from}\u0000${to}`;

export interface OwnedValues {
  /** Every node's value. */
  readonly values: Map<string, Tensor>;
  /** The node each op output computed in the forward pass belongs to (empty if not tracked). */
  readonly owner: Map<Tensor, string>;
}

/** `evaluateNodes` that also records, when `track`, which node each op's output belongs to. */
export function evaluateOwned(
  graph: Graph,
  sources: Parameters<typeof evaluateNodes>[1],
  track = true,
): OwnedValues {
  const owner = new Map<Tensor, string>();
  let current = '';
  const observer: OpObserver = {
    onOp: (_def, _inputs, out) => {
      if (!out.isSymbolic) owner.set(out, current);
    },
  };
  if (track) state.observers.push(observer);
  try {
    const values = evaluateNodes(graph, sources, (node) => {
      current = node.id;
    });
    return { values, owner };
  } finally {
    if (track) state.observers.splice(state.observers.indexOf(observer), 1);
  }
}

/** The node each value belongs to (the first node, where several share one tensor). */
export function nodeOfValues(values: ReadonlyMap<string, Tensor>): Map<Tensor, string> {
  const nodeOf = new Map<Tensor, string>();
  for (const [id, t] of values) if (!nodeOf.has(t)) nodeOf.set(t, id);
  return nodeOf;
}

/**
 * `root.backward()` (after the caller's `zeroGrad`), also summing the gradient along each
 * forward edge, keyed by `edgeKey`. Run inside `tidy`; the leaves' gradients are kept.
 */
export function backwardMeasuringEdges(
  root: Tensor,
  nodeOf: ReadonlyMap<Tensor, string>,
  owner: ReadonlyMap<Tensor, string>,
): Map<string, Tensor> {
  const edges = new Map<string, Tensor>();
  backward(root, undefined, {
    onContribution: ({ consumer, input, contribution }) => {
      const from = nodeOf.get(input);
      const to = owner.get(consumer);
      if (from === undefined || to === undefined || from === to) return;
      const key = edgeKey(from, to);
      const sum = edges.get(key);
      // Backward frees a contribution once summed: keep a view (it shares, so holds, the storage).
      edges.set(key, sum ? ops.add(sum, contribution) : ops.identity(contribution));
      sum?.dispose();
    },
  });
  return edges;
}

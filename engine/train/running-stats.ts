/**
 * Batch norm's running statistics in graph documents. They are `parameter` nodes marked
 * `trainable: false`: the optimiser leaves them alone, and after each training step the trainer
 * blends in the batch's statistics (`batchNormUpdateStats`, PyTorch's formula) for every
 * `batchNorm` node whose `training` attribute is on. The op itself stays pure; this is the one
 * place that writes the statistics.
 */

import { noGrad } from '../autograd/grad.js';
import type { Graph } from '../graph/graph.js';
import type { ParameterAttrs } from '../graph/ir.js';
import { evaluateNodes, graphSources } from '../graph/run.js';
import { batchNormUpdateStats } from '../ops/normalization.js';
import { tidy } from '../runtime/scope.js';
import type { Tensor } from '../tensor.js';

/** A batchNorm node whose running statistics are parameters the trainer updates. */
export interface RunningStatsNode {
  readonly node: string;
  /** The node's input x. */
  readonly x: string;
  readonly mean: string;
  readonly variance: string;
  readonly momentum: number;
}

/** Whether a parameter node is state (`trainable: false`) rather than a weight. */
export function isTrainable(graph: Graph, id: string): boolean {
  const node = graph.node(id);
  return node.op !== 'parameter' || (node.attrs as unknown as ParameterAttrs).trainable !== false;
}

/** The training-mode batchNorm nodes whose running mean and variance are parameter nodes. */
export function runningStatsNodes(graph: Graph): RunningStatsNode[] {
  const found: RunningStatsNode[] = [];
  for (const n of graph.nodes) {
    if (n.op !== 'batchNorm') continue;
    const a = n.attrs as { training?: boolean; momentum?: number };
    const [x, , , mean, variance] = n.inputs;
    if (a.training !== true || !x || !mean || !variance) continue;
    if (graph.node(mean).op !== 'parameter' || graph.node(variance).op !== 'parameter') continue;
    found.push({ node: n.id, x, mean, variance, momentum: a.momentum ?? 0.1 });
  }
  return found;
}

/**
 * Runs the graph like `graph.run` (training mode: each node's own attributes) and then updates
 * the running statistics of `nodes` in `params` from this batch. Returns the outputs by name.
 */
export function runUpdatingStats(
  graph: Graph,
  inputs: Readonly<Record<string, Tensor>>,
  params: ReadonlyMap<string, Tensor>,
  nodes: readonly RunningStatsNode[],
): Record<string, Tensor> {
  if (nodes.length === 0) return graph.run(inputs, { params });
  const values = evaluateNodes(graph, graphSources(graph, inputs, { params }));
  applyRunningStats(nodes, values, params);
  const out: Record<string, Tensor> = {};
  for (const o of graph.outputs) out[o.name] = values.get(o.node)!;
  return out;
}

/**
 * Blends this batch's statistics into the running ones of `nodes`, in place in `params`, from
 * the node values of a forward pass (`evaluateNodes`).
 */
export function applyRunningStats(
  nodes: readonly RunningStatsNode[],
  values: ReadonlyMap<string, Tensor>,
  params: ReadonlyMap<string, Tensor>,
): void {
  if (nodes.length === 0) return;
  noGrad(() =>
    tidy(() => {
      for (const s of nodes) {
        const mean = params.get(s.mean);
        const variance = params.get(s.variance);
        const x = values.get(s.x);
        if (!mean || !variance || !x) continue;
        const next = batchNormUpdateStats(x, mean, variance, s.momentum);
        mean.assign(next.runningMean);
        variance.assign(next.runningVar);
      }
    }),
  );
}

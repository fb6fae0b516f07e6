/**
 * What every exporter needs to know about a graph before writing code for it: the nodes the
 * chosen outputs depend on (in topological order), each value's shape with the batch
 * dimension kept symbolic ('N', so generated code works at any batch size), who consumes
 * each value, and the error every exporter throws when its target lacks an op, which names
 * the node and the op and says what to do.
 */

import type { DType } from '../core/dtype.js';
import { WiregradError } from '../core/errors.js';
import type { Graph, GraphNode } from '../graph/graph.js';
import type { OutputJSON } from '../graph/ir.js';

/** A graph the target cannot express, naming the node and op (and what to do). */
export class ExportError extends WiregradError {}

/** A dimension: a number, or 'N' where it follows the batch size. */
export type Dim = number | 'N';

export interface ValueMeta {
  readonly shape: readonly Dim[];
  readonly dtype: DType;
}

export interface GraphAnalysis {
  readonly graph: Graph;
  /** The nodes the exported outputs need, each after its inputs. */
  readonly nodes: readonly GraphNode[];
  /** The exported outputs, in the document's order. */
  readonly outputs: readonly OutputJSON[];
  /** Shape (batch dimensions as 'N') and dtype of a node's value. */
  meta(id: string): ValueMeta;
  /** The needed nodes that read `id`'s value (once per use). */
  consumers(id: string): readonly GraphNode[];
  /** Whether a node's value is one of the exported outputs. */
  isOutput(id: string): boolean;
}

/** Throws the error for an op (or a use of it) that `target` cannot express. */
export function unsupported(target: string, node: GraphNode, why: string, advice?: string): never {
  throw new ExportError(
    `${target} export cannot express this node: ${why}. ` +
      (advice ??
        'Replace the node with ops the target has, or export a graph without it (the ' +
          'forward graph, before differentiation)'),
    { node: node.id, op: node.op },
  );
}

/**
 * Shapes with the batch dimension symbolic, from inference at two batch sizes. A graph that
 * only works at one batch size (a traced reshape to a fixed size) falls back to batch 1 with
 * every dimension fixed; a graph with a shape error throws it, naming the node.
 */
function shapesOf(graph: Graph): Map<string, ValueMeta> {
  try {
    return graph.symbolicShapes();
  } catch {
    return graph.inferShapes();
  }
}

export function analyzeGraph(graph: Graph, outputNames?: readonly string[]): GraphAnalysis {
  const outputs = outputNames
    ? outputNames.map((name) => {
        const o = graph.outputs.find((x) => x.name === name);
        if (!o)
          throw new ExportError(
            `the graph has no output '${name}'; its outputs are ` +
              graph.outputs.map((x) => `'${x.name}'`).join(', '),
          );
        return o;
      })
    : graph.outputs;
  if (outputs.length === 0)
    throw new ExportError('the graph has no outputs to export; add an output first');
  const metas = shapesOf(graph);
  const needed = new Set<string>();
  const stack = outputs.map((o) => o.node);
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (needed.has(id)) continue;
    needed.add(id);
    stack.push(...graph.node(id).inputs);
  }
  const nodes = graph.nodes.filter((n) => needed.has(n.id));
  const consumers = new Map<string, GraphNode[]>();
  for (const n of nodes)
    for (const i of n.inputs) {
      const list = consumers.get(i) ?? [];
      list.push(n);
      consumers.set(i, list);
    }
  const outputIds = new Set(outputs.map((o) => o.node));
  return {
    graph,
    nodes,
    outputs,
    meta: (id) => metas.get(id)!,
    consumers: (id) => consumers.get(id) ?? [],
    isOutput: (id) => outputIds.has(id),
  };
}

/**
 * Backward as a graph: `differentiate(graph, { loss })` returns a graph that computes the
 * forward outputs and, as outputs named `grad:<id>`, the gradient of the loss with respect to
 * each parameter (or each node in `wrt`). It is built by tracing: the forward graph runs on
 * symbolic tensors (keeping its node ids), then `gradients(..., { createGraph: true })` walks
 * the tape, and every op of every gradient rule becomes a node. So the canvas, the placer and
 * the executor treat backward nodes exactly like forward ones, and differentiating the result
 * again gives higher-order gradients.
 */

import { isFloat } from '../core/dtype.js';
import { GraphError, formatShape } from '../core/errors.js';
import { sizeOf } from '../core/shape.js';
import { gradients } from '../autograd/backward.js';
import { zerosLike } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';
import { type Graph, nodeToJSON } from './graph.js';
import { evaluateNodes } from './run.js';
import { GraphTracer, withTracer } from './trace.js';

export interface DifferentiateOptions {
  /** The scalar to differentiate: an output name or a node id. */
  readonly loss: string;
  /** Input or parameter node ids to differentiate with respect to (default: every parameter). */
  readonly wrt?: readonly string[];
  /**
   * The batch size the gradient graph is built for (default 1). Gradient rules build shapes
   * from the forward shapes (expand back over a reduced axis, reshape back), so the result is
   * specialised: its inputs declare this size where the forward graph had -1.
   */
  readonly batch?: number;
}

function resolveLoss(graph: Graph, loss: string): string {
  const output = graph.outputs.find((o) => o.name === loss);
  if (output) return output.node;
  if (graph.hasNode(loss)) return loss;
  const names = graph.outputs.map((o) => `'${o.name}'`).join(', ');
  throw new GraphError(
    `differentiate: loss '${loss}' is neither an output name (${names || 'none'}) nor a node id`,
  );
}

/** The gradient graph of `graph`; see the file comment. */
export function differentiate(graph: Graph, options: DifferentiateOptions): Graph {
  const lossId = resolveLoss(graph, options.loss);
  const wrt = options.wrt ?? graph.parameters.map((p) => p.id);
  if (wrt.length === 0)
    throw new GraphError(
      'differentiate: the graph has no parameters; pass wrt with the input ids to differentiate by',
    );
  const metas = graph.inferShapes({ batch: options.batch ?? 1 });
  for (const id of wrt) {
    if (!graph.hasNode(id))
      throw new GraphError(`differentiate: wrt names '${id}', which is not a node of the graph`);
    const node = graph.node(id);
    if (node.op !== 'input' && node.op !== 'parameter')
      throw new GraphError(
        `differentiate: can only differentiate with respect to input and parameter nodes`,
        { node: id, op: node.op },
      );
    if (!isFloat(metas.get(id)!.dtype))
      throw new GraphError(
        `differentiate: is ${metas.get(id)!.dtype}; only floating-point values have gradients`,
        { node: id, op: node.op },
      );
  }
  const lossMeta = metas.get(lossId)!;
  if (sizeOf(lossMeta.shape) !== 1)
    throw new GraphError(
      `differentiate: the loss must be a scalar, got ${formatShape(lossMeta.shape)}; reduce ` +
        `it first (sum or mean)`,
      { node: lossId, op: graph.node(lossId).op },
    );
  const wanted = new Set(wrt);
  // Made before tracing starts, so they are real tensors the two graphs share.
  const params = graph.parameters.length > 0 ? graph.initParameters() : new Map<string, Tensor>();

  const tracer = new GraphTracer();
  const result = withTracer(tracer, () => {
    const values = evaluateNodes(
      graph,
      (node) => {
        const json = nodeToJSON(node);
        const meta = metas.get(node.id)!;
        // Inputs take the concrete batch size the backward nodes are built for.
        const attrs = node.op === 'input' ? { ...json.attrs, shape: [...meta.shape] } : json.attrs;
        return tracer.addSource({ ...json, attrs }, meta, wanted.has(node.id));
      },
      (node) => {
        tracer.hint = {
          id: node.id,
          ...(node.name !== undefined ? { name: node.name } : {}),
          ...(node.device !== undefined ? { device: node.device } : {}),
          ...(node.group !== undefined ? { group: node.group } : {}),
        };
      },
    );
    const loss = values.get(lossId)!;
    const targets = wrt.map((id) => values.get(id)!);
    const grads = loss.requiresGrad
      ? gradients(loss, targets, { createGraph: true })
      : targets.map((t) => zerosLike(t));
    const outputs: [string, Tensor][] = [
      ...graph.outputs.map((o): [string, Tensor] => [o.name, values.get(o.node)!]),
      ...wrt.map((id, i): [string, Tensor] => [`grad:${id}`, grads[i]!]),
    ];
    return tracer.finish(outputs, {
      ...(graph.name !== undefined ? { name: graph.name } : {}),
      ...(graph.meta !== undefined ? { meta: graph.meta } : {}),
      keep: 'sources',
    });
  });
  result.adoptParameters(params);
  return result;
}

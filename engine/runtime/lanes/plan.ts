/**
 * The executor's plan of a graph: its nodes flattened into primitive steps, each with its op,
 * canonical attributes, output shape and dtype, and the steps it reads. Composite nodes
 * (`linear`, `crossEntropy` …) are expanded into the primitive ops of their decomposition, so
 * the parts of one layer can run on lanes like any node; a composite that cannot be expanded
 * ahead of time (it draws random numbers, or captures a tensor of data) stays one `node` step
 * that runs through `runOp` on the main thread, exactly as `graph.run` runs it.
 *
 * Expansion records the decomposition with a tracer over symbolic tensors (the same path
 * `trace` takes), so the steps are the ops that `graph.run` would execute, with the same
 * attributes: the executor's results can be bitwise equal to the plain run's.
 */

import type { DeviceName } from '../../backend/backend.js';
import { WiregradError } from '../../core/errors.js';
import type { GraphNode, Graph } from '../../graph/graph.js';
import { atNode } from '../../graph/ir.js';
import { type OpDef, type TensorMeta, getOp } from '../../ops/registry.js';
import { Tensor } from '../../tensor.js';
import { runOp } from '../dispatch.js';
import { type Tracer, state } from '../state.js';

/**
 * One step. `source`: a graph input, parameter or constant (its value is given). `kernel`: one
 * primitive op. `node`: a whole graph node run through `runOp` (an unexpandable composite or a
 * random op).
 */
export interface PlanStep {
  readonly index: number;
  readonly kind: 'source' | 'kernel' | 'node';
  /** The graph node this step computes (part of): events and errors name it. */
  readonly node: GraphNode;
  readonly def: OpDef;
  readonly attrs: object;
  readonly meta: TensorMeta;
  /** Steps whose values this one reads, in argument order. */
  readonly inputs: readonly number[];
}

export interface ExecutionPlan {
  readonly steps: readonly PlanStep[];
  /** The step whose value is each graph node's output. */
  readonly valueOf: ReadonlyMap<string, number>;
  /** Distinct steps that read each step's value. */
  readonly consumers: readonly (readonly number[])[];
}

/** Thrown inside an expansion that cannot be planned ahead; the node runs whole instead. */
class NotExpandable extends Error {}

/** Records primitive ops as steps while a composite's decomposition runs symbolically. */
class Expander implements Tracer {
  readonly steps: PlanStep[] = [];
  readonly stepOf = new Map<Tensor, number>();
  node: GraphNode | null = null;

  record(def: OpDef, inputs: readonly Tensor[], attrs: object, meta: TensorMeta): Tensor {
    // Nested composites (recorded whole while tracing without gradients) expand in turn.
    if (def.decompose) return def.decompose(inputs, attrs);
    if (def.random) throw new NotExpandable(`'${def.name}' draws random numbers`);
    const reads = inputs.map((t) => {
      const s = this.stepOf.get(t);
      if (s === undefined) throw new NotExpandable('the decomposition captures a data tensor');
      return s;
    });
    const device =
      inputs[0]?.device ?? (attrs as { device?: DeviceName }).device ?? state.defaultDevice;
    return this.add('kernel', def, attrs, meta, reads, device);
  }

  add(
    kind: PlanStep['kind'],
    def: OpDef,
    attrs: object,
    meta: TensorMeta,
    inputs: readonly number[],
    device: DeviceName,
  ): Tensor {
    const index = this.steps.length;
    this.steps.push({ index, kind, node: this.node!, def, attrs, meta, inputs });
    const symbol = new Tensor(meta.shape, meta.dtype, null, device);
    this.stepOf.set(symbol, index);
    return symbol;
  }
}

function isSource(node: GraphNode): boolean {
  return node.op === 'input' || node.op === 'parameter' || node.op === 'constant';
}

/** The attributes `graph.run` passes for a node (a pinned creation op gets its device). */
export function nodeAttrs(node: GraphNode): object {
  return node.device !== undefined && node.inputs.length === 0
    ? { ...node.attrs, device: node.device }
    : node.attrs;
}

/** Plans `graph` for source values of these shapes (see the file comment). */
export function planGraph(graph: Graph, sources: ReadonlyMap<string, Tensor>): ExecutionPlan {
  if (state.tracer)
    throw new WiregradError(
      'the parallel executor cannot run while a function is being traced; use graph.run',
    );
  const ex = new Expander();
  const symbolOf = new Map<string, Tensor>();
  const saved = { tracer: state.tracer, noGrad: state.noGradDepth, scopes: state.scopes };
  // Symbolic tensors hold no memory: keep them out of the caller's scopes.
  state.scopes = [];
  state.noGradDepth = 1;
  try {
    for (const node of graph.nodes) {
      ex.node = node;
      if (isSource(node)) {
        const value = sources.get(node.id)!;
        const meta = { shape: value.shape, dtype: value.dtype };
        symbolOf.set(node.id, ex.add('source', getOp(node.op), {}, meta, [], value.device));
        continue;
      }
      const inputs = node.inputs.map((id) => symbolOf.get(id)!);
      const mark = ex.steps.length;
      state.tracer = ex;
      let out: Tensor;
      try {
        out = runOp(node.op, inputs, nodeAttrs(node));
        if (!ex.stepOf.has(out)) throw new NotExpandable('the decomposition returns data');
      } catch (e) {
        state.tracer = null;
        if (!(e instanceof NotExpandable)) throw atNode(e, node);
        ex.steps.length = mark;
        const def = getOp(node.op);
        const attrs = nodeAttrs(node);
        const canonical = def.normalizeAttrs ? def.normalizeAttrs(inputs, attrs) : attrs;
        const meta = def.inferShape(inputs, canonical);
        const reads = inputs.map((t) => ex.stepOf.get(t)!);
        const device = inputs[0]?.device ?? node.device ?? state.defaultDevice;
        out = ex.add('node', def, attrs, meta, reads, device);
      } finally {
        state.tracer = null;
      }
      symbolOf.set(node.id, out);
    }
  } finally {
    state.tracer = saved.tracer;
    state.noGradDepth = saved.noGrad;
    state.scopes = saved.scopes;
  }
  const valueOf = new Map<string, number>();
  for (const [id, symbol] of symbolOf) valueOf.set(id, ex.stepOf.get(symbol)!);
  const consumers = ex.steps.map(() => new Set<number>());
  for (const step of ex.steps) for (const i of step.inputs) consumers[i]!.add(step.index);
  return { steps: ex.steps, valueOf, consumers: consumers.map((c) => [...c]) };
}

const plans = new WeakMap<Graph, Map<string, ExecutionPlan>>();

/** `planGraph`, cached per graph and source shapes (a training loop plans once). */
export function cachedPlan(graph: Graph, sources: ReadonlyMap<string, Tensor>): ExecutionPlan {
  let byShape = plans.get(graph);
  if (!byShape) plans.set(graph, (byShape = new Map()));
  const key = [...sources]
    .map(([id, t]) => `${id}:${t.dtype}:${t.device}:${t.shape.join('x')}`)
    .join('|');
  let plan = byShape.get(key);
  if (!plan) byShape.set(key, (plan = planGraph(graph, sources)));
  return plan;
}

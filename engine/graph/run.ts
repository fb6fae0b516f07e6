/**
 * Executing a graph eagerly: every node in topological order through `runOp`, the one path
 * every op takes, so a run is recorded on the autodiff tape (parameters require gradients) and,
 * inside `trace`, recorded into the outer graph. The source ops get their values here: inputs
 * from the caller (checked against the declared shapes and dtypes), parameters from the
 * graph's own values (made once from each init rule and seed) unless the caller passes them,
 * constants from the document's data. Scheduling across lanes and devices is the runtime
 * executor's job; this is the reference semantics it must match.
 */

import type { DeviceName } from '../backend/backend.js';
import { type DType, isFloat } from '../core/dtype.js';
import { GraphError, formatShape } from '../core/errors.js';
import { sizeOf } from '../core/shape.js';
import { full, rand, randn, tensor } from '../ops/creation.js';
import { runOp } from '../runtime/dispatch.js';
import { enterNode } from '../runtime/events.js';
import { keep, tidy } from '../runtime/scope.js';
import { state } from '../runtime/state.js';
import { Tensor } from '../tensor.js';
import { getOp } from '../ops/registry.js';
import type { Graph, GraphNode } from './graph.js';
import { type ConstantAttrs, type InputAttrs, type ParameterAttrs, atNode } from './ir.js';

export interface RunOptions {
  /**
   * Parameter values by node id, used instead of the graph's own (e.g. an optimiser's copies).
   * Each must have the declared shape and dtype.
   */
  readonly params?: ReadonlyMap<string, Tensor>;
  /**
   * Run mode for ops with a `training` attribute (dropout): false evaluates the model (dropout
   * is the identity), true trains; undefined keeps each node's own attribute.
   */
  readonly training?: boolean;
}

export interface InitOptions {
  /** Draw every parameter again from its init rule, replacing the current values. */
  readonly reset?: boolean;
}

/** A declared input shape for messages: -1 (the batch dimension) shows as N. */
function formatDeclared(shape: readonly number[]): string {
  return `[${shape.map((d) => (d === -1 ? 'N' : String(d))).join(', ')}]`;
}

/** Runs `fn` eagerly even inside a trace: parameter and constant values are real data. */
function outsideTrace<T>(fn: () => T): T {
  const tracer = state.tracer;
  state.tracer = null;
  try {
    return fn();
  } finally {
    state.tracer = tracer;
  }
}

// ---- parameters and constants -------------------------------------------------------------

/** PyTorch's fan-in and fan-out of a weight (torch.nn.init._calculate_fan_in_and_fan_out). */
function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) return { fanIn: shape[0] ?? 1, fanOut: shape[0] ?? 1 };
  const receptive = sizeOf(shape.slice(2));
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

/**
 * A parameter's initial value from its attributes, deterministic in its seed. The uniform
 * rules follow PyTorch's defaults: nn.Linear and nn.Conv2d use kaiming_uniform_(a=√5), whose
 * bound gain·√(3/fanIn) with gain √(2/(1+a²)) simplifies to 1/√fanIn (their biases use the
 * same bound with the weight's fanIn); xavier_uniform_ uses √(6/(fanIn+fanOut)).
 */
export function initParameter(node: GraphNode): Tensor {
  const a = node.attrs as unknown as ParameterAttrs;
  const shape = [...a.shape];
  const options = { dtype: a.dtype, ...(node.device ? { device: node.device } : {}) };
  const fan = fans(shape);
  const uniform = (bound: number): Tensor => {
    if (!Number.isFinite(bound))
      throw new GraphError(
        `cannot initialise ${formatShape(shape)} with '${a.init}': its fan-in is 0; set the ` +
          `fanIn attribute`,
        { node: node.id, op: 'parameter' },
      );
    return rand(shape, { ...options, seed: a.seed })
      .mul(2 * bound)
      .sub(bound);
  };
  const value = outsideTrace(() =>
    tidy(() => {
      switch (a.init) {
        case 'zeros':
          return full(shape, 0, options);
        case 'ones':
          return full(shape, 1, options);
        case 'constant':
          return full(shape, a.value ?? 0, options);
        case 'normal':
          return randn(shape, { ...options, seed: a.seed }).mul(a.std ?? 1);
        case 'uniform':
          return uniform(a.bound ?? 1);
        case 'kaimingUniform':
          return uniform(1 / Math.sqrt(a.fanIn ?? fan.fanIn));
        case 'xavierUniform':
          return uniform(Math.sqrt(6 / ((a.fanIn ?? fan.fanIn) + (a.fanOut ?? fan.fanOut))));
        default:
          return a.init satisfies never;
      }
    }),
  );
  value.requiresGrad = isFloat(a.dtype);
  if (node.name !== undefined) value.name = node.name;
  return keep(value);
}

/** A constant node's value, from the data in its attributes. */
export function constantValue(node: GraphNode): Tensor {
  const a = node.attrs as unknown as ConstantAttrs;
  const value = outsideTrace(() =>
    tensor(Float64Array.from(a.data), {
      shape: a.shape,
      dtype: a.dtype,
      ...(node.device ? { device: node.device } : {}),
    }),
  );
  if (node.name !== undefined) value.name = node.name;
  return keep(value);
}

/** Fills `values` with every parameter not yet made (all of them with `reset`). */
export function initParameterValues(
  graph: Graph,
  values: Map<string, Tensor>,
  options: InitOptions,
): Map<string, Tensor> {
  for (const node of graph.parameters) {
    const current = values.get(node.id);
    if (current && !current.isDisposed && !options.reset) continue;
    values.set(node.id, initParameter(node));
  }
  return new Map(values);
}

// ---- checking values against declarations ---------------------------------------------------

function checkMeta(
  node: GraphNode,
  what: string,
  t: unknown,
  shape: readonly number[],
  dtype: DType,
): Tensor {
  const site = { node: node.id, op: node.op };
  if (!(t instanceof Tensor))
    throw new GraphError(`${what} must be a Tensor, got ${t === null ? 'null' : typeof t}`, site);
  t.assertAlive(node.op);
  const fits = t.rank === shape.length && shape.every((d, i) => d === -1 || d === t.shape[i]);
  if (!fits)
    throw new GraphError(
      `${what} has shape ${formatShape(t.shape)}, but the graph declares ` +
        `${formatDeclared(shape)}` +
        (shape.includes(-1) ? ' (N is the batch size, any size)' : ''),
      site,
    );
  if (t.dtype !== dtype)
    throw new GraphError(
      `${what} has dtype ${t.dtype}, but the graph declares ${dtype}; cast it ` +
        `(x.cast('${dtype}'))`,
      site,
    );
  return t;
}

/** The name `run` knows an input by: its name when it has one, else its id. */
export function inputKey(node: GraphNode): string {
  return node.name ?? node.id;
}

/** Matches the caller's inputs to the input nodes (by name or id) and checks them. */
function bindInputs(graph: Graph, given: Readonly<Record<string, Tensor>>): Map<string, Tensor> {
  const nodes = graph.inputs;
  const byKey = new Map<string, GraphNode>();
  for (const n of nodes) {
    byKey.set(n.id, n);
    byKey.set(inputKey(n), n);
  }
  const expected = nodes.map((n) => (n.name ? `'${n.name}' (${n.id})` : `'${n.id}'`)).join(', ');
  const bound = new Map<string, Tensor>();
  for (const [key, t] of Object.entries(given)) {
    const node = byKey.get(key);
    if (!node)
      throw new GraphError(`no input named '${key}'; the graph's inputs are ${expected || 'none'}`);
    if (bound.has(node.id))
      throw new GraphError(`input '${inputKey(node)}' is given twice (by name and by id)`, {
        node: node.id,
        op: 'input',
      });
    bound.set(node.id, t);
  }
  let batch: { size: number; from: string } | null = null;
  for (const node of nodes) {
    const a = node.attrs as unknown as InputAttrs;
    const t = bound.get(node.id);
    if (t === undefined)
      throw new GraphError(
        `input '${inputKey(node)}' ${formatDeclared(a.shape)} ${a.dtype} is missing: pass ` +
          `it as inputs['${inputKey(node)}']`,
        { node: node.id, op: 'input' },
      );
    checkMeta(node, `input '${inputKey(node)}'`, t, a.shape, a.dtype);
    // Every -1 dimension, in every input, is the same batch size.
    a.shape.forEach((d, i) => {
      if (d !== -1) return;
      const size = t.shape[i]!;
      if (batch && batch.size !== size)
        throw new GraphError(
          `input '${inputKey(node)}' has batch size ${size} (dimension ${i} of ` +
            `${formatShape(t.shape)}), but ${batch.from} has ${batch.size}`,
          { node: node.id, op: 'input' },
        );
      batch ??= { size, from: `input '${inputKey(node)}'` };
    });
  }
  return bound;
}

// ---- running ------------------------------------------------------------------------------

/**
 * Evaluates every node in order: sources from `source`, ops through `runOp`. `beforeOp` runs
 * just before each op (trace uses it to keep node ids). Errors name the node.
 */
export function evaluateNodes(
  graph: Graph,
  source: (node: GraphNode) => Tensor,
  beforeOp?: (node: GraphNode) => void,
  training?: boolean,
): Map<string, Tensor> {
  const values = new Map<string, Tensor>();
  for (const node of graph.nodes) {
    if (node.op === 'input' || node.op === 'parameter' || node.op === 'constant') {
      values.set(node.id, source(node));
      continue;
    }
    const inputs = node.inputs.map((id) => values.get(id)!);
    // A pinned creation op (fill, random …) allocates on its device; others follow their inputs.
    let attrs =
      node.device !== undefined && inputs.length === 0
        ? { ...node.attrs, device: node.device satisfies DeviceName }
        : node.attrs;
    if (training !== undefined && 'training' in getOp(node.op).attrs)
      attrs = { ...attrs, training };
    beforeOp?.(node);
    // Execution events attribute the node's ops (all of a composite's parts) to its id.
    const outer = enterNode(node.id);
    try {
      values.set(node.id, runOp(node.op, inputs, attrs));
    } catch (e) {
      throw atNode(e, node);
    } finally {
      enterNode(outer);
    }
  }
  return values;
}

/**
 * Checks the caller's inputs and parameter values against the graph's declarations and
 * returns where each source node's value comes from (the parallel executor shares this).
 */
export function graphSources(
  graph: Graph,
  inputs: Readonly<Record<string, Tensor>>,
  options: RunOptions = {},
): (node: GraphNode) => Tensor {
  if (typeof inputs !== 'object' || inputs === null || inputs instanceof Tensor)
    throw new GraphError(
      `run takes its inputs as an object by input name, e.g. run({ x }), got ` +
        (inputs instanceof Tensor ? 'a Tensor' : String(inputs)),
    );
  const bound = bindInputs(graph, inputs);
  const given = options.params ?? new Map<string, Tensor>();
  for (const id of given.keys())
    if (!graph.hasNode(id) || graph.node(id).op !== 'parameter')
      throw new GraphError(`params has a value for '${id}', which is not a parameter node`);
  const own = graph.parameters.some((p) => !given.has(p.id)) ? graph.initParameters() : null;
  return (node) => {
    switch (node.op) {
      case 'input':
        return bound.get(node.id)!;
      case 'parameter': {
        const t = given.get(node.id);
        if (!t) return own!.get(node.id)!;
        const a = node.attrs as unknown as ParameterAttrs;
        return checkMeta(node, `parameter '${node.name ?? node.id}'`, t, a.shape, a.dtype);
      }
      default:
        return graph.constant(node);
    }
  };
}

export function runGraph(
  graph: Graph,
  inputs: Readonly<Record<string, Tensor>>,
  options: RunOptions = {},
): Record<string, Tensor> {
  const values = evaluateNodes(
    graph,
    graphSources(graph, inputs, options),
    undefined,
    options.training,
  );
  const out: Record<string, Tensor> = {};
  for (const o of graph.outputs) out[o.name] = values.get(o.node)!;
  return out;
}

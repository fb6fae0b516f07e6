/**
 * `trace(fn, exampleInputs)` turns a TypeScript function of tensors into a Graph. While it
 * runs, the dispatcher hands every op to a `GraphTracer` (the `Tracer` of runtime/state.ts)
 * instead of a kernel: the arguments are symbolic tensors (a shape, a dtype, no storage) bound
 * to `input` nodes, and each op appends a node and returns a new symbolic tensor. Concrete
 * tensors the function meets (closure-captured weights, `tensor([...])` made inside it) become
 * `parameter` nodes when they require gradients, keeping the tensor itself as the graph's
 * value, and `constant` nodes (with their data) otherwise. The autodiff tape works on symbolic
 * tensors too, so `backward`, `gradients` and `grad` inside a traced function put the
 * backward pass into the graph as ordinary nodes. A traced function must not read values.
 */

import type { DeviceName } from '../backend/backend.js';
import type { DType } from '../core/dtype.js';
import { GraphError, formatShape } from '../core/errors.js';
import { hash32 } from '../core/random.js';
import { getOp, type OpDef, type TensorMeta } from '../ops/registry.js';
import { state, type Tracer } from '../runtime/state.js';
import { Tensor } from '../tensor.js';
import { Graph, encodeAttrs, parseAttrs } from './graph.js';
import {
  type AttrValueJSON,
  type InputRole,
  type NodeJSON,
  type ParameterAttrs,
  GRAPH_FORMAT,
  GRAPH_VERSION,
  isSourceOp,
} from './ir.js';

/** An example input given by shape alone; -1 marks the batch dimension. */
export interface TraceInputSpec {
  readonly shape: readonly number[];
  /** Default f32. */
  readonly dtype?: DType;
  /** The input's name (what `graph.run` is given it by). */
  readonly name?: string;
  /** Default 'data'. */
  readonly role?: InputRole;
  /** Whether the traced function may differentiate with respect to this input. */
  readonly requiresGrad?: boolean;
  readonly device?: DeviceName;
}

export interface TraceOptions {
  /** The graph's name (default: the function's name, when it has one). */
  readonly name?: string;
  /** Input names, by position (default: the example tensor's `name`, else the node id). */
  readonly inputNames?: readonly string[];
  /**
   * The size -1 dimensions take while tracing (default 1). Ops that read a size at trace
   * time (a mean's divisor, a reshape's target) bake it in; `symbolicShapes` shows which
   * dimensions still follow the batch.
   */
  readonly batch?: number;
  /** Drop nodes no output depends on (default true); inputs are always kept. */
  readonly prune?: boolean;
  /** Host data to keep with the graph. */
  readonly meta?: Readonly<Record<string, unknown>>;
}

/** What a traced function may return: its outputs are named `output`, `output_<i>` or the keys. */
export type TracedOutputs = Tensor | readonly Tensor[] | Readonly<Record<string, Tensor>>;

/** Fields the next recorded node takes (differentiate keeps the forward nodes' ids so). */
export interface NodeHint {
  readonly id: string;
  readonly name?: string;
  readonly device?: 'cpu' | 'webgpu';
  readonly group?: string;
}

type MutableNode = { -readonly [K in keyof NodeJSON]: NodeJSON[K] };

export interface FinishOptions {
  readonly name?: string;
  readonly meta?: Readonly<Record<string, unknown>>;
  readonly prune?: boolean;
  /** Which source nodes survive pruning even when no output needs them. */
  readonly keep?: 'inputs' | 'sources';
}

/** A stable seed derived from a node id, for re-initialising traced parameters. */
function seedFor(id: string): number {
  let h = 0x2545f491;
  for (let i = 0; i < id.length; i++) h = hash32((h ^ id.charCodeAt(i)) >>> 0);
  return h;
}

/**
 * Init attributes for a captured weight. Its values stay in the graph's parameter map; the
 * attributes describe a statistically similar re-initialisation, so a saved file can be
 * retrained from scratch: constants stay constants, anything else becomes a normal draw with
 * the same root-mean-square.
 */
function describeInit(t: Tensor): Pick<ParameterAttrs, 'init' | 'std' | 'value'> {
  let values: ArrayLike<number>;
  try {
    values = t.dataSync();
  } catch {
    return { init: 'zeros' }; // a device without synchronous reads: the values are still kept
  }
  if (values.length === 0) return { init: 'zeros' };
  const first = values[0]!;
  let same = true;
  let squares = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v !== first) same = false;
    squares += v * v;
  }
  if (same)
    return first === 0
      ? { init: 'zeros' }
      : first === 1
        ? { init: 'ones' }
        : { init: 'constant', value: first };
  return { init: 'normal', std: Math.sqrt(squares / values.length) };
}

/** Records ops into graph nodes; see the file comment. */
export class GraphTracer implements Tracer {
  private readonly nodes: MutableNode[] = [];
  private readonly used = new Set<string>();
  private readonly counters = new Map<string, number>();
  private readonly nodeOf = new Map<Tensor, string>();
  private readonly symbols: [string, Tensor][] = [];
  /** Captured weights, by parameter node id. */
  private readonly params = new Map<string, Tensor>();
  /** The `grad` each captured weight had, restored afterwards (backward inside fn sets it). */
  private readonly grads = new Map<Tensor, Tensor | null>();
  /** Taken by the next recorded node. */
  hint: NodeHint | null = null;

  record(def: OpDef, inputs: readonly Tensor[], attrs: object, meta: TensorMeta): Tensor {
    const ids = inputs.map((t) => this.nodeFor(t));
    const hint = this.hint;
    this.hint = null;
    const id = this.newId(def.name, hint?.id);
    // `device` tells a creation op where to allocate; in the graph it is the node's device.
    let pinned: DeviceName | undefined;
    const raw: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(attrs)) {
      if (key === 'device' && !('device' in def.attrs)) pinned = value as DeviceName;
      else raw[key] = value;
    }
    const decoded = parseAttrs(def, raw, id, false);
    const device = pinned ?? inputs[0]?.device ?? state.defaultDevice;
    const nodeDevice =
      hint?.device ?? (pinned !== undefined && pinned !== state.defaultDevice ? pinned : undefined);
    this.push({
      id,
      op: def.name,
      inputs: ids,
      attrs: encodeAttrs(def, decoded),
      ...(hint?.name !== undefined ? { name: hint.name } : {}),
      ...(nodeDevice !== undefined ? { device: nodeDevice } : {}),
      ...(hint?.group !== undefined ? { group: hint.group } : {}),
    });
    return this.symbol(id, meta, device);
  }

  /** A new `input` node and the symbolic tensor that stands for it. */
  addInput(
    declared: readonly number[],
    batch: number,
    dtype: DType,
    options: { name?: string; role?: InputRole; requiresGrad?: boolean; device?: DeviceName },
  ): Tensor {
    const id = this.newId('input');
    const attrs = { shape: [...declared], dtype, role: options.role ?? 'data' };
    const node: MutableNode = { id, op: 'input', inputs: [], attrs };
    if (options.name !== undefined) node.name = options.name;
    const meta = { shape: declared.map((d) => (d === -1 ? batch : d)), dtype };
    return this.pushSource(node, meta, options.requiresGrad ?? false, options.device);
  }

  /** Appends a source node as given (its id must be free) and returns its symbolic tensor. */
  addSource(
    node: NodeJSON,
    meta: TensorMeta,
    requiresGrad: boolean,
    device: DeviceName = node.device ?? state.defaultDevice,
  ): Tensor {
    if (!isSourceOp(node.op)) throw new GraphError(`is not a source node`, { node: node.id });
    // Check the attributes as a document would be checked, so a bad source fails here.
    getOp(node.op).inferShape([], parseAttrs(getOp(node.op), node.attrs, node.id, true));
    this.newId(node.op, node.id);
    return this.pushSource({ ...node, inputs: [] }, meta, requiresGrad, device);
  }

  private pushSource(
    node: MutableNode,
    meta: TensorMeta,
    requiresGrad: boolean,
    device: DeviceName = node.device ?? state.defaultDevice,
  ): Tensor {
    this.push(node);
    const t = this.symbol(node.id, meta, device);
    t.requiresGrad = requiresGrad;
    return t;
  }

  /** Builds the graph whose outputs are `outputs` (name, tensor). */
  finish(outputs: readonly (readonly [string, Tensor])[], options: FinishOptions = {}): Graph {
    const named = outputs.map(([name, t]) => ({ name, node: this.nodeFor(t) }));
    const byId = new Map(this.nodes.map((n) => [n.id, n]));
    for (const [id, t] of this.symbols) {
      const node = byId.get(id)!;
      if (t.name !== undefined && node.name === undefined) node.name = t.name;
    }
    let nodes = this.nodes;
    if (options.prune ?? true) {
      const keepSource = (n: MutableNode): boolean =>
        n.op === 'input' || (options.keep === 'sources' && isSourceOp(n.op));
      const live = new Set<string>(named.map((o) => o.node));
      for (const n of this.nodes) if (keepSource(n)) live.add(n.id);
      // Nodes come in recording order (inputs first), so one backward sweep finds them all.
      for (let i = this.nodes.length - 1; i >= 0; i--) {
        const n = this.nodes[i]!;
        if (live.has(n.id)) for (const input of n.inputs) live.add(input);
      }
      nodes = this.nodes.filter((n) => live.has(n.id));
    }
    const graph = Graph.fromJSON({
      format: GRAPH_FORMAT,
      version: GRAPH_VERSION,
      ...(options.name !== undefined ? { name: options.name } : {}),
      nodes,
      outputs: named,
      ...(options.meta !== undefined ? { meta: options.meta } : {}),
    });
    graph.adoptParameters(new Map([...this.params].filter(([id]) => graph.hasNode(id))));
    return graph;
  }

  /**
   * Records a concrete tensor that the traced code keeps as state (batch norm's running
   * statistics) as a `parameter` node with `trainable: false`, as graph documents hold state,
   * instead of the `constant` it would become when first read. The tensor stays the node's value
   * (the graph's parameter map). Does nothing for a tensor the trace already knows.
   */
  captureState(t: Tensor): void {
    if (this.nodeOf.has(t)) return;
    t.assertAlive('trace');
    const id = this.newId('parameter');
    const def = getOp('parameter');
    const decoded = {
      shape: [...t.shape],
      dtype: t.dtype,
      ...describeInit(t),
      seed: seedFor(id),
      trainable: false,
    };
    const node: MutableNode = { id, op: 'parameter', inputs: [], attrs: encodeAttrs(def, decoded) };
    if (t.name !== undefined) node.name = t.name;
    if (t.device !== state.defaultDevice) node.device = t.device;
    this.params.set(id, t);
    this.push(node);
    this.nodeOf.set(t, id);
  }

  /** Gives captured weights back the `grad` they had before the trace. */
  restoreGrads(): void {
    for (const [t, g] of this.grads) if (t.grad !== g) t.grad = g && !g.isDisposed ? g : null;
  }

  private push(node: MutableNode): void {
    this.nodes.push(node);
  }

  /** `preferred` when given (it must be free), else the first free `${op}_${n}`. */
  private newId(op: string, preferred?: string): string {
    if (preferred !== undefined) {
      if (this.used.has(preferred))
        throw new GraphError(`node id '${preferred}' is used twice while tracing`, {
          node: preferred,
          op,
        });
      this.used.add(preferred);
      return preferred;
    }
    let n = this.counters.get(op) ?? 0;
    let id: string;
    do id = `${op}_${++n}`;
    while (this.used.has(id));
    this.counters.set(op, n);
    this.used.add(id);
    return id;
  }

  private symbol(id: string, meta: TensorMeta, device: DeviceName): Tensor {
    const t = new Tensor(meta.shape, meta.dtype, null, device);
    t.traceNode = id;
    this.nodeOf.set(t, id);
    this.symbols.push([id, t]);
    return t;
  }

  /** The node a tensor stands for; concrete tensors become parameter or constant nodes. */
  private nodeFor(t: Tensor): string {
    const known = this.nodeOf.get(t);
    if (known !== undefined) return known;
    t.assertAlive('trace');
    if (t.isSymbolic)
      throw new GraphError(
        `tensor #${t.id} ${formatShape(t.shape)} stands for node '${String(t.traceNode)}' of ` +
          `another trace; a traced function may use its arguments, what it computes from ` +
          `them, and concrete tensors`,
      );
    const op = t.requiresGrad ? 'parameter' : 'constant';
    const id = this.newId(op);
    const def = getOp(op);
    let attrs: Record<string, AttrValueJSON>;
    if (t.requiresGrad) {
      const decoded = {
        shape: [...t.shape],
        dtype: t.dtype,
        ...describeInit(t),
        seed: seedFor(id),
      };
      attrs = encodeAttrs(def, decoded);
      this.params.set(id, t);
      this.grads.set(t, t.grad);
    } else {
      let data: ArrayLike<number>;
      try {
        data = t.dataSync();
      } catch (e) {
        throw new GraphError(
          `a constant captured while tracing lives on '${t.device}', which cannot be read ` +
            `synchronously; create it on the CPU or pass it as an input (${String(e)})`,
          { node: id, op },
        );
      }
      attrs = encodeAttrs(def, { shape: [...t.shape], dtype: t.dtype, data: Array.from(data) });
    }
    const node: MutableNode = { id, op, inputs: [], attrs };
    if (t.name !== undefined) node.name = t.name;
    if (t.device !== state.defaultDevice) node.device = t.device;
    this.push(node);
    this.nodeOf.set(t, id);
    return id;
  }
}

/** Runs `fn` with `tracer` recording every op, restoring the previous tracer (also on error). */
export function withTracer<T>(tracer: GraphTracer, fn: () => T): T {
  const previous = state.tracer;
  state.tracer = tracer;
  try {
    return fn();
  } finally {
    state.tracer = previous;
    tracer.restoreGrads();
  }
}

function namedOutputs(result: unknown): [string, Tensor][] {
  const fail = (what: string): never => {
    throw new GraphError(
      `the traced function returned ${what}; return a tensor, an array of tensors or an ` +
        `object of tensors`,
    );
  };
  if (result instanceof Tensor) return [['output', result]];
  if (result instanceof Promise) return fail('a Promise (async functions cannot be traced)');
  if (Array.isArray(result))
    return result.map((t, i) =>
      t instanceof Tensor
        ? [`output_${i}`, t]
        : fail(`an array whose element ${i} is not a tensor`),
    );
  if (typeof result === 'object' && result !== null)
    return Object.entries(result).map(([k, t]) =>
      t instanceof Tensor ? [k, t] : fail(`an object whose '${k}' is not a tensor`),
    );
  return fail(result === undefined ? 'nothing' : typeof result);
}

/**
 * Traces `fn` called on symbolic versions of `exampleInputs` (tensors, whose shape, dtype,
 * name and requiresGrad are used, or shape specs with -1 for the batch dimension) into a Graph.
 */
export function trace(
  fn: (...xs: Tensor[]) => TracedOutputs,
  exampleInputs: readonly (Tensor | TraceInputSpec)[],
  options: TraceOptions = {},
): Graph {
  const batch = options.batch ?? 1;
  if (!Number.isInteger(batch) || batch < 0)
    throw new GraphError(`trace: batch must be an integer >= 0, got ${batch}`);
  const tracer = new GraphTracer();
  return withTracer(tracer, () => {
    const args = exampleInputs.map((ex, i) => {
      const name = options.inputNames?.[i] ?? ex.name;
      if (ex instanceof Tensor) {
        ex.assertAlive('trace');
        return tracer.addInput(ex.shape, batch, ex.dtype, {
          ...(name !== undefined ? { name } : {}),
          requiresGrad: ex.requiresGrad,
          device: ex.device,
        });
      }
      if (ex.shape.some((d) => !Number.isInteger(d) || d < -1))
        throw new GraphError(
          `trace: example input ${i} has shape ${formatShape(ex.shape)}; dimensions must be ` +
            `integers >= 0, or -1 for the batch`,
        );
      return tracer.addInput(ex.shape, batch, ex.dtype ?? 'f32', {
        ...(name !== undefined ? { name } : {}),
        ...(ex.role !== undefined ? { role: ex.role } : {}),
        ...(ex.requiresGrad !== undefined ? { requiresGrad: ex.requiresGrad } : {}),
        ...(ex.device !== undefined ? { device: ex.device } : {}),
      });
    });
    const outputs = namedOutputs(fn(...args));
    const name = options.name ?? (fn.name !== '' ? fn.name : undefined);
    return tracer.finish(outputs, {
      ...(name !== undefined ? { name } : {}),
      ...(options.meta !== undefined ? { meta: options.meta } : {}),
      prune: options.prune ?? true,
    });
  });
}

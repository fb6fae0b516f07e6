/**
 * The in-memory graph: nodes in topological order, with their attributes decoded and checked
 * against the op registry. `Graph.fromJSON` is the only way in from outside data and validates
 * everything structural (format and version, ops, attributes, arity, edges, cycles, outputs),
 * throwing a GraphError that names the node. Shapes are not part of that: a canvas document
 * may be mid-edit, so `inferShapes` (throwing) and `check` (collecting diagnostics for the
 * canvas) run every op's shape rule without data. `toJSON` gives back the document exactly.
 * Running lives in run.ts; the graph only holds the parameter and constant values it owns.
 */

import { type DType, DTYPES, isDType } from '../core/dtype.js';
import { GraphError, type WiregradError } from '../core/errors.js';
import { type AttrKind, type OpDef, type TensorMeta, getOp, hasOp } from '../ops/registry.js';
import type { Tensor } from '../tensor.js';
import {
  type AttrValue,
  type AttrValueJSON,
  type GraphJSON,
  type NodeJSON,
  type NonFiniteToken,
  type OutputJSON,
  GRAPH_FORMAT,
  GRAPH_VERSION,
  atNode,
  sourceAttrProblem,
} from './ir.js';
import {
  type InitOptions,
  type RunOptions,
  initParameterValues,
  constantValue,
  runGraph,
} from './run.js';

/** A node in memory: a `NodeJSON` whose attributes are decoded (non-finite numbers restored). */
export interface GraphNode {
  readonly id: string;
  readonly op: string;
  readonly inputs: readonly string[];
  readonly attrs: Readonly<Record<string, AttrValue>>;
  readonly name?: string;
  readonly device?: 'cpu' | 'webgpu';
  readonly group?: string;
}

/** A problem found on a node, for the canvas to show on that node and its incoming edges. */
export interface Diagnostic {
  readonly node: string;
  readonly message: string;
}

export interface ShapeOptions {
  /** The size that -1 (batch) dimensions of inputs take (default 1). */
  readonly batch?: number;
}

/** A shape for display: dimensions that follow the batch size are 'N'. */
export interface SymbolicMeta {
  readonly shape: readonly (number | 'N')[];
  readonly dtype: DType;
}

// ---- migrations ---------------------------------------------------------------------------

type Migration = (doc: Record<string, unknown>) => Record<string, unknown>;
const migrations = new Map<number, Migration>();

/**
 * Registers how to turn a document of version `from` into one of version `from + 1`. When the
 * format changes, bump GRAPH_VERSION and register the step here, so old files keep opening.
 */
export function registerGraphMigration(from: number, migrate: Migration): void {
  migrations.set(from, migrate);
}

function migrate(doc: Record<string, unknown>): Record<string, unknown> {
  const version = doc.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0)
    throw new GraphError(
      `the document's version must be a non-negative integer, got ${show(version)}`,
    );
  if (version > GRAPH_VERSION)
    throw new GraphError(
      `this graph was written by a newer Wiregrad (format version ${version}; this version ` +
        `reads up to ${GRAPH_VERSION}): update Wiregrad to open it`,
    );
  let current = doc;
  for (let v = version; v < GRAPH_VERSION; v++) {
    const step = migrations.get(v);
    if (!step)
      throw new GraphError(
        `no migration from graph format version ${v} to ${v + 1}; this file is too old ` +
          `for this version of Wiregrad`,
      );
    current = { ...step(current), version: v + 1 };
  }
  return current;
}

// ---- attributes ---------------------------------------------------------------------------

const TOKENS: Readonly<Record<NonFiniteToken, number>> = {
  Infinity: Infinity,
  '-Infinity': -Infinity,
  NaN: NaN,
};

function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  const text = typeof value === 'string' ? `'${value}'` : (JSON.stringify(value) ?? String(value));
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function describeKind(kind: AttrKind): string {
  switch (kind) {
    case 'int':
      return 'an integer';
    case 'ints':
      return 'a list of integers';
    case 'float':
      return 'a number';
    case 'floats':
      return 'a list of numbers';
    case 'bool':
      return 'true or false';
    case 'dtype':
      return `a dtype (${DTYPES.join(', ')})`;
    case 'string':
      return 'a string';
    case 'intOrInts':
      return 'an integer or a list of integers';
    default:
      return kind satisfies never;
  }
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** A list as a plain array: typed arrays (from ops in memory) become arrays too. */
function asList(v: unknown): readonly unknown[] | null {
  if (Array.isArray(v)) return v;
  if (ArrayBuffer.isView(v) && !(v instanceof DataView)) return Array.from(v as Float64Array);
  return null;
}

/** One float; in documents, non-finite values arrive as tokens. Undefined when not a float. */
function decodeFloat(v: unknown, fromJSON: boolean): number | undefined {
  if (typeof v === 'number') return v;
  if (fromJSON && typeof v === 'string' && v in TOKENS) return TOKENS[v as NonFiniteToken];
  return undefined;
}

/** Decodes one attribute value of `kind`; undefined when the value is not of that kind. */
function decodeAttr(kind: AttrKind, v: unknown, fromJSON: boolean): AttrValue | undefined {
  switch (kind) {
    case 'int':
      return isInt(v) ? v : undefined;
    case 'ints': {
      const list = asList(v);
      return list && list.every(isInt) ? (list as number[]).slice() : undefined;
    }
    case 'float':
      return decodeFloat(v, fromJSON);
    case 'floats': {
      const list = asList(v);
      if (!list) return undefined;
      const out = list.map((x) => decodeFloat(x, fromJSON));
      return out.every((x) => x !== undefined) ? (out as number[]) : undefined;
    }
    case 'bool':
      return typeof v === 'boolean' ? v : undefined;
    case 'dtype':
      return isDType(v) ? v : undefined;
    case 'string':
      return typeof v === 'string' ? v : undefined;
    case 'intOrInts':
      return isInt(v) ? v : decodeAttr('ints', v, fromJSON);
    default:
      return kind satisfies never;
  }
}

function encodeFloat(x: number): number | NonFiniteToken {
  if (Number.isFinite(x)) return x;
  return Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity';
}

/** Encodes decoded attributes for a document (non-finite floats become tokens). */
export function encodeAttrs(
  def: OpDef,
  attrs: Readonly<Record<string, AttrValue>>,
): Record<string, AttrValueJSON> {
  const out: Record<string, AttrValueJSON> = {};
  for (const [key, value] of Object.entries(attrs)) {
    const kind = def.attrs[key]?.kind;
    if (kind === 'float' && typeof value === 'number') out[key] = encodeFloat(value);
    else if (kind === 'floats' && Array.isArray(value))
      out[key] = (value as number[]).map(encodeFloat);
    else out[key] = Array.isArray(value) ? [...(value as number[])] : value;
  }
  return out;
}

/**
 * Checks `raw` attributes against `def`'s spec (no unknown ones, none missing, each of its
 * kind) and returns them decoded. `fromJSON` accepts the document spelling of non-finite floats.
 * Attributes whose value is undefined count as absent.
 */
export function parseAttrs(
  def: OpDef,
  raw: unknown,
  node: string,
  fromJSON: boolean,
): Record<string, AttrValue> {
  const site = { node, op: def.name };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw new GraphError(`attrs must be an object, got ${show(raw)}`, site);
  const known = Object.keys(def.attrs);
  const out: Record<string, AttrValue> = {};
  for (const [key, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    const spec = def.attrs[key];
    if (!spec)
      throw new GraphError(
        `unknown attribute '${key}'; op '${def.name}' takes ` +
          (known.length > 0 ? known.map((k) => `'${k}'`).join(', ') : 'no attributes'),
        site,
      );
    const decoded = decodeAttr(spec.kind, value, fromJSON);
    if (decoded === undefined)
      throw new GraphError(
        `attribute '${key}' must be ${describeKind(spec.kind)}, got ${show(value)}`,
        site,
      );
    out[key] = decoded;
  }
  for (const [key, spec] of Object.entries(def.attrs))
    if (!spec.optional && !(key in out))
      throw new GraphError(
        `missing attribute '${key}' (${describeKind(spec.kind)})` +
          (spec.doc ? `: ${spec.doc}` : ''),
        site,
      );
  const problem = sourceAttrProblem(def.name, out);
  if (problem) throw new GraphError(problem, site);
  return out;
}

// ---- reading documents --------------------------------------------------------------------

const NODE_FIELDS = ['id', 'op', 'inputs', 'attrs', 'name', 'device', 'group'];
const GRAPH_FIELDS = ['format', 'version', 'name', 'nodes', 'outputs', 'meta'];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

function readNode(raw: unknown, index: number): GraphNode {
  if (!isRecord(raw)) throw new GraphError(`nodes[${index}] must be an object, got ${kindOf(raw)}`);
  const id = raw.id;
  if (typeof id !== 'string' || id === '')
    throw new GraphError(`nodes[${index}] needs an id (a non-empty string), got ${show(id)}`);
  for (const key of Object.keys(raw))
    if (!NODE_FIELDS.includes(key))
      throw new GraphError(
        `unknown field '${key}'; a node has ${NODE_FIELDS.map((f) => `'${f}'`).join(', ')}`,
        { node: id },
      );
  const op = raw.op;
  if (typeof op !== 'string')
    throw new GraphError(`op must be a string, got ${show(op)}`, { node: id });
  if (!hasOp(op))
    throw new GraphError(
      `unknown op '${op}': check its spelling, or load the module that defines it`,
      { node: id, op },
    );
  const def = getOp(op);
  const inputs = raw.inputs;
  if (!Array.isArray(inputs) || !inputs.every((i): i is string => typeof i === 'string'))
    throw new GraphError(`inputs must be a list of node ids, got ${show(inputs)}`, {
      node: id,
      op,
    });
  if (typeof def.arity === 'number' && inputs.length !== def.arity)
    throw new GraphError(
      `takes ${def.arity} input${def.arity === 1 ? '' : 's'}, but ${inputs.length} ` +
        `${inputs.length === 1 ? 'is' : 'are'} connected`,
      { node: id, op },
    );
  if (!('attrs' in raw))
    throw new GraphError(`missing field 'attrs' (use {} for none)`, { node: id, op });
  const attrs = parseAttrs(def, raw.attrs, id, true);
  const node: { -readonly [K in keyof GraphNode]: GraphNode[K] } = {
    id,
    op,
    inputs: [...inputs],
    attrs,
  };
  for (const field of ['name', 'group'] as const) {
    const v = raw[field];
    if (v === undefined) continue;
    if (typeof v !== 'string')
      throw new GraphError(`${field} must be a string, got ${show(v)}`, { node: id, op });
    node[field] = v;
  }
  if (raw.device !== undefined) {
    if (raw.device !== 'cpu' && raw.device !== 'webgpu')
      throw new GraphError(`device must be 'cpu' or 'webgpu', got ${show(raw.device)}`, {
        node: id,
        op,
      });
    node.device = raw.device;
  }
  return node;
}

/**
 * Nodes in an order where every node follows its inputs: a depth-first post-order that keeps
 * the given order when it already is one (so documents round-trip unchanged). Iterative, so
 * deep graphs cannot overflow the stack; a node met again while on the path closes a cycle.
 */
function topoSort(nodes: readonly GraphNode[], byId: ReadonlyMap<string, GraphNode>): GraphNode[] {
  const order: GraphNode[] = [];
  const state = new Map<string, 'open' | 'done'>();
  for (const start of nodes) {
    if (state.has(start.id)) continue;
    const stack: [GraphNode, number][] = [[start, 0]];
    state.set(start.id, 'open');
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [node, i] = top;
      if (i < node.inputs.length) {
        top[1] = i + 1;
        const child = byId.get(node.inputs[i]!)!;
        const seen = state.get(child.id);
        if (seen === 'open') {
          const path = stack.map(([n]) => n.id);
          const cycle = [...path.slice(path.indexOf(child.id)), child.id];
          throw new GraphError(`the graph has a cycle: ${cycle.join(' -> ')}`, {
            node: child.id,
            op: child.op,
          });
        }
        if (!seen) {
          state.set(child.id, 'open');
          stack.push([child, 0]);
        }
      } else {
        stack.pop();
        state.set(node.id, 'done');
        order.push(node);
      }
    }
  }
  return order;
}

function readOutputs(raw: unknown, byId: ReadonlyMap<string, GraphNode>): OutputJSON[] {
  if (!Array.isArray(raw)) throw new GraphError(`'outputs' must be an array, got ${kindOf(raw)}`);
  const names = new Set<string>();
  return raw.map((o, i) => {
    if (!isRecord(o) || typeof o.name !== 'string' || typeof o.node !== 'string')
      throw new GraphError(`outputs[${i}] must be {name, node} with two strings, got ${show(o)}`);
    for (const key of Object.keys(o))
      if (key !== 'name' && key !== 'node')
        throw new GraphError(`outputs[${i}] has an unknown field '${key}'`);
    if (!byId.has(o.node))
      throw new GraphError(`output '${o.name}' refers to node '${o.node}', which does not exist`);
    if (names.has(o.name)) throw new GraphError(`two outputs are named '${o.name}'`);
    names.add(o.name);
    return { name: o.name, node: o.node };
  });
}

// ---- the graph ----------------------------------------------------------------------------

export class Graph {
  /** A display name (the model's). */
  readonly name: string | undefined;
  /** Every node, each after its inputs. */
  readonly nodes: readonly GraphNode[];
  /** What `run` returns, by name. */
  readonly outputs: readonly OutputJSON[];
  /** Host data kept with the graph (canvas layout …), opaque to the engine. */
  readonly meta: Readonly<Record<string, unknown>> | undefined;
  private readonly byId: ReadonlyMap<string, GraphNode>;
  /** Parameter values, made once (or adopted from a trace) and reused by every run. */
  private readonly paramValues = new Map<string, Tensor>();
  private readonly constantValues = new Map<string, Tensor>();

  private constructor(
    name: string | undefined,
    nodes: readonly GraphNode[],
    outputs: readonly OutputJSON[],
    meta: Readonly<Record<string, unknown>> | undefined,
  ) {
    this.name = name;
    this.nodes = nodes;
    this.outputs = outputs;
    this.meta = meta;
    this.byId = new Map(nodes.map((n) => [n.id, n]));
  }

  /** Reads and validates a graph document (parsed JSON), migrating older versions. */
  static fromJSON(json: unknown): Graph {
    if (!isRecord(json))
      throw new GraphError(`a graph document must be a JSON object, got ${kindOf(json)}`);
    if (json.format !== GRAPH_FORMAT)
      throw new GraphError(
        `not a Wiregrad graph document: format is ${show(json.format)}, expected ` +
          `'${GRAPH_FORMAT}'`,
      );
    const doc = migrate(json);
    for (const key of Object.keys(doc))
      if (!GRAPH_FIELDS.includes(key))
        throw new GraphError(
          `unknown top-level field '${key}'; a graph has ` +
            GRAPH_FIELDS.map((f) => `'${f}'`).join(', '),
        );
    if (doc.name !== undefined && typeof doc.name !== 'string')
      throw new GraphError(`'name' must be a string, got ${show(doc.name)}`);
    if (doc.meta !== undefined && !isRecord(doc.meta))
      throw new GraphError(`'meta' must be an object, got ${kindOf(doc.meta)}`);
    if (!Array.isArray(doc.nodes))
      throw new GraphError(`'nodes' must be an array, got ${kindOf(doc.nodes)}`);

    const nodes = doc.nodes.map(readNode);
    const byId = new Map<string, GraphNode>();
    nodes.forEach((n, i) => {
      if (byId.has(n.id))
        throw new GraphError(
          `duplicate node id: nodes[${nodes.findIndex((m) => m.id === n.id)}] and nodes[${i}] ` +
            `are both '${n.id}'; give each node its own id`,
          { node: n.id, op: n.op },
        );
      byId.set(n.id, n);
    });
    for (const n of nodes)
      n.inputs.forEach((input, i) => {
        if (!byId.has(input))
          throw new GraphError(
            `input ${i} refers to node '${input}', which does not exist (a dangling edge)`,
            { node: n.id, op: n.op },
          );
      });
    const ordered = topoSort(nodes, byId);
    const outputs = readOutputs(doc.outputs, byId);
    const meta = doc.meta === undefined ? undefined : structuredClone(doc.meta);
    return new Graph(doc.name as string | undefined, ordered, outputs, meta);
  }

  /** The document: `Graph.fromJSON(g.toJSON())` gives the same graph, and the JSON back. */
  toJSON(): GraphJSON {
    return {
      format: GRAPH_FORMAT,
      version: GRAPH_VERSION,
      ...(this.name !== undefined ? { name: this.name } : {}),
      nodes: this.nodes.map(nodeToJSON),
      outputs: this.outputs.map((o) => ({ name: o.name, node: o.node })),
      ...(this.meta !== undefined ? { meta: structuredClone(this.meta) } : {}),
    };
  }

  /** The `input` nodes: what `run` must be given, by name (or id). */
  get inputs(): GraphNode[] {
    return this.nodes.filter((n) => n.op === 'input');
  }

  /** The `parameter` nodes: the trainable tensors. */
  get parameters(): GraphNode[] {
    return this.nodes.filter((n) => n.op === 'parameter');
  }

  hasNode(id: string): boolean {
    return this.byId.has(id);
  }

  /** The node with this id; throws a GraphError when there is none. */
  node(id: string): GraphNode {
    const node = this.byId.get(id);
    if (!node) throw new GraphError(`no node '${id}' in this graph`);
    return node;
  }

  /**
   * Shape and dtype of every node, inferred without data. Throws the first problem, as the
   * op's own error class, naming the node and op.
   */
  inferShapes(options: ShapeOptions = {}): Map<string, TensorMeta> {
    return this.infer(options.batch ?? 1, (_node, error) => {
      throw error;
    });
  }

  /** Throws when some node's shapes or dtypes do not fit (see `inferShapes`). */
  validate(options: ShapeOptions = {}): void {
    this.inferShapes(options);
  }

  /**
   * Every shape problem, without throwing: one diagnostic per failing node. Nodes downstream
   * of a failure are skipped (their inputs have no shape), so one bad edge shows once.
   */
  check(options: ShapeOptions = {}): Diagnostic[] {
    const found: Diagnostic[] = [];
    this.infer(options.batch ?? 1, (node, error) =>
      found.push({ node: node.id, message: error.message }),
    );
    return found;
  }

  /**
   * Shapes for display, with dimensions that follow the batch size shown as 'N'. Inference
   * runs at two batch sizes (2 and 3, not 1, which broadcasting would hide) and compares.
   */
  symbolicShapes(): Map<string, SymbolicMeta> {
    const a = this.inferShapes({ batch: 2 });
    const b = this.inferShapes({ batch: 3 });
    const out = new Map<string, SymbolicMeta>();
    for (const [id, meta] of a) {
      const other = b.get(id)!;
      const shape =
        meta.shape.length === other.shape.length
          ? meta.shape.map((d, i) => (d === other.shape[i] ? d : ('N' as const)))
          : meta.shape.map(() => 'N' as const);
      out.set(id, { shape, dtype: meta.dtype });
    }
    return out;
  }

  private infer(
    batch: number,
    onError: (node: GraphNode, error: WiregradError) => void,
  ): Map<string, TensorMeta> {
    if (!Number.isInteger(batch) || batch < 0)
      throw new GraphError(`batch must be an integer >= 0, got ${batch}`);
    const metas = new Map<string, TensorMeta>();
    for (const node of this.nodes) {
      const inputs = node.inputs.map((id) => metas.get(id));
      if (inputs.some((m) => m === undefined)) continue;
      const def = getOp(node.op);
      const attrs = node.op === 'input' ? { ...node.attrs, batch } : node.attrs;
      try {
        metas.set(node.id, def.inferShape(inputs as TensorMeta[], attrs));
      } catch (e) {
        onError(node, atNode(e, node));
      }
    }
    return metas;
  }

  // ---- values ----------------------------------------------------------------------------

  /**
   * Runs the graph eagerly: every node through `runOp`, so autodiff works through it (the
   * parameters require gradients). Returns the outputs by name; intermediate values belong to
   * the caller's scope (wrap in `tidy` and return what you need).
   */
  run(inputs: Readonly<Record<string, Tensor>>, options: RunOptions = {}): Record<string, Tensor> {
    return runGraph(this, inputs, options);
  }

  /**
   * The parameter values, by node id: made once per graph from each node's init rule and seed
   * (deterministic), kept out of any `tidy` scope, and reused by every run. A traced graph
   * starts with the traced tensors themselves. `{ reset: true }` draws them again.
   */
  initParameters(options: InitOptions = {}): Map<string, Tensor> {
    return initParameterValues(this, this.paramValues, options);
  }

  /** @internal The value of a constant node, made once and kept. */
  constant(node: GraphNode): Tensor {
    let value = this.constantValues.get(node.id);
    if (!value || value.isDisposed) {
      value = constantValue(node);
      this.constantValues.set(node.id, value);
    }
    return value;
  }

  /** @internal Uses these tensors as parameter values (a trace's captured weights). */
  adoptParameters(values: ReadonlyMap<string, Tensor>): void {
    for (const [id, t] of values) {
      if (this.node(id).op !== 'parameter')
        throw new GraphError(`is not a parameter`, { node: id });
      this.paramValues.set(id, t);
    }
  }
}

/** A node as document data. */
export function nodeToJSON(n: GraphNode): NodeJSON {
  return {
    id: n.id,
    op: n.op,
    inputs: [...n.inputs],
    attrs: encodeAttrs(getOp(n.op), n.attrs),
    ...(n.name !== undefined ? { name: n.name } : {}),
    ...(n.device !== undefined ? { device: n.device } : {}),
    ...(n.group !== undefined ? { group: n.group } : {}),
  };
}

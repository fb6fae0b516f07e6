/**
 * The graph IR's document format (version 1): what a canvas document, a traced function and an
 * ONNX import all become, and what `Graph.fromJSON` reads back. A document is plain JSON data:
 * nodes in any order naming their inputs by id, every node with exactly one output. Values that
 * enter a graph are nodes too: `input` (data or labels fed at run time), `parameter` (trainable,
 * with an init rule and a seed, so one file is enough to rebuild and retrain the model) and
 * `constant` (data stored in the file). These three source ops are defined here with the op
 * registry (so documents validate their attributes like any op's) but have no kernels: the
 * graph executor supplies their values.
 */

import { type DType, isDType } from '../core/dtype.js';
import {
  type ErrorSite,
  GraphError,
  ShapeError,
  WiregradError,
  formatShape,
} from '../core/errors.js';
import { type Shape, assertValidShape, sizeOf } from '../core/shape.js';
import { defineOp } from '../ops/registry.js';
import './placeholder.js';

/** The `format` field of every graph document. */
export const GRAPH_FORMAT = 'wiregrad.graph';
/** The document version this build writes; it reads this one and, by migration, older ones. */
export const GRAPH_VERSION = 1;

/**
 * Non-finite numbers have no JSON spelling: inside float attributes (`float`, `floats`) and
 * constant data they are written as these strings, and read back as numbers.
 */
export type NonFiniteToken = 'Infinity' | '-Infinity' | 'NaN';

/**
 * An attribute value as stored in a document. Its meaning is given by the op's attribute spec
 * (`AttrSpec.kind`): `int`/`float` numbers, `ints`/`floats` lists, `bool`, `dtype` and `string`
 * strings, `intOrInts` either.
 */
export type AttrValueJSON = number | boolean | string | readonly (number | NonFiniteToken)[];

/** An attribute value in memory (after decoding non-finite tokens): what ops receive. */
export type AttrValue = number | boolean | string | readonly number[];

/** One node of a graph document. */
export interface NodeJSON {
  /** Unique within the document; edges refer to it. Traced graphs use `${op}_${n}`. */
  readonly id: string;
  /** A registered op name (`matmul`, `relu` …) or a source op (`input`, `parameter` …). */
  readonly op: string;
  /** The ids of the nodes whose outputs feed this node, in the op's argument order. */
  readonly inputs: readonly string[];
  /** The op's attributes, checked against its spec: none missing, none unknown, right kinds. */
  readonly attrs: Readonly<Record<string, AttrValueJSON>>;
  /** A display name (from `tensor.name` in traces, or typed on the canvas). */
  readonly name?: string;
  /** A device the user pinned the node to; otherwise placement decides. */
  readonly device?: 'cpu' | 'webgpu';
  /** The id of the group (layer, block) this node belongs to, for the hierarchical view. */
  readonly group?: string;
}

/** A named graph output: the value of `node`. */
export interface OutputJSON {
  /** The key under which `graph.run` returns the value; unique within the document. */
  readonly name: string;
  /** The id of the node whose output this is. */
  readonly node: string;
}

/** A graph document, as saved in files and notebook cell metadata. */
export interface GraphJSON {
  /** Always `'wiregrad.graph'`. */
  readonly format: typeof GRAPH_FORMAT;
  /** The document version; a newer one than this build reads is refused with a clear error. */
  readonly version: number;
  /** A display name for the whole graph (the model's name). */
  readonly name?: string;
  /** The nodes, in any order (loading sorts them topologically, keeping this order if valid). */
  readonly nodes: readonly NodeJSON[];
  /** What `graph.run` returns. */
  readonly outputs: readonly OutputJSON[];
  /** What else a host keeps with the graph (canvas layout, provenance); opaque to the engine. */
  readonly meta?: Readonly<Record<string, unknown>>;
}

// ---- source ops -----------------------------------------------------------------------------

/** What an `input` node is fed with: training data or the labels a loss compares against. */
export type InputRole = 'data' | 'label';
export const INPUT_ROLES: readonly InputRole[] = ['data', 'label'];

/** Attributes of an `input` node: a value supplied to `graph.run` under the node's name or id. */
export interface InputAttrs {
  /** The declared shape; -1 marks the batch dimension, which takes any size at run time. */
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly role: InputRole;
  /** @internal Not stored: the size inference gives -1 dimensions (default 1). */
  readonly batch?: number;
}

/**
 * How a parameter is initialised. `kaimingUniform` and `xavierUniform` follow PyTorch's
 * defaults for nn.Linear and nn.Conv2d (see `initParameter` in run.ts).
 */
export type ParamInit =
  'zeros' | 'ones' | 'normal' | 'uniform' | 'kaimingUniform' | 'xavierUniform' | 'constant';
export const PARAM_INITS: readonly ParamInit[] = [
  'zeros',
  'ones',
  'normal',
  'uniform',
  'kaimingUniform',
  'xavierUniform',
  'constant',
];

/** Attributes of a `parameter` node: a trainable tensor and the rule that creates it. */
export interface ParameterAttrs {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly init: ParamInit;
  /**
   * Inputs feeding each output unit, for `kaimingUniform`/`xavierUniform`. Default: PyTorch's
   * reading of the shape (dimension 1 times the receptive field). A bias needs its weight's.
   */
  readonly fanIn?: number;
  /** Outputs per input unit, for `xavierUniform`. Default: dimension 0 × the receptive field. */
  readonly fanOut?: number;
  /** Standard deviation for `normal` (default 1; the mean is 0). */
  readonly std?: number;
  /** Half-width for `uniform`, which draws from [-bound, bound) (default 1). */
  readonly bound?: number;
  /** The value every element takes for `constant`. */
  readonly value?: number;
  /** The random stream: the same seed gives the same values on every device and run. */
  readonly seed: number;
  /**
   * False for state that gradients must not update (batch norm's running statistics): the
   * trainer keeps it out of the optimiser. Default true.
   */
  readonly trainable?: boolean;
}

/** Attributes of a `constant` node: data stored in the document, row-major. */
export interface ConstantAttrs {
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Row-major values (booleans as 0 and 1); as many as the shape holds. */
  readonly data: readonly number[];
}

/** The names of the source ops, which the executor (not a kernel) supplies values for. */
export const SOURCE_OPS: readonly string[] = ['input', 'parameter', 'constant'];

export function isSourceOp(op: string): boolean {
  return SOURCE_OPS.includes(op);
}

function checkDType(op: string, dtype: unknown): DType {
  if (!isDType(dtype)) throw new GraphError(`unknown dtype '${String(dtype)}'`, { op });
  return dtype;
}

/**
 * Checks the attribute values of a source op that its attribute kinds cannot express (enums,
 * required-when rules). Returns a message, or null when they are fine.
 */
export function sourceAttrProblem(
  op: string,
  attrs: Readonly<Record<string, unknown>>,
): string | null {
  if (op === 'input' && !(INPUT_ROLES as readonly unknown[]).includes(attrs.role))
    return `role must be one of ${INPUT_ROLES.join(', ')}, got '${String(attrs.role)}'`;
  if (op === 'parameter') {
    if (!(PARAM_INITS as readonly unknown[]).includes(attrs.init))
      return `init must be one of ${PARAM_INITS.join(', ')}, got '${String(attrs.init)}'`;
    if (attrs.init === 'constant' && typeof attrs.value !== 'number')
      return `init 'constant' needs a value attribute`;
  }
  return null;
}

function assertSourceAttrs(op: string, attrs: Readonly<Record<string, unknown>>): void {
  const problem = sourceAttrProblem(op, attrs);
  if (problem) throw new GraphError(problem, { op });
}

defineOp<InputAttrs>({
  name: 'input',
  arity: 0,
  attrs: {
    shape: { kind: 'ints', doc: 'declared shape; -1 marks the batch dimension' },
    dtype: { kind: 'dtype' },
    role: { kind: 'string', doc: "'data' or 'label'" },
  },
  doc: 'A value fed to the graph at run time (data or labels).',
  inferShape(_, a) {
    assertSourceAttrs('input', a as unknown as Record<string, unknown>);
    const batch = a.batch ?? 1;
    if (a.shape.some((d) => !Number.isInteger(d) || d < -1))
      throw new ShapeError(
        `invalid shape ${formatShape(a.shape)}: dimensions must be integers >= 0, or -1 for ` +
          `the batch dimension`,
        { op: 'input' },
      );
    return {
      shape: a.shape.map((d) => (d === -1 ? batch : d)),
      dtype: checkDType('input', a.dtype),
    };
  },
});

defineOp<ParameterAttrs>({
  name: 'parameter',
  arity: 0,
  attrs: {
    shape: { kind: 'ints' },
    dtype: { kind: 'dtype' },
    init: { kind: 'string', doc: PARAM_INITS.join(' | ') },
    fanIn: { kind: 'int', optional: true, doc: 'fan-in for kaimingUniform/xavierUniform' },
    fanOut: { kind: 'int', optional: true, doc: 'fan-out for xavierUniform' },
    std: { kind: 'float', optional: true, doc: "standard deviation for 'normal' (default 1)" },
    bound: { kind: 'float', optional: true, doc: "half-width for 'uniform' (default 1)" },
    value: { kind: 'float', optional: true, doc: "value for 'constant'" },
    seed: { kind: 'int', doc: 'random stream of the initialisation' },
    trainable: {
      kind: 'bool',
      optional: true,
      doc: 'false: state the optimiser leaves alone (running statistics); default true',
    },
  },
  doc: 'A trainable tensor, created by its init rule from its seed.',
  inferShape(_, a) {
    assertSourceAttrs('parameter', a as unknown as Record<string, unknown>);
    assertValidShape(a.shape, 'parameter');
    return { shape: a.shape, dtype: checkDType('parameter', a.dtype) };
  },
});

defineOp<ConstantAttrs>({
  name: 'constant',
  arity: 0,
  attrs: {
    shape: { kind: 'ints' },
    dtype: { kind: 'dtype' },
    data: { kind: 'floats', doc: 'row-major values' },
  },
  doc: 'A tensor whose values are stored in the graph.',
  inferShape(_, a) {
    assertValidShape(a.shape, 'constant');
    const size = sizeOf(a.shape as Shape);
    if (a.data.length !== size)
      throw new ShapeError(
        `holds ${a.data.length} values but its shape ${formatShape(a.shape)} needs ${size}`,
        { op: 'constant' },
      );
    return { shape: a.shape, dtype: checkDType('constant', a.dtype) };
  },
});

// ---- errors at nodes ------------------------------------------------------------------------

/**
 * The same error, now naming the graph node it happened at (an op's ShapeError stays a
 * ShapeError, so callers can still tell kinds apart). Errors from outside the engine become
 * GraphErrors. The original is kept as `cause`.
 */
export function atNode(
  error: unknown,
  node: { readonly id: string; readonly op: string },
): WiregradError {
  if (error instanceof WiregradError) {
    if (error.node !== undefined) return error;
    const op = error.op ?? node.op;
    const prefix = error.op !== undefined ? `op '${error.op}': ` : '';
    const message = error.message.startsWith(prefix)
      ? error.message.slice(prefix.length)
      : error.message;
    const Kind = error.constructor as new (message: string, site: ErrorSite) => WiregradError;
    const wrapped = new Kind(message, { node: node.id, op });
    wrapped.cause = error;
    return wrapped;
  }
  const wrapped = new GraphError(error instanceof Error ? error.message : String(error), {
    node: node.id,
    op: node.op,
  });
  wrapped.cause = error;
  return wrapped;
}

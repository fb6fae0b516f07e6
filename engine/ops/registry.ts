/**
 * The op registry: each op is defined once, as data plus small functions: its attributes
 * (with kinds, so graph files and the inspector can validate and edit them), shape and dtype
 * inference (which runs without data, on every canvas edit and while tracing), its gradient
 * rule (built from ops, so gradients are differentiable again), and a cost estimate for the
 * placement cost model. Kernels live elsewhere, per device.
 */

import type { DType } from '../core/dtype.js';
import type { Shape } from '../core/shape.js';
import { GraphError } from '../core/errors.js';
import type { Tensor } from '../tensor.js';

/** Shape and dtype of a value, known without its data. */
export interface TensorMeta {
  readonly shape: Shape;
  readonly dtype: DType;
}

/** Attribute kinds, for validating graph documents and driving the inspector. */
export type AttrKind =
  'int' | 'ints' | 'float' | 'floats' | 'bool' | 'dtype' | 'string' | 'intOrInts';

export interface AttrSpec {
  readonly kind: AttrKind;
  readonly optional?: boolean;
  readonly doc?: string;
}

/**
 * A gradient rule: given the op's inputs, its output and the gradient flowing into the output,
 * return one gradient per input (null where an input is not differentiable, e.g. indices).
 */
export type GradientRule<A> = (
  inputs: readonly Tensor[],
  output: Tensor,
  dy: Tensor,
  attrs: A,
) => readonly (Tensor | null)[];

export interface OpCost {
  /** Floating-point operations. */
  readonly flops: number;
  /** Bytes read and written. */
  readonly bytes: number;
}

export interface OpDef<A extends object = object> {
  readonly name: string;
  /** Number of tensor inputs, or 'variadic' (concat). */
  readonly arity: number | 'variadic';
  readonly attrs: Readonly<Record<string, AttrSpec>>;
  /** One sentence for docs and the autodiff teacher. */
  readonly doc: string;
  /** The gradient rule in words and maths, for the autodiff teacher. */
  readonly gradientDoc?: string;
  /**
   * Brings attributes to the canonical form kernels expect (negative axes made positive …).
   * Public op functions already pass canonical attrs; graph documents may not.
   */
  normalizeAttrs?(inputs: readonly TensorMeta[], attrs: A): A;
  inferShape(inputs: readonly TensorMeta[], attrs: A): TensorMeta;
  readonly gradient?: GradientRule<A>;
  cost?(inputs: readonly TensorMeta[], output: TensorMeta, attrs: A): OpCost;
  /** The output aliases its first input's storage (reshape). */
  readonly view?: boolean;
  /** Draws random numbers: never constant-folded or deduplicated. */
  readonly random?: boolean;
  /**
   * A composite op (a loss, a normalisation) runs as this function of primitive ops instead of
   * a kernel: graph files can name it as one node while autodiff, placement and every device
   * see only primitives. Composite ops have no kernels and no gradient rule of their own.
   */
  readonly decompose?: (inputs: readonly Tensor[], attrs: A) => Tensor;
}

const registry = new Map<string, OpDef>();

export function defineOp<A extends object>(def: OpDef<A>): OpDef<A> {
  if (registry.has(def.name)) throw new Error(`op '${def.name}' is defined twice`);
  registry.set(def.name, def as unknown as OpDef);
  return def;
}

export function getOp(name: string, node?: string): OpDef {
  const def = registry.get(name);
  if (!def) throw new GraphError(`unknown op '${name}'`, { op: name, node });
  return def;
}

export function hasOp(name: string): boolean {
  return registry.has(name);
}

export function listOps(): OpDef[] {
  return [...registry.values()];
}

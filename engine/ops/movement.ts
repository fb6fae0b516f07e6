/**
 * Movement ops: they rearrange elements without arithmetic. reshape (a view: no copy),
 * expand (broadcast to a larger shape), transpose, slice, pad, concat, gather and scatterAdd
 * (each other's adjoints), oneHot, and squeeze/unsqueeze/stack, which are reshape and concat
 * underneath. Public functions normalise their arguments (negative axes, -1 sizes) into the
 * attrs; `inferShape` checks attrs strictly, so kernels can trust them. Index tensors are i32;
 * indices are data, so their range is checked by the kernels.
 */

import { type DType, isDType } from '../core/dtype.js';
import { DTypeError, ShapeError, formatShape } from '../core/errors.js';
import {
  type Shape,
  assertValidShape,
  normalizeAxes,
  normalizeAxis,
  shapesEqual,
  sizeOf,
} from '../core/shape.js';
import { runOp } from '../runtime/dispatch.js';
import type { Tensor } from '../tensor.js';
import { defineOp, type TensorMeta } from './registry.js';
import { sumToShape } from './util.js';

const copyCost = ([x]: readonly TensorMeta[], out: TensorMeta) => ({
  flops: 0,
  bytes: (sizeOf(x!.shape) + sizeOf(out.shape)) * 4,
});

// ---- reshape ------------------------------------------------------------------------------

interface ReshapeAttrs {
  readonly shape: readonly number[];
}

/** Resolves one -1 in `shape` against `size` elements; throws naming both shapes. */
export function resolveReshape(from: Shape, shape: readonly number[]): number[] {
  const size = sizeOf(from);
  const unknown = shape.filter((d) => d === -1).length;
  if (unknown > 1)
    throw new ShapeError(`only one dimension may be -1, got ${formatShape(shape)}`, {
      op: 'reshape',
    });
  const known = shape.reduce((p, d) => (d === -1 ? p : p * d), 1);
  const out = shape.map((d) => (d === -1 ? (known === 0 ? 0 : size / known) : d));
  if (out.some((d) => !Number.isInteger(d) || d < 0) || sizeOf(out) !== size)
    throw new ShapeError(
      `cannot reshape ${formatShape(from)} (${size} elements) to ${formatShape(shape)}`,
      { op: 'reshape' },
    );
  return out;
}

defineOp<ReshapeAttrs>({
  name: 'reshape',
  arity: 1,
  attrs: { shape: { kind: 'ints', doc: 'new shape; one dimension may be -1' } },
  doc: 'The same elements in row-major order under a new shape (no copy).',
  gradientDoc: 'dx = dy reshaped back to the input shape.',
  view: true,
  inferShape: ([x], a) => ({ shape: resolveReshape(x!.shape, a.shape), dtype: x!.dtype }),
  gradient: ([x], _y, dy) => [reshape(dy, x!.shape)],
});

export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  return runOp('reshape', [x], { shape: resolveReshape(x.shape, shape) });
}

/** Flattens dimensions from `startAxis` on into one (default: all but the first). */
export function flatten(x: Tensor, startAxis = 1): Tensor {
  const start = normalizeAxis(startAxis, x.rank, 'flatten');
  return reshape(x, [...x.shape.slice(0, start), -1]);
}

// ---- expand -------------------------------------------------------------------------------

interface ExpandAttrs {
  readonly shape: readonly number[];
}

defineOp<ExpandAttrs>({
  name: 'expand',
  arity: 1,
  attrs: { shape: { kind: 'ints', doc: 'target shape (NumPy broadcasting)' } },
  doc: 'Broadcasts to a larger shape, repeating along size-1 and new leading dimensions.',
  gradientDoc: 'dx = dy summed over the broadcast dimensions.',
  inferShape([x], a) {
    assertValidShape(a.shape, 'expand');
    const off = a.shape.length - x!.shape.length;
    const ok = off >= 0 && x!.shape.every((d, i) => d === a.shape[i + off] || d === 1);
    if (!ok)
      throw new ShapeError(`cannot expand ${formatShape(x!.shape)} to ${formatShape(a.shape)}`, {
        op: 'expand',
      });
    return { shape: [...a.shape], dtype: x!.dtype };
  },
  gradient: ([x], _y, dy) => [sumToShape(dy, x!.shape)],
  cost: copyCost,
});

export function expand(x: Tensor, shape: readonly number[]): Tensor {
  return runOp('expand', [x], { shape: [...shape] });
}

// ---- transpose ----------------------------------------------------------------------------

interface TransposeAttrs {
  readonly perm: readonly number[];
}

defineOp<TransposeAttrs>({
  name: 'transpose',
  arity: 1,
  attrs: { perm: { kind: 'ints', doc: 'output axis i is input axis perm[i]' } },
  normalizeAttrs: ([x], a) => ({
    perm: a.perm.map((p) => (p < 0 ? p + x!.shape.length : p)),
  }),
  doc: 'Permutes the axes: output axis i is input axis perm[i].',
  gradientDoc: 'dx = dy transposed by the inverse permutation.',
  inferShape([x], { perm }) {
    const r = x!.shape.length;
    const valid = perm.length === r && [...perm].sort((p, q) => p - q).every((p, i) => p === i);
    if (!valid)
      throw new ShapeError(
        `perm ${formatShape(perm)} is not a permutation of the ${r} axes of ` +
          `${formatShape(x!.shape)}`,
        { op: 'transpose' },
      );
    return { shape: perm.map((p) => x!.shape[p]!), dtype: x!.dtype };
  },
  gradient([_x], _y, dy, { perm }) {
    const inverse = new Array<number>(perm.length);
    perm.forEach((p, i) => (inverse[p] = i));
    return [transpose(dy, inverse)];
  },
  cost: copyCost,
});

/** Permutes axes; without `perm`, reverses them. */
export function transpose(x: Tensor, perm?: readonly number[]): Tensor {
  const p = perm
    ? perm.map((a) => normalizeAxis(a, x.rank, 'transpose'))
    : Array.from({ length: x.rank }, (_, i) => x.rank - 1 - i);
  return runOp('transpose', [x], { perm: p });
}

// ---- slice --------------------------------------------------------------------------------

interface SliceAttrs {
  /** Start of the window on every axis, in [0, dim]. */
  readonly begin: readonly number[];
  /** Length of the window on every axis, with begin + size <= dim. */
  readonly size: readonly number[];
}

/**
 * Resolves `slice` arguments against `shape` to one concrete (begin, size) per axis: axes past
 * the end of `begin` are taken whole, a negative begin counts from the end, and size -1 (or a
 * missing size) runs to the end of the axis. Throws a ShapeError naming the axis and the shape.
 */
export function resolveSlice(
  shape: Shape,
  begin: readonly number[],
  size: readonly number[] = [],
): SliceAttrs {
  const rank = shape.length;
  if (begin.length > rank || size.length > rank)
    throw new ShapeError(
      `begin ${formatShape(begin)} and size ${formatShape(size)} must have at most one entry ` +
        `per axis of ${formatShape(shape)}`,
      { op: 'slice' },
    );
  const b: number[] = [];
  const s: number[] = [];
  for (let d = 0; d < rank; d++) {
    const dim = shape[d]!;
    let start = begin[d] ?? 0;
    if (Number.isInteger(start) && start < 0) start += dim;
    if (!Number.isInteger(start) || start < 0 || start > dim)
      throw new ShapeError(
        `begin ${begin[d]} is out of range for axis ${d} of size ${dim} in ${formatShape(shape)}`,
        { op: 'slice' },
      );
    const len = size[d] === undefined || size[d] === -1 ? dim - start : size[d]!;
    if (!Number.isInteger(len) || len < 0 || start + len > dim)
      throw new ShapeError(
        `size ${size[d]} from begin ${start} does not fit axis ${d} of size ${dim} in ` +
          `${formatShape(shape)} (use -1 to take the rest of the axis)`,
        { op: 'slice' },
      );
    b.push(start);
    s.push(len);
  }
  return { begin: b, size: s };
}

defineOp<SliceAttrs>({
  name: 'slice',
  arity: 1,
  attrs: {
    begin: { kind: 'ints', doc: 'start on every axis (normalised: 0 <= begin <= dim)' },
    size: { kind: 'ints', doc: 'length on every axis (normalised: begin + size <= dim)' },
  },
  doc: 'A contiguous window: size[d] elements from begin[d] on every axis d.',
  gradientDoc: 'dx = dy padded with zeros back to the input shape (zero outside the window).',
  inferShape([x], a) {
    const shape = x!.shape;
    const ok =
      a.begin.length === shape.length &&
      a.size.length === shape.length &&
      shape.every((dim, d) => {
        const b = a.begin[d]!;
        const s = a.size[d]!;
        return Number.isInteger(b) && Number.isInteger(s) && b >= 0 && s >= 0 && b + s <= dim;
      });
    if (!ok)
      throw new ShapeError(
        `begin ${formatShape(a.begin)} and size ${formatShape(a.size)} are not a window of ` +
          `${formatShape(shape)} (one non-negative begin and size per axis, begin + size <= dim; ` +
          `slice() resolves negative begins and -1 sizes)`,
        { op: 'slice' },
      );
    return { shape: [...a.size], dtype: x!.dtype };
  },
  gradient([x], _y, dy, a) {
    const pads = x!.shape.flatMap((dim, d) => [a.begin[d]!, dim - a.begin[d]! - a.size[d]!]);
    return [runOp('pad', [dy], { pads, value: 0 })];
  },
  cost: copyCost,
});

/**
 * The window of `x` starting at `begin` with `size` elements per axis. Missing trailing axes
 * are taken whole; a negative begin counts from the end; size -1 runs to the end.
 *
 *   slice(x, [1], [2])        // rows 1 and 2
 *   slice(x, [0, -2], [-1, -1]) // the last two columns
 */
export function slice(x: Tensor, begin: readonly number[], size?: readonly number[]): Tensor {
  return runOp('slice', [x], resolveSlice(x.shape, begin, size));
}

// ---- pad ----------------------------------------------------------------------------------

interface PadAttrs {
  /** Flat (before, after) pairs, one pair per axis: [b0, a0, b1, a1, …]. */
  readonly pads: readonly number[];
  readonly value: number;
}

/** Padding per axis: `[[before, after], …]`, or the same pairs flattened `[b0, a0, b1, a1, …]`. */
export type Pads = readonly (readonly [number, number])[] | readonly number[];

function flatPads(x: Tensor, pads: Pads): number[] {
  const flat = pads.flatMap((p: number | readonly [number, number]) =>
    typeof p === 'number' ? [p] : [...p],
  );
  if (flat.length !== 2 * x.rank)
    throw new ShapeError(
      `needs one [before, after] pair per axis of ${formatShape(x.shape)} (${x.rank} pairs), ` +
        `got ${flat.length / 2}`,
      { op: 'pad' },
    );
  return flat;
}

defineOp<PadAttrs>({
  name: 'pad',
  arity: 1,
  attrs: {
    pads: { kind: 'ints', doc: '(before, after) per axis, flattened: [b0, a0, b1, a1, …]' },
    value: { kind: 'float', doc: 'value of the new elements (default 0)' },
  },
  doc: 'Surrounds the input with `value`: pads[2d] elements before and pads[2d+1] after axis d.',
  gradientDoc: 'dx = the window of dy where the input sits (a slice).',
  inferShape([x], { pads }) {
    const shape = x!.shape;
    if (pads.length !== 2 * shape.length || !pads.every((p) => Number.isInteger(p) && p >= 0))
      throw new ShapeError(
        `pads ${formatShape(pads)} must be ${shape.length} pairs of non-negative integers ` +
          `(before, after) for ${formatShape(shape)}; use slice to remove elements`,
        { op: 'pad' },
      );
    return { shape: shape.map((d, i) => pads[2 * i]! + d + pads[2 * i + 1]!), dtype: x!.dtype };
  },
  gradient: ([x], _y, dy, { pads }) => [
    runOp('slice', [dy], { begin: x!.shape.map((_, d) => pads[2 * d]!), size: [...x!.shape] }),
  ],
  cost: copyCost,
});

/**
 * `x` surrounded by `value` (default 0): `pads[d] = [before, after]` new elements on axis d.
 *
 *   pad(images, [[0, 0], [0, 0], [1, 1], [1, 1]]) // one pixel of zeros around each NCHW image
 */
export function pad(x: Tensor, pads: Pads, value = 0): Tensor {
  return runOp('pad', [x], { pads: flatPads(x, pads), value });
}

// ---- concat -------------------------------------------------------------------------------

interface AxisAttrs {
  readonly axis: number;
}

defineOp<AxisAttrs>({
  name: 'concat',
  arity: 'variadic',
  attrs: { axis: { kind: 'int', doc: 'the axis to join along' } },
  normalizeAttrs: ([x], a) =>
    x && x.shape.length > 0 ? { ...a, axis: normalizeAxis(a.axis, x.shape.length, 'concat') } : a,
  doc: 'Joins tensors of the same rank and dtype along an axis; other dimensions must match.',
  gradientDoc: 'Each input gets its own stretch of dy along the axis (a slice).',
  inferShape(inputs, { axis }) {
    const first = inputs[0];
    if (!first) throw new ShapeError('needs at least one tensor to concatenate', { op: 'concat' });
    if (first.shape.length === 0)
      throw new ShapeError('cannot concatenate 0-d tensors; use stack() instead', {
        op: 'concat',
      });
    const ax = normalizeAxis(axis, first.shape.length, 'concat');
    let total = 0;
    inputs.forEach((t, i) => {
      if (t.dtype !== first.dtype)
        throw new DTypeError(
          `input ${i} is ${t.dtype} but input 0 is ${first.dtype}; cast them to one dtype`,
          { op: 'concat' },
        );
      const fits =
        t.shape.length === first.shape.length &&
        t.shape.every((d, k) => k === ax || d === first.shape[k]);
      if (!fits)
        throw new ShapeError(
          `input ${i} has shape ${formatShape(t.shape)} but input 0 has shape ` +
            `${formatShape(first.shape)}: every dimension but axis ${ax} must match`,
          { op: 'concat' },
        );
      total += t.shape[ax]!;
    });
    const shape = [...first.shape];
    shape[ax] = total;
    return { shape, dtype: first.dtype };
  },
  gradient(inputs, _y, dy, a) {
    const axis = normalizeAxis(a.axis, dy.rank, 'concat');
    let offset = 0;
    return inputs.map((t) => {
      const begin = t.shape.map((_, d) => (d === axis ? offset : 0));
      offset += t.shape[axis]!;
      return t.requiresGrad ? runOp('slice', [dy], { begin, size: [...t.shape] }) : null;
    });
  },
  cost: (inputs, out) => ({
    flops: 0,
    bytes: (inputs.reduce((n, t) => n + sizeOf(t.shape), 0) + sizeOf(out.shape)) * 4,
  }),
});

/** Joins `tensors` along `axis` (default 0); every other dimension must match. */
export function concat(tensors: readonly Tensor[], axis = 0): Tensor {
  const rank = tensors[0]?.rank ?? 0;
  return runOp('concat', tensors, { axis: rank > 0 ? normalizeAxis(axis, rank, 'concat') : axis });
}

// ---- gather and scatterAdd ----------------------------------------------------------------

function requireIndices(op: string, indices: TensorMeta): void {
  if (indices.dtype !== 'i32')
    throw new DTypeError(
      `indices must be i32, got ${indices.dtype} ${formatShape(indices.shape)}; ` +
        `cast them with idx.cast('i32')`,
      { op },
    );
}

/** x.shape[:axis] + indices.shape + x.shape[axis+1:], the shape gather produces. */
function gatheredShape(op: string, x: TensorMeta, indices: TensorMeta, axis: number): number[] {
  if (x.shape.length === 0)
    throw new ShapeError('cannot index a 0-d tensor; reshape it to [1] first', { op });
  const ax = normalizeAxis(axis, x.shape.length, op);
  return [...x.shape.slice(0, ax), ...indices.shape, ...x.shape.slice(ax + 1)];
}

defineOp<AxisAttrs>({
  name: 'gather',
  arity: 2,
  attrs: { axis: { kind: 'int', doc: 'the axis the indices pick along' } },
  normalizeAttrs: ([x], a) =>
    x!.shape.length > 0 ? { ...a, axis: normalizeAxis(a.axis, x!.shape.length, 'gather') } : a,
  doc:
    'Picks slices of x along an axis by i32 indices (NumPy take, torch index_select): the ' +
    'output shape is x.shape[:axis] + indices.shape + x.shape[axis+1:].',
  gradientDoc:
    'dx = zeros of x’s shape with dy scatter-added back at the indices (a row picked twice ' +
    'gets both gradients); the indices get none.',
  inferShape([x, indices], { axis }) {
    requireIndices('gather', indices!);
    return { shape: gatheredShape('gather', x!, indices!, axis), dtype: x!.dtype };
  },
  gradient([x, indices], _y, dy, { axis }) {
    if (!x!.requiresGrad) return [null, null];
    const zeros = runOp('fill', [], {
      shape: [...x!.shape],
      value: 0,
      dtype: dy.dtype,
      device: dy.device,
    });
    return [scatterAdd(zeros, indices!, dy, axis), null];
  },
  cost: ([, indices], out) => ({
    flops: 0,
    bytes: sizeOf(out.shape) * 8 + sizeOf(indices!.shape) * 4,
  }),
});

/**
 * Picks slices of `x` along `axis` (default 0) by the i32 `indices`: the output has shape
 * `x.shape[:axis] + indices.shape + x.shape[axis+1:]`. An index outside [0, size) is an error.
 *
 *   gather(embeddings, tokenIds) // [vocab, dim] by [batch, seq] gives [batch, seq, dim]
 */
export function gather(x: Tensor, indices: Tensor, axis = 0): Tensor {
  return runOp('gather', [x, indices], {
    axis: x.rank > 0 ? normalizeAxis(axis, x.rank, 'gather') : axis,
  });
}

defineOp<AxisAttrs>({
  name: 'scatterAdd',
  arity: 3,
  attrs: { axis: { kind: 'int', doc: 'the axis the indices address' } },
  normalizeAttrs: ([x], a) =>
    x!.shape.length > 0 ? { ...a, axis: normalizeAxis(a.axis, x!.shape.length, 'scatterAdd') } : a,
  doc:
    'A copy of x with updates added at the i32 indices along an axis (the adjoint of gather: ' +
    'updates has gather(x, indices, axis)’s shape; repeated indices accumulate).',
  gradientDoc: 'dx = dy; dupdates = gather(dy, indices, axis); the indices get none.',
  inferShape([x, indices, updates], { axis }) {
    requireIndices('scatterAdd', indices!);
    if (x!.dtype === 'bool' || updates!.dtype !== x!.dtype)
      throw new DTypeError(
        `x and updates must share a numeric dtype, got ${x!.dtype} and ${updates!.dtype}`,
        { op: 'scatterAdd' },
      );
    const expected = gatheredShape('scatterAdd', x!, indices!, axis);
    if (!shapesEqual(expected, updates!.shape))
      throw new ShapeError(
        `updates ${formatShape(updates!.shape)} must have shape ${formatShape(expected)} ` +
          `(x ${formatShape(x!.shape)} with axis ${axis} replaced by indices ` +
          `${formatShape(indices!.shape)})`,
        { op: 'scatterAdd' },
      );
    return { shape: x!.shape, dtype: x!.dtype };
  },
  gradient: ([x, indices, updates], _y, dy, { axis }) => [
    x!.requiresGrad ? dy : null,
    null,
    updates!.requiresGrad ? gather(dy, indices!, axis) : null,
  ],
  cost: ([x, , updates], out) => ({
    flops: sizeOf(updates!.shape),
    bytes: (sizeOf(x!.shape) + 2 * sizeOf(updates!.shape) + sizeOf(out.shape)) * 4,
  }),
});

/**
 * A copy of `x` with `updates` added at `indices` along `axis` (default 0); repeated indices
 * accumulate. `updates` has the shape `gather(x, indices, axis)` would have.
 */
export function scatterAdd(x: Tensor, indices: Tensor, updates: Tensor, axis = 0): Tensor {
  return runOp('scatterAdd', [x, indices, updates], {
    axis: x.rank > 0 ? normalizeAxis(axis, x.rank, 'scatterAdd') : axis,
  });
}

// ---- oneHot -------------------------------------------------------------------------------

interface OneHotAttrs {
  readonly depth: number;
  readonly onValue: number;
  readonly offValue: number;
  readonly dtype: DType;
}

defineOp<OneHotAttrs>({
  name: 'oneHot',
  arity: 1,
  attrs: {
    depth: { kind: 'int', doc: 'number of classes' },
    onValue: { kind: 'float', doc: 'value at the index (default 1)' },
    offValue: { kind: 'float', doc: 'value elsewhere (default 0)' },
    dtype: { kind: 'dtype', doc: 'output dtype (default f32)' },
  },
  doc: 'Encodes i32 class indices as vectors of length depth: onValue at the index, else offValue.',
  inferShape([indices], a) {
    requireIndices('oneHot', indices!);
    if (!Number.isInteger(a.depth) || a.depth < 0)
      throw new ShapeError(`depth must be a non-negative integer, got ${a.depth}`, {
        op: 'oneHot',
      });
    if (!isDType(a.dtype))
      throw new DTypeError(`unknown dtype '${String(a.dtype)}'`, { op: 'oneHot' });
    return { shape: [...indices!.shape, a.depth], dtype: a.dtype };
  },
  cost: (_inputs, out) => ({ flops: 0, bytes: sizeOf(out.shape) * 4 }),
});

export interface OneHotOptions {
  readonly onValue?: number;
  readonly offValue?: number;
  readonly dtype?: DType;
}

/** One-hot vectors of length `depth` for i32 `indices`; shape `indices.shape + [depth]`. */
export function oneHot(indices: Tensor, depth: number, options: OneHotOptions = {}): Tensor {
  const { onValue = 1, offValue = 0, dtype = 'f32' } = options;
  return runOp('oneHot', [indices], { depth, onValue, offValue, dtype });
}

// ---- squeeze, unsqueeze, stack (reshape and concat underneath) ------------------------------

/** Removes size-1 axes: the given ones (each must have size 1), or all of them. */
export function squeeze(x: Tensor, axis?: number | readonly number[]): Tensor {
  const axes =
    axis === undefined
      ? x.shape.flatMap((d, i) => (d === 1 ? [i] : []))
      : normalizeAxes(axis, x.rank, 'squeeze');
  for (const a of axes)
    if (x.shape[a] !== 1)
      throw new ShapeError(
        `cannot squeeze axis ${a} of ${formatShape(x.shape)}: its size is ${x.shape[a]}, not 1`,
        { op: 'squeeze' },
      );
  return reshape(
    x,
    x.shape.filter((_, i) => !axes.includes(i)),
  );
}

/** Inserts a size-1 axis at `axis` (in [-(rank+1), rank]; negative counts from the end). */
export function unsqueeze(x: Tensor, axis: number): Tensor {
  const a = normalizeAxis(axis, x.rank + 1, 'unsqueeze');
  return reshape(x, [...x.shape.slice(0, a), 1, ...x.shape.slice(a)]);
}

/** Stacks same-shaped tensors along a new axis `axis` (default 0). */
export function stack(tensors: readonly Tensor[], axis = 0): Tensor {
  const first = tensors[0];
  if (!first) throw new ShapeError('needs at least one tensor to stack', { op: 'stack' });
  tensors.forEach((t, i) => {
    if (!shapesEqual(t.shape, first.shape))
      throw new ShapeError(
        `input ${i} has shape ${formatShape(t.shape)} but input 0 has shape ` +
          `${formatShape(first.shape)}: stacked tensors must have equal shapes`,
        { op: 'stack' },
      );
  });
  const a = normalizeAxis(axis, first.rank + 1, 'stack');
  return concat(
    tensors.map((t) => unsqueeze(t, a)),
    a,
  );
}

/**
 * Creating tensors: from JavaScript data (`tensor`), and the creation ops `fill`, `arange`,
 * `randomUniform` and `randomNormal`, which are ops (not host-side arrays) so that a traced
 * function records them as graph nodes and any device can produce them.
 */

import { type Backend, type DeviceName, getBackend } from '../backend/backend.js';
import { type DType, type TypedArray, allocArray, isDType } from '../core/dtype.js';
import { DTypeError, ShapeError, formatShape } from '../core/errors.js';
import { nextSeed } from '../core/random.js';
import { type Shape, assertValidShape, sizeOf } from '../core/shape.js';
import { runOp } from '../runtime/dispatch.js';
import { state } from '../runtime/state.js';
import { type NestedArray, Tensor } from '../tensor.js';
import { defineOp, type TensorMeta } from './registry.js';

export interface CreateOptions {
  readonly dtype?: DType;
  readonly device?: DeviceName;
  readonly requiresGrad?: boolean;
}

export interface RandomOptions extends CreateOptions {
  /** Same seed, same numbers, on every device and run. Default: drawn from `setSeed`'s stream. */
  readonly seed?: number;
}

interface FillAttrs {
  readonly shape: readonly number[];
  readonly value: number;
  readonly dtype: DType;
  readonly device?: DeviceName;
}
interface ArangeAttrs {
  readonly start: number;
  readonly stop: number;
  readonly step: number;
  readonly dtype: DType;
  readonly device?: DeviceName;
}
interface RandomAttrs {
  readonly shape: readonly number[];
  readonly seed: number;
  readonly dtype: DType;
  readonly device?: DeviceName;
}

function checkDType(op: string, dtype: unknown): DType {
  if (!isDType(dtype)) throw new DTypeError(`unknown dtype '${String(dtype)}'`, { op });
  return dtype;
}

const created = (op: string) => (_: readonly TensorMeta[], a: FillAttrs | RandomAttrs) => {
  assertValidShape(a.shape, op);
  return { shape: a.shape, dtype: checkDType(op, a.dtype) };
};

defineOp<FillAttrs>({
  name: 'fill',
  arity: 0,
  attrs: {
    shape: { kind: 'ints' },
    value: { kind: 'float' },
    dtype: { kind: 'dtype' },
  },
  doc: 'A tensor of the given shape with every element equal to value.',
  inferShape: created('fill'),
});

defineOp<ArangeAttrs>({
  name: 'arange',
  arity: 0,
  attrs: {
    start: { kind: 'float' },
    stop: { kind: 'float' },
    step: { kind: 'float' },
    dtype: { kind: 'dtype' },
  },
  doc: 'Evenly spaced values start, start+step, … up to (not including) stop.',
  inferShape(_, a) {
    if (a.step === 0 || !Number.isFinite(a.step))
      throw new ShapeError(`step must be finite and nonzero, got ${a.step}`, { op: 'arange' });
    const n = Math.max(0, Math.ceil((a.stop - a.start) / a.step));
    return { shape: [n], dtype: checkDType('arange', a.dtype) };
  },
});

defineOp<RandomAttrs>({
  name: 'randomUniform',
  arity: 0,
  attrs: { shape: { kind: 'ints' }, seed: { kind: 'int' }, dtype: { kind: 'dtype' } },
  doc: 'Uniform random numbers in [0, 1), a pure function of (seed, index).',
  random: true,
  inferShape: created('randomUniform'),
});

defineOp<RandomAttrs>({
  name: 'randomNormal',
  arity: 0,
  attrs: { shape: { kind: 'ints' }, seed: { kind: 'int' }, dtype: { kind: 'dtype' } },
  doc: 'Standard normal random numbers (Box–Muller), a pure function of (seed, index).',
  random: true,
  inferShape: created('randomNormal'),
});

function withGrad(t: Tensor, options: CreateOptions): Tensor {
  if (options.requiresGrad) t.requiresGrad = true;
  return t;
}

export function full(shape: readonly number[], value: number, options: CreateOptions = {}): Tensor {
  const attrs: FillAttrs = { shape: [...shape], value, dtype: options.dtype ?? 'f32' };
  return withGrad(
    runOp('fill', [], options.device ? { ...attrs, device: options.device } : attrs),
    options,
  );
}
export const zeros = (shape: readonly number[], options: CreateOptions = {}): Tensor =>
  full(shape, 0, options);
export const ones = (shape: readonly number[], options: CreateOptions = {}): Tensor =>
  full(shape, 1, options);
export const zerosLike = (x: Tensor): Tensor =>
  full(x.shape, 0, { dtype: x.dtype, device: x.device });
export const onesLike = (x: Tensor): Tensor =>
  full(x.shape, 1, { dtype: x.dtype, device: x.device });

/** `arange(stop)` or `arange(start, stop, step?)`; i32 when all arguments are integers. */
export function arange(
  startOrStop: number,
  stop?: number,
  step = 1,
  options: CreateOptions = {},
): Tensor {
  const [start, end] = stop === undefined ? [0, startOrStop] : [startOrStop, stop];
  const ints = [start, end, step].every(Number.isInteger);
  const dtype = options.dtype ?? (ints ? 'i32' : 'f32');
  const attrs: ArangeAttrs = { start, stop: end, step, dtype };
  return withGrad(
    runOp('arange', [], options.device ? { ...attrs, device: options.device } : attrs),
    options,
  );
}

function random(op: string, shape: readonly number[], options: RandomOptions): Tensor {
  const attrs: RandomAttrs = {
    shape: [...shape],
    seed: (options.seed ?? nextSeed()) >>> 0,
    dtype: options.dtype ?? 'f32',
  };
  return withGrad(
    runOp(op, [], options.device ? { ...attrs, device: options.device } : attrs),
    options,
  );
}

/** Uniform random numbers in [0, 1). */
export const rand = (shape: readonly number[], options: RandomOptions = {}): Tensor =>
  random('randomUniform', shape, options);
/** Standard normal random numbers. */
export const randn = (shape: readonly number[], options: RandomOptions = {}): Tensor =>
  random('randomNormal', shape, options);

/** Shape of nested arrays; throws a ShapeError on ragged input. */
function nestedShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let level: NestedArray = data;
  while (Array.isArray(level)) {
    shape.push(level.length);
    if (level.length === 0) break;
    level = level[0]!;
  }
  return shape;
}

function flatten(data: NestedArray, shape: Shape, out: TypedArray): void {
  let k = 0;
  const walk = (v: NestedArray, dim: number, path: string): void => {
    if (dim === shape.length) {
      if (Array.isArray(v))
        throw new ShapeError(`ragged nested array: element ${path} is an array, expected a number`);
      if (typeof v !== 'number' && typeof v !== 'boolean')
        throw new DTypeError(`element ${path} is ${typeof v}, expected a number or boolean`);
      out[k++] = Number(v);
      return;
    }
    if (!Array.isArray(v) || v.length !== shape[dim])
      throw new ShapeError(
        `ragged nested array: element ${path || '(root)'} has ` +
          `${Array.isArray(v) ? `length ${v.length}` : 'no length'}, expected ${shape[dim]} ` +
          `(shape ${formatShape(shape)})`,
      );
    for (let i = 0; i < v.length; i++) walk(v[i]!, dim + 1, `${path}[${i}]`);
  };
  walk(data, 0, '');
}

function inferDType(data: TypedArray | NestedArray): DType {
  if (data instanceof Float64Array) return 'f64';
  if (data instanceof Int32Array) return 'i32';
  if (data instanceof Uint8Array) return 'bool';
  if (data instanceof Float32Array) return 'f32';
  let first: NestedArray = data;
  while (Array.isArray(first) && first.length > 0) first = first[0]!;
  return typeof first === 'boolean' ? 'bool' : 'f32';
}

export interface TensorOptions extends CreateOptions {
  /** Required with a typed array; checked against nested arrays. */
  readonly shape?: readonly number[];
}

/**
 * A tensor from nested arrays (`tensor([[1, 2], [3, 4]])`) or from a typed array with its
 * `shape`. The dtype follows the data (f32 for numbers) unless given.
 */
export function tensor(data: TypedArray | NestedArray, options: TensorOptions = {}): Tensor {
  const dtype = options.dtype ?? inferDType(data);
  let shape: number[];
  let values: TypedArray;
  if (ArrayBuffer.isView(data)) {
    shape = options.shape ? [...options.shape] : [data.length];
    assertValidShape(shape, 'tensor');
    if (sizeOf(shape) !== data.length)
      throw new ShapeError(
        `a typed array of ${data.length} elements does not fill shape ${formatShape(shape)}`,
      );
    values = allocArray(dtype, data.length);
    values.set(data);
  } else {
    shape = nestedShape(data);
    if (options.shape && sizeOf(options.shape) !== sizeOf(shape))
      throw new ShapeError(
        `data of shape ${formatShape(shape)} does not fit shape ${formatShape(options.shape)}`,
      );
    values = allocArray(dtype, sizeOf(shape));
    flatten(data, shape, values);
    if (options.shape) shape = [...options.shape];
  }
  const backend: Backend = getBackend(options.device ?? state.defaultDevice);
  const t = new Tensor(shape, dtype, backend.upload(values), backend.device);
  return withGrad(t, options);
}

/** A scalar (0-d) tensor. */
export function scalar(value: number, options: CreateOptions = {}): Tensor {
  return full([], value, options);
}

/**
 * One handler per ONNX tensor op the engine can express, each turning an ONNX node (its attributes
 * read with the spec's defaults, for opsets 7 to 21) into engine nodes, or folding it when
 * its inputs are constants known at import time (the shape arithmetic exporters emit). A
 * handler that meets a form it cannot express calls `cannot(why)`; the importer then makes a
 * placeholder and reports `why`.
 */

import type { DType } from '../core/dtype.js';
import { formatShape } from '../core/errors.js';
import { sizeOf } from '../core/shape.js';
import type { Dim } from './analysis.js';
import type { Importer } from './onnx-import.js';
import { type OnnxAttribute, type OnnxNode, utf8 } from './onnx-proto.js';
import { type ConstType, type ConstValue, constTypeOf, readTensor } from './onnx-tensor.js';

export interface NodeContext {
  readonly node: OnnxNode;
  readonly at: AttrReader;
  /** The id the main engine node should get (the ONNX node's name). */
  readonly base: string;
  /** The name of input k ('' when absent). */
  input(k: number): string;
  output(k: number): string | undefined;
}

export type Handler = (im: Importer, c: NodeContext) => void;

export const normAxis = (axis: number, rank: number): number => {
  const a = axis < 0 ? axis + rank : axis;
  if (a < 0 || a >= rank) cannot(`axis ${axis} is out of range for rank ${rank}`);
  return a;
};

/** The numbers of a constant input (attributes given as inputs since opset 10–18). */
export function ints(im: Importer, name: string, what: string): number[] {
  const c = im.constOf(name);
  if (!c) cannot(`its ${what} must be a constant known at import time`);
  if (c.data.some((d) => d === 'N')) cannot(`its ${what} depends on the batch size`);
  return c.data as number[];
}

/** An attribute that moved to an input in `since`: read whichever the node has. */
function attrOrInput(
  im: Importer,
  c: NodeContext,
  name: string,
  index: number,
  since: number,
): number[] | undefined {
  if (im.opset >= since || !c.at.has(name)) {
    const input = c.input(index);
    return input ? ints(im, input, name) : c.at.ints(name);
  }
  return c.at.ints(name);
}

export const isStatic = (shape: readonly Dim[]): shape is number[] => shape.every((d) => d !== 'N');

export function staticShape(shape: readonly Dim[], what: string): number[] {
  if (!isStatic(shape)) cannot(`${what} must not depend on the batch size`);
  return shape;
}

// ---- reading attributes -------------------------------------------------------------------

/** An ONNX node's attributes by name, with the defaults the ONNX spec gives. */
export class AttrReader {
  private readonly byName: Map<string, OnnxAttribute>;
  constructor(attributes: readonly OnnxAttribute[] | undefined) {
    this.byName = new Map((attributes ?? []).map((a) => [a.name ?? '', a]));
  }
  has(name: string): boolean {
    return this.byName.has(name);
  }
  // A present attribute without its value field holds zero: proto3 writers leave zeros out.
  int(name: string, fallback: number): number {
    const a = this.byName.get(name);
    return a ? Number(a.i ?? 0) : fallback;
  }
  ints(name: string): number[] | undefined {
    const a = this.byName.get(name);
    return a ? (a.ints ?? []).map(Number) : undefined;
  }
  float(name: string, fallback: number): number {
    const a = this.byName.get(name);
    return a ? (a.f ?? 0) : fallback;
  }
  floats(name: string): number[] | undefined {
    const a = this.byName.get(name);
    return a ? [...(a.floats ?? [])] : undefined;
  }
  string(name: string, fallback: string): string {
    const a = this.byName.get(name);
    return a?.s !== undefined ? utf8(a.s) : fallback;
  }
  tensor(name: string): OnnxAttribute['t'] {
    return this.byName.get(name)?.t;
  }
}

/** Engine dtype of a constant type (int64 becomes i32, double f32: what the engine computes in). */
export function engineDType(type: ConstType): DType {
  return type === 'i64' ? 'i32' : type === 'f64' ? 'f32' : type;
}

/** A failure to express one ONNX node; the importer turns it into a placeholder. */
export class ImportUnsupported extends Error {}

/** Throws: `why` the current ONNX node cannot be expressed (it becomes a placeholder). */
export function cannot(why: string): never {
  throw new ImportUnsupported(why);
}

/** A shape as engine attrs: the batch dimension (at most one) as -1. */
export function shapeAttr(shape: readonly Dim[], what: string): number[] {
  if (shape.filter((d) => d === 'N').length > 1)
    cannot(
      `${what} has more than one batch-sized dimension ${formatShape(shape.map((d) => (d === 'N' ? -1 : d)))}`,
    );
  return shape.map((d) => (d === 'N' ? -1 : d));
}

// ---- folding constants --------------------------------------------------------------------

const constOut = (im: Importer, c: NodeContext, value: ConstValue, k = 0): void =>
  im.set(c.output(k), { constant: value });

/**
 * An input to fold at import time: an integer constant (the shape arithmetic exporters write).
 * Float constants stay in the graph, so that weights stay parameters and data stays visible.
 */
function foldable(im: Importer, name: string): ConstValue | null {
  const c = im.constOf(name);
  return c && c.type !== 'f32' && c.type !== 'f64' ? c : null;
}

function foldBinary(op: string, a: ConstValue, b: ConstValue): ConstValue | null {
  const values = [...a.data, ...b.data];
  if (values.some((d) => d === 'N')) return null;
  const [x, y] = [a.data as number[], b.data as number[]];
  // Broadcast only the shapes shape arithmetic uses: equal sizes or a scalar side.
  if (x.length !== y.length && x.length !== 1 && y.length !== 1) return null;
  const shape = x.length >= y.length ? a.shape : b.shape;
  const n = Math.max(x.length, y.length);
  const at = (v: number[], i: number) => v[v.length === 1 ? 0 : i]!;
  const integer = a.type === 'i64' || a.type === 'i32';
  const fn: Record<string, (p: number, q: number) => number> = {
    Add: (p, q) => p + q,
    Sub: (p, q) => p - q,
    Mul: (p, q) => p * q,
    Div: (p, q) => (integer ? Math.trunc(p / q) : p / q),
    Pow: (p, q) => p ** q,
    Max: Math.max,
    Min: Math.min,
    Equal: (p, q) => (p === q ? 1 : 0),
    Greater: (p, q) => (p > q ? 1 : 0),
    Less: (p, q) => (p < q ? 1 : 0),
  };
  const f = fn[op];
  if (!f) return null;
  const data = Array.from({ length: n }, (_, i) => f(at(x, i), at(y, i)));
  const compare = op === 'Equal' || op === 'Greater' || op === 'Less';
  return { type: compare ? 'bool' : a.type, shape, data };
}

// ---- handlers -----------------------------------------------------------------------------

const unary =
  (op: string): Handler =>
  (im, c) =>
    im.set(c.output(0), { node: im.add(op, [im.node(c.input(0))], {}, c.base) });

const alias: Handler = (im, c) => im.set(c.output(0), im.value(c.input(0)));

/** Brings a constant operand to the other operand's dtype (ONNX exporters write int64 and double). */
export function operands(im: Importer, names: readonly string[]): string[] {
  const nodeDType = names
    .map((n) => (im.constOf(n) === null ? im.dtype(n) : null))
    .find((d) => d !== null);
  return names.map((n) =>
    im.constOf(n) !== null && nodeDType ? im.node(n, nodeDType) : im.node(n),
  );
}

const BINARY: Readonly<Record<string, string>> = {
  Add: 'add',
  Sub: 'sub',
  Mul: 'mul',
  Div: 'div',
  Pow: 'pow',
  Max: 'maximum',
  Min: 'minimum',
  Equal: 'equal',
  Greater: 'greater',
  Less: 'less',
};

const binary =
  (onnxOp: string): Handler =>
  (im, c) => {
    const names = (c.node.input ?? []).filter((i) => i !== '');
    const consts = names.map((n) => foldable(im, n));
    if (names.length === 2 && consts[0] && consts[1]) {
      const folded = foldBinary(onnxOp, consts[0], consts[1]);
      if (folded) return constOut(im, c, folded);
    }
    if (names.length < 2 && (onnxOp === 'Max' || onnxOp === 'Min')) return alias(im, c);
    const args = operands(im, names);
    let acc = args[0]!;
    for (let i = 1; i < args.length; i++) {
      const last = i === args.length - 1;
      acc = im.add(BINARY[onnxOp]!, [acc, args[i]!], {}, last ? c.base : `${c.base}.${i}`);
    }
    // ONNX divides integers with truncation; the engine's div gives a float quotient.
    if (onnxOp === 'Div' && im.dtypeOfNode(args[0]!) === 'i32')
      acc = im.add('cast', [acc], { dtype: 'i32' }, `${c.base}.trunc`);
    im.set(c.output(0), { node: acc });
  };

/** Sum and Mean of any number of inputs. */
const variadic =
  (mean: boolean): Handler =>
  (im, c) => {
    const args = operands(
      im,
      (c.node.input ?? []).filter((i) => i !== ''),
    );
    let acc = args[0]!;
    for (let i = 1; i < args.length; i++)
      acc = im.add('add', [acc, args[i]!], {}, `${c.base}.${i}`);
    if (mean && args.length > 1)
      acc = im.add(
        'mul',
        [acc, im.scalar(1 / args.length, im.dtypeOfNode(acc), `${c.base}.scale`)],
        {},
        c.base,
      );
    im.set(c.output(0), { node: acc });
  };

const reshapeTo = (im: Importer, c: NodeContext, x: string, target: number[]): void =>
  im.set(c.output(0), { node: im.add('reshape', [im.node(x)], { shape: target }, c.base) });

/** ONNX Reshape's target (0 copies a dimension, -1 is inferred) as engine attrs. */
function reshapeTarget(
  inShape: readonly Dim[],
  raw: readonly (number | 'N')[],
  allowZero: boolean,
): number[] {
  const t: (number | 'N' | '?')[] = raw.map((d, i) => {
    if (d === 'N') return 'N';
    if (d === 0 && !allowZero) {
      if (i >= inShape.length)
        cannot(`a 0 in the target shape copies dimension ${i}, which the input lacks`);
      return inShape[i]!;
    }
    return d === -1 ? '?' : d;
  });
  const nIn = inShape.filter((d) => d === 'N').length;
  const nOut = t.filter((d) => d === 'N').length;
  const unknown = t.filter((d) => d === '?').length;
  if (nIn > 1 || nOut > 1 || unknown > 1) cannot('the reshape has more than one unknown dimension');
  if (nIn === nOut) {
    const size = (inShape.filter((d) => d !== 'N') as number[]).reduce((p, d) => p * d, 1);
    const known = (t.filter((d) => typeof d === 'number') as number[]).reduce((p, d) => p * d, 1);
    return t.map((d) => (d === 'N' ? -1 : d === '?' ? (known === 0 ? 0 : size / known) : d));
  }
  if (nIn === 1 && nOut === 0 && unknown === 1)
    return t.map((d) => (d === '?' ? -1 : (d as number)));
  return cannot('the reshape moves the batch dimension in a way Wiregrad cannot express');
}

const reshape: Handler = (im, c) => {
  const x = c.input(0);
  const target = c.input(1) ? im.constOf(c.input(1)) : null;
  const raw = target ? target.data : c.at.ints('shape');
  if (!raw) cannot('its target shape must be a constant known at import time');
  const xc = foldable(im, x);
  const shape = reshapeTarget(im.shape(x), raw, c.at.int('allowzero', 0) === 1);
  if (xc && !shape.includes(-1)) return constOut(im, c, { ...xc, shape });
  reshapeTo(im, c, x, shape);
};

const flatten: Handler = (im, c) => {
  const x = c.input(0);
  const shape = im.shape(x);
  const axis = c.at.int('axis', 1);
  const cut = axis < 0 ? axis + shape.length : axis;
  const part = (dims: readonly Dim[]): Dim => (dims.includes('N') ? 'N' : sizeOf(dims as number[]));
  reshapeTo(im, c, x, shapeAttr([part(shape.slice(0, cut)), part(shape.slice(cut))], 'Flatten'));
};

const squeeze: Handler = (im, c) => {
  const x = c.input(0);
  const shape = im.shape(x);
  const given = attrOrInput(im, c, 'axes', 1, 13);
  const axes = given
    ? given.map((a) => normAxis(a, shape.length))
    : shape.flatMap((d, i) => (d === 1 ? [i] : []));
  const out = shape.filter((_, i) => !axes.includes(i));
  const xc = foldable(im, x);
  if (xc) return constOut(im, c, { ...xc, shape: out as number[] });
  reshapeTo(im, c, x, shapeAttr(out, 'Squeeze'));
};

const unsqueeze: Handler = (im, c) => {
  const x = c.input(0);
  const shape = im.shape(x);
  const given = attrOrInput(im, c, 'axes', 1, 13);
  if (!given) cannot('it has no axes');
  const rank = shape.length + given.length;
  const axes = given.map((a) => normAxis(a, rank));
  const out: Dim[] = [];
  let k = 0;
  for (let i = 0; i < rank; i++) out.push(axes.includes(i) ? 1 : shape[k++]!);
  const xc = foldable(im, x);
  if (xc) return constOut(im, c, { ...xc, shape: out as number[] });
  reshapeTo(im, c, x, shapeAttr(out, 'Unsqueeze'));
};

const transpose: Handler = (im, c) => {
  const x = c.input(0);
  const rank = im.shape(x).length;
  const perm = c.at.ints('perm') ?? [...Array(rank).keys()].reverse();
  im.set(c.output(0), {
    node: im.add('transpose', [im.node(x)], { perm: perm.map((p) => normAxis(p, rank)) }, c.base),
  });
};

const concat: Handler = (im, c) => {
  const names = (c.node.input ?? []).filter((i) => i !== '');
  const rank = im.shape(names[0]!).length;
  const axis = normAxis(c.at.int('axis', 0), rank);
  const consts = names.map((n) => foldable(im, n));
  if (rank === 1 && consts.every((k) => k !== null)) {
    const all = consts as ConstValue[];
    const data = all.flatMap((k) => k.data);
    return constOut(im, c, { type: all[0]!.type, shape: [data.length], data });
  }
  im.set(c.output(0), { node: im.add('concat', operands(im, names), { axis }, c.base) });
};

const INT64_MAX_ISH = 2 ** 62;

const slice: Handler = (im, c) => {
  const x = c.input(0);
  const shape = im.shape(x);
  const rank = shape.length;
  const starts = im.opset >= 10 ? ints(im, c.input(1), 'starts') : (c.at.ints('starts') ?? []);
  const ends = im.opset >= 10 ? ints(im, c.input(2), 'ends') : (c.at.ints('ends') ?? []);
  const axes =
    (im.opset >= 10
      ? c.input(3)
        ? ints(im, c.input(3), 'axes')
        : undefined
      : c.at.ints('axes')) ?? starts.map((_, i) => i);
  const steps = im.opset >= 10 && c.input(4) ? ints(im, c.input(4), 'steps') : starts.map(() => 1);
  if (steps.some((s) => s !== 1))
    cannot('its steps are not all 1 (Wiregrad slices are contiguous)');
  const begin: number[] = shape.map(() => 0);
  const size: Dim[] = [...shape];
  const sliced: number[] = [];
  axes.forEach((rawAxis, k) => {
    const axis = normAxis(rawAxis, rank);
    const dim = shape[axis]!;
    const s = starts[k]!;
    const e = ends[k]!;
    if (dim === 'N') {
      if (s === 0 && e >= INT64_MAX_ISH) return; // the whole batch
      cannot('it slices the batch dimension');
    }
    const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + dim : v, 0), dim);
    const b = clamp(s);
    const len = Math.max(clamp(e) - b, 0);
    if (b === 0 && len === dim) return;
    begin[axis] = b;
    size[axis] = len;
    sliced.push(axis);
  });
  const xc = foldable(im, x);
  if (xc && rank === 1) {
    const b = begin[0]!;
    const data = xc.data.slice(b, b + (size[0] as number));
    return constOut(im, c, { type: xc.type, shape: [data.length], data });
  }
  if (sliced.length === 0) return alias(im, c);
  let node = im.node(x);
  if (isStatic(shape)) {
    node = im.add('slice', [node], { begin, size: size as number[] }, c.base);
  } else {
    // A slice's sizes are fixed numbers in a graph document; where the batch dimension must
    // stay free, pick the window with gather and constant indices instead.
    sliced.forEach((axis, k) => {
      const indices = Array.from({ length: size[axis] as number }, (_, i) => begin[axis]! + i);
      const idx = im.constantNode(
        { type: 'i32', shape: [indices.length], data: indices },
        `${c.base}.indices${k}`,
      );
      node = im.add(
        'gather',
        [node, idx],
        { axis },
        k === sliced.length - 1 ? c.base : `${c.base}.${k}`,
      );
    });
  }
  im.set(c.output(0), { node });
};

const pad: Handler = (im, c) => {
  const x = c.input(0);
  const mode = c.at.string('mode', 'constant');
  if (mode !== 'constant') cannot(`its mode is '${mode}' (Wiregrad pads with a constant)`);
  if (c.input(3)) cannot('it pads chosen axes only (the axes input of opset 18)');
  const raw =
    im.opset >= 11 ? ints(im, c.input(1), 'pads') : (c.at.ints('pads') ?? c.at.ints('paddings'));
  if (!raw) cannot('it has no pads');
  if (raw.some((p) => p < 0)) cannot('it has negative pads (a crop)');
  const rank = raw.length / 2;
  const pads = [...Array(rank).keys()].flatMap((d) => [raw[d]!, raw[d + rank]!]);
  let value = c.at.float('value', 0);
  if (im.opset >= 11 && c.input(2)) value = ints(im, c.input(2), 'constant_value')[0] ?? 0;
  im.set(c.output(0), { node: im.add('pad', [im.node(x)], { pads, value }, c.base) });
};

const gather: Handler = (im, c) => {
  const x = c.input(0);
  const i = c.input(1);
  const shape = im.shape(x);
  const axis = normAxis(c.at.int('axis', 0), shape.length);
  const xc = foldable(im, x);
  const ic = im.constOf(i);
  if (ic) {
    const dim = shape[axis]!;
    const fixed = ic.data.map((v) =>
      typeof v === 'number' && v < 0
        ? dim === 'N'
          ? cannot('a negative index counts from the batch size')
          : v + dim
        : v,
    );
    if (xc && xc.shape.length === 1) {
      const data = (fixed as number[]).map((k) => xc.data[k]!);
      return constOut(im, c, { type: xc.type, shape: [...ic.shape], data });
    }
    const idx = im.constantNode({ type: 'i32', shape: ic.shape, data: fixed }, `${c.base}.indices`);
    return im.set(c.output(0), { node: im.add('gather', [im.node(x), idx], { axis }, c.base) });
  }
  im.set(c.output(0), {
    node: im.add('gather', [im.node(x), im.node(i, 'i32')], { axis }, c.base),
  });
};

const expand: Handler = (im, c) => {
  const x = c.input(0);
  const shape = im.shape(x);
  const target = im.constOf(c.input(1));
  if (!target) cannot('its shape must be a constant known at import time');
  const rank = Math.max(shape.length, target.shape[0] ?? 0);
  const padded: Dim[] = [...Array(rank - shape.length).fill(1), ...shape];
  const wanted: (number | 'N')[] = [...Array(rank - target.data.length).fill(1), ...target.data];
  const out: Dim[] = padded.map((d, i) => {
    const w = wanted[i]!;
    if (d === 'N' || w === 'N') return 'N';
    return w === 1 ? d : w;
  });
  if (out.length === shape.length && out.every((d, i) => d === shape[i])) return alias(im, c);
  const dtype = im.dtype(x);
  if (isStatic(out))
    return im.set(c.output(0), { node: im.add('expand', [im.node(x)], { shape: out }, c.base) });
  // An expand attr is a fixed shape; to keep the batch free, broadcast against zeros instead.
  const zeros = im.add(
    'fill',
    [],
    { shape: out.map((d) => (d === 'N' ? 1 : d)), value: 0, dtype },
    `${c.base}.zeros`,
  );
  im.set(c.output(0), { node: im.add('add', [im.node(x), zeros], {}, c.base) });
};

const cast: Handler = (im, c) => {
  const x = c.input(0);
  const type: ConstType = constTypeOf(c.at.int('to', 1), 'the Cast target');
  const xc = foldable(im, x);
  if (xc) {
    const data = xc.data.map((v) =>
      v === 'N'
        ? v
        : type === 'i32' || type === 'i64'
          ? Math.trunc(v)
          : type === 'bool'
            ? v !== 0
              ? 1
              : 0
            : v,
    );
    return constOut(im, c, { type, shape: xc.shape, data });
  }
  const dtype = engineDType(type);
  if (im.dtype(x) === dtype) return alias(im, c);
  im.set(c.output(0), { node: im.add('cast', [im.node(x)], { dtype }, c.base) });
};

const softmax =
  (op: 'softmax' | 'logSoftmax'): Handler =>
  (im, c) => {
    const x = c.input(0);
    const rank = im.shape(x).length;
    const axis = normAxis(c.at.int('axis', im.opset >= 13 ? -1 : 1), rank);
    // Before opset 13 the op flattened everything from `axis` on: the same only on the last axis.
    if (im.opset < 13 && axis !== rank - 1)
      cannot(
        `before opset 13, ${op} over axis ${axis} of a rank-${rank} tensor flattens the trailing axes`,
      );
    im.set(c.output(0), { node: im.add(op, [im.node(x)], { axis }, c.base) });
  };

const reduce =
  (kind: 'sum' | 'max' | 'min' | 'mean', axesInputSince: number): Handler =>
  (im, c) => {
    const x = c.input(0);
    const shape = im.shape(x);
    const given = attrOrInput(im, c, 'axes', 1, axesInputSince);
    const keepDims = c.at.int('keepdims', 1) === 1;
    if ((!given || given.length === 0) && c.at.int('noop_with_empty_axes', 0) === 1)
      return alias(im, c);
    const axes = [
      ...new Set(
        (given && given.length > 0 ? given : shape.map((_, i) => i)).map((a) =>
          normAxis(a, shape.length),
        ),
      ),
    ].sort((p, q) => p - q);
    const op = kind === 'mean' ? 'sum' : kind;
    const input = im.node(x);
    let node = im.add(op, [input], { axes, keepDims }, kind === 'mean' ? `${c.base}.sum` : c.base);
    if (kind === 'mean') {
      const dtype = im.dtypeOfNode(node);
      if (axes.every((a) => shape[a] !== 'N')) {
        const count = axes.reduce((p, a) => p * (shape[a] as number), 1);
        node = im.add('mul', [node, im.scalar(1 / count, dtype, `${c.base}.scale`)], {}, c.base);
      } else {
        // The count includes the batch size, known only at run time: sum ones shaped like x
        // (x·0 + 1, without a gradient) over the same axes.
        const frozen = im.add('stopGradient', [input], {}, `${c.base}.frozen`);
        const zero = im.add(
          'mul',
          [frozen, im.scalar(0, dtype, `${c.base}.zero`)],
          {},
          `${c.base}.zeros`,
        );
        const ones = im.add(
          'add',
          [zero, im.scalar(1, dtype, `${c.base}.one`)],
          {},
          `${c.base}.ones`,
        );
        const count = im.add('sum', [ones], { axes, keepDims }, `${c.base}.count`);
        node = im.add('div', [node, count], {}, c.base);
      }
    }
    im.set(c.output(0), { node });
  };

const argmax: Handler = (im, c) => {
  const x = c.input(0);
  if (c.at.int('select_last_index', 0) !== 0)
    cannot('it picks the last of equal maxima (Wiregrad picks the first)');
  const axis = normAxis(c.at.int('axis', 0), im.shape(x).length);
  im.set(c.output(0), {
    node: im.add('argmax', [im.node(x)], { axis, keepDims: c.at.int('keepdims', 1) === 1 }, c.base),
  });
};

/**
 * GatherElements, as a one-hot selection: out[…, k, …] = Σ_c data[…, c, …] · [idx[…, k, …] = c],
 * with the gathered axis of data moved last and broadcast against the one-hot of the indices.
 * Differentiable in the data, and free in the batch dimension.
 */
const gatherElements: Handler = (im, c) => {
  const [x, i] = [c.input(0), c.input(1)];
  const shape = im.shape(x);
  const rank = shape.length;
  const axis = normAxis(c.at.int('axis', 0), rank);
  const depth = shape[axis];
  if (depth === 'N') cannot('it gathers along the batch dimension');
  const perm = [...[...Array(rank).keys()].filter((d) => d !== axis), axis];
  const moved =
    axis === rank - 1 ? im.node(x) : im.add('transpose', [im.node(x)], { perm }, `${c.base}.moved`);
  const spread = [...shape.filter((_, d) => d !== axis)];
  spread.splice(axis, 0, 1);
  const aligned = im.add(
    'reshape',
    [moved],
    { shape: shapeAttr([...spread, depth!], 'GatherElements') },
    `${c.base}.aligned`,
  );
  const dtype = im.dtypeOfNode(aligned);
  const hot = im.add(
    'oneHot',
    [im.node(i, 'i32')],
    { depth: depth!, onValue: 1, offValue: 0, dtype },
    `${c.base}.one_hot`,
  );
  const picked = im.add('mul', [aligned, hot], {}, `${c.base}.picked`);
  im.set(c.output(0), { node: im.add('sum', [picked], { axes: [rank], keepDims: false }, c.base) });
};

const matmul: Handler = (im, c) =>
  im.set(c.output(0), {
    node: im.add(
      'matmul',
      operands(im, [c.input(0), c.input(1)]),
      { transposeA: false, transposeB: false },
      c.base,
    ),
  });

const constant: Handler = (im, c) => {
  const t = c.at.tensor('value');
  if (t) return constOut(im, c, readTensor(t, `Constant '${c.base}'`));
  const f = c.at.floats('value_floats');
  if (f) return constOut(im, c, { type: 'f32', shape: [f.length], data: f });
  const i = c.at.ints('value_ints');
  if (i) return constOut(im, c, { type: 'i64', shape: [i.length], data: i });
  if (c.at.has('value_float'))
    return constOut(im, c, { type: 'f32', shape: [], data: [c.at.float('value_float', 0)] });
  if (c.at.has('value_int'))
    return constOut(im, c, { type: 'i64', shape: [], data: [c.at.int('value_int', 0)] });
  cannot('its value is not a tensor or a number');
};

const shapeOp: Handler = (im, c) => {
  const shape = im.shape(c.input(0));
  const rank = shape.length;
  const clamp = (v: number) => Math.min(Math.max(v < 0 ? v + rank : v, 0), rank);
  const dims = shape.slice(clamp(c.at.int('start', 0)), clamp(c.at.int('end', rank)));
  constOut(im, c, { type: 'i64', shape: [dims.length], data: dims });
};

const size: Handler = (im, c) =>
  constOut(im, c, {
    type: 'i64',
    shape: [],
    data: [sizeOf(staticShape(im.shape(c.input(0)), 'the input'))],
  });

const constantOfShape: Handler = (im, c) => {
  const shape = ints(im, c.input(0), 'shape');
  const t = c.at.tensor('value');
  const v = t
    ? readTensor(t, `ConstantOfShape '${c.base}'`)
    : { type: 'f32' as const, shape: [1], data: [0] };
  const count = sizeOf(shape);
  if (count <= 4096)
    return constOut(im, c, {
      type: v.type,
      shape,
      data: new Array<number | 'N'>(count).fill(v.data[0] ?? 0),
    });
  const dtype = engineDType(v.type);
  im.set(c.output(0), {
    node: im.add('fill', [], { shape, value: v.data[0] as number, dtype }, c.base),
  });
};

const range: Handler = (im, c) => {
  const [start, limit, delta] = [0, 1, 2].map(
    (k) => ints(im, c.input(k), ['start', 'limit', 'delta'][k]!)[0]!,
  ) as [number, number, number];
  const type = im.constOf(c.input(0))!.type;
  const count = Math.max(Math.ceil((limit - start) / delta), 0);
  constOut(im, c, {
    type,
    shape: [count],
    data: Array.from({ length: count }, (_, i) => start + i * delta),
  });
};

const oneHot: Handler = (im, c) => {
  const [indices, depthName, valuesName] = [c.input(0), c.input(1), c.input(2)];
  const rank = im.shape(indices).length;
  const axis = c.at.int('axis', -1);
  if (axis !== -1 && axis !== rank) cannot('it puts the one-hot axis somewhere other than last');
  const depth = ints(im, depthName, 'depth')[0]!;
  const values = im.constOf(valuesName);
  if (!values) cannot('its values must be a constant');
  const [offValue, onValue] = values.data as [number, number];
  const dtype: DType = engineDType(values.type);
  im.set(c.output(0), {
    node: im.add('oneHot', [im.node(indices, 'i32')], { depth, onValue, offValue, dtype }, c.base),
  });
};

const where: Handler = (im, c) => {
  const [cond, a, b] = [c.input(0), c.input(1), c.input(2)];
  const [x, y] = operands(im, [a, b]);
  im.set(c.output(0), { node: im.add('where', [im.node(cond, 'bool'), x!, y!], {}, c.base) });
};

const clip: Handler = (im, c) => {
  const x = c.input(0);
  const dtype = im.dtype(x);
  const bound = (attr: string, index: number): number | undefined => {
    if (im.opset < 11) return c.at.has(attr) ? c.at.float(attr, 0) : undefined;
    const name = c.input(index);
    return name ? ints(im, name, attr)[0] : undefined;
  };
  const lo = bound('min', 1);
  const hi = bound('max', 2);
  let node = im.node(x);
  if (lo !== undefined)
    node = im.add(
      'maximum',
      [node, im.scalar(lo, dtype, `${c.base}.min`)],
      {},
      hi === undefined ? c.base : `${c.base}.lower`,
    );
  if (hi !== undefined)
    node = im.add('minimum', [node, im.scalar(hi, dtype, `${c.base}.max`)], {}, c.base);
  im.set(c.output(0), { node });
};

const reciprocal: Handler = (im, c) => {
  const x = c.input(0);
  const one = im.scalar(1, im.dtype(x), `${c.base}.one`);
  im.set(c.output(0), { node: im.add('div', [one, im.node(x)], {}, c.base) });
};

const leakyRelu: Handler = (im, c) =>
  im.set(c.output(0), {
    node: im.add('leakyRelu', [im.node(c.input(0))], { alpha: c.at.float('alpha', 0.01) }, c.base),
  });

const gelu: Handler = (im, c) => {
  const approximate = c.at.string('approximate', 'none');
  if (approximate !== 'none')
    cannot(`it uses the '${approximate}' approximation (Wiregrad's gelu is exact)`);
  unary('gelu')(im, c);
};

/**
 * RandomUniform / RandomNormal with a fixed shape, as the engine's seeded ops (scaled and
 * shifted to [low, high) or to mean and scale). The numbers differ from onnxruntime's: each
 * library has its own generator; the distribution is the same.
 */
const random =
  (kind: 'uniform' | 'normal'): Handler =>
  (im, c) => {
    const shape = c.at.ints('shape') ?? cannot('it has no shape');
    const dtype = engineDType(constTypeOf(c.at.int('dtype', 1), 'the random dtype'));
    if (dtype !== 'f32') cannot('it draws a non-float dtype');
    // ONNX seeds are floats and optional; the engine's are 32-bit integers.
    const seed = c.at.has('seed') ? Math.trunc(c.at.float('seed', 0)) >>> 0 : im.nextSeed();
    const op = kind === 'uniform' ? 'randomUniform' : 'randomNormal';
    const [scale, shift] =
      kind === 'uniform'
        ? [c.at.float('high', 1) - c.at.float('low', 0), c.at.float('low', 0)]
        : [c.at.float('scale', 1), c.at.float('mean', 0)];
    let node = im.add(
      op,
      [],
      { shape, seed, dtype },
      scale === 1 && shift === 0 ? c.base : `${c.base}.draw`,
    );
    if (scale !== 1)
      node = im.add(
        'mul',
        [node, im.scalar(scale, dtype, `${c.base}.scale`)],
        {},
        shift === 0 ? c.base : `${c.base}.scaled`,
      );
    if (shift !== 0)
      node = im.add('add', [node, im.scalar(shift, dtype, `${c.base}.shift`)], {}, c.base);
    im.set(c.output(0), { node });
  };

/**
 * ScatterND with reduction 'add' and one index per update row: the engine's scatterAdd along
 * axis 0 (the form Wiregrad's own export writes).
 */
const scatterND: Handler = (im, c) => {
  const [x, indices, updates] = [c.input(0), c.input(1), c.input(2)];
  if (c.at.string('reduction', 'none') !== 'add')
    cannot("it replaces values (Wiregrad's scatterAdd adds them)");
  const ishape = im.shape(indices);
  if (ishape[ishape.length - 1] !== 1) cannot('its indices address more than the leading axis');
  const flat = shapeAttr(ishape.slice(0, -1), 'ScatterND indices');
  const ic = im.constOf(indices);
  const idx = ic
    ? im.constantNode({ ...ic, type: 'i32', shape: flat }, `${c.base}.indices`)
    : im.add('reshape', [im.node(indices, 'i32')], { shape: flat }, `${c.base}.indices`);
  const dtype = im.dtype(x);
  im.set(c.output(0), {
    node: im.add('scatterAdd', [im.node(x), idx, im.node(updates, dtype)], { axis: 0 }, c.base),
  });
};

/** The tensor ops the importer expresses (layers are in onnx-import-layers.ts), by op_type. */
export const TENSOR_HANDLERS: Readonly<Record<string, Handler>> = {
  RandomUniform: random('uniform'),
  RandomNormal: random('normal'),
  ScatterND: scatterND,
  Neg: unary('neg'),
  Exp: unary('exp'),
  Log: unary('log'),
  Sqrt: unary('sqrt'),
  Abs: unary('abs'),
  Sign: unary('sign'),
  Tanh: unary('tanh'),
  Sigmoid: unary('sigmoid'),
  Relu: unary('relu'),
  Erf: unary('erf'),
  LeakyRelu: leakyRelu,
  Gelu: gelu,
  Identity: alias,
  Dropout: alias,
  Reciprocal: reciprocal,
  Clip: clip,
  ...Object.fromEntries(Object.keys(BINARY).map((op) => [op, binary(op)])),
  Sum: variadic(false),
  Mean: variadic(true),
  Where: where,
  Cast: cast,
  MatMul: matmul,
  Flatten: flatten,
  Reshape: reshape,
  Squeeze: squeeze,
  Unsqueeze: unsqueeze,
  Transpose: transpose,
  Concat: concat,
  Slice: slice,
  Pad: pad,
  Gather: gather,
  GatherElements: gatherElements,
  Expand: expand,
  Softmax: softmax('softmax'),
  LogSoftmax: softmax('logSoftmax'),
  ReduceSum: reduce('sum', 13),
  ReduceMax: reduce('max', 18),
  ReduceMin: reduce('min', 18),
  ReduceMean: reduce('mean', 18),
  ArgMax: argmax,
  Constant: constant,
  Shape: shapeOp,
  Size: size,
  ConstantOfShape: constantOfShape,
  Range: range,
  OneHot: oneHot,
};

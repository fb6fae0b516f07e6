/**
 * The parity cases: several seeded configurations of every op (broadcasting, several axes,
 * ties and exact zeros where an op's gradient has a convention there), each compared with
 * PyTorch by parity.test.ts. Registered ops run through `runOp` with the attributes torch_ref.py
 * receives, so the two sides read the same numbers; composites (mean, stack, the losses and
 * normalisations) call the public function. Tolerances are F32 (rtol 1e-5, atol 1e-6) unless
 * a case states a looser bound and why.
 */

import * as wg from '../../engine/index.js';
import type { Tensor } from '../../engine/index.js';
import type { Tolerance } from '../helpers/numeric.js';
import { type InputSpec, type ParityCase, longSum } from './harness.js';

/**
 * Registered ops with no parity case, each with the reason. randomUniform and randomNormal are
 * our own counter-based generator (a pure function of seed and index): PyTorch's generator draws
 * other numbers by design, so their statistics are tested beside the op (dropout, which draws
 * from them, is compared below with the mask made explicit). input, parameter and constant are
 * graph source nodes: they compute nothing (an input is fed, a constant holds its values, a
 * parameter is made by its seeded init rule, tested with engine/nn's initialisers).
 */
export const EXCLUDED: ReadonlyMap<string, string> = new Map([
  ['randomUniform', 'own counter-based generator; torch draws different numbers by design'],
  ['randomNormal', 'own counter-based generator; torch draws different numbers by design'],
  ['input', 'graph source: a value fed at run time, nothing computed'],
  ['parameter', 'graph source: made by its seeded init rule, nothing computed'],
  ['constant', 'graph source: holds its values, nothing computed'],
  ['placeholder', 'stands for an op Wiregrad cannot run; it computes nothing'],
  [
    'fusedElementwise',
    'a program of elementwise ops, each with its own case; engine/jit tests check it equals them',
  ],
]);

// ---- input builders --------------------------------------------------------------------

type Shape = readonly number[];

/** Floats uniform in [lo, hi). */
const f = (shape: Shape, lo = -2, hi = 2, extra: Partial<InputSpec> = {}): InputSpec => ({
  shape,
  dtype: 'f32',
  lo,
  hi,
  ...extra,
});
/** Floats on a grid of `step`: exact zeros and many ties. */
const q = (shape: Shape, step = 0.5, lo = -1.5, hi = 1.5): InputSpec => f(shape, lo, hi, { step });
/** i32 uniform in [lo, hi). */
const ints = (shape: Shape, lo: number, hi: number): InputSpec => ({ shape, dtype: 'i32', lo, hi });
const bools = (shape: Shape): InputSpec => ({ shape, dtype: 'bool', lo: 0, hi: 1 });
/** Explicit values. */
const vals = (
  shape: Shape,
  data: readonly number[],
  dtype: InputSpec['dtype'] = 'f32',
): InputSpec => ({
  shape,
  dtype,
  lo: 0,
  hi: 0,
  data,
});
/** A constant input: its gradient is not compared. */
const fixed = (spec: InputSpec): InputSpec => ({ ...spec, grad: false });

const cases: ParityCase[] = [];

interface CaseOptions {
  readonly run?: (xs: Tensor[]) => Tensor;
  readonly tol?: Tolerance;
  /** Distinguishes cases whose inputs and attributes print alike. */
  readonly label?: string;
}

function addCase(
  op: string,
  inputs: readonly InputSpec[],
  attrs: Record<string, unknown> = {},
  options: CaseOptions = {},
): void {
  const shapes = inputs.map((s) => `${s.dtype}[${s.shape.join(',')}]`).join(' ');
  const attrText = Object.keys(attrs).length > 0 ? ` ${JSON.stringify(attrs)}` : '';
  const id = `${op} ${shapes}${attrText}${options.label ? ` (${options.label})` : ''}`;
  if (cases.some((c) => c.id === id)) throw new Error(`duplicate parity case id '${id}'`);
  cases.push({ id, op, inputs, attrs, ...options });
}

// ---- elementwise unary -------------------------------------------------------------------

const unaryDomains: Record<string, InputSpec> = {
  neg: f([2, 3, 4]),
  exp: f([2, 3, 4], -4, 4),
  log: f([2, 3, 4], 0.05, 8),
  sqrt: f([2, 3, 4], 0.05, 8),
  // The gradient at exactly 0 is a convention (sign(0) = 0 in both): the grid includes zeros.
  abs: q([3, 5]),
  sign: q([3, 5]),
  tanh: f([2, 3, 4], -4, 4),
  sigmoid: f([2, 3, 4], -8, 8),
  relu: q([3, 5]),
  // erf and gelu reach their tails (|x| > 3) where erf saturates.
  erf: f([2, 3, 4], -4.5, 4.5),
  gelu: f([2, 3, 4], -6, 6),
};
for (const [op, x] of Object.entries(unaryDomains)) {
  addCase(op, [x]);
  addCase(op, [{ ...x, shape: [] }]); // 0-d
}
addCase('neg', [f([0, 3])]); // empty
addCase('leakyRelu', [q([3, 5])], { alpha: 0.01 });
addCase('leakyRelu', [f([2, 3, 4], -3, 3)], { alpha: 0.2 });

// ---- elementwise binary -----------------------------------------------------------------

/** Shape pairs: equal, trailing broadcast, both sides broadcast, 0-d against a matrix. */
const broadcastPairs: [Shape, Shape][] = [
  [
    [3, 4],
    [3, 4],
  ],
  [[2, 3, 4], [4]],
  [
    [2, 1, 4],
    [3, 1],
  ],
  [[], [2, 3]],
  [
    [5, 1],
    [1, 5],
  ],
];
for (const [sa, sb] of broadcastPairs) {
  // Broadcast gradients sum over up to 6 elements: F32 holds.
  addCase('add', [f(sa), f(sb)]);
  addCase('sub', [f(sa), f(sb)]);
  addCase('mul', [f(sa), f(sb)]);
  addCase('div', [f(sa), f(sb, 0.5, 2)]);
  addCase('pow', [f(sa, 0.3, 2.5), f(sb, -2, 2)]);
  addCase('maximum', [q(sa), q(sb)]);
  addCase('minimum', [q(sa), q(sb)]);
  addCase('equal', [q(sa), q(sb)]);
  addCase('greater', [q(sa), q(sb)]);
  addCase('less', [q(sa), q(sb)]);
}
addCase('div', [f([3, 4]), f([3, 4], -2, -0.5)], {}, { label: 'negative divisor' });
// A negative base with integer exponents: d/db of a^b is NaN there (log of a negative), in both.
addCase('pow', [f([3, 4], -2, 2), f([3, 4], -3, 4, { step: 1 })], {}, { label: 'negative base' });
addCase('add', [f([0, 3]), f([3])]); // empty
// Integer arithmetic keeps i32; division of integers is true division to f32.
addCase('add', [ints([3, 4], -50, 50), ints([4], -50, 50)]);
addCase('sub', [ints([3, 4], -50, 50), ints([3, 4], -50, 50)]);
addCase('mul', [ints([3, 4], -50, 50), ints([1, 4], -50, 50)]);
addCase('div', [ints([3, 4], -50, 50), ints([3, 4], 1, 9)]);
addCase('maximum', [ints([3, 4], -5, 5), ints([3, 4], -5, 5)]);
addCase('minimum', [ints([3, 4], -5, 5), ints([3, 4], -5, 5)]);
addCase('equal', [ints([3, 4], 0, 3), ints([4], 0, 3)]);
addCase('greater', [ints([3, 4], 0, 3), ints([3, 4], 0, 3)]);
addCase('less', [ints([3, 4], 0, 3), ints([3, 1], 0, 3)]);
addCase('equal', [bools([2, 5]), bools([5])]);

addCase('where', [bools([3, 4]), f([3, 4]), f([3, 4])]);
addCase('where', [bools([3, 1]), f([2, 3, 4]), f([4])]);
addCase('where', [bools([2, 3, 4]), f([]), f([3, 1])]);
addCase('where', [bools([4]), ints([3, 4], -9, 9), ints([3, 4], -9, 9)]);

// cast: floats to i32 truncate toward zero, nonzero to true, bools to 0/1.
addCase('cast', [f([3, 4], -4, 4)], { dtype: 'i32' });
addCase('cast', [q([3, 4])], { dtype: 'bool' });
addCase('cast', [f([3, 4])], { dtype: 'f64' });
addCase('cast', [ints([3, 4], -100, 100)], { dtype: 'f32' });
addCase('cast', [ints([3, 4], -2, 3)], { dtype: 'bool' });
addCase('cast', [bools([3, 4])], { dtype: 'f32' });
addCase('cast', [bools([3, 4])], { dtype: 'i32' });

// identity is x.clone(); stopGradient is x.detach(): no gradient, so none is compared.
addCase('identity', [f([2, 3])]);
addCase('stopGradient', [f([2, 3])]);

// ---- creation ----------------------------------------------------------------------------

addCase('fill', [], { shape: [2, 3], value: 1.5, dtype: 'f32' });
addCase('fill', [], { shape: [], value: -7, dtype: 'i32' });
addCase('fill', [], { shape: [4], value: 1, dtype: 'bool' });
addCase('fill', [], { shape: [2, 0], value: 3, dtype: 'f32' });
addCase('arange', [], { start: 0, stop: 10, step: 1, dtype: 'i32' });
addCase('arange', [], { start: 5, stop: -4, step: -2, dtype: 'i32' });
addCase('arange', [], { start: 0.5, stop: 3.2, step: 0.3, dtype: 'f32' });
addCase('arange', [], { start: -1, stop: 1, step: 0.1, dtype: 'f32' });
addCase('arange', [], { start: 3, stop: 3, step: 1, dtype: 'f32' });

// ---- reductions --------------------------------------------------------------------------

const reduceAxes: (readonly number[])[] = [[0], [1], [2], [0, 2], [1, 2], [0, 1, 2]];
for (const axes of reduceAxes) {
  for (const keepDims of [false, true]) {
    // Sums of up to 24 terms; amax/amin share the gradient among ties (the grid makes ties).
    addCase('sum', [f([2, 3, 4])], { axes, keepDims }, { tol: longSum(24) });
    addCase('max', [q([2, 3, 4])], { axes, keepDims });
    addCase('min', [q([2, 3, 4])], { axes, keepDims });
    addCase(
      'mean',
      [f([2, 3, 4])],
      { axes, keepDims },
      {
        run: ([x]) => wg.ops.mean(x!, axes, keepDims),
        tol: longSum(24),
      },
    );
  }
}
addCase('sum', [f([2, 3])], { axes: [], keepDims: false }, { label: 'no axes' });
addCase('sum', [f([])], { axes: [], keepDims: false });
addCase('sum', [f([0, 3])], { axes: [0], keepDims: false }); // an empty sum is 0
addCase('sum', [ints([3, 4], -100, 100)], { axes: [1], keepDims: false });
addCase('max', [ints([3, 4], -100, 100)], { axes: [0], keepDims: true });
addCase('min', [f([4, 5])], { axes: [1], keepDims: false });
// Wide rows: a sum of 1000 terms needs the sqrt(k) absolute floor.
addCase('sum', [f([3, 1000])], { axes: [1], keepDims: false }, { tol: longSum(1000) });
addCase(
  'mean',
  [f([3, 1000])],
  { axes: [0, 1], keepDims: false },
  {
    run: ([x]) => wg.ops.mean(x!),
    tol: longSum(3000),
    label: 'all axes',
  },
);
for (const axis of [0, 1, 2])
  for (const keepDims of [false, true])
    // Ties on the grid: both take the first maximal index.
    addCase('argmax', [q([3, 4, 5])], { axis, keepDims });
addCase('argmax', [ints([6, 7], -3, 3)], { axis: 1, keepDims: false });

// ---- movement ----------------------------------------------------------------------------

addCase('reshape', [f([2, 3, 4])], { shape: [4, 6] });
addCase('reshape', [f([2, 3, 4])], { shape: [24] });
addCase('reshape', [f([2, 3, 4])], { shape: [2, 1, 12] });
addCase('reshape', [f([1])], { shape: [] });
addCase('expand', [f([3, 1])], { shape: [2, 3, 4] });
addCase('expand', [f([])], { shape: [2, 2] });
addCase('expand', [f([1, 4])], { shape: [3, 4] });
addCase('expand', [ints([2, 1], 0, 9)], { shape: [2, 3] });
addCase('transpose', [f([3, 4])], { perm: [1, 0] });
addCase('transpose', [f([2, 3, 4])], { perm: [2, 0, 1] });
addCase('transpose', [f([2, 3, 4, 5])], { perm: [0, 2, 1, 3] });
addCase('transpose', [bools([2, 3])], { perm: [1, 0] });
addCase('flatten', [f([2, 3, 4])], { startAxis: 1 }, { run: ([x]) => wg.ops.flatten(x!, 1) });
addCase('squeeze', [f([2, 1, 3, 1])], {}, { run: ([x]) => wg.ops.squeeze(x!) });
addCase('squeeze', [f([2, 1, 3, 1])], { axis: 1 }, { run: ([x]) => wg.ops.squeeze(x!, 1) });
addCase('unsqueeze', [f([2, 3])], { axis: 0 }, { run: ([x]) => wg.ops.unsqueeze(x!, 0) });
addCase('unsqueeze', [f([2, 3])], { axis: -1 }, { run: ([x]) => wg.ops.unsqueeze(x!, -1) });

addCase('slice', [f([5, 6])], { begin: [1, 2], size: [3, 4] });
addCase('slice', [f([2, 5, 6])], { begin: [1, 0, 3], size: [1, 5, 3] });
addCase('slice', [f([4, 3])], { begin: [4, 0], size: [0, 3] });
addCase('slice', [ints([5], 0, 9)], { begin: [2], size: [2] });
addCase('pad', [f([3, 4])], { pads: [1, 2, 0, 3], value: 0 });
addCase('pad', [f([2, 3, 4])], { pads: [0, 0, 1, 1, 2, 0], value: 1.5 });
addCase('pad', [f([5])], { pads: [0, 0], value: 0 });
addCase('pad', [ints([2, 2], 0, 9)], { pads: [1, 1, 1, 1], value: -1 });
addCase('concat', [f([2, 3]), f([4, 3])], { axis: 0 });
addCase('concat', [f([2, 3, 1]), f([2, 3, 4]), f([2, 3, 2])], { axis: 2 });
addCase('concat', [f([2, 3]), f([2, 3])], { axis: 1 });
addCase('concat', [f([3])], { axis: 0 });
addCase('concat', [ints([2, 2], 0, 9), ints([2, 1], 0, 9)], { axis: 1 });
addCase(
  'stack',
  [f([2, 3]), f([2, 3]), f([2, 3])],
  { axis: 0 },
  {
    run: (xs) => wg.ops.stack(xs, 0),
  },
);
addCase('stack', [f([2, 3]), f([2, 3])], { axis: 2 }, { run: (xs) => wg.ops.stack(xs, 2) });

// gather: index tensors of any rank (0-d, 1-d, 2-d), repeated indices, every axis.
addCase('gather', [f([5, 3]), vals([6], [4, 0, 2, 2, 4, 1], 'i32')], { axis: 0 });
addCase('gather', [f([2, 5, 3]), ints([2, 3], 0, 5)], { axis: 1 });
addCase('gather', [f([2, 5, 3]), ints([4], 0, 3)], { axis: 2 });
addCase('gather', [f([4, 3]), vals([], [2], 'i32')], { axis: 0 });
addCase('gather', [ints([4, 3], -9, 9), ints([2, 2], 0, 4)], { axis: 0 });
// scatterAdd: repeated indices accumulate; gradients flow to x and to the updates.
addCase('scatterAdd', [f([5, 3]), vals([6], [4, 0, 2, 2, 4, 1], 'i32'), f([6, 3])], { axis: 0 });
addCase('scatterAdd', [f([2, 5, 3]), ints([2, 3], 0, 5), f([2, 2, 3, 3])], { axis: 1 });
addCase('scatterAdd', [f([2, 5, 3]), ints([4], 0, 3), f([2, 5, 4])], { axis: 2 });
addCase('scatterAdd', [ints([4, 3], -9, 9), ints([5], 0, 4), ints([5, 3], -9, 9)], { axis: 0 });
addCase('oneHot', [ints([2, 3], 0, 5)], { depth: 5, onValue: 1, offValue: 0, dtype: 'f32' });
addCase('oneHot', [ints([4], 0, 3)], { depth: 3, onValue: 2, offValue: -1, dtype: 'f32' });
addCase('oneHot', [ints([2, 2], 0, 4)], { depth: 4, onValue: 1, offValue: 0, dtype: 'i32' });

// ---- matmul and linear ---------------------------------------------------------------------

// Long dot products: the sqrt(k) absolute floor (longSum) with k the inner dimension, or for
// the gradients the longest sum they take (over m, n or the batch).
const mm = (a: InputSpec, b: InputSpec, transposeA = false, transposeB = false, k = 8): void =>
  addCase('matmul', [a, b], { transposeA, transposeB }, { tol: longSum(k) });
mm(f([3, 4]), f([4, 5]));
mm(f([4, 3]), f([4, 5]), true);
mm(f([3, 4]), f([5, 4]), false, true);
mm(f([4, 3]), f([5, 4]), true, true);
mm(f([2, 1, 3, 4]), f([3, 4, 5]), false, false, 24); // batch broadcast on both sides
mm(f([2, 4, 3]), f([4, 2]), true); // a batched, b shared
mm(f([4]), f([4, 5])); // 1-D a: a row vector, its axis removed
mm(f([3, 4]), f([4])); // 1-D b: a column vector
mm(f([4]), f([4])); // dot product: a 0-d result
mm(f([2, 3, 4]), f([4]), false, true); // a transpose flag on a 1-D operand does nothing
mm(f([8, 256]), f([256, 6]), false, false, 256);
addCase('matmul', [ints([3, 4], -9, 9), ints([4, 2], -9, 9)], {
  transposeA: false,
  transposeB: false,
});

addCase(
  'linear',
  [f([5, 4]), f([3, 4]), f([3])],
  {},
  {
    run: ([x, w, b]) => wg.ops.linear(x!, w!, b),
    tol: longSum(8),
  },
);
addCase(
  'linear',
  [f([2, 5, 4]), f([3, 4])],
  {},
  {
    run: ([x, w]) => wg.ops.linear(x!, w!),
    tol: longSum(10),
  },
);

// ---- conv2d and its backward ops -----------------------------------------------------------

interface ConvConfig {
  readonly x: Shape;
  readonly w: Shape;
  readonly stride: readonly [number, number];
  /** [top, left, bottom, right]. */
  readonly padding: readonly [number, number, number, number];
  readonly dilation: readonly [number, number];
  readonly groups: number;
}

const conv = (
  x: Shape,
  w: Shape,
  stride: readonly [number, number] = [1, 1],
  padding: readonly [number, number, number, number] = [0, 0, 0, 0],
  dilation: readonly [number, number] = [1, 1],
  groups = 1,
): ConvConfig => ({ x, w, stride, padding, dilation, groups });

const convConfigs: ConvConfig[] = [
  conv([2, 3, 7, 7], [4, 3, 3, 3]),
  conv([2, 3, 7, 7], [4, 3, 3, 3], [2, 2], [1, 1, 1, 1]),
  conv([1, 2, 8, 8], [3, 2, 3, 3], [2, 2]), // stride leaves row 7 unread: dx is 0 there
  conv([1, 2, 9, 8], [3, 2, 3, 2], [1, 1], [2, 1, 2, 1], [2, 2]), // dilation, non-square kernel
  conv([2, 4, 6, 6], [6, 2, 3, 3], [1, 1], [1, 1, 1, 1], [1, 1], 2), // groups
  conv([1, 3, 6, 5], [3, 1, 3, 3], [1, 2], [1, 1, 1, 1], [1, 1], 3), // depthwise
  conv([1, 2, 5, 5], [2, 2, 2, 2], [1, 1], [0, 0, 1, 1]), // 'same' for an even kernel
  conv([1, 2, 5, 6], [2, 2, 3, 3], [1, 1], [0, 1, 2, 0]), // asymmetric padding (ONNX pads)
  conv([2, 3, 5, 4], [5, 3, 1, 1]), // 1×1
  conv([1, 16, 6, 6], [8, 16, 3, 3], [1, 1], [1, 1, 1, 1]), // 144-term sums
];

function convOutShape(c: ConvConfig): number[] {
  const [n, , h, w] = c.x as [number, number, number, number];
  const [cout, , kh, kw] = c.w as [number, number, number, number];
  const [pt, pl, pb, pr] = c.padding;
  const ho = Math.floor((h + pt + pb - c.dilation[0] * (kh - 1) - 1) / c.stride[0]) + 1;
  const wo = Math.floor((w + pl + pr - c.dilation[1] * (kw - 1) - 1) / c.stride[1]) + 1;
  return [n, cout, ho, wo];
}

for (const c of convConfigs) {
  const attrs = {
    stride: [...c.stride],
    padding: [...c.padding],
    dilation: [...c.dilation],
    groups: c.groups,
  };
  const y = convOutShape(c);
  const [n, cin, , ,] = c.x as [number, number, number, number];
  const [cout, , kh, kw] = c.w as [number, number, number, number];
  // Each output sums cin/groups·kh·kw products; dx sums over cout/groups·kh·kw taps and dw
  // over n·Ho·Wo positions.
  const k = Math.max((cin / c.groups) * kh * kw, (cout / c.groups) * kh * kw, n * y[2]! * y[3]!);
  addCase('conv2d', [f(c.x), f(c.w)], attrs, { tol: longSum(k) });
  addCase(
    'conv2dBackpropInput',
    [f(y), f(c.w)],
    { ...attrs, inputShape: [...c.x] },
    {
      tol: longSum(k),
    },
  );
  addCase(
    'conv2dBackpropFilter',
    [f(c.x), f(y)],
    { ...attrs, filterShape: [...c.w] },
    {
      tol: longSum(k),
    },
  );
}

// ---- pooling ----------------------------------------------------------------------------

interface PoolConfig {
  readonly x: Shape;
  readonly kernelSize: readonly [number, number];
  readonly stride: readonly [number, number];
  readonly padding: readonly [number, number];
}

const poolConfigs: PoolConfig[] = [
  { x: [2, 3, 6, 6], kernelSize: [2, 2], stride: [2, 2], padding: [0, 0] },
  { x: [1, 2, 7, 7], kernelSize: [3, 3], stride: [2, 2], padding: [1, 1] },
  { x: [1, 2, 5, 6], kernelSize: [3, 2], stride: [1, 2], padding: [1, 0] },
  { x: [2, 1, 5, 5], kernelSize: [3, 3], stride: [1, 1], padding: [0, 0] }, // overlapping
];

function poolOutShape(c: PoolConfig): number[] {
  const [n, ch, h, w] = c.x as [number, number, number, number];
  return [
    n,
    ch,
    Math.floor((h + 2 * c.padding[0] - c.kernelSize[0]) / c.stride[0]) + 1,
    Math.floor((w + 2 * c.padding[1] - c.kernelSize[1]) / c.stride[1]) + 1,
  ];
}

for (const c of poolConfigs) {
  const attrs = {
    kernelSize: [...c.kernelSize],
    stride: [...c.stride],
    padding: [...c.padding],
  };
  const y = poolOutShape(c);
  // Inputs on a coarse grid tie inside windows: both libraries pick the first maximum.
  addCase('maxPool2d', [q(c.x)], attrs, { label: 'ties' });
  addCase('maxPool2d', [f(c.x)], attrs);
  addCase('maxPool2dGrad', [q(c.x), f(y)], attrs);
  addCase('maxPool2dGather', [q(c.x), f(c.x)], attrs);
  for (const countIncludePad of [true, false]) {
    if (!countIncludePad && c.padding[0] === 0 && c.padding[1] === 0) continue;
    addCase('avgPool2d', [f(c.x)], { ...attrs, countIncludePad });
    addCase('avgPool2dGrad', [f(y)], { ...attrs, countIncludePad, inputShape: [...c.x] });
  }
}

// ---- softmax, losses --------------------------------------------------------------------

for (const op of ['softmax', 'logSoftmax']) {
  addCase(op, [f([3, 5], -3, 3)], { axis: 1 });
  addCase(op, [f([3, 5], -3, 3)], { axis: 0 });
  addCase(op, [f([2, 3, 4], -3, 3)], { axis: 1 });
  // Large logits: without subtracting the maximum, exp overflows float32.
  addCase(op, [f([4, 6], -80, 80)], { axis: 1 });
}

for (const reduction of ['mean', 'sum', 'none'] as const)
  addCase(
    'crossEntropy',
    [f([4, 5], -3, 3), ints([4], 0, 5)],
    { reduction },
    {
      run: ([x, t]) => wg.ops.crossEntropy(x!, t!, { reduction }),
    },
  );
addCase(
  'crossEntropy',
  [f([6, 4], -3, 3), ints([6], 0, 4)],
  { labelSmoothing: 0.1 },
  {
    run: ([x, t]) => wg.ops.crossEntropy(x!, t!, { labelSmoothing: 0.1 }),
  },
);
// Spatial: logits [N, C, H, W] against labels [N, H, W].
addCase(
  'crossEntropy',
  [f([2, 3, 4, 4], -3, 3), ints([2, 4, 4], 0, 3)],
  {
    reduction: 'sum',
    labelSmoothing: 0.2,
  },
  {
    run: ([x, t]) => wg.ops.crossEntropy(x!, t!, { reduction: 'sum', labelSmoothing: 0.2 }),
    tol: longSum(32),
  },
);

for (const reduction of ['mean', 'sum', 'none'] as const)
  addCase(
    'mseLoss',
    [f([3, 4]), f([3, 4])],
    { reduction },
    {
      run: ([p, t]) => wg.ops.mseLoss(p!, t!, { reduction }),
      tol: longSum(12),
    },
  );

// ---- normalisation ----------------------------------------------------------------------

// Normalised values divide by the batch's standard deviation, and the gradient of batch and
// layer norm subtracts two means from dy: cancellation costs a few ulps, within longSum(n).
addCase(
  'batchNorm',
  [f([6, 3]), f([3], 0.5, 2), f([3])],
  { training: true, affine: true },
  {
    run: ([x, g, b]) => wg.ops.batchNorm(x!, { gamma: g, beta: b, training: true }),
    tol: longSum(6),
  },
);
addCase(
  'batchNorm',
  [f([2, 3, 4, 4])],
  { training: true },
  {
    run: ([x]) => wg.ops.batchNorm(x!, { training: true }),
    tol: longSum(32),
  },
);
addCase(
  'batchNorm',
  [f([4, 2, 3]), f([2], 0.5, 2), f([2]), fixed(f([2])), fixed(f([2], 0.5, 2))],
  {
    training: false,
    affine: true,
    running: true,
    eps: 1e-3,
  },
  {
    run: ([x, g, b, rm, rv]) =>
      wg.ops.batchNorm(x!, {
        gamma: g,
        beta: b,
        runningMean: rm,
        runningVar: rv,
        training: false,
        eps: 1e-3,
      }),
  },
);
// The running statistics after one training step (unbiased variance, momentum 0.3).
addCase(
  'batchNorm',
  [fixed(f([5, 3, 2])), fixed(f([3])), fixed(f([3], 0.5, 2))],
  {
    training: true,
    running: true,
    momentum: 0.3,
    returnRunningStats: true,
  },
  {
    run: ([x, rm, rv]) => {
      wg.ops.batchNorm(x!, { runningMean: rm, runningVar: rv, training: true, momentum: 0.3 });
      return wg.ops.concat([rm!, rv!]);
    },
    label: 'running statistics',
  },
);

// The registered op (what graph documents name): five inputs, pure. Forward values and the
// gradients of x, weight and bias in training and eval; the running statistics are state
// (fixed: they get no gradient) and stay unchanged, which the module tests check.
const bnInputs = (x: InputSpec, c: number): InputSpec[] => [
  x,
  f([c], 0.5, 2),
  f([c]),
  fixed(f([c], -0.5, 0.5)),
  fixed(f([c], 0.5, 2)),
];
addCase('batchNorm', bnInputs(f([6, 3]), 3), { training: true }, { tol: longSum(6) });
addCase(
  'batchNorm',
  bnInputs(f([2, 3, 4, 4], -3, 3), 3),
  { training: true, momentum: 0.2 },
  {
    tol: longSum(32),
  },
);
addCase(
  'batchNorm',
  bnInputs(f([3, 2, 5]), 2),
  { training: true, eps: 1e-3 },
  {
    tol: longSum(15),
  },
);
addCase('batchNorm', bnInputs(f([5, 4]), 4), { training: false });
addCase('batchNorm', bnInputs(f([2, 3, 3, 3]), 3), { training: false, eps: 1e-3 });

addCase(
  'layerNorm',
  [f([4, 6]), f([6], 0.5, 2), f([6])],
  { normalizedShape: [6] },
  {
    run: ([x, g, b]) => wg.ops.layerNorm(x!, 6, { gamma: g, beta: b }),
    tol: longSum(6),
  },
);
addCase(
  'layerNorm',
  [f([2, 3, 4]), f([3, 4], 0.5, 2), f([3, 4])],
  { normalizedShape: [3, 4] },
  {
    run: ([x, g, b]) => wg.ops.layerNorm(x!, [3, 4], { gamma: g, beta: b }),
    tol: longSum(12),
  },
);
addCase(
  'layerNorm',
  [f([3, 8])],
  { normalizedShape: [8], eps: 0.1 },
  {
    run: ([x]) => wg.ops.layerNorm(x!, [8], { eps: 0.1 }),
    tol: longSum(8),
  },
);

// ---- dropout ----------------------------------------------------------------------------

// Dropout's mask is our own generator's (see EXCLUDED): the case draws the same uniforms the op
// draws (same seed, shape and dtype), hands torch the mask u >= p, and compares the
// deterministic part, x · mask / (1 − p), and its gradient.
const dropoutSeed = 77;
const dropoutShape = [4, 5];
const dropoutP = 0.3;
const dropoutMask = wg.tidy(() =>
  Array.from(wg.rand(dropoutShape, { seed: dropoutSeed }).dataSync(), (u) =>
    u < dropoutP ? 0 : 1,
  ),
);
addCase(
  'dropout',
  [f(dropoutShape), fixed(vals(dropoutShape, dropoutMask))],
  { p: dropoutP },
  {
    run: ([x]) => wg.ops.dropout(x!, dropoutP, { seed: dropoutSeed }),
  },
);
// No randomness: eval mode and p = 0 are the identity, p = 1 drops everything.
addCase(
  'dropout',
  [f([3, 4])],
  { p: 0.5, training: false },
  {
    run: ([x]) => wg.ops.dropout(x!, 0.5, { training: false }),
  },
);
addCase('dropout', [f([3, 4])], { p: 0 }, { run: ([x]) => wg.ops.dropout(x!, 0) });
addCase('dropout', [f([3, 4])], { p: 1 }, { run: ([x]) => wg.ops.dropout(x!, 1) });

export { cases };

/**
 * Neural-network ops. Primitives with kernels: `matmul` (batched, broadcasting, 1-D operands
 * promoted as in NumPy, transpose flags so gradients never copy a transpose), `conv2d` (NCHW)
 * with its two backward ops `conv2dBackpropInput` / `conv2dBackpropFilter`, `maxPool2d` /
 * `avgPool2d` with their backward ops, and numerically stable `softmax` / `logSoftmax`. Every
 * backward op has a gradient rule of its own (conv backprops and pool grads are linear in the
 * upstream gradient, and their adjoints are the forward ops), so grad-of-grad works. The losses
 * and normalisations below them (`crossEntropy`, `mseLoss`, `batchNorm`, `layerNorm`,
 * `dropout`, `linear`) are compositions of ops: no kernels of their own, gradients for free.
 */

import { DTypeError, ShapeError, WiregradError, formatShape } from '../core/errors.js';
import { type Shape, normalizeAxis, shapesEqual, sizeOf } from '../core/shape.js';
import { runOp } from '../runtime/dispatch.js';
import { noGrad } from '../autograd/grad.js';
import { tidy } from '../runtime/scope.js';
import type { Tensor } from '../tensor.js';
import { type OpCost, type TensorMeta, defineOp } from './registry.js';
import { asTensor, requireFloat, sumToShape } from './util.js';
import { add, cast, div, exp, less, mul, neg, sqrt, sub, where } from './elementwise.js';
import { mean, sum } from './reduce.js';
import { oneHot, reshape, transpose } from './movement.js';
import { rand } from './creation.js';

const F32 = 4;

/** Reshape only when the shape changes (reshape is a view, but a node is a node). */
function reshapeTo(x: Tensor, shape: Shape): Tensor {
  return shapesEqual(x.shape, shape) ? x : reshape(x, shape);
}

function requireSameDType(op: string, a: TensorMeta, b: TensorMeta): void {
  if (a.dtype !== b.dtype)
    throw new DTypeError(
      `operands differ in dtype: ${a.dtype} ${formatShape(a.shape)} and ${b.dtype} ` +
        `${formatShape(b.shape)}; cast one of them (x.cast('${a.dtype}'))`,
      { op },
    );
}

// ---- matmul -----------------------------------------------------------------------------

export interface MatmulOptions {
  /** Use a's last two axes transposed (ignored for a 1-D a). */
  readonly transposeA?: boolean;
  /** Use b's last two axes transposed (ignored for a 1-D b). */
  readonly transposeB?: boolean;
}

interface MatmulAttrs {
  readonly transposeA: boolean;
  readonly transposeB: boolean;
}

interface MatmulGeometry {
  /** The operand shapes with 1-D operands promoted: a [k] → [1, k], b [k] → [k, 1]. */
  readonly aShape: readonly number[];
  readonly bShape: readonly number[];
  /** Whether each transpose flag applies (a flag on a 1-D operand does nothing). */
  readonly transposeA: boolean;
  readonly transposeB: boolean;
  /** The broadcast batch shape. */
  readonly batch: readonly number[];
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** [...batch, m, n], less the dimensions that promotion added. */
  readonly outShape: readonly number[];
}

function innerMismatch(a: Shape, b: Shape, attrs: MatmulAttrs, ka: number, kb: number): never {
  const tA = attrs.transposeA && a.length > 1;
  const tB = attrs.transposeB && b.length > 1;
  const aAxis = tA ? 'second-to-last' : 'last';
  const bAxis = b.length === 1 ? 'only' : tB ? 'last' : 'second-to-last';
  // Would flipping one flag make the inner dimensions agree? Then say so.
  const hints: string[] = [];
  if (b.length > 1) {
    const kbFlipped = tB ? b[b.length - 2]! : b[b.length - 1]!;
    if (kbFlipped === ka) hints.push(`transposeB: ${!tB} (or transpose b)`);
  }
  if (a.length > 1) {
    const kaFlipped = tA ? a[a.length - 1]! : a[a.length - 2]!;
    if (kaFlipped === kb) hints.push(`transposeA: ${!tA} (or transpose a)`);
  }
  const hint =
    hints.length > 0
      ? `did you mean ${hints.join(' or ')}?`
      : `a's ${aAxis} dimension must equal b's ${bAxis} dimension; check the operands, or ` +
        `transpose one of them`;
  throw new ShapeError(
    `inner dimensions differ: a ${formatShape(a)} has ${ka} along its ${aAxis} axis but ` +
      `b ${formatShape(b)} has ${kb} along its ${bAxis} axis; ${hint}`,
    { op: 'matmul' },
  );
}

function matmulGeometry(a: Shape, b: Shape, attrs: MatmulAttrs): MatmulGeometry {
  if (a.length === 0 || b.length === 0)
    throw new ShapeError(
      `needs operands of rank 1 or more, got a ${formatShape(a)} and b ${formatShape(b)}; ` +
        `use mul for scalars`,
      { op: 'matmul' },
    );
  const transposeA = attrs.transposeA && a.length > 1;
  const transposeB = attrs.transposeB && b.length > 1;
  const aShape = a.length === 1 ? [1, a[0]!] : [...a];
  const bShape = b.length === 1 ? [b[0]!, 1] : [...b];
  const ra = aShape.length;
  const rb = bShape.length;
  const [m, ka] = transposeA
    ? [aShape[ra - 1]!, aShape[ra - 2]!]
    : [aShape[ra - 2]!, aShape[ra - 1]!];
  const [kb, n] = transposeB
    ? [bShape[rb - 1]!, bShape[rb - 2]!]
    : [bShape[rb - 2]!, bShape[rb - 1]!];
  if (ka !== kb) innerMismatch(a, b, attrs, ka, kb);
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const rank = Math.max(aBatch.length, bBatch.length);
  const batch: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = aBatch[aBatch.length - rank + i] ?? 1;
    const db = bBatch[bBatch.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1)
      throw new ShapeError(
        `batch dimensions of a ${formatShape(a)} and b ${formatShape(b)} cannot be broadcast ` +
          `(${formatShape(aBatch)} vs ${formatShape(bBatch)}); they must be equal or 1`,
        { op: 'matmul' },
      );
    batch.push(da === 1 ? db : da);
  }
  const outShape = [...batch, ...(a.length === 1 ? [] : [m]), ...(b.length === 1 ? [] : [n])];
  return { aShape, bShape, transposeA, transposeB, batch, m, n, k: ka, outShape };
}

defineOp<MatmulAttrs>({
  name: 'matmul',
  arity: 2,
  attrs: {
    transposeA: { kind: 'bool', doc: "use a's last two axes transposed" },
    transposeB: { kind: 'bool', doc: "use b's last two axes transposed" },
  },
  doc:
    'Matrix product over the last two axes, broadcasting leading (batch) axes; a 1-D a is a ' +
    'row vector and a 1-D b a column vector, their added axis removed from the result.',
  gradientDoc:
    'For Y = A·B: dA = dY·Bᵀ and dB = Aᵀ·dY (with the transpose flags folded in, so no ' +
    'transpose is copied), each summed over the batch axes its operand was broadcast along.',
  inferShape([a, b], attrs) {
    if (a!.dtype === 'bool' || b!.dtype === 'bool')
      throw new DTypeError(
        `does not take bool operands (${a!.dtype}, ${b!.dtype}); cast them first`,
        { op: 'matmul' },
      );
    requireSameDType('matmul', a!, b!);
    return { shape: matmulGeometry(a!.shape, b!.shape, attrs).outShape, dtype: a!.dtype };
  },
  gradient([a, b], _y, dy, attrs) {
    const g = matmulGeometry(a!.shape, b!.shape, attrs);
    const tA = g.transposeA;
    const tB = g.transposeB;
    const A = reshapeTo(a!, g.aShape);
    const B = reshapeTo(b!, g.bShape);
    const G = reshapeTo(dy, [...g.batch, g.m, g.n]);
    const mm = (x: Tensor, y: Tensor, transposeA: boolean, transposeB: boolean): Tensor =>
      runOp('matmul', [x, y], { transposeA, transposeB });
    // With opA(A) = A or Aᵀ: d opA(A) = dY·opB(B)ᵀ and d opB(B) = opA(A)ᵀ·dY; a transposed
    // operand takes the transpose of that, written as a product with swapped factors.
    let da: Tensor | null = null;
    if (a!.requiresGrad) {
      const full = tA ? mm(B, G, tB, true) : mm(G, B, false, !tB);
      da = reshapeTo(sumToShape(full, g.aShape), a!.shape);
    }
    let db: Tensor | null = null;
    if (b!.requiresGrad) {
      const full = tB ? mm(G, A, true, tA) : mm(A, G, !tA, false);
      db = reshapeTo(sumToShape(full, g.bShape), b!.shape);
    }
    return [da, db];
  },
  cost([a, b], out, attrs) {
    const g = matmulGeometry(a!.shape, b!.shape, attrs);
    return {
      flops: 2 * sizeOf(g.batch) * g.m * g.n * g.k,
      bytes: (sizeOf(a!.shape) + sizeOf(b!.shape) + sizeOf(out.shape)) * F32,
    };
  },
});

/**
 * Matrix product as NumPy's / torch's matmul: [..., m, k] @ [..., k, n] → [..., m, n] with
 * broadcast batch axes; 1-D operands are promoted (a [k] → [1, k], b [k] → [k, 1]) and the
 * added axis is removed again.
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  return runOp('matmul', [a, b], {
    transposeA: options.transposeA ?? false,
    transposeB: options.transposeB ?? false,
  });
}

/** A fully connected layer in PyTorch's layout: x @ wᵀ + b, with w [out, in] and b [out]. */
export function linear(x: Tensor, w: Tensor, b?: Tensor): Tensor {
  if (w.rank !== 2)
    throw new ShapeError(
      `weight must be [out, in], got ${formatShape(w.shape)} (input ${formatShape(x.shape)})`,
      { op: 'linear' },
    );
  const y = matmul(x, w, { transposeB: true });
  if (!b) return y;
  if (b.rank !== 1 || b.shape[0] !== w.shape[0])
    throw new ShapeError(
      `bias ${formatShape(b.shape)} does not match weight ${formatShape(w.shape)}; it must be ` +
        `[${w.shape[0]}]`,
      { op: 'linear' },
    );
  return add(y, b);
}

// ---- conv2d -----------------------------------------------------------------------------

/** One value for both spatial axes, or [height, width]. */
export type Pair = number | readonly [number, number];

export interface Conv2dOptions {
  readonly stride?: Pair;
  /** Zero padding per side; 'same' keeps the spatial size (stride 1 only), as in PyTorch. */
  readonly padding?: Pair | 'same';
  readonly dilation?: Pair;
  readonly groups?: number;
  /** Added per output channel, shape [Cout]. */
  readonly bias?: Tensor;
}

/** Normalised conv attributes, as stored in graphs. */
export interface Conv2dAttrs {
  /** [strideH, strideW]. */
  readonly stride: readonly number[];
  /** [top, left, bottom, right], as ONNX's pads, so that 'same' with even kernels fits. */
  readonly padding: readonly number[];
  /** [dilationH, dilationW]. */
  readonly dilation: readonly number[];
  readonly groups: number;
}

interface BackpropInputAttrs extends Conv2dAttrs {
  readonly inputShape: readonly number[];
}

interface BackpropFilterAttrs extends Conv2dAttrs {
  readonly filterShape: readonly number[];
}

const convAttrSpecs = {
  stride: { kind: 'ints', doc: '[strideH, strideW]' },
  padding: { kind: 'ints', doc: 'zero padding [top, left, bottom, right]' },
  dilation: { kind: 'ints', doc: '[dilationH, dilationW]' },
  groups: { kind: 'int', doc: 'channel groups; Cin and Cout must be multiples' },
} as const;

function pair(op: string, name: string, value: Pair, min: number): [number, number] {
  const p: readonly number[] = typeof value === 'number' ? [value, value] : value;
  if (p.length !== 2 || !p.every((v) => Number.isInteger(v) && v >= min))
    throw new WiregradError(
      `${name} must be an integer >= ${min} or a pair [h, w] of them, got ${JSON.stringify(value)}`,
      { op },
    );
  return [p[0]!, p[1]!];
}

/** Public options → stored attributes; 'same' padding needs the kernel's spatial size. */
function convAttrs(op: string, options: Conv2dOptions, kernel: readonly number[]): Conv2dAttrs {
  const stride = pair(op, 'stride', options.stride ?? 1, 1);
  const dilation = pair(op, 'dilation', options.dilation ?? 1, 1);
  const groups = options.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1)
    throw new WiregradError(`groups must be a positive integer, got ${groups}`, { op });
  const pad = options.padding ?? 0;
  let padding: number[];
  if (pad === 'same') {
    if (stride[0] !== 1 || stride[1] !== 1)
      throw new WiregradError(
        `padding 'same' needs stride 1, got stride ${formatShape(stride)}; give the padding ` +
          `explicitly`,
        { op },
      );
    // Total padding d·(k-1) per axis; the odd one goes at the end, as PyTorch and ONNX do.
    const total = [0, 1].map((i) => dilation[i]! * (kernel[i]! - 1));
    const begin = total.map((t) => Math.floor(t / 2));
    padding = [begin[0]!, begin[1]!, total[0]! - begin[0]!, total[1]! - begin[1]!];
  } else {
    const [ph, pw] = pair(op, 'padding', pad, 0);
    padding = [ph, pw, ph, pw];
  }
  return { stride, padding, dilation, groups };
}

interface ConvGeometry {
  readonly outShape: number[];
}

/** Checks x [N, Cin, H, W] against w [Cout, Cin/groups, kh, kw]; returns the output shape. */
function convGeometry(op: string, x: Shape, w: Shape, a: Conv2dAttrs): ConvGeometry {
  const shapes = `x ${formatShape(x)} and w ${formatShape(w)}`;
  if (x.length !== 4 || w.length !== 4)
    throw new ShapeError(
      `expects x [N, Cin, H, W] and w [Cout, Cin/groups, kh, kw], got ${shapes}; reshape a ` +
        `single image [C, H, W] to [1, C, H, W]`,
      { op },
    );
  const [n, cin, h, wd] = x as [number, number, number, number];
  const [cout, cinG, kh, kw] = w as [number, number, number, number];
  const g = a.groups;
  if (cinG * g !== cin)
    throw new ShapeError(
      `channel mismatch: x has Cin = ${cin} channels but w expects Cin/groups = ${cinG} with ` +
        `groups = ${g} (${cinG * g} channels), for ${shapes}; w must be ` +
        `[Cout, ${cin / g}, kh, kw]`,
      { op },
    );
  if (cout % g !== 0)
    throw new ShapeError(`Cout = ${cout} is not a multiple of groups = ${g}, for ${shapes}`, {
      op,
    });
  const [sh, sw] = a.stride as [number, number];
  const [pt, pl, pb, pr] = a.padding as [number, number, number, number];
  const [dh, dw] = a.dilation as [number, number];
  const effH = dh * (kh - 1) + 1;
  const effW = dw * (kw - 1) + 1;
  const padH = h + pt + pb;
  const padW = wd + pl + pr;
  if (effH > padH || effW > padW)
    throw new ShapeError(
      `the kernel (${effH}×${effW} with dilation) is bigger than the padded input ` +
        `(${padH}×${padW}), for ${shapes}; pad the input or use a smaller kernel`,
      { op },
    );
  const ho = Math.floor((padH - effH) / sh) + 1;
  const wo = Math.floor((padW - effW) / sw) + 1;
  return { outShape: [n, cout, ho, wo] };
}

function convCost(x: Shape, w: Shape, y: Shape): OpCost {
  const [, cinG, kh, kw] = w as [number, number, number, number];
  return {
    flops: 2 * sizeOf(y) * cinG * kh * kw,
    bytes: (sizeOf(x) + sizeOf(w) + sizeOf(y)) * F32,
  };
}

function requireShape(op: string, what: string, actual: Shape, expected: Shape): void {
  if (!shapesEqual(actual, expected))
    throw new ShapeError(
      `${what} is ${formatShape(actual)} but must be ${formatShape(expected)}, the shape ` +
        `that the forward op produces for these attributes`,
      { op },
    );
}

function baseConvAttrs(a: Conv2dAttrs): Conv2dAttrs {
  return { stride: a.stride, padding: a.padding, dilation: a.dilation, groups: a.groups };
}

defineOp<Conv2dAttrs>({
  name: 'conv2d',
  arity: 2,
  attrs: convAttrSpecs,
  doc:
    "2-D cross-correlation (as PyTorch's conv2d) of x [N, Cin, H, W] with w " +
    '[Cout, Cin/groups, kh, kw], with stride, zero padding, dilation and groups.',
  gradientDoc:
    'Linear in each input: dx = conv2dBackpropInput(dy, w) (the transposed convolution) and ' +
    'dw = conv2dBackpropFilter(x, dy) (the correlation of x with dy).',
  inferShape([x, w], a) {
    requireFloat('conv2d', x!, w!);
    requireSameDType('conv2d', x!, w!);
    return { shape: convGeometry('conv2d', x!.shape, w!.shape, a).outShape, dtype: x!.dtype };
  },
  gradient([x, w], _y, dy, a) {
    const base = baseConvAttrs(a);
    return [
      x!.requiresGrad
        ? runOp('conv2dBackpropInput', [dy, w!], { ...base, inputShape: [...x!.shape] })
        : null,
      w!.requiresGrad
        ? runOp('conv2dBackpropFilter', [x!, dy], { ...base, filterShape: [...w!.shape] })
        : null,
    ];
  },
  cost: ([x, w], y) => convCost(x!.shape, w!.shape, y.shape),
});

defineOp<BackpropInputAttrs>({
  name: 'conv2dBackpropInput',
  arity: 2,
  attrs: { ...convAttrSpecs, inputShape: { kind: 'ints', doc: 'the shape of x' } },
  doc:
    'The gradient of conv2d with respect to its input: dy [N, Cout, Ho, Wo] and w give dx of ' +
    'inputShape (a transposed convolution).',
  gradientDoc:
    'It is the adjoint of x ↦ conv2d(x, w), linear in dy and w: ' +
    'd(dy) = conv2d(g, w) and dw = conv2dBackpropFilter(g, dy).',
  inferShape([dy, w], a) {
    requireFloat('conv2dBackpropInput', dy!, w!);
    requireSameDType('conv2dBackpropInput', dy!, w!);
    const geo = convGeometry('conv2dBackpropInput', a.inputShape, w!.shape, a);
    requireShape('conv2dBackpropInput', 'dy', dy!.shape, geo.outShape);
    return { shape: [...a.inputShape], dtype: dy!.dtype };
  },
  gradient([dy, w], _y, g, a) {
    const base = baseConvAttrs(a);
    return [
      dy!.requiresGrad ? runOp('conv2d', [g, w!], base) : null,
      w!.requiresGrad
        ? runOp('conv2dBackpropFilter', [g, dy!], { ...base, filterShape: [...w!.shape] })
        : null,
    ];
  },
  cost: ([dy, w], x) => convCost(x.shape, w!.shape, dy!.shape),
});

defineOp<BackpropFilterAttrs>({
  name: 'conv2dBackpropFilter',
  arity: 2,
  attrs: { ...convAttrSpecs, filterShape: { kind: 'ints', doc: 'the shape of w' } },
  doc:
    'The gradient of conv2d with respect to its filter: x and dy [N, Cout, Ho, Wo] give dw of ' +
    'filterShape.',
  gradientDoc:
    'Linear in x and dy: dx = conv2dBackpropInput(dy, g) and d(dy) = conv2d(x, g), with g the ' +
    'gradient flowing into dw.',
  inferShape([x, dy], a) {
    requireFloat('conv2dBackpropFilter', x!, dy!);
    requireSameDType('conv2dBackpropFilter', x!, dy!);
    const geo = convGeometry('conv2dBackpropFilter', x!.shape, a.filterShape, a);
    requireShape('conv2dBackpropFilter', 'dy', dy!.shape, geo.outShape);
    return { shape: [...a.filterShape], dtype: x!.dtype };
  },
  gradient([x, dy], _y, g, a) {
    const base = baseConvAttrs(a);
    return [
      x!.requiresGrad
        ? runOp('conv2dBackpropInput', [dy!, g], { ...base, inputShape: [...x!.shape] })
        : null,
      dy!.requiresGrad ? runOp('conv2d', [x!, g], base) : null,
    ];
  },
  cost: ([x, dy], w) => convCost(x!.shape, w.shape, dy!.shape),
});

/**
 * 2-D convolution (cross-correlation, as PyTorch) of x [N, Cin, H, W] with w
 * [Cout, Cin/groups, kh, kw]; each of stride, padding and dilation is an int or [h, w].
 */
export function conv2d(x: Tensor, w: Tensor, options: Conv2dOptions = {}): Tensor {
  const y = runOp('conv2d', [x, w], convAttrs('conv2d', options, w.shape.slice(2)));
  const bias = options.bias;
  if (!bias) return y;
  const cout = y.shape[1]!;
  if (bias.rank !== 1 || bias.shape[0] !== cout)
    throw new ShapeError(
      `bias ${formatShape(bias.shape)} does not match w ${formatShape(w.shape)}; it must be ` +
        `[${cout}]`,
      { op: 'conv2d' },
    );
  return add(y, reshape(bias, [1, cout, 1, 1]));
}

/** conv2d's gradient with respect to x, for dy [N, Cout, Ho, Wo]: dx of `inputShape`. */
export function conv2dBackpropInput(
  dy: Tensor,
  w: Tensor,
  options: Conv2dOptions & { readonly inputShape: readonly number[] },
): Tensor {
  const attrs = convAttrs('conv2dBackpropInput', options, w.shape.slice(2));
  return runOp('conv2dBackpropInput', [dy, w], { ...attrs, inputShape: [...options.inputShape] });
}

/** conv2d's gradient with respect to w, for x and dy [N, Cout, Ho, Wo]: dw of `filterShape`. */
export function conv2dBackpropFilter(
  x: Tensor,
  dy: Tensor,
  options: Conv2dOptions & { readonly filterShape: readonly number[] },
): Tensor {
  const attrs = convAttrs('conv2dBackpropFilter', options, options.filterShape.slice(2));
  return runOp('conv2dBackpropFilter', [x, dy], {
    ...attrs,
    filterShape: [...options.filterShape],
  });
}

// ---- pooling ----------------------------------------------------------------------------

export interface Pool2dOptions {
  readonly kernelSize: Pair;
  /** Default: the kernel size (non-overlapping windows). */
  readonly stride?: Pair;
  /** Implicit padding per side (-∞ for max, zeros for average); at most half the kernel. */
  readonly padding?: Pair;
}

export interface AvgPool2dOptions extends Pool2dOptions {
  /** Divide by the whole window, padding included (default), or by its in-bounds part. */
  readonly countIncludePad?: boolean;
}

interface PoolAttrs {
  readonly kernelSize: readonly number[];
  readonly stride: readonly number[];
  readonly padding: readonly number[];
}

interface AvgPoolAttrs extends PoolAttrs {
  readonly countIncludePad: boolean;
}

interface AvgPoolGradAttrs extends AvgPoolAttrs {
  readonly inputShape: readonly number[];
}

const poolAttrSpecs = {
  kernelSize: { kind: 'ints', doc: '[kh, kw]' },
  stride: { kind: 'ints', doc: '[strideH, strideW]' },
  padding: { kind: 'ints', doc: 'padding per side, [padH, padW]' },
} as const;

const avgPoolAttrSpecs = {
  ...poolAttrSpecs,
  countIncludePad: { kind: 'bool', doc: 'padding counts in the divisor' },
} as const;

function poolAttrs(op: string, options: Pool2dOptions): PoolAttrs {
  const kernelSize = pair(op, 'kernelSize', options.kernelSize, 1);
  const stride = pair(op, 'stride', options.stride ?? kernelSize, 1);
  const padding = pair(op, 'padding', options.padding ?? 0, 0);
  return { kernelSize, stride, padding };
}

function poolBase(a: PoolAttrs): PoolAttrs {
  return { kernelSize: a.kernelSize, stride: a.stride, padding: a.padding };
}

/** Checks x [N, C, H, W] against the window; returns the pooled shape. */
function poolShape(op: string, x: Shape, a: PoolAttrs): number[] {
  if (x.length !== 4)
    throw new ShapeError(
      `expects x [N, C, H, W], got ${formatShape(x)}; reshape a single image [C, H, W] to ` +
        `[1, C, H, W]`,
      { op },
    );
  const [n, c, h, w] = x as [number, number, number, number];
  const [kh, kw] = a.kernelSize as [number, number];
  const [ph, pw] = a.padding as [number, number];
  if (2 * ph > kh || 2 * pw > kw)
    throw new ShapeError(
      `padding ${formatShape(a.padding)} must be at most half the kernel ` +
        `${formatShape(a.kernelSize)}, for x ${formatShape(x)}`,
      { op },
    );
  if (kh > h + 2 * ph || kw > w + 2 * pw)
    throw new ShapeError(
      `the window ${formatShape(a.kernelSize)} is bigger than the padded input ` +
        `${h + 2 * ph}×${w + 2 * pw} of x ${formatShape(x)}; use a smaller kernelSize or pad`,
      { op },
    );
  const [sh, sw] = a.stride as [number, number];
  return [n, c, Math.floor((h + 2 * ph - kh) / sh) + 1, Math.floor((w + 2 * pw - kw) / sw) + 1];
}

const poolCost = (x: Shape, y: Shape, a: PoolAttrs): OpCost => ({
  flops: sizeOf(y) * a.kernelSize[0]! * a.kernelSize[1]!,
  bytes: (sizeOf(x) + sizeOf(y)) * F32,
});

defineOp<PoolAttrs>({
  name: 'maxPool2d',
  arity: 1,
  attrs: poolAttrSpecs,
  doc: 'Maximum over each kernelSize window of x [N, C, H, W], padding with -∞.',
  gradientDoc:
    'dy goes to the position of the maximum of each window (the first one among ties, as ' +
    'PyTorch): dx = maxPool2dGrad(x, dy).',
  inferShape([x], a) {
    requireFloat('maxPool2d', x!);
    return { shape: poolShape('maxPool2d', x!.shape, a), dtype: x!.dtype };
  },
  gradient: ([x], _y, dy, a) => [runOp('maxPool2dGrad', [x!, dy], poolBase(a))],
  cost: ([x], y, a) => poolCost(x!.shape, y.shape, a),
});

defineOp<PoolAttrs>({
  name: 'maxPool2dGrad',
  arity: 2,
  attrs: poolAttrSpecs,
  doc:
    "maxPool2d's gradient: scatters each element of dy to the first maximum of its window " +
    'in x (summing where windows overlap); the result has the shape of x.',
  gradientDoc:
    'Piecewise constant in x (no gradient to x); linear in dy, whose adjoint picks the ' +
    "gradient at each window's maximum: d(dy) = maxPool2dGather(x, g).",
  inferShape([x, dy], a) {
    requireFloat('maxPool2dGrad', x!, dy!);
    requireSameDType('maxPool2dGrad', x!, dy!);
    requireShape('maxPool2dGrad', 'dy', dy!.shape, poolShape('maxPool2dGrad', x!.shape, a));
    return { shape: x!.shape, dtype: x!.dtype };
  },
  gradient: ([x, dy], _y, g, a) => [
    null,
    dy!.requiresGrad ? runOp('maxPool2dGather', [x!, g], poolBase(a)) : null,
  ],
  cost: ([x], _y, a) => poolCost(x!.shape, x!.shape, a),
});

defineOp<PoolAttrs>({
  name: 'maxPool2dGather',
  arity: 2,
  attrs: poolAttrSpecs,
  doc:
    "For each maxPool2d window of x, the element of g (shaped as x) at the window's first " +
    'maximum; the adjoint of maxPool2dGrad in its second input.',
  gradientDoc:
    'Piecewise constant in x (no gradient to x); linear in g: dg = maxPool2dGrad(x, dy).',
  inferShape([x, g], a) {
    requireFloat('maxPool2dGather', x!, g!);
    requireSameDType('maxPool2dGather', x!, g!);
    requireShape('maxPool2dGather', 'g', g!.shape, x!.shape);
    return { shape: poolShape('maxPool2dGather', x!.shape, a), dtype: x!.dtype };
  },
  gradient: ([x, g], _y, dy, a) => [
    null,
    g!.requiresGrad ? runOp('maxPool2dGrad', [x!, dy], poolBase(a)) : null,
  ],
  cost: ([x], y, a) => poolCost(x!.shape, y.shape, a),
});

defineOp<AvgPoolAttrs>({
  name: 'avgPool2d',
  arity: 1,
  attrs: avgPoolAttrSpecs,
  doc: 'Mean over each kernelSize window of x [N, C, H, W], padding with zeros.',
  gradientDoc: 'Linear: each window spreads dy / (window count) evenly over its elements.',
  inferShape([x], a) {
    requireFloat('avgPool2d', x!);
    return { shape: poolShape('avgPool2d', x!.shape, a), dtype: x!.dtype };
  },
  gradient: ([x], _y, dy, a) => [runOp('avgPool2dGrad', [dy], { ...a, inputShape: [...x!.shape] })],
  cost: ([x], y, a) => poolCost(x!.shape, y.shape, a),
});

defineOp<AvgPoolGradAttrs>({
  name: 'avgPool2dGrad',
  arity: 1,
  attrs: { ...avgPoolAttrSpecs, inputShape: { kind: 'ints', doc: 'the shape of x' } },
  doc: "avgPool2d's gradient: spreads each element of dy evenly over its window.",
  gradientDoc: 'Linear in dy, the adjoint of avgPool2d: d(dy) = avgPool2d(g).',
  inferShape([dy], a) {
    requireFloat('avgPool2dGrad', dy!);
    requireShape('avgPool2dGrad', 'dy', dy!.shape, poolShape('avgPool2dGrad', a.inputShape, a));
    return { shape: [...a.inputShape], dtype: dy!.dtype };
  },
  gradient: (_inputs, _y, g, a) => [
    runOp('avgPool2d', [g], { ...poolBase(a), countIncludePad: a.countIncludePad }),
  ],
  cost: ([dy], x, a) => poolCost(x.shape, dy!.shape, a),
});

/** Max pooling over windows of x [N, C, H, W]. */
export function maxPool2d(x: Tensor, options: Pool2dOptions): Tensor {
  return runOp('maxPool2d', [x], poolAttrs('maxPool2d', options));
}

/** maxPool2d's gradient with respect to x: dy routed to each window's first maximum. */
export function maxPool2dGrad(x: Tensor, dy: Tensor, options: Pool2dOptions): Tensor {
  return runOp('maxPool2dGrad', [x, dy], poolAttrs('maxPool2dGrad', options));
}

/** Average pooling over windows of x [N, C, H, W]. */
export function avgPool2d(x: Tensor, options: AvgPool2dOptions): Tensor {
  return runOp('avgPool2d', [x], {
    ...poolAttrs('avgPool2d', options),
    countIncludePad: options.countIncludePad ?? true,
  });
}

/** avgPool2d's gradient with respect to x (of `inputShape`) for dy. */
export function avgPool2dGrad(
  dy: Tensor,
  options: AvgPool2dOptions & { readonly inputShape: readonly number[] },
): Tensor {
  return runOp('avgPool2dGrad', [dy], {
    ...poolAttrs('avgPool2dGrad', options),
    countIncludePad: options.countIncludePad ?? true,
    inputShape: [...options.inputShape],
  });
}

// ---- softmax ----------------------------------------------------------------------------

interface AxisAttrs {
  /** Normalised (non-negative). */
  readonly axis: number;
}

function softmaxInfer(op: string) {
  return ([x]: readonly TensorMeta[], a: AxisAttrs): TensorMeta => {
    requireFloat(op, x!);
    normalizeAxis(a.axis, x!.shape.length, op);
    return { shape: x!.shape, dtype: x!.dtype };
  };
}

const softmaxCost = ([x]: readonly TensorMeta[]): OpCost => ({
  flops: 5 * sizeOf(x!.shape),
  bytes: 2 * sizeOf(x!.shape) * F32,
});

defineOp<AxisAttrs>({
  name: 'softmax',
  arity: 1,
  attrs: { axis: { kind: 'int', doc: 'the axis that sums to one' } },
  doc: 'exp(x) / sum(exp(x)) along an axis, computed after subtracting the maximum.',
  gradientDoc: 'dx = y·(dy − sum(dy·y, axis)), the Jacobian diag(y) − y·yᵀ applied to dy.',
  inferShape: softmaxInfer('softmax'),
  gradient: (_x, y, dy, { axis }) => [mul(y, sub(dy, sum(mul(dy, y), axis, true)))],
  cost: softmaxCost,
});

defineOp<AxisAttrs>({
  name: 'logSoftmax',
  arity: 1,
  attrs: { axis: { kind: 'int', doc: 'the axis normalised over' } },
  doc: 'x − log(sum(exp(x))) along an axis, computed after subtracting the maximum.',
  gradientDoc: 'dx = dy − softmax(x)·sum(dy, axis), with softmax(x) = exp(y).',
  inferShape: softmaxInfer('logSoftmax'),
  gradient: (_x, y, dy, { axis }) => [sub(dy, mul(exp(y), sum(dy, axis, true)))],
  cost: softmaxCost,
});

export function softmax(x: Tensor, axis = -1): Tensor {
  return runOp('softmax', [x], { axis: normalizeAxis(axis, x.rank, 'softmax') });
}

export function logSoftmax(x: Tensor, axis = -1): Tensor {
  return runOp('logSoftmax', [x], { axis: normalizeAxis(axis, x.rank, 'logSoftmax') });
}

// ---- losses -----------------------------------------------------------------------------

export type Reduction = 'mean' | 'sum' | 'none';

function reduceLoss(op: string, loss: Tensor, reduction: Reduction): Tensor {
  switch (reduction) {
    case 'mean':
      return mean(loss);
    case 'sum':
      return sum(loss);
    case 'none':
      return loss;
    default:
      throw new WiregradError(
        `unknown reduction '${String(reduction satisfies never)}'; use 'mean', 'sum' or 'none'`,
        { op },
      );
  }
}

export interface CrossEntropyOptions {
  readonly reduction?: Reduction;
  /** ε in [0, 1]: the target is (1 − ε)·one-hot + ε/C, as PyTorch's label_smoothing. */
  readonly labelSmoothing?: number;
}

/** Labels are read back to check their range where that is cheap: tensors in CPU memory. */
function checkLabelRange(labels: Tensor, classes: number): void {
  if (labels.isSymbolic || labels.device !== 'cpu') return;
  const data = labels.dataSync();
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < 0 || v >= classes)
      throw new WiregradError(
        `label ${v} (at flat index ${i} of labels ${formatShape(labels.shape)}) is out of ` +
          `range for C = ${classes} classes; labels must be class indices in [0, ${classes})`,
        { op: 'crossEntropy' },
      );
  }
}

/**
 * Cross-entropy of logits [N, C] (or [N, C, d1, …]) against integer class labels [N]
 * (or [N, d1, …]): −log softmax(logits)[label], reduced by mean (default), sum or none.
 */
export function crossEntropy(
  logits: Tensor,
  labels: Tensor,
  options: CrossEntropyOptions = {},
): Tensor {
  const op = 'crossEntropy';
  const { reduction = 'mean', labelSmoothing = 0 } = options;
  requireFloat(op, logits);
  if (logits.rank < 2)
    throw new ShapeError(
      `expects logits [N, C] or [N, C, d1, …], got ${formatShape(logits.shape)}; a single ` +
        `sample's logits [C] must be reshaped to [1, C]`,
      { op },
    );
  const [n, c, ...rest] = logits.shape as [number, number, ...number[]];
  if (labels.dtype !== 'i32')
    throw new DTypeError(
      `labels must be i32 class indices, got ${labels.dtype} ${formatShape(labels.shape)}; ` +
        `cast them (labels.cast('i32')), or for soft targets use ` +
        `-(target · logSoftmax(logits, 1)).sum(1)`,
      { op },
    );
  const labelShape = [n, ...rest];
  if (!shapesEqual(labels.shape, labelShape))
    throw new ShapeError(
      `labels ${formatShape(labels.shape)} do not fit logits ${formatShape(logits.shape)}; ` +
        `they must be ${formatShape(labelShape)} (the logits' shape without the class axis 1)`,
      { op },
    );
  if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
    throw new WiregradError(`labelSmoothing must be in [0, 1], got ${labelSmoothing}`, { op });
  checkLabelRange(labels, c);
  const lsm = logSoftmax(logits, 1);
  // Pick log p[label] with a one-hot mask; oneHot puts the class axis last: move it to axis 1.
  const hot = oneHot(labels, c, { dtype: lsm.dtype });
  const mask =
    rest.length === 0 ? hot : transpose(hot, [0, hot.rank - 1, ...rest.map((_, i) => i + 1)]);
  let loss = neg(sum(mul(lsm, mask), 1));
  if (labelSmoothing > 0)
    loss = add(mul(loss, 1 - labelSmoothing), mul(neg(mean(lsm, 1)), labelSmoothing));
  return reduceLoss(op, loss, reduction);
}

/** Mean squared error (pred − target)², reduced by mean (default), sum or none. */
export function mseLoss(
  pred: Tensor,
  target: Tensor,
  options: { readonly reduction?: Reduction } = {},
): Tensor {
  // Broadcasting pred [N, 1] against target [N] silently gives an [N, N] loss: refuse it.
  if (!shapesEqual(pred.shape, target.shape))
    throw new ShapeError(
      `pred ${formatShape(pred.shape)} and target ${formatShape(target.shape)} differ in ` +
        `shape; reshape one so that they match`,
      { op: 'mseLoss' },
    );
  requireFloat('mseLoss', pred, target);
  const d = sub(pred, target);
  return reduceLoss('mseLoss', mul(d, d), options.reduction ?? 'mean');
}

// ---- normalisation ----------------------------------------------------------------------

export interface BatchNormOptions {
  /** Scale per channel, [C]. */
  readonly gamma?: Tensor;
  /** Shift per channel, [C]. */
  readonly beta?: Tensor;
  /** Running mean [C]: read in eval mode, updated in place in training. */
  readonly runningMean?: Tensor;
  /** Running (unbiased) variance [C]: read in eval mode, updated in place in training. */
  readonly runningVar?: Tensor;
  /** Normalise with the batch's statistics (training) or with the running ones (eval). */
  readonly training: boolean;
  /** Weight of the new batch in the running averages (default 0.1, as PyTorch). */
  readonly momentum?: number;
  readonly eps?: number;
}

function requireChannelVector(name: string, t: Tensor | undefined, x: Tensor): void {
  const c = x.shape[1]!;
  if (t && !(t.rank === 1 && t.shape[0] === c))
    throw new ShapeError(
      `${name} ${formatShape(t.shape)} does not match x ${formatShape(x.shape)}; it must be [${c}]`,
      { op: 'batchNorm' },
    );
}

/**
 * Batch normalisation over every axis but the channel axis 1 (N for [N, C]; N, H, W for
 * [N, C, H, W]). In training it uses the batch mean and biased variance and, when running
 * statistics are given, updates them in place: r ← (1 − momentum)·r + momentum·batch, with
 * the unbiased variance, as PyTorch. In eval mode it uses the running statistics.
 */
export function batchNorm(x: Tensor, options: BatchNormOptions): Tensor {
  const op = 'batchNorm';
  const { gamma, beta, runningMean, runningVar, training, momentum = 0.1, eps = 1e-5 } = options;
  requireFloat(op, x);
  if (x.rank < 2) throw new ShapeError(`expects x [N, C, …], got ${formatShape(x.shape)}`, { op });
  requireChannelVector('gamma', gamma, x);
  requireChannelVector('beta', beta, x);
  requireChannelVector('runningMean', runningMean, x);
  requireChannelVector('runningVar', runningVar, x);
  const c = x.shape[1]!;
  const statShape = x.shape.map((d, i) => (i === 1 ? d : 1));
  const axes = x.shape.flatMap((_, i) => (i === 1 ? [] : [i]));
  let xhat: Tensor;
  if (training) {
    const count = x.size / Math.max(c, 1);
    if (count <= 1)
      throw new ShapeError(
        `training needs more than one value per channel, got x ${formatShape(x.shape)}; use a ` +
          `batch of 2 or more, or eval mode`,
        { op },
      );
    const mu = mean(x, axes, true);
    const centred = sub(x, mu);
    const variance = mean(mul(centred, centred), axes, true);
    xhat = div(centred, sqrt(add(variance, eps)));
    if (runningMean || runningVar)
      updateRunningStats(mu, variance, count, momentum, runningMean, runningVar);
  } else {
    if (!runningMean || !runningVar)
      throw new WiregradError(
        `eval mode needs runningMean and runningVar; pass them, or use training: true to ` +
          `normalise with the batch's statistics`,
        { op },
      );
    const rm = reshape(cast(runningMean, x.dtype), statShape);
    const rv = reshape(cast(runningVar, x.dtype), statShape);
    xhat = div(sub(x, rm), sqrt(add(rv, eps)));
  }
  let y = xhat;
  if (gamma) y = mul(y, reshape(gamma, statShape));
  if (beta) y = add(y, reshape(beta, statShape));
  return y;
}

function updateRunningStats(
  mu: Tensor,
  variance: Tensor,
  count: number,
  momentum: number,
  runningMean: Tensor | undefined,
  runningVar: Tensor | undefined,
): void {
  // The running statistics are state, not part of the differentiated computation.
  noGrad(() =>
    tidy(() => {
      const blend = (r: Tensor, batch: Tensor): Tensor =>
        add(mul(r, 1 - momentum), mul(cast(reshape(batch, r.shape), r.dtype), momentum));
      if (runningMean) runningMean.assign(blend(runningMean, mu));
      // PyTorch's running variance is unbiased (divides by n − 1).
      if (runningVar) runningVar.assign(blend(runningVar, mul(variance, count / (count - 1))));
    }),
  );
}

export interface LayerNormOptions {
  /** Scale, shaped as normalizedShape. */
  readonly gamma?: Tensor;
  /** Shift, shaped as normalizedShape. */
  readonly beta?: Tensor;
  readonly eps?: number;
}

/**
 * Layer normalisation over the trailing axes `normalizedShape` (mean and biased variance per
 * sample), then scaled by gamma and shifted by beta, as PyTorch's layer_norm.
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: number | readonly number[],
  options: LayerNormOptions = {},
): Tensor {
  const op = 'layerNorm';
  const { gamma, beta, eps = 1e-5 } = options;
  requireFloat(op, x);
  const norm = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  const lead = x.rank - norm.length;
  if (norm.length === 0 || lead < 0 || !shapesEqual(x.shape.slice(lead), norm))
    throw new ShapeError(
      `normalizedShape ${formatShape(norm)} must be the trailing dimensions of x ` +
        `${formatShape(x.shape)}`,
      { op },
    );
  for (const [name, t] of [
    ['gamma', gamma],
    ['beta', beta],
  ] as const)
    if (t && !shapesEqual(t.shape, norm))
      throw new ShapeError(
        `${name} ${formatShape(t.shape)} must have normalizedShape ${formatShape(norm)}`,
        { op },
      );
  const axes = norm.map((_, i) => lead + i);
  const centred = sub(x, mean(x, axes, true));
  const variance = mean(mul(centred, centred), axes, true);
  let y = div(centred, sqrt(add(variance, eps)));
  if (gamma) y = mul(y, gamma);
  if (beta) y = add(y, beta);
  return y;
}

// ---- dropout ----------------------------------------------------------------------------

export interface DropoutOptions {
  /** Off (eval mode) returns x unchanged. Default true. */
  readonly training?: boolean;
  /** Same seed, same mask. Default: drawn from `setSeed`'s stream. */
  readonly seed?: number;
}

/**
 * Zeroes each element with probability p and scales the rest by 1/(1 − p), so the expectation
 * is unchanged; the identity when not training or p = 0.
 */
export function dropout(x: Tensor, p: number, options: DropoutOptions = {}): Tensor {
  const { training = true, seed } = options;
  if (!(p >= 0 && p <= 1))
    throw new WiregradError(`p must be a probability in [0, 1], got ${p}`, { op: 'dropout' });
  requireFloat('dropout', x);
  if (!training || p === 0) return x;
  const u = rand(x.shape, {
    dtype: x.dtype,
    device: x.device,
    ...(seed === undefined ? {} : { seed }),
  });
  // p = 1 drops everything; its scale is never used, so keep it finite.
  const scale = p === 1 ? 0 : 1 / (1 - p);
  const mask = where(less(u, p), asTensor(0, x), asTensor(scale, x));
  return mul(x, mask);
}

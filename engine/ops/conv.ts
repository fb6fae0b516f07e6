/**
 * 2-D convolution (NCHW) and its two backward ops `conv2dBackpropInput` (the transposed
 * convolution) and `conv2dBackpropFilter`. Each backward op has a gradient rule of its own
 * (they are linear in the upstream gradient, and their adjoints are the other conv ops), so
 * grad-of-grad works.
 */

import { ShapeError, WiregradError, formatShape } from '../core/errors.js';
import { type Shape, shapesEqual, sizeOf } from '../core/shape.js';
import { runOp } from '../runtime/dispatch.js';

import type { Tensor } from '../tensor.js';
import { type OpCost, defineOp } from './registry.js';
import { requireFloat, requireSameDType } from './util.js';
import { add } from './elementwise.js';

import { reshape } from './movement.js';

const F32 = 4;

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

export function pair(op: string, name: string, value: Pair, min: number): [number, number] {
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

export function requireShape(op: string, what: string, actual: Shape, expected: Shape): void {
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

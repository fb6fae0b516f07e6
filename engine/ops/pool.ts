/**
 * Max and average pooling (NCHW) with their backward ops; `maxPool2dGrad` and
 * `maxPool2dGather` are each other's gradients, so max pooling differentiates to any order.
 */

import { ShapeError, formatShape } from '../core/errors.js';
import { type Shape, sizeOf } from '../core/shape.js';
import { runOp } from '../runtime/dispatch.js';

import type { Tensor } from '../tensor.js';
import { type OpCost, defineOp } from './registry.js';
import { requireFloat, requireSameDType } from './util.js';

import { type Pair, pair, requireShape } from './conv.js';

const F32 = 4;

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

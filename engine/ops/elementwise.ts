/**
 * Elementwise ops: unary maps, binary arithmetic and comparisons with NumPy broadcasting,
 * `where`, `cast`, and the identity ops used by autodiff (`identity`, `stopGradient`).
 * Gradient rules undo broadcasting with `sumToShape`.
 */

import { type DType, isDType, isFloat, promoteTypes } from '../core/dtype.js';
import { DTypeError, WiregradError } from '../core/errors.js';
import { broadcastShapes, sizeOf } from '../core/shape.js';
import { runOp } from '../runtime/dispatch.js';
import type { Tensor } from '../tensor.js';
import { type OpCost, type TensorMeta, defineOp } from './registry.js';
import { asTensor, requireFloat, sumToShape } from './util.js';

const elementCost =
  (n: number) =>
  (inputs: readonly TensorMeta[], out: TensorMeta): OpCost => {
    const size = sizeOf(out.shape);
    const bytesIn = inputs.reduce((s, t) => s + sizeOf(t.shape) * 4, 0);
    return { flops: n * size, bytes: bytesIn + size * 4 };
  };

// ---- unary ------------------------------------------------------------------------------

interface UnaryAttrs {
  readonly alpha?: number;
}

function unary(
  name: string,
  doc: string,
  gradientDoc: string,
  gradient: ((x: Tensor, y: Tensor, dy: Tensor, attrs: UnaryAttrs) => Tensor) | null,
  flops = 1,
  attrs: Record<string, { kind: 'float'; optional: true; doc: string }> = {},
): void {
  defineOp<UnaryAttrs>({
    name,
    arity: 1,
    attrs,
    doc,
    gradientDoc,
    inferShape([x]) {
      requireFloat(name, x!);
      return { shape: x!.shape, dtype: x!.dtype };
    },
    gradient: gradient ? ([x], y, dy, a) => [gradient(x!, y, dy, a)] : undefined,
    cost: elementCost(flops),
  });
}

unary('neg', 'Negation, -x.', 'd(-x)/dx = -1, so dx = -dy.', (_x, _y, dy) => neg(dy));
unary('exp', 'Exponential, e^x.', 'd(e^x)/dx = e^x = y, so dx = dy·y.', (_x, y, dy) => mul(dy, y));
unary('log', 'Natural logarithm.', 'd(ln x)/dx = 1/x, so dx = dy / x.', (x, _y, dy) => div(dy, x));
unary('sqrt', 'Square root.', 'd(√x)/dx = 1/(2√x), so dx = dy / (2y).', (_x, y, dy) =>
  div(dy, mul(y, 2)),
);
unary('abs', 'Absolute value.', 'd|x|/dx = sign(x), so dx = dy·sign(x).', (x, _y, dy) =>
  mul(dy, sign(x)),
);
unary('sign', 'Sign: -1, 0 or 1.', 'sign is flat almost everywhere: dx = 0.', (x) => zerosOf(x));
unary(
  'tanh',
  'Hyperbolic tangent.',
  'd tanh(x)/dx = 1 - tanh²(x), so dx = dy·(1 - y²).',
  (_x, y, dy) => mul(dy, sub(1, mul(y, y))),
);
unary(
  'sigmoid',
  'Logistic sigmoid, 1/(1+e^-x).',
  'dσ(x)/dx = σ(x)(1 - σ(x)), so dx = dy·y·(1 - y).',
  (_x, y, dy) => mul(dy, mul(y, sub(1, y))),
);
unary(
  'relu',
  'Rectified linear unit, max(x, 0).',
  'd relu(x)/dx = 1 where x > 0, else 0.',
  (x, _y, dy) => mul(dy, cast(greater(x, 0), dy.dtype)),
);
unary(
  'leakyRelu',
  'Leaky ReLU: x where x > 0, else alpha·x.',
  'dx = dy where x > 0, else alpha·dy.',
  (x, _y, dy, a) => mul(dy, where(greater(x, 0), 1, a.alpha ?? 0.01)),
  1,
  { alpha: { kind: 'float', optional: true, doc: 'slope for x < 0 (default 0.01)' } },
);
unary('erf', 'The error function.', 'd erf(x)/dx = 2/√π · e^(-x²).', (x, _y, dy) =>
  mul(dy, mul(exp(neg(mul(x, x))), 2 / Math.sqrt(Math.PI))),
);
unary(
  'gelu',
  'Gaussian error linear unit, x·Φ(x) (exact, with erf).',
  'd gelu(x)/dx = Φ(x) + x·φ(x), with Φ the normal CDF and φ its density.',
  (x, _y, dy) => {
    const cdf = mul(add(erf(mul(x, Math.SQRT1_2)), 1), 0.5);
    const pdf = mul(exp(mul(mul(x, x), -0.5)), 1 / Math.sqrt(2 * Math.PI));
    return mul(dy, add(cdf, mul(x, pdf)));
  },
  8,
);

function zerosOf(x: Tensor): Tensor {
  return runOp('fill', [], { shape: [...x.shape], value: 0, dtype: x.dtype, device: x.device });
}

export const neg = (x: Tensor): Tensor => runOp('neg', [x]);
export const exp = (x: Tensor): Tensor => runOp('exp', [x]);
export const log = (x: Tensor): Tensor => runOp('log', [x]);
export const sqrt = (x: Tensor): Tensor => runOp('sqrt', [x]);
export const abs = (x: Tensor): Tensor => runOp('abs', [x]);
export const sign = (x: Tensor): Tensor => runOp('sign', [x]);
export const tanh = (x: Tensor): Tensor => runOp('tanh', [x]);
export const sigmoid = (x: Tensor): Tensor => runOp('sigmoid', [x]);
export const relu = (x: Tensor): Tensor => runOp('relu', [x]);
export const erf = (x: Tensor): Tensor => runOp('erf', [x]);
export const gelu = (x: Tensor): Tensor => runOp('gelu', [x]);
export const leakyRelu = (x: Tensor, alpha = 0.01): Tensor => runOp('leakyRelu', [x], { alpha });

// ---- binary -----------------------------------------------------------------------------

type BinaryKind = 'arith' | 'divide' | 'compare';

function binaryInfer(name: string, kind: BinaryKind) {
  return ([a, b]: readonly TensorMeta[]): TensorMeta => {
    const shape = broadcastShapes(a!.shape, b!.shape, name);
    if (kind === 'compare') {
      if ((a!.dtype === 'bool') !== (b!.dtype === 'bool'))
        throw new DTypeError(`cannot compare ${a!.dtype} with ${b!.dtype}`, { op: name });
      return { shape, dtype: 'bool' };
    }
    if (a!.dtype === 'bool' || b!.dtype === 'bool')
      throw new DTypeError(
        `does not take bool operands (${a!.dtype}, ${b!.dtype}); cast them first`,
        { op: name },
      );
    const dtype = promoteTypes(a!.dtype, b!.dtype);
    return { shape, dtype: kind === 'divide' && !isFloat(dtype) ? 'f32' : dtype };
  };
}

function binary(
  name: string,
  kind: BinaryKind,
  doc: string,
  gradientDoc: string,
  gradient:
    ((a: Tensor, b: Tensor, y: Tensor, dy: Tensor) => [Tensor | null, Tensor | null]) | null,
): void {
  defineOp({
    name,
    arity: 2,
    attrs: {},
    doc,
    gradientDoc,
    inferShape: binaryInfer(name, kind),
    gradient: gradient
      ? ([a, b], y, dy) => {
          const [ga, gb] = gradient(a!, b!, y, dy);
          return [
            ga && a!.requiresGrad ? sumToShape(ga, a!.shape) : null,
            gb && b!.requiresGrad ? sumToShape(gb, b!.shape) : null,
          ];
        }
      : undefined,
    cost: elementCost(1),
  });
}

binary(
  'add',
  'arith',
  'Sum a + b, broadcasting.',
  'da = dy, db = dy (summed over broadcast axes).',
  (_a, _b, _y, dy) => [dy, dy],
);
binary('sub', 'arith', 'Difference a - b, broadcasting.', 'da = dy, db = -dy.', (_a, b, _y, dy) => [
  dy,
  b.requiresGrad ? neg(dy) : null,
]);
binary('mul', 'arith', 'Product a · b, broadcasting.', 'da = dy·b, db = dy·a.', (a, b, _y, dy) => [
  a.requiresGrad ? mul(dy, b) : null,
  b.requiresGrad ? mul(dy, a) : null,
]);
binary(
  'div',
  'divide',
  'Quotient a / b, broadcasting.',
  'da = dy / b, db = -dy·a / b².',
  (a, b, y, dy) => [
    a.requiresGrad ? div(dy, b) : null,
    b.requiresGrad ? neg(div(mul(dy, y), b)) : null,
  ],
);
binary(
  'pow',
  'arith',
  'Power a^b, broadcasting.',
  'da = dy·b·a^(b-1), db = dy·a^b·ln a.',
  (a, b, y, dy) => [
    a.requiresGrad ? mul(dy, mul(b, pow(a, sub(b, 1)))) : null,
    b.requiresGrad ? mul(dy, mul(y, log(a))) : null,
  ],
);
binary(
  'maximum',
  'arith',
  'Elementwise maximum, broadcasting.',
  'The gradient goes to the larger operand; ties split it equally.',
  (a, b, _y, dy) => {
    const share = add(cast(greater(a, b), dy.dtype), mul(cast(equal(a, b), dy.dtype), 0.5));
    return [mul(dy, share), mul(dy, sub(1, share))];
  },
);
binary(
  'minimum',
  'arith',
  'Elementwise minimum, broadcasting.',
  'The gradient goes to the smaller operand; ties split it equally.',
  (a, b, _y, dy) => {
    const share = add(cast(less(a, b), dy.dtype), mul(cast(equal(a, b), dy.dtype), 0.5));
    return [mul(dy, share), mul(dy, sub(1, share))];
  },
);
binary('equal', 'compare', 'a == b (bool), broadcasting.', 'Not differentiable.', null);
binary('greater', 'compare', 'a > b (bool), broadcasting.', 'Not differentiable.', null);
binary('less', 'compare', 'a < b (bool), broadcasting.', 'Not differentiable.', null);

/** Two operands, either of which may be a number; numbers take the tensor's dtype. */
function operands(a: Tensor | number, b: Tensor | number, op: string): [Tensor, Tensor] {
  if (typeof a === 'number' && typeof b === 'number')
    throw new WiregradError('needs at least one tensor operand', { op });
  const ta = typeof a === 'number' ? asTensor(a, b as Tensor) : a;
  const tb = typeof b === 'number' ? asTensor(b, ta) : b;
  return [ta, tb];
}

export const add = (a: Tensor | number, b: Tensor | number): Tensor =>
  runOp('add', operands(a, b, 'add'));
export const sub = (a: Tensor | number, b: Tensor | number): Tensor =>
  runOp('sub', operands(a, b, 'sub'));
export const mul = (a: Tensor | number, b: Tensor | number): Tensor =>
  runOp('mul', operands(a, b, 'mul'));
export const div = (a: Tensor | number, b: Tensor | number): Tensor =>
  runOp('div', operands(a, b, 'div'));
export const pow = (a: Tensor | number, b: Tensor | number): Tensor =>
  runOp('pow', operands(a, b, 'pow'));
export const maximum = (a: Tensor | number, b: Tensor | number): Tensor =>
  runOp('maximum', operands(a, b, 'maximum'));
export const minimum = (a: Tensor | number, b: Tensor | number): Tensor =>
  runOp('minimum', operands(a, b, 'minimum'));
export const equal = (a: Tensor | number, b: Tensor | number): Tensor =>
  runOp('equal', operands(a, b, 'equal'));
export const greater = (a: Tensor | number, b: Tensor | number): Tensor =>
  runOp('greater', operands(a, b, 'greater'));
export const less = (a: Tensor | number, b: Tensor | number): Tensor =>
  runOp('less', operands(a, b, 'less'));

// ---- where, cast, identity ----------------------------------------------------------------

defineOp({
  name: 'where',
  arity: 3,
  attrs: {},
  doc: 'Picks a where cond is true, else b, broadcasting all three.',
  gradientDoc: 'da = dy where cond, else 0; db = dy where not cond, else 0.',
  inferShape([c, a, b]) {
    if (c!.dtype !== 'bool')
      throw new DTypeError(`condition must be bool, got ${c!.dtype}`, { op: 'where' });
    const shape = broadcastShapes(broadcastShapes(c!.shape, a!.shape, 'where'), b!.shape, 'where');
    if (a!.dtype !== b!.dtype)
      throw new DTypeError(`branches differ in dtype (${a!.dtype}, ${b!.dtype})`, { op: 'where' });
    return { shape, dtype: a!.dtype };
  },
  gradient([c, a, b], _y, dy) {
    const zero = asTensor(0, dy);
    return [
      null,
      a!.requiresGrad ? sumToShape(where(c!, dy, zero), a!.shape) : null,
      b!.requiresGrad ? sumToShape(where(c!, zero, dy), b!.shape) : null,
    ];
  },
  cost: elementCost(1),
});

export function where(cond: Tensor, a: Tensor | number, b: Tensor | number): Tensor {
  const [ta, tb] =
    typeof a === 'number' && typeof b === 'number'
      ? [asTensor(a, cond), asTensor(b, cond)]
      : operands(a, b, 'where');
  return runOp('where', [cond, ta, tb]);
}

interface CastAttrs {
  readonly dtype: DType;
}

defineOp<CastAttrs>({
  name: 'cast',
  arity: 1,
  attrs: { dtype: { kind: 'dtype', doc: 'target dtype' } },
  doc: 'Converts to another dtype (floats to i32 truncate toward zero; nonzero to true).',
  gradientDoc: 'dx = dy cast back to the input dtype (float inputs only).',
  inferShape([x], { dtype }) {
    if (!isDType(dtype)) throw new DTypeError(`unknown dtype '${String(dtype)}'`, { op: 'cast' });
    return { shape: x!.shape, dtype };
  },
  gradient([x], _y, dy) {
    return [isFloat(x!.dtype) && isFloat(dy.dtype) ? cast(dy, x!.dtype) : null];
  },
  cost: elementCost(0),
});

export function cast(x: Tensor, dtype: DType): Tensor {
  return x.dtype === dtype ? identity(x) : runOp('cast', [x], { dtype });
}

defineOp({
  name: 'identity',
  arity: 1,
  attrs: {},
  doc: 'Returns its input (sharing its storage).',
  gradientDoc: 'dx = dy.',
  view: true,
  inferShape: ([x]) => ({ shape: x!.shape, dtype: x!.dtype }),
  gradient: (_inputs, _y, dy) => [dy],
});

defineOp({
  name: 'stopGradient',
  arity: 1,
  attrs: {},
  doc: 'Returns its input, cut from autodiff: no gradient flows through it.',
  view: true,
  inferShape: ([x]) => ({ shape: x!.shape, dtype: x!.dtype }),
});

export const identity = (x: Tensor): Tensor => runOp('identity', [x]);
export const detach = (x: Tensor): Tensor => runOp('stopGradient', [x]);

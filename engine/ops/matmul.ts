/**
 * Matrix multiplication: `matmul` (batched, broadcasting, 1-D operands promoted as in NumPy,
 * transpose flags so gradients never copy a transpose) and `linear` (x·Wᵀ + b).
 */

import { DTypeError, ShapeError, formatShape } from '../core/errors.js';
import { type Shape, sizeOf } from '../core/shape.js';
import { runOp } from '../runtime/dispatch.js';

import type { Tensor } from '../tensor.js';
import { defineOp } from './registry.js';
import { requireSameDType, reshapeTo, sumToShape } from './util.js';
import { add } from './elementwise.js';

const F32 = 4;

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

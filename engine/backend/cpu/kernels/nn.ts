/**
 * Reference CPU kernels for the neural-network ops: matmul, conv2d and its two backward ops,
 * max/avg pooling and their backward ops, softmax and logSoftmax. Plain loops that favour
 * clarity over speed, accumulating in float64 and rounding once when stored; the fast
 * WebAssembly kernels are tested against these. Every geometry (batch, channels, windows) is
 * read from the operand and output shapes plus the op's normalised attributes, which the op
 * definitions have already checked.
 */

import type { TypedArray } from '../../../core/dtype.js';
import { type Shape, broadcastStrides, sizeOf, stridesOf } from '../../../core/shape.js';
import type { CpuBackend, CpuTensor } from '../cpu-backend.js';

// ---- matmul -----------------------------------------------------------------------------

/**
 * One matrix product O[i, j] = Σ_p A[i, p]·B[p, j] (m×k times k×n, O contiguous m×n), reading
 * A and B through element strides, so a transposed operand is only a swap of its strides.
 * `row` is scratch of at least n float64s. Loop order i-p-j streams rows of B and O.
 */
export function matmulStrided(
  A: TypedArray,
  aOffset: number,
  aRowStride: number,
  aColStride: number,
  B: TypedArray,
  bOffset: number,
  bRowStride: number,
  bColStride: number,
  O: TypedArray,
  oOffset: number,
  m: number,
  n: number,
  k: number,
  row: Float64Array,
): void {
  for (let i = 0; i < m; i++) {
    row.fill(0, 0, n);
    const aRow = aOffset + i * aRowStride;
    for (let p = 0; p < k; p++) {
      const av = A[aRow + p * aColStride]!;
      const bRow = bOffset + p * bRowStride;
      for (let j = 0; j < n; j++) row[j]! += av * B[bRow + j * bColStride]!;
    }
    const oRow = oOffset + i * n;
    for (let j = 0; j < n; j++) O[oRow + j] = row[j]!;
  }
}

export interface MatmulAttrs {
  readonly transposeA: boolean;
  readonly transposeB: boolean;
}

/** One matrix product of a (batched) matmul: offsets in elements and op(A)/op(B) strides. */
export interface MatmulPiece {
  readonly aOffset: number;
  readonly bOffset: number;
  readonly oOffset: number;
}

export interface MatmulPlan {
  readonly m: number;
  readonly n: number;
  readonly k: number;
  readonly aRowStride: number;
  readonly aColStride: number;
  readonly bRowStride: number;
  readonly bColStride: number;
  readonly pieces: MatmulPiece[];
}

/**
 * The geometry of matmul(a, b) with its transpose flags and batch broadcasting, as a list of
 * 2-D products; shared by the reference kernel and the WebAssembly one.
 */
export function planMatmul(aIn: Shape, bIn: Shape, attrs: MatmulAttrs): MatmulPlan {
  // Promote 1-D operands as the op definition does: a [k] → [1, k], b [k] → [k, 1].
  const aShape: Shape = aIn.length === 1 ? [1, aIn[0]!] : aIn;
  const bShape: Shape = bIn.length === 1 ? [bIn[0]!, 1] : bIn;
  const tA = attrs.transposeA && aIn.length > 1;
  const tB = attrs.transposeB && bIn.length > 1;
  const ra = aShape.length;
  const rb = bShape.length;
  const aRows = aShape[ra - 2]!;
  const aCols = aShape[ra - 1]!;
  const bRows = bShape[rb - 2]!;
  const bCols = bShape[rb - 1]!;
  const [m, k] = tA ? [aCols, aRows] : [aRows, aCols];
  const n = tB ? bRows : bCols;
  // Element strides of op(A) (m×k) and op(B) (k×n) inside one stored matrix.
  const [aRowStride, aColStride] = tA ? [1, aCols] : [aCols, 1];
  const [bRowStride, bColStride] = tB ? [1, bCols] : [bCols, 1];

  // Batch: the output's leading axes; operands broadcast along theirs (stride 0).
  const aBatch = aShape.slice(0, -2);
  const bBatch = bShape.slice(0, -2);
  const batchRank = Math.max(aBatch.length, bBatch.length);
  const batch = new Array<number>(batchRank);
  for (let i = 0; i < batchRank; i++) {
    const da = aBatch[aBatch.length - batchRank + i] ?? 1;
    batch[i] = da === 1 ? (bBatch[bBatch.length - batchRank + i] ?? 1) : da;
  }
  const aMatrix = aRows * aCols;
  const bMatrix = bRows * bCols;
  const aStrides = broadcastStrides(aBatch, batch).map((s) => s * aMatrix);
  const bStrides = broadcastStrides(bBatch, batch).map((s) => s * bMatrix);
  const batchStrides = stridesOf(batch);
  const count = sizeOf(batch);
  const pieces: MatmulPiece[] = [];
  for (let t = 0; t < count; t++) {
    let aOffset = 0;
    let bOffset = 0;
    for (let d = 0; d < batchRank; d++) {
      const idx = Math.floor(t / batchStrides[d]!) % batch[d]!;
      aOffset += idx * aStrides[d]!;
      bOffset += idx * bStrides[d]!;
    }
    pieces.push({ aOffset, bOffset, oOffset: t * m * n });
  }
  return { m, n, k, aRowStride, aColStride, bRowStride, bColStride, pieces };
}

function matmulKernel([a, b]: CpuTensor[], out: CpuTensor, attrs: MatmulAttrs): void {
  const p = planMatmul(a!.shape, b!.shape, attrs);
  const row = new Float64Array(p.n);
  for (const piece of p.pieces)
    matmulStrided(
      a!.data,
      piece.aOffset,
      p.aRowStride,
      p.aColStride,
      b!.data,
      piece.bOffset,
      p.bRowStride,
      p.bColStride,
      out.data,
      piece.oOffset,
      p.m,
      p.n,
      p.k,
      row,
    );
}

// ---- conv2d -----------------------------------------------------------------------------

interface ConvAttrs {
  readonly stride: readonly number[];
  /** [top, left, bottom, right]. */
  readonly padding: readonly number[];
  readonly dilation: readonly number[];
  readonly groups: number;
}

/** Everything the three convolution loops need, from x, w and y shapes. */
interface ConvGeometry {
  readonly n: number;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly cout: number;
  readonly cinG: number;
  readonly coutG: number;
  readonly kh: number;
  readonly kw: number;
  readonly ho: number;
  readonly wo: number;
  readonly groups: number;
  readonly sh: number;
  readonly sw: number;
  readonly pt: number;
  readonly pl: number;
  readonly dh: number;
  readonly dw: number;
}

function convGeometry(x: Shape, w: Shape, y: Shape, a: ConvAttrs): ConvGeometry {
  return {
    n: x[0]!,
    c: x[1]!,
    h: x[2]!,
    w: x[3]!,
    cout: w[0]!,
    cinG: w[1]!,
    coutG: w[0]! / a.groups,
    kh: w[2]!,
    kw: w[3]!,
    ho: y[2]!,
    wo: y[3]!,
    groups: a.groups,
    sh: a.stride[0]!,
    sw: a.stride[1]!,
    pt: a.padding[0]!,
    pl: a.padding[1]!,
    dh: a.dilation[0]!,
    dw: a.dilation[1]!,
  };
}

/** Which operand a convolution walk accumulates into: y (forward), dx, or dw. */
type ConvTarget = 'y' | 'dx' | 'dw';

/**
 * The convolution's products, one output row segment at a time: for output row `yRow`,
 * weight tap `wi` and output columns [lo, hi), the input element that meets w[wi] and
 * y[yRow + ow] is x[xRow + ow·strideW]; taps in the zero padding are cut from [lo, hi) up
 * front. conv2d and its two backward ops are this one walk, accumulating (in float64) into
 * y, x or w; the inner loops sit inline in a switch so that the hot loop is a plain loop.
 * `p` and `q` are the two operands read, in the order (x, w), (dy, w) or (x, dy).
 */
function convolve(
  g: ConvGeometry,
  target: ConvTarget,
  p: TypedArray,
  q: TypedArray,
  out: CpuTensor,
): void {
  const acc = new Float64Array(out.size);
  const sw = g.sw;
  // Valid output columns per kernel column j: 0 <= ow·sw − pl + j·dw < w.
  const lo = new Int32Array(g.kw);
  const hi = new Int32Array(g.kw);
  for (let j = 0; j < g.kw; j++) {
    const shift = j * g.dw - g.pl;
    lo[j] = Math.min(g.wo, Math.max(0, Math.ceil(-shift / sw)));
    hi[j] = Math.max(lo[j]!, Math.min(g.wo, Math.floor((g.w - 1 - shift) / sw) + 1));
  }
  for (let b = 0; b < g.n; b++)
    for (let co = 0; co < g.cout; co++) {
      const group = Math.floor(co / g.coutG);
      const yPlane = (b * g.cout + co) * g.ho;
      for (let ci = 0; ci < g.cinG; ci++) {
        const xPlane = (b * g.c + group * g.cinG + ci) * g.h;
        const wPlane = (co * g.cinG + ci) * g.kh;
        for (let i = 0; i < g.kh; i++)
          for (let oh = 0; oh < g.ho; oh++) {
            const ih = oh * g.sh - g.pt + i * g.dh;
            if (ih < 0 || ih >= g.h) continue;
            const yRow = (yPlane + oh) * g.wo;
            for (let j = 0; j < g.kw; j++) {
              const xRow = (xPlane + ih) * g.w + j * g.dw - g.pl;
              const wi = (wPlane + i) * g.kw + j;
              const start = lo[j]!;
              const end = hi[j]!;
              switch (target) {
                case 'y': {
                  const wv = q[wi]!;
                  for (let ow = start; ow < end; ow++) acc[yRow + ow]! += wv * p[xRow + ow * sw]!;
                  break;
                }
                case 'dx': {
                  const wv = q[wi]!;
                  for (let ow = start; ow < end; ow++) acc[xRow + ow * sw]! += wv * p[yRow + ow]!;
                  break;
                }
                case 'dw': {
                  let s = 0;
                  for (let ow = start; ow < end; ow++) s += p[xRow + ow * sw]! * q[yRow + ow]!;
                  acc[wi]! += s;
                  break;
                }
                default:
                  target satisfies never;
              }
            }
          }
      }
    }
  out.data.set(acc);
}

function conv2dKernel([x, w]: CpuTensor[], out: CpuTensor, a: ConvAttrs): void {
  convolve(convGeometry(x!.shape, w!.shape, out.shape, a), 'y', x!.data, w!.data, out);
}

function backpropInputKernel([dy, w]: CpuTensor[], out: CpuTensor, a: ConvAttrs): void {
  convolve(convGeometry(out.shape, w!.shape, dy!.shape, a), 'dx', dy!.data, w!.data, out);
}

function backpropFilterKernel([x, dy]: CpuTensor[], out: CpuTensor, a: ConvAttrs): void {
  convolve(convGeometry(x!.shape, out.shape, dy!.shape, a), 'dw', x!.data, dy!.data, out);
}

// ---- pooling ----------------------------------------------------------------------------

interface PoolAttrs {
  readonly kernelSize: readonly number[];
  readonly stride: readonly number[];
  /** [padH, padW], the same on both sides. */
  readonly padding: readonly number[];
  readonly countIncludePad?: boolean;
}

/**
 * Calls `visit(yIndex, planeOffset, h0, h1, w0, w1)` for every pooled output: the in-bounds
 * part of its window is rows [h0, h1) and columns [w0, w1) of the input plane that starts at
 * planeOffset (windows never lie wholly in the padding: it is at most half the kernel).
 */
function forEachWindow(
  x: Shape,
  y: Shape,
  a: PoolAttrs,
  visit: (yi: number, plane: number, h0: number, h1: number, w0: number, w1: number) => void,
): void {
  const [n, c, h, w] = x as [number, number, number, number];
  const ho = y[2]!;
  const wo = y[3]!;
  const [kh, kw] = a.kernelSize as [number, number];
  const [sh, sw] = a.stride as [number, number];
  const [ph, pw] = a.padding as [number, number];
  for (let p = 0; p < n * c; p++)
    for (let oh = 0; oh < ho; oh++) {
      const hs = oh * sh - ph;
      const h0 = Math.max(hs, 0);
      const h1 = Math.min(hs + kh, h);
      for (let ow = 0; ow < wo; ow++) {
        const ws = ow * sw - pw;
        visit((p * ho + oh) * wo + ow, p * h * w, h0, h1, Math.max(ws, 0), Math.min(ws + kw, w));
      }
    }
}

/** Flat index of the first maximum of a window; NaN counts as the maximum, as in PyTorch. */
function windowArgmax(
  X: TypedArray,
  width: number,
  plane: number,
  h0: number,
  h1: number,
  w0: number,
  w1: number,
): number {
  let best = -1;
  let bestV = -Infinity;
  for (let ih = h0; ih < h1; ih++)
    for (let iw = w0; iw < w1; iw++) {
      const i = plane + ih * width + iw;
      const v = X[i]!;
      if (best < 0 || v > bestV || (v !== v && bestV === bestV)) {
        best = i;
        bestV = v;
      }
    }
  return best;
}

function maxPoolKernel([x]: CpuTensor[], out: CpuTensor, a: PoolAttrs): void {
  const X = x!.data;
  const O = out.data;
  const width = x!.shape[3]!;
  forEachWindow(x!.shape, out.shape, a, (yi, plane, h0, h1, w0, w1) => {
    O[yi] = X[windowArgmax(X, width, plane, h0, h1, w0, w1)]!;
  });
}

function maxPoolGradKernel([x, dy]: CpuTensor[], out: CpuTensor, a: PoolAttrs): void {
  const X = x!.data;
  const DY = dy!.data;
  const width = x!.shape[3]!;
  const acc = new Float64Array(out.size);
  forEachWindow(x!.shape, dy!.shape, a, (yi, plane, h0, h1, w0, w1) => {
    acc[windowArgmax(X, width, plane, h0, h1, w0, w1)]! += DY[yi]!;
  });
  out.data.set(acc);
}

function maxPoolGatherKernel([x, g]: CpuTensor[], out: CpuTensor, a: PoolAttrs): void {
  const X = x!.data;
  const G = g!.data;
  const O = out.data;
  const width = x!.shape[3]!;
  forEachWindow(x!.shape, out.shape, a, (yi, plane, h0, h1, w0, w1) => {
    O[yi] = G[windowArgmax(X, width, plane, h0, h1, w0, w1)]!;
  });
}

/** The divisor of a window: the full kernel, or only its in-bounds part. */
function windowCount(a: PoolAttrs, h0: number, h1: number, w0: number, w1: number): number {
  return a.countIncludePad === false ? (h1 - h0) * (w1 - w0) : a.kernelSize[0]! * a.kernelSize[1]!;
}

function avgPoolKernel([x]: CpuTensor[], out: CpuTensor, a: PoolAttrs): void {
  const X = x!.data;
  const O = out.data;
  const width = x!.shape[3]!;
  forEachWindow(x!.shape, out.shape, a, (yi, plane, h0, h1, w0, w1) => {
    let s = 0;
    for (let ih = h0; ih < h1; ih++)
      for (let iw = w0; iw < w1; iw++) s += X[plane + ih * width + iw]!;
    O[yi] = s / windowCount(a, h0, h1, w0, w1);
  });
}

function avgPoolGradKernel([dy]: CpuTensor[], out: CpuTensor, a: PoolAttrs): void {
  const DY = dy!.data;
  const width = out.shape[3]!;
  const acc = new Float64Array(out.size);
  forEachWindow(out.shape, dy!.shape, a, (yi, plane, h0, h1, w0, w1) => {
    const share = DY[yi]! / windowCount(a, h0, h1, w0, w1);
    for (let ih = h0; ih < h1; ih++)
      for (let iw = w0; iw < w1; iw++) acc[plane + ih * width + iw]! += share;
  });
  out.data.set(acc);
}

// ---- softmax ----------------------------------------------------------------------------

/**
 * Softmax or log-softmax along `axis`, viewing x as [outer, n, inner]. Subtracting each
 * row's maximum first keeps exp from overflowing: softmax(x) = softmax(x − max).
 */
function softmaxKernel(x: CpuTensor, out: CpuTensor, axis: number, log: boolean): void {
  const X = x.data;
  const O = out.data;
  const n = x.shape[axis]!;
  const inner = stridesOf(x.shape)[axis]!;
  const outer = n === 0 || inner === 0 ? 0 : x.size / (n * inner);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      const base = o * n * inner + i;
      let mx = -Infinity;
      for (let r = 0; r < n; r++) {
        const v = X[base + r * inner]!;
        if (v > mx || v !== v) mx = v;
        if (v !== v) break;
      }
      let total = 0;
      for (let r = 0; r < n; r++) total += Math.exp(X[base + r * inner]! - mx);
      if (log) {
        const lse = Math.log(total);
        for (let r = 0; r < n; r++) O[base + r * inner] = X[base + r * inner]! - mx - lse;
      } else {
        for (let r = 0; r < n; r++)
          O[base + r * inner] = Math.exp(X[base + r * inner]! - mx) / total;
      }
    }
}

export function registerNnKernels(cpu: CpuBackend): void {
  cpu.registerReference('matmul', matmulKernel);
  cpu.registerReference('conv2d', conv2dKernel);
  cpu.registerReference('conv2dBackpropInput', backpropInputKernel);
  cpu.registerReference('conv2dBackpropFilter', backpropFilterKernel);
  cpu.registerReference('maxPool2d', maxPoolKernel);
  cpu.registerReference('maxPool2dGrad', maxPoolGradKernel);
  cpu.registerReference('maxPool2dGather', maxPoolGatherKernel);
  cpu.registerReference('avgPool2d', avgPoolKernel);
  cpu.registerReference('avgPool2dGrad', avgPoolGradKernel);
  cpu.registerReference<{ axis: number }>('softmax', ([x], out, { axis }) =>
    softmaxKernel(x!, out, axis, false),
  );
  cpu.registerReference<{ axis: number }>('logSoftmax', ([x], out, { axis }) =>
    softmaxKernel(x!, out, axis, true),
  );
}

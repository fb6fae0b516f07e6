/**
 * Convolution on the fast path, as im2col + the WebAssembly matmul (GEMM-based convolution):
 * per image and channel group, the receptive fields are unrolled into a column matrix
 * cols [Cin/g·kh·kw, Ho·Wo], so that
 *   forward:         y[n, g]  = W_g · cols
 *   input gradient:  dcols    = W_gᵀ · dy[n, g], folded back into dx by col2im
 *   filter gradient: dW_g    += dy[n, g] · colsᵀ   (accumulated over the batch)
 * Transposed operands are only strides to the matmul, so nothing is transposed in memory.
 */

import type { WasmKernels } from '../wasm/kernels.js';
import type { CpuBackend, CpuTensor } from './cpu-backend.js';
import type { Heap } from './heap.js';

const F32 = 4;

interface ConvAttrs {
  readonly stride: readonly number[];
  readonly padding: readonly number[];
  readonly dilation: readonly number[];
  readonly groups: number;
}

interface Geometry {
  n: number;
  cin: number;
  h: number;
  w: number;
  cout: number;
  kh: number;
  kw: number;
  ho: number;
  wo: number;
  g: number;
  cinG: number;
  coutG: number;
  /** Rows of the column matrix: Cin/g·kh·kw. */
  k: number;
  /** Columns of the column matrix: Ho·Wo. */
  p: number;
}

function geometry(
  x: readonly number[],
  wShape: readonly number[],
  y: readonly number[],
  a: ConvAttrs,
): Geometry {
  const [n, cin, h, w] = x as [number, number, number, number];
  const [cout, cinG, kh, kw] = wShape as [number, number, number, number];
  const [, , ho, wo] = y as [number, number, number, number];
  const g = a.groups;
  return {
    n,
    cin,
    h,
    w,
    cout,
    kh,
    kw,
    ho,
    wo,
    g,
    cinG,
    coutG: cout / g,
    k: cinG * kh * kw,
    p: ho * wo,
  };
}

/** Unrolls image `img`, group `grp` of x into cols [k, p]. */
function im2col(
  X: Float32Array,
  cols: Float32Array,
  geo: Geometry,
  a: ConvAttrs,
  img: number,
  grp: number,
): void {
  const { cin, h, w, kh, kw, ho, wo, cinG, p } = geo;
  const [sh, sw] = a.stride as [number, number];
  const [pt, pl] = a.padding as [number, number];
  const [dh, dw] = a.dilation as [number, number];
  let row = 0;
  for (let c = 0; c < cinG; c++) {
    const plane = (img * cin + grp * cinG + c) * h * w;
    for (let i = 0; i < kh; i++)
      for (let j = 0; j < kw; j++, row++) {
        const base = row * p;
        for (let oh = 0; oh < ho; oh++) {
          const ih = oh * sh - pt + i * dh;
          const o = base + oh * wo;
          if (ih < 0 || ih >= h) {
            cols.fill(0, o, o + wo);
            continue;
          }
          const src = plane + ih * w;
          for (let ow = 0; ow < wo; ow++) {
            const iw = ow * sw - pl + j * dw;
            cols[o + ow] = iw >= 0 && iw < w ? X[src + iw]! : 0;
          }
        }
      }
  }
}

/** Adds cols [k, p] back into image `img`, group `grp` of dx (the adjoint of im2col). */
function col2im(
  DX: Float32Array,
  cols: Float32Array,
  geo: Geometry,
  a: ConvAttrs,
  img: number,
  grp: number,
): void {
  const { cin, h, w, kh, kw, ho, wo, cinG, p } = geo;
  const [sh, sw] = a.stride as [number, number];
  const [pt, pl] = a.padding as [number, number];
  const [dh, dw] = a.dilation as [number, number];
  let row = 0;
  for (let c = 0; c < cinG; c++) {
    const plane = (img * cin + grp * cinG + c) * h * w;
    for (let i = 0; i < kh; i++)
      for (let j = 0; j < kw; j++, row++) {
        const base = row * p;
        for (let oh = 0; oh < ho; oh++) {
          const ih = oh * sh - pt + i * dh;
          if (ih < 0 || ih >= h) continue;
          const dst = plane + ih * w;
          const o = base + oh * wo;
          for (let ow = 0; ow < wo; ow++) {
            const iw = ow * sw - pl + j * dw;
            if (iw >= 0 && iw < w) DX[dst + iw]! += cols[o + ow]!;
          }
        }
      }
  }
}

/** Runs `body` with a scratch f32 block of `size` elements (views are taken inside). */
function withScratch(heap: Heap, size: number, body: (ptr: number) => void): void {
  const ptr = heap.alloc(Math.max(1, size) * F32);
  try {
    body(ptr);
  } finally {
    heap.release(ptr);
  }
}

const f32 = (heap: Heap, t: CpuTensor): Float32Array => heap.f32(t.ptr, t.size);

export function registerFastConv(cpu: CpuBackend, wasm: WasmKernels): void {
  cpu.registerFast<ConvAttrs>('conv2d', ([x, wt], out, a, heap) => {
    if (x!.dtype !== 'f32' || wt!.dtype !== 'f32') return false;
    const geo = geometry(x!.shape, wt!.shape, out.shape, a);
    withScratch(heap, geo.k * geo.p, (cols) => {
      for (let img = 0; img < geo.n; img++)
        for (let grp = 0; grp < geo.g; grp++) {
          im2col(f32(heap, x!), heap.f32(cols, geo.k * geo.p), geo, a, img, grp);
          wasm.matmul({
            a: wt!.ptr + grp * geo.coutG * geo.k * F32,
            b: cols,
            c: out.ptr + (img * geo.cout + grp * geo.coutG) * geo.p * F32,
            m: geo.coutG,
            n: geo.p,
            k: geo.k,
            aRowStride: geo.k,
            aColStride: 1,
            bRowStride: geo.p,
            bColStride: 1,
          });
        }
    });
    return true;
  });

  cpu.registerFast<ConvAttrs>('conv2dBackpropInput', ([dy, wt], out, a, heap) => {
    if (dy!.dtype !== 'f32' || wt!.dtype !== 'f32') return false;
    const geo = geometry(out.shape, wt!.shape, dy!.shape, a);
    withScratch(heap, geo.k * geo.p, (cols) => {
      f32(heap, out).fill(0);
      for (let img = 0; img < geo.n; img++)
        for (let grp = 0; grp < geo.g; grp++) {
          // dcols [k, p] = W_gᵀ [k, coutG] · dy [coutG, p]
          wasm.matmul({
            a: wt!.ptr + grp * geo.coutG * geo.k * F32,
            b: dy!.ptr + (img * geo.cout + grp * geo.coutG) * geo.p * F32,
            c: cols,
            m: geo.k,
            n: geo.p,
            k: geo.coutG,
            aRowStride: 1,
            aColStride: geo.k,
            bRowStride: geo.p,
            bColStride: 1,
          });
          col2im(f32(heap, out), heap.f32(cols, geo.k * geo.p), geo, a, img, grp);
        }
    });
    return true;
  });

  cpu.registerFast<ConvAttrs>('conv2dBackpropFilter', ([x, dy], out, a, heap) => {
    if (x!.dtype !== 'f32' || dy!.dtype !== 'f32') return false;
    const geo = geometry(x!.shape, out.shape, dy!.shape, a);
    withScratch(heap, geo.k * geo.p, (cols) => {
      for (let img = 0; img < geo.n; img++)
        for (let grp = 0; grp < geo.g; grp++) {
          im2col(f32(heap, x!), heap.f32(cols, geo.k * geo.p), geo, a, img, grp);
          // dW_g [coutG, k] (+)= dy [coutG, p] · colsᵀ [p, k]
          wasm.matmul({
            a: dy!.ptr + (img * geo.cout + grp * geo.coutG) * geo.p * F32,
            b: cols,
            c: out.ptr + grp * geo.coutG * geo.k * F32,
            m: geo.coutG,
            n: geo.k,
            k: geo.p,
            aRowStride: geo.p,
            aColStride: 1,
            bRowStride: 1,
            bColStride: geo.p,
            accumulate: img > 0,
          });
        }
    });
    return true;
  });
}

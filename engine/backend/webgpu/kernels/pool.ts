/**
 * WebGPU kernels for max and average pooling and their backward ops. Each output element has
 * one owner invocation, so there are no atomics:
 * - maxPool2d, maxPool2dGather and avgPool2d: one invocation per pooled element, scanning the
 *   in-bounds part of its window;
 * - maxPool2dGrad and avgPool2dGrad: one invocation per x element, visiting the (few) windows
 *   that contain it; for max, the window's argmax is recomputed and dy is taken only where it
 *   is this element.
 * The window's argmax is its first maximum, with NaN counting as the maximum (its first NaN),
 * as on the CPU; NaN is found from its bits (see wgsl.ts), never by comparison. Windows never
 * lie wholly in the padding (the op checks padding ≤ half the kernel), so each has an element.
 * avgPool divides by the whole window (countIncludePad) or by its in-bounds part.
 */

import type { Shape } from '../../../core/shape.js';
import type { WebGPUBackend } from '../webgpu-backend.js';
import { bindings, linearKernel } from '../program.js';
import { NUMERICS } from '../wgsl.js';

interface PoolAttrs {
  readonly kernelSize: readonly number[];
  readonly stride: readonly number[];
  /** [padH, padW], the same on both sides. */
  readonly padding: readonly number[];
  readonly countIncludePad?: boolean;
}

/** p: [count, H, W, Ho, Wo, kh, kw, sh, sw, ph, pw, countIncludePad] for x and y shapes. */
function poolParams(count: number, x: Shape, y: Shape, a: PoolAttrs): number[] {
  return [
    count,
    x[2]!,
    x[3]!,
    y[2]!,
    y[3]!,
    a.kernelSize[0]!,
    a.kernelSize[1]!,
    a.stride[0]!,
    a.stride[1]!,
    a.padding[0]!,
    a.padding[1]!,
    a.countIncludePad === false ? 0 : 1,
  ];
}

/**
 * WGSL helpers: `pool_window(oh, ow)` gives the in-bounds window [h0, h1) × [w0, w1) of a
 * pooled element, `window_argmax` the flat x index of its first maximum, `window_count` its
 * divisor for averaging.
 */
const WINDOW = `${NUMERICS}
struct PoolWindow { h0: u32, h1: u32, w0: u32, w1: u32 }
fn pool_window(oh: u32, ow: u32) -> PoolWindow {
  let hs = i32(oh * p[7]) - i32(p[9]);
  let ws = i32(ow * p[8]) - i32(p[10]);
  return PoolWindow(u32(max(hs, 0)), u32(min(hs + i32(p[5]), i32(p[1]))),
                u32(max(ws, 0)), u32(min(ws + i32(p[6]), i32(p[2]))));
}
fn window_count(win: PoolWindow) -> f32 {
  if (p[11] == 1u) { return f32(p[5] * p[6]); }
  return f32((win.h1 - win.h0) * (win.w1 - win.w0));
}`;

const ARGMAX = `
fn window_argmax(plane: u32, win: PoolWindow) -> u32 {
  var best = plane + win.h0 * p[2] + win.w0;
  var bestV = x[best];
  for (var ih = win.h0; ih < win.h1; ih = ih + 1u) {
    for (var iw = win.w0; iw < win.w1; iw = iw + 1u) {
      let k = plane + ih * p[2] + iw;
      let v = x[k];
      if (!is_nan(bestV) && (is_nan(v) || v > bestV)) { best = k; bestV = v; }
    }
  }
  return best;
}`;

/** WGSL: the pooled element i as (plane, oh, ow) and its window. */
const POOLED = `  let Ho = p[3];
  let Wo = p[4];
  let ow = i % Wo;
  let oh = (i / Wo) % Ho;
  let plane = (i / (Wo * Ho)) * p[1] * p[2];
  let win = pool_window(oh, ow);`;

/**
 * WGSL: the x element i as (q = its plane index, ih, iw) and the range [oh0, oh1] × [ow0, ow1]
 * of pooled rows and columns whose windows contain it (empty when oh0 > oh1 or ow0 > ow1).
 */
const CONTAINING = `  let H = p[1];
  let W = p[2];
  let Ho = p[3];
  let Wo = p[4];
  let iw = i % W;
  let ih = (i / W) % H;
  let q = i / (W * H);
  // Window oh covers rows [oh·sh − ph, oh·sh − ph + kh): it holds ih when
  // (ih + ph − kh)/sh < oh ≤ (ih + ph)/sh.
  let th = ih + p[9];
  let tw = iw + p[10];
  let oh0 = select(0u, (th - p[5]) / p[7] + 1u, th >= p[5]);
  let ow0 = select(0u, (tw - p[6]) / p[8] + 1u, tw >= p[6]);
  let oh1 = min(th / p[7], Ho - 1u);
  let ow1 = min(tw / p[8], Wo - 1u);
  var acc = 0.0;`;

export function registerPoolKernels(gpu: WebGPUBackend): void {
  gpu.registerKernel<PoolAttrs>('maxPool2d', (ctx, [x], out, a) => {
    ctx.dispatch({
      key: 'maxPool2d',
      source: () =>
        linearKernel(
          bindings([
            ['out', 'f32', true],
            ['x', 'f32'],
          ]),
          `${POOLED}\n  out[i] = x[window_argmax(plane, win)];`,
          WINDOW + ARGMAX,
        ),
      params: poolParams(out.size, x!.shape, out.shape, a),
      buffers: [{ buffer: out.buffer, write: true }, { buffer: x!.buffer }],
      threads: out.size,
    });
  });

  gpu.registerKernel<PoolAttrs>('maxPool2dGather', (ctx, [x, g], out, a) => {
    ctx.dispatch({
      key: 'maxPool2dGather',
      source: () =>
        linearKernel(
          bindings([
            ['out', 'f32', true],
            ['x', 'f32'],
            ['g', 'f32'],
          ]),
          `${POOLED}\n  out[i] = g[window_argmax(plane, win)];`,
          WINDOW + ARGMAX,
        ),
      params: poolParams(out.size, x!.shape, out.shape, a),
      buffers: [{ buffer: out.buffer, write: true }, { buffer: x!.buffer }, { buffer: g!.buffer }],
      threads: out.size,
    });
  });

  gpu.registerKernel<PoolAttrs>('maxPool2dGrad', (ctx, [x, dy], out, a) => {
    ctx.dispatch({
      key: 'maxPool2dGrad',
      source: () =>
        linearKernel(
          bindings([
            ['out', 'f32', true],
            ['x', 'f32'],
            ['dy', 'f32'],
          ]),
          `${CONTAINING}
  let plane = q * H * W;
  for (var oh = oh0; oh <= oh1; oh = oh + 1u) {
    for (var ow = ow0; ow <= ow1; ow = ow + 1u) {
      if (window_argmax(plane, pool_window(oh, ow)) == i) { acc = acc + dy[(q * Ho + oh) * Wo + ow]; }
    }
  }
  out[i] = acc;`,
          WINDOW + ARGMAX,
        ),
      params: poolParams(out.size, x!.shape, dy!.shape, a),
      buffers: [{ buffer: out.buffer, write: true }, { buffer: x!.buffer }, { buffer: dy!.buffer }],
      threads: out.size,
    });
  });

  gpu.registerKernel<PoolAttrs>('avgPool2d', (ctx, [x], out, a) => {
    ctx.dispatch({
      key: 'avgPool2d',
      source: () =>
        linearKernel(
          bindings([
            ['out', 'f32', true],
            ['x', 'f32'],
          ]),
          `${POOLED}
  var s = 0.0;
  for (var ih = win.h0; ih < win.h1; ih = ih + 1u) {
    for (var iw = win.w0; iw < win.w1; iw = iw + 1u) { s = s + x[plane + ih * p[2] + iw]; }
  }
  out[i] = s / window_count(win);`,
          WINDOW,
        ),
      params: poolParams(out.size, x!.shape, out.shape, a),
      buffers: [{ buffer: out.buffer, write: true }, { buffer: x!.buffer }],
      threads: out.size,
    });
  });

  gpu.registerKernel<PoolAttrs>('avgPool2dGrad', (ctx, [dy], out, a) => {
    ctx.dispatch({
      key: 'avgPool2dGrad',
      source: () =>
        linearKernel(
          bindings([
            ['out', 'f32', true],
            ['dy', 'f32'],
          ]),
          `${CONTAINING}
  for (var oh = oh0; oh <= oh1; oh = oh + 1u) {
    for (var ow = ow0; ow <= ow1; ow = ow + 1u) {
      acc = acc + dy[(q * Ho + oh) * Wo + ow] / window_count(pool_window(oh, ow));
    }
  }
  out[i] = acc;`,
          WINDOW,
        ),
      params: poolParams(out.size, out.shape, dy!.shape, a),
      buffers: [{ buffer: out.buffer, write: true }, { buffer: dy!.buffer }],
      threads: out.size,
    });
  });
}

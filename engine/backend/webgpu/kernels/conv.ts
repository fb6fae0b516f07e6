/**
 * WebGPU kernels for conv2d and its two backward ops. Products of non-trivial size run as
 * implicit GEMM (kernels/conv-gemm.ts: shared-memory tiles, register blocking); small ones, and
 * every op when forced with `setConvPath('direct')`, as direct gathers (no atomics), so every
 * output element is written once by one owner:
 * - conv2d: one invocation per y element, summing x·w over its Cin/groups × kh × kw taps;
 * - conv2dBackpropInput: one invocation per dx element, visiting only the taps (ki, kj) whose
 *   output position (ih + pt − ki·dh)/sh is an integer inside the output, and summing dy·w over
 *   the group's output channels;
 * - conv2dBackpropFilter: one workgroup of 64 per dw element, its invocations striding over the
 *   N × Ho × Wo products and combining in a shared-memory tree (the reduction is long, and a
 *   filter has few elements, so one invocation each would leave the GPU idle).
 * All geometry (shapes, stride, padding [top, left, bottom, right], dilation, groups) travels as
 * parameter words, so one pipeline per op serves every configuration. f32 accumulation where
 * the CPU reference uses float64: results differ in the last bits.
 */

import type { Shape } from '../../../core/shape.js';
import type { WebGPUBackend } from '../webgpu-backend.js';
import { type KernelContext, WORKGROUP, bindings, linearKernel } from '../program.js';
import { wgslType } from '../wgsl.js';
import { type ConvGemmOp, convGeometry, dispatchConvGemm, gemmDims } from './conv-gemm.js';

/** Multiply-adds (M·N·K over all groups) from which a conv op runs as implicit GEMM. */
const MIN_GEMM_WORK = 1 << 18;

let forcedPath: 'gemm' | 'direct' | null = null;

/**
 * Forces the implicit-GEMM or the direct kernels for every later conv op, or restores the
 * choice by size with `null`. For benchmarks and tests.
 */
export function setConvPath(path: 'gemm' | 'direct' | null): void {
  forcedPath = path;
}

/**
 * Whether `op` on x, w, y of these shapes runs as implicit GEMM: when forced, else when its
 * product has at least MIN_GEMM_WORK multiply-adds.
 */
export function convUsesGemm(
  op: ConvGemmOp,
  shapes: { x: Shape; w: Shape; y: Shape },
  groups: number,
): boolean {
  if (forcedPath !== null) return forcedPath === 'gemm';
  const dims = gemmDims(op, shapes.x, shapes.w, shapes.y, groups);
  return dims.m * dims.n * dims.k * groups >= MIN_GEMM_WORK;
}

/** Records `op` as implicit GEMM when it is large enough (or forced); false otherwise. */
function tryGemm(
  gpu: WebGPUBackend,
  ctx: KernelContext,
  op: ConvGemmOp,
  shapes: { x: Shape; w: Shape; y: Shape },
  a: ConvAttrs,
  buffers: { out: GPUBuffer; outSize: number; a: GPUBuffer; b: GPUBuffer },
): boolean {
  if (!convUsesGemm(op, shapes, a.groups)) return false;
  const dims = gemmDims(op, shapes.x, shapes.w, shapes.y, a.groups);
  dispatchConvGemm(
    gpu,
    ctx,
    {
      op,
      geometry: convParams(buffers.outSize, shapes.x, shapes.w, shapes.y, a),
      ...buffers,
    },
    dims,
    a.groups,
  );
  return true;
}

interface ConvAttrs {
  readonly stride: readonly number[];
  /** [top, left, bottom, right]. */
  readonly padding: readonly number[];
  readonly dilation: readonly number[];
  readonly groups: number;
}

/**
 * Parameter words shared by the three kernels, from the shapes of x [N, C, H, W], w [Cout,
 * Cin/groups, kh, kw] and y [N, Cout, Ho, Wo]: p[0] is the count of elements (or workgroups)
 * the kernel owns, then the geometry named by GEOMETRY below.
 */
function convParams(count: number, x: Shape, w: Shape, y: Shape, a: ConvAttrs): number[] {
  return [
    count,
    x[0]!,
    x[1]!,
    x[2]!,
    x[3]!,
    w[0]!,
    w[1]!,
    w[0]! / a.groups,
    w[2]!,
    w[3]!,
    y[2]!,
    y[3]!,
    a.stride[0]!,
    a.stride[1]!,
    a.padding[0]!,
    a.padding[1]!,
    a.dilation[0]!,
    a.dilation[1]!,
  ];
}

/** WGSL names for convParams' words 1…17. */
const GEOMETRY = convGeometry('N');

const FORWARD = `${GEOMETRY}
  let ow = i % Wo;
  var r = i / Wo;
  let oh = r % Ho;
  r = r / Ho;
  let co = r % Cout;
  let b = r / Cout;
  let g = co / coutG;
  var acc = 0.0;
  for (var ci = 0u; ci < cinG; ci = ci + 1u) {
    let xPlane = (b * C + g * cinG + ci) * H;
    let wPlane = (co * cinG + ci) * KH;
    for (var ki = 0u; ki < KH; ki = ki + 1u) {
      let ih = i32(oh * SH + ki * DH) - i32(PT);
      if (ih < 0 || ih >= i32(H)) { continue; }
      let xRow = (xPlane + u32(ih)) * W;
      let wRow = (wPlane + ki) * KW;
      for (var kj = 0u; kj < KW; kj = kj + 1u) {
        let iw = i32(ow * SW + kj * DW) - i32(PL);
        if (iw >= 0 && iw < i32(W)) { acc = acc + x[xRow + u32(iw)] * w[wRow + kj]; }
      }
    }
  }
  out[i] = acc;`;

const BACKPROP_INPUT = `${GEOMETRY}
  let iw = i % W;
  var r = i / W;
  let ih = r % H;
  r = r / H;
  let c = r % C;
  let b = r / C;
  let g = c / cinG;
  let ci = c % cinG;
  var acc = 0.0;
  for (var ki = 0u; ki < KH; ki = ki + 1u) {
    // y row oh meets x row ih through tap ki when oh·SH = ih + PT − ki·DH.
    let th = i32(ih + PT) - i32(ki * DH);
    if (th < 0 || u32(th) % SH != 0u) { continue; }
    let oh = u32(th) / SH;
    if (oh >= Ho) { continue; }
    for (var kj = 0u; kj < KW; kj = kj + 1u) {
      let tw = i32(iw + PL) - i32(kj * DW);
      if (tw < 0 || u32(tw) % SW != 0u) { continue; }
      let ow = u32(tw) / SW;
      if (ow >= Wo) { continue; }
      for (var k = 0u; k < coutG; k = k + 1u) {
        let co = g * coutG + k;
        acc = acc + dy[((b * Cout + co) * Ho + oh) * Wo + ow] * w[((co * cinG + ci) * KH + ki) * KW + kj];
      }
    }
  }
  out[i] = acc;`;

function backpropFilterSource(type: string): string {
  return `@group(0) @binding(0) var<storage, read> p: array<u32>;
${bindings([
  ['out', type, true],
  ['x', type],
  ['dy', type],
])}
var<workgroup> part: array<${type}, ${WORKGROUP}>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let e = wid.x + wid.y * nwg.x;
  if (e >= p[0]) { return; }
${GEOMETRY}
  // This workgroup's filter element w[co, ci, ki, kj].
  let kj = e % KW;
  var q = e / KW;
  let ki = q % KH;
  q = q / KH;
  let ci = q % cinG;
  let co = q / cinG;
  let c = (co / coutG) * cinG + ci;
  var acc = 0.0;
  let total = N * Ho * Wo;
  for (var t = lid.x; t < total; t = t + ${WORKGROUP}u) {
    let ow = t % Wo;
    let oh = (t / Wo) % Ho;
    let b = t / (Wo * Ho);
    let ih = i32(oh * SH + ki * DH) - i32(PT);
    let iw = i32(ow * SW + kj * DW) - i32(PL);
    if (ih >= 0 && ih < i32(H) && iw >= 0 && iw < i32(W)) {
      acc = acc + x[((b * C + c) * H + u32(ih)) * W + u32(iw)] * dy[((b * Cout + co) * Ho + oh) * Wo + ow];
    }
  }
  part[lid.x] = acc;
  workgroupBarrier();
  for (var s = ${WORKGROUP / 2}u; s > 0u; s = s >> 1u) {
    if (lid.x < s) { part[lid.x] = part[lid.x] + part[lid.x + s]; }
    workgroupBarrier();
  }
  if (lid.x == 0u) { out[e] = part[0]; }
}`;
}

export function registerConvKernels(gpu: WebGPUBackend): void {
  gpu.registerKernel<ConvAttrs>('conv2d', (ctx, [x, w], out, a) => {
    const type = wgslType(out.dtype, 'conv2d');
    const shapes = { x: x!.shape, w: w!.shape, y: out.shape };
    const bufs = { out: out.buffer, outSize: out.size, a: w!.buffer, b: x!.buffer };
    if (type === 'f32' && tryGemm(gpu, ctx, 'forward', shapes, a, bufs)) return;
    ctx.dispatch({
      key: `conv2d:${out.dtype}`,
      source: () =>
        linearKernel(
          bindings([
            ['out', type, true],
            ['x', type],
            ['w', type],
          ]),
          FORWARD,
        ),
      params: convParams(out.size, x!.shape, w!.shape, out.shape, a),
      buffers: [{ buffer: out.buffer, write: true }, { buffer: x!.buffer }, { buffer: w!.buffer }],
      threads: out.size,
    });
  });

  gpu.registerKernel<ConvAttrs>('conv2dBackpropInput', (ctx, [dy, w], out, a) => {
    const type = wgslType(out.dtype, 'conv2dBackpropInput');
    const shapes = { x: out.shape, w: w!.shape, y: dy!.shape };
    const bufs = { out: out.buffer, outSize: out.size, a: w!.buffer, b: dy!.buffer };
    if (type === 'f32' && tryGemm(gpu, ctx, 'input', shapes, a, bufs)) return;
    ctx.dispatch({
      key: `conv2dBackpropInput:${out.dtype}`,
      source: () =>
        linearKernel(
          bindings([
            ['out', type, true],
            ['dy', type],
            ['w', type],
          ]),
          BACKPROP_INPUT,
        ),
      params: convParams(out.size, out.shape, w!.shape, dy!.shape, a),
      buffers: [{ buffer: out.buffer, write: true }, { buffer: dy!.buffer }, { buffer: w!.buffer }],
      threads: out.size,
    });
  });

  gpu.registerKernel<ConvAttrs>('conv2dBackpropFilter', (ctx, [x, dy], out, a) => {
    const type = wgslType(out.dtype, 'conv2dBackpropFilter');
    const shapes = { x: x!.shape, w: out.shape, y: dy!.shape };
    const bufs = { out: out.buffer, outSize: out.size, a: dy!.buffer, b: x!.buffer };
    if (type === 'f32' && tryGemm(gpu, ctx, 'filter', shapes, a, bufs)) return;
    ctx.dispatch({
      key: `conv2dBackpropFilter:${out.dtype}`,
      source: () => backpropFilterSource(type),
      params: convParams(out.size, x!.shape, out.shape, dy!.shape, a),
      buffers: [{ buffer: out.buffer, write: true }, { buffer: x!.buffer }, { buffer: dy!.buffer }],
      workgroups: gpu.grid(out.size),
    });
  });
}

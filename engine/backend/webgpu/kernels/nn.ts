/**
 * WebGPU kernels for the neural-network ops done so far: matmul (batched, broadcast batch axes,
 * transpose flags folded into strides) as a 16×16 shared-memory tiled kernel, and softmax /
 * logSoftmax. Correctness first: one output element per invocation, f32 accumulation.
 * Convolution and pooling are in conv.ts and pool.ts.
 */

import { broadcastStrides, sizeOf, stridesOf } from '../../../core/shape.js';
import type { WebGPUBackend } from '../webgpu-backend.js';
import { bindings, collapseDims, linearKernel, stridedOffsets } from '../program.js';
import { NUMERICS, wgslType } from '../wgsl.js';

const TILE = 16;

interface MatmulAttrs {
  readonly transposeA: boolean;
  readonly transposeB: boolean;
}

/** Batch z-slices per dispatch (the grid's z limit); larger batches take several dispatches. */
const MAX_Z = 65535;

export function registerNnKernels(gpu: WebGPUBackend): void {
  gpu.registerKernel<MatmulAttrs>('matmul', (ctx, [a, b], out, attrs) => {
    // 1-D operands are promoted as in the op definition: a [k] → [1, k], b [k] → [k, 1].
    const aShape = a!.shape.length === 1 ? [1, a!.shape[0]!] : a!.shape;
    const bShape = b!.shape.length === 1 ? [b!.shape[0]!, 1] : b!.shape;
    const tA = attrs.transposeA && a!.shape.length > 1;
    const tB = attrs.transposeB && b!.shape.length > 1;
    const [aRows, aCols] = aShape.slice(-2) as [number, number];
    const [bRows, bCols] = bShape.slice(-2) as [number, number];
    const [m, k] = tA ? [aCols, aRows] : [aRows, aCols];
    const n = tB ? bRows : bCols;
    // Element strides of op(A) (m×k) and op(B) (k×n) within one stored matrix.
    const [aRow, aCol] = tA ? [1, aCols] : [aCols, 1];
    const [bRow, bCol] = tB ? [1, bCols] : [bCols, 1];
    const aBatch = aShape.slice(0, -2);
    const bBatch = bShape.slice(0, -2);
    const batchRank = Math.max(aBatch.length, bBatch.length);
    const batch = Array.from({ length: batchRank }, (_, i) => {
      const da = aBatch[aBatch.length - batchRank + i] ?? 1;
      return da === 1 ? (bBatch[bBatch.length - batchRank + i] ?? 1) : da;
    });
    const collapsed = collapseDims(batch, [
      broadcastStrides(aBatch, batch).map((s) => s * aRows * aCols),
      broadcastStrides(bBatch, batch).map((s) => s * bRows * bCols),
    ]);
    const br = collapsed.shape.length;
    const type = wgslType(out.dtype, 'matmul');
    const count = sizeOf(batch);
    for (let z0 = 0; z0 < count; z0 += MAX_Z)
      ctx.dispatch({
        key: `matmul:${out.dtype}:${br}`,
        // p: [m, n, k, aRow, aCol, bRow, bCol, first batch, batch shape, a/b batch strides]
        source: () => `@group(0) @binding(0) var<storage, read> p: array<u32>;
${bindings([
  ['out', type, true],
  ['A', type],
  ['B', type],
])}
var<workgroup> As: array<array<${type}, ${TILE}>, ${TILE}>;
var<workgroup> Bs: array<array<${type}, ${TILE}>, ${TILE}>;
@compute @workgroup_size(${TILE}, ${TILE})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
  let M = p[0];
  let N = p[1];
  let K = p[2];
  let z = wid.z + p[7];
${stridedOffsets('z', br, 8, ['aOff', 'bOff'], [8 + br, 8 + 2 * br])}
  let row = wid.y * ${TILE}u + lid.y;
  let col = wid.x * ${TILE}u + lid.x;
  var acc = ${type}(0);
  let tiles = (K + ${TILE - 1}u) / ${TILE}u;
  for (var t = 0u; t < tiles; t = t + 1u) {
    let ka = t * ${TILE}u + lid.x;
    var av = ${type}(0);
    if (row < M && ka < K) { av = A[aOff + row * p[3] + ka * p[4]]; }
    As[lid.y][lid.x] = av;
    let kb = t * ${TILE}u + lid.y;
    var bv = ${type}(0);
    if (kb < K && col < N) { bv = B[bOff + kb * p[5] + col * p[6]]; }
    Bs[lid.y][lid.x] = bv;
    workgroupBarrier();
    for (var q = 0u; q < ${TILE}u; q = q + 1u) { acc = acc + As[lid.y][q] * Bs[q][lid.x]; }
    workgroupBarrier();
  }
  if (row < M && col < N) { out[(z * M + row) * N + col] = acc; }
}`,
        params: [
          m,
          n,
          k,
          aRow,
          aCol,
          bRow,
          bCol,
          z0,
          ...collapsed.shape,
          ...collapsed.strides[0]!,
          ...collapsed.strides[1]!,
        ],
        buffers: [
          { buffer: out.buffer, write: true },
          { buffer: a!.buffer },
          { buffer: b!.buffer },
        ],
        workgroups: [Math.ceil(n / TILE), Math.ceil(m / TILE), Math.min(MAX_Z, count - z0)],
      });
  });

  for (const log of [false, true])
    gpu.registerKernel<{ axis: number }>(log ? 'logSoftmax' : 'softmax', (ctx, [x], out, a) => {
      const axis = a.axis < 0 ? a.axis + x!.shape.length : a.axis;
      const n = x!.shape[axis]!;
      const inner = stridesOf(x!.shape)[axis]!;
      // The row's first maximum contributes exp(0) = 1 exactly; the rest is summed apart, so
      // log-sum-exp is log1p(rest), accurate when one logit dominates. A row whose maximum
      // is not finite (NaN, +Inf, or all -Inf) is all NaN, as on the CPU.
      const write = log ? '(v - mx) - lse' : 'exp_(v - mx) / total';
      ctx.dispatch({
        key: log ? 'logSoftmax' : 'softmax',
        source: () =>
          linearKernel(
            bindings([
              ['out', 'f32', true],
              ['x', 'f32'],
            ]),
            `  let n = p[1];
  let inner = p[2];
  let start = (i / inner) * n * inner + i % inner;
  var mx = -inf_f32();
  var at = 0u;
  for (var r = 0u; r < n; r = r + 1u) {
    let v = x[start + r * inner];
    if (is_nan(v)) { mx = v; break; }
    if (v > mx) { mx = v; at = r; }
  }
  if (is_nan(mx) || is_inf(mx)) {
    for (var r = 0u; r < n; r = r + 1u) { out[start + r * inner] = nan_f32(); }
    return;
  }
  var rest = 0.0;
  for (var r = 0u; r < n; r = r + 1u) {
    if (r != at) { rest = rest + exp_(x[start + r * inner] - mx); }
  }
  let total = 1.0 + rest;
  let lse = log1p_(rest);
  for (var r = 0u; r < n; r = r + 1u) {
    let v = x[start + r * inner];
    out[start + r * inner] = ${write};
  }`,
            NUMERICS,
          ),
        params: [out.size / n, n, inner],
        buffers: [{ buffer: out.buffer, write: true }, { buffer: x!.buffer }],
        threads: out.size / n,
      });
    });
}

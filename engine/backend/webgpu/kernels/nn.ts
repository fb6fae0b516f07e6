/**
 * WebGPU kernels for softmax and logSoftmax, one invocation per row. Matmul is in matmul.ts,
 * convolution and pooling in conv.ts and pool.ts.
 */

import { stridesOf } from '../../../core/shape.js';
import type { WebGPUBackend } from '../webgpu-backend.js';
import { bindings, linearKernel } from '../program.js';
import { NUMERICS } from '../wgsl.js';

export function registerNnKernels(gpu: WebGPUBackend): void {
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

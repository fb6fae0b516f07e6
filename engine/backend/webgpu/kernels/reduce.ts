/**
 * WebGPU kernels for the reductions sum, max, min (over any set of axes) and argmax (over one).
 * The input's kept and reduced axes are each collapsed (collapseDims), so reducing trailing,
 * leading or scattered axes all become a short odometer over parameter words. Short reductions
 * run one invocation per output element; long ones (≥ REDUCE_WIDE elements) one workgroup of 64
 * per output element, striding over the reduced elements and combining in a shared-memory tree,
 * so a full sum (the loss) is not one thread's serial loop. Sums accumulate in the dtype (f32
 * or wrapping i32), where the CPU uses float64: sums differ in the last bits.
 * max/min propagate NaN and argmax counts NaN as the maximum (its first occurrence), as the CPU.
 */

import { sizeOf, stridesOf } from '../../../core/shape.js';
import type { WebGPUBackend } from '../webgpu-backend.js';
import { WORKGROUP, bindings, collapseDims, linearKernel, stridedOffsets } from '../program.js';
import { NUMERICS, wgslType } from '../wgsl.js';

/** Reductions at least this long get a workgroup per output element. */
const REDUCE_WIDE = 256;

type Kind = 'sum' | 'max' | 'min';

/** WGSL: the identity and the combining step of a reduction over values of `type`. */
function combiner(kind: Kind, type: 'f32' | 'i32' | 'u32'): { init: string; combine: string } {
  if (kind === 'sum') return { init: `${type}(0)`, combine: 'return acc + v;' };
  const cmp = kind === 'max' ? '>' : '<';
  const init =
    type === 'f32'
      ? `${kind === 'max' ? '-' : ''}inf_f32()`
      : kind === 'max'
        ? 'i32(-2147483647) - 1'
        : 'i32(2147483647)';
  const nan =
    type === 'f32' ? 'if (is_nan(acc)) { return acc; }\n  if (is_nan(v)) { return v; }\n  ' : '';
  return { init, combine: `${nan}return select(acc, v, v ${cmp} acc);` };
}

export function registerReduceKernels(gpu: WebGPUBackend): void {
  for (const kind of ['sum', 'max', 'min'] as const)
    gpu.registerKernel<{ axes: readonly number[] }>(kind, (ctx, [x], out, { axes }) => {
      const shape = x!.shape;
      const strides = stridesOf(shape);
      const rank = shape.length;
      const axesSet = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
      const pick = (reduced: boolean) => {
        const dims = shape.map((_, d) => d).filter((d) => axesSet.has(d) === reduced);
        return collapseDims(
          dims.map((d) => shape[d]!),
          [dims.map((d) => strides[d]!)],
        );
      };
      const kept = pick(false);
      const red = pick(true);
      const kr = kept.shape.length;
      const rr = red.shape.length;
      const count = sizeOf(red.shape);
      const wide = count >= REDUCE_WIDE;
      const type = wgslType(x!.dtype, kind);
      const { init, combine } = combiner(kind, type);
      // p: [outputs, reduced count, kept shape, kept strides, reduced shape, reduced strides]
      const keptAt = 2;
      const redAt = 2 + 2 * kr;
      const base = stridedOffsets('o', kr, keptAt, ['base'], [keptAt + kr]);
      const loop = (start: string, step: string) => `  var acc = ${init};
  for (var r = ${start}; r < p[1]; r = r + ${step}) {
${stridedOffsets('r', rr, redAt, ['off'], [redAt + rr], 'r')}
    acc = combine(acc, x[base + off]);
  }`;
      const helpers = `${NUMERICS}\nfn combine(acc: ${type}, v: ${type}) -> ${type} {\n  ${combine}\n}`;
      const decls = bindings([
        ['out', type, true],
        ['x', type],
      ]);
      const source = wide
        ? () => `@group(0) @binding(0) var<storage, read> p: array<u32>;
${decls}
${helpers}
var<workgroup> part: array<${type}, ${WORKGROUP}>;
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>) {
  let o = wid.x + wid.y * nwg.x;
  if (o >= p[0]) { return; }
${base}
${loop('lid.x', `${WORKGROUP}u`)}
  part[lid.x] = acc;
  workgroupBarrier();
  for (var s = ${WORKGROUP / 2}u; s > 0u; s = s >> 1u) {
    if (lid.x < s) { part[lid.x] = combine(part[lid.x], part[lid.x + s]); }
    workgroupBarrier();
  }
  if (lid.x == 0u) { out[o] = part[0]; }
}`
        : () =>
            linearKernel(
              decls,
              `  let o = i;\n${base}\n${loop('0u', '1u')}\n  out[i] = acc;`,
              helpers,
            );
      ctx.dispatch({
        key: `${kind}:${x!.dtype}:${kr},${rr}:${wide ? 'wide' : 'thread'}`,
        source,
        params: [
          out.size,
          count,
          ...kept.shape,
          ...kept.strides[0]!,
          ...red.shape,
          ...red.strides[0]!,
        ],
        buffers: [{ buffer: out.buffer, write: true }, { buffer: x!.buffer }],
        ...(wide ? { workgroups: gpu.grid(out.size) } : { threads: out.size }),
      });
    });

  gpu.registerKernel<{ axis: number }>('argmax', (ctx, [x], out, { axis }) => {
    const ax = axis < 0 ? axis + x!.shape.length : axis;
    const n = x!.shape[ax]!;
    const inner = stridesOf(x!.shape)[ax]!;
    const type = wgslType(x!.dtype, 'argmax');
    const nanFirst = type === 'f32' ? ' || (is_nan(v) && !is_nan(best))' : '';
    ctx.dispatch({
      key: `argmax:${x!.dtype}`,
      source: () =>
        linearKernel(
          bindings([
            ['out', 'i32', true],
            ['x', type],
          ]),
          `  let n = p[1];
  let inner = p[2];
  let start = (i / inner) * n * inner + i % inner;
  var at = 0u;
  var best = x[start];
  for (var k = 1u; k < n; k = k + 1u) {
    let v = x[start + k * inner];
    if (v > best${nanFirst}) { best = v; at = k; }
  }
  out[i] = i32(at);`,
          NUMERICS,
        ),
      params: [out.size, n, inner],
      buffers: [{ buffer: out.buffer, write: true }, { buffer: x!.buffer }],
      threads: out.size,
    });
  });
}

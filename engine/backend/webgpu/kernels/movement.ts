/**
 * WebGPU kernels for the movement ops. Every dtype is 4 bytes on the GPU, so elements are moved
 * as raw u32 bits and one pipeline serves all dtypes. expand, transpose and slice are one
 * strided copy (out[i] = x[base + Σ coordinate·stride], with stride 0 along expanded axes,
 * permuted strides for transpose, and the window's start as base); pad reads through the same
 * odometer; concat copies each input into its stretch of the output (one dispatch per input,
 * so the number of inputs is not limited by the binding count).
 *
 * gather, scatterAdd and oneHot read indices on the GPU, which cannot throw: an index out of
 * range is recorded in the backend's index-check words (the first one wins) and thrown by the
 * next read, naming the op. scatterAdd copies x and then adds the updates with atomics: a
 * compare-and-swap loop on the f32 bits (WGSL has no float atomics) or atomicAdd for i32, so
 * repeated indices accumulate in an unspecified order (f32 sums may differ in the last bits
 * from run to run and from the CPU, which adds in index order).
 */

import { WiregradError } from '../../../core/errors.js';
import { broadcastStrides, sizeOf, stridesOf } from '../../../core/shape.js';
import type { WebGPUBackend } from '../webgpu-backend.js';
import {
  type GpuTensor,
  IndexCheck,
  type KernelContext,
  bindings,
  collapseDims,
  linearKernel,
  stridedOffsets,
} from '../program.js';
import { scalarBits } from '../wgsl.js';

/** out[i] = x[base + Σ coordinate(i)·strides]: the strided view of x that out's shape walks. */
function stridedCopy(
  ctx: KernelContext,
  x: GpuTensor,
  out: GpuTensor,
  base: number,
  strides: readonly number[],
): void {
  const c = collapseDims(out.shape, [strides]);
  const rank = c.shape.length;
  ctx.dispatch({
    key: `copy:${rank}`,
    source: () =>
      linearKernel(
        bindings([
          ['out', 'u32', true],
          ['x', 'u32'],
        ]),
        `${stridedOffsets('i', rank, 2, ['o'], [2 + rank])}\n  out[i] = x[p[1] + o];`,
      ),
    params: [out.size, base, ...c.shape, ...c.strides[0]!],
    buffers: [{ buffer: out.buffer, write: true }, { buffer: x.buffer }],
    threads: out.size,
  });
}

/** The index-check binding and the WGSL that records the first bad index. */
const REPORT = /* wgsl */ `
fn report(code: u32, index: i32, position: u32, bound: u32) {
  loop {
    let r = atomicCompareExchangeWeak(&err[0], 0u, code);
    if (r.exchanged) {
      atomicStore(&err[1], bitcast<u32>(index));
      atomicStore(&err[2], position);
      atomicStore(&err[3], bound);
      break;
    }
    if (r.old_value != 0u) { break; }
  }
}`;

/** Declares `err` at binding `k` (after the kernel's other bindings). */
const errBinding = (k: number) =>
  `@group(0) @binding(${k}) var<storage, read_write> err: array<atomic<u32>, 4>;`;

/** [outer, n, inner]: x viewed as blocks around `axis`. */
function splitAt(shape: readonly number[], axis: number): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), shape[axis]!, sizeOf(shape.slice(axis + 1))];
}

const axisOf = (axis: number, rank: number): number => (axis < 0 ? axis + rank : axis);

/**
 * The shared prologue of gather and scatterAdd (each other's adjoints): thread i handles the
 * element at index j = (i / inner) % m of `indices`; an index outside [0, n) is reported (and
 * `onBad` runs) before returning; else `at` is the flat position along the indexed axis of the
 * [outer, n, inner] view. Params: p[1] = m, p[2] = n, p[3] = inner.
 */
function indexedElement(check: number, onBad: string): string {
  return `  let m = p[1];
  let n = p[2];
  let inner = p[3];
  let j = (i / inner) % m;
  let k = indices[j];
  if (k < 0 || u32(k) >= n) {
    report(${check}u, k, j, n);
${onBad}    return;
  }
  let at = ((i / (inner * m)) * n + u32(k)) * inner + i % inner;`;
}

export function registerMovementKernels(gpu: WebGPUBackend): void {
  gpu.registerKernel('expand', (ctx, [x], out) =>
    stridedCopy(ctx, x!, out, 0, broadcastStrides(x!.shape, out.shape)),
  );

  gpu.registerKernel<{ perm: readonly number[] }>('transpose', (ctx, [x], out, { perm }) => {
    const strides = stridesOf(x!.shape);
    stridedCopy(
      ctx,
      x!,
      out,
      0,
      perm.map((p) => strides[p]!),
    );
  });

  gpu.registerKernel<{ begin: readonly number[] }>('slice', (ctx, [x], out, { begin }) => {
    const strides = stridesOf(x!.shape);
    stridedCopy(
      ctx,
      x!,
      out,
      begin.reduce((o, b, d) => o + b * strides[d]!, 0),
      strides,
    );
  });

  gpu.registerKernel<{ pads: readonly number[]; value: number }>(
    'pad',
    (ctx, [x], out, { pads, value }) => {
      const rank = out.shape.length;
      // p: [count, value, out shape, pads before, x shape, x strides]
      ctx.dispatch({
        key: `pad:${rank}`,
        source: () =>
          linearKernel(
            bindings([
              ['out', 'u32', true],
              ['x', 'u32'],
            ]),
            `  var rem = i;
  var off = 0u;
  var inside = true;
  for (var dd = ${rank - 1}; dd >= 0; dd = dd - 1) {
    let d = u32(dd);
    let c = i32(rem % p[2u + d]) - i32(p[${2 + rank}u + d]);
    rem = rem / p[2u + d];
    if (c < 0 || c >= i32(p[${2 + 2 * rank}u + d])) { inside = false; }
    else { off = off + u32(c) * p[${2 + 3 * rank}u + d]; }
  }
  if (inside) { out[i] = x[off]; } else { out[i] = p[1]; }`,
          ),
        params: [
          out.size,
          scalarBits(value, out.dtype),
          ...out.shape,
          ...x!.shape.map((_, d) => pads[2 * d]!),
          ...x!.shape,
          ...stridesOf(x!.shape),
        ],
        buffers: [{ buffer: out.buffer, write: true }, { buffer: x!.buffer }],
        threads: out.size,
      });
    },
  );

  gpu.registerKernel<{ axis: number }>('concat', (ctx, inputs, out, attrs) => {
    const axis = axisOf(attrs.axis, out.shape.length);
    const [, total, inner] = splitAt(out.shape, axis);
    let offset = 0;
    for (const t of inputs) {
      // Input rows of `block` elements land `offset` into each output row of total·inner.
      const block = t.shape[axis]! * inner;
      if (t.size > 0)
        ctx.dispatch({
          key: 'concat',
          source: () =>
            linearKernel(
              bindings([
                ['out', 'u32', true],
                ['x', 'u32'],
              ]),
              '  out[(i / p[1]) * p[2] + p[3] + i % p[1]] = x[i];',
            ),
          params: [t.size, block, total * inner, offset],
          buffers: [{ buffer: out.buffer, write: true }, { buffer: t.buffer }],
          threads: t.size,
        });
      offset += block;
    }
  });

  gpu.registerKernel<{ axis: number }>('gather', (ctx, [x, indices], out, attrs) => {
    const axis = axisOf(attrs.axis, x!.shape.length);
    const [, n, inner] = splitAt(x!.shape, axis);
    const m = indices!.size;
    ctx.dispatch({
      key: 'gather',
      source: () =>
        linearKernel(
          `${bindings([
            ['out', 'u32', true],
            ['x', 'u32'],
            ['indices', 'i32'],
          ])}\n${errBinding(4)}`,
          `${indexedElement(IndexCheck.gather, '    out[i] = 0u;\n')}
  out[i] = x[at];`,
          REPORT,
        ),
      params: [out.size, m, n, inner],
      buffers: [
        { buffer: out.buffer, write: true },
        { buffer: x!.buffer },
        { buffer: indices!.buffer },
        { buffer: ctx.indexErrors, write: true },
      ],
      threads: out.size,
    });
  });

  gpu.registerKernel<{ axis: number }>('scatterAdd', (ctx, [x, indices, updates], out, attrs) => {
    const axis = axisOf(attrs.axis, x!.shape.length);
    const [, n, inner] = splitAt(x!.shape, axis);
    const m = indices!.size;
    if (x!.dtype !== 'f32' && x!.dtype !== 'i32')
      throw new WiregradError(`does not take ${x!.dtype} tensors on webgpu`, { op: 'scatterAdd' });
    ctx.copy(x!.buffer, out.buffer, x!.size * 4);
    if (updates!.size === 0) return;
    const add =
      x!.dtype === 'i32'
        ? '  atomicAdd(&out[dst], u[i]);' // two's complement: the same bits as an i32 add
        : `  var old = atomicLoad(&out[dst]);
  loop {
    let sum = bitcast<u32>(bitcast<f32>(old) + bitcast<f32>(u[i]));
    let r = atomicCompareExchangeWeak(&out[dst], old, sum);
    if (r.exchanged) { break; }
    old = r.old_value;
  }`;
    ctx.dispatch({
      key: `scatterAdd:${x!.dtype}`,
      source: () =>
        linearKernel(
          `${bindings([
            ['out', 'atomic<u32>', true],
            ['u', 'u32'],
            ['indices', 'i32'],
          ])}\n${errBinding(4)}`,
          `${indexedElement(IndexCheck.scatterAdd, '')}
  let dst = at;
${add}`,
          REPORT,
        ),
      params: [updates!.size, m, n, inner],
      buffers: [
        { buffer: out.buffer, write: true },
        { buffer: updates!.buffer },
        { buffer: indices!.buffer },
        { buffer: ctx.indexErrors, write: true },
      ],
      threads: updates!.size,
    });
  });

  gpu.registerKernel<{ depth: number; onValue: number; offValue: number }>(
    'oneHot',
    (ctx, [indices], out, { depth, onValue, offValue }) => {
      ctx.dispatch({
        key: 'oneHot',
        source: () =>
          linearKernel(
            `${bindings([
              ['out', 'u32', true],
              ['indices', 'i32'],
            ])}\n${errBinding(3)}`,
            `  let depth = p[1];
  let j = i / depth;
  let k = indices[j];
  if (k < 0 || u32(k) >= depth) {
    if (i % depth == 0u) { report(${IndexCheck.oneHot}u, k, j, depth); }
    out[i] = p[3];
    return;
  }
  out[i] = select(p[3], p[2], u32(k) == i % depth);`,
            REPORT,
          ),
        params: [out.size, depth, scalarBits(onValue, out.dtype), scalarBits(offValue, out.dtype)],
        buffers: [
          { buffer: out.buffer, write: true },
          { buffer: indices!.buffer },
          { buffer: ctx.indexErrors, write: true },
        ],
        threads: out.size,
      });
    },
  );
}

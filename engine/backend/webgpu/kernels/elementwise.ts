/**
 * WebGPU kernels for the elementwise ops: unary maps, binary arithmetic and comparisons with
 * NumPy broadcasting, where and cast. Each operand is read one of three ways, which is part of
 * the pipeline key: `f` (same size as the output: index i), `s` (one element: index 0) or `b`
 * (broadcast: an offset from the output coordinates and the operand's strides, 0 along
 * broadcast axes, after collapseDims). Arithmetic runs in the output dtype (comparisons in the
 * promoted operand dtype), with the CPU's NaN/Inf semantics from wgsl.ts.
 */

import { type DType, promoteTypes } from '../../../core/dtype.js';
import { broadcastStrides } from '../../../core/shape.js';
import type { WebGPUBackend } from '../webgpu-backend.js';
import {
  type GpuTensor,
  bindings,
  collapseDims,
  linearKernel,
  stridedOffsets,
} from '../program.js';
import { NUMERICS, convertExpr, f32Bits, wgslType } from '../wgsl.js';

type Pattern = 'f' | 's' | 'b';

interface BroadcastPlan {
  /** One letter per operand, then the collapsed rank when some operand broadcasts. */
  readonly key: string;
  /** Parameter words after the count: the collapsed shape, then strides per `b` operand. */
  readonly params: number[];
  /** WGSL computing the offsets `o0`, `o1`, … of the `b` operands. */
  readonly prelude: string;
  /** The WGSL index expression for each operand. */
  readonly index: string[];
}

/**
 * How each operand is read for an output of `outShape`; parameter words start at p[first].
 */
export function broadcastPlan(
  outShape: readonly number[],
  operands: readonly GpuTensor[],
  outSize: number,
  first = 1,
): BroadcastPlan {
  const patterns: Pattern[] = operands.map((t) =>
    t.size === outSize ? 'f' : t.size === 1 ? 's' : 'b',
  );
  const broadcast = operands.flatMap((t, k) => (patterns[k] === 'b' ? [k] : []));
  if (broadcast.length === 0)
    return {
      key: patterns.join(''),
      params: [],
      prelude: '',
      index: patterns.map((p) => (p === 'f' ? 'i' : '0u')),
    };
  const collapsed = collapseDims(
    outShape,
    broadcast.map((k) => broadcastStrides(operands[k]!.shape, outShape)),
  );
  const rank = collapsed.shape.length;
  const names = broadcast.map((k) => `o${k}`);
  const strideAt = broadcast.map((_, j) => first + rank * (j + 1));
  return {
    key: `${patterns.join('')}${rank}`,
    params: [...collapsed.shape, ...collapsed.strides.flat()],
    prelude: stridedOffsets('i', rank, first, names, strideAt),
    index: patterns.map((p, k) => (p === 'f' ? 'i' : p === 's' ? '0u' : `o${k}`)),
  };
}

// ---- unary --------------------------------------------------------------------------------

/** WGSL for each unary op of `v` (an f32 that is not NaN: NaN is passed through first). */
export const UNARY: Record<string, (v: string) => string> = {
  neg: (v) => `-${v}`,
  exp: (v) => `exp_(${v})`,
  log: (v) => `log_(${v})`,
  sqrt: (v) => `sqrt(${v})`,
  abs: (v) => `abs(${v})`,
  sign: (v) => `select(select(${v}, -1.0, ${v} < 0.0), 1.0, ${v} > 0.0)`, // keeps ±0
  tanh: (v) => `tanh_(${v})`,
  sigmoid: (v) => `sigmoid_(${v})`,
  relu: (v) => `select(0.0, ${v}, ${v} > 0.0)`,
  erf: (v) => `erf_(${v})`,
  gelu: (v) => `gelu_(${v})`,
  leakyRelu: (v) => `select(${v} * bitcast<f32>(p[1]), ${v}, ${v} > 0.0)`,
};

function registerUnary(gpu: WebGPUBackend, op: string, expr: (v: string) => string): void {
  gpu.registerKernel<{ alpha?: number }>(op, (ctx, [x], out, attrs) => {
    ctx.dispatch({
      key: `unary:${op}`,
      source: () =>
        linearKernel(
          bindings([
            ['out', 'f32', true],
            ['x', 'f32'],
          ]),
          `  let v = x[i];\n  if (is_nan(v)) { out[i] = v; return; }\n  out[i] = ${expr('v')};`,
          NUMERICS,
        ),
      params: [out.size, f32Bits(attrs.alpha ?? 0.01)],
      buffers: [{ buffer: out.buffer, write: true }, { buffer: x!.buffer }],
      threads: out.size,
    });
  });
}

// ---- binary -------------------------------------------------------------------------------

export type BinaryExpr = (a: string, b: string, type: 'f32' | 'i32' | 'u32') => string;

const notNan = (a: string, b: string) => `!is_nan(${a}) && !is_nan(${b})`;
const compare =
  (cmp: string): BinaryExpr =>
  (a, b, type) =>
    `select(0u, 1u, ${type === 'f32' ? `${notNan(a, b)} && ` : ''}${a} ${cmp} ${b})`;
const extremum =
  (cmp: string): BinaryExpr =>
  (a, b, type) =>
    type === 'f32'
      ? `select(select(${b}, ${a}, ${a} ${cmp} ${b}), nan_f32(), is_nan(${a}) || is_nan(${b}))`
      : `select(${b}, ${a}, ${a} ${cmp} ${b})`;

export const BINARY: Record<string, BinaryExpr> = {
  add: (a, b) => `${a} + ${b}`,
  sub: (a, b) => `${a} - ${b}`,
  mul: (a, b) => `${a} * ${b}`,
  div: (a, b) => `${a} / ${b}`,
  pow: (a, b, type) => (type === 'f32' ? `pow_(${a}, ${b})` : `ipow(${a}, ${b})`),
  maximum: extremum('>'),
  minimum: extremum('<'),
  equal: compare('=='),
  greater: compare('>'),
  less: compare('<'),
};

export const COMPARISONS = new Set(['equal', 'greater', 'less']);

/** Integer power as Math.pow then an Int32Array store: exact, wrapping; 1/a^n truncates. */
export const IPOW = /* wgsl */ `
fn ipow(a: i32, b: i32) -> i32 {
  if (b < 0) {
    if (a == 1) { return 1; }
    if (a == -1) { return select(1, -1, (b & 1) != 0); }
    return 0;
  }
  var n = u32(b);
  var base = a;
  var r = 1;
  loop {
    if ((n & 1u) == 1u) { r = r * base; }
    n = n >> 1u;
    if (n == 0u) { break; }
    base = base * base;
  }
  return r;
}`;

function registerBinary(gpu: WebGPUBackend, op: string, expr: BinaryExpr): void {
  gpu.registerKernel(op, (ctx, [a, b], out) => {
    const plan = broadcastPlan(out.shape, [a!, b!], out.size);
    const work: DType = COMPARISONS.has(op) ? promoteTypes(a!.dtype, b!.dtype) : out.dtype;
    const type = wgslType(work, op);
    const [ia, ib] = plan.index as [string, string];
    ctx.dispatch({
      key: `binary:${op}:${a!.dtype},${b!.dtype}>${out.dtype}:${plan.key}`,
      source: () =>
        linearKernel(
          bindings([
            ['out', wgslType(out.dtype), true],
            ['a', wgslType(a!.dtype)],
            ['b', wgslType(b!.dtype)],
          ]),
          `${plan.prelude}
  let x = ${convertExpr(`a[${ia}]`, a!.dtype, work)};
  let y = ${convertExpr(`b[${ib}]`, b!.dtype, work)};
  out[i] = ${expr('x', 'y', type)};`,
          NUMERICS + IPOW,
        ),
      params: [out.size, ...plan.params],
      buffers: [{ buffer: out.buffer, write: true }, { buffer: a!.buffer }, { buffer: b!.buffer }],
      threads: out.size,
    });
  });
}

// ---- where, cast --------------------------------------------------------------------------

function registerWhere(gpu: WebGPUBackend): void {
  gpu.registerKernel('where', (ctx, [c, a, b], out) => {
    // Every dtype is 4 bytes here, so the branches are moved as raw u32 bits.
    const plan = broadcastPlan(out.shape, [c!, a!, b!], out.size);
    const [ic, ia, ib] = plan.index as [string, string, string];
    ctx.dispatch({
      key: `where:${plan.key}`,
      source: () =>
        linearKernel(
          bindings([
            ['out', 'u32', true],
            ['c', 'u32'],
            ['a', 'u32'],
            ['b', 'u32'],
          ]),
          `${plan.prelude}\n  out[i] = select(b[${ib}], a[${ia}], c[${ic}] != 0u);`,
        ),
      params: [out.size, ...plan.params],
      buffers: [
        { buffer: out.buffer, write: true },
        { buffer: c!.buffer },
        { buffer: a!.buffer },
        { buffer: b!.buffer },
      ],
      threads: out.size,
    });
  });
}

function registerCast(gpu: WebGPUBackend): void {
  gpu.registerKernel('cast', (ctx, [x], out) => {
    ctx.dispatch({
      key: `cast:${x!.dtype}>${out.dtype}`,
      source: () =>
        linearKernel(
          bindings([
            ['out', wgslType(out.dtype), true],
            ['x', wgslType(x!.dtype)],
          ]),
          `  out[i] = ${convertExpr('x[i]', x!.dtype, out.dtype)};`,
          NUMERICS,
        ),
      params: [out.size],
      buffers: [{ buffer: out.buffer, write: true }, { buffer: x!.buffer }],
      threads: out.size,
    });
  });
}

export function registerElementwiseKernels(gpu: WebGPUBackend): void {
  for (const [op, expr] of Object.entries(UNARY)) registerUnary(gpu, op, expr);
  for (const [op, expr] of Object.entries(BINARY)) registerBinary(gpu, op, expr);
  registerWhere(gpu);
  registerCast(gpu);
}

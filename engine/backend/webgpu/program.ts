/**
 * What a WebGPU kernel is and what it may ask of the backend. A kernel (one per op, registered
 * like the CPU's reference kernels) turns its operands and attributes into one or more
 * `GpuProgram`s: a pipeline key, WGSL source generated only when that key is new, parameter
 * words and buffers. Shapes, strides, sizes and attribute values travel as parameter words (a
 * read-only storage array bound at binding 0), never baked into WGSL, so a pipeline serves
 * every shape of its op, dtype, rank and broadcast pattern.
 *
 * Also here: the WGSL skeleton of the 1-D kernels (one invocation per output element; p[0] is
 * the element count) and `collapseDims`, which merges axes that are contiguous in every operand,
 * so most strided and broadcast views run at rank 1 or 2 and share pipelines.
 */

import type { DType } from '../../core/dtype.js';
import type { Shape } from '../../core/shape.js';

/** An operand or output as a WebGPU kernel sees it. */
export interface GpuTensor {
  readonly buffer: GPUBuffer;
  readonly shape: Shape;
  readonly dtype: DType;
  readonly size: number;
}

export interface GpuBinding {
  readonly buffer: GPUBuffer;
  /** Bound as read_write storage (outputs, atomics); otherwise read-only. */
  readonly write?: boolean;
}

export interface GpuProgram {
  /** Everything the WGSL text depends on: op, dtypes, rank, broadcast pattern, variant. */
  readonly key: string;
  /** The WGSL source, generated only when `key` is not cached yet. */
  readonly source: () => string;
  /** Parameter words (u32 bit patterns; see wgsl.ts for f32/i32), bound at binding 0. */
  readonly params: readonly number[];
  /** Buffers bound at bindings 1, 2, … in this order. */
  readonly buffers: readonly GpuBinding[];
  /** For 1-D kernels: one invocation per element, in workgroups of 64 … */
  readonly threads?: number;
  /** … or an explicit grid of workgroups. */
  readonly workgroups?: readonly [number, number, number];
}

/** What kernels may do: record dispatches and buffer copies, in order. */
export interface KernelContext {
  dispatch(program: GpuProgram): void;
  /** Copies `bytes` bytes (a multiple of 4) from the start of `src` to the start of `dst`. */
  copy(src: GPUBuffer, dst: GPUBuffer, bytes: number): void;
  /**
   * Where kernels report an out-of-range index: array<atomic<u32>, 4> holding [code, index,
   * position, bound]; the backend checks it at the next read and throws (see IndexCheck).
   */
  readonly indexErrors: GPUBuffer;
}

export type WebGPUKernel<A = object> = (
  ctx: KernelContext,
  inputs: GpuTensor[],
  out: GpuTensor,
  attrs: A,
) => void;

/** Codes for the ops that check indices on the GPU, stored in indexErrors[0]. */
export const IndexCheck = { gather: 1, scatterAdd: 2, oneHot: 3 } as const;

export const WORKGROUP = 64;

/** `var<storage, …>` declarations for bindings 1, 2, … */
export function bindings(
  list: readonly (readonly [name: string, type: string, write?: boolean])[],
) {
  return list
    .map(
      ([name, type, write], k) =>
        `@group(0) @binding(${k + 1}) var<storage, ${write ? 'read_write' : 'read'}> ${name}: ` +
        `array<${type}>;`,
    )
    .join('\n');
}

/** A 1-D kernel: `body` runs for each i < p[0] with `i` the flat output index. */
export function linearKernel(decls: string, body: string, helpers = ''): string {
  return `@group(0) @binding(0) var<storage, read> p: array<u32>;
${decls}
${helpers}
@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = gid.x + gid.y * nwg.x * ${WORKGROUP}u;
  if (i >= p[0]) { return; }
${body}
}`;
}

/**
 * WGSL that decomposes `index` over a rank-`rank` shape stored at p[shapeAt …] (row-major) and
 * accumulates, for each operand k, `offsets[k] += coordinate·p[strideAt[k] + d]`. Its loop
 * variables are suffixed with `tag`, so that one kernel can use it twice.
 */
export function stridedOffsets(
  index: string,
  rank: number,
  shapeAt: number,
  offsets: readonly string[],
  strideAt: readonly number[],
  tag = '',
): string {
  const decl = offsets.map((o) => `  var ${o} = 0u;`).join('\n');
  if (rank === 0) return decl;
  const [rem, dd, d, c] = ['rem', 'dd', 'd', 'c'].map((v) => `q${v}${tag}`) as [
    string,
    string,
    string,
    string,
  ];
  const acc = offsets.map((o, k) => `    ${o} = ${o} + ${c} * p[${strideAt[k]}u + ${d}];`);
  return `${decl}
  var ${rem} = ${index};
  for (var ${dd} = ${rank - 1}; ${dd} >= 0; ${dd} = ${dd} - 1) {
    let ${d} = u32(${dd});
    let ${c} = ${rem} % p[${shapeAt}u + ${d}];
    ${rem} = ${rem} / p[${shapeAt}u + ${d}];
${acc.join('\n')}
  }`;
}

export interface Collapsed {
  readonly shape: number[];
  /** One stride list per operand, matching `shape`. */
  readonly strides: number[][];
}

/**
 * Drops size-1 axes and merges neighbouring axes that are contiguous in every operand (the
 * output, walked in row-major order, always is), so [N, C, H, W] broadcast against [1, C, 1, 1]
 * becomes [N, C, H·W] and a slice of whole rows becomes rank 1.
 */
export function collapseDims(shape: Shape, strides: readonly (readonly number[])[]): Collapsed {
  const outShape: number[] = [];
  const outStrides: number[][] = strides.map(() => []);
  for (let d = 0; d < shape.length; d++) {
    const n = shape[d]!;
    if (n === 1) continue;
    const last = outShape.length - 1;
    const mergeable = last >= 0 && strides.every((s, k) => outStrides[k]![last] === s[d]! * n);
    if (mergeable) {
      outShape[last]! *= n;
      strides.forEach((s, k) => (outStrides[k]![last] = s[d]!));
    } else {
      outShape.push(n);
      strides.forEach((s, k) => outStrides[k]!.push(s[d]!));
    }
  }
  return { shape: outShape, strides: outStrides };
}

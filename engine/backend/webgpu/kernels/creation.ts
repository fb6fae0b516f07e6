/**
 * WebGPU kernels for the creation ops: fill, arange, randomUniform and randomNormal. Random
 * numbers use core/random.ts's counter-based hash in u32 arithmetic, so a seed gives the same
 * uniform numbers as on the CPU bit for bit, and normal numbers within about 1e-6.
 */

import type { DType } from '../../../core/dtype.js';
import { type WebGPUBackend } from '../webgpu-backend.js';
import { bindings, linearKernel } from '../program.js';
import {
  NUMERICS,
  RANDOM,
  f32Bits,
  f64Unsupported,
  i32Bits,
  scalarBits,
  wgslType,
} from '../wgsl.js';

/** WGSL storing an f32 value into `dtype` as the CPU's typed-array stores do. */
function storeExpr(value: string, dtype: DType): string {
  switch (dtype) {
    case 'f32':
      return value;
    case 'i32':
      return `f32_to_i32(${value})`;
    case 'bool':
      return `u32(f32_to_i32(${value})) & 0xffu`; // a Uint8Array store: ToInt32, then mod 256
    case 'f64':
      throw f64Unsupported();
    default:
      return dtype satisfies never;
  }
}

export function registerCreationKernels(gpu: WebGPUBackend): void {
  gpu.registerKernel<{ value: number }>('fill', (ctx, _, out, { value }) => {
    ctx.dispatch({
      key: 'fill',
      source: () => linearKernel(bindings([['out', 'u32', true]]), '  out[i] = p[1];'),
      params: [out.size, scalarBits(value, out.dtype)],
      buffers: [{ buffer: out.buffer, write: true }],
      threads: out.size,
    });
  });

  gpu.registerKernel<{ start: number; step: number }>('arange', (ctx, _, out, a) => {
    // Integer starts and steps stay in exact i32 arithmetic; anything else goes through f32.
    const exact = out.dtype === 'i32' && Number.isInteger(a.start) && Number.isInteger(a.step);
    const body = exact
      ? '  out[i] = bitcast<i32>(p[1]) + i32(i) * bitcast<i32>(p[2]);'
      : `  out[i] = ${storeExpr('bitcast<f32>(p[1]) + f32(i) * bitcast<f32>(p[2])', out.dtype)};`;
    ctx.dispatch({
      key: `arange:${out.dtype}:${exact ? 'int' : 'float'}`,
      source: () => linearKernel(bindings([['out', wgslType(out.dtype), true]]), body, NUMERICS),
      params: exact
        ? [out.size, i32Bits(a.start), i32Bits(a.step)]
        : [out.size, f32Bits(a.start), f32Bits(a.step)],
      buffers: [{ buffer: out.buffer, write: true }],
      threads: out.size,
    });
  });

  for (const [op, fn] of [
    ['randomUniform', 'uniform_at'],
    ['randomNormal', 'normal_at'],
  ] as const)
    gpu.registerKernel<{ seed: number }>(op, (ctx, _, out, { seed }) => {
      ctx.dispatch({
        key: `${op}:${out.dtype}`,
        source: () =>
          linearKernel(
            bindings([['out', wgslType(out.dtype), true]]),
            `  out[i] = ${storeExpr(`${fn}(p[1], i)`, out.dtype)};`,
            NUMERICS + RANDOM,
          ),
        params: [out.size, seed >>> 0],
        buffers: [{ buffer: out.buffer, write: true }],
        threads: out.size,
      });
    });
}

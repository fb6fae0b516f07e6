/**
 * The CPU fast path: WebAssembly SIMD kernels (see ../wasm/) registered as `fast` kernels
 * for f32 matmul (every transpose and batch pattern), the common elementwise shapes (equal
 * shapes, a scalar operand, a row-vector bias), comparisons (equal shapes or a scalar) and relu. A fast kernel declines anything else
 * by returning false, and the reference kernel runs instead.
 */

import { shapesEqual } from '../../core/shape.js';
import {
  type BinaryOp,
  type CompareOp,
  type WasmKernels,
  createWasmKernels,
} from '../wasm/kernels.js';
import type { CpuBackend, CpuTensor } from './cpu-backend.js';
import { type MatmulAttrs, planMatmul } from './kernels/nn.js';
import { registerFastConv } from './fast-conv.js';

const F32 = 4;

function allF32(...ts: CpuTensor[]): boolean {
  return ts.every((t) => t.dtype === 'f32');
}

function registerMatmul(cpu: CpuBackend, wasm: WasmKernels): void {
  cpu.registerFast<MatmulAttrs>('matmul', ([a, b], out, attrs) => {
    if (!allF32(a!, b!, out)) return false;
    const p = planMatmul(a!.shape, b!.shape, attrs);
    for (const piece of p.pieces)
      wasm.matmul({
        a: a!.ptr + piece.aOffset * F32,
        b: b!.ptr + piece.bOffset * F32,
        c: out.ptr + piece.oOffset * F32,
        m: p.m,
        n: p.n,
        k: p.k,
        aRowStride: p.aRowStride,
        aColStride: p.aColStride,
        bRowStride: p.bRowStride,
        bColStride: p.bColStride,
      });
    return true;
  });
}

function registerBinary(cpu: CpuBackend, wasm: WasmKernels, op: BinaryOp): void {
  cpu.registerFast(op, ([a, b], out) => {
    if (!allF32(a!, b!, out) || out.size === 0) return false;
    if (shapesEqual(a!.shape, b!.shape)) {
      wasm.binary(op, a!.ptr, b!.ptr, out.ptr, out.size);
      return true;
    }
    if (b!.size === 1 && shapesEqual(a!.shape, out.shape)) {
      wasm.binaryScalar(op, a!.ptr, b!.data[0]!, out.ptr, out.size);
      return true;
    }
    if (a!.size === 1 && shapesEqual(b!.shape, out.shape)) {
      wasm.binaryScalar(op, b!.ptr, a!.data[0]!, out.ptr, out.size, true);
      return true;
    }
    // [rows, cols] op [cols] (or [1, cols]): the bias-add broadcast.
    const cols = out.shape[out.shape.length - 1] ?? 1;
    const bIsRow = b!.size === cols && b!.shape[b!.shape.length - 1] === cols;
    if (bIsRow && shapesEqual(a!.shape, out.shape) && cols > 0) {
      wasm.binaryRow(op, a!.ptr, b!.ptr, out.ptr, out.size / cols, cols);
      return true;
    }
    return false;
  });
}

/**
 * greater/less/equal of f32 tensors of one shape, or with a scalar on either side, into bool
 * bytes (relu's gradient compares every activation with 0). `s < a` is `a > s` and so on.
 */
function registerCompare(cpu: CpuBackend, wasm: WasmKernels, op: string, cmp: CompareOp): void {
  const swapped: CompareOp = cmp === 'gt' ? 'lt' : cmp === 'lt' ? 'gt' : 'eq';
  cpu.registerFast(op, ([a, b], out) => {
    if (!allF32(a!, b!) || out.dtype !== 'bool' || out.size === 0) return false;
    if (shapesEqual(a!.shape, b!.shape)) wasm.compare(cmp, a!.ptr, b!.ptr, 0, out.ptr, out.size);
    else if (b!.size === 1 && shapesEqual(a!.shape, out.shape))
      wasm.compare(cmp, a!.ptr, null, b!.data[0]!, out.ptr, out.size);
    else if (a!.size === 1 && shapesEqual(b!.shape, out.shape))
      wasm.compare(swapped, b!.ptr, null, a!.data[0]!, out.ptr, out.size);
    else return false;
    return true;
  });
}

/** Registers the WebAssembly kernels; returns false where the host lacks Wasm SIMD. */
export function registerFastKernels(cpu: CpuBackend): boolean {
  let wasm: WasmKernels | null;
  try {
    wasm = createWasmKernels(cpu.heap);
  } catch (e) {
    // Say why in the device description rather than falling back silently.
    cpu.fastKernelInfo = `TypeScript reference kernels; WebAssembly kernels failed: ${
      (e as Error).message
    }`;
    return false;
  }
  if (!wasm) return false;
  registerMatmul(cpu, wasm);
  registerFastConv(cpu, wasm);
  for (const op of ['add', 'sub', 'mul', 'div'] as const) registerBinary(cpu, wasm, op);
  registerCompare(cpu, wasm, 'greater', 'gt');
  registerCompare(cpu, wasm, 'less', 'lt');
  registerCompare(cpu, wasm, 'equal', 'eq');
  const kernels = wasm;
  cpu.registerFast('relu', ([x], out) => {
    if (!allF32(x!, out)) return false;
    kernels.relu(x!.ptr, out.ptr, out.size);
    return true;
  });
  cpu.fastKernelInfo = `WebAssembly SIMD${wasm.relaxedSimd ? ' with relaxed SIMD (FMA)' : ''}`;
  return true;
}

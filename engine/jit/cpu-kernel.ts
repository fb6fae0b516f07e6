/**
 * The CPU kernels of `fusedElementwise`: the interpreter (interpret.ts) as the reference
 * kernel, and the generated WebAssembly SIMD kernel (wasm-fused.ts) as the fast kernel where
 * the host validates SIMD. The fast kernel declines (and the interpreter runs) when the
 * program has an op without a SIMD form (erf, gelu, pow), a dtype other than f32 and bool, or
 * an input broadcast other than full, one element, or the output's trailing dimensions (a row;
 * all row inputs of one call must be the same row length).
 */

import type { DType } from '../core/dtype.js';
import { cpuBackend } from '../backend/cpu/index.js';
import type { CpuBackend, CpuTensor } from '../backend/cpu/cpu-backend.js';
import type { FusedAttrs } from './fused-op.js';
import { interpretProgram } from './interpret.js';
import { parseProgram } from './program.js';
import {
  type WasmInputLayout,
  fusedWasmAvailable,
  fusedWasmKernel,
  wasmCovers,
} from './wasm-fused.js';

/** The length of the row `shape` repeats along `out`, or 0 when it is not a row of `out`. */
function rowLength(shape: readonly number[], out: readonly number[]): number {
  let first = 0;
  while (first < shape.length && shape[first] === 1) first++;
  const tail = shape.slice(first);
  if (tail.length === 0 || tail.length > out.length) return 0;
  const offset = out.length - tail.length;
  return tail.every((d, i) => d === out[offset + i]) ? tail.reduce((p, d) => p * d, 1) : 0;
}

const covered = new Map<string, boolean>();

function runWasm(cpu: CpuBackend, inputs: CpuTensor[], out: CpuTensor, attrs: FusedAttrs): boolean {
  if (out.size === 0) return true;
  const program = parseProgram(attrs.program);
  const dtypes: DType[] = inputs.map((t) => t.dtype);
  const key = `${program.text}|${dtypes.join(',')}`;
  let ok = covered.get(key);
  if (ok === undefined) {
    ok = wasmCovers(program, dtypes);
    if (covered.size > 1024) covered.clear();
    covered.set(key, ok);
  }
  if (!ok) return false;
  const layouts: WasmInputLayout[] = [];
  let cols = 0;
  for (const t of inputs) {
    if (t.size === out.size) layouts.push('full');
    else if (t.size === 1) layouts.push('scalar');
    else {
      const row = rowLength(t.shape, out.shape);
      if (row === 0 || (cols !== 0 && row !== cols)) return false;
      cols = row;
      layouts.push('row');
    }
  }
  const rows = cols === 0 ? 1 : out.size / cols;
  const kernel = fusedWasmKernel(cpu.heap, program, dtypes, layouts);
  kernel(out.ptr, rows, cols === 0 ? out.size : cols, ...inputs.map((t) => t.ptr));
  return true;
}

/** Registers the fused kernels on a CPU backend (the engine's own is done on import). */
export function registerFusedKernels(cpu: CpuBackend): void {
  cpu.registerReference<FusedAttrs>('fusedElementwise', (inputs, out, attrs) =>
    interpretProgram(parseProgram(attrs.program), inputs, out),
  );
  if (fusedWasmAvailable())
    cpu.registerFast<FusedAttrs>('fusedElementwise', (inputs, out, attrs) =>
      runWasm(cpu, inputs, out, attrs),
    );
}

registerFusedKernels(cpuBackend);

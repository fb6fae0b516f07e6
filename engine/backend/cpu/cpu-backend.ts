/**
 * The CPU device. Tensors live in one WebAssembly heap (see heap.ts). Kernels come in two
 * variants registered per op: `reference` kernels in plain TypeScript, the ground truth that
 * every other kernel is tested against, and optional `fast` kernels (WebAssembly SIMD) that
 * may decline a call (returning false), in which case the reference kernel runs.
 */

import { type DType, type TypedArray, bytesPerElement, viewArray } from '../../core/dtype.js';
import type { Shape } from '../../core/shape.js';
import { type Backend, type KernelTensor, Storage, missingKernel } from '../backend.js';
import { Heap } from './heap.js';

/** An operand as a CPU kernel sees it: a typed view over the heap plus its address. */
export interface CpuTensor {
  readonly data: TypedArray;
  readonly shape: Shape;
  readonly dtype: DType;
  readonly size: number;
  /** Byte address in the heap (for WebAssembly kernels). */
  readonly ptr: number;
}

export type CpuKernel<A = object> = (inputs: CpuTensor[], output: CpuTensor, attrs: A) => void;
/** A fast kernel returns false to decline (e.g. an unsupported dtype or layout). */
export type FastCpuKernel<A = object> = (
  inputs: CpuTensor[],
  output: CpuTensor,
  attrs: A,
  heap: Heap,
) => boolean;

export type CpuKernelVariant = 'fast' | 'reference';

export class CpuBackend implements Backend {
  readonly device = 'cpu' as const;
  readonly heap: Heap;
  private readonly reference = new Map<string, CpuKernel>();
  private readonly fast = new Map<string, FastCpuKernel>();
  /** Which kernels run: 'fast' uses WebAssembly where registered, 'reference' never does. */
  variant: CpuKernelVariant = 'fast';
  /** What the fast kernels are, once registered (null: reference kernels only). */
  fastKernelInfo: string | null = null;

  constructor(heap = new Heap()) {
    this.heap = heap;
  }

  get description(): string {
    return (
      `CPU (${this.fastKernelInfo ?? 'TypeScript reference kernels'}; ` +
      `${this.heap.shared ? 'shared' : 'unshared'} WebAssembly heap)`
    );
  }

  registerReference<A extends object>(op: string, kernel: CpuKernel<A>): void {
    this.reference.set(op, kernel as CpuKernel);
  }

  registerFast<A extends object>(op: string, kernel: FastCpuKernel<A>): void {
    this.fast.set(op, kernel as FastCpuKernel);
  }

  hasKernel(op: string): boolean {
    return this.reference.has(op);
  }

  allocate(bytes: number): Storage {
    return new Storage(this, this.heap.alloc(bytes), bytes);
  }

  release(storage: Storage): void {
    this.heap.release(storage.id);
  }

  upload(data: TypedArray): Storage {
    const s = this.allocate(data.byteLength);
    new Uint8Array(this.heap.buffer, s.id, data.byteLength).set(
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
    );
    return s;
  }

  /** A live view over the heap: valid until the next allocation. */
  view(storage: Storage, dtype: DType, size: number): TypedArray {
    return viewArray(dtype, this.heap.buffer, storage.id, size);
  }

  readSync(storage: Storage, dtype: DType, size: number): TypedArray {
    // A copy, so the caller's array survives heap growth and buffer reuse.
    return this.view(storage, dtype, size).slice();
  }

  read(storage: Storage, dtype: DType, size: number): Promise<TypedArray> {
    return Promise.resolve(this.readSync(storage, dtype, size));
  }

  run(op: string, inputs: readonly KernelTensor[], output: KernelTensor, attrs: object): void {
    const kernel = this.reference.get(op);
    if (!kernel) throw missingKernel(op, 'cpu');
    const ins = inputs.map((t) => this.arg(t));
    const out = this.arg(output);
    if (this.variant === 'fast') {
      const fast = this.fast.get(op);
      if (fast && fast(ins, out, attrs, this.heap)) return;
    }
    kernel(ins, out, attrs);
  }

  private arg(t: KernelTensor): CpuTensor {
    const size = t.size;
    // bytesPerElement guards against a view past the storage on a bad kernel contract.
    if (size * bytesPerElement(t.dtype) > t.storage.bytes)
      throw new Error(`cpu: tensor of ${size} ${t.dtype} exceeds its storage`);
    return {
      data: this.view(t.storage, t.dtype, size),
      shape: t.shape,
      dtype: t.dtype,
      size,
      ptr: t.storage.id,
    };
  }
}

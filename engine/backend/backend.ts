/**
 * The hardware runtime's contract. A backend owns one device's memory (buffers named by numeric
 * ids, as in jax-js) and a table of kernels, registered per (op, device) apart from the op
 * definitions (as in tfjs). The dispatcher asks the tensor's backend for a kernel by op name;
 * an op without a kernel on that device is an error that names both.
 */

import type { DType, TypedArray } from '../core/dtype.js';
import { WiregradError } from '../core/errors.js';
import type { Shape } from '../core/shape.js';

export type DeviceName = 'cpu' | 'webgpu';

/** A device buffer. Several tensors may share one (reshape is a view); `refs` counts them. */
export class Storage {
  refs = 1;
  constructor(
    readonly backend: Backend,
    /** Backend-specific buffer id: a heap address on the CPU. */
    readonly id: number,
    readonly bytes: number,
  ) {}
}

/** What a kernel sees of one operand or of its output. */
export interface KernelTensor {
  readonly storage: Storage;
  readonly shape: Shape;
  readonly dtype: DType;
  readonly size: number;
}

export interface Backend {
  readonly device: DeviceName;
  /** A human-readable description of what initialised (e.g. the adapter). */
  readonly description: string;
  allocate(bytes: number): Storage;
  /**
   * Bytes a tensor of `size` elements of `dtype` takes on this device, when that is not
   * size·bytesPerElement (WebGPU stores bool as one u32 per element).
   */
  bytesFor?(dtype: DType, size: number): number;
  release(storage: Storage): void;
  /** Copies host data into a new buffer. */
  upload(data: TypedArray): Storage;
  /** Reads `size` elements of `dtype` back to the host. */
  read(storage: Storage, dtype: DType, size: number): Promise<TypedArray>;
  /** Synchronous read, where the device allows it (the CPU does; a GPU does not). */
  readSync(storage: Storage, dtype: DType, size: number): TypedArray | null;
  /** Runs `op`'s kernel. Throws a WiregradError naming op and device when there is none. */
  run(op: string, inputs: readonly KernelTensor[], output: KernelTensor, attrs: object): void;
  hasKernel(op: string): boolean;
  /** Submits queued work and resolves when the device has finished it (GPU devices). */
  flush?(): Promise<void>;
}

const backends = new Map<DeviceName, Backend>();

export function registerBackend(backend: Backend): void {
  backends.set(backend.device, backend);
}

export function getBackend(device: DeviceName): Backend {
  const b = backends.get(device);
  if (!b)
    throw new WiregradError(
      `device '${device}' is not initialised` +
        (device === 'webgpu' ? ' (call initWebGPU() first; it needs a WebGPU adapter)' : ''),
    );
  return b;
}

export function availableBackends(): Backend[] {
  return [...backends.values()];
}

export function missingKernel(op: string, device: DeviceName): WiregradError {
  return new WiregradError(`no kernel for op '${op}' on device '${device}'`, { op });
}

/**
 * The WebGPU device. Tensors live in GPU storage buffers named by numeric ids and recycled by a
 * size-class pool; bool is stored as one u32 per element; f64 is refused with a clear error.
 * Kernels are registered per op (a table like the CPU's) and record compute dispatches into one
 * command encoder, all in one compute pass where they can, which is submitted when a read needs
 * the results, when the host writes a buffer, or every `maxBatch` dispatches. Pipelines are
 * cached by key (op, dtypes, rank, broadcast pattern); shapes and attributes go in parameter
 * words, which are packed for a whole batch into one arena buffer written just before submit.
 * One-element fills (the scalars of `x.mul(0.5)`) share buffers holding their values, so an op
 * with a number costs one dispatch.
 *
 * Reads are asynchronous (`read` maps a staging buffer); `readSync` returns null. Errors the GPU
 * can only find while running (an index out of range in gather/scatterAdd/oneHot, a kernel that
 * failed to build) are recorded and thrown by the next read, naming the op. A lost device (driver
 * reset, `GPUDevice.destroy()`, this backend's `destroy()`) is seen through `device.lost`: from
 * then on every op, allocation and read on 'webgpu' throws "the WebGPU device was lost: …;
 * re-run initWebGPU()", `devices()` shows it in the description, and other devices carry on.
 */

import type { DType, TypedArray } from '../../core/dtype.js';
import { WiregradError } from '../../core/errors.js';
import { type Backend, type KernelTensor, Storage, missingKernel } from '../backend.js';
import { BufferPool, BufferUsage, type PoolStats } from './buffer-pool.js';
import {
  type GpuProgram,
  type GpuTensor,
  IndexCheck,
  type KernelContext,
  WORKGROUP,
  type WebGPUKernel,
} from './program.js';
import { f64Unsupported, scalarBits } from './wgsl.js';

const SHADER_STAGE_COMPUTE = 0x4; // GPUShaderStage.COMPUTE
const MAP_MODE_READ = 0x1; // GPUMapMode.READ
/** Staging buffers kept for reads (the most recent ones). */
const STAGING_KEPT = 4;

/**
 * Parameter words of one batch; each dispatch's slice is aligned to the device's offset rule
 * (256 bytes at most), so the arena holds a whole batch of DEFAULT_BATCH dispatches.
 */
const DEFAULT_BATCH = 512;
const ARENA_BYTES = DEFAULT_BATCH * 512;

interface CachedPipeline {
  readonly pipeline: GPUComputePipeline;
  readonly layout: GPUBindGroupLayout;
  /**
   * Bind groups by parameter size and buffers: the parameter words are bound with a dynamic
   * offset, so a loop that reuses its buffers (the pool's) reuses its bind groups too.
   */
  readonly groups: Map<string, GPUBindGroup>;
}

/** Bind groups kept per pipeline (oldest dropped first). */
const GROUPS_KEPT = 256;

/** One-element constants kept on the device (see `bindConstant`). */
const CONSTANTS_KEPT = 512;

/**
 * A buffer holding one 32-bit constant, shared by every one-element `fill` of that bit pattern
 * (the scalars of `x.mul(0.5)`, a loss's `1`, an optimiser's factors).
 */
interface Constant {
  readonly buffer: GPUBuffer;
  /** The bit pattern it holds (f32, i32 and bool share patterns: 0 is 0 in each). */
  bits: number;
  /** Storages bound to it now; at 0 it waits in `freeConstants`, still holding its value. */
  users: number;
}

export interface WebGPUStats extends PoolStats {
  /** Compute pipelines built (one per distinct kernel key). */
  readonly pipelines: number;
  readonly dispatches: number;
  readonly submits: number;
  /** One-element constants held on the device (see `bindConstant`). */
  readonly constants: number;
}

export interface WebGPUBackendOptions {
  /** Dispatches recorded before the encoder is submitted without waiting for a read. */
  readonly maxBatch?: number;
}

export class WebGPUBackend implements Backend, KernelContext {
  readonly device = 'webgpu' as const;
  readonly indexErrors: GPUBuffer;
  /** Dispatches recorded before the encoder is submitted without waiting for a read. */
  maxBatch: number;

  private readonly pool: BufferPool;
  private readonly buffers = new Map<number, GPUBuffer>();
  /** A number per GPU buffer object, for bind-group keys. */
  private readonly bufferIds = new WeakMap<GPUBuffer, number>();
  private nextBufferId = 1;
  /** Unmapped staging buffers kept for later reads, at most STAGING_KEPT of them. */
  private readonly staging: GPUBuffer[] = [];
  private nextId = 1;
  private readonly kernels = new Map<string, WebGPUKernel>();
  private readonly pipelines = new Map<string, CachedPipeline>();
  private readonly constants = new Map<number, Constant>();
  /** Constants no storage uses, least recently released first: reused for new values. */
  private readonly freeConstants = new Set<Constant>();
  /** Storage id → the constant it is bound to. */
  private readonly constantOf = new Map<number, Constant>();
  private readonly queue: GPUQueue;
  private readonly paramsBuffer: GPUBuffer;
  private readonly paramsHost = new Uint32Array(ARENA_BYTES / 4);
  private readonly paramsAlign: number;
  private readonly maxGroups: number;
  private paramsUsed = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pending = 0;
  private dispatches = 0;
  private submits = 0;
  /** The first asynchronous failure (build error, validation error, lost device), thrown once. */
  private failure: WiregradError | null = null;
  private lost: string | null = null;
  private readonly adapterDescription: string;

  constructor(
    /** The GPU objects are held for the backend's lifetime: Dawn (Node) crashes when its GPU
     * instance is garbage-collected while a device made from it is still in use. */
    readonly gpu: GPU,
    readonly adapter: GPUAdapter,
    readonly gpuDevice: GPUDevice,
    description: string,
    options: WebGPUBackendOptions = {},
  ) {
    this.adapterDescription = description;
    // A training step of a small model (an MLP with Adam: about 160 dispatches) records into
    // one submission; larger batches would delay the GPU's start for little gain.
    this.maxBatch = options.maxBatch ?? DEFAULT_BATCH;
    this.queue = gpuDevice.queue;
    this.pool = new BufferPool(gpuDevice);
    this.paramsAlign = gpuDevice.limits.minStorageBufferOffsetAlignment;
    this.maxGroups = gpuDevice.limits.maxComputeWorkgroupsPerDimension;
    this.paramsBuffer = gpuDevice.createBuffer({
      size: ARENA_BYTES,
      usage: BufferUsage.STORAGE | BufferUsage.COPY_DST,
    });
    this.indexErrors = gpuDevice.createBuffer({
      size: 16,
      usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
    });
    gpuDevice.onuncapturederror = (event) =>
      this.fail(new WiregradError(`webgpu: ${event.error.message}`));
    void gpuDevice.lost.then((info) => {
      this.lost ??= info.message || `reason '${info.reason}'`;
      // Recorded work can no longer be submitted.
      this.pass = null;
      this.encoder = null;
    });
  }

  /** The adapter, and "(lost: …)" once the device is gone (so `devices()` shows it). */
  get description(): string {
    return this.lost === null
      ? this.adapterDescription
      : `${this.adapterDescription} (lost: ${this.lost})`;
  }

  /** Why the device was lost, or null while it works. */
  get lostReason(): string | null {
    return this.lost;
  }

  // ---- kernels ----------------------------------------------------------------------------

  registerKernel<A extends object>(op: string, kernel: WebGPUKernel<A>): void {
    this.kernels.set(op, kernel as WebGPUKernel);
  }

  hasKernel(op: string): boolean {
    return this.kernels.has(op);
  }

  run(op: string, inputs: readonly KernelTensor[], output: KernelTensor, attrs: object): void {
    const kernel = this.kernels.get(op);
    if (!kernel) throw missingKernel(op, 'webgpu');
    this.checkUsable(op);
    for (const t of [...inputs, output]) if (t.dtype === 'f64') throw f64Unsupported(op);
    if (output.size === 0) return;
    if (op === 'fill' && output.size === 1 && this.bindConstant(output, attrs as { value: number }))
      return;
    kernel(
      this,
      inputs.map((t) => this.arg(t)),
      this.arg(output),
      attrs,
    );
  }

  private arg(t: KernelTensor): GpuTensor {
    return { buffer: this.bufferOf(t.storage), shape: t.shape, dtype: t.dtype, size: t.size };
  }

  // ---- memory -----------------------------------------------------------------------------

  /** Every element takes 4 bytes here: bool is stored as u32 (WGSL has no 8-bit storage). */
  bytesFor(dtype: DType, size: number): number {
    return size * (dtype === 'f64' ? 8 : 4);
  }

  allocate(bytes: number): Storage {
    this.checkUsable();
    const id = this.nextId++;
    this.buffers.set(id, this.pool.acquire(bytes));
    return new Storage(this, id, bytes);
  }

  release(storage: Storage): void {
    const buffer = this.buffers.get(storage.id);
    if (!buffer) throw new Error(`webgpu: release of unknown buffer ${storage.id}`);
    this.buffers.delete(storage.id);
    const constant = this.constantOf.get(storage.id);
    if (!constant) {
      this.pool.release(buffer);
      return;
    }
    this.constantOf.delete(storage.id);
    if (--constant.users === 0) this.freeConstants.add(constant);
  }

  /**
   * A one-element fill binds its storage to the shared buffer holding that value instead of
   * running a kernel, so `x.mul(0.5)` is one dispatch, not two. Storages are only ever written
   * by the op that makes them, so sharing is safe. A value not held yet is written into a new
   * buffer, or into the constant released longest ago, by the fill kernel itself: recorded in
   * order, it runs after any earlier work that read the old value. Returns false (run the
   * kernel) when CONSTANTS_KEPT constants are all in use.
   */
  private bindConstant(output: KernelTensor, attrs: { value: number }): boolean {
    const bits = scalarBits(attrs.value, output.dtype);
    let constant = this.constants.get(bits);
    if (!constant) {
      constant = this.freeConstants.values().next().value;
      if (constant) {
        this.constants.delete(constant.bits);
        constant.bits = bits;
      } else if (this.constants.size < CONSTANTS_KEPT) {
        const buffer = this.gpuDevice.createBuffer({
          size: 4,
          usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
        });
        constant = { buffer, bits, users: 0 };
      } else return false;
      this.constants.set(bits, constant);
      const target = { buffer: constant.buffer, shape: [], dtype: output.dtype, size: 1 };
      this.kernels.get('fill')!(this, [], target, attrs);
    }
    if (constant.users++ === 0) this.freeConstants.delete(constant);
    const id = output.storage.id;
    this.pool.release(this.buffers.get(id)!);
    this.buffers.set(id, constant.buffer);
    this.constantOf.set(id, constant);
    return true;
  }

  upload(data: TypedArray): Storage {
    if (data instanceof Float64Array) throw f64Unsupported('upload');
    // bool arrives as Uint8Array (one byte per element) and is widened to u32.
    const words: Float32Array | Int32Array | Uint32Array =
      data instanceof Uint8Array ? Uint32Array.from(data) : data;
    const storage = this.allocate(words.byteLength);
    if (words.byteLength > 0) {
      // The pooled buffer may still be read by recorded work: submit that first, so the queue
      // runs it before this write.
      this.submit();
      this.queue.writeBuffer(this.bufferOf(storage), 0, copyIfShared(words));
    }
    return storage;
  }

  readSync(): null {
    return null;
  }

  async read(storage: Storage, dtype: DType, size: number): Promise<TypedArray> {
    this.checkUsable('read');
    if (dtype === 'f64') throw f64Unsupported('read');
    const bytes = size * 4;
    // One staging buffer takes the data and, after it, the four index-check words.
    const staging = this.takeStaging(bytes + 16);
    const encoder = this.commandEncoder();
    this.endPass();
    if (bytes > 0) encoder.copyBufferToBuffer(this.bufferOf(storage), 0, staging, 0, bytes);
    encoder.copyBufferToBuffer(this.indexErrors, 0, staging, bytes, 16);
    this.submit();
    let data: ArrayBuffer;
    let check: Uint32Array;
    try {
      await staging.mapAsync(MAP_MODE_READ, 0, bytes + 16);
      const mapped = staging.getMappedRange(0, bytes + 16);
      check = new Uint32Array(mapped.slice(bytes, bytes + 16));
      data = mapped.slice(0, bytes);
      staging.unmap();
    } catch (e) {
      staging.destroy();
      // A device lost while the read was in flight fails the mapping: say so plainly.
      this.checkUsable('read');
      throw e;
    }
    this.keepStaging(staging);
    this.checkUsable('read');
    if (check[0] !== 0) throw this.indexError(check);
    switch (dtype) {
      case 'f32':
        return new Float32Array(data);
      case 'i32':
        return new Int32Array(data);
      case 'bool':
        return Uint8Array.from(new Uint32Array(data));
      default:
        return dtype satisfies never;
    }
  }

  /**
   * A mappable buffer of at least `bytes`: a kept one no more than twice as large, or a new one
   * (creating and zeroing a buffer per read cost milliseconds for large tensors).
   */
  private takeStaging(bytes: number): GPUBuffer {
    const i = this.staging.findIndex((b) => b.size >= bytes && b.size <= 2 * bytes);
    if (i >= 0) return this.staging.splice(i, 1)[0]!;
    return this.gpuDevice.createBuffer({
      size: bytes,
      usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST,
    });
  }

  private keepStaging(buffer: GPUBuffer): void {
    this.staging.push(buffer);
    while (this.staging.length > STAGING_KEPT) this.staging.shift()!.destroy();
  }

  /** Submits recorded work and waits until the GPU has finished it. */
  async flush(): Promise<void> {
    this.submit();
    await this.queue.onSubmittedWorkDone();
    this.checkUsable();
  }

  stats(): WebGPUStats {
    return {
      ...this.pool.stats(),
      pipelines: this.pipelines.size,
      dispatches: this.dispatches,
      submits: this.submits,
      constants: this.constants.size,
    };
  }

  /** Frees pooled buffers that no tensor uses (they are otherwise kept for reuse). */
  trim(): void {
    this.submit();
    this.pool.trim();
    for (const c of this.freeConstants) {
      this.constants.delete(c.bits);
      c.buffer.destroy();
    }
    this.freeConstants.clear();
  }

  /** Destroys the device; tensors on it become unusable. Call initWebGPU() for a new one. */
  destroy(): void {
    for (const b of this.staging.splice(0)) b.destroy();
    if (this.lost === null) {
      this.submit();
      this.pool.trim();
    }
    this.lost ??= 'destroyed by destroy()';
    this.gpuDevice.destroy();
  }

  private bufferOf(storage: Storage): GPUBuffer {
    const buffer = this.buffers.get(storage.id);
    if (!buffer || storage.backend !== this)
      throw new Error(`webgpu: storage ${storage.id} does not belong to this device`);
    return buffer;
  }

  // ---- recording and submitting -----------------------------------------------------------

  dispatch(program: GpuProgram): void {
    const bytes = Math.max(4, program.params.length * 4);
    let offset = Math.ceil(this.paramsUsed / this.paramsAlign) * this.paramsAlign;
    if (offset + bytes > ARENA_BYTES) {
      this.submit();
      offset = 0;
    }
    this.paramsHost.set(program.params, offset / 4);
    this.paramsUsed = offset + bytes;

    const { pipeline, layout, groups } = this.pipelineFor(program);
    let key = `${bytes}`;
    for (const b of program.buffers) key += `:${this.bufferId(b.buffer)}`;
    let bindGroup = groups.get(key);
    if (!bindGroup) {
      bindGroup = this.gpuDevice.createBindGroup({
        layout,
        entries: [
          { binding: 0, resource: { buffer: this.paramsBuffer, offset: 0, size: bytes } },
          ...program.buffers.map((b, k) => ({ binding: k + 1, resource: { buffer: b.buffer } })),
        ],
      });
      groups.set(key, bindGroup);
      if (groups.size > GROUPS_KEPT) groups.delete(groups.keys().next().value!);
    }
    const pass = this.computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup, [offset]);
    const [x, y, z] =
      program.workgroups ?? this.grid(Math.ceil((program.threads ?? 0) / WORKGROUP));
    pass.dispatchWorkgroups(x, y, z);
    this.dispatches++;
    if (++this.pending >= this.maxBatch) this.submit();
  }

  copy(src: GPUBuffer, dst: GPUBuffer, bytes: number): void {
    if (bytes === 0) return;
    const encoder = this.commandEncoder();
    this.endPass();
    encoder.copyBufferToBuffer(src, 0, dst, 0, bytes);
    if (++this.pending >= this.maxBatch) this.submit();
  }

  /** A grid of `groups` workgroups: along x, spilling into y past the per-dimension limit. */
  grid(groups: number): [number, number, number] {
    if (groups <= this.maxGroups) return [groups, 1, 1];
    const y = Math.ceil(groups / this.maxGroups);
    return [Math.ceil(groups / y), y, 1];
  }

  private commandEncoder(): GPUCommandEncoder {
    this.encoder ??= this.gpuDevice.createCommandEncoder();
    return this.encoder;
  }

  private computePass(): GPUComputePassEncoder {
    this.pass ??= this.commandEncoder().beginComputePass();
    return this.pass;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  /** Submits the recorded commands, with this batch's parameter words written just before. */
  private submit(): void {
    if (!this.encoder) return;
    this.endPass();
    if (this.paramsUsed > 0)
      this.queue.writeBuffer(this.paramsBuffer, 0, this.paramsHost, 0, this.paramsUsed / 4);
    this.queue.submit([this.encoder.finish()]);
    this.encoder = null;
    this.pending = 0;
    this.paramsUsed = 0;
    this.submits++;
  }

  private bufferId(buffer: GPUBuffer): number {
    let id = this.bufferIds.get(buffer);
    if (id === undefined) {
      id = this.nextBufferId++;
      this.bufferIds.set(buffer, id);
    }
    return id;
  }

  private pipelineFor(program: GpuProgram): CachedPipeline {
    const cached = this.pipelines.get(program.key);
    if (cached) return cached;
    const device = this.gpuDevice;
    const layout = device.createBindGroupLayout({
      entries: [
        {
          binding: 0,
          visibility: SHADER_STAGE_COMPUTE,
          buffer: { type: 'read-only-storage', hasDynamicOffset: true },
        },
        ...program.buffers.map((b, k) => ({
          binding: k + 1,
          visibility: SHADER_STAGE_COMPUTE,
          buffer: { type: b.write ? ('storage' as const) : ('read-only-storage' as const) },
        })),
      ],
    });
    const code = program.source();
    device.pushErrorScope('validation');
    const module = device.createShaderModule({ code, label: program.key });
    const pipeline = device.createComputePipeline({
      label: program.key,
      layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
      compute: { module, entryPoint: 'main' },
    });
    void device.popErrorScope().then((error) => {
      if (error)
        this.fail(
          new WiregradError(`webgpu: kernel '${program.key}' failed to build: ${error.message}`),
        );
    });
    const entry = { pipeline, layout, groups: new Map<string, GPUBindGroup>() };
    this.pipelines.set(program.key, entry);
    return entry;
  }

  // ---- failures ---------------------------------------------------------------------------

  private fail(error: WiregradError): void {
    this.failure ??= error;
  }

  /** Throws a recorded asynchronous failure (once), or if the device is gone. */
  private checkUsable(op?: string): void {
    if (this.lost !== null)
      throw new WiregradError(
        `the WebGPU device was lost: ${this.lost}; re-run initWebGPU() (initNodeWebGPU() in ` +
          `Node) and recreate the tensors that lived on it, or carry on on the CPU`,
        { op },
      );
    const failure = this.failure;
    if (failure) {
      this.failure = null;
      throw failure;
    }
  }

  /** The error for the index-check words [code, index, position, bound], after clearing them. */
  private indexError(words: Uint32Array): WiregradError {
    this.submit();
    this.queue.writeBuffer(this.indexErrors, 0, new Uint32Array(4));
    const [code, index, position, bound] = words;
    const op =
      (Object.keys(IndexCheck) as (keyof typeof IndexCheck)[]).find(
        (k) => IndexCheck[k] === code,
      ) ?? 'unknown';
    const what = op === 'oneHot' ? `depth is ${bound}` : `the indexed axis has size ${bound}`;
    return new WiregradError(
      `index ${index! | 0} at flat position ${position} of the indices is out of range: ${what}, ` +
        `so indices must lie in [0, ${bound}). Found on device 'webgpu' when reading a later ` +
        `result: the op's output and everything computed from it are invalid`,
      { op },
    );
  }
}

/** writeBuffer may not take views of shared memory: copy those. */
function copyIfShared<T extends Float32Array | Int32Array | Uint32Array>(data: T): T {
  return data.buffer instanceof ArrayBuffer ? data : (data.slice() as T);
}

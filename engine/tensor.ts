/**
 * The Tensor: an n-dimensional array with a shape, a dtype and a device, holding a reference
 * to device storage (or, while tracing, standing for a value of a graph being built). Tensors
 * produced by differentiable ops on inputs that require gradients remember their producer
 * (the tape), which `backward()` walks in reverse. Ownership is explicit: a tensor lives until
 * `dispose()`, or until the `tidy` scope that created it ends.
 */

import type { Storage, DeviceName } from './backend/backend.js';
import { type DType, type TypedArray } from './core/dtype.js';
import { DisposedError, WiregradError, formatShape } from './core/errors.js';
import { type Shape, sizeOf } from './core/shape.js';
import type { OpDef } from './ops/registry.js';
import { state } from './runtime/state.js';
import { backward as runBackward, type BackwardOptions } from './autograd/backward.js';
import * as ops from './ops/index.js';
import { to as moveTo } from './runtime/devices.js';

/** What the tape remembers of the op that produced a tensor. */
export interface TapeEntry {
  readonly def: OpDef;
  readonly inputs: readonly Tensor[];
  readonly attrs: object;
}

/** Nested arrays of numbers or booleans, as `array()` returns and `tensor()` accepts. */
export type NestedArray = number | boolean | NestedArray[];

export class Tensor {
  readonly id: number;
  readonly shape: Shape;
  readonly dtype: DType;
  readonly size: number;
  /** @internal Device memory; null for a symbolic (traced) tensor. */
  storage: Storage | null;
  /** @internal The device a symbolic tensor is placed on. */
  private readonly symbolicDevice: DeviceName;
  /** Whether gradients flow to (and accumulate in `grad` of) this tensor. */
  requiresGrad = false;
  /** The accumulated gradient after `backward()`, for tensors that require it. */
  grad: Tensor | null = null;
  /** @internal The op that produced this tensor, when it is part of the tape. */
  producer: TapeEntry | null = null;
  /** @internal While tracing: the id of the graph node this tensor stands for. */
  traceNode: string | null = null;
  /** An optional name (parameter names, node names in traces). */
  name: string | undefined;
  private disposed = false;

  /** @internal Use `tensor()`, `zeros()` … or ops to make tensors. */
  constructor(shape: Shape, dtype: DType, storage: Storage | null, device: DeviceName) {
    this.id = state.nextTensorId++;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
    this.size = sizeOf(shape);
    this.storage = storage;
    this.symbolicDevice = device;
    if (storage) {
      state.liveTensors++;
      state.liveBytes += storage.refs === 1 ? storage.bytes : 0;
    }
    const scope = state.scopes[state.scopes.length - 1];
    scope?.add(this);
  }

  get device(): DeviceName {
    return this.storage ? this.storage.backend.device : this.symbolicDevice;
  }

  get rank(): number {
    return this.shape.length;
  }

  /** True for tensors that stand for graph values while tracing (they hold no data). */
  get isSymbolic(): boolean {
    return this.storage === null && !this.disposed;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** @internal Throws a DisposedError naming the op that tried to use this tensor. */
  assertAlive(op?: string): void {
    if (this.disposed)
      throw new DisposedError(
        `tensor #${this.id} ${formatShape(this.shape)} was disposed (explicitly, or by the tidy ` +
          `scope that created it) and cannot be used; return it from the scope or call keep()`,
        { op },
      );
  }

  /** Frees the storage (when no other tensor shares it). Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const s = this.storage;
    if (s) {
      state.liveTensors--;
      s.refs--;
      if (s.refs === 0) {
        state.liveBytes -= s.bytes;
        s.backend.release(s);
      }
      this.storage = null;
    }
    this.producer = null;
    for (const scope of state.scopes) scope.delete(this);
  }

  private requireStorage(what: string): Storage {
    this.assertAlive(what);
    if (!this.storage)
      throw new WiregradError(
        `cannot ${what} a symbolic tensor while tracing: a traced function must not read ` +
          `tensor values`,
      );
    return this.storage;
  }

  /** The values as a typed array (Float32Array, Float64Array, Int32Array or Uint8Array). */
  async data(): Promise<TypedArray> {
    const s = this.requireStorage('read');
    return s.backend.read(s, this.dtype, this.size);
  }

  /** Synchronous read; only on devices that allow it (the CPU). */
  dataSync(): TypedArray {
    const s = this.requireStorage('read');
    const out = s.backend.readSync(s, this.dtype, this.size);
    if (!out)
      throw new WiregradError(
        `device '${this.device}' cannot be read synchronously; use await t.data()`,
      );
    return out;
  }

  /** The values as nested arrays (booleans for bool tensors). */
  async array(): Promise<NestedArray> {
    return toNested(await this.data(), this.shape, this.dtype);
  }

  arraySync(): NestedArray {
    return toNested(this.dataSync(), this.shape, this.dtype);
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1)
      throw new WiregradError(`item() needs a one-element tensor, got ${formatShape(this.shape)}`);
    return this.dataSync()[0]!;
  }

  /**
   * Reverse-mode autodiff from this tensor (a scalar unless `gradient` is given): accumulates
   * into `grad` of every tensor that requires gradients and that this one depends on.
   */
  backward(gradient?: Tensor, options: BackwardOptions = {}): void {
    runBackward(this, gradient, options);
  }

  /**
   * Replaces this tensor's contents with `value`'s (same shape, dtype and device), taking over
   * its storage; `value` is disposed. Optimisers and running statistics update in place so.
   */
  assign(value: Tensor): this {
    this.assertAlive('assign');
    value.assertAlive('assign');
    if (value.dtype !== this.dtype || value.device !== this.device || value.size !== this.size)
      throw new WiregradError(
        `assign: value ${formatShape(value.shape)} ${value.dtype} on ${value.device} does not ` +
          `match ${formatShape(this.shape)} ${this.dtype} on ${this.device}`,
      );
    const mine = this.storage;
    const theirs = value.storage;
    if (!mine || !theirs) throw new WiregradError('assign: symbolic tensors cannot be assigned');
    theirs.refs++;
    state.liveBytes += theirs.refs === 1 ? theirs.bytes : 0;
    this.storage = theirs;
    mine.refs--;
    if (mine.refs === 0) {
      state.liveBytes -= mine.bytes;
      mine.backend.release(mine);
    }
    value.dispose();
    return this;
  }

  /** A tensor that shares this one's data but is cut from the tape. */
  detach(): Tensor {
    return ops.detach(this);
  }

  /**
   * A copy on `device` (this tensor itself when it is already there), through host memory;
   * asynchronous because GPU reads are. The copy is a new leaf (see runtime/devices.ts).
   */
  to(device: DeviceName): Promise<Tensor> {
    return moveTo(this, device);
  }

  toString(): string {
    return `Tensor(${formatShape(this.shape)}, ${this.dtype}, ${this.device}${
      this.requiresGrad ? ', requiresGrad' : ''
    })`;
  }

  // ---- ops as methods -------------------------------------------------------------------
  add(b: Tensor | number): Tensor {
    return ops.add(this, b);
  }
  sub(b: Tensor | number): Tensor {
    return ops.sub(this, b);
  }
  mul(b: Tensor | number): Tensor {
    return ops.mul(this, b);
  }
  div(b: Tensor | number): Tensor {
    return ops.div(this, b);
  }
  pow(b: Tensor | number): Tensor {
    return ops.pow(this, b);
  }
  maximum(b: Tensor | number): Tensor {
    return ops.maximum(this, b);
  }
  minimum(b: Tensor | number): Tensor {
    return ops.minimum(this, b);
  }
  equal(b: Tensor | number): Tensor {
    return ops.equal(this, b);
  }
  greater(b: Tensor | number): Tensor {
    return ops.greater(this, b);
  }
  less(b: Tensor | number): Tensor {
    return ops.less(this, b);
  }
  neg(): Tensor {
    return ops.neg(this);
  }
  exp(): Tensor {
    return ops.exp(this);
  }
  log(): Tensor {
    return ops.log(this);
  }
  sqrt(): Tensor {
    return ops.sqrt(this);
  }
  abs(): Tensor {
    return ops.abs(this);
  }
  tanh(): Tensor {
    return ops.tanh(this);
  }
  sigmoid(): Tensor {
    return ops.sigmoid(this);
  }
  relu(): Tensor {
    return ops.relu(this);
  }
  leakyRelu(alpha?: number): Tensor {
    return ops.leakyRelu(this, alpha);
  }
  gelu(): Tensor {
    return ops.gelu(this);
  }
  cast(dtype: DType): Tensor {
    return ops.cast(this, dtype);
  }
  sum(axis?: number | readonly number[], keepDims?: boolean): Tensor {
    return ops.sum(this, axis, keepDims);
  }
  mean(axis?: number | readonly number[], keepDims?: boolean): Tensor {
    return ops.mean(this, axis, keepDims);
  }
  max(axis?: number | readonly number[], keepDims?: boolean): Tensor {
    return ops.max(this, axis, keepDims);
  }
  min(axis?: number | readonly number[], keepDims?: boolean): Tensor {
    return ops.min(this, axis, keepDims);
  }
  argmax(axis?: number, keepDims?: boolean): Tensor {
    return ops.argmax(this, axis, keepDims);
  }
  reshape(shape: readonly number[]): Tensor {
    return ops.reshape(this, shape);
  }
  transpose(perm?: readonly number[]): Tensor {
    return ops.transpose(this, perm);
  }
  expand(shape: readonly number[]): Tensor {
    return ops.expand(this, shape);
  }
  slice(begin: readonly number[], size?: readonly number[]): Tensor {
    return ops.slice(this, begin, size);
  }
  pad(pads: ops.Pads, value?: number): Tensor {
    return ops.pad(this, pads, value);
  }
  gather(indices: Tensor, axis?: number): Tensor {
    return ops.gather(this, indices, axis);
  }
  squeeze(axis?: number | readonly number[]): Tensor {
    return ops.squeeze(this, axis);
  }
  unsqueeze(axis: number): Tensor {
    return ops.unsqueeze(this, axis);
  }
  flatten(startAxis?: number): Tensor {
    return ops.flatten(this, startAxis);
  }
  matmul(b: Tensor): Tensor {
    return ops.matmul(this, b);
  }
  softmax(axis?: number): Tensor {
    return ops.softmax(this, axis);
  }
  logSoftmax(axis?: number): Tensor {
    return ops.logSoftmax(this, axis);
  }
}

function toNested(data: TypedArray, shape: Shape, dtype: DType): NestedArray {
  const conv = dtype === 'bool' ? (v: number) => v !== 0 : (v: number) => v;
  if (shape.length === 0) return conv(data[0]!);
  const build = (dim: number, offset: number): NestedArray[] => {
    const n = shape[dim]!;
    const out: NestedArray[] = new Array<NestedArray>(n);
    if (dim === shape.length - 1) {
      for (let i = 0; i < n; i++) out[i] = conv(data[offset + i]!);
      return out;
    }
    let inner = 1;
    for (let d = dim + 1; d < shape.length; d++) inner *= shape[d]!;
    for (let i = 0; i < n; i++) out[i] = build(dim + 1, offset + i * inner);
    return out;
  };
  return build(0, 0);
}

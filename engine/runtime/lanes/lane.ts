/**
 * A lane: the worker side of the parallel executor. It wraps the main thread's shared
 * WebAssembly memory in an arena heap (scratch only; see heap.ts), builds its own CPU backend
 * with the same reference and WebAssembly kernels as the main thread's, and runs the tasks it
 * is sent on the given addresses, in order, answering each with `done` or `error`. It never
 * allocates tensors: outputs arrive allocated. Host-free: a worker entry passes an endpoint.
 */

import { Storage } from '../../backend/backend.js';
import { CpuBackend } from '../../backend/cpu/cpu-backend.js';
import { registerFastKernels } from '../../backend/cpu/fast.js';
import { Heap, HeapArenaExhausted } from '../../backend/cpu/heap.js';
import { registerCreationKernels } from '../../backend/cpu/kernels/creation.js';
import { registerElementwiseKernels } from '../../backend/cpu/kernels/elementwise.js';
import { registerMovementKernels } from '../../backend/cpu/kernels/movement.js';
import { registerNnKernels } from '../../backend/cpu/kernels/nn.js';
import { registerReduceKernels } from '../../backend/cpu/kernels/reduce.js';
import {
  type MatmulParams,
  type WasmKernels,
  createWasmKernels,
} from '../../backend/wasm/kernels.js';
import { sizeOf } from '../../core/shape.js';
import { registerFusedKernels } from '../../jit/cpu-kernel.js';
import type {
  LaneArena,
  LaneEndpoint,
  LaneErrorData,
  LaneRequest,
  LaneTensor,
} from './protocol.js';

/**
 * The CPU backend a lane runs: the kernel families of backend/cpu/index.ts (and the JIT's
 * fused kernels) over `heap`. Keep the list in step with what registers kernels on the main
 * thread's backend (a test compares the two backends' kernels op by op).
 */
export function createLaneBackend(heap: Heap): CpuBackend {
  const cpu = new CpuBackend(heap);
  registerElementwiseKernels(cpu);
  registerCreationKernels(cpu);
  registerReduceKernels(cpu);
  registerMovementKernels(cpu);
  registerNnKernels(cpu);
  registerFastKernels(cpu);
  registerFusedKernels(cpu);
  return cpu;
}

/** States of a shared matmul part's claim word. */
const FREE = 0;
const TAKEN = 1;
const DONE = 2;

/** The wall clock in milliseconds, comparable across threads (each has its own timeOrigin). */
function absoluteNow(): number {
  return performance.timeOrigin + performance.now();
}

function errorData(e: unknown): LaneErrorData {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const op = (e as { op?: unknown }).op;
  if (typeof op !== 'string') return { name: e.name, message: e.message };
  // WiregradError prefixes "op 'x': "; the main thread adds node and op again.
  const prefix = `op '${op}': `;
  const message = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
  return { name: e.name, message, op };
}

class Lane {
  private memory: WebAssembly.Memory | null = null;
  private backend: CpuBackend | null = null;
  private gemmKernels: WasmKernels | null = null;
  /** Control words: [0] written by the main thread before a task, [1] by this lane after. */
  private control: Int32Array | null = null;

  constructor(private readonly endpoint: LaneEndpoint) {}

  handle(request: LaneRequest): void {
    switch (request.type) {
      case 'init':
        this.init(request.memory, request.arena);
        return;
      case 'arena':
        this.useArena(request.arena);
        this.endpoint.postMessage({ type: 'arena-ok' });
        return;
      case 'run':
      case 'gemm':
        this.runTask(request);
        return;
      case 'close':
        this.endpoint.close();
        return;
      default:
        request satisfies never;
    }
  }

  private init(memory: WebAssembly.Memory, arena: LaneArena): void {
    try {
      this.memory = memory;
      this.useArena(arena);
      const backend = this.backend!;
      this.endpoint.postMessage({
        type: 'ready',
        info: {
          description: backend.description,
          fast: backend.fastKernelInfo?.startsWith('WebAssembly') ?? false,
          mr: this.gemm()?.tiling.mr ?? 1,
        },
      });
    } catch (e) {
      this.endpoint.postMessage({ type: 'init-failed', error: errorData(e) });
    }
  }

  /** A fresh backend over a new arena: the old kernels' scratch pointers die with the old one. */
  private useArena(arena: LaneArena): void {
    const memory = this.memory!;
    const heap = Heap.arena({ memory, base: arena.base, bytes: arena.bytes });
    this.backend = createLaneBackend(heap);
    this.gemmKernels = null;
    this.control = new Int32Array(memory.buffer, arena.control, 2);
  }

  private gemm(): WasmKernels | null {
    this.gemmKernels ??= createWasmKernels(this.backend!.heap);
    return this.gemmKernels;
  }

  /** Takes free parts in order until none is left (protocol.ts, 'gemm' with claims). */
  private sharedGemm(kernels: WasmKernels, parts: readonly MatmulParams[], claims: number): void {
    const words = new Int32Array(this.memory!.buffer, claims, parts.length);
    for (let i = 0; i < parts.length; i++) {
      if (Atomics.compareExchange(words, i, FREE, TAKEN) !== FREE) continue;
      try {
        kernels.matmul(parts[i]!);
      } catch (e) {
        Atomics.store(words, i, FREE);
        throw e;
      }
      Atomics.store(words, i, DONE);
    }
  }

  private runTask(request: Extract<LaneRequest, { type: 'run' | 'gemm' }>): void {
    const backend = this.backend!;
    const control = this.control!;
    // Reading what the main thread stored before posting makes its writes of the inputs
    // happen-before ours (ECMAScript memory model), whatever the message channel guarantees.
    Atomics.load(control, 0);
    const start = absoluteNow();
    try {
      if (request.type === 'run') {
        const arg = (t: LaneTensor) => ({
          storage: new Storage(backend, t.ptr, t.bytes),
          shape: t.shape,
          dtype: t.dtype,
          size: sizeOf(t.shape),
        });
        backend.variant = request.variant;
        backend.run(request.op, request.inputs.map(arg), arg(request.output), request.attrs);
      } else {
        const kernels = this.gemm();
        if (!kernels) throw new Error('gemm: this lane has no WebAssembly kernels');
        if (request.claims === undefined) for (const part of request.parts) kernels.matmul(part);
        else this.sharedGemm(kernels, request.parts, request.claims);
      }
    } catch (e) {
      if (e instanceof HeapArenaExhausted) {
        this.endpoint.postMessage({ type: 'arena-full', id: request.id, needed: e.needed });
        return;
      }
      this.endpoint.postMessage({ type: 'error', id: request.id, error: errorData(e) });
      return;
    }
    const end = absoluteNow();
    // Publishes the output: the main thread loads this word before reading it.
    Atomics.store(control, 1, request.id);
    this.endpoint.postMessage({ type: 'done', id: request.id, start, end });
  }
}

/** Serves lane requests on `endpoint` until `close`. */
export function serveLane(endpoint: LaneEndpoint): void {
  const lane = new Lane(endpoint);
  endpoint.onMessage((request) => lane.handle(request));
}

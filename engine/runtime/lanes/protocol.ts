/**
 * The messages between the executor's lane pool (main thread) and a lane (a worker). They are
 * plain data: tensors travel as heap addresses with shape and dtype, never as copies, because
 * every lane works in place on the main thread's shared WebAssembly memory. The main thread is
 * the only allocator: it hands each lane an arena for its kernels' scratch and the output
 * block of every task. A lane answers every task with `done`, `error` or `arena-full`, in
 * the order the tasks were posted.
 */

import type { DType } from '../../core/dtype.js';
import type { MatmulParams } from '../../backend/wasm/kernels.js';

/** One operand of a task: a block of the shared heap read as `dtype` elements of `shape`. */
export interface LaneTensor {
  readonly ptr: number;
  /** Bytes of the block (the kernel checks that the shape fits it). */
  readonly bytes: number;
  readonly shape: readonly number[];
  readonly dtype: DType;
}

/** Where a lane may allocate scratch, and its control words (see pool.ts). */
export interface LaneArena {
  /** 64 bytes of control words: [0] the main thread's sequence, [1] the lane's. */
  readonly control: number;
  readonly base: number;
  readonly bytes: number;
}

export type LaneRequest =
  | {
      readonly type: 'init';
      readonly lane: number;
      readonly memory: WebAssembly.Memory;
      readonly arena: LaneArena;
    }
  /** Replaces the scratch arena (after `arena-full`); the old one is no longer used. */
  | { readonly type: 'arena'; readonly arena: LaneArena }
  /** Runs op's CPU kernel (the variant named) on the inputs into the output. */
  | {
      readonly type: 'run';
      readonly id: number;
      readonly op: string;
      readonly inputs: readonly LaneTensor[];
      readonly output: LaneTensor;
      readonly attrs: object;
      readonly variant: 'fast' | 'reference';
    }
  /**
   * Runs these f32 matrix products (row blocks of a split matmul) with the WebAssembly kernel.
   * With `claims`, the heap address of one Int32 per part shared by every lane given the same
   * parts, the lanes share them out: a lane takes a part by moving its word from 0 (free) to
   * 1 (taken) and marks it 2 (done), or frees it again when its kernel fails (a retried task
   * then takes it), so a lane that starts late, or is slowed down, simply does fewer parts.
   */
  | {
      readonly type: 'gemm';
      readonly id: number;
      readonly parts: readonly MatmulParams[];
      readonly claims?: number;
    }
  | { readonly type: 'close' };

/** What a lane reports of itself once initialised. */
export interface LaneInfo {
  /** The CPU backend's description, e.g. "CPU (WebAssembly SIMD …; shared …)". */
  readonly description: string;
  /** Whether the WebAssembly kernels compiled (split matmuls need them). */
  readonly fast: boolean;
  /** Rows of the matmul micro-tile: row splits fall on multiples of it (bitwise equal results). */
  readonly mr: number;
}

/** A kernel's error, as data: its class name, message (without the op prefix) and op. */
export interface LaneErrorData {
  readonly name: string;
  readonly message: string;
  readonly op?: string;
}

export type LaneReply =
  | { readonly type: 'ready'; readonly info: LaneInfo }
  | { readonly type: 'init-failed'; readonly error: LaneErrorData }
  /** Times are absolute (timeOrigin + now) so that the main thread can place them on its clock. */
  | { readonly type: 'done'; readonly id: number; readonly start: number; readonly end: number }
  | { readonly type: 'error'; readonly id: number; readonly error: LaneErrorData }
  /** The lane now uses the arena of the last `arena` request. */
  | { readonly type: 'arena-ok' }
  /** The arena could not hold the task's scratch: give it at least `needed` bytes and retry. */
  | { readonly type: 'arena-full'; readonly id: number; readonly needed: number };

/** How a pool talks to one lane; a host (Node worker_threads, Web Workers) implements it. */
export interface LanePort {
  postMessage(message: LaneRequest): void;
  /** Registers the one handler of the lane's replies. */
  onMessage(handler: (reply: LaneReply) => void): void;
  /** Registers the handler called once if the lane dies (crash, exit, failed load). */
  onExit(handler: (error: Error) => void): void;
  /**
   * Whether the lane has work in flight. Hosts whose workers keep the process alive (Node)
   * hold a reference only while busy, so an unclosed pool does not stop a CLI from exiting.
   */
  setBusy?(busy: boolean): void;
  terminate(): Promise<void>;
}

/** Creates lanes; implemented per host (engine/node/lanes.ts, engine/worker/lanes.ts). */
export interface LaneHost {
  spawn(): LanePort;
  /** Logical cores, the default lane count. */
  readonly cores: number;
}

/** The lane side of a port: what a worker entry gives `serveLane`. */
export interface LaneEndpoint {
  postMessage(reply: LaneReply): void;
  onMessage(handler: (request: LaneRequest) => void): void;
  /** Ends the worker (after `close`). */
  close(): void;
}

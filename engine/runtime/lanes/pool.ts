/**
 * The lane pool: the main thread's side of the CPU lanes. It starts `n` lanes through a host
 * (worker_threads in Node, Web Workers in a browser), gives each the CPU heap's shared memory
 * and a scratch arena allocated from it, and runs tasks on them: `run(lane, task)` resolves
 * with the lane's start and end times (on this thread's `performance.now()` clock) or rejects
 * with the kernel's error. Each lane runs its tasks in the order they were posted, so the
 * executor may queue a step behind the one it depends on; the executor decides what goes where.
 *
 * The main thread stays the one allocator of the heap. When a kernel needs more scratch than
 * its lane's arena holds, the pool gives that lane a bigger arena and runs the task again
 * (kernels are pure functions of their inputs into a fresh output, so a retry is safe).
 * Before posting a task the pool stores a sequence number in the lane's control word, and
 * after a task it loads the lane's: these atomics order the tensor data between the threads
 * under the ECMAScript memory model, whatever the host's message channel guarantees.
 */

import type { CpuBackend } from '../../backend/cpu/cpu-backend.js';
import { cpuBackend } from '../../backend/cpu/index.js';
import type { MatmulParams } from '../../backend/wasm/kernels.js';
import { WiregradError } from '../../core/errors.js';
import type {
  LaneArena,
  LaneErrorData,
  LaneHost,
  LaneInfo,
  LanePort,
  LaneReply,
  LaneTensor,
} from './protocol.js';

/** A kernel call for a lane (see `LaneRequest` 'run'). */
export interface KernelTask {
  readonly type: 'run';
  readonly op: string;
  readonly inputs: readonly LaneTensor[];
  readonly output: LaneTensor;
  readonly attrs: object;
  readonly variant: 'fast' | 'reference';
}

/** Row blocks of a split matmul (see `LaneRequest` 'gemm'), shared out through `claims`. */
export interface GemmTask {
  readonly type: 'gemm';
  readonly parts: readonly MatmulParams[];
  readonly claims?: number;
}

export type LaneTask = KernelTask | GemmTask;

/** When a task ran on its lane, in milliseconds of this thread's `performance.now()`. */
export interface LaneTiming {
  readonly start: number;
  readonly end: number;
}

export interface LanePoolOptions {
  /** How many lanes (default: the host's core count). */
  readonly lanes?: number;
  /** Initial scratch arena per lane, in bytes (default 8 MiB; grown on demand). */
  readonly arenaBytes?: number;
}

/** Rebuilds a lane's error on this thread with its class where the engine has one. */
function laneError(data: LaneErrorData): Error {
  const site = data.op !== undefined ? { op: data.op } : {};
  if (data.name === 'RangeError') return new RangeError(data.message);
  if (data.name === 'TypeError') return new TypeError(data.message);
  const e = new WiregradError(data.message, site);
  // Keep the lane's class name (ShapeError, DTypeError …) for messages and checks by name.
  e.name = data.name;
  return e;
}

const CONTROL_BYTES = 64;
const MAX_ARENA_RETRIES = 4;

interface Pending {
  id: number;
  readonly task: LaneTask;
  readonly posted: number;
  readonly resolve: (timing: LaneTiming) => void;
  readonly reject: (error: Error) => void;
  retries: number;
}

/** One worker lane as the pool sees it. */
class LaneSlot {
  arena: LaneArena | null = null;
  info: LaneInfo | null = null;
  /** Posted tasks, oldest first: the lane runs and answers them in this order. */
  readonly queue: Pending[] = [];
  dead: Error | null = null;
  private nextId = 1;
  /** Arenas replaced while the lane may still run queued tasks in them (freed on its ack). */
  private retired: LaneArena[] = [];
  private ready: Promise<LaneInfo>;
  private readyResolve!: (info: LaneInfo) => void;
  private readyReject!: (error: Error) => void;

  constructor(
    readonly index: number,
    readonly port: LanePort,
    private readonly cpu: CpuBackend,
  ) {
    this.ready = new Promise((resolve, reject) => {
      this.readyResolve = resolve;
      this.readyReject = reject;
    });
    port.onMessage((reply) => this.onReply(reply));
    port.onExit((error) => this.onExit(error));
  }

  start(arenaBytes: number): Promise<LaneInfo> {
    this.arena = this.allocateArena(arenaBytes);
    this.port.setBusy?.(true);
    this.port.postMessage({
      type: 'init',
      lane: this.index,
      memory: this.cpu.heap.memory,
      arena: this.arena,
    });
    return this.ready;
  }

  private allocateArena(bytes: number): LaneArena {
    const control = this.cpu.heap.alloc(CONTROL_BYTES + bytes);
    return { control, base: control + CONTROL_BYTES, bytes };
  }

  private releaseArenas(): void {
    for (const arena of this.retired) this.cpu.heap.release(arena.control);
    this.retired = [];
    if (this.arena) this.cpu.heap.release(this.arena.control);
    this.arena = null;
  }

  private controlWords(): Int32Array {
    return new Int32Array(this.cpu.heap.buffer, this.arena!.control, 2);
  }

  run(task: LaneTask): Promise<LaneTiming> {
    if (this.dead) return Promise.reject(this.dead);
    return new Promise<LaneTiming>((resolve, reject) => {
      const p: Pending = { id: 0, task, posted: performance.now(), resolve, reject, retries: 0 };
      this.queue.push(p);
      this.port.setBusy?.(true);
      this.post(p);
    });
  }

  private post(p: Pending): void {
    p.id = this.nextId++;
    Atomics.store(this.controlWords(), 0, p.id);
    this.port.postMessage({ ...p.task, id: p.id });
  }

  /** Takes the task `id` off the queue (it is the oldest, as the lane answers in order). */
  private take(id: number): Pending | null {
    const head = this.queue[0];
    if (!head || head.id !== id) return null; // an answer to a task posted again since
    this.queue.shift();
    if (this.queue.length === 0) this.port.setBusy?.(false);
    return head;
  }

  private onReply(reply: LaneReply): void {
    switch (reply.type) {
      case 'ready':
        this.info = reply.info;
        this.port.setBusy?.(false);
        this.readyResolve(reply.info);
        return;
      case 'init-failed':
        this.port.setBusy?.(false);
        this.dead = laneError(reply.error);
        this.readyReject(this.dead);
        return;
      case 'arena-ok':
        // The lane has switched: nothing it runs from now on touches the old blocks.
        for (const arena of this.retired) this.cpu.heap.release(arena.control);
        this.retired = [];
        return;
      case 'done': {
        const p = this.take(reply.id);
        if (!p) return;
        Atomics.load(this.controlWords(), 1);
        const received = performance.now();
        // Lane clocks are absolute; clamp into [posted, received] against clock skew.
        const start = Math.min(Math.max(reply.start - performance.timeOrigin, p.posted), received);
        const end = Math.min(Math.max(reply.end - performance.timeOrigin, start), received);
        p.resolve({ start, end });
        return;
      }
      case 'error': {
        this.take(reply.id)?.reject(laneError(reply.error));
        return;
      }
      case 'arena-full': {
        const p = this.queue[0];
        if (!p || p.id !== reply.id) return;
        if (p.retries >= MAX_ARENA_RETRIES) {
          this.take(p.id);
          p.reject(new Error(`lane ${this.index}: kernel scratch of ${reply.needed} bytes`));
          return;
        }
        p.retries++;
        // A bigger arena; the old one is freed once the lane confirms the switch, because
        // tasks posted after this one may still run in it before the lane reads the message.
        const bytes = Math.max(2 * this.arena!.bytes, 2 * reply.needed);
        this.retired.push(this.arena!);
        this.arena = this.allocateArena(Math.ceil(bytes / 65536) * 65536);
        this.port.postMessage({ type: 'arena', arena: this.arena });
        // This task and every later one run again, in order (their old answers are ignored).
        for (const q of this.queue) this.post(q);
        return;
      }
      default:
        reply satisfies never;
    }
  }

  private rejectAll(error: Error): void {
    const queue = this.queue.splice(0);
    if (queue.length > 0) this.port.setBusy?.(false);
    for (const p of queue) p.reject(error);
  }

  private onExit(error: Error): void {
    if (this.dead) return;
    this.dead = new Error(`lane ${this.index} stopped: ${error.message}`, { cause: error });
    this.readyReject(this.dead);
    this.rejectAll(this.dead);
  }

  async close(): Promise<void> {
    if (!this.dead) {
      this.dead = new Error(`lane ${this.index} was closed`);
      this.port.postMessage({ type: 'close' });
    }
    await this.port.terminate();
    this.rejectAll(this.dead);
    // Only now can no kernel of this lane touch its arenas.
    this.releaseArenas();
  }
}

/**
 * Worker lanes over the CPU heap; see the file comment. Start with `LanePool.start(host)`
 * (engine/node/lanes.ts has `startNodeLanes`), close with `close()`.
 */
export class LanePool {
  private slots: LaneSlot[] = [];
  private shut = false;

  private constructor(
    private readonly host: LaneHost,
    private readonly cpu: CpuBackend,
    private readonly arenaBytes: number,
  ) {}

  /** Starts the lanes and waits until each has built its kernels. */
  static async start(host: LaneHost, options: LanePoolOptions = {}): Promise<LanePool> {
    const cpu = cpuBackend;
    if (!cpu.heap.shared)
      throw new WiregradError(
        'CPU lanes need the CPU heap in shared memory (SharedArrayBuffer), which this host ' +
          'does not allow; in a browser, serve the page cross-origin isolated (COOP/COEP ' +
          'headers), or run without lanes',
      );
    const pool = new LanePool(host, cpu, options.arenaBytes ?? 8 << 20);
    await pool.resize(options.lanes ?? host.cores);
    return pool;
  }

  /** Whether `close()` was called. */
  get closed(): boolean {
    return this.shut;
  }

  /** The number of lanes. */
  get size(): number {
    return this.slots.length;
  }

  /** What each lane reported when it started (kernel description, WebAssembly or not). */
  get info(): readonly LaneInfo[] {
    return this.slots.map((s) => s.info!);
  }

  /** Lanes that have not died (a crashed worker is left out of scheduling). */
  get alive(): number {
    return this.slots.filter((s) => !s.dead).length;
  }

  /** Whether lane `i` (0-based) can take tasks. */
  usable(i: number): boolean {
    const slot = this.slots[i];
    return slot !== undefined && slot.dead === null && slot.info !== null;
  }

  /** Sets the lane count: starts new lanes or closes the last ones (wait for runs first). */
  async resize(lanes: number): Promise<void> {
    if (this.shut) throw new WiregradError('the lane pool is closed; start a new one');
    if (!Number.isInteger(lanes) || lanes < 0)
      throw new WiregradError(`lanes must be an integer >= 0, got ${lanes}`);
    if (this.slots.some((s) => s.queue.length > 0))
      throw new WiregradError('cannot resize the lane pool while tasks run; await the run first');
    while (this.slots.length > lanes) await this.slots.pop()!.close();
    const started: Promise<LaneInfo>[] = [];
    const fresh: LaneSlot[] = [];
    while (this.slots.length + fresh.length < lanes) {
      const slot = new LaneSlot(this.slots.length + fresh.length, this.host.spawn(), this.cpu);
      fresh.push(slot);
      started.push(slot.start(this.arenaBytes));
    }
    this.slots.push(...fresh);
    const results = await Promise.allSettled(started);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) {
      const reason: unknown = failed.reason;
      await Promise.all(fresh.map((s) => s.close()));
      this.slots = this.slots.filter((s) => !fresh.includes(s));
      throw new WiregradError(
        `could not start CPU lanes: ${reason instanceof Error ? reason.message : String(reason)}`,
      );
    }
  }

  /**
   * Runs `task` on lane `i` (0-based). A lane runs its tasks in the order posted, so a task
   * may be posted before the one it reads from has finished on the same lane.
   */
  run(i: number, task: LaneTask): Promise<LaneTiming> {
    const slot = this.slots[i];
    if (!slot) return Promise.reject(new RangeError(`no lane ${i} (the pool has ${this.size})`));
    return slot.run(task);
  }

  /** Stops every lane and frees their arenas. Idempotent. */
  async close(): Promise<void> {
    if (this.shut) return;
    this.shut = true;
    const slots = this.slots;
    this.slots = [];
    await Promise.all(slots.map((s) => s.close()));
  }
}

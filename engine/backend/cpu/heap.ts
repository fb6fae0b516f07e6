/**
 * The CPU device's memory: one WebAssembly.Memory that holds every CPU tensor, so that the
 * reference TypeScript kernels (through typed-array views) and the WebAssembly SIMD kernels
 * (through pointers) work on the same bytes without copies. The memory is shared (backed by a
 * SharedArrayBuffer) wherever the host allows it, so worker lanes can later read it in place.
 *
 * Allocation uses exact-size free lists over 64-byte-aligned blocks: a training loop allocates
 * the same sizes step after step, so after the first step every request is served from a list.
 * Views must be taken afresh after any allocation, because growing a non-shared memory
 * detaches its old ArrayBuffer.
 *
 * A heap may also be an arena over an existing memory (`Heap.arena`): a worker lane wraps the
 * main thread's shared memory and allocates its kernels' scratch only inside a block the main
 * thread gave it, so the main thread stays the one allocator of the address space. An arena
 * never grows the memory; a request past its end throws `HeapArenaExhausted`, saying how much
 * it needed, and the owner gives the lane a bigger block.
 */

import { WiregradError, formatBytes } from '../../core/errors.js';

const PAGE = 65536;
const ALIGN = 64;
/** 4 GiB: the whole 32-bit address space, reserved but not committed. */
const MAX_PAGES = 65536;

/** Thrown by an arena heap (see `Heap.arena`) when a request does not fit in its block. */
export class HeapArenaExhausted extends RangeError {
  constructor(
    /** Bytes the arena would need to serve this request with what it holds now. */
    readonly needed: number,
    readonly arenaBytes: number,
  ) {
    super(`heap arena of ${arenaBytes} bytes exhausted: ${needed} bytes needed`);
    this.name = 'HeapArenaExhausted';
  }
}

/** The block an arena heap allocates in: `bytes` bytes from `base` of `memory`. */
export interface HeapArenaBlock {
  readonly memory: WebAssembly.Memory;
  readonly base: number;
  readonly bytes: number;
}

export class Heap {
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  private top = ALIGN; // address 0 is never handed out, so 0 can mean "none"
  private readonly free = new Map<number, number[]>();
  private readonly sizes = new Map<number, number>();
  private liveBytes = 0;
  /** The arena's block, when this heap is one (it then never grows the memory). */
  private readonly arenaBlock: HeapArenaBlock | null = null;

  /** An arena heap over a block of an existing memory; see the file comment. */
  static arena(block: HeapArenaBlock): Heap {
    return new Heap(0, block);
  }

  constructor(initialBytes = 16 << 20, arena?: HeapArenaBlock) {
    if (arena) {
      if (arena.base % ALIGN !== 0 || arena.bytes < 0)
        throw new RangeError(`heap arena: base ${arena.base} must be ${ALIGN}-byte aligned`);
      this.memory = arena.memory;
      this.shared =
        typeof SharedArrayBuffer !== 'undefined' &&
        arena.memory.buffer instanceof SharedArrayBuffer;
      this.arenaBlock = arena;
      this.top = arena.base;
      return;
    }
    const initial = Math.ceil(initialBytes / PAGE);
    let memory: WebAssembly.Memory;
    let shared = false;
    try {
      if (typeof SharedArrayBuffer === 'undefined') throw new Error('no SharedArrayBuffer');
      memory = new WebAssembly.Memory({ initial, maximum: MAX_PAGES, shared: true });
      shared = true;
    } catch {
      memory = new WebAssembly.Memory({ initial, maximum: MAX_PAGES });
    }
    this.memory = memory;
    this.shared = shared;
  }

  get buffer(): ArrayBufferLike {
    return this.memory.buffer;
  }

  /** The error for an allocation that cannot be met, in words a user can act on. */
  private outOfMemory(bytes: number, why: string): WiregradError {
    return new WiregradError(
      `the CPU device is out of memory: a tensor of ${formatBytes(bytes)} does not fit ` +
        `(${formatBytes(this.liveBytes)} in use; ${why}); make the model or the batch smaller`,
    );
  }

  /** Returns the address of a block of at least `bytes` bytes, aligned to 64. */
  alloc(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    const list = this.free.get(size);
    let ptr = list?.pop();
    if (ptr === undefined) {
      ptr = this.top;
      const end = ptr + size;
      const arena = this.arenaBlock;
      if (arena && end > arena.base + arena.bytes)
        throw new HeapArenaExhausted(this.liveBytes + size, arena.bytes);
      if (end > 0xffffffff) throw this.outOfMemory(bytes, 'the CPU device holds at most 4 GB');
      const have = this.memory.buffer.byteLength;
      if (end > have) {
        // Grow geometrically so that a growing model does not grow the memory op by op; if the
        // host refuses the doubling, ask for just what is needed.
        const pages = (to: number) => Math.ceil((to - have) / PAGE);
        const want = Math.max(end, Math.min(have * 2, MAX_PAGES * PAGE));
        try {
          this.memory.grow(pages(want));
        } catch {
          try {
            this.memory.grow(pages(end));
          } catch {
            throw this.outOfMemory(bytes, 'the host would not give the CPU device more memory');
          }
        }
      }
      this.top = end;
    }
    this.sizes.set(ptr, size);
    this.liveBytes += size;
    return ptr;
  }

  /** Returns a block to its free list. Freeing an unknown address is a bug and throws. */
  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new Error(`heap: release of unknown block ${ptr}`);
    this.sizes.delete(ptr);
    this.liveBytes -= size;
    if (this.arenaBlock && this.liveBytes === 0) {
      // An empty arena starts over, so scratch of varying sizes cannot fragment it for good.
      this.free.clear();
      this.top = this.arenaBlock.base;
      return;
    }
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(ptr);
  }

  /** Bytes in blocks currently handed out. */
  get allocatedBytes(): number {
    return this.liveBytes;
  }

  /** Bytes of the address space touched so far (live plus free lists). */
  get reservedBytes(): number {
    return this.arenaBlock ? this.top - this.arenaBlock.base : this.top;
  }

  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }
}

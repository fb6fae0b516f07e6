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
 */

const PAGE = 65536;
const ALIGN = 64;
/** 4 GiB: the whole 32-bit address space, reserved but not committed. */
const MAX_PAGES = 65536;

export class Heap {
  readonly memory: WebAssembly.Memory;
  readonly shared: boolean;
  private top = ALIGN; // address 0 is never handed out, so 0 can mean "none"
  private readonly free = new Map<number, number[]>();
  private readonly sizes = new Map<number, number>();
  private liveBytes = 0;

  constructor(initialBytes = 16 << 20) {
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

  /** Returns the address of a block of at least `bytes` bytes, aligned to 64. */
  alloc(bytes: number): number {
    const size = Math.max(ALIGN, Math.ceil(bytes / ALIGN) * ALIGN);
    const list = this.free.get(size);
    let ptr = list?.pop();
    if (ptr === undefined) {
      ptr = this.top;
      const end = ptr + size;
      if (end > 0xffffffff) throw new RangeError(`CPU heap exhausted allocating ${bytes} bytes`);
      const have = this.memory.buffer.byteLength;
      if (end > have) {
        // Grow geometrically so that a growing model does not grow the memory op by op.
        const want = Math.max(end, Math.min(have * 2, MAX_PAGES * PAGE));
        this.memory.grow(Math.ceil((want - have) / PAGE));
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
    return this.top;
  }

  f32(ptr: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, ptr, length);
  }
}

/**
 * GPU memory for tensors: storage buffers recycled by size class. Creating and destroying
 * GPUBuffers is slow and fragments device memory, while a training loop asks for the same sizes
 * step after step; so a released buffer goes back to a free list of its class and the next
 * request of that class takes it. Classes are 2^k·{1, 1.25, 1.5, 1.75} bytes (at least 16):
 * at most 25% of a buffer is slack.
 *
 * Recycling a buffer that queued GPU work still reads is safe because every use of a buffer
 * (dispatches, copies, queue writes) goes through the one queue, in order; the backend submits
 * pending work before it writes to a buffer from the host.
 */

/** The usage flags of GPUBufferUsage (numeric, so engine code needs no WebGPU globals). */
export const BufferUsage = {
  MAP_READ: 0x0001,
  COPY_SRC: 0x0004,
  COPY_DST: 0x0008,
  STORAGE: 0x0080,
} as const;

const MIN_BYTES = 16;

/** The capacity of the size class that holds `bytes`. */
export function sizeClass(bytes: number): number {
  const n = Math.max(MIN_BYTES, Math.ceil(bytes));
  const octave = 2 ** Math.floor(Math.log2(n));
  if (octave === n) return n;
  const quarter = octave / 4;
  return octave + Math.ceil((n - octave) / quarter) * quarter;
}

export interface PoolStats {
  /** Buffers handed out and not yet released. */
  readonly liveBuffers: number;
  /** Capacity of those buffers, in bytes. */
  readonly liveBytes: number;
  /** Released buffers kept for reuse. */
  readonly freeBuffers: number;
  readonly freeBytes: number;
  /** Buffers ever created (a flat count in a steady loop means every request was reused). */
  readonly created: number;
}

export class BufferPool {
  private readonly free = new Map<number, GPUBuffer[]>();
  private live = 0;
  private liveBytes = 0;
  private freeCount = 0;
  private freeBytes = 0;
  private created = 0;

  constructor(private readonly device: GPUDevice) {}

  /** A storage buffer of at least `bytes` bytes (contents undefined when reused). */
  acquire(bytes: number): GPUBuffer {
    const size = sizeClass(bytes);
    let buffer = this.free.get(size)?.pop();
    if (buffer) {
      this.freeCount--;
      this.freeBytes -= size;
    } else {
      buffer = this.device.createBuffer({
        size,
        usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST,
      });
      this.created++;
    }
    this.live++;
    this.liveBytes += size;
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    const size = buffer.size;
    let list = this.free.get(size);
    if (!list) this.free.set(size, (list = []));
    list.push(buffer);
    this.live--;
    this.liveBytes -= size;
    this.freeCount++;
    this.freeBytes += size;
  }

  /** Destroys the free buffers (after the work that used them has been submitted). */
  trim(): void {
    for (const list of this.free.values()) for (const b of list) b.destroy();
    this.free.clear();
    this.freeCount = 0;
    this.freeBytes = 0;
  }

  stats(): PoolStats {
    return {
      liveBuffers: this.live,
      liveBytes: this.liveBytes,
      freeBuffers: this.freeCount,
      freeBytes: this.freeBytes,
      created: this.created,
    };
  }
}

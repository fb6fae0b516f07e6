import { describe, expect, it, vi } from 'vitest';
import * as wg from '../../index.js';
import { WiregradError, formatBytes } from '../../core/errors.js';
import { Heap } from './heap.js';

describe('the CPU heap out of memory', () => {
  it('refuses a block past the 4 GB address space in words a user can act on', () => {
    const heap = new Heap(1 << 16);
    heap.alloc(1000);
    const attempt = () => heap.alloc(256 * 2 ** 30);
    expect(attempt).toThrow(WiregradError);
    expect(attempt).toThrow(
      /the CPU device is out of memory: a tensor of 256 GB does not fit \(1 KB in use; the CPU device holds at most 4 GB\); make the model or the batch smaller/,
    );
    expect(heap.alloc(64)).toBeGreaterThan(0); // still usable
  });

  it('says so when the host refuses to grow the memory, after trying the bare minimum', () => {
    const heap = new Heap(1 << 16);
    const grow = vi.spyOn(heap.memory, 'grow').mockImplementation(() => {
      throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
    });
    try {
      expect(() => heap.alloc(10 * 2 ** 20)).toThrow(
        /out of memory: a tensor of 10 MB does not fit .*the host would not give the CPU device more memory/,
      );
      expect(grow).toHaveBeenCalledTimes(2);
    } finally {
      grow.mockRestore();
    }
  });

  it('an op whose output cannot fit fails with that message and leaves the device working', () => {
    expect(() => wg.zeros([2 ** 20, 2 ** 11])).toThrow(/out of memory: a tensor of 8 GB/);
    expect(wg.tidy(() => wg.ones([3]).sum().item())).toBe(3);
  });

  it('formats byte counts for people', () => {
    expect([0, 1000, 1536, 256 * 2 ** 30, 3 * 2 ** 40].map(formatBytes)).toEqual([
      '0 bytes',
      '1000 bytes',
      '1.5 KB',
      '256 GB',
      '3 TB',
    ]);
  });
});

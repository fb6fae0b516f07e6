/**
 * A lost WebGPU device, through Dawn and SwiftShader in CI: after the GPUDevice is destroyed
 * underneath the engine (as a driver reset would), every op, creation and read on 'webgpu'
 * throws "the WebGPU device was lost: …; re-run initWebGPU()", `devices()` says it is lost, the
 * CPU device keeps working, and a fresh initNodeWebGPU() gives a working 'webgpu' again. A file
 * of its own: it breaks the device the other WebGPU tests share. No adapter is a failure.
 */

import { afterAll, describe, expect, it } from 'vitest';
import * as wg from '../../index.js';
import { initNodeWebGPU } from '../../node/webgpu.js';
import type { WebGPUBackend } from './index.js';

const LOST = /the WebGPU device was lost: .*; re-run initWebGPU\(\)/;

let fresh: WebGPUBackend | null = null;
afterAll(() => fresh?.destroy());

describe('a lost webgpu device', () => {
  it('gives a clear error on the next webgpu op; the CPU carries on; initWebGPU() recovers', async () => {
    const gpu = await initNodeWebGPU();
    const x = wg.tensor([1, 2, 3], { device: 'webgpu' });
    expect(Array.from(await x.mul(2).data())).toEqual([2, 4, 6]);
    expect(gpu.lostReason).toBeNull();

    // The device goes away underneath the engine, as in a driver reset.
    gpu.gpuDevice.destroy();
    const info = await gpu.gpuDevice.lost;
    expect(info.reason).toBe('destroyed');

    expect(() => x.add(1)).toThrow(LOST);
    expect(() => wg.tensor([1], { device: 'webgpu' })).toThrow(LOST);
    expect(() => wg.zeros([2], { device: 'webgpu' })).toThrow(LOST);
    await expect(x.data()).rejects.toThrow(LOST);
    const entry = wg.devices().find((d) => d.name === 'webgpu');
    expect(entry?.description).toMatch(/\(lost: /);
    // Disposing what lived on the lost device is allowed (and needed to free host memory).
    x.dispose();

    // The CPU is untouched: forward and backward.
    const w = wg.tensor([1, 2, 3], { requiresGrad: true });
    const loss = w.mul(w).sum();
    loss.backward();
    expect(Array.from(await loss.data())).toEqual([14]);
    expect(Array.from(await w.grad!.data())).toEqual([2, 4, 6]);
    wg.dispose([w, loss]);

    // A fresh device replaces the lost one.
    fresh = await initNodeWebGPU();
    expect(fresh.lostReason).toBeNull();
    const y = wg.tensor([1, 2, 3], { device: 'webgpu' });
    expect(Array.from(await y.add(1).data())).toEqual([2, 3, 4]);
    expect(wg.devices().find((d) => d.name === 'webgpu')?.description).not.toMatch(/lost/);
  }, 60_000);
});

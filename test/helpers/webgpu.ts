/**
 * Shared setup for the WebGPU-against-CPU tests (engine/backend/webgpu/*.test.ts): one Node
 * WebGPU backend (Dawn, engine/node/webgpu.ts) per test file, and the seeded data they compare
 * on. It lives here rather than beside the tests because it needs Node, which the engine
 * project does not type-check against.
 */

import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { WebGPUBackend } from '../../engine/backend/webgpu/index.js';
import { initNodeWebGPU } from '../../engine/node/webgpu.js';

/**
 * Registers the file's hooks: initialise WebGPU once, fail every test with the init error when
 * there is no adapter (a failure, never a skip: the error says what to install), destroy the
 * backend at the end. Returns a getter for the backend, valid inside tests.
 */
export function useNodeWebGPU(): () => WebGPUBackend {
  let gpu: WebGPUBackend | undefined;
  let initError: unknown = null;

  beforeAll(async () => {
    try {
      gpu = await initNodeWebGPU();
    } catch (e) {
      initError = e;
    }
  }, 60_000);

  beforeEach(() => {
    if (initError) throw initError;
  });

  afterAll(() => gpu?.destroy());

  return () => gpu!;
}

/** Deterministic data in [lo, hi) (mulberry32), independent of the engine. */
export function values(shape: readonly number[], seed: number, lo = -1, hi = 1): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = lo + (hi - lo) * (((t ^ (t >>> 14)) >>> 0) / 4294967296);
  }
  return out;
}

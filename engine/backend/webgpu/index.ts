/**
 * Starts the WebGPU device. The engine never looks for a GPU itself: the host gives it a `GPU`
 * object (`navigator.gpu` in a browser or worker, which is the default; in Node,
 * engine/node/webgpu.ts makes one with the `webgpu` package). `initWebGPU` asks it for an
 * adapter and a device, each within a time limit, so a missing or broken driver is a clear
 * "no WebGPU adapter" error and never a hang; then it registers every WebGPU kernel and the
 * backend as device 'webgpu'.
 *
 * Ops without a WebGPU kernel yet would be listed in WEBGPU_TODO (none at present); running one
 * on 'webgpu' is the dispatcher's "no kernel for op … on device 'webgpu'" error.
 */

import { WiregradError } from '../../core/errors.js';
import { registerBackend } from '../backend.js';
import { registerConvKernels } from './kernels/conv.js';
import { registerCreationKernels } from './kernels/creation.js';
import { registerElementwiseKernels } from './kernels/elementwise.js';
import { registerFusedKernel } from './kernels/fused.js';
import { registerMatmulKernel } from './kernels/matmul.js';
import { registerMovementKernels } from './kernels/movement.js';
import { registerNnKernels } from './kernels/nn.js';
import { registerPoolKernels } from './kernels/pool.js';
import { registerReduceKernels } from './kernels/reduce.js';
import { WebGPUBackend, type WebGPUBackendOptions } from './webgpu-backend.js';

export { WebGPUBackend, type WebGPUStats, type WebGPUBackendOptions } from './webgpu-backend.js';

/** Ops that still lack a WebGPU kernel (views and composite ops need none). */
export const WEBGPU_TODO: readonly string[] = [];

export interface InitWebGPUOptions extends WebGPUBackendOptions {
  /** How long the adapter and the device may each take to appear (default 10 s). */
  readonly timeoutMs?: number;
  /** Said after "no WebGPU adapter: …" (the host knows what to install). */
  readonly hint?: string;
  readonly powerPreference?: GPUPowerPreference;
}

/** Registers every WebGPU kernel on `gpu`. */
export function registerWebGPUKernels(gpu: WebGPUBackend): void {
  registerElementwiseKernels(gpu);
  registerCreationKernels(gpu);
  registerReduceKernels(gpu);
  registerMovementKernels(gpu);
  registerMatmulKernel(gpu);
  registerNnKernels(gpu);
  registerConvKernels(gpu);
  registerPoolKernels(gpu);
  registerFusedKernel(gpu);
}

/**
 * Initialises device 'webgpu' from `gpu` (default: `navigator.gpu`) and returns its backend.
 * Throws a WiregradError starting "no WebGPU adapter:" when none can be had in time.
 */
export async function initWebGPU(
  gpu?: GPU,
  options: InitWebGPUOptions = {},
): Promise<WebGPUBackend> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const hint = options.hint ? `; ${options.hint}` : '';
  const host = gpu ?? (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!host)
    throw new WiregradError(
      `no WebGPU adapter: this host has no navigator.gpu; pass a GPU object to initWebGPU()${hint}`,
    );
  const adapter = await withTimeout(
    host.requestAdapter(
      options.powerPreference ? { powerPreference: options.powerPreference } : {},
    ),
    timeoutMs,
    `no WebGPU adapter: requestAdapter() did not answer within ${timeoutMs} ms${hint}`,
  );
  if (!adapter)
    throw new WiregradError(
      `no WebGPU adapter: requestAdapter() found none (no driver, or WebGPU is disabled)${hint}`,
    );
  const limits = adapter.limits;
  const device = await withTimeout(
    adapter.requestDevice({
      // Ask for the adapter's full buffer sizes: the defaults (128/256 MiB) are small for models.
      requiredLimits: {
        maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
        maxBufferSize: limits.maxBufferSize,
        // Fused elementwise programs bind one buffer per input.
        maxStorageBuffersPerShaderStage: limits.maxStorageBuffersPerShaderStage,
        // Larger matmul tiles need more than the default 16 KiB of workgroup memory.
        maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
      },
    }),
    timeoutMs,
    `no WebGPU device: requestDevice() did not answer within ${timeoutMs} ms${hint}`,
  );
  const backend = new WebGPUBackend(host, adapter, device, describe(adapter), options);
  registerWebGPUKernels(backend);
  registerBackend(backend);
  return backend;
}

function describe(adapter: GPUAdapter): string {
  const info = adapter.info;
  const parts = [info.vendor, info.architecture, info.device, info.description].filter(
    (s, i, all) => s && all.indexOf(s) === i,
  );
  return `WebGPU (${parts.join(', ') || 'unnamed adapter'})`;
}

/** `promise`, or a WiregradError with `message` when it has not settled after `ms`. */
function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new WiregradError(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Builds the CPU backend with every reference kernel (and the WebAssembly fast kernels where
 * the host supports them) and registers it as the `cpu` device.
 */

import { registerBackend } from '../backend.js';
import { CpuBackend } from './cpu-backend.js';
import { registerFastKernels } from './fast.js';
import { registerCreationKernels } from './kernels/creation.js';
import { registerElementwiseKernels } from './kernels/elementwise.js';
import { registerMovementKernels } from './kernels/movement.js';
import { registerNnKernels } from './kernels/nn.js';
import { registerReduceKernels } from './kernels/reduce.js';

export function createCpuBackend(): CpuBackend {
  const cpu = new CpuBackend();
  registerElementwiseKernels(cpu);
  registerCreationKernels(cpu);
  registerReduceKernels(cpu);
  registerMovementKernels(cpu);
  registerNnKernels(cpu);
  registerFastKernels(cpu);
  return cpu;
}

export const cpuBackend = createCpuBackend();
registerBackend(cpuBackend);

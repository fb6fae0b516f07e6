/** Reference CPU kernels for the creation ops. */

import { normalAt, uniformAt } from '../../../core/random.js';
import type { CpuBackend } from '../cpu-backend.js';

export function registerCreationKernels(cpu: CpuBackend): void {
  cpu.registerReference<{ value: number }>('fill', (_, out, { value }) => out.data.fill(value));
  cpu.registerReference<{ start: number; step: number }>('arange', (_, out, { start, step }) => {
    const o = out.data;
    for (let i = 0; i < o.length; i++) o[i] = start + i * step;
  });
  cpu.registerReference<{ seed: number }>('randomUniform', (_, out, { seed }) => {
    const o = out.data;
    for (let i = 0; i < o.length; i++) o[i] = uniformAt(seed, i);
  });
  cpu.registerReference<{ seed: number }>('randomNormal', (_, out, { seed }) => {
    const o = out.data;
    for (let i = 0; i < o.length; i++) o[i] = normalAt(seed, i);
  });
}

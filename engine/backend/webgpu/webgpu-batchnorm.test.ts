/**
 * The `batchNorm` op and `batchNormUpdateStats` on WebGPU against the CPU: both are
 * compositions of primitive ops, so they need no kernel of their own and run on every device.
 * Forward values and the gradients of x, weight and bias in training and eval mode, and the
 * next running statistics. No adapter is a failure.
 */

import { describe, expect, it } from 'vitest';
import * as wg from '../../index.js';
import type { Tensor } from '../../index.js';
import { expectClose } from '../../../test/helpers/numeric.js';
import { useNodeWebGPU, values } from '../../../test/helpers/webgpu.js';

useNodeWebGPU();

const TOL = { rtol: 1e-4, atol: 1e-5 };

describe('batchNorm on webgpu matches the CPU', () => {
  for (const training of [true, false])
    it(`forward and gradients (${training ? 'training' : 'eval'})`, async () => {
      const shape = [3, 4, 5, 5];
      const inputs = [
        { data: values(shape, 1, -2, 3), shape, grad: true },
        { data: values([4], 2, 0.5, 2), shape: [4], grad: true },
        { data: values([4], 3), shape: [4], grad: true },
        { data: values([4], 4, -0.5, 0.5), shape: [4], grad: false },
        { data: values([4], 5, 0.5, 2), shape: [4], grad: false },
      ];
      const run = (device: wg.DeviceName): { y: Tensor; xs: Tensor[] } => {
        const xs = inputs.map((o) =>
          wg.tensor(o.data, { shape: o.shape, device, requiresGrad: o.grad }),
        );
        const y = wg.runOp('batchNorm', xs, { training, eps: 1e-5 });
        const w = wg.tensor(values(shape, 9, 0.5, 1.5), { shape, device });
        y.mul(w).sum().backward();
        return { y, xs };
      };
      const cpu = run('cpu');
      const gpu = run('webgpu');
      expect(gpu.y.device).toBe('webgpu');
      expectClose(await gpu.y.data(), cpu.y.dataSync(), TOL, 'forward');
      for (let k = 0; k < 3; k++)
        expectClose(await gpu.xs[k]!.grad!.data(), cpu.xs[k]!.grad!.dataSync(), TOL, `grad ${k}`);
      expect(gpu.xs[3]!.grad).toBeNull();
    });

  it('batchNormUpdateStats', async () => {
    const shape = [6, 3, 2, 2];
    const run = (device: wg.DeviceName) =>
      wg.ops.batchNormUpdateStats(
        wg.tensor(values(shape, 11, -1, 4), { shape, device }),
        wg.tensor(values([3], 12), { shape: [3], device }),
        wg.tensor(values([3], 13, 0.5, 2), { shape: [3], device }),
        0.3,
      );
    const cpu = run('cpu');
    const gpu = run('webgpu');
    expect(gpu.runningMean.device).toBe('webgpu');
    expectClose(await gpu.runningMean.data(), cpu.runningMean.dataSync(), TOL, 'mean');
    expectClose(await gpu.runningVar.data(), cpu.runningVar.dataSync(), TOL, 'var');
  });
});

/**
 * Regression and a model without labels trained on WebGPU (Dawn and SwiftShader in Node, as
 * train-session-mixed.test.ts), with a measured step every few: each loss is the CPU session's,
 * and the session reports the task's metrics, never an accuracy. No adapter is a failure.
 */

import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../graph/builder.js';
import type { GraphJSON } from '../graph/ir.js';
import { tensor } from '../ops/creation.js';
import type { TrainSessionConfig } from '../protocol/messages.js';
import { useNodeWebGPU } from '../../test/helpers/webgpu.js';
import { TrainSession } from './train-session.js';

useNodeWebGPU();

const ON_WEBGPU = { policy: 'webgpu', webgpu: true, note: null } as const;

const config: TrainSessionConfig = {
  optimizer: 'adam',
  lr: 0.02,
  batchSize: 16,
  epochs: 2,
  seed: 0,
  device: 'webgpu',
};

/** 2-D points through a 1-D code and back, MSE against the input. */
function autoencoderJSON(): GraphJSON {
  const b = new GraphBuilder('Point autoencoder');
  const x = b.input('x', [-1, 2], 'f32', 'data');
  const code = b.linear(b.op('tanh', [b.linear(x, 2, 8, 'enc')], {}, 'h'), 8, 1, 'code');
  const recon = b.linear(b.op('tanh', [b.linear(code, 1, 8, 'dec')], {}, 'g'), 8, 2, 'out');
  b.output('reconstruction', recon);
  b.output('loss', b.op('mseLoss', [recon, x], {}, 'loss'));
  return b.toJSON();
}

/** A linear regressor on 2 features, label [N, 1]. */
function regressorJSON(): GraphJSON {
  const b = new GraphBuilder('Regressor');
  const x = b.input('x', [-1, 2], 'f32', 'data');
  const y = b.input('y', [-1, 1], 'f32', 'label');
  const out = b.linear(x, 2, 1, 'head');
  b.output('output', out);
  b.output('loss', b.op('mseLoss', [out, y], {}, 'loss'));
  return b.toJSON();
}

/** Standardised points and targets t = a − 2b (exactly linear). */
function regressionSets() {
  const set = (n: number, offset: number) => {
    const x = Float32Array.from({ length: 2 * n }, (_, i) => Math.sin(i * 1.7 + offset));
    const y = Float32Array.from({ length: n }, (_, i) => x[2 * i]! - 2 * x[2 * i + 1]!);
    return {
      x: tensor(x, { shape: [n, 2], dtype: 'f32' }),
      y: tensor(y, { shape: [n, 1], dtype: 'f32' }),
      classes: 0,
    };
  };
  return { train: set(96, 0), validation: set(32, 0.5) };
}

/** The losses of `steps` queued steps (every third measured), and the final progress. */
async function losses(session: TrainSession, steps: number): Promise<number[]> {
  const out: number[] = [];
  for (let k = 0; k < steps; k++) {
    await session.queueStep(k % 3 === 0);
    out.push(session.progress('paused').loss!);
  }
  return out;
}

describe('other tasks than classification on WebGPU', () => {
  it('trains a model without labels with the CPU session’s losses, and no accuracy', async () => {
    const cpu = new TrainSession(
      autoencoderJSON(),
      'moons',
      { ...config, device: 'cpu' },
      {
        lanes: null,
      },
    );
    const gpu = new TrainSession(autoencoderJSON(), 'moons', config, {
      devices: ON_WEBGPU,
      lanes: null,
    });
    expect(gpu.asynchronous).toBe(true);
    const want = await losses(cpu, 8);
    const got = await losses(gpu, 8);
    for (const [i, loss] of got.entries()) expect(loss).toBeCloseTo(want[i]!, 4);
    const p = gpu.progress('paused');
    expect(p.task).toBe('reconstruction');
    expect(p.accuracy).toBeNull();
    expect(p.devices['enc']).toBe('webgpu');
    cpu.dispose();
    await gpu.idle();
    gpu.dispose();
  }, 60_000);

  it('trains a regression to R² near 1, reported with RMSE, on the device', async () => {
    const session = new TrainSession(
      regressorJSON(),
      'spiral',
      { ...config, epochs: 30 },
      {
        devices: ON_WEBGPU,
        lanes: null,
        data: regressionSets(),
      },
    );
    while (!session.allQueued) await session.queueStep();
    await session.idle();
    const p = session.progress('done');
    expect(p.task).toBe('regression');
    expect(p.accuracy).toBeNull();
    expect(p.validation!.r2!).toBeGreaterThan(0.95);
    expect(p.validation!.rmse!).toBeGreaterThan(0);
    session.dispose();
  }, 60_000);
});

/**
 * The Trainer on 'webgpu' (Dawn and SwiftShader in CI, as in engine/backend/webgpu): steps
 * queued with `stepQueued`, whose losses are read back asynchronously while later steps are
 * already queued, give the CPU trainer's losses within f32 tolerance, step for step, with Adam
 * and with SGD; the parameters end where the CPU's do; `evaluateQueued` agrees with the CPU's
 * `evaluate`; and queued steps keep the GPU's live tensors flat. No adapter is a failure.
 */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as wg from '../index.js';
import { expectClose } from '../../test/helpers/numeric.js';
import { useNodeWebGPU } from '../../test/helpers/webgpu.js';
import { type TrainConfig, Trainer, trainConfigOf } from './trainer.js';

const gpu = useNodeWebGPU();

const spiralGraph = (): wg.Graph =>
  wg.Graph.fromJSON(
    JSON.parse(readFileSync(new URL('../../examples/mlp-spiral.json', import.meta.url), 'utf8')),
  );

const STEPS = 20;

/** The first `steps` batches of a seeded spiral loader. */
function batches(steps: number, batchSize: number): { x: wg.Tensor; y: wg.Tensor }[] {
  const set = wg.data.spiral(96, { seed: 3 });
  const loader = new wg.data.DataLoader(new wg.data.TensorDataset(set.x, set.y), {
    batchSize,
    shuffle: true,
    seed: 5,
  });
  const out: { x: wg.Tensor; y: wg.Tensor }[] = [];
  for (let epoch = 0; out.length < steps; epoch++)
    for (const indices of loader.batchIndices(epoch)) {
      if (out.length === steps) break;
      const b = new wg.data.TensorDataset(set.x, set.y).getBatch(indices);
      out.push({ x: wg.keep(b.x), y: wg.keep(b.y) });
    }
  return out;
}

/** Losses of `steps` CPU steps and of the same steps queued on WebGPU, two in flight. */
async function bothDevices(
  overrides: Partial<TrainConfig>,
): Promise<{ cpu: number[]; gpu: number[]; cpuTrainer: Trainer; gpuTrainer: Trainer }> {
  const data = batches(STEPS, 16);
  const cpuGraph = spiralGraph();
  const cpuTrainer = new Trainer(cpuGraph, trainConfigOf(cpuGraph, overrides));
  const cpu = data.map((b) => cpuTrainer.step(b.x, b.y));

  const gpuGraph = spiralGraph();
  const gpuTrainer = new Trainer(gpuGraph, trainConfigOf(gpuGraph, overrides), {
    device: 'webgpu',
  });
  const losses: Promise<number>[] = [];
  for (const [i, b] of data.entries()) {
    // The loss of step i-2 is awaited only once step i is queued.
    if (i >= 2) await losses[i - 2];
    losses.push(gpuTrainer.stepQueued(b.x, b.y));
  }
  const gpuLosses = await Promise.all(losses);
  wg.dispose(data);
  return { cpu, gpu: gpuLosses, cpuTrainer, gpuTrainer };
}

describe('Trainer on webgpu', () => {
  it('queued Adam steps give the CPU losses within f32 tolerance over 20 steps', async () => {
    const {
      cpu,
      gpu: onGpu,
      cpuTrainer,
      gpuTrainer,
    } = await bothDevices({
      batchSize: 16,
      optimizer: { type: 'adam', lr: 0.01 },
    });
    expect(gpu().device).toBe('webgpu');
    expect([...gpuTrainer.params.values()].every((p) => p.device === 'webgpu')).toBe(true);
    expect(gpuTrainer.stepCount).toBe(STEPS);
    expectClose(onGpu, cpu, { rtol: 1e-4, atol: 1e-5 }, 'losses');
    expect(cpu[STEPS - 1]!).toBeLessThan(cpu[0]!); // it trained, on both
    for (const [id, p] of cpuTrainer.params)
      expectClose(
        await gpuTrainer.params.get(id)!.data(),
        p.dataSync(),
        { rtol: 1e-3, atol: 1e-4 },
        `parameter ${id}`,
      );
  }, 60_000);

  it('queued SGD steps with momentum give the CPU losses', async () => {
    const { cpu, gpu: onGpu } = await bothDevices({
      batchSize: 16,
      optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9 },
    });
    expectClose(onGpu, cpu, { rtol: 1e-4, atol: 1e-5 }, 'losses');
  }, 60_000);

  it('evaluateQueued on webgpu matches evaluate on the CPU', async () => {
    const set = wg.data.spiral(90, { seed: 2 });
    const cpuGraph = spiralGraph();
    const cpuTrainer = new Trainer(cpuGraph, trainConfigOf(cpuGraph));
    const gpuGraph = spiralGraph();
    const gpuTrainer = new Trainer(gpuGraph, trainConfigOf(gpuGraph), { device: 'webgpu' });
    const expected = cpuTrainer.evaluate(set.x, set.y, 32);
    const got = await gpuTrainer.evaluateQueued(set.x, set.y, 32);
    expect(got.count).toBe(90);
    expect(got.accuracy).toBe(expected.accuracy);
    expectClose([got.loss], [expected.loss], { rtol: 1e-5 }, 'loss');
    // The CPU trainer reads the same way through evaluateQueued (its sums in f32).
    const queuedOnCpu = await cpuTrainer.evaluateQueued(set.x, set.y, 32);
    expect(queuedOnCpu.accuracy).toBe(expected.accuracy);
    expectClose([queuedOnCpu.loss], [expected.loss], { rtol: 1e-6 }, 'loss on the CPU');
  }, 60_000);

  it('queued steps keep live tensors flat', async () => {
    const graph = spiralGraph();
    const trainer = new Trainer(graph, trainConfigOf(graph, { batchSize: 16 }), {
      device: 'webgpu',
    });
    const data = batches(4, 16);
    let after: wg.MemoryInfo | null = null;
    for (let i = 0; i < 40; i++) {
      const b = data[i % data.length]!;
      await trainer.stepQueued(b.x, b.y);
      if (i === 5) after = wg.memory();
    }
    expect(wg.memory().tensors).toBe(after!.tensors);
    wg.dispose(data);
  }, 60_000);
});

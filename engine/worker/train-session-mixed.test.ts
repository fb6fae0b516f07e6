/**
 * Training sessions on a mixed placement (one node pinned to the CPU, the rest on WebGPU
 * through Dawn and SwiftShader): a measured step reports the gradient along every edge, as the
 * CPU session measures it, and a lanes timeline with the CPU's ops on lane 0, the GPU's on the
 * GPU queue's lane and the transfers between them; measured steps keep live tensors flat; batch
 * norm's running statistics follow the CPU session's. No adapter is a failure.
 */

import { describe, expect, it } from 'vitest';
import type { GraphJSON } from '../graph/ir.js';
import { GraphBuilder, memory } from '../index.js';
import { expectClose } from '../../test/helpers/numeric.js';
import type { TrainSessionConfig } from '../protocol/messages.js';
import { GPU_QUEUE_LANE } from '../train/device-trainer.js';
import { useNodeWebGPU } from '../../test/helpers/webgpu.js';
import { TrainSession } from './train-session.js';
import { spiralJSON } from '../../test/helpers/examples.js';

useNodeWebGPU();

/** The spiral MLP with relu1 pinned to the CPU. */
function mixedJSON(): GraphJSON {
  const json = spiralJSON();
  return {
    ...json,
    nodes: json.nodes.map((n) => (n.id === 'relu1' ? { ...n, device: 'cpu' as const } : n)),
  };
}

const config: TrainSessionConfig = {
  optimizer: 'adam',
  lr: 0.02,
  batchSize: 32,
  epochs: 2,
  seed: 0,
  device: 'webgpu',
};

const ON_WEBGPU = { policy: 'webgpu', webgpu: true, note: null } as const;

describe('a training session on a mixed placement', () => {
  it("measures each edge's gradient as the CPU session does", async () => {
    const cpu = new TrainSession(mixedJSON(), 'spiral', { ...config, device: 'cpu' });
    const mixed = new TrainSession(mixedJSON(), 'spiral', config, { devices: ON_WEBGPU });
    cpu.step(true);
    await mixed.queueStep(true);
    const want = cpu.progress('paused');
    const got = mixed.progress('paused');
    expect(got.devices['relu1']).toBe('cpu');
    expect(got.devices['fc1']).toBe('webgpu');
    expect(got.edges.map((e) => [e.from, e.to, e.port])).toEqual(
      want.edges.map((e) => [e.from, e.to, e.port]),
    );
    expect(got.edges.filter((e) => e.norm !== null).length).toBeGreaterThanOrEqual(6);
    for (const [i, e] of got.edges.entries()) {
      const expected = want.edges[i]!.norm;
      if (expected === null) expect(e.norm, `${e.from} → ${e.to}`).toBeNull();
      else
        expect(Math.abs(e.norm! - expected), `${e.from} → ${e.to}`).toBeLessThan(
          1e-4 * expected + 1e-6,
        );
    }
    expect(got.loss).toBeCloseTo(want.loss!, 5);
    expect(got.viewStep).toBe(1);
    cpu.dispose();
    await mixed.idle();
    mixed.dispose();
  }, 60_000);

  it('shows the CPU and the GPU queue as lanes, with the transfers between them', async () => {
    const session = new TrainSession(mixedJSON(), 'spiral', config, { devices: ON_WEBGPU });
    await session.queueStep(true);
    const { timeline } = session.progress('paused');
    const lanesOf = (node: string): Set<number> =>
      new Set(timeline.filter((e) => e.node === node).map((e) => e.lane));
    expect(lanesOf('relu1')).toEqual(new Set([0]));
    expect(lanesOf('fc1')).toEqual(new Set([GPU_QUEUE_LANE]));
    expect(timeline.filter((e) => e.lane === 0).every((e) => e.device === 'cpu')).toBe(true);
    expect(timeline.some((e) => e.device === 'webgpu' && e.phase === 'backward')).toBe(true);
    expect(timeline.some((e) => e.phase === 'optimizer')).toBe(true);
    const transfers = timeline.filter((e) => e.op === 'transfer');
    expect(transfers.map((e) => e.node)).toEqual(
      expect.arrayContaining(['fc1@cpu', 'relu1@webgpu']),
    );
    // Times count from the step's start and every bar has a length of zero or more.
    expect(timeline.every((e) => e.start >= 0 && e.end >= e.start)).toBe(true);
    await session.idle();
    session.dispose();
  }, 60_000);

  it('measured and plain steps keep live tensors flat', async () => {
    const session = new TrainSession(mixedJSON(), 'spiral', config, { devices: ON_WEBGPU });
    const run = async (): Promise<number[]> => {
      const losses: number[] = [];
      for (let i = 0; i < 4; i++) {
        await session.queueStep(i % 2 === 0);
        losses.push(session.progress('paused').loss!);
      }
      return losses;
    };
    const first = await run();
    const live = memory().tensors;
    session.reset();
    expect(await run()).toEqual(first);
    expect(memory().tensors).toBe(live);
    await session.idle();
    session.dispose();
  }, 60_000);

  it("updates batch norm's running statistics as the CPU session does", async () => {
    const b = new GraphBuilder('bn mlp');
    const x = b.input('x', [-1, 2], 'f32', 'data');
    const y = b.input('y', [-1], 'i32', 'label');
    const w = b.parameter('bn.weight', [2], { init: 'ones' });
    const bias = b.parameter('bn.bias', [2], { init: 'zeros' });
    const rm = b.parameter('bn.running_mean', [2], { init: 'zeros', trainable: false });
    const rv = b.parameter('bn.running_var', [2], { init: 'ones', trainable: false });
    const h = b.op('batchNorm', [x, w, bias, rm, rv], { training: true, momentum: 0.1 }, 'bn');
    const a = b.op('relu', [b.linear(h, 2, 16, 'fc1')], {}, 'relu');
    const logits = b.linear(a, 16, 3, 'fc2');
    b.output('logits', logits);
    b.output('loss', b.op('crossEntropy', [logits, y], {}, 'loss'));
    const json = b.build().toJSON();
    const pinned = {
      ...json,
      nodes: json.nodes.map((n) => (n.id === 'relu' ? { ...n, device: 'cpu' as const } : n)),
    };
    const cpu = new TrainSession(json, 'spiral', { ...config, device: 'cpu' });
    const mixed = new TrainSession(pinned, 'spiral', config, { devices: ON_WEBGPU });
    const STEPS = 8;
    for (let i = 0; i < STEPS; i++) {
      cpu.step(i % 3 === 0);
      // The last step is observed, so the session's CPU copies are read back after it.
      await mixed.queueStep(i % 3 === 0 || i === STEPS - 1);
    }
    expect(mixed.progress('paused').devices).toMatchObject({ relu: 'cpu', fc1: 'webgpu' });
    for (const id of ['bn.running_mean', 'bn.running_var']) {
      const want = cpu.params.get(id)!.dataSync();
      // The CPU session moved them from their initial zeros (mean) and ones (variance).
      const initial = id.endsWith('mean') ? 0 : 1;
      expect(Array.from(want).some((v) => Math.abs(v - initial) > 0.01)).toBe(true);
      expectClose(mixed.params.get(id)!.dataSync(), want, { rtol: 1e-4, atol: 1e-5 }, id);
    }
    cpu.dispose();
    await mixed.idle();
    mixed.dispose();
  }, 60_000);
});

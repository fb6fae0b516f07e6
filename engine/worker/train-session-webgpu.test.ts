/**
 * Training sessions on WebGPU and on mixed placements (Dawn and SwiftShader in CI): a session
 * under the WebGPU policy steps asynchronously, reports every node on 'webgpu', trains, and
 * validates on its parameters copied back; one node pinned to the CPU makes a mixed placement
 * whose crossing edges come with their bytes; a session whose worker found no WebGPU trains on
 * the CPU and says why; and a host without navigator.gpu gives that reason at once, never a
 * hang. No adapter is a failure.
 */

import { describe, expect, it } from 'vitest';
import { memory } from '../index.js';
import type { TrainProgress, TrainSessionConfig } from '../protocol/messages.js';
import { useNodeWebGPU } from '../../test/helpers/webgpu.js';
import { TrainRunner, TrainSession } from './train-session.js';
import { measureCostModel } from '../placement/cost-model.js';
import { prepareTrainingDevices } from './training-device.js';
import { spiralJSON } from '../../test/helpers/examples.js';

useNodeWebGPU();

const config: TrainSessionConfig = {
  optimizer: 'adam',
  lr: 0.02,
  batchSize: 32,
  epochs: 4,
  seed: 0,
  device: 'webgpu',
};

const ON_WEBGPU = { policy: 'webgpu', webgpu: true, note: null } as const;

/** Plays `session` to its end; resolves with every progress sent. */
function playToEnd(session: TrainSession): Promise<TrainProgress[]> {
  return new Promise((resolve, reject) => {
    const sent: TrainProgress[] = [];
    const runner = new TrainRunner(
      session,
      (p) => {
        sent.push(p);
        if (p.status === 'failed') reject(new Error(p.error));
        if (p.status === 'done') resolve(sent);
      },
      (task) => void setTimeout(task, 0),
    );
    runner.play();
  });
}

describe('a training session on webgpu', () => {
  it('steps asynchronously, reports webgpu on every node, trains and validates', async () => {
    const session = new TrainSession(spiralJSON(), 'spiral', config, {
      size: 192,
      devices: ON_WEBGPU,
    });
    expect(session.asynchronous).toBe(true);
    expect(() => session.step()).toThrow(/use queueStep/);
    const sent = await playToEnd(session);
    const last = sent.at(-1)!;
    expect(last.step).toBe(session.totalSteps);
    expect(last.devices['fc1']).toBe('webgpu');
    expect(last.devices['loss']).toBe('webgpu');
    expect(last.transfers).toBeUndefined();
    // The lanes timeline shows the ops the step queued on the GPU, forward and backward.
    expect(last.timeline.some((e) => e.device === 'webgpu' && e.phase === 'backward')).toBe(true);
    const losses = sent.flatMap((p) => (p.loss === null ? [] : [p.loss]));
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    expect(last.validation?.step).toBe(session.totalSteps);
    expect(last.validation!.accuracy).toBeGreaterThan(0.4);
    // The CPU copies the views read are the trained parameters.
    expect([...session.params.values()].every((p) => p.device === 'cpu')).toBe(true);
    session.dispose();
  }, 60_000);

  it('queueStep takes exactly one step, read back asynchronously', async () => {
    const session = new TrainSession(spiralJSON(), 'spiral', config, { devices: ON_WEBGPU });
    const pending = session.queueStep(true);
    expect(session.stepCount).toBe(0); // not read back yet
    expect(session.inFlightSteps).toBe(1);
    await pending;
    expect(session.stepCount).toBe(1);
    expect(session.progress('paused').loss).toBeGreaterThan(0);
    await session.idle();
    session.dispose();
  }, 60_000);

  it('reset starts again from the same seeds, and steps keep live tensors flat', async () => {
    const session = new TrainSession(spiralJSON(), 'spiral', config, { devices: ON_WEBGPU });
    const run = async (): Promise<number[]> => {
      const losses: number[] = [];
      for (let i = 0; i < 4; i++) {
        await session.queueStep(i === 0);
        losses.push(session.progress('paused').loss!);
      }
      return losses;
    };
    const first = await run();
    const live = memory().tensors;
    session.reset();
    expect(session.stepCount).toBe(0);
    expect(await run()).toEqual(first);
    expect(memory().tensors).toBe(live);
    session.dispose();
  }, 60_000);

  it('measures the gradient along every edge on the device, as the CPU session does', async () => {
    const cpu = new TrainSession(spiralJSON(), 'spiral', { ...config, device: 'cpu' });
    const gpuSession = new TrainSession(spiralJSON(), 'spiral', config, { devices: ON_WEBGPU });
    cpu.step(true);
    await gpuSession.queueStep(true);
    const want = cpu.progress('paused');
    const got = gpuSession.progress('paused');
    expect(got.edges.map((e) => [e.from, e.to, e.port])).toEqual(
      want.edges.map((e) => [e.from, e.to, e.port]),
    );
    for (const [i, e] of got.edges.entries()) {
      const expected = want.edges[i]!.norm;
      if (expected === null) expect(e.norm, `${e.from} → ${e.to}`).toBeNull();
      else
        expect(Math.abs(e.norm! - expected), `${e.from} → ${e.to}`).toBeLessThan(
          1e-4 * expected + 1e-6,
        );
    }
    expect(got.loss).toBeCloseTo(want.loss!, 5);
    expect(got.accuracy).toBe(want.accuracy);
    cpu.dispose();
    await gpuSession.idle();
    gpuSession.dispose();
  }, 60_000);

  it('a node pinned to the CPU gives a mixed placement with transfer edges', async () => {
    const json = spiralJSON();
    const graph = {
      ...json,
      nodes: json.nodes.map((n) => (n.id === 'relu1' ? { ...n, device: 'cpu' as const } : n)),
    };
    const session = new TrainSession(
      graph,
      'spiral',
      { ...config, epochs: 1 },
      {
        size: 96,
        devices: ON_WEBGPU,
      },
    );
    const sent = await playToEnd(session);
    const last = sent.at(-1)!;
    expect(last.devices['relu1']).toBe('cpu');
    expect(last.devices['fc2']).toBe('webgpu');
    expect(last.transfers).toEqual([
      {
        from: 'fc1',
        to: 'relu1',
        port: 0,
        fromDevice: 'webgpu',
        toDevice: 'cpu',
        bytes: 32 * 64 * 4,
      },
      {
        from: 'relu1',
        to: 'fc2',
        port: 0,
        fromDevice: 'cpu',
        toDevice: 'webgpu',
        bytes: 32 * 64 * 4,
      },
    ]);
    expect(Number.isFinite(last.loss)).toBe(true);
    session.dispose();
  }, 60_000);

  it('auto places each node by the measured cost model and trains there', async () => {
    const devices = {
      policy: 'auto',
      webgpu: true,
      costModel: await measureCostModel(),
      note: null,
    } as const;
    const session = new TrainSession(
      spiralJSON(),
      'spiral',
      { ...config, device: 'auto' },
      {
        size: 64,
        devices,
      },
    );
    const sent = await playToEnd(session);
    const last = sent.at(-1)!;
    expect(last.step).toBe(session.totalSteps);
    const placed = new Set(Object.values(last.devices));
    expect([...placed].every((d) => d === 'cpu' || d === 'webgpu')).toBe(true);
    expect(session.asynchronous).toBe(placed.has('webgpu'));
    expect(Number.isFinite(last.loss)).toBe(true);
    await session.idle();
    session.dispose();
  }, 60_000);

  it('without WebGPU it trains on the CPU and says why', async () => {
    // No navigator.gpu in Node: the worker's own preparation reports it, without waiting.
    const devices = await prepareTrainingDevices('webgpu', {});
    expect(devices.policy).toBe('cpu');
    expect(devices.note).toMatch(
      /^WebGPU is not available, so training runs on the CPU\. No WebGPU adapter/,
    );
    const session = new TrainSession(spiralJSON(), 'spiral', config, { devices });
    expect(session.asynchronous).toBe(false);
    session.step();
    const p = session.progress('paused');
    expect(p.devices['fc1']).toBe('cpu');
    expect(p.deviceNote).toBe(devices.note);
    session.dispose();
  });
});

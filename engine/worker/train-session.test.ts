import { describe, expect, it } from 'vitest';
import * as wg from '../index.js';
import type { TrainProgress, TrainSessionConfig } from '../protocol/messages.js';
import { Trainer } from '../train/trainer.js';
import { createInProcessEngineClient } from './in-process.js';
import { TrainSession, makeDataset, trainConfigFrom } from './train-session.js';
import { spiralJSON } from '../../test/helpers/examples.js';

const config: TrainSessionConfig = {
  optimizer: 'adam',
  lr: 0.01,
  batchSize: 32,
  epochs: 60,
  seed: 0,
};

/** Resolves with the first streamed progress that satisfies `done`. */
function waitFor(
  client: ReturnType<typeof createInProcessEngineClient>,
  done: (p: TrainProgress) => boolean,
): Promise<TrainProgress> {
  return new Promise((resolve) => {
    const off = client.onTrainProgress((p) => {
      if (done(p)) {
        off();
        resolve(p);
      }
    });
  });
}

describe('a training session', () => {
  it('one step equals a Trainer step from the same state, bit for bit', () => {
    const session = new TrainSession(spiralJSON(), 'spiral', config);
    const trainer = new Trainer(wg.Graph.fromJSON(spiralJSON()), trainConfigFrom(config));
    const set = makeDataset('spiral', 300, 0);
    for (let k = 0; k < 3; k++) {
      const indices = session.nextBatchIndices();
      const loss = wg.tidy(() => {
        const idx = wg.tensor(indices, { dtype: 'i32' });
        return trainer.step(set.x.gather(idx, 0), set.y.gather(idx, 0));
      });
      session.step();
      expect(session.stepCount).toBe(k + 1);
      expect(session.progress('paused').loss).toBe(loss);
    }
    for (const [id, p] of trainer.params)
      expect(Array.from(session.params.get(id)!.dataSync()), id).toEqual(Array.from(p.dataSync()));
    session.dispose();
  });

  it('names every forward edge with a gradient norm, and each node’s device and lanes', () => {
    const session = new TrainSession(spiralJSON(), 'spiral', config);
    session.step();
    const p = session.progress('paused');
    const graph = wg.Graph.fromJSON(spiralJSON());
    const expected = graph.nodes.flatMap((n) =>
      n.inputs.map((from, port) => `${from}->${n.id}:${port}`),
    );
    expect(p.edges.map((e) => `${e.from}->${e.to}:${e.port}`).sort()).toEqual(expected.sort());
    const norm = (from: string, to: string) =>
      p.edges.find((e) => e.from === from && e.to === to)!.norm;
    // Gradient flows into parameters and hidden activations, not into data or labels.
    expect(norm('fc1.weight', 'fc1')).toBeGreaterThan(0);
    expect(norm('relu1', 'fc2')).toBeGreaterThan(0);
    expect(norm('x', 'fc1')).toBeNull();
    expect(norm('y', 'loss')).toBeNull();
    // A parameter with one consumer: its edge carries exactly its gradient.
    const grad = session.params.get('fc3.bias')!.grad!;
    expect(norm('fc3.bias', 'fc3')).toBeCloseTo(Math.hypot(...grad.dataSync()), 12);
    expect(p.devices['fc1']).toBe('cpu');
    const phases = new Set(p.timeline.map((e) => e.phase));
    expect([...phases].sort()).toEqual(['backward', 'forward', 'optimizer']);
    expect(p.timeline.some((e) => e.node === 'grad:fc1')).toBe(true);
    expect(p.timeline.every((e) => e.end >= e.start && e.start >= 0)).toBe(true);
    session.dispose();
  });

  it('keeps live tensors flat from step to step, and reset draws the parameters again', () => {
    const session = new TrainSession(spiralJSON(), 'spiral', config);
    let after10: wg.MemoryInfo | null = null;
    for (let k = 1; k <= 60; k++) {
      session.step();
      if (k === 10) after10 = wg.memory();
    }
    expect(wg.memory().tensors).toBe(after10!.tensors);
    const before = Array.from(session.params.get('fc1.weight')!.dataSync());
    session.reset();
    expect(session.stepCount).toBe(0);
    const fresh = new TrainSession(spiralJSON(), 'spiral', config);
    expect(Array.from(session.params.get('fc1.weight')!.dataSync())).toEqual(
      Array.from(fresh.params.get('fc1.weight')!.dataSync()),
    );
    expect(Array.from(session.params.get('fc1.weight')!.dataSync())).not.toEqual(before);
    session.dispose();
    fresh.dispose();
  });
});

describe('training over the worker protocol', () => {
  it('trains the spiral MLP to > 90% validation accuracy, streaming throttled progress', async () => {
    const client = createInProcessEngineClient();
    const seen: TrainProgress[] = [];
    client.onTrainProgress((p) => seen.push(p));
    const finished = waitFor(client, (p) => p.status === 'done');
    const started = await client.startTraining(spiralJSON(), 'spiral', { ...config, epochs: 40 });
    expect(started.progress.step).toBe(0);
    const last = await finished;
    expect(last.step).toBe(last.totalSteps);
    expect(last.totalSteps).toBe(40 * Math.ceil(300 / 32));
    expect(last.validation!.accuracy).toBeGreaterThan(0.9);
    expect(last.remainingMs).toBe(0);
    // Throttled: far fewer messages than steps, each with the step's summary.
    expect(seen.length).toBeLessThan(last.totalSteps / 2);
    expect(seen.every((p) => p.edges.length > 0)).toBe(true);
    client.close();
  }, 60_000);

  it('train/step advances exactly one step; pause stops progress; reset returns to 0', async () => {
    const client = createInProcessEngineClient();
    const { progress } = await client.startTraining(spiralJSON(), 'moons', config, {
      paused: true,
    });
    expect(progress.status).toBe('paused');
    const one = await client.controlTraining('train/step');
    expect(one.step).toBe(1);
    expect(one.loss).toBeGreaterThan(0);
    const two = await client.controlTraining('train/step');
    expect(two.step).toBe(2);

    await client.controlTraining('train/resume');
    await waitFor(client, (p) => p.step >= 20);
    const paused = await client.controlTraining('train/pause');
    expect(paused.status).toBe('paused');
    // Several later tasks pass; no step is taken while paused.
    for (let i = 0; i < 5; i++) await new Promise((r) => setTimeout(r, 5));
    expect((await client.controlTraining('train/pause')).step).toBe(paused.step);

    const reset = await client.controlTraining('train/reset');
    expect(reset.step).toBe(0);
    expect(reset.loss).toBeNull();
    expect((await client.controlTraining('train/stop')).status).toBe('stopped');
    await expect(client.controlTraining('train/step')).rejects.toThrow(/stopped/);
    client.close();
  });

  it('refuses an unknown data set and a bad config with a message', async () => {
    const client = createInProcessEngineClient();
    await expect(client.startTraining(spiralJSON(), 'nope' as 'spiral', config)).rejects.toThrow(
      /unknown data set 'nope'/,
    );
    await expect(client.startTraining(spiralJSON(), 'xor', { ...config, lr: -1 })).rejects.toThrow(
      /optimizer.lr must be a positive number/,
    );
    client.close();
  });
});

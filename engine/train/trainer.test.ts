import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as wg from '../index.js';
import { Trainer, trainConfigOf } from './trainer.js';

const spiralGraph = (): wg.Graph =>
  wg.Graph.fromJSON(
    JSON.parse(readFileSync(new URL('../../examples/mlp-spiral.json', import.meta.url), 'utf8')),
  );

describe('Trainer', () => {
  it('1,000 training steps keep live tensors and bytes flat', () => {
    const graph = spiralGraph();
    const trainer = new Trainer(graph, trainConfigOf(graph, { batchSize: 16 }));
    const set = wg.data.spiral(160, { seed: 1 });
    const loader = new wg.data.DataLoader(new wg.data.TensorDataset(set.x, set.y), {
      batchSize: 16,
      shuffle: true,
    });
    let steps = 0;
    // Both measured inside the loop, while the loader holds the current batch.
    let after10: wg.MemoryInfo | null = null;
    let end: wg.MemoryInfo | null = null;
    let first = NaN;
    let last = NaN;
    while (steps < 1000)
      for (const b of loader) {
        last = trainer.step(b.x, b.y);
        if (steps === 0) first = last;
        if (++steps === 10) after10 = wg.memory();
        if (steps === 1000) {
          end = wg.memory();
          break;
        }
      }
    expect(end!.tensors).toBe(after10!.tensors);
    expect(end!.bytes).toBe(after10!.bytes);
    expect(last).toBeLessThan(first / 4); // it did train
  }, 60_000);

  it('evaluate reports loss and accuracy without recording gradients', () => {
    const graph = spiralGraph();
    const trainer = new Trainer(graph, trainConfigOf(graph));
    const set = wg.data.spiral(90, { seed: 2 });
    const before = wg.memory();
    const r = trainer.evaluate(set.x, set.y, 32);
    expect(r.count).toBe(90);
    expect(r.accuracy).toBeGreaterThanOrEqual(0);
    expect(r.accuracy).toBeLessThanOrEqual(1);
    expect(r.loss).toBeGreaterThan(0.5); // untrained: near ln 3
    expect(wg.memory()).toEqual(before);
  });

  it('evaluates a regression (f32 labels) by RMSE instead of accuracy', () => {
    const b = new wg.GraphBuilder('identity regression');
    const x = b.input('x', [-1, 1], 'f32', 'data');
    const y = b.input('y', [-1, 1], 'f32', 'label');
    // out = x · scale with scale initialised to 1: a trainable graph that predicts x.
    const scale = b.parameter('scale', [1], { init: 'ones' });
    const out = b.op('mul', [x, scale], {}, 'out');
    b.output('output', out);
    b.output('loss', b.op('mseLoss', [out, y], {}, 'loss'));
    const g = b.build();
    const trainer = new Trainer(g, trainConfigOf(g));
    // Errors 0, 0, 2 over batches of 2 and 1: mean squared error 4/3, RMSE √(4/3).
    const r = trainer.evaluate(wg.tensor([[1], [2], [3]]), wg.tensor([[1], [2], [5]]), 2);
    expect(r.count).toBe(3);
    expect(r.loss).toBeCloseTo(4 / 3, 6);
    expect(r.rmse).toBeCloseTo(Math.sqrt(4 / 3), 6);
    expect(r.accuracy).toBeNaN();
  });

  it('refuses a graph without the training inputs and outputs, saying what is missing', () => {
    const b = new wg.GraphBuilder('no labels');
    const x = b.input('x', [-1, 2], 'f32', 'data');
    b.output('logits', b.linear(x, 2, 2, 'fc'));
    const g = b.build();
    expect(() => new Trainer(g, trainConfigOf(g))).toThrow(/role 'data' and one with role 'label'/);
  });

  it('rejects a training config it cannot honour, naming the field', () => {
    const graph = spiralGraph();
    expect(() =>
      trainConfigOf(graph, { optimizer: { type: 'rmsprop' as 'sgd', lr: 0.1 } }),
    ).toThrow(/optimizer.type 'rmsprop' is not one of sgd, adam, adamw/);
    expect(() => trainConfigOf(graph, { epochs: 0 })).toThrow(/epochs must be a positive integer/);
    expect(() => trainConfigOf(graph, { schedule: { type: 'warmup' as 'step' } })).toThrow(
      /schedule.type 'warmup'/,
    );
  });

  it('evaluates in eval mode: dropout is the identity, so evaluation is deterministic', () => {
    const build = (p: number): wg.Graph => {
      const b = new wg.GraphBuilder('dropout mlp');
      const x = b.input('x', [-1, 2], 'f32', 'data');
      const y = b.input('y', [-1], 'i32', 'label');
      const h = b.op('dropout', [b.op('relu', [b.linear(x, 2, 16, 'fc1')])], { p, seed: 3 });
      const logits = b.linear(h, 16, 3, 'fc2');
      b.output('logits', logits);
      b.output('loss', b.op('crossEntropy', [logits, y], {}, 'loss'));
      return b.build();
    };
    const set = wg.data.spiral(60, { seed: 4 });
    const withDropout = new Trainer(build(0.5), trainConfigOf(build(0.5)));
    const without = new Trainer(build(0), trainConfigOf(build(0)));
    const a = withDropout.evaluate(set.x, set.y);
    expect(withDropout.evaluate(set.x, set.y)).toEqual(a);
    expect(a.loss).toBe(without.evaluate(set.x, set.y).loss);
  });
});

import { describe, expect, it } from 'vitest';
import * as wg from '../index.js';
import type { Tensor } from '../index.js';
import { expectClose } from '../../test/helpers/numeric.js';
import { TrainSession, makeDataset, trainConfigFrom } from '../worker/train-session.js';
import type { TrainSessionConfig } from '../protocol/messages.js';
import { Trainer } from './trainer.js';
import { runningStatsNodes } from './running-stats.js';

/** x [N, 3] → batchNorm (running statistics as non-trainable parameters) → linear → loss. */
function bnGraph(training: boolean, momentum = 0.2): wg.Graph {
  const b = new wg.GraphBuilder('bn mlp');
  const x = b.input('x', [-1, 3], 'f32', 'data');
  const y = b.input('y', [-1], 'i32', 'label');
  const w = b.parameter('bn.weight', [3], { init: 'ones' });
  const bias = b.parameter('bn.bias', [3], { init: 'zeros' });
  const rm = b.parameter('bn.running_mean', [3], { init: 'zeros', trainable: false });
  const rv = b.parameter('bn.running_var', [3], { init: 'ones', trainable: false });
  const h = b.op('batchNorm', [x, w, bias, rm, rv], { training, momentum }, 'bn');
  const logits = b.linear(h, 3, 2, 'fc');
  b.output('logits', logits);
  b.output('loss', b.op('crossEntropy', [logits, y], {}, 'loss'));
  return b.build();
}

const batches = (): { x: Tensor; y: Tensor }[] =>
  [0, 1, 2].map((k) => ({
    x: wg
      .randn([8, 3], { seed: 100 + k })
      .mul(1 + k)
      .add(k - 1),
    y: wg.tensor(
      Int32Array.from({ length: 8 }, (_, i) => (i + k) % 2),
      { shape: [8] },
    ),
  }));

describe("batch norm's running statistics in trained graphs", () => {
  it('the trainer updates them from each batch as PyTorch, and the optimiser leaves them be', () => {
    const graph = bnGraph(true);
    expect(runningStatsNodes(graph).map((s) => s.node)).toEqual(['bn']);
    // AdamW decays every parameter it holds: the running statistics must not be among them.
    const trainer = new Trainer(graph, {
      epochs: 1,
      batchSize: 8,
      seed: 0,
      optimizer: { type: 'adamw', lr: 0.05, weightDecay: 0.5 },
    });
    const weightBefore = Array.from(trainer.params.get('bn.weight')!.dataSync());
    let mean = wg.zeros([3]);
    let variance = wg.ones([3]);
    for (const { x, y } of batches()) {
      trainer.step(x, y);
      const next = wg.ops.batchNormUpdateStats(x, mean, variance, 0.2);
      mean = next.runningMean;
      variance = next.runningVar;
    }
    expectClose(trainer.params.get('bn.running_mean')!.dataSync(), mean.dataSync(), {
      rtol: 1e-6,
      atol: 1e-7,
    });
    expectClose(trainer.params.get('bn.running_var')!.dataSync(), variance.dataSync(), {
      rtol: 1e-6,
      atol: 1e-7,
    });
    expect(Array.from(mean.dataSync()).some((v) => Math.abs(v) > 0.1)).toBe(true);
    // The learnable weight did train.
    expect(Array.from(trainer.params.get('bn.weight')!.dataSync())).not.toEqual(weightBefore);
    // Evaluation runs the node in eval mode, on those statistics.
    const probe = wg.randn([4, 3], { seed: 9 });
    const { logits } = graph.run(
      { x: probe, y: wg.zeros([4], { dtype: 'i32' }) },
      { params: trainer.params, training: false },
    );
    const normed = wg.ops.batchNormPure(
      probe,
      trainer.params.get('bn.weight')!,
      trainer.params.get('bn.bias')!,
      mean,
      variance,
      { training: false },
    );
    const ref = wg.ops.linear(
      normed,
      trainer.params.get('fc.weight')!,
      trainer.params.get('fc.bias')!,
    );
    expectClose(logits!.dataSync(), ref.dataSync(), { rtol: 1e-5, atol: 1e-6 });
  });

  it('a node in eval mode keeps its statistics, and trainable: false survives JSON', () => {
    const graph = bnGraph(false);
    expect(runningStatsNodes(graph)).toEqual([]);
    const again = wg.Graph.fromJSON(graph.toJSON());
    expect(again.node('bn.running_var').attrs).toMatchObject({ trainable: false });
    const trainer = new Trainer(again, {
      epochs: 1,
      batchSize: 8,
      seed: 0,
      optimizer: { type: 'sgd', lr: 0.1 },
    });
    for (const { x, y } of batches()) trainer.step(x, y);
    expect(Array.from(trainer.params.get('bn.running_mean')!.dataSync())).toEqual([0, 0, 0]);
    expect(Array.from(trainer.params.get('bn.running_var')!.dataSync())).toEqual([1, 1, 1]);
  });

  it('keeps a parameter marked trainable: false out of the optimiser even with a gradient', () => {
    const b = new wg.GraphBuilder('frozen scale');
    const x = b.input('x', [-1, 1], 'f32', 'data');
    const y = b.input('y', [-1, 1], 'f32', 'label');
    const frozen = b.parameter('frozen', [1], { init: 'constant', value: 2, trainable: false });
    const free = b.parameter('free', [1], { init: 'ones' });
    const out = b.op('mul', [b.op('mul', [x, frozen], {}, 'scaled'), free], {}, 'out');
    b.output('output', out);
    b.output('loss', b.op('mseLoss', [out, y], {}, 'loss'));
    const trainer = new Trainer(b.build(), {
      epochs: 1,
      batchSize: 4,
      seed: 0,
      optimizer: { type: 'sgd', lr: 0.05 },
    });
    const xs = wg.tensor([[1], [2], [3], [4]]);
    for (let i = 0; i < 5; i++) trainer.step(xs, xs.mul(3));
    expect(Array.from(trainer.params.get('frozen')!.dataSync())).toEqual([2]);
    expect(trainer.params.get('free')!.item()).toBeGreaterThan(1.2);
  });

  it("the app's training session updates them exactly as the trainer does", () => {
    const b = new wg.GraphBuilder('bn spiral');
    const x = b.input('x', [-1, 2], 'f32', 'data');
    const y = b.input('y', [-1], 'i32', 'label');
    const p = (name: string, init: 'ones' | 'zeros', trainable?: false) =>
      b.parameter(`bn.${name}`, [2], { init, ...(trainable === false ? { trainable } : {}) });
    const h = b.op(
      'batchNorm',
      [
        x,
        p('weight', 'ones'),
        p('bias', 'zeros'),
        p('running_mean', 'zeros', false),
        p('running_var', 'ones', false),
      ],
      { training: true, momentum: 0.1 },
      'bn',
    );
    const logits = b.linear(h, 2, 3, 'fc');
    b.output('logits', logits);
    b.output('loss', b.op('crossEntropy', [logits, y], {}, 'loss'));
    const json = b.toJSON();
    const config: TrainSessionConfig = {
      optimizer: 'sgd',
      lr: 0.1,
      batchSize: 16,
      epochs: 2,
      seed: 0,
    };
    const session = new TrainSession(json, 'spiral', config);
    const trainer = new Trainer(wg.Graph.fromJSON(json), trainConfigFrom(config));
    const set = makeDataset('spiral', 300, 0);
    for (let k = 0; k < 3; k++) {
      const indices = session.nextBatchIndices();
      wg.tidy(() => {
        const idx = wg.tensor(indices, { dtype: 'i32' });
        trainer.step(set.x.gather(idx, 0), set.y.gather(idx, 0));
      });
      session.step();
    }
    for (const id of ['bn.running_mean', 'bn.running_var', 'bn.weight', 'fc.weight'])
      expect(Array.from(session.params.get(id)!.dataSync()), id).toEqual(
        Array.from(trainer.params.get(id)!.dataSync()),
      );
    expect(Array.from(session.params.get('bn.running_var')!.dataSync())).not.toEqual([1, 1]);
    session.dispose();
  });

  it('rejects a trainable attribute that is not a boolean, naming the node', () => {
    const json = bnGraph(true).toJSON();
    const nodes = json.nodes.map((n) =>
      n.id === 'bn.running_var' ? { ...n, attrs: { ...n.attrs, trainable: 'no' } } : n,
    );
    expect(() => wg.Graph.fromJSON({ ...json, nodes })).toThrow(/bn\.running_var.*trainable/);
  });
});

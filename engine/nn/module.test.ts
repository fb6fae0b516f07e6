import { describe, expect, it } from 'vitest';
import * as wg from '../index.js';
import type { Tensor } from '../index.js';
import { expectClose } from '../../test/helpers/numeric.js';
import {
  BatchNorm2d,
  Conv2d,
  Dropout,
  Embedding,
  Flatten,
  LayerNorm,
  Linear,
  Module,
  ReLU,
  Sequential,
} from './index.js';

/** A model with nested submodules, as a user would write one. */
class Net extends Module {
  readonly features: Sequential;
  readonly head: Linear;
  constructor() {
    super();
    this.features = this.registerModule(
      'features',
      new Sequential(
        new Conv2d(1, 2, 3, { seed: 1 }),
        new BatchNorm2d(2),
        new ReLU(),
        new Flatten(),
      ),
    );
    this.head = this.registerModule('head', new Linear(8, 3, { seed: 2 }));
  }
  forward(x: Tensor): Tensor {
    return this.head.forward(this.features.forward(x));
  }
}

describe('Module', () => {
  it('names parameters with dotted paths in registration order', () => {
    const net = new Net();
    expect(net.namedParameters().map(([n, t]) => `${n} [${t.shape.join(',')}]`)).toEqual([
      'features.0.weight [2,1,3,3]',
      'features.0.bias [2]',
      'features.1.weight [2]',
      'features.1.bias [2]',
      'head.weight [3,8]',
      'head.bias [3]',
    ]);
    expect(net.parameters().every((p) => p.requiresGrad)).toBe(true);
    expect(net.parameterCount()).toBe(18 + 2 + 2 + 2 + 24 + 3);
  });

  it('stateDict holds parameters then buffers per module, with PyTorch’s names', () => {
    expect([...new Net().stateDict().keys()]).toEqual([
      'features.0.weight',
      'features.0.bias',
      'features.1.weight',
      'features.1.bias',
      'features.1.running_mean',
      'features.1.running_var',
      'features.1.num_batches_tracked',
      'head.weight',
      'head.bias',
    ]);
  });

  it('train() and eval() set the mode of every descendant', () => {
    const net = new Net();
    net.eval();
    expect(net.namedModules().map(([, m]) => m.training)).toEqual(Array(7).fill(false));
    net.train();
    expect(net.namedModules().every(([, m]) => m.training)).toBe(true);
  });

  it('parameters outlive the tidy scope the module was built in', () => {
    const before = wg.memory().tensors;
    const net = wg.tidy(() => new Net());
    expect(wg.memory().tensors - before).toBe(9);
    const y = net.forward(wg.rand([2, 1, 4, 4], { seed: 3 }));
    expect(y.shape).toEqual([2, 3]);
    net.dispose();
    y.dispose();
  });

  it('loadStateDict copies values, leaving the source usable', () => {
    const a = new Net();
    const b = new Net();
    b.head.weight.assign(wg.ops.mul(b.head.weight, 2));
    const state = b.stateDict();
    const result = a.loadStateDict(state);
    expect(result).toEqual({ missingKeys: [], unexpectedKeys: [] });
    for (const [k, t] of a.stateDict())
      expect(Array.from(t.dataSync())).toEqual(Array.from(state.get(k)!.dataSync()));
    b.dispose();
    expect(a.head.weight.dataSync().length).toBe(24); // still alive after b is freed
  });

  it('loadStateDict names missing and unexpected keys and shape mismatches, and loads nothing', () => {
    const net = new Net();
    const before = Array.from(net.head.bias!.dataSync());
    const state = new Map(net.stateDict());
    state.delete('head.weight');
    state.set('head.bias', wg.zeros([3]));
    state.set('extra', wg.zeros([1]));
    expect(() => net.loadStateDict(state)).toThrow(
      /Net\.loadStateDict: missing keys: head\.weight; unexpected keys: extra\. Nothing was loaded; pass \{ strict: false \}/,
    );
    expect(Array.from(net.head.bias!.dataSync())).toEqual(before);
    const lenient = net.loadStateDict(state, { strict: false });
    expect(lenient).toEqual({ missingKeys: ['head.weight'], unexpectedKeys: ['extra'] });
    expect(Array.from(net.head.bias!.dataSync())).toEqual([0, 0, 0]);
    state.set('head.bias', wg.zeros([4]));
    expect(() => net.loadStateDict(state, { strict: false })).toThrow(
      /'head\.bias' has shape \[4\] in the state dict but \[3\] in the module/,
    );
  });

  it('zeroGrad frees every gradient', () => {
    const net = new Net();
    wg.tidy(() =>
      net
        .forward(wg.rand([2, 1, 4, 4], { seed: 1 }))
        .sum()
        .backward(),
    );
    expect(net.parameters().every((p) => p.grad !== null)).toBe(true);
    const live = wg.memory().tensors;
    net.zeroGrad();
    expect(net.parameters().every((p) => p.grad === null)).toBe(true);
    expect(wg.memory().tensors).toBe(live - 6);
  });

  it('refuses duplicate or dotted names', () => {
    class Bad extends Module {
      constructor(name: string) {
        super();
        this.registerParameter('w', wg.zeros([1]));
        this.registerBuffer(name, wg.zeros([1]));
      }
      forward(x: Tensor): Tensor {
        return x;
      }
    }
    expect(() => new Bad('w')).toThrow(/'w' is already registered/);
    expect(() => new Bad('a.b')).toThrow(/must be non-empty and contain no '\.'/);
  });

  it('prints a PyTorch-style tree', () => {
    expect(new Sequential(new Linear(2, 4, { seed: 1 }), new ReLU()).toString()).toBe(
      'Sequential(\n  (0): Linear(in=2, out=4, bias=true)\n  (1): ReLU()\n)',
    );
  });
});

describe('layers', () => {
  it('Linear and Conv2d draw torch’s U(−1/√fan_in, 1/√fan_in), reproducibly per seed', () => {
    const check = (t: Tensor, fan: number) => {
      const v = t.dataSync();
      const bound = 1 / Math.sqrt(fan);
      let mean = 0;
      let sq = 0;
      let largest = 0;
      for (const x of v) {
        largest = Math.max(largest, Math.abs(x));
        mean += x / v.length;
        sq += (x * x) / v.length;
      }
      expect(largest).toBeLessThanOrEqual(bound);
      // U(−b, b) has mean 0 and variance b²/3; with ≥ 20,000 draws both are within a few %.
      expect(Math.abs(mean)).toBeLessThan(0.02 * bound);
      expect(sq / ((bound * bound) / 3)).toBeCloseTo(1, 1);
    };
    const lin = new Linear(200, 100, { seed: 7 });
    check(lin.weight, 200);
    expect(Math.max(...Array.from(lin.bias!.dataSync(), Math.abs))).toBeLessThanOrEqual(
      1 / Math.sqrt(200),
    );
    const conv = new Conv2d(8, 32, [3, 5], { groups: 4, seed: 7 });
    expect(conv.weight.shape).toEqual([32, 2, 3, 5]);
    check(new Conv2d(16, 400, 3, { groups: 4, seed: 7 }).weight, (16 / 4) * 9);
    expect(Array.from(new Linear(3, 2, { seed: 7 }).weight.dataSync())).toEqual(
      Array.from(new Linear(3, 2, { seed: 7 }).weight.dataSync()),
    );
    expect(Array.from(new Linear(3, 2, { seed: 8 }).weight.dataSync())).not.toEqual(
      Array.from(new Linear(3, 2, { seed: 7 }).weight.dataSync()),
    );
    wg.setSeed(42);
    const first = Array.from(new Linear(3, 2).weight.dataSync());
    wg.setSeed(42);
    expect(Array.from(new Linear(3, 2).weight.dataSync())).toEqual(first);
    expect(() => new Conv2d(6, 4, 3, { groups: 4 })).toThrow(
      /groups \(4\) must be a positive integer dividing/,
    );
  });

  it('Linear computes x·Wᵀ + b', () => {
    const lin = new Linear(2, 2, { seed: 1 });
    lin.loadStateDict(
      new Map([
        [
          'weight',
          wg.tensor([
            [1, 2],
            [3, 4],
          ]),
        ],
        ['bias', wg.tensor([0.5, -1])],
      ]),
    );
    expect(
      lin
        .forward(
          wg.tensor([
            [1, 1],
            [2, 0],
          ]),
        )
        .arraySync(),
    ).toEqual([
      [3.5, 6],
      [2.5, 5],
    ]);
    const noBias = new Linear(2, 3, { bias: false });
    expect(noBias.bias).toBeNull();
    expect(noBias.namedParameters().map(([n]) => n)).toEqual(['weight']);
  });

  it('BatchNorm2d normalises with batch statistics in training, updating running ones', () => {
    const bn = new BatchNorm2d(1, { momentum: 0.5 });
    // One channel holding 1, 2, 3, 4: mean 2.5, biased variance 1.25, unbiased 5/3.
    const x = wg.tensor([1, 2, 3, 4], { shape: [2, 1, 1, 2] });
    const y = bn.forward(x);
    const s = Math.sqrt(1.25 + 1e-5);
    expectClose(y.dataSync(), [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s], { rtol: 1e-6 });
    expectClose(bn.runningMean.dataSync(), [1.25], { rtol: 1e-7 });
    expectClose(bn.runningVar.dataSync(), [0.5 + 0.5 * (5 / 3)], { rtol: 1e-6 });
    expect(bn.numBatchesTracked.item()).toBe(1);
    bn.eval();
    const z = bn.forward(wg.tensor([1.25], { shape: [1, 1, 1, 1] }));
    expectClose(z.dataSync(), [0], { atol: 1e-7 });
    expect(bn.numBatchesTracked.item()).toBe(1);
    expect(() => bn.forward(wg.zeros([2, 3, 1, 1]))).toThrow(
      /BatchNorm2d\(1\): expects input of rank 4 with 1 channels/,
    );
  });

  it('BatchNorm2d with momentum null keeps a cumulative average', () => {
    const bn = new BatchNorm2d(1, { momentum: null });
    for (const v of [2, 4, 9]) bn.forward(wg.tensor([v - 1, v + 1], { shape: [2, 1, 1, 1] }));
    expectClose(bn.runningMean.dataSync(), [5], { rtol: 1e-6 });
  });

  it('LayerNorm normalises each sample over its trailing axes', () => {
    const ln = new LayerNorm(4);
    const y = ln.forward(
      wg.tensor([
        [1, 2, 3, 4],
        [2, 2, 2, 2],
      ]),
    );
    const s = Math.sqrt(1.25 + 1e-5);
    expectClose(y.dataSync(), [-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s, 0, 0, 0, 0], {
      rtol: 1e-6,
      atol: 1e-7,
    });
    expect(ln.namedParameters().map(([n, t]) => `${n} ${t.shape.join(',')}`)).toEqual([
      'weight 4',
      'bias 4',
    ]);
  });

  it('Embedding looks up rows of N(0, 1) values by i32 id', () => {
    const emb = new Embedding(5000, 4, { seed: 3 });
    const w = Array.from(emb.weight.dataSync());
    const mean = w.reduce((a, b) => a + b, 0) / w.length;
    const variance = w.reduce((a, b) => a + (b - mean) ** 2, 0) / w.length;
    expect(Math.abs(mean)).toBeLessThan(0.03);
    expect(variance).toBeCloseTo(1, 1);
    const out = emb.forward(wg.tensor([[2, 0]], { dtype: 'i32' }));
    expect(out.shape).toEqual([1, 2, 4]);
    expect(Array.from(out.dataSync())).toEqual([...w.slice(8, 12), ...w.slice(0, 4)]);
    expect(() => emb.forward(wg.tensor([1.5]))).toThrow(/Embedding: ids must be i32/);
  });

  it('Dropout is the identity in eval mode and reproducible with a seed in training', () => {
    const x = wg.ones([10000]);
    const drop = new Dropout(0.25, { seed: 9 });
    const kept = (t: Tensor) => t.dataSync().filter((v) => v !== 0);
    const a = drop.forward(x);
    expect(kept(a).length / 10000).toBeCloseTo(0.75, 1);
    expect(kept(a).every((v) => Math.abs(v - 4 / 3) < 1e-6)).toBe(true);
    const b = drop.forward(x);
    expect(Array.from(b.dataSync())).not.toEqual(Array.from(a.dataSync())); // a new mask per call
    const again = new Dropout(0.25, { seed: 9 });
    expect(Array.from(again.forward(x).dataSync())).toEqual(Array.from(a.dataSync()));
    drop.eval();
    expect(drop.forward(x)).toBe(x);
  });

  it('Flatten merges the axes it is given', () => {
    const x = wg.zeros([2, 3, 4, 5]);
    expect(new Flatten().forward(x).shape).toEqual([2, 60]);
    expect(new Flatten(1, 2).forward(x).shape).toEqual([2, 12, 5]);
  });

  it('an MLP learns moons with Adam, with a flat live-tensor count', () => {
    const { x, y } = wg.data.moons(200, { seed: 1 });
    const model = new Sequential(
      new Linear(2, 16, { seed: 1 }),
      new ReLU(),
      new Linear(16, 2, { seed: 2 }),
    );
    const opt = new wg.optim.Adam(model.parameters(), { lr: 0.05 });
    const step = () =>
      wg.tidy(() => {
        const loss = wg.ops.crossEntropy(model.forward(x), y);
        loss.backward();
        opt.step();
        opt.zeroGrad();
        return loss.item();
      });
    const first = step();
    const live = wg.memory();
    let last = first;
    for (let i = 0; i < 150; i++) last = step();
    expect(wg.memory()).toEqual(live);
    expect(last).toBeLessThan(0.15);
    expect(first).toBeGreaterThan(0.4);
  });
});

import { describe, expect, it } from 'vitest';
import * as wg from '../index.js';
import type { Tensor } from '../index.js';
import { expectClose, gradcheck, uniform } from '../../test/helpers/numeric.js';
import { batchNorm, batchNormPure, batchNormUpdateStats } from './normalization.js';

const values = (t: Tensor): number[] => Array.from(t.dataSync());
const copy = (t: Tensor): Tensor => wg.tensor(t.dataSync().slice(), { shape: t.shape });

/** Per-channel mean and biased variance of x [N, C, …], computed by hand. */
function stats(x: Tensor): { means: number[]; vars: number[]; count: number } {
  const v = values(x);
  const c = x.shape[1]!;
  const inner = x.shape.slice(2).reduce((p, d) => p * d, 1);
  const count = v.length / c;
  const channel = (i: number): number => Math.floor(i / inner) % c;
  const means = Array.from({ length: c }, () => 0);
  v.forEach((a, i) => (means[channel(i)]! += a / count));
  const vars = Array.from({ length: c }, () => 0);
  v.forEach((a, i) => (vars[channel(i)]! += (a - means[channel(i)]!) ** 2 / count));
  return { means, vars, count };
}

const channelVectors = (c: number, seed: number) => ({
  weight: uniform([c], seed, 0.5, 2),
  bias: uniform([c], seed + 1),
  runningMean: uniform([c], seed + 2, -0.5, 0.5),
  runningVar: uniform([c], seed + 3, 0.5, 2),
});

describe('the registered batchNorm op', () => {
  for (const shape of [
    [5, 3],
    [2, 3, 4, 4],
  ])
    it(`training normalises with the batch statistics and is pure (${shape.join('×')})`, () => {
      const x = uniform(shape, 1, -2, 3);
      const { weight, bias, runningMean, runningVar } = channelVectors(3, 10);
      const before = [values(runningMean), values(runningVar)];
      const y = wg.runOp('batchNorm', [x, weight, bias, runningMean, runningVar], {
        training: true,
      });
      const { means, vars } = stats(x);
      const inner = shape.slice(2).reduce((p, d) => p * d, 1);
      const [g, b] = [values(weight), values(bias)];
      const ref = values(x).map((v, i) => {
        const k = Math.floor(i / inner) % 3;
        return ((v - means[k]!) / Math.sqrt(vars[k]! + 1e-5)) * g[k]! + b[k]!;
      });
      expect(y.shape).toEqual(shape);
      expectClose(values(y), ref, { rtol: 1e-4, atol: 1e-5 });
      // The op never writes its inputs: the running statistics are untouched.
      expect([values(runningMean), values(runningVar)]).toEqual(before);
    });

  it('eval mode normalises with the running statistics', () => {
    const x = uniform([4, 2, 3], 2);
    const { weight, bias, runningMean, runningVar } = channelVectors(2, 20);
    const y = wg.runOp('batchNorm', [x, weight, bias, runningMean, runningVar], {
      training: false,
      eps: 1e-3,
    });
    const [g, b, m, v] = [weight, bias, runningMean, runningVar].map(values);
    const ref = values(x).map((a, i) => {
      const k = Math.floor(i / 3) % 2;
      return ((a - m![k]!) / Math.sqrt(v![k]! + 1e-3)) * g![k]! + b![k]!;
    });
    expectClose(values(y), ref, { rtol: 1e-5, atol: 1e-6 });
  });

  it('equals the in-place batchNorm function without its side effect', () => {
    const x = uniform([6, 4], 3);
    const { weight, bias, runningMean, runningVar } = channelVectors(4, 30);
    const pure = batchNormPure(x, weight, bias, runningMean, runningVar, { training: true });
    const rm = copy(runningMean);
    const rv = copy(runningVar);
    const inPlace = batchNorm(x, {
      gamma: weight,
      beta: bias,
      runningMean: rm,
      runningVar: rv,
      training: true,
    });
    expect(values(pure)).toEqual(values(inPlace));
    expect(values(rm)).not.toEqual(values(runningMean));
  });

  it('gradients of x, weight and bias match f64 finite differences (training)', () => {
    for (const [shape, seed] of [
      [[4, 3], 1],
      [[2, 3, 2, 2], 2],
      [[3, 3, 5], 3],
    ] as const) {
      const { weight, bias, runningMean, runningVar } = channelVectors(3, seed * 10);
      gradcheck(
        (x, w, b) =>
          wg.runOp('batchNorm', [x!, w!, b!, runningMean, runningVar], { training: true }),
        [uniform([...shape], seed, -2, 2), weight, bias],
        { wrt: [0, 1, 2] },
      );
    }
  });

  it('gradients match finite differences in eval mode; running statistics get none', () => {
    const { weight, bias } = channelVectors(2, 40);
    const runningMean = wg.tensor([0.1, -0.3], { dtype: 'f64' });
    const runningVar = wg.tensor([1.5, 0.7], { dtype: 'f64' });
    gradcheck(
      (x, w, b) =>
        wg.runOp('batchNorm', [x!, w!, b!, runningMean, runningVar], {
          training: false,
          eps: 1e-3,
        }),
      [uniform([3, 2, 2, 2], 4), weight, bias],
      { wrt: [0, 1, 2] },
    );
    const rm = wg.tensor([0.1, -0.3], { requiresGrad: true });
    const rv = wg.tensor([1.5, 0.7], { requiresGrad: true });
    const x = uniform([3, 2], 5);
    x.requiresGrad = true;
    wg.runOp('batchNorm', [x, weight, bias, rm, rv], { training: false }).sum().backward();
    expect(x.grad).not.toBeNull();
    expect(rm.grad ?? null).toBeNull();
    expect(rv.grad ?? null).toBeNull();
  });

  it('rejects wrong channel vectors, a batch of one and bad attributes, naming the op', () => {
    const { weight, bias, runningMean, runningVar } = channelVectors(3, 50);
    const run = (x: Tensor, attrs: object, rv: Tensor = runningVar): Tensor =>
      wg.runOp('batchNorm', [x, weight, bias, runningMean, rv], attrs);
    expect(() => run(wg.zeros([4, 2]), { training: true })).toThrow(
      /batchNorm.*weight \[3\] does not match x \[4, 2\]; it must be \[2\]/,
    );
    expect(() => run(wg.zeros([4, 3]), { training: false }, wg.ones([4]))).toThrow(
      /runningVar \[4\]/,
    );
    expect(() => run(wg.zeros([1, 3]), { training: true })).toThrow(/more than one value/);
    expect(() => run(wg.zeros([4]), { training: true })).toThrow(/expects x \[N, C, …\]/);
    expect(() => run(wg.zeros([4, 3]), { training: true, momentum: 2 })).toThrow(
      /momentum must be in \[0, 1\], got 2/,
    );
    expect(() => run(wg.zeros([4, 3]), { training: true, eps: 0 })).toThrow(/eps must be positive/);
    expect(() => wg.runOp('batchNorm', [wg.zeros([4, 3]), weight], { training: true })).toThrow(
      /expects 5 inputs, got 2/,
    );
  });
});

describe('batchNormUpdateStats', () => {
  for (const shape of [
    [6, 3],
    [2, 3, 3, 2],
  ])
    it(`returns PyTorch's next running statistics (unbiased variance) (${shape.join('×')})`, () => {
      const x = uniform(shape, 7, -1, 4);
      const runningMean = wg.tensor([0.5, -1, 2]);
      const runningVar = wg.tensor([1, 2, 0.5]);
      const next = batchNormUpdateStats(x, runningMean, runningVar, 0.3);
      const { means, vars, count } = stats(x);
      expectClose(
        values(next.runningMean),
        [0.5, -1, 2].map((r, k) => 0.7 * r + 0.3 * means[k]!),
        { rtol: 1e-5, atol: 1e-6 },
      );
      expectClose(
        values(next.runningVar),
        [1, 2, 0.5].map((r, k) => 0.7 * r + 0.3 * vars[k]! * (count / (count - 1))),
        { rtol: 1e-5, atol: 1e-6 },
      );
      // Nothing changed in place, and the new values carry no gradient.
      expect(values(runningMean)).toEqual(values(wg.tensor([0.5, -1, 2])));
      expect(next.runningMean.requiresGrad).toBe(false);
      // The same values the in-place function writes.
      const rm = copy(runningMean);
      const rv = copy(runningVar);
      batchNorm(x, { runningMean: rm, runningVar: rv, training: true, momentum: 0.3 });
      expectClose(values(next.runningMean), values(rm), { rtol: 1e-6, atol: 1e-7 });
      expectClose(values(next.runningVar), values(rv), { rtol: 1e-6, atol: 1e-7 });
    });

  it('uses the default momentum 0.1 and rejects bad arguments', () => {
    const x = wg.tensor([
      [1, 0],
      [3, 0],
    ]);
    const next = batchNormUpdateStats(x, wg.zeros([2]), wg.ones([2]));
    // Channel 0: mean 2, unbiased variance 2; channel 1: mean 0, variance 0.
    expectClose(values(next.runningMean), [0.2, 0], { rtol: 1e-6 });
    expectClose(values(next.runningVar), [0.9 + 0.2, 0.9], { rtol: 1e-6 });
    expect(() => batchNormUpdateStats(x, wg.zeros([2]), wg.ones([2]), -0.1)).toThrow(/momentum/);
    expect(() => batchNormUpdateStats(x, wg.zeros([3]), wg.ones([2]))).toThrow(/runningMean \[3\]/);
    expect(() => batchNormUpdateStats(wg.zeros([1, 2]), wg.zeros([2]), wg.ones([2]))).toThrow(
      /more than one value/,
    );
  });
});

describe('batchNorm in graph documents', () => {
  const build = (channels: number, inputShape: number[]): wg.Graph => {
    const g = new wg.GraphBuilder('bn');
    const x = g.input('x', inputShape, 'f32', 'data');
    const p = (name: string, init: 'ones' | 'zeros') =>
      g.parameter(`bn.${name}`, [channels], { init });
    const y = g.op(
      'batchNorm',
      [
        x,
        p('weight', 'ones'),
        p('bias', 'zeros'),
        p('running_mean', 'zeros'),
        p('running_var', 'ones'),
      ],
      { training: true, momentum: 0.1 },
      'bn',
    );
    g.output('y', y);
    return g.build();
  };

  it('infers shapes with a symbolic batch and runs like the function', () => {
    const graph = build(3, [-1, 3, 4, 4]);
    expect(graph.check()).toEqual([]);
    expect(graph.symbolicShapes().get('bn')?.shape).toEqual(['N', 3, 4, 4]);
    const x = uniform([2, 3, 4, 4], 9);
    const { y } = graph.run({ x });
    const ref = batchNorm(x, { training: true });
    expectClose(values(y!), values(ref), { rtol: 1e-6, atol: 1e-6 });
  });

  it('reports a channel mismatch on the batchNorm node', () => {
    const problems = build(4, [-1, 3]).check();
    expect(problems).toHaveLength(1);
    expect(problems[0]!.node).toBe('bn');
    expect(problems[0]!.message).toMatch(/weight \[4\] does not match x \[1, 3\]/);
  });
});

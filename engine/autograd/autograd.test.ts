import { describe, expect, it } from 'vitest';
import * as wg from '../index.js';
import { expectClose, gradcheck, uniform } from '../../test/helpers/numeric.js';

describe('reverse-mode autodiff', () => {
  it('accumulates into .grad of leaves, summing over several consumers', () => {
    const x = wg.tensor([1, 2, 3], { requiresGrad: true });
    const y = x.mul(x).add(x).sum(); // d/dx = 2x + 1
    y.backward();
    expect(Array.from(x.grad!.dataSync())).toEqual([3, 5, 7]);
    x.mul(2).sum().backward(); // accumulates: + 2
    expect(Array.from(x.grad!.dataSync())).toEqual([5, 7, 9]);
  });

  it('grad(grad(f)) gives second derivatives of tanh and sigmoid', () => {
    const xs = [-1.5, -0.3, 0, 0.7, 2];
    const x = wg.tensor(xs, { dtype: 'f64' });
    const d2tanh = wg.grad((t) =>
      wg
        .grad((u) => u.tanh().sum())(t)
        .sum(),
    )(x);
    const d2sig = wg.grad((t) =>
      wg
        .grad((u) => u.sigmoid().sum())(t)
        .sum(),
    )(x);
    const tanh2 = xs.map((v) => -2 * Math.tanh(v) * (1 - Math.tanh(v) ** 2));
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const sig2 = xs.map((v) => sig(v) * (1 - sig(v)) * (1 - 2 * sig(v)));
    expectClose(d2tanh.dataSync(), tanh2, { rtol: 1e-12, atol: 1e-14 });
    expectClose(d2sig.dataSync(), sig2, { rtol: 1e-12, atol: 1e-14 });
  });

  it('valueAndGrad returns the value and the gradients of several arguments', () => {
    const f = (a: wg.Tensor, b: wg.Tensor) => a.mul(b).sum();
    const { value, grads } = wg.valueAndGrad(f, [0, 1])(wg.tensor([1, 2]), wg.tensor([3, 4]));
    expect(value.item()).toBe(11);
    expect(Array.from(grads[0]!.dataSync())).toEqual([3, 4]);
    expect(Array.from(grads[1]!.dataSync())).toEqual([1, 2]);
  });

  it('noGrad records nothing', () => {
    const x = wg.tensor([1], { requiresGrad: true });
    const y = wg.noGrad(() => x.mul(3));
    expect(y.requiresGrad).toBe(false);
    expect(() => y.sum().backward()).toThrow(/does not depend/);
  });

  it('backward of a non-scalar without a gradient says what to do', () => {
    const x = wg.tensor([1, 2], { requiresGrad: true });
    expect(() => x.mul(2).backward()).toThrow(/scalar output.*\.sum\(\)/);
  });

  it('gradients of broadcasting binary ops match finite differences', () => {
    const shapes: [number[], number[]][] = [
      [[3, 4], [4]],
      [
        [2, 1, 3],
        [4, 1],
      ],
      [[5], [5]],
    ];
    for (const [sa, sb] of shapes) {
      const a = uniform(sa, 1);
      const b = uniform(sb, 2, 0.5, 2);
      gradcheck((x, y) => x.mul(y).add(x.div(y)).sub(y.pow(2)), [a, b]);
    }
  });
});

describe('walkBackward hooks', () => {
  it('report each step and each contribution with the running sums backward makes', () => {
    // y = x·x + x at x = [1, 2, 3]: dy/dx = 2x + 1, from three contributions.
    const x = wg.tensor([1, 2, 3], { requiresGrad: true });
    const y = x.mul(x).add(x).sum();
    const steps: string[] = [];
    const sums: number[][] = [];
    const contributions: number[][] = [];
    const results = wg.walkBackward(y, {
      targets: [x],
      onStep: (s) => steps.push(s.producer ? s.producer.def.name : 'result'),
      onContribution: (c) => {
        if (c.input !== x) return;
        contributions.push(Array.from(c.contribution.dataSync()));
        sums.push(Array.from(c.sum.dataSync()));
      },
    });
    expect(steps).toEqual(['sum', 'add', 'mul', 'result']);
    // add passes dy (ones) to x first; then mul gives x·dy twice (once per use of x).
    expect(contributions).toEqual([
      [1, 1, 1],
      [1, 2, 3],
      [1, 2, 3],
    ]);
    expect(sums).toEqual([
      [1, 1, 1],
      [2, 3, 4],
      [3, 5, 7],
    ]);
    expect(Array.from(results.get(x)!.dataSync())).toEqual([3, 5, 7]);
    expect(x.grad).toBeNull(); // the walk never touches .grad
  });
});

describe('memory ownership', () => {
  it('tidy frees everything but what it returns', () => {
    const before = wg.memory();
    const kept = wg.tidy(() => {
      const a = wg.ones([100]);
      const b = a.mul(3).add(1);
      return b.sum();
    });
    expect(wg.memory().tensors).toBe(before.tensors + 1);
    expect(kept.item()).toBe(400);
    kept.dispose();
    expect(wg.memory()).toEqual(before);
  });

  it('a disposed tensor used again gives a clear error', () => {
    const a = wg.ones([2]);
    a.dispose();
    expect(() => a.add(1)).toThrow(/disposed/);
  });
});

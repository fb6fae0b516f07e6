/**
 * Reductions: sum, mean, max, min and argmax over one, several (contiguous or not) and all
 * axes, with and without keepDims, against an independent index-arithmetic reference; NaN and
 * tie behaviour; gradients against float64 central differences (max/min on inputs without
 * ties); and errors that name the op and the rank.
 */

import { describe, expect, it } from 'vitest';
import * as wg from '../index.js';
import { expectClose, gradcheck } from '../../test/helpers/numeric.js';

const { ops } = wg;
type Tensor = wg.Tensor;
type Axes = number | number[] | undefined;

const values = (t: Tensor): number[] => Array.from(t.dataSync());
const f64 = (data: wg.NestedArray): Tensor => wg.tensor(data, { dtype: 'f64' });
const size = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/**
 * Distinct values (a shuffled arithmetic sequence in [-1.5, 1.5)), so max/min have no ties and
 * no near-ties: finite differences stay valid.
 */
function distinct(shape: number[], seed: number): Tensor {
  const n = size(shape);
  const order = Array.from({ length: n }, (_, i) => i);
  let s = seed;
  for (let i = n - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const data = Float64Array.from(order, (k) => -1.5 + (3 * (k + 0.5)) / n);
  return wg.tensor(data, { shape, dtype: 'f64' });
}

/** Reference reduction by explicit index arithmetic: groups elements by their kept indices. */
function reduceRef(
  x: Tensor,
  axis: Axes,
  keepDims: boolean,
  combine: (group: number[]) => number,
): { shape: number[]; data: number[] } {
  const rank = x.rank;
  const list =
    axis === undefined ? [...Array(rank).keys()] : typeof axis === 'number' ? [axis] : axis;
  const axes = list.map((a) => (a < 0 ? a + rank : a));
  const outShape = x.shape.flatMap((d, i) => (axes.includes(i) ? (keepDims ? [1] : []) : [d]));
  const groups: number[][] = Array.from({ length: size(outShape) }, () => []);
  const X = values(x);
  X.forEach((v, i) => {
    let r = i;
    const idx = new Array<number>(rank);
    for (let d = rank - 1; d >= 0; d--) {
      idx[d] = r % x.shape[d]!;
      r = Math.floor(r / x.shape[d]!);
    }
    let o = 0;
    for (let d = 0; d < rank; d++) {
      if (!axes.includes(d)) o = o * x.shape[d]! + idx[d]!;
    }
    groups[o]!.push(v);
  });
  return { shape: outShape, data: groups.map(combine) };
}

const combiners = {
  sum: (g: number[]) => g.reduce((a, b) => a + b, 0),
  mean: (g: number[]) => g.reduce((a, b) => a + b, 0) / g.length,
  max: (g: number[]) => Math.max(...g),
  min: (g: number[]) => Math.min(...g),
};
const reducers = {
  sum: ops.sum,
  mean: ops.mean,
  max: ops.max,
  min: ops.min,
};
type Kind = keyof typeof reducers;
const kinds: Kind[] = ['sum', 'mean', 'max', 'min'];

/** One axis (first, middle, last, negative), several (contiguous and not), all. */
const axesCases: Axes[] = [0, 1, 2, -1, -3, [0, 1], [1, 2], [0, 2], [2, 0], [0, 1, 2], undefined];

describe('reductions: values', () => {
  const x = distinct([2, 3, 4], 7);

  for (const kind of kinds)
    for (const keepDims of [false, true])
      it(`${kind} over each axis set (keepDims ${keepDims})`, () => {
        for (const axis of axesCases) {
          const want = reduceRef(x, axis, keepDims, combiners[kind]);
          const got = reducers[kind](x, axis, keepDims);
          expect(got.shape, `axes ${JSON.stringify(axis)}`).toEqual(want.shape);
          expectClose(got.dataSync(), want.data, { rtol: 1e-13, atol: 1e-15 }, String(axis));
        }
      });

  it('work on strided (transposed) inputs and rank 1 and 4', () => {
    const t = distinct([3, 4, 2], 8).transpose([2, 0, 1]);
    for (const kind of kinds)
      for (const axis of [[0, 2], 1, undefined] as Axes[]) {
        const want = reduceRef(t, axis, false, combiners[kind]);
        expectClose(reducers[kind](t, axis).dataSync(), want.data, { rtol: 1e-13 });
      }
    const v = f64([3, -1, 2]);
    expect(v.sum().item()).toBe(4);
    expect(v.max(0).item()).toBe(3);
    expect(v.min(-1, true).shape).toEqual([1]);
    const r4 = distinct([2, 2, 3, 2], 9);
    const want = reduceRef(r4, [1, 3], true, combiners.mean);
    expect(r4.mean([1, 3], true).shape).toEqual([2, 1, 3, 1]);
    expectClose(r4.mean([1, 3], true).dataSync(), want.data, { rtol: 1e-13 });
  });

  it('Tensor methods match the functions; a 0-d tensor reduces to itself', () => {
    expectClose(x.sum([0, 2]).dataSync(), ops.sum(x, [0, 2]).dataSync(), { rtol: 0 });
    const s = wg.scalar(3);
    expect(s.sum().item()).toBe(3);
    expect(s.max().shape).toEqual([]);
  });

  it('dtypes: i32 sums and extrema stay i32, mean of i32 is f32', () => {
    const i = wg.tensor(
      [
        [1, 2],
        [3, 5],
      ],
      { dtype: 'i32' },
    );
    expect(i.sum(0).dtype).toBe('i32');
    expect(values(i.sum(0))).toEqual([4, 7]);
    expect(values(i.max(1))).toEqual([2, 5]);
    const m = i.mean();
    expect(m.dtype).toBe('f32');
    expect(m.item()).toBe(2.75);
  });

  it('NaN propagates through sum, mean, max and min; Inf through sum', () => {
    const x = f64([
      [1, NaN, 3],
      [4, 5, 6],
    ]);
    for (const kind of kinds) {
      expect(values(reducers[kind](x, 1))).toEqual([NaN, combiners[kind]([4, 5, 6])]);
      expect(values(reducers[kind](x, 0))[1]).toBeNaN();
      expect(reducers[kind](x).item()).toBeNaN();
    }
    expect(f64([1, Infinity]).sum().item()).toBe(Infinity);
    expect(f64([-Infinity, Infinity]).sum().item()).toBeNaN();
    expect(f64([-Infinity, -1]).max().item()).toBe(-1);
  });

  it('max and min over an empty axis are an error naming the axis', () => {
    expect(() => wg.zeros([0, 3]).max(0)).toThrow(/op 'max'.*empty axis 0 of \[0, 3\]/);
    expect(() => wg.zeros([2, 0]).min()).toThrow(/op 'min'.*empty axis 1/);
    expect(() => wg.zeros([0]).argmax()).toThrow(/op 'argmax'.*empty axis/);
  });

  // Known core bug (reported): reduceInfer rejects empty axes for every reduction, but a sum
  // over nothing is 0 (NumPy, PyTorch) and a mean NaN; only max/min/argmax have no value.
  // Flip to it() once reduce.ts checks empty axes for max/min only.
  it('sum over an empty axis is 0 and mean is NaN', () => {
    expect(values(wg.zeros([0, 3]).sum(0))).toEqual([0, 0, 0]);
    expect(values(wg.zeros([0, 3]).mean(0))).toEqual([NaN, NaN, NaN]);
  });
});

describe('argmax', () => {
  it('returns i32 indices along an axis; ties go to the first', () => {
    const x = f64([
      [1, 3, 3],
      [5, 5, 0],
      [-Infinity, -Infinity, -Infinity],
    ]);
    const a = x.argmax(1);
    expect(a.dtype).toBe('i32');
    expect(values(a)).toEqual([1, 0, 0]);
    expect(values(x.argmax(0))).toEqual([1, 1, 0]);
    expect(values(x.argmax(-1))).toEqual([1, 0, 0]);
    expect(x.argmax(1, true).shape).toEqual([3, 1]);
    expect(values(x.argmax(1, true))).toEqual([1, 0, 0]);
  });

  it('without an axis indexes the flattened tensor', () => {
    const x = f64([
      [1, 7],
      [7, 2],
    ]);
    expect(x.argmax().shape).toEqual([]);
    expect(x.argmax().item()).toBe(1);
    expect(x.argmax(undefined, true).shape).toEqual([1]);
  });

  it('NaN counts as the largest (the first NaN wins), as in PyTorch', () => {
    expect(f64([1, NaN, 3, NaN]).argmax().item()).toBe(1);
    expect(f64([NaN, 5]).argmax().item()).toBe(0);
    expect(
      values(
        f64([
          [1, 2],
          [NaN, 0],
        ]).argmax(0),
      ),
    ).toEqual([1, 0]);
  });

  it('matches a reference on a rank-3 input along the middle axis, and on i32', () => {
    const x = distinct([2, 4, 3], 11);
    const X = values(x);
    const want: number[] = [];
    for (let i = 0; i < 2; i++)
      for (let k = 0; k < 3; k++) {
        let best = 0;
        for (let j = 1; j < 4; j++)
          if (X[i * 12 + j * 3 + k]! > X[i * 12 + best * 3 + k]!) best = j;
        want.push(best);
      }
    expect(values(x.argmax(1))).toEqual(want);
    expect(values(wg.tensor([[2, 9, 9]], { dtype: 'i32' }).argmax(1))).toEqual([1]);
  });

  it('has no gradient', () => {
    expect(wg.getOp('argmax').gradient).toBeUndefined();
  });
});

describe('reductions: errors', () => {
  const x = wg.ones([2, 3, 4]);
  it.each(kinds)('%s: an axis out of range names the op and the rank', (kind) => {
    expect(() => reducers[kind](x, 3)).toThrow(
      new RegExp(`op '${kind}': axis 3 is out of range for a tensor of rank 3`),
    );
    expect(() => reducers[kind](x, [0, -4])).toThrow(/axis -4 is out of range.*rank 3/);
    expect(() => reducers[kind](x, 1.5)).toThrow(wg.ShapeError);
  });

  it('argmax: an axis out of range names the op and the rank', () => {
    expect(() => x.argmax(3)).toThrow(/op 'argmax': axis 3 is out of range for a tensor of rank 3/);
    expect(() => x.argmax(-4)).toThrow(/op 'argmax'.*rank 3/);
  });

  it('bool inputs are rejected with what to do', () => {
    expect(() => wg.tensor([true]).sum()).toThrow(/op 'sum'.*bool.*cast/);
    expect(() => wg.tensor([true]).max()).toThrow(/op 'max'.*bool/);
  });
});

describe('reductions: gradients match finite differences', () => {
  for (const kind of kinds)
    it(kind, () => {
      const f = reducers[kind];
      for (const axis of [0, -1, [0, 2], [1, 2], undefined] as Axes[])
        for (const keepDims of [false, true])
          gradcheck((t) => f(t, axis, keepDims), [distinct([2, 3, 4], 12)]);
      // Strided input, and a nonlinear consumer so dy varies per output element.
      gradcheck((t) => f(t.transpose([2, 0, 1]), [0, 2]).pow(2), [distinct([3, 2, 4], 13)]);
      gradcheck((t) => f(t, 1, true).mul(t), [distinct([3, 4], 14)]);
      gradcheck((t) => f(t), [distinct([], 15)]);
    });

  it('max/min share the gradient among ties equally', () => {
    expect(values(wg.grad((t) => t.max())(wg.tensor([1, 3, 3])))).toEqual([0, 0.5, 0.5]);
    const g = wg.grad((t) => t.min(1).sum())(
      wg.tensor([
        [2, 2, 2],
        [0, 1, 0],
      ]),
    );
    expectClose(g.dataSync(), [1 / 3, 1 / 3, 1 / 3, 0.5, 0, 0.5], { rtol: 1e-7 });
  });

  it('mean spreads dy evenly; grad of grad through sum is the constant Hessian', () => {
    expect(values(wg.grad((t) => t.mean())(wg.zeros([2, 2])))).toEqual([0.25, 0.25, 0.25, 0.25]);
    // f = Σ_j (Σ_i x_ij)², ∂f/∂x_ij = 2·s_j, and Σ_ij ∂f/∂x_ij differentiates to 2·rows.
    const h = wg.grad((t) =>
      wg
        .grad((u) => u.sum(0).pow(2).sum())(t)
        .sum(),
    )(distinct([3, 2], 16));
    expectClose(h.dataSync(), [6, 6, 6, 6, 6, 6], { rtol: 1e-12 });
  });
});

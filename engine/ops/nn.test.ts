import { describe, expect, it } from 'vitest';
import * as wg from '../index.js';
import type { Tensor } from '../index.js';
import { expectClose, gradcheck, uniform } from '../../test/helpers/numeric.js';

const {
  matmul,
  linear,
  conv2d,
  conv2dBackpropInput,
  conv2dBackpropFilter,
  maxPool2d,
  maxPool2dGrad,
  avgPool2d,
  avgPool2dGrad,
  softmax,
  logSoftmax,
  crossEntropy,
  mseLoss,
  batchNorm,
  layerNorm,
  dropout,
} = wg.ops;

const values = (t: Tensor): number[] => Array.from(t.dataSync());
const f64 = (shape: number[], seed: number, lo = -1, hi = 1): Tensor =>
  uniform(shape, seed, lo, hi).cast('f64');
const labels = (xs: number[]): Tensor => wg.tensor(xs, { dtype: 'i32' });
const size = (shape: readonly number[]): number => shape.reduce((p, d) => p * d, 1);
const strides = (shape: readonly number[]): number[] =>
  shape.map((_, i) => size(shape.slice(i + 1)));

// ---- independent references: plain loops over JavaScript arrays ---------------------------

/** Batched matmul of row-major arrays, [...ba, m, k] @ [...bb, k, n], broadcasting batches. */
function refMatmul(a: number[], as: number[], b: number[], bs: number[]) {
  const [m, k] = as.slice(-2) as [number, number];
  const n = bs[bs.length - 1]!;
  const rank = Math.max(as.length, bs.length) - 2;
  const pa = [...Array<number>(rank + 2 - as.length).fill(1), ...as];
  const pb = [...Array<number>(rank + 2 - bs.length).fill(1), ...bs];
  const batch = pa.slice(0, rank).map((d, i) => Math.max(d, pb[i]!));
  const out: number[] = [];
  for (let t = 0; t < size(batch); t++) {
    const idx = batch.map((d, i) => Math.floor(t / size(batch.slice(i + 1))) % d);
    const offA = idx.reduce((s, v, i) => s + (pa[i] === 1 ? 0 : v) * strides(pa)[i]!, 0);
    const offB = idx.reduce((s, v, i) => s + (pb[i] === 1 ? 0 : v) * strides(pb)[i]!, 0);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a[offA + i * k + p]! * b[offB + p * n + j]!;
        out.push(s);
      }
  }
  return { data: out, shape: [...batch, m, n] };
}

/** Transposes the last two axes of a row-major array. */
function refT(x: number[], shape: number[]): number[] {
  const [r, c] = shape.slice(-2) as [number, number];
  const out: number[] = [];
  for (let b = 0; b < x.length / (r * c); b++)
    for (let j = 0; j < c; j++) for (let i = 0; i < r; i++) out.push(x[b * r * c + i * c + j]!);
  return out;
}

interface RefConv {
  stride: [number, number];
  pad: [number, number, number, number]; // top, left, bottom, right
  dilation: [number, number];
  groups: number;
}

/** conv2d by its definition: y[b,o,i,j] = Σ x[b, g·Cg + c, i·s + p·d − pad, …]·w[o, c, p, q]. */
function refConv(x: number[], xs: number[], w: number[], ws: number[], o: RefConv) {
  const [N, C, H, W] = xs as [number, number, number, number];
  const [CO, CG, KH, KW] = ws as [number, number, number, number];
  const HO = Math.floor((H + o.pad[0] + o.pad[2] - o.dilation[0] * (KH - 1) - 1) / o.stride[0]) + 1;
  const WO = Math.floor((W + o.pad[1] + o.pad[3] - o.dilation[1] * (KW - 1) - 1) / o.stride[1]) + 1;
  const out: number[] = [];
  for (let b = 0; b < N; b++)
    for (let co = 0; co < CO; co++) {
      const g = Math.floor(co / (CO / o.groups));
      for (let i = 0; i < HO; i++)
        for (let j = 0; j < WO; j++) {
          let s = 0;
          for (let c = 0; c < CG; c++)
            for (let p = 0; p < KH; p++)
              for (let q = 0; q < KW; q++) {
                const h = i * o.stride[0] + p * o.dilation[0] - o.pad[0];
                const v = j * o.stride[1] + q * o.dilation[1] - o.pad[1];
                if (h < 0 || h >= H || v < 0 || v >= W) continue;
                s +=
                  x[((b * C + g * CG + c) * H + h) * W + v]! *
                  w[((co * CG + c) * KH + p) * KW + q]!;
              }
          out.push(s);
        }
    }
  expect(C).toBe(CG * o.groups);
  return { data: out, shape: [N, CO, HO, WO] };
}

/** Pooling by definition; `avg` divides by the window (countIncludePad) or its valid part. */
function refPool(
  x: number[],
  xs: number[],
  k: [number, number],
  s: [number, number],
  p: [number, number],
  kind: 'max' | 'avgIncl' | 'avgExcl',
) {
  const [N, C, H, W] = xs as [number, number, number, number];
  const HO = Math.floor((H + 2 * p[0] - k[0]) / s[0]) + 1;
  const WO = Math.floor((W + 2 * p[1] - k[1]) / s[1]) + 1;
  const out: number[] = [];
  for (let nc = 0; nc < N * C; nc++)
    for (let i = 0; i < HO; i++)
      for (let j = 0; j < WO; j++) {
        const vals: number[] = [];
        for (let a = 0; a < k[0]; a++)
          for (let b = 0; b < k[1]; b++) {
            const h = i * s[0] - p[0] + a;
            const w = j * s[1] - p[1] + b;
            if (h >= 0 && h < H && w >= 0 && w < W) vals.push(x[(nc * H + h) * W + w]!);
          }
        const total = vals.reduce((u, v) => u + v, 0);
        out.push(
          kind === 'max'
            ? Math.max(...vals)
            : kind === 'avgIncl'
              ? total / (k[0] * k[1])
              : total / vals.length,
        );
      }
  return { data: out, shape: [N, C, HO, WO] };
}

/** Softmax (or log-softmax) of a row-major array along `axis`. */
function refSoftmax(x: number[], shape: number[], axis: number, log: boolean): number[] {
  const n = shape[axis]!;
  const inner = size(shape.slice(axis + 1));
  const out = new Array<number>(x.length);
  for (let o = 0; o < x.length / (n * inner); o++)
    for (let i = 0; i < inner; i++) {
      const at = (r: number) => o * n * inner + r * inner + i;
      let z = 0;
      for (let r = 0; r < n; r++) z += Math.exp(x[at(r)]!);
      for (let r = 0; r < n; r++)
        out[at(r)] = log ? x[at(r)]! - Math.log(z) : Math.exp(x[at(r)]!) / z;
    }
  return out;
}

/**
 * gradcheck for functions that call wg.grad themselves (grad of grad). test/helpers' gradcheck
 * takes its finite differences under noGrad, where wg.grad records nothing and returns zeros,
 * so this one evaluates them with recording on. Same objective: sum(f(x)·R), R fixed.
 */
function gradcheckTwice(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], eps = 1e-6): void {
  wg.tidy(() => {
    const xs = inputs.map((t) => wg.tensor(t.dataSync(), { shape: t.shape, dtype: 'f64' }));
    const weights = wg.randn(f(...xs).shape, { seed: 99, dtype: 'f64' });
    const objective = (args: Tensor[]) =>
      f(...args)
        .mul(weights)
        .sum();
    xs.forEach((x) => (x.requiresGrad = true));
    objective(xs).backward();
    xs.forEach((x, i) => {
      const base = x.dataSync();
      const numeric = Array.from(base, (_, k) => {
        const at = (delta: number) =>
          wg.tidy(() => {
            const moved = Float64Array.from(base);
            moved[k]! += delta;
            const args = xs.map((t, j) =>
              j === i ? wg.tensor(moved, { shape: x.shape, dtype: 'f64' }) : t.detach(),
            );
            return objective(args).item();
          });
        return (at(eps) - at(-eps)) / (2 * eps);
      });
      expectClose(x.grad!.dataSync(), numeric, { rtol: 1e-5, atol: 1e-6 }, `input ${i}`);
    });
  });
}

// ---- matmul --------------------------------------------------------------------------------

describe('matmul', () => {
  it('multiplies matrices (hand-computed)', () => {
    const a = wg.tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]);
    const b = wg.tensor([
      [7, 8],
      [9, 10],
      [11, 12],
    ]);
    const y = matmul(a, b);
    expect(y.shape).toEqual([2, 2]);
    expect(values(y)).toEqual([58, 64, 139, 154]);
    expect(values(a.matmul(b))).toEqual([58, 64, 139, 154]);
  });

  it('broadcasts batch dimensions: [2,1,3,4] @ [5,4,6] → [2,5,3,6]', () => {
    const a = uniform([2, 1, 3, 4], 1);
    const b = uniform([5, 4, 6], 2);
    const y = matmul(a, b);
    const ref = refMatmul(values(a), [2, 1, 3, 4], values(b), [5, 4, 6]);
    expect(y.shape).toEqual([2, 5, 3, 6]);
    expect(ref.shape).toEqual([2, 5, 3, 6]);
    expectClose(values(y), ref.data, { rtol: 1e-5, atol: 1e-6 });
  });

  it('promotes 1-D operands like NumPy and removes the added axis', () => {
    const v = uniform([3], 1);
    const m = uniform([3, 4], 2);
    const n = uniform([5, 3], 3);
    const batched = uniform([2, 3, 4], 4);
    const cases: [Tensor, Tensor, number[], number[], number[]][] = [
      [v, m, [1, 3], [3, 4], [4]],
      [n, v, [5, 3], [3, 1], [5]],
      [v, v, [1, 3], [3, 1], []],
      [v, batched, [1, 3], [2, 3, 4], [2, 4]],
    ];
    for (const [a, b, as, bs, shape] of cases) {
      const y = matmul(a, b);
      expect(y.shape).toEqual(shape);
      expectClose(values(y), refMatmul(values(a), as, values(b), bs).data, { rtol: 1e-5 });
    }
  });

  it('transposeA / transposeB use the transposed last two axes', () => {
    const a = uniform([2, 4, 3], 5); // used as [2, 3, 4]
    const b = uniform([5, 4], 6); // used as [4, 5]
    const at = refT(values(a), [2, 4, 3]);
    const bt = refT(values(b), [5, 4]);
    const ref = refMatmul(at, [2, 3, 4], bt, [4, 5]);
    const y = matmul(a, b, { transposeA: true, transposeB: true });
    expect(y.shape).toEqual([2, 3, 5]);
    expectClose(values(y), ref.data, { rtol: 1e-5 });
    // transposeA on a 1-D operand is a no-op, as a vector has no second axis.
    const v = uniform([4], 7);
    expectClose(
      values(matmul(v, b, { transposeA: true, transposeB: true })),
      refMatmul(values(v), [1, 4], bt, [4, 5]).data,
    );
  });

  it('an inner-dimension mismatch names both shapes and suggests a transpose', () => {
    const a = wg.zeros([2, 3]);
    const b = wg.zeros([4, 3]);
    expect(() => matmul(a, b)).toThrow(/matmul.*\[2, 3\].*\[4, 3\].*transposeB: true/);
    expect(() => matmul(wg.zeros([2, 3]), wg.zeros([5, 6]))).toThrow(
      /inner dimensions differ.*\[2, 3\].*\[5, 6\]/,
    );
    expect(() => matmul(wg.zeros([2, 2, 3]), wg.zeros([3, 3, 4]))).toThrow(/batch dimensions/);
  });

  it('gradients match finite differences (2-D, batched broadcasting, 1-D operands)', () => {
    const cases: [number[], number[]][] = [
      [
        [3, 4],
        [4, 2],
      ],
      [
        [2, 1, 2, 3],
        [3, 3, 2],
      ],
      [[4], [4, 3]],
      [[2, 4], [4]],
      [[4], [4]],
      [[3], [2, 3, 2]],
    ];
    cases.forEach(([as, bs], i) =>
      gradcheck((a, b) => matmul(a!, b!), [f64(as, i), f64(bs, 10 + i)]),
    );
  });

  it('gradients match finite differences with every transpose flag and transposed inputs', () => {
    for (const transposeA of [false, true])
      for (const transposeB of [false, true]) {
        const a = f64(transposeA ? [2, 4, 3] : [2, 3, 4], 1);
        const b = f64(transposeB ? [1, 2, 4] : [1, 4, 2], 2);
        gradcheck((x, y) => matmul(x!, y!, { transposeA, transposeB }), [a, b]);
      }
    // Inputs produced by a transpose op (a strided view of their source, materialised).
    gradcheck(
      (x, y) => matmul(x!.transpose(), y!.transpose([0, 2, 1])),
      [f64([4, 3], 3), f64([2, 2, 4], 4)],
    );
  });

  it('is differentiable twice', () => {
    const loss = (a: Tensor, b: Tensor) => matmul(a, b, { transposeA: true }).pow(2).sum();
    gradcheckTwice((a, b) => wg.grad(loss, 0)(a!, b!), [f64([3, 2], 8), f64([3, 4], 9)]);
    gradcheckTwice((a, b) => wg.grad(loss, 1)(a!, b!), [f64([3, 2], 6), f64([3, 4], 7)]);
    const batched = (a: Tensor, b: Tensor) => matmul(a, b).pow(2).sum();
    gradcheckTwice((a, b) => wg.grad(batched, 1)(a!, b!), [f64([2, 2, 3], 4), f64([3], 5)]);
  });

  it('linear(x, w, b) = x @ wᵀ + b, with PyTorch layout', () => {
    const x = uniform([2, 3], 1);
    const w = uniform([4, 3], 2);
    const b = uniform([4], 3);
    const ref = refMatmul(values(x), [2, 3], refT(values(w), [4, 3]), [3, 4]).data.map(
      (v, i) => v + values(b)[i % 4]!,
    );
    expectClose(values(linear(x, w, b)), ref, { rtol: 1e-5 });
    gradcheck((u, v, c) => linear(u!, v!, c), [f64([2, 3], 1), f64([4, 3], 2), f64([4], 3)]);
    expect(() => linear(x, w, wg.zeros([3]))).toThrow(/bias \[3\].*\[4\]/);
  });
});

// ---- conv2d --------------------------------------------------------------------------------

const convConfigs: {
  name: string;
  x: number[];
  w: number[];
  opts: wg.ops.Conv2dOptions;
  ref: RefConv;
}[] = [
  {
    name: 'stride 2',
    x: [2, 2, 5, 5],
    w: [3, 2, 3, 3],
    opts: { stride: 2 },
    ref: { stride: [2, 2], pad: [0, 0, 0, 0], dilation: [1, 1], groups: 1 },
  },
  {
    name: 'padding 1',
    x: [1, 2, 4, 4],
    w: [2, 2, 3, 3],
    opts: { padding: 1 },
    ref: { stride: [1, 1], pad: [1, 1, 1, 1], dilation: [1, 1], groups: 1 },
  },
  {
    name: 'dilation 2',
    x: [1, 1, 6, 6],
    w: [2, 1, 2, 2],
    opts: { dilation: 2 },
    ref: { stride: [1, 1], pad: [0, 0, 0, 0], dilation: [2, 2], groups: 1 },
  },
  {
    name: 'groups 2',
    x: [1, 4, 4, 4],
    w: [4, 2, 2, 2],
    opts: { groups: 2, padding: 1, stride: 2 },
    ref: { stride: [2, 2], pad: [1, 1, 1, 1], dilation: [1, 1], groups: 2 },
  },
  {
    name: 'non-square kernel, stride, padding and dilation',
    x: [1, 2, 5, 6],
    w: [2, 2, 2, 3],
    opts: { stride: [2, 1], padding: [1, 0], dilation: [1, 2] },
    ref: { stride: [2, 1], pad: [1, 0, 1, 0], dilation: [1, 2], groups: 1 },
  },
  {
    name: "padding 'same' with an even kernel (extra padding at the end)",
    x: [1, 1, 4, 5],
    w: [1, 1, 2, 4],
    opts: { padding: 'same' },
    ref: { stride: [1, 1], pad: [0, 1, 1, 2], dilation: [1, 1], groups: 1 },
  },
];

describe('conv2d', () => {
  it('matches a hand-computed cross-correlation', () => {
    const x = wg.tensor([1, 2, 3, 4, 5, 6, 7, 8, 9], { shape: [1, 1, 3, 3] });
    const w = wg.tensor([1, 0, 0, 1], { shape: [1, 1, 2, 2] });
    const y = conv2d(x, w, { bias: wg.tensor([0.5]) });
    expect(y.shape).toEqual([1, 1, 2, 2]);
    expect(values(y)).toEqual([6.5, 8.5, 12.5, 14.5]);
  });

  for (const c of convConfigs)
    it(`matches the definition: ${c.name}`, () => {
      const x = uniform(c.x, 1);
      const w = uniform(c.w, 2);
      const y = conv2d(x, w, c.opts);
      const ref = refConv(values(x), c.x, values(w), c.w, c.ref);
      expect(y.shape).toEqual(ref.shape);
      expectClose(values(y), ref.data, { rtol: 1e-5, atol: 1e-6 });
      if (c.opts.padding === 'same') expect(y.shape.slice(2)).toEqual(c.x.slice(2));
    });

  it('gradients match finite differences for every configuration', () => {
    for (const c of convConfigs)
      gradcheck((x, w) => conv2d(x!, w!, c.opts), [f64(c.x, 3), f64(c.w, 4)]);
  });

  it('the backprop ops are the adjoints of conv2d: <conv(x, w), dy> = <x, Bi(dy, w)> = <w, Bf(x, dy)>', () => {
    for (const c of convConfigs) {
      const x = f64(c.x, 5);
      const w = f64(c.w, 6);
      const y = conv2d(x, w, c.opts);
      const dy = f64([...y.shape], 7);
      const lhs = y.mul(dy).sum().item();
      const bi = conv2dBackpropInput(dy, w, { ...c.opts, inputShape: c.x });
      const bf = conv2dBackpropFilter(x, dy, { ...c.opts, filterShape: c.w });
      expect(bi.shape).toEqual(c.x);
      expect(bf.shape).toEqual(c.w);
      expect(x.mul(bi).sum().item()).toBeCloseTo(lhs, 10);
      expect(w.mul(bf).sum().item()).toBeCloseTo(lhs, 10);
    }
  });

  it('conv2dBackpropInput and conv2dBackpropFilter have their own gradients', () => {
    for (const c of convConfigs.slice(0, 4)) {
      const yShape = conv2d(wg.zeros(c.x), wg.zeros(c.w), c.opts).shape;
      gradcheck(
        (dy, w) => conv2dBackpropInput(dy!, w!, { ...c.opts, inputShape: c.x }),
        [f64([...yShape], 1), f64(c.w, 2)],
      );
      gradcheck(
        (x, dy) => conv2dBackpropFilter(x!, dy!, { ...c.opts, filterShape: c.w }),
        [f64(c.x, 3), f64([...yShape], 4)],
      );
    }
  });

  it('is differentiable twice (gradcheck of wg.grad of a conv)', () => {
    for (const c of [convConfigs[1]!, convConfigs[3]!, convConfigs[4]!]) {
      const loss = (x: Tensor, w: Tensor) => conv2d(x, w, c.opts).pow(2).sum();
      gradcheckTwice((x, w) => wg.grad(loss, 0)(x!, w!), [f64(c.x, 1), f64(c.w, 2)]);
      gradcheckTwice((x, w) => wg.grad(loss, 1)(x!, w!), [f64(c.x, 3), f64(c.w, 4)]);
    }
  });

  it('errors name the channels, groups and both shapes', () => {
    expect(() => conv2d(wg.zeros([1, 3, 5, 5]), wg.zeros([4, 2, 3, 3]))).toThrow(
      /conv2d.*Cin = 3.*Cin\/groups = 2.*groups = 1.*\[1, 3, 5, 5\].*\[4, 2, 3, 3\]/,
    );
    expect(() => conv2d(wg.zeros([1, 4, 5, 5]), wg.zeros([3, 2, 3, 3]), { groups: 2 })).toThrow(
      /Cout = 3 is not a multiple of groups = 2/,
    );
    expect(() => conv2d(wg.zeros([1, 1, 2, 2]), wg.zeros([1, 1, 3, 3]))).toThrow(
      /kernel.*bigger than the padded input/,
    );
    expect(() =>
      conv2d(wg.zeros([1, 1, 4, 4]), wg.zeros([1, 1, 3, 3]), { padding: 'same', stride: 2 }),
    ).toThrow(/'same' needs stride 1/);
    expect(() => conv2d(wg.zeros([1, 4, 4]), wg.zeros([1, 1, 3, 3]))).toThrow(/\[1, C, H, W\]/);
  });
});

// ---- pooling -------------------------------------------------------------------------------

const poolConfigs: {
  x: number[];
  opts: wg.ops.Pool2dOptions;
  k: [number, number];
  s: [number, number];
  p: [number, number];
}[] = [
  { x: [2, 2, 4, 4], opts: { kernelSize: 2 }, k: [2, 2], s: [2, 2], p: [0, 0] },
  {
    x: [1, 2, 5, 5],
    opts: { kernelSize: 3, stride: 2, padding: 1 },
    k: [3, 3],
    s: [2, 2],
    p: [1, 1],
  },
  {
    x: [1, 1, 4, 6],
    opts: { kernelSize: [2, 3], stride: [1, 2] },
    k: [2, 3],
    s: [1, 2],
    p: [0, 0],
  },
];

describe('maxPool2d', () => {
  for (const c of poolConfigs)
    it(`matches the definition: kernel ${c.k}, stride ${c.s}, padding ${c.p}`, () => {
      const x = uniform(c.x, 1);
      const ref = refPool(values(x), c.x, c.k, c.s, c.p, 'max');
      const y = maxPool2d(x, c.opts);
      expect(y.shape).toEqual(ref.shape);
      expect(values(y)).toEqual(ref.data);
    });

  it('routes the gradient to the first maximum of a window (ties, as PyTorch)', () => {
    // Windows [[2, 2], [2, 1]] and [[0, 5], [5, 5]]: the first maximum in row-major order wins.
    const x = wg.tensor([2, 2, 0, 5, 2, 1, 5, 5], { shape: [1, 1, 2, 4], requiresGrad: true });
    maxPool2d(x, { kernelSize: 2 }).sum().backward();
    expect(values(x.grad!)).toEqual([1, 0, 0, 1, 0, 0, 0, 0]);
  });

  it('gradients match finite differences (no ties) and sum over overlapping windows', () => {
    for (const c of poolConfigs) gradcheck((x) => maxPool2d(x!, c.opts), [f64(c.x, 2)]);
    gradcheck((x) => maxPool2d(x!, { kernelSize: 3, stride: 1 }), [f64([1, 1, 4, 4], 3)]);
  });

  it('maxPool2dGrad is differentiable in dy (and twice through maxPool2d)', () => {
    for (const c of poolConfigs) {
      const x = f64(c.x, 4);
      const yShape = [...maxPool2d(x, c.opts).shape];
      gradcheck((xx, dy) => maxPool2dGrad(xx!, dy!, c.opts), [x, f64(yShape, 5)], { wrt: [1] });
      gradcheckTwice((u) => wg.grad((v) => maxPool2d(v, c.opts).pow(2).sum())(u!), [f64(c.x, 6)]);
    }
  });

  it('maxPool2dGather (the adjoint of maxPool2dGrad in dy) picks g at each window maximum', () => {
    const attrs = { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0] };
    const x = wg.tensor([2, 2, 0, 5, 2, 1, 5, 5], { shape: [1, 1, 2, 4] });
    const g = wg.tensor([10, 11, 12, 13, 14, 15, 16, 17], { shape: [1, 1, 2, 4] });
    expect(values(wg.runOp('maxPool2dGather', [x, g], attrs))).toEqual([10, 13]);
    gradcheck(
      (u, v) => wg.runOp('maxPool2dGather', [u!, v!], attrs),
      [f64([1, 2, 4, 4], 1), f64([1, 2, 4, 4], 2)],
      {
        wrt: [1],
      },
    );
  });

  it('errors name the shapes', () => {
    expect(() => maxPool2d(wg.zeros([1, 1, 2, 2]), { kernelSize: 3 })).toThrow(
      /window \[3, 3\] is bigger.*\[1, 1, 2, 2\]/,
    );
    expect(() => maxPool2d(wg.zeros([1, 1, 4, 4]), { kernelSize: 2, padding: 2 })).toThrow(
      /at most half the kernel/,
    );
  });
});

describe('avgPool2d', () => {
  for (const c of poolConfigs)
    for (const countIncludePad of [true, false])
      it(`matches the definition: kernel ${c.k}, padding ${c.p}, countIncludePad ${countIncludePad}`, () => {
        const x = uniform(c.x, 1);
        const ref = refPool(values(x), c.x, c.k, c.s, c.p, countIncludePad ? 'avgIncl' : 'avgExcl');
        const y = avgPool2d(x, { ...c.opts, countIncludePad });
        expect(y.shape).toEqual(ref.shape);
        expectClose(values(y), ref.data, { rtol: 1e-6 });
      });

  it('gradients match finite differences, and avgPool2dGrad is differentiable in dy', () => {
    for (const c of poolConfigs)
      for (const countIncludePad of [true, false]) {
        const opts = { ...c.opts, countIncludePad };
        gradcheck((x) => avgPool2d(x!, opts), [f64(c.x, 2)]);
        const yShape = [...avgPool2d(wg.zeros(c.x), opts).shape];
        gradcheck((dy) => avgPool2dGrad(dy!, { ...opts, inputShape: c.x }), [f64(yShape, 3)]);
      }
  });
});

// ---- softmax -------------------------------------------------------------------------------

describe('softmax and logSoftmax', () => {
  const shape = [2, 3, 4];
  for (const axis of [0, 1, -1])
    it(`match the definition along axis ${axis}`, () => {
      const x = uniform(shape, 1, -3, 3);
      const ax = axis < 0 ? axis + 3 : axis;
      expectClose(values(softmax(x, axis)), refSoftmax(values(x), shape, ax, false), {
        rtol: 1e-5,
      });
      expectClose(values(logSoftmax(x, axis)), refSoftmax(values(x), shape, ax, true), {
        rtol: 1e-5,
        atol: 1e-6,
      });
    });

  it('are numerically stable for large logits', () => {
    const x = wg.tensor([[1000, 1001, 1002]]);
    expectClose(values(softmax(x)), refSoftmax([0, 1, 2], [1, 3], 1, false), { rtol: 1e-5 });
    expectClose(values(logSoftmax(x)), refSoftmax([0, 1, 2], [1, 3], 1, true), { rtol: 1e-5 });
    expectClose(values(x.softmax(-1)), values(softmax(x)));
  });

  it('gradients match finite differences on several axes, and twice', () => {
    for (const axis of [0, 1, 2, -1]) {
      gradcheck((x) => softmax(x!, axis), [f64(shape, 2, -2, 2)]);
      gradcheck((x) => logSoftmax(x!, axis), [f64(shape, 3, -2, 2)]);
    }
    gradcheckTwice((x) => wg.grad((u) => softmax(u, 1).pow(2).sum())(x!), [f64([2, 3], 4)]);
    gradcheckTwice((x) => wg.grad((u) => logSoftmax(u, 0).pow(2).sum())(x!), [f64([3, 2], 5)]);
  });
});

// ---- losses --------------------------------------------------------------------------------

/** −log softmax(row)[label] per row, by definition. */
function refNll(logits: number[], n: number, c: number, ys: number[]): number[] {
  return ys.map((y, i) => -refSoftmax(logits.slice(i * c, (i + 1) * c), [c], 0, true)[y]!);
}

describe('crossEntropy', () => {
  it('matches −log softmax at the label, reduced by mean, sum or none', () => {
    const logits = uniform([4, 5], 1, -2, 2);
    const ys = [0, 4, 2, 2];
    const per = refNll(values(logits), 4, 5, ys);
    const total = per.reduce((a, b) => a + b, 0);
    expectClose(values(crossEntropy(logits, labels(ys), { reduction: 'none' })), per, {
      rtol: 1e-5,
    });
    expect(crossEntropy(logits, labels(ys), { reduction: 'sum' }).item()).toBeCloseTo(total, 4);
    expect(crossEntropy(logits, labels(ys)).item()).toBeCloseTo(total / 4, 5);
  });

  it('takes spatial logits [N, C, d] with labels [N, d]', () => {
    const logits = uniform([2, 3, 2], 2);
    const x = values(logits);
    const ys = [
      [2, 0],
      [1, 1],
    ];
    const per: number[] = [];
    for (let b = 0; b < 2; b++)
      for (let d = 0; d < 2; d++) {
        const row = [0, 1, 2].map((k) => x[(b * 3 + k) * 2 + d]!);
        per.push(refNll(row, 1, 3, [ys[b]![d]!])[0]!);
      }
    const loss = crossEntropy(logits, wg.tensor(ys, { dtype: 'i32' }), { reduction: 'none' });
    expect(loss.shape).toEqual([2, 2]);
    expectClose(values(loss), per, { rtol: 1e-5 });
  });

  it('label smoothing targets (1 − ε)·one-hot + ε/C', () => {
    const logits = uniform([3, 4], 3, -2, 2);
    const ys = [1, 3, 0];
    const eps = 0.2;
    const x = values(logits);
    const ref = ys.map((y, i) => {
      const lsm = refSoftmax(x.slice(i * 4, i * 4 + 4), [4], 0, true);
      return -lsm.reduce((s, v, k) => s + v * ((k === y ? 1 - eps : 0) + eps / 4), 0);
    });
    const loss = crossEntropy(logits, labels(ys), { reduction: 'none', labelSmoothing: eps });
    expectClose(values(loss), ref, { rtol: 1e-5 });
  });

  it('gradients match finite differences for mean, sum and none', () => {
    const ys = labels([2, 0, 1]);
    for (const reduction of ['mean', 'sum', 'none'] as const)
      gradcheck((x) => crossEntropy(x!, ys, { reduction }), [f64([3, 4], 4, -2, 2)]);
    gradcheck((x) => crossEntropy(x!, ys, { labelSmoothing: 0.1 }), [f64([3, 4], 5)]);
  });

  it('a label out of range names the label and C', () => {
    const logits = wg.zeros([3, 5]);
    expect(() => crossEntropy(logits, labels([0, 5, 1]))).toThrow(/label 5.*C = 5/);
    expect(() => crossEntropy(logits, labels([0, -1, 1]))).toThrow(/label -1.*C = 5/);
    expect(() => crossEntropy(logits, wg.tensor([0, 1, 2]))).toThrow(/i32/);
    expect(() => crossEntropy(logits, labels([0, 1]))).toThrow(/labels \[2\].*\[3, 5\]/);
  });
});

describe('mseLoss', () => {
  it('is the mean (or sum, or none) of squared differences', () => {
    const p = wg.tensor([1, 2, 3, 4]);
    const t = wg.tensor([0, 2, 5, 1]);
    expect(mseLoss(p, t).item()).toBeCloseTo((1 + 0 + 4 + 9) / 4, 6);
    expect(mseLoss(p, t, { reduction: 'sum' }).item()).toBe(14);
    expect(values(mseLoss(p, t, { reduction: 'none' }))).toEqual([1, 0, 4, 9]);
    expect(() => mseLoss(wg.zeros([4, 1]), wg.zeros([4]))).toThrow(/\[4, 1\].*\[4\]/);
  });

  it('gradients match finite differences', () => {
    for (const reduction of ['mean', 'sum', 'none'] as const)
      gradcheck((p, t) => mseLoss(p!, t!, { reduction }), [f64([2, 3], 1), f64([2, 3], 2)]);
  });
});

// ---- normalisation -------------------------------------------------------------------------

/** Per-channel mean and biased variance of [N, C, …] data, by definition. */
function channelStats(x: number[], shape: number[]) {
  const c = shape[1]!;
  const inner = size(shape.slice(2));
  const groups: number[][] = Array.from({ length: c }, () => []);
  x.forEach((v, i) => groups[Math.floor(i / inner) % c]!.push(v));
  const means = groups.map((g) => g.reduce((a, b) => a + b, 0) / g.length);
  const vars = groups.map((g, k) => g.reduce((a, b) => a + (b - means[k]!) ** 2, 0) / g.length);
  return {
    means,
    vars,
    count: groups[0]!.length,
    channelOf: (i: number) => Math.floor(i / inner) % c,
  };
}

describe('batchNorm', () => {
  for (const shape of [
    [4, 3],
    [2, 3, 2, 2],
  ])
    it(`training normalises with batch statistics and updates running stats as PyTorch (${shape})`, () => {
      const x = uniform(shape, 1, -2, 3);
      const gamma = wg.tensor([1, 2, -1]);
      const beta = wg.tensor([0, 0.5, 1]);
      const runningMean = wg.tensor([0.5, -1, 2]);
      const runningVar = wg.tensor([1, 2, 0.5]);
      const { means, vars, count, channelOf } = channelStats(values(x), shape);
      const y = batchNorm(x, {
        gamma,
        beta,
        runningMean,
        runningVar,
        training: true,
        momentum: 0.1,
        eps: 1e-5,
      });
      const ref = values(x).map((v, i) => {
        const k = channelOf(i);
        return ((v - means[k]!) / Math.sqrt(vars[k]! + 1e-5)) * [1, 2, -1][k]! + [0, 0.5, 1][k]!;
      });
      expectClose(values(y), ref, { rtol: 1e-4, atol: 1e-5 });
      // running = (1 − momentum)·running + momentum·batch, with the unbiased batch variance.
      expectClose(
        values(runningMean),
        [0.5, -1, 2].map((r, k) => 0.9 * r + 0.1 * means[k]!),
        { rtol: 1e-5 },
      );
      expectClose(
        values(runningVar),
        [1, 2, 0.5].map((r, k) => 0.9 * r + 0.1 * vars[k]! * (count / (count - 1))),
        { rtol: 1e-5 },
      );
      expect(runningMean.shape).toEqual([3]);
    });

  it('eval mode uses the running statistics', () => {
    const x = uniform([2, 3, 2, 2], 2);
    const runningMean = wg.tensor([0.1, -0.2, 0.3]);
    const runningVar = wg.tensor([1.5, 0.5, 2]);
    const y = batchNorm(x, {
      runningMean,
      runningVar,
      training: false,
      beta: wg.tensor([1, 1, 1]),
    });
    const ref = values(x).map((v, i) => {
      const k = Math.floor(i / 4) % 3;
      return (v - [0.1, -0.2, 0.3][k]!) / Math.sqrt([1.5, 0.5, 2][k]! + 1e-5) + 1;
    });
    expectClose(values(y), ref, { rtol: 1e-5, atol: 1e-6 });
    expect(values(runningMean)).toEqual(values(wg.tensor([0.1, -0.2, 0.3])));
    expect(() => batchNorm(x, { training: false })).toThrow(/runningMean/);
  });

  it('gradients match finite differences (training and eval)', () => {
    gradcheck(
      (x, g, b) => batchNorm(x!, { gamma: g, beta: b, training: true }),
      [f64([4, 3], 1), f64([3], 2), f64([3], 3)],
    );
    gradcheck(
      (x, g, b) => batchNorm(x!, { gamma: g, beta: b, training: true }),
      [f64([2, 2, 2, 3], 4), f64([2], 5), f64([2], 6)],
    );
    const runningMean = wg.tensor([0.1, 0.2], { dtype: 'f64' });
    const runningVar = wg.tensor([1.5, 0.7], { dtype: 'f64' });
    gradcheck(
      (x, g) => batchNorm(x!, { gamma: g, runningMean, runningVar, training: false }),
      [f64([3, 2, 2], 7), f64([2], 8)],
    );
  });

  it('rejects mismatched parameter shapes and single-value batches', () => {
    expect(() => batchNorm(wg.zeros([2, 3]), { gamma: wg.ones([4]), training: true })).toThrow(
      /gamma \[4\].*\[2, 3\].*\[3\]/,
    );
    expect(() => batchNorm(wg.zeros([1, 3]), { training: true })).toThrow(/more than one value/);
  });
});

describe('layerNorm', () => {
  it('normalises over the trailing axes, then scales and shifts', () => {
    const x = uniform([2, 2, 3], 1, -2, 2);
    const gamma = uniform([2, 3], 2);
    const beta = uniform([2, 3], 3);
    const xs = values(x);
    const g = values(gamma);
    const b = values(beta);
    const ref: number[] = [];
    for (let s = 0; s < 2; s++) {
      const row = xs.slice(s * 6, s * 6 + 6);
      const mu = row.reduce((p, v) => p + v, 0) / 6;
      const v = row.reduce((p, u) => p + (u - mu) ** 2, 0) / 6;
      row.forEach((u, i) => ref.push(((u - mu) / Math.sqrt(v + 1e-5)) * g[i]! + b[i]!));
    }
    expectClose(values(layerNorm(x, [2, 3], { gamma, beta })), ref, { rtol: 1e-4, atol: 1e-5 });
    expect(() => layerNorm(x, [3, 2])).toThrow(/trailing dimensions.*\[2, 2, 3\]/);
  });

  it('gradients match finite differences', () => {
    gradcheck((x) => layerNorm(x!, 4), [f64([3, 4], 1)]);
    gradcheck(
      (x, g, b) => layerNorm(x!, [2, 3], { gamma: g, beta: b }),
      [f64([2, 2, 3], 2), f64([2, 3], 3), f64([2, 3], 4)],
    );
    gradcheck((x, g) => layerNorm(x!, [3], { gamma: g, eps: 1e-3 }), [f64([2, 3], 5), f64([3], 6)]);
  });
});

describe('dropout', () => {
  it('zeroes with probability p and scales the rest by 1/(1 − p); same seed, same mask', () => {
    const x = wg.ones([4000]);
    const y = values(dropout(x, 0.25, { seed: 7 }));
    expect(values(dropout(x, 0.25, { seed: 7 }))).toEqual(y);
    expect(values(dropout(x, 0.25, { seed: 8 }))).not.toEqual(y);
    const kept = y.filter((v) => v !== 0);
    expect(kept.every((v) => Math.abs(v - 1 / 0.75) < 1e-6)).toBe(true);
    // 4000 Bernoulli(0.25) draws: the dropped fraction is within 5 standard deviations.
    const dropped = 1 - kept.length / y.length;
    expect(Math.abs(dropped - 0.25)).toBeLessThan(5 * Math.sqrt((0.25 * 0.75) / 4000));
  });

  it('is the identity in eval mode and for p = 0; p = 1 drops everything', () => {
    const x = uniform([10], 1);
    expect(values(dropout(x, 0.5, { training: false }))).toEqual(values(x));
    expect(values(dropout(x, 0))).toEqual(values(x));
    expect(values(dropout(x, 1, { seed: 3 })).every((v) => v === 0)).toBe(true);
    expect(() => dropout(x, 1.5)).toThrow(/probability/);
  });

  it('gradients match finite differences with a fixed mask', () => {
    gradcheck((x) => dropout(x!, 0.3, { seed: 11 }), [f64([3, 4], 1)]);
    const x = wg.ones([20], { requiresGrad: true });
    const y = dropout(x, 0.4, { seed: 5 });
    y.sum().backward();
    expect(values(x.grad!)).toEqual(values(y));
  });
});

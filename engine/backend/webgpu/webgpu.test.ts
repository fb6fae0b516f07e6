/**
 * The WebGPU device against the CPU reference backend, through Dawn and SwiftShader (Debian's
 * chromium) in CI. Every op with a WebGPU kernel runs the same function on CPU and WebGPU inputs
 * built from the same data, at several shapes with broadcasting, and compares the outputs and,
 * after backward() of a weighted sum, the gradients of every float input. Tolerances are
 * relative 1e-5 (absolute 1e-6) unless a case states a looser bound and why. NaN and ±Inf must
 * match the CPU exactly. No adapter is a failure, never a skip.
 */

import { describe, expect, it } from 'vitest';
import * as wg from '../../index.js';
import type { DType, Tensor, TypedArray } from '../../index.js';
import { defineOp } from '../../ops/registry.js';
import { expectClose, type Tolerance } from '../../../test/helpers/numeric.js';
import { useNodeWebGPU, values } from '../../../test/helpers/webgpu.js';
import { initWebGPU, WEBGPU_TODO } from './index.js';
import {
  chooseTiling,
  MATMUL_CANDIDATES,
  MATMUL_TILINGS,
  setMatmulTiling,
  tilingName,
  tilingSharedBytes,
} from './kernels/matmul.js';

// Without an adapter every test fails with "no WebGPU adapter: …" and what to install.
const gpu = useNodeWebGPU();

// ---- helpers --------------------------------------------------------------------------------

/** An operand: its data, shape and dtype, and whether its gradient is checked. */
interface Operand {
  readonly data: TypedArray;
  readonly shape: readonly number[];
  readonly dtype?: DType;
  readonly grad?: boolean;
}

const f = (shape: readonly number[], seed: number, lo = -1, hi = 1): Operand => ({
  data: values(shape, seed, lo, hi),
  shape,
});
const ints = (data: readonly number[], shape: readonly number[] = [data.length]): Operand => ({
  data: Int32Array.from(data),
  shape,
  dtype: 'i32',
});
const bools = (data: readonly number[], shape: readonly number[] = [data.length]): Operand => ({
  data: Uint8Array.from(data),
  shape,
  dtype: 'bool',
});
const exact = (data: readonly number[], shape: readonly number[] = [data.length]): Operand => ({
  data: Float32Array.from(data),
  shape,
});
const noGradOf = (o: Operand): Operand => ({ ...o, grad: false });

interface CheckOptions extends Tolerance {
  /** Compare gradients too (default: when the output is float and some input requires them). */
  readonly grad?: boolean;
  /** Tolerance for gradients (default: the forward one). */
  readonly gradTol?: Tolerance;
}

/**
 * Runs `fn` on CPU and WebGPU copies of `operands` and compares outputs, then the gradients of
 * sum(fn(...)·w) for fixed random weights w with respect to every float operand.
 */
async function check(
  label: string,
  fn: (...xs: Tensor[]) => Tensor,
  operands: readonly Operand[],
  options: CheckOptions = {},
): Promise<void> {
  const wantGrad = options.grad ?? true;
  const run = (device: wg.DeviceName) => {
    const xs = operands.map((o) =>
      wg.tensor(o.data, {
        shape: o.shape,
        dtype: o.dtype ?? 'f32',
        device,
        requiresGrad: wantGrad && (o.dtype ?? 'f32') === 'f32' && o.grad !== false,
      }),
    );
    const y = fn(...xs);
    if (wantGrad && y.requiresGrad && y.dtype === 'f32') {
      const w = wg.tensor(values(y.shape, 99, 0.5, 1.5), { shape: y.shape, device });
      y.mul(w).sum().backward();
      w.dispose();
    }
    return { xs, y };
  };
  const cpu = run('cpu');
  const gpuRun = run('webgpu');
  try {
    expect(gpuRun.y.device).toBe('webgpu');
    expect(gpuRun.y.shape).toEqual(cpu.y.shape);
    expect(gpuRun.y.dtype).toBe(cpu.y.dtype);
    expectClose(await gpuRun.y.data(), cpu.y.dataSync(), options, `${label}: forward`);
    for (let k = 0; k < operands.length; k++) {
      const gc = cpu.xs[k]!.grad;
      const gg = gpuRun.xs[k]!.grad;
      expect(gg === null, `${label}: gradient ${k} present on both`).toBe(gc === null);
      if (gc && gg)
        expectClose(
          await gg.data(),
          gc.dataSync(),
          options.gradTol ?? options,
          `${label}: grad ${k}`,
        );
    }
  } finally {
    for (const r of [cpu, gpuRun]) {
      for (const x of r.xs) {
        x.grad?.dispose();
        x.dispose();
      }
      r.y.dispose();
    }
  }
}

const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1, -1, 0.5, -2.5, 100, -100, 1e-3, 30, -30];

// ---- the device -----------------------------------------------------------------------------

describe('webgpu device', () => {
  it('initialises through Dawn and reports what it is', () => {
    const info = wg.devices();
    expect(info.map((d) => d.name)).toEqual(expect.arrayContaining(['cpu', 'webgpu']));
    const mine = info.find((d) => d.name === 'webgpu')!;
    expect(mine.description).toMatch(/^WebGPU \(.+\)$/);
    expect(mine.description).toBe(gpu().description);
  });

  it('fails with "no WebGPU adapter" when there is none, or when none answers in time', async () => {
    const none = { requestAdapter: () => Promise.resolve(null) } as unknown as GPU;
    await expect(initWebGPU(none)).rejects.toThrow(/^no WebGPU adapter: .*found none/);
    const silent = { requestAdapter: () => new Promise(() => {}) } as unknown as GPU;
    await expect(initWebGPU(silent, { timeoutMs: 50, hint: 'install X' })).rejects.toThrow(
      /^no WebGPU adapter: requestAdapter\(\) did not answer within 50 ms; install X/,
    );
  });

  it('has a kernel for every op the CPU runs, except the ones listed as still to do', () => {
    // Views and composite ops need no kernels; graph sources (input, parameter) have none.
    const kernelOps = wg.listOps().filter((d) => wg.cpuBackend.hasKernel(d.name));
    expect(kernelOps.length).toBeGreaterThan(40);
    const missing = kernelOps
      .map((d) => d.name)
      .filter((name) => !gpu().hasKernel(name) && !WEBGPU_TODO.includes(name));
    expect(missing, 'ops with neither a webgpu kernel nor a WEBGPU_TODO entry').toEqual([]);
    // The list stays honest: an op that gains a kernel leaves it.
    expect(WEBGPU_TODO.filter((name) => gpu().hasKernel(name))).toEqual([]);
  });

  it('names op and device for an op without a kernel', () => {
    // Every engine op has a WebGPU kernel now: define one that has none anywhere.
    defineOp({
      name: 'webgpuTestKernelless',
      arity: 1,
      attrs: {},
      doc: 'a test op with no kernels',
      inferShape: ([x]) => x!,
    });
    const x = wg.zeros([2, 3], { device: 'webgpu' });
    expect(() => wg.runOp('webgpuTestKernelless', [x], {})).toThrow(
      "no kernel for op 'webgpuTestKernelless' on device 'webgpu'",
    );
    x.dispose();
  });

  it('refuses f64 with a clear error, and synchronous reads', () => {
    expect(() => wg.tensor([1, 2], { dtype: 'f64', device: 'webgpu' })).toThrow(
      /f64 is not supported on device 'webgpu'/,
    );
    const x = wg.ones([2], { device: 'webgpu' });
    expect(() => x.cast('f64')).toThrow(/op 'cast': f64 is not supported on device 'webgpu'/);
    expect(() => x.dataSync()).toThrow(/cannot be read synchronously; use await t.data\(\)/);
    x.dispose();
  });

  it('moves tensors between devices (t.to) and keeps requiresGrad', async () => {
    const x = wg.tensor(
      [
        [1.5, -2],
        [3, 4],
      ],
      { requiresGrad: true },
    );
    const onGpu = await x.to('webgpu');
    expect(onGpu.device).toBe('webgpu');
    expect(onGpu.requiresGrad).toBe(true);
    expect(await x.to('cpu')).toBe(x);
    const back = await onGpu.to('cpu');
    expect(back.arraySync()).toEqual([
      [1.5, -2],
      [3, 4],
    ]);
    const flags = await (await wg.tensor([true, false, true]).to('webgpu')).array();
    expect(flags).toEqual([true, false, true]);
    const idx = await wg.to(wg.tensor(Int32Array.from([-7, 0, 2 ** 31 - 1])), 'webgpu');
    expect(Array.from(await idx.data())).toEqual([-7, 0, 2 ** 31 - 1]);
    expect(() => x.add(onGpu)).toThrow(/inputs live on different devices \(cpu, webgpu\)/);
    wg.dispose([x, onGpu, back, idx]);
  });

  it('creates tensors on the default device', async () => {
    expect(wg.defaultDevice()).toBe('cpu');
    try {
      expect(wg.defaultDevice('webgpu')).toBe('webgpu');
      const t = wg.tensor([1, 2, 3]);
      const z = wg.zeros([2]);
      const r = wg.arange(4);
      expect([t.device, z.device, r.device]).toEqual(['webgpu', 'webgpu', 'webgpu']);
      expect(Array.from(await r.data())).toEqual([0, 1, 2, 3]);
      wg.dispose([t, z, r]);
    } finally {
      wg.defaultDevice('cpu');
    }
  });

  it('caches pipelines by op, dtype, rank and broadcast pattern, not by shape', async () => {
    const add = async (a: number[], b: number[]) => {
      const x = wg.ones(a, { device: 'webgpu' });
      const y = wg.ones(b, { device: 'webgpu' });
      const z = x.add(y);
      await z.data();
      wg.dispose([x, y, z]);
    };
    await add([3, 4], [4]);
    const built = gpu().stats().pipelines;
    await add([5, 7], [7]); // same pattern and collapsed rank, other sizes
    await add([2, 9, 7], [9, 7]); // collapses to the same rank-2 broadcast
    expect(gpu().stats().pipelines).toBe(built);
  });

  it('batches dispatches into few submits', async () => {
    const before = gpu().stats();
    let x = wg.ones([8], { device: 'webgpu' });
    for (let i = 0; i < 40; i++) {
      const next = x.mul(1.01);
      x.dispose();
      x = next;
    }
    expectClose(await x.data(), new Array(8).fill(1.01 ** 40), { rtol: 1e-5 });
    const after = gpu().stats();
    expect(after.dispatches - before.dispatches).toBeGreaterThanOrEqual(40);
    expect(after.submits - before.submits).toBeLessThanOrEqual(4);
    x.dispose();
  });

  it('runs an op with a number as one dispatch: scalars share device constants', async () => {
    const x = wg.tensor([1, 2, 3], { device: 'webgpu' });
    wg.tidy(() => x.mul(0.5)); // holds 0.5 from here on
    const d0 = gpu().stats().dispatches;
    const y = wg.tidy(() => x.mul(0.5).add(0.5));
    expect(gpu().stats().dispatches - d0).toBe(2);
    expect(await y.data()).toEqual(Float32Array.from([1, 1.5, 2]));
    // One bit pattern serves every dtype: f32 0, i32 0 and false are all zero words.
    const zeros = [
      wg.full([], 0, { device: 'webgpu' }),
      wg.full([], 0, { dtype: 'i32', device: 'webgpu' }),
      wg.full([1], 0, { dtype: 'bool', device: 'webgpu' }),
    ];
    expect(await Promise.all(zeros.map((z) => z.array()))).toEqual([0, 0, [false]]);
    wg.dispose([x, y, ...zeros]);
  });

  it('reuses a released constant for a new value only after earlier work read the old one', async () => {
    const x = wg.tensor([1, 2, 3], { device: 'webgpu' });
    const results: Tensor[] = [];
    const expected: number[][] = [];
    // Each iteration's scalar is released at the end of its tidy, before anything is submitted,
    // and the next value takes over a released buffer: the recorded multiply must still see the
    // value it was recorded with.
    for (let i = 0; i < 600; i++) {
      const v = 0.25 + i;
      results.push(wg.tidy(() => x.mul(v)));
      expected.push([1, 2, 3].map((e) => Math.fround(e * v)));
    }
    // More values alive at once than constants are kept: the rest run the fill kernel.
    const held = Array.from({ length: 700 }, (_, i) => wg.full([], 1000 + i, { device: 'webgpu' }));
    const sums = held.map((h) => wg.tidy(() => x.add(h)));
    for (const [i, r] of results.entries()) expect(Array.from(await r.data())).toEqual(expected[i]);
    for (const [i, s] of sums.entries())
      expect(Array.from(await s.data())).toEqual([1, 2, 3].map((e) => e + 1000 + i));
    wg.dispose([x, ...results, ...held, ...sums]);
    gpu().trim(); // destroys unused constants; later ones are made again
    const z = wg.tidy(() => wg.tensor([4], { device: 'webgpu' }).mul(0.25));
    expect(await z.data()).toEqual(Float32Array.from([1]));
    z.dispose();
  });

  it('records a whole training step (forward, backward, Adam) into one submission', async () => {
    const before = wg.defaultDevice();
    wg.defaultDevice('webgpu');
    try {
      const layers = [new wg.nn.Linear(20, 32, { seed: 1 }), new wg.nn.Linear(32, 4, { seed: 2 })];
      const params = layers.flatMap((l) => l.parameters());
      const x = wg.rand([16, 20], { seed: 3 });
      const y = wg.tensor(
        Int32Array.from({ length: 16 }, (_, i) => i % 4),
        { shape: [16] },
      );
      const opt = new wg.optim.Adam(params, { lr: 0.01 });
      const step = async () => {
        const loss = wg.tidy(() => {
          const l = wg.ops.crossEntropy(layers[1]!.forward(layers[0]!.forward(x).relu()), y);
          opt.zeroGrad();
          l.backward();
          opt.step();
          return l.detach();
        });
        await loss.data();
        loss.dispose();
      };
      await step(); // the first step creates the optimiser's state
      const s0 = gpu().stats();
      await step();
      const s1 = gpu().stats();
      expect(s1.dispatches - s0.dispatches).toBeGreaterThan(40);
      expect(s1.submits - s0.submits).toBe(1);
      wg.dispose([...params, x, y]);
    } finally {
      wg.defaultDevice(before);
    }
  });

  it('reports an index out of range at the next read, naming the op', async () => {
    const x = wg.tensor(
      [
        [1, 2],
        [3, 4],
        [5, 6],
      ],
      { device: 'webgpu' },
    );
    const bad = wg.tensor(Int32Array.from([0, 5]), { device: 'webgpu' });
    const y = x.gather(bad);
    await expect(y.data()).rejects.toThrow(/op 'gather': index 5 at flat position 1 .*\[0, 3\)/);
    const labels = wg.tensor(Int32Array.from([1, -1]), { device: 'webgpu' });
    const hot = wg.ops.oneHot(labels, 3);
    await expect(hot.data()).rejects.toThrow(/op 'oneHot': index -1 .*depth is 3/);
    const summed = wg.ops.scatterAdd(x, bad, wg.ones([2, 2], { device: 'webgpu' }));
    await expect(summed.data()).rejects.toThrow(/op 'scatterAdd': index 5 .*\[0, 3\)/);
    // The check is cleared once reported: later reads are clean.
    const two = wg.tensor(Int32Array.from([2]), { device: 'webgpu' });
    const good = x.gather(two);
    expect(await good.array()).toEqual([[5, 6]]);
    wg.dispose([x, bad, y, labels, hot, summed, two, good]);
  });
});

// ---- creation ---------------------------------------------------------------------------------

describe('webgpu creation ops match the CPU', () => {
  it('fill, in every dtype, with the CPU typed-array conversions', async () => {
    for (const [value, dtype] of [
      [2.5, 'f32'],
      [-2.7, 'i32'],
      [3e9, 'i32'],
      [1, 'bool'],
      [NaN, 'f32'],
      [-Infinity, 'f32'],
    ] as const) {
      const c = wg.full([2, 3], value, { dtype });
      const g = wg.full([2, 3], value, { dtype, device: 'webgpu' });
      expectClose(await g.data(), c.dataSync(), {}, `fill ${value} ${dtype}`);
      wg.dispose([c, g]);
    }
  });

  it('arange, integer and fractional', async () => {
    for (const [args, dtype] of [
      [[0, 7, 1], 'i32'],
      [[5, -4, -3], 'i32'],
      [[0, 1, 0.1], 'f32'],
      [[-2, 2, 0.25], 'f32'],
      [[0.5, 6, 1.5], 'i32'],
    ] as const) {
      const c = wg.arange(args[0], args[1], args[2], { dtype });
      const g = wg.arange(args[0], args[1], args[2], { dtype, device: 'webgpu' });
      expectClose(await g.data(), c.dataSync(), { rtol: 1e-6 }, `arange ${args}`);
      wg.dispose([c, g]);
    }
  });

  it('random numbers: the same seed gives the same numbers as on the CPU', async () => {
    for (const seed of [0, 7, 123456789]) {
      const cu = wg.rand([1000], { seed });
      const gu = wg.rand([1000], { seed, device: 'webgpu' });
      expect(Array.from(await gu.data())).toEqual(Array.from(cu.dataSync())); // bit for bit
      const cn = wg.randn([1000], { seed });
      const gn = wg.randn([1000], { seed, device: 'webgpu' });
      // Box–Muller in f32 on the GPU (log and cos from wgsl.ts) against float64 on the CPU.
      expectClose(await gn.data(), cn.dataSync(), { rtol: 1e-6, atol: 1e-6 }, `randn ${seed}`);
      wg.dispose([cu, gu, cn, gn]);
    }
  });
});

// ---- elementwise --------------------------------------------------------------------------

const UNARY_SHAPES = [[7], [3, 5], [2, 3, 4]];

describe('webgpu unary ops match the CPU, forward and gradient', () => {
  const cases: [string, (x: Tensor) => Tensor, number, number, Tolerance?][] = [
    ['neg', (x) => x.neg(), -3, 3],
    ['exp', (x) => x.exp(), -5, 5], // builtin exp: about 3 + 2|x| ulp
    ['log', (x) => x.log(), 0.05, 20],
    ['sqrt', (x) => x.sqrt(), 0.05, 20],
    ['abs', (x) => x.abs(), -3, 3],
    ['sign', (x) => wg.ops.sign(x), -3, 3],
    ['tanh', (x) => x.tanh(), -4, 4],
    ['sigmoid', (x) => x.sigmoid(), -8, 8],
    ['relu', (x) => x.relu(), -3, 3],
    ['leakyRelu', (x) => x.leakyRelu(0.2), -3, 3],
    ['erf', (x) => wg.ops.erf(x), -3, 3],
    // gelu's gradient goes through erf, exp and an f32 cancellation in 1 + erf on both sides.
    ['gelu', (x) => x.gelu(), -4, 4, { rtol: 1e-5, atol: 2e-6 }],
  ];
  for (const [name, fn, lo, hi, tol] of cases)
    it(name, async () => {
      for (const [k, shape] of UNARY_SHAPES.entries())
        await check(`${name} ${shape}`, fn, [f(shape, 10 + k, lo, hi)], tol);
    });

  it('stay accurate (relative 1e-5, no absolute slack) where GPU builtins are poor', async () => {
    const rel: CheckOptions = { rtol: 1e-5, atol: 0 };
    const small = exact([1e-4, -1e-3, 0.01, 0.1, -0.29, 0.31, 0.6, -2, 5, 9, -12]);
    await check('tanh near 0', (t) => t.tanh(), [small], rel);
    await check('erf near 0', (t) => wg.ops.erf(t), [small], rel);
    await check('gelu', (t) => t.gelu(), [exact([-6, -4, -2.5, -1, -0.3, -1e-3, 0.2, 3])], {
      ...rel,
      grad: false,
    });
    const nearOne = exact([0.9999, 0.99999, 1.00001, 1.0001, 1.001, 0.75, 1.5, 3e-30, 1e30, 2e-39]);
    // 2e-39 is subnormal: the GPU may flush it to zero in arithmetic, but not in log's input.
    await check('log near 1', (t) => t.log(), [nearOne], { ...rel, grad: false });
  });
});

const BROADCASTS: [number[], number[]][] = [
  [
    [4, 5],
    [4, 5],
  ],
  [[4, 5], [5]],
  [
    [3, 1, 5],
    [4, 1],
  ],
  [[2, 3], []],
  [[1], [3, 2]],
];

describe('webgpu binary ops match the CPU, with broadcasting, forward and gradient', () => {
  const cases: [
    string,
    (a: Tensor, b: Tensor) => Tensor,
    [number, number],
    [number, number],
    Tolerance?,
  ][] = [
    ['add', (a, b) => a.add(b), [-2, 2], [-2, 2]],
    ['sub', (a, b) => a.sub(b), [-2, 2], [-2, 2]],
    ['mul', (a, b) => a.mul(b), [-2, 2], [-2, 2]],
    ['div', (a, b) => a.div(b), [-2, 2], [0.5, 2]],
    // pow = exp(b·log a) for fractional b: the builtin exp's error grows with |b·log a|.
    ['pow', (a, b) => a.pow(b), [0.5, 2], [-2, 2], { rtol: 1e-5, atol: 1e-6 }],
    ['maximum', (a, b) => a.maximum(b), [-2, 2], [-2, 2]],
    ['minimum', (a, b) => a.minimum(b), [-2, 2], [-2, 2]],
  ];
  for (const [name, fn, ra, rb, tol] of cases)
    it(name, async () => {
      for (const [k, [sa, sb]] of BROADCASTS.entries())
        await check(
          `${name} ${JSON.stringify([sa, sb])}`,
          fn,
          [f(sa, 20 + k, ...ra), f(sb, 30 + k, ...rb)],
          tol,
        );
    });

  it('integer powers are exact; x² and x³ of negative bases keep their sign', async () => {
    await check('pow int', (a, b) => a.pow(b), [
      exact([-3, -2, 0.5, 2, 5], [5, 1]),
      exact([2, 3, -1, 0], [4]),
    ]);
  });

  it('i32 arithmetic, i32 division to f32, and mixed i32/f32 promotion', async () => {
    const a = ints([7, -3, 0, 12, -8, 5], [2, 3]);
    const b = ints([2, -4, 3]);
    for (const op of ['add', 'sub', 'mul', 'div', 'maximum', 'minimum'] as const)
      await check(`${op} i32`, (x, y) => wg.ops[op](x, y), [a, b]);
    await check('pow i32', (x, y) => x.pow(y), [
      ints([2, -3, 1, -1, 0, 5]),
      ints([10, 3, -2, -3, 0, -1]),
    ]);
    await check('add i32+f32', (x, y) => x.add(y), [a, f([3], 5)]);
  });

  it('comparisons of f32 (with ties), i32 and bool give bool', async () => {
    const a = exact([0, 1, 2, -1, 1, 2], [2, 3]);
    const b = exact([1, 1, 0]);
    for (const op of ['equal', 'greater', 'less'] as const) {
      await check(`${op} f32`, (x, y) => wg.ops[op](x, y), [a, b]);
      await check(`${op} i32`, (x, y) => wg.ops[op](x, y), [ints([3, -1, 2, 2]), ints([2], [1])]);
    }
    await check('equal bool', (x, y) => x.equal(y), [bools([1, 0, 1, 0]), bools([1, 1, 0, 0])]);
  });

  it('where, broadcasting condition and branches', async () => {
    const cond = bools([1, 0, 1], [3, 1]);
    await check('where', (c, a, b) => wg.ops.where(c, a, b), [cond, f([1, 4], 1), f([], 2)]);
    await check('where same', (c, a, b) => wg.ops.where(c, a, b), [
      bools([1, 0, 0, 1, 1, 0], [2, 3]),
      f([2, 3], 3),
      f([2, 3], 4),
    ]);
    await check('where i32', (c, a, b) => wg.ops.where(c, a, b), [
      cond,
      ints([1, 2, 3, 4], [4]),
      ints([-5]),
    ]);
  });

  it('cast between every dtype, with the CPU conversions', async () => {
    const odd = exact([
      0,
      -0,
      0.7,
      -0.7,
      2.5,
      -2.5,
      3e9,
      -3e9,
      2 ** 31,
      NaN,
      Infinity,
      -1e20,
      123456.9,
    ]);
    for (const to of ['i32', 'bool'] as const)
      await check(`cast f32>${to}`, (x) => x.cast(to), [odd]);
    const i = ints([0, 1, -5, 2 ** 31 - 1, -(2 ** 31), 16777217]);
    await check('cast i32>f32', (x) => x.cast('f32'), [i]);
    await check('cast i32>bool', (x) => x.cast('bool'), [i]);
    const b = bools([1, 0, 1]);
    await check('cast bool>f32', (x) => x.cast('f32'), [b]);
    await check('cast bool>i32', (x) => x.cast('i32'), [b]);
  });
});

// ---- reductions ---------------------------------------------------------------------------

describe('webgpu reductions match the CPU, forward and gradient', () => {
  const shapes: [number[], number[] | undefined, boolean][] = [
    [[3, 4, 5], undefined, false],
    [[3, 4, 5], [0], false],
    [[3, 4, 5], [-1], true],
    [[3, 4, 5], [0, 2], false],
    [[2, 3, 4, 5], [1, 3], true],
    [[6], [0], false],
    [[3, 300], [1], false], // one workgroup per output (long rows)
    [[40, 30], undefined, false], // the whole tensor, by one workgroup
  ];
  for (const op of ['sum', 'max', 'min'] as const)
    it(op, async () => {
      for (const [k, [shape, axes, keep]] of shapes.entries())
        await check(
          `${op} ${shape} ${axes} ${keep}`,
          (x) => x[op](axes, keep),
          [f(shape, 40 + k)],
          {
            rtol: 1e-5,
            atol: 1e-5, // f32 sums of up to 1200 terms in another order than the CPU's float64
          },
        );
      // Ties share the gradient of max/min.
      await check(`${op} ties`, (x) => x[op](1), [exact([1, 3, 3, 2, 2, 0], [2, 3])]);
      await check(`${op} i32`, (x) => x[op](0), [ints([4, -2, 7, 1, 9, -3], [2, 3])]);
    });

  it('mean', async () => {
    await check('mean', (x) => x.mean([0, 2]), [f([3, 4, 5], 50)]);
  });

  it('argmax, first among ties', async () => {
    await check('argmax 0', (x) => x.argmax(0), [exact([1, 5, 5, 5, 0, 2], [2, 3])]);
    await check('argmax 1', (x) => x.argmax(1, true), [f([4, 7], 51)]);
    await check('argmax all', (x) => x.argmax(), [f([3, 4], 52)]);
    await check('argmax i32', (x) => x.argmax(1), [ints([3, 9, 9, -1, -2, -1], [2, 3])]);
  });
});

// ---- movement -----------------------------------------------------------------------------

describe('webgpu movement ops match the CPU, forward and gradient', () => {
  it('expand', async () => {
    await check('expand', (x) => x.expand([2, 3, 4]), [f([3, 1], 60)]);
    await check('expand lead', (x) => x.expand([5, 4]), [f([4], 61)]);
    await check('expand i32', (x) => x.expand([2, 3]), [ints([1, 2, 3])]);
  });

  it('transpose', async () => {
    await check('transpose 2d', (x) => x.transpose(), [f([3, 5], 62)]);
    await check('transpose 3d', (x) => x.transpose([2, 0, 1]), [f([2, 3, 4], 63)]);
    await check('transpose 4d', (x) => x.transpose([0, 2, 1, 3]), [f([2, 3, 4, 5], 64)]);
    await check('transpose bool', (x) => x.transpose(), [bools([1, 0, 0, 1, 1, 0], [2, 3])]);
  });

  it('slice', async () => {
    await check('slice rows', (x) => x.slice([1], [2]), [f([4, 5], 65)]);
    await check('slice window', (x) => x.slice([0, 1, 2], [2, 2, -1]), [f([3, 4, 5], 66)]);
    await check('slice negative', (x) => x.slice([0, -2]), [f([3, 6], 67)]);
  });

  it('pad', async () => {
    await check(
      'pad',
      (x) =>
        x.pad([
          [1, 0],
          [2, 1],
        ]),
      [f([2, 3], 68)],
    );
    await check(
      'pad value',
      (x) =>
        x.pad(
          [
            [0, 0],
            [1, 1],
            [0, 2],
          ],
          1.5,
        ),
      [f([2, 3, 2], 69)],
    );
    await check('pad i32', (x) => x.pad([[2, 1]], -7), [ints([1, 2, 3])]);
  });

  it('concat', async () => {
    await check('concat 1', (a, b, c) => wg.ops.concat([a, b, c], 1), [
      f([2, 3], 70),
      f([2, 1], 71),
      f([2, 4], 72),
    ]);
    await check('concat 0', (a, b) => wg.ops.concat([a, b], 0), [
      f([2, 3, 2], 73),
      f([1, 3, 2], 74),
    ]);
    await check('stack', (a, b) => wg.ops.stack([a, b], 1), [f([3, 2], 75), f([3, 2], 76)]);
  });

  it('gather, with repeated indices', async () => {
    const idx = noGradOf(ints([2, 0, 2, 1], [2, 2]));
    await check('gather 0', (x, i) => x.gather(i, 0), [f([3, 4], 77), idx]);
    await check('gather 1', (x, i) => x.gather(i, 1), [f([2, 3, 2], 78), idx]);
    await check('gather i32', (x, i) => x.gather(i), [ints([5, 6, 7]), idx]);
  });

  it('scatterAdd, with repeated indices (atomics)', async () => {
    const idx = ints([2, 0, 2, 2]);
    await check('scatterAdd 0', (x, i, u) => wg.ops.scatterAdd(x, i, u, 0), [
      f([3, 2], 79),
      idx,
      f([4, 2], 80),
    ]);
    await check('scatterAdd 1', (x, i, u) => wg.ops.scatterAdd(x, i, u, 1), [
      f([2, 3], 81),
      idx,
      f([2, 4], 82),
    ]);
    await check('scatterAdd i32', (x, i, u) => wg.ops.scatterAdd(x, i, u), [
      ints([1, 2, 3]),
      idx,
      ints([10, 20, 30, 40]),
    ]);
  });

  it('oneHot', async () => {
    await check('oneHot', (i) => wg.ops.oneHot(i, 4), [ints([3, 0, 1, 3], [2, 2])]);
    await check(
      'oneHot i32',
      (i) => wg.ops.oneHot(i, 3, { dtype: 'i32', onValue: 5, offValue: -1 }),
      [ints([2, 0])],
    );
  });

  it('reshape and squeeze are views; their gradients flow on the device', async () => {
    await check('reshape', (x) => x.reshape([4, 3]).mul(x.reshape([4, 3])), [f([2, 6], 83)]);
    await check('squeeze', (x) => wg.ops.squeeze(x).exp(), [f([1, 3, 1], 84)]);
  });
});

// ---- neural-network ops -------------------------------------------------------------------

describe('webgpu matmul and softmax match the CPU, forward and gradient', () => {
  // f32 accumulation of up to 33 products against the CPU's float64.
  const mm: Tolerance = { rtol: 1e-5, atol: 1e-5 };

  it('matmul: plain, transposed, batched with broadcasting, vectors, several tiles', async () => {
    const cases: [number[], number[], boolean, boolean][] = [
      [[3, 4], [4, 5], false, false],
      [[4, 3], [4, 5], true, false],
      [[3, 4], [5, 4], false, true],
      [[4, 3], [5, 4], true, true],
      [[2, 3, 4], [4, 5], false, false],
      [[2, 1, 3, 4], [3, 4, 2], false, false],
      [[4], [4, 5], false, false],
      [[3, 4], [4], false, false],
      [[4], [4], false, false],
      [[20, 33], [33, 17], false, false],
      [[33, 20], [2, 17, 33], true, true],
    ];
    for (const [k, [sa, sb, ta, tb]] of cases.entries())
      await check(
        `matmul ${JSON.stringify([sa, sb, ta, tb])}`,
        (a, b) => wg.ops.matmul(a, b, { transposeA: ta, transposeB: tb }),
        [f(sa, 90 + k), f(sb, 110 + k)],
        mm,
      );
    await check('matmul i32', (a, b) => a.matmul(b), [
      ints([1, 2, 3, 4, 5, 6], [2, 3]),
      ints([1, -1, 2], [3, 1]),
    ]);
  });

  it('matmul: every register-blocked tiling, ragged edges, transposes and batches', async () => {
    // Shapes that leave partial tiles in m, n and k for every tiling, and K spanning tiles.
    const cases: [number[], number[], boolean, boolean][] = [
      // Gradients run the transposed variants of each case too. Odd sizes fetch scalars;
      // multiples of 4 fetch vec4s along the contiguous axis.
      [[37, 45], [45, 70], false, false],
      [[44, 36], [68, 44], true, true],
      [[2, 36, 20], [20, 40], false, false],
      [[130, 9], [9, 131], false, false],
    ];
    const tilings = [...MATMUL_TILINGS, { bm: 64, bn: 32, bk: 8, tm: 8, tn: 4 }];
    try {
      for (const tiling of tilings) {
        setMatmulTiling(tiling);
        for (const [k, [sa, sb, ta, tb]] of cases.entries())
          await check(
            `matmul ${JSON.stringify(tiling)} ${JSON.stringify([sa, sb, ta, tb])}`,
            (a, b) => wg.ops.matmul(a, b, { transposeA: ta, transposeB: tb }),
            [f(sa, 150 + k), f(sb, 170 + k)],
            { rtol: 1e-4, atol: 1e-4 },
          );
      }
    } finally {
      setMatmulTiling(null);
    }
    expect(() => setMatmulTiling({ bm: 64, bn: 64, bk: 8, tm: 6, tn: 4 })).toThrow(/not a valid/);
  }, 120_000);

  it('matmul: candidate tilings (vec4 stores, double-buffered tiles) match the CPU', async () => {
    // Ragged and multiple-of-4 row lengths (scalar and vec4 stores), several k tiles, batches.
    const cases: [number[], number[], boolean, boolean][] = [
      [[37, 45], [45, 70], false, false],
      [[44, 36], [68, 44], true, true],
      [[2, 36, 20], [20, 40], false, false],
      [[130, 33], [33, 131], false, false],
      [[131, 40], [132, 40], false, true],
    ];
    const maxShared = gpu().gpuDevice.limits.maxComputeWorkgroupStorageSize;
    const fitting = MATMUL_CANDIDATES.filter((t) => tilingSharedBytes(t) <= maxShared);
    expect(fitting.length).toBe(MATMUL_CANDIDATES.length);
    try {
      for (const tiling of fitting) {
        setMatmulTiling(tiling);
        for (const [k, [sa, sb, ta, tb]] of cases.entries())
          await check(
            `matmul ${tilingName(tiling)} ${JSON.stringify([sa, sb, ta, tb])}`,
            (a, b) => wg.ops.matmul(a, b, { transposeA: ta, transposeB: tb }),
            [f(sa, 190 + k), f(sb, 210 + k)],
            { rtol: 1e-4, atol: 1e-4 },
          );
      }
    } finally {
      setMatmulTiling(null);
    }
    expect(tilingName(MATMUL_CANDIDATES[1]!)).toBe('64x128x16/4x8+db+v4');
    expect(tilingSharedBytes(MATMUL_CANDIDATES[1]!)).toBe(
      2 * tilingSharedBytes(MATMUL_TILINGS[0]!),
    );
  }, 300_000);

  it('matmul picks a tiling that fills the GPU for the product size', () => {
    const big = 1 << 16;
    expect(chooseTiling(4096, 4096, 1, big)).toEqual(MATMUL_TILINGS[0]);
    expect(chooseTiling(1024, 1024, 1, big)).toEqual(MATMUL_TILINGS[0]);
    expect(chooseTiling(768, 768, 1, big)).toEqual(MATMUL_TILINGS[1]);
    expect(chooseTiling(512, 512, 1, big)).toEqual(MATMUL_TILINGS[2]);
    expect(chooseTiling(8, 8, 1, big)).toBe('simple');
    // Many small products fill the GPU as well as one large one.
    expect(chooseTiling(256, 256, 64, big)).toEqual(MATMUL_TILINGS[0]);
    // A tiling that needs more workgroup memory than the device has is never chosen.
    expect(tilingSharedBytes(MATMUL_TILINGS[1]!)).toBeGreaterThan(6000);
    expect(chooseTiling(4096, 4096, 1, 6000)).toEqual(MATMUL_TILINGS[2]);
  });

  it('softmax and logSoftmax along any axis', async () => {
    for (const [k, [shape, axis]] of (
      [
        [[3, 5], -1],
        [[3, 4, 5], 1],
        [[4, 3], 0],
      ] as const
    ).entries()) {
      await check(`softmax ${shape} ${axis}`, (x) => x.softmax(axis), [f(shape, 130 + k, -4, 4)]);
      await check(`logSoftmax ${shape} ${axis}`, (x) => x.logSoftmax(axis), [
        f(shape, 140 + k, -4, 4),
      ]);
    }
    // One dominant logit: log-sum-exp is tiny and still accurate (log1p of the rest).
    await check('logSoftmax dominant', (x) => x.logSoftmax(), [
      exact([30, 0, -1, 12, 0, 0], [2, 3]),
    ]);
  });

  it('composite ops run on the device: crossEntropy, layerNorm, mseLoss, dropout', async () => {
    const labels = ints([2, 0, 1, 2]);
    await check('crossEntropy', (x, y) => wg.ops.crossEntropy(x, y), [
      f([4, 3], 150, -3, 3),
      labels,
    ]);
    await check(
      'crossEntropy smoothing',
      (x, y) => wg.ops.crossEntropy(x, y, { labelSmoothing: 0.1 }),
      [f([4, 3], 151, -3, 3), labels],
    );
    await check('layerNorm', (x) => wg.ops.layerNorm(x, [4]), [f([3, 4], 152)], {
      rtol: 1e-5,
      atol: 1e-5,
    });
    await check('mseLoss', (a, b) => wg.ops.mseLoss(a, b), [f([5, 2], 153), f([5, 2], 154)]);
    await check('dropout', (x) => wg.ops.dropout(x, 0.3, { seed: 9 }), [f([4, 6], 155)]);
  });
});

// ---- NaN and Inf ----------------------------------------------------------------------------

describe('webgpu NaN and Inf behave as on the CPU', () => {
  const x = exact(SPECIAL);

  it('unary ops: relu(NaN), exp(inf), log(0), tanh(±inf), …', async () => {
    for (const name of [
      'relu',
      'exp',
      'log',
      'sqrt',
      'tanh',
      'sigmoid',
      'abs',
      'neg',
      'gelu',
    ] as const)
      await check(`${name} special`, (t) => t[name](), [x], { grad: false });
    await check('erf special', (t) => wg.ops.erf(t), [x], { grad: false });
    await check('sign special', (t) => wg.ops.sign(t), [x], { grad: false });
    await check('leakyRelu special', (t) => t.leakyRelu(0.1), [x], { grad: false });
  });

  it('binary ops: maximum(NaN, 1), division by zero, comparisons with NaN', async () => {
    const y = exact([1, NaN, 0, -0, Infinity, -Infinity], [6, 1]);
    for (const op of [
      'maximum',
      'minimum',
      'add',
      'mul',
      'div',
      'equal',
      'greater',
      'less',
    ] as const)
      await check(`${op} special`, (a, b) => wg.ops[op](a, b), [x, y], { grad: false });
  });

  it('pow: every special case of Math.pow', async () => {
    const a = exact([NaN, Infinity, -Infinity, 0, -0, 1, -1, 2, -2, 0.5, -0.5, 3], [12, 1]);
    const b = exact([NaN, Infinity, -Infinity, 0, -0, 1, -1, 2, 3, -2, -3, 0.5, -0.5, 2.5]);
    await check('pow special', (s, t) => s.pow(t), [a, b], { grad: false });
  });

  it('reductions: sum, max and min with NaN are NaN; argmax picks the first NaN', async () => {
    const withNaN = exact([1, NaN, 3, -Infinity, 2, Infinity, NaN, 0, 5, 1, 2, 3], [3, 4]);
    for (const op of ['sum', 'max', 'min'] as const) {
      await check(`${op} NaN rows`, (t) => t[op](1), [withNaN], { grad: false });
      await check(`${op} NaN all`, (t) => t[op](), [withNaN], { grad: false });
    }
    await check('max inf', (t) => t.max(0), [exact([-Infinity, -Infinity, Infinity, 1], [2, 2])], {
      grad: false,
    });
    await check('argmax NaN', (t) => t.argmax(1), [withNaN]);
    await check('argmax NaN first', (t) => t.argmax(0), [exact([NaN, 1, 2, NaN], [2, 2])]);
  });

  it('softmax of rows with NaN, +Inf or only -Inf is NaN, as on the CPU', async () => {
    const rows = exact(
      [1, NaN, 2, 1, Infinity, 2, -Infinity, -Infinity, -Infinity, -Infinity, 0, 1],
      [4, 3],
    );
    await check('softmax special', (t) => t.softmax(), [rows], { grad: false });
    await check('logSoftmax special', (t) => t.logSoftmax(), [rows], { grad: false });
  });

  it('casts of NaN and ±Inf', async () => {
    await check('cast special', (t) => t.cast('i32'), [x]);
    await check('cast special bool', (t) => t.cast('bool'), [x]);
  });
});

// ---- memory ---------------------------------------------------------------------------------

describe('webgpu memory', () => {
  // 1,000 steps take about 5 s on SwiftShader: the GPU work is a few tiny kernels per step.
  it('1,000 steps of a training loop keep live tensors and pool buffers flat', async () => {
    const device = 'webgpu';
    const xData = values([16, 4], 200);
    const yData = Float32Array.from({ length: 16 }, (_, i) => Math.sin(xData[4 * i]! * 2));
    const x = wg.tensor(xData, { shape: [16, 4], device });
    const y = wg.tensor(yData, { shape: [16, 1], device });
    const w1 = wg.tensor(values([4, 8], 201, -0.5, 0.5), {
      shape: [4, 8],
      device,
      requiresGrad: true,
    });
    const b1 = wg.zeros([8], { device, requiresGrad: true });
    const w2 = wg.tensor(values([8, 1], 202, -0.5, 0.5), {
      shape: [8, 1],
      device,
      requiresGrad: true,
    });
    const params = [w1, b1, w2];
    const lossAt = async (): Promise<number> => {
      const l = wg.tidy(() => wg.ops.mseLoss(x.matmul(w1).add(b1).tanh().matmul(w2), y));
      const v = (await l.data())[0]!;
      l.dispose();
      return v;
    };
    const step = () =>
      wg.tidy(() => {
        const loss = wg.ops.mseLoss(x.matmul(w1).add(b1).tanh().matmul(w2), y);
        loss.backward();
        wg.noGrad(() => {
          for (const p of params) {
            p.assign(p.sub(p.grad!.mul(0.1)));
            p.grad!.dispose();
            p.grad = null;
          }
        });
      });
    const first = await lossAt();
    let live: { tensors: number; buffers: number; created: number } | null = null;
    for (let i = 0; i < 1000; i++) {
      step();
      if (i === 9) {
        await gpu().flush();
        live = {
          tensors: wg.memory().tensors,
          buffers: gpu().stats().liveBuffers,
          created: gpu().stats().created,
        };
      }
    }
    await gpu().flush();
    expect(wg.memory().tensors).toBe(live!.tensors);
    expect(gpu().stats().liveBuffers).toBe(live!.buffers);
    expect(gpu().stats().created, 'no new GPU buffers after warm-up: the pool reuses them').toBe(
      live!.created,
    );
    const last = await lossAt();
    expect(last).toBeLessThan(first * 0.5);
    wg.dispose([x, y, ...params]);
  }, 30_000);
});

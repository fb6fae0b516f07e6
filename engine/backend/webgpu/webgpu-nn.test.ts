/**
 * The WebGPU convolution and pooling kernels against the CPU reference backend, through Dawn and
 * SwiftShader in CI: forward values, gradients (the backward ops) and gradients of gradients
 * (the backward ops' own adjoints) at stride 2, padding (symmetric and 'same'-asymmetric),
 * dilation 2, groups 2 and depthwise, non-square windows and 1×1 kernels; NaN in max pooling;
 * and a few SGD steps of the MNIST CNN example (examples/cnn-mnist.json) whose loss curve on
 * 'webgpu' follows the CPU's. Tolerances are stated per block; no adapter is a failure.
 */

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as wg from '../../index.js';
import type { Tensor } from '../../index.js';
import { fusedElementwise } from '../../jit/index.js';
import { convUsesGemm, setConvPath } from './kernels/conv.js';
import { mnistDigits } from '../../node/mnist.js';
import { expectClose, type Tolerance } from '../../../test/helpers/numeric.js';
import { useNodeWebGPU, values } from '../../../test/helpers/webgpu.js';

const gpu = useNodeWebGPU();

interface Operand {
  readonly data: Float32Array;
  readonly shape: readonly number[];
}

const f = (shape: readonly number[], seed: number): Operand => ({
  data: values(shape, seed),
  shape,
});

/** Small integers in [-2, 2]: max-pool windows full of ties, so "first maximum" matters. */
const ties = (shape: readonly number[], seed: number): Operand => ({
  data: values(shape, seed).map((v) => Math.round(v * 2)),
  shape,
});

/**
 * Runs `fn` on CPU and WebGPU copies of `operands`, compares the outputs, then the gradients
 * of L = sum(fn(...)·w) (fixed random w) with respect to every operand, and, when `second`,
 * the gradients of sum_k sum(dL/dx_k · v_k) (fixed random v_k): grad of grad, which runs the
 * backward ops' own adjoints.
 */
async function check(
  label: string,
  fn: (...xs: Tensor[]) => Tensor,
  operands: readonly Operand[],
  tol: Tolerance,
  second = false,
): Promise<void> {
  const argnums = operands.map((_, k) => k);
  const run = (device: wg.DeviceName) =>
    wg.tidy(() => {
      const xs = operands.map((o) => wg.tensor(o.data, { shape: o.shape, device }));
      const y = fn(...xs);
      const w = wg.tensor(values(y.shape, 99, 0.5, 1.5), { shape: y.shape, device });
      const loss = (...as: Tensor[]) =>
        fn(...as)
          .mul(w)
          .sum();
      const grads = wg.grad(loss, argnums);
      const results = [y, ...grads(...xs)];
      if (second) {
        const vs = operands.map((o, k) =>
          wg.tensor(values(o.shape, 7 + k), { shape: o.shape, device }),
        );
        const inner = (...as: Tensor[]) =>
          grads(...as)
            .map((g, k) => g.mul(vs[k]!).sum())
            .reduce((a, b) => a.add(b));
        results.push(...wg.grad(inner, argnums)(...xs));
      }
      return results.map((t) => wg.keep(t));
    });
  const cpu = run('cpu');
  const gpuOut = run('webgpu');
  try {
    expect(gpuOut[0]!.device).toBe('webgpu');
    expect(gpuOut[0]!.shape).toEqual(cpu[0]!.shape);
    for (let k = 0; k < cpu.length; k++)
      expectClose(await gpuOut[k]!.data(), cpu[k]!.dataSync(), tol, `${label}: result ${k}`);
  } finally {
    wg.dispose([...cpu, ...gpuOut]);
  }
}

// f32 sums of up to a few hundred products against the CPU's float64.
const convTol: Tolerance = { rtol: 1e-4, atol: 1e-4 };

const convCases: [string, number[], number[], wg.ops.Conv2dOptions][] = [
  ['plain 3×3', [2, 3, 7, 6], [4, 3, 3, 3], {}],
  ['stride 2, padding 1', [2, 3, 8, 7], [4, 3, 3, 3], { stride: 2, padding: 1 }],
  ['dilation 2, padding [2, 1]', [1, 2, 9, 8], [3, 2, 3, 2], { dilation: 2, padding: [2, 1] }],
  ['groups 2', [2, 4, 6, 6], [6, 2, 3, 3], { groups: 2 }],
  [
    'depthwise (groups 3), stride 2, dilation 2',
    [1, 3, 9, 9],
    [3, 1, 3, 3],
    { groups: 3, stride: 2, dilation: 2, padding: 1 },
  ],
  [
    'non-square: kernel 2×3, stride [2, 1], padding [1, 0], dilation [1, 2]',
    [2, 2, 7, 9],
    [3, 2, 2, 3],
    { stride: [2, 1], padding: [1, 0], dilation: [1, 2] },
  ],
  [
    "'same' with an even kernel (asymmetric padding)",
    [1, 2, 6, 5],
    [2, 2, 4, 4],
    {
      padding: 'same',
    },
  ],
  ['1×1', [2, 5, 4, 4], [3, 5, 1, 1], {}],
  // The filter gradient sums 4·12·12 = 576 products per element: several per invocation.
  ['long filter reduction', [4, 2, 14, 14], [2, 2, 3, 3], {}],
];

describe('webgpu conv2d matches the CPU, forward and both gradients', () => {
  beforeAll(() => setConvPath('direct'));
  afterAll(() => setConvPath(null));
  for (const [k, [name, xs, ws, options]] of convCases.entries())
    it(name, async () => {
      await check(
        `conv2d ${name}`,
        (x, w) => wg.ops.conv2d(x, w, options),
        [f(xs, 10 + k), f(ws, 30 + k)],
        convTol,
      );
    });

  it('gradients of gradients (backprop ops through their own adjoints)', async () => {
    await check(
      'conv2d grad of grad',
      (x, w) => wg.ops.conv2d(x, w, { stride: 2, padding: 1, groups: 2, dilation: [2, 1] }),
      [f([2, 4, 7, 6], 50), f([4, 2, 2, 3], 51)],
      convTol,
      true,
    );
  });

  it('reuses one pipeline per op for every geometry', async () => {
    const before = gpu().stats().pipelines;
    const x = wg.tensor(values([1, 2, 5, 5], 60), { shape: [1, 2, 5, 5], device: 'webgpu' });
    const w = wg.tensor(values([2, 1, 2, 2], 61), { shape: [2, 1, 2, 2], device: 'webgpu' });
    const y = wg.ops.conv2d(x, w, { groups: 2, stride: [1, 2], padding: [1, 0], dilation: 2 });
    await y.data();
    expect(gpu().stats().pipelines).toBe(before);
    wg.dispose([x, w, y]);
  });
});

// Implicit GEMM sums in a different order from the direct kernels; the reductions here are up
// to a few thousand products long.
const gemmTol: Tolerance = { rtol: 2e-4, atol: 2e-4 };
// A software adapter (SwiftShader) takes seconds to compile each GEMM kernel on first use.
const COMPILE_MS = 120_000;

describe('webgpu conv2d as implicit GEMM matches the CPU, forward and both gradients', () => {
  beforeAll(() => setConvPath('gemm'));
  afterAll(() => setConvPath(null));
  for (const [k, [name, xs, ws, options]] of convCases.entries())
    it(
      name,
      async () => {
        await check(
          `gemm conv2d ${name}`,
          (x, w) => wg.ops.conv2d(x, w, options),
          [f(xs, 10 + k), f(ws, 30 + k)],
          convTol,
        );
      },
      COMPILE_MS,
    );

  // Sizes that are not multiples of the tiles (64, 32 or 16 rows, 64 columns, 16 deep), each
  // tiling (the cases above have at most 16 rows), batches, and filter gradients long enough
  // to be split.
  const larger: [string, number[], number[], wg.ops.Conv2dOptions][] = [
    [
      '37 output channels, stride 2, padding 1, batch 3',
      [3, 5, 13, 11],
      [37, 5, 3, 3],
      { stride: 2, padding: 1 },
    ],
    [
      'groups 2 with 35 channels per group, odd spatial',
      [2, 6, 15, 17],
      [70, 3, 3, 3],
      { groups: 2, padding: [0, 1] },
    ],
    ['split filter reduction (batch 4, 20×20)', [4, 3, 20, 20], [5, 3, 3, 3], {}],
    [
      '17 to 32 rows (the 32-row tiling), padding 1',
      [2, 20, 9, 10],
      [24, 20, 3, 3],
      { padding: 1 },
    ],
    [
      'stride 2, dilation 2, kernel 5×3',
      [2, 4, 19, 14],
      [9, 4, 5, 3],
      { stride: 2, dilation: 2, padding: 2 },
    ],
  ];
  for (const [k, [name, xs, ws, options]] of larger.entries())
    it(
      name,
      async () => {
        await check(
          `gemm conv2d ${name}`,
          (x, w) => wg.ops.conv2d(x, w, options),
          [f(xs, 70 + k), f(ws, 80 + k)],
          gemmTol,
        );
      },
      COMPILE_MS,
    );

  it(
    'gradients of gradients (backprop ops through their own adjoints)',
    async () => {
      await check(
        'gemm conv2d grad of grad',
        (x, w) => wg.ops.conv2d(x, w, { stride: 2, padding: 1, groups: 2, dilation: [2, 1] }),
        [f([2, 4, 7, 6], 50), f([4, 2, 2, 3], 51)],
        convTol,
        true,
      );
    },
    COMPILE_MS,
  );
});

describe('webgpu conv2d picks implicit GEMM by size', () => {
  it(
    'a layer of the MNIST CNN size runs as GEMM and matches the CPU',
    async () => {
      setConvPath(null);
      const layer = { x: [4, 8, 14, 14], w: [16, 8, 3, 3], y: [4, 16, 14, 14] };
      const tiny = { x: [1, 2, 5, 5], w: [2, 1, 2, 2], y: [1, 2, 5, 2] };
      for (const op of ['forward', 'input', 'filter'] as const) {
        expect(convUsesGemm(op, layer, 1)).toBe(true);
        // The geometry of the pipeline-reuse test above runs as direct kernels.
        expect(convUsesGemm(op, tiny, 2)).toBe(false);
      }
      await check(
        'auto conv2d 8×16 channels, batch 4, 14×14',
        (x, w) => wg.ops.conv2d(x, w, { padding: 1 }),
        [f([4, 8, 14, 14], 90), f([16, 8, 3, 3], 91)],
        gemmTol,
      );
      // Another geometry with the same tilings compiles nothing new.
      const after = gpu().stats().pipelines;
      await check(
        'auto conv2d, another geometry',
        (x, w) => wg.ops.conv2d(x, w, { padding: 2, stride: 2 }),
        [f([3, 8, 17, 15], 92), f([16, 8, 5, 5], 93)],
        gemmTol,
      );
      expect(gpu().stats().pipelines).toBe(after);
    },
    COMPILE_MS,
  );
});

// Max pooling selects (exact); its gradient sums dy over overlapping windows and averages
// divide sums, in f32 on the GPU where the CPU uses float64.
const exactTol: Tolerance = { rtol: 0, atol: 0 };
const maxGradTol: Tolerance = { rtol: 1e-6, atol: 1e-6 };
const avgTol: Tolerance = { rtol: 1e-5, atol: 1e-6 };

describe('webgpu pooling matches the CPU, forward, gradient and grad of grad', () => {
  const windows: [string, number[], wg.ops.Pool2dOptions][] = [
    ['2×2 stride 2', [2, 3, 6, 6], { kernelSize: 2 }],
    [
      '3×3 stride 2 padding 1 (overlapping)',
      [1, 2, 7, 8],
      { kernelSize: 3, stride: 2, padding: 1 },
    ],
    [
      'non-square 2×3, stride [1, 2], padding [1, 1]',
      [2, 1, 5, 7],
      { kernelSize: [2, 3], stride: [1, 2], padding: [1, 1] },
    ],
    ['1×1', [1, 2, 3, 4], { kernelSize: 1 }],
  ];
  for (const [k, [name, shape, options]] of windows.entries()) {
    it(`maxPool2d ${name}, with ties (first maximum wins)`, async () => {
      // Grad of grad runs maxPool2dGrad's adjoint maxPool2dGather.
      await check(
        `maxPool2d ${name}`,
        (x) => wg.ops.maxPool2d(x, options),
        [ties(shape, 70 + k)],
        maxGradTol,
      );
      await check(
        `maxPool2dGrad ${name}`,
        (x, dy) => wg.ops.maxPool2dGrad(x.detach(), dy, options),
        [ties(shape, 80 + k), f(poolShape(shape, options), 90 + k)],
        maxGradTol,
        true,
      );
    });
    for (const countIncludePad of [true, false])
      it(`avgPool2d ${name}, countIncludePad ${countIncludePad}`, async () => {
        await check(
          `avgPool2d ${name} ${countIncludePad}`,
          (x) => wg.ops.avgPool2d(x, { ...options, countIncludePad }),
          [f(shape, 100 + k)],
          avgTol,
          true,
        );
      });
  }

  it('maxPool2d: NaN counts as the maximum, its first occurrence takes the gradient', async () => {
    // prettier-ignore
    const x = Float32Array.from([
      1,   NaN, 3,   2,
      NaN, 0,   -1,  5,
      4,   4,   NaN, NaN,
      7,   0,   0,   7,
    ]);
    const options = { kernelSize: 3, stride: 1, padding: 1 };
    const t = wg.tensor(x, { shape: [1, 1, 4, 4], device: 'webgpu', requiresGrad: true });
    const y = wg.ops.maxPool2d(t, options);
    y.sum().backward();
    // By hand: every window that holds a NaN gives NaN; the two without give 5 and 7.
    // prettier-ignore
    expectClose(await y.data(), [
      NaN, NaN, NaN, 5,
      NaN, NaN, NaN, NaN,
      NaN, NaN, NaN, NaN,
      7,   NaN, NaN, NaN,
    ], exactTol);
    // Each window's gradient goes to its first NaN in row-major order: (0, 1) is first in six
    // windows, (1, 0) in two, (2, 2) in six; 5 and 7 take the windows without NaN.
    // prettier-ignore
    expectClose(await t.grad!.data(), [
      0, 6, 0, 0,
      2, 0, 0, 1,
      0, 0, 6, 0,
      1, 0, 0, 0,
    ], exactTol);
    wg.dispose([t, t.grad!, y]);
    await check(
      'maxPool2d NaN',
      (a) => wg.ops.maxPool2d(a, options),
      [{ data: x, shape: [1, 1, 4, 4] }],
      exactTol,
    );
  });
});

function poolShape(x: readonly number[], o: wg.ops.Pool2dOptions): number[] {
  const pair = (v: number | readonly number[] | undefined, d: number): [number, number] =>
    v === undefined ? [d, d] : typeof v === 'number' ? [v, v] : [v[0]!, v[1]!];
  const [kh, kw] = pair(o.kernelSize, 1);
  const [sh, sw] = pair(o.stride ?? o.kernelSize, 1);
  const [ph, pw] = pair(o.padding, 0);
  return [
    x[0]!,
    x[1]!,
    Math.floor((x[2]! + 2 * ph - kh) / sh) + 1,
    Math.floor((x[3]! + 2 * pw - kw) / sw) + 1,
  ];
}

describe('the MNIST CNN trains on webgpu as on the CPU', () => {
  // SwiftShader runs about 10⁷ multiply-adds a second: a batch of 64 takes about 3 s.
  const BATCH = 64;

  /** The MNIST CNN example with its parameters on `device`. */
  async function cnnOn(device: wg.DeviceName) {
    const json = JSON.parse(
      readFileSync(new URL('../../../examples/cnn-mnist.json', import.meta.url), 'utf8'),
    ) as { nodes: { op: string; device?: string }[] };
    // Constants are made on the default device (the CPU) unless pinned: pin them to the
    // device the inputs live on.
    const graph = wg.Graph.fromJSON({
      ...json,
      nodes: json.nodes.map((n) => (n.op === 'constant' ? { ...n, device } : n)),
    });
    const params = new Map<string, Tensor>();
    for (const [id, p] of graph.initParameters()) params.set(id, await p.to(device));
    return { graph, params };
  }

  it('one epoch of 256 digits in batches of 64: the loss curve of the CPU (relative 1e-5)', async () => {
    const { train } = await mnistDigits({ train: 256, test: 0 });
    const losses = async (device: wg.DeviceName): Promise<number[]> => {
      const { graph, params } = await cnnOn(device);
      const optimizer = new wg.optim.SGD(params.values(), { lr: 0.05, momentum: 0.9 });
      const x = await train.x.to(device);
      const y = await train.y.to(device);
      const out: number[] = [];
      for (let start = 0; start < 256; start += BATCH) {
        const loss = wg.tidy(() => {
          const xb = wg.ops.slice(x, [start, 0, 0, 0], [BATCH, 1, 28, 28]);
          const yb = wg.ops.slice(y, [start], [BATCH]);
          const outs = graph.run({ x: xb, y: yb }, { params });
          optimizer.zeroGrad();
          outs['loss']!.backward();
          optimizer.step();
          return outs['loss']!.detach();
        });
        out.push((await loss.data())[0]!);
        loss.dispose();
      }
      // (On the CPU, to() returns the dataset's own tensors: keep those for the next run.)
      wg.dispose([...params.values(), ...(device === 'cpu' ? [] : [x, y])]);
      return out;
    };
    const cpuLosses = await losses('cpu');
    const gpuLosses = await losses('webgpu');
    // It learns: the loss falls from about ln 10.
    expect(cpuLosses[3]!).toBeLessThan(cpuLosses[0]!);
    // f32 GPU arithmetic against the CPU's float64 accumulation, compounded over four steps
    // (observed: agreement to about 1e-7 relative).
    expectClose(gpuLosses, cpuLosses, { rtol: 1e-5, atol: 0 }, 'loss curve');
  }, 60_000);

  it('12 batches of 64 digits with Adam: the same accuracy on 500 held-out digits', async () => {
    const STEPS = 12;
    const { train, test } = await mnistDigits({ train: STEPS * BATCH, test: 500 });
    const labels = Array.from(test.y.dataSync());
    /** Trains on `device` and returns the held-out predictions. */
    const predictions = async (device: wg.DeviceName): Promise<number[]> => {
      const { graph, params } = await cnnOn(device);
      const optimizer = new wg.optim.Adam(params.values(), { lr: 0.003 });
      const [x, y, tx, ty] = await Promise.all(
        [train.x, train.y, test.x, test.y].map((t) => t.to(device)),
      );
      for (let step = 0; step < STEPS; step++)
        wg.tidy(() => {
          const xb = wg.ops.slice(x!, [step * BATCH, 0, 0, 0], [BATCH, 1, 28, 28]);
          const yb = wg.ops.slice(y!, [step * BATCH], [BATCH]);
          const outs = graph.run({ x: xb, y: yb }, { params });
          optimizer.zeroGrad();
          outs['loss']!.backward();
          optimizer.step();
        });
      const predicted = wg.noGrad(() =>
        graph.run({ x: tx!, y: ty! }, { params })['logits']!.argmax(1),
      );
      const out = Array.from(await predicted.data());
      predicted.dispose();
      wg.dispose([...params.values(), ...(device === 'cpu' ? [] : [x!, y!, tx!, ty!])]);
      return out;
    };
    const accuracy = (p: readonly number[]) =>
      p.filter((c, i) => c === labels[i]).length / labels.length;
    const cpu = await predictions('cpu');
    const gpu = await predictions('webgpu');
    // Twelve steps learn most of the way (about two thirds right); f32 rounding on the GPU may
    // tip a borderline digit or two, not the accuracy.
    expect(accuracy(cpu)).toBeGreaterThan(0.55);
    expect(Math.abs(accuracy(gpu) - accuracy(cpu))).toBeLessThanOrEqual(0.01);
    expect(gpu.filter((c, i) => c !== cpu[i]).length).toBeLessThanOrEqual(5);
  }, 240_000);
});

describe('webgpu fusedElementwise matches the CPU interpreter, forward and gradient', () => {
  // Each intermediate is rounded to f32 on both devices; tanh/exp/log are within 1e-6.
  const fusedTol: Tolerance = { rtol: 1e-5, atol: 1e-6 };
  const programs: [string, number[][]][] = [
    [
      'mul(x0, x1); add(t0, 0.5); tanh(t1)',
      [
        [3, 4],
        [1, 4],
      ],
    ],
    ['leakyRelu(x0, alpha=0.2); sub(t0, x1); maximum(t1, 0); mul(t2, x2)', [[2, 3, 4], [3, 1], []]],
    [
      'greater(x0, x1); where(t0, x0, -Infinity); exp(t1)',
      [
        [5, 6],
        [5, 6],
      ],
    ],
    ['sigmoid(x0); gelu(t0); erf(t1); pow(t2, 2); sqrt(t3); log(t4); neg(t5)', [[7, 9]]],
    ['abs(x0); sign(x1); minimum(t0, t1); div(t2, x0); identity(t3)', [[2, 5], [5]]],
  ];
  for (const [k, [program, shapes]] of programs.entries())
    it(program, async () => {
      await check(
        `fused ${program}`,
        (...xs) => fusedElementwise(xs, program),
        shapes.map((s, j) => f(s, 200 + 10 * k + j)),
        fusedTol,
      );
    });

  it('i32 and bool operands, casts, and NaN/Inf propagate as on the CPU', async () => {
    const run = async (device: wg.DeviceName) => {
      const a = wg.tensor(Int32Array.from([3, -7, 0, 12, 5, -1]), { shape: [2, 3], device });
      const b = wg.tensor(Float32Array.from([NaN, Infinity, -0, 2.5, -Infinity, 1e-3]), {
        shape: [2, 3],
        device,
      });
      const ys = [
        fusedElementwise([a, b], 'cast(x1, dtype=i32); add(x0, t0); mul(t1, 3)'),
        fusedElementwise([a, b], 'cast(x0, dtype=f32); div(x1, t0); relu(t1); equal(t2, t2)'),
        fusedElementwise([a, b], 'exp(x1); log(t0); less(x0, 1); where(t2, t1, NaN)'),
      ];
      const out = await Promise.all(ys.map((y) => y.data()));
      wg.dispose([a, b, ...ys]);
      return { dtypes: ys.map((y) => y.dtype), out };
    };
    const cpu = await run('cpu');
    const gpuRun = await run('webgpu');
    expect(gpuRun.dtypes).toEqual(cpu.dtypes);
    // Non-finite values must match exactly (expectClose); log(exp(x)) is not exact.
    cpu.out.forEach((want, k) => expectClose(gpuRun.out[k]!, want, fusedTol, `program ${k}`));
  });

  it('jit fuses chains on webgpu into this kernel and matches eager webgpu', async () => {
    const fn = (x: Tensor, row: Tensor) => x.mul(row).add(0.5).tanh().maximum(row).relu();
    const x = wg.tensor(values([6, 8], 310), { shape: [6, 8], device: 'webgpu' });
    const row = wg.tensor(values([8], 311), { shape: [8], device: 'webgpu' });
    const f = wg.jit(fn);
    // The 0.5 is a constant in the shader: one kernel per call, no fill kernel for the number.
    expect(f.inspect(x, row)).toMatchObject({ fused: 1, kernels: 1 });
    f(x, row).dispose();
    const before = gpu().stats().dispatches;
    const jitted = f(x, row);
    expect(gpu().stats().dispatches - before).toBe(1);
    const eager = fn(x, row);
    // The compiler may contract x·row + 0.5 into one fused multiply-add: last-bit differences.
    expectClose(await jitted.data(), await eager.data(), { rtol: 1e-6, atol: 1e-7 }, 'jit');
    wg.dispose([x, row, jitted, eager]);
  });

  it('a program with more inputs than the device binds is refused, naming the limit', () => {
    const n = gpu().gpuDevice.limits.maxStorageBuffersPerShaderStage - 1;
    const xs = Array.from({ length: n }, () => wg.ones([2], { device: 'webgpu' }));
    const program = ['add(x0, x1)', ...xs.slice(2).map((_, k) => `add(t${k}, x${k + 2})`)];
    expect(() => fusedElementwise(xs, program.join('; '))).toThrow(
      new RegExp(`reads ${n} inputs, but this WebGPU device binds at most ${n - 1} per kernel`),
    );
    wg.dispose(xs);
  });

  it('one pipeline per program, whatever the shape and constants do', async () => {
    const x = wg.tensor(values([4], 300), { shape: [4], device: 'webgpu' });
    const first = fusedElementwise([x], 'mul(x0, 2); exp(t0)');
    await first.data();
    const before = gpu().stats().pipelines;
    const y = wg.tensor(values([3, 5], 301), { shape: [3, 5], device: 'webgpu' });
    const second = fusedElementwise([y], 'mul(x0, 2); exp(t0)');
    await second.data();
    expect(gpu().stats().pipelines).toBe(before);
    wg.dispose([x, y, first, second]);
  });
});

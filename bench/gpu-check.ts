/**
 * `npm run bench -- gpu-check [--quick]`: correctness of the WebGPU device on the adapter Dawn
 * finds, for a GPU server where the test suite (vitest) cannot run: the bundle made by
 * scripts/pack-gpu.sh carries this check beside the benchmark. Every case runs the same
 * function on CPU and WebGPU copies of seeded inputs and compares the outputs and the gradients
 * of a weighted sum of the output (relative tolerance per case); then an MLP trains 30 SGD
 * steps on both devices and the losses are compared. Prints one line per case and a JSON line
 * `{"bench":"gpu-check","passed":N,"failed":N}`; exits with status 1 when a case fails.
 */

import * as wg from '../engine/index.js';
import type { Tensor } from '../engine/index.js';
import { setConvPath } from '../engine/backend/webgpu/kernels/conv.js';
import {
  MATMUL_CANDIDATES,
  MATMUL_TILINGS,
  type MatmulTiling,
  setMatmulTiling,
  tilingName,
  tilingSharedBytes,
} from '../engine/backend/webgpu/kernels/matmul.js';
import { initNodeWebGPU } from '../engine/node/webgpu.js';

type Fn = (...xs: Tensor[]) => Tensor;

interface Case {
  readonly name: string;
  readonly fn: Fn;
  readonly shapes: readonly (readonly number[])[];
  readonly rtol?: number;
  /** Run with this matmul kernel forced. */
  readonly tiling?: MatmulTiling | 'simple';
  /** Run conv ops with implicit GEMM or the direct kernels forced. */
  readonly convPath?: 'gemm' | 'direct';
}

/** Largest |a − b| / (|b| + 1) over both arrays; NaN and ±Inf must sit at the same places. */
function mismatch(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const [x, y] = [a[i]!, b[i]!];
    if (!Number.isFinite(y) || !Number.isFinite(x)) {
      if (!Object.is(x, y) && !(Number.isNaN(x) && Number.isNaN(y))) return Infinity;
      continue;
    }
    worst = Math.max(worst, Math.abs(x - y) / (Math.abs(y) + 1));
  }
  return worst;
}

/** Outputs and input gradients of sum(fn(...)·w) on one device. */
async function evaluate(c: Case, device: wg.DeviceName): Promise<Float32Array[]> {
  const inputs = c.shapes.map((s, k) => {
    const t = wg.randn([...s], { seed: 100 + k, device });
    t.requiresGrad = true;
    return t;
  });
  const out = c.fn(...inputs);
  const w = wg.rand([...out.shape], { seed: 7, device });
  out.mul(w).sum().backward();
  const results = [await out.data(), ...(await Promise.all(inputs.map((t) => t.grad!.data())))];
  wg.dispose([...inputs, out, w]);
  return results.map((r) => Float32Array.from(r as ArrayLike<number>));
}

const conv = { stride: [2, 1] as [number, number], padding: [1, 2] as [number, number] };

/**
 * conv2d forward and both gradients with implicit GEMM forced: sizes off the tiles (64, 32, 16
 * rows, 64 columns, 16 deep), each tiling (up to 16, 32 and over 32 channels per group), groups,
 * stride, dilation, and filter gradients long enough to be split.
 */
function convGemmCases(quick: boolean): Case[] {
  const [b, c] = quick ? [4, 3] : [16, 16];
  const gemm = (
    name: string,
    x: number[],
    w: number[],
    options: wg.ops.Conv2dOptions,
    rtol = 2e-4,
  ): Case => ({
    name: `conv2d gemm ${name} x ${JSON.stringify(x)} w ${JSON.stringify(w)}`,
    fn: (xt: Tensor, wt: Tensor) => wg.ops.conv2d(xt, wt, options),
    shapes: [x, w],
    rtol,
    convPath: 'gemm',
  });
  return [
    gemm('stride 2×1 padding 1×2', [2, 3, 11, 9], [4, 3, 3, 3], conv),
    gemm('37 channels, stride 2, padding 1', [3, 5, 13, 11], [37, 5, 3, 3], {
      stride: 2,
      padding: 1,
    }),
    gemm('24 channels, padding 1', [2, 20, 9, 10], [24, 20, 3, 3], { padding: 1 }),
    gemm('groups 2, 35 channels per group', [2, 6, 15, 17], [70, 3, 3, 3], {
      groups: 2,
      padding: [0, 1],
    }),
    gemm('stride 2, dilation 2, kernel 5×3', [2, 4, 19, 14], [9, 4, 5, 3], {
      stride: 2,
      dilation: 2,
      padding: 2,
    }),
    gemm('split filter reduction, padding 1', [b, c, 28, 28], [2 * c, c, 3, 3], { padding: 1 }),
  ];
}

function cases(quick: boolean, maxShared: number): Case[] {
  const big = quick ? 40 : 300;
  const tilings: (MatmulTiling | 'simple')[] = [
    ...MATMUL_TILINGS,
    ...MATMUL_CANDIDATES.filter((t) => tilingSharedBytes(t) <= maxShared),
    'simple',
  ];
  const label = (t: MatmulTiling | 'simple') => (t === 'simple' ? t : tilingName(t));
  return [
    ...tilings.flatMap((tiling) => [
      {
        name: `matmul ${label(tiling)} ${big + 3}x${big - 5}x${big + 17}`,
        fn: (a: Tensor, b: Tensor) => a.matmul(b),
        shapes: [
          [big + 3, big - 5],
          [big - 5, big + 17],
        ],
        rtol: 1e-4,
        tiling,
      },
      {
        name: `matmul ${label(tiling)} ${big}x${big - 4}x${big + 16} (vec4 fetches)`,
        fn: (a: Tensor, b: Tensor) => a.matmul(b),
        shapes: [
          [big, big - 4],
          [big - 4, big + 16],
        ],
        rtol: 1e-4,
        tiling,
      },
      {
        name: `matmul ${label(tiling)} batched, transposed, odd`,
        fn: (a: Tensor, b: Tensor) => wg.ops.matmul(a, b, { transposeA: true, transposeB: true }),
        shapes: [
          [3, 45, 37],
          [3, 70, 45],
        ],
        rtol: 1e-4,
        tiling,
      },
      {
        name: `matmul ${label(tiling)} batched, transposed, vec4`,
        fn: (a: Tensor, b: Tensor) => wg.ops.matmul(a, b, { transposeA: true, transposeB: true }),
        shapes: [
          [3, 44, 36],
          [3, 68, 44],
        ],
        rtol: 1e-4,
        tiling,
      },
    ]),
    {
      name: 'conv2d direct stride 2×1 padding 1×2',
      fn: (x: Tensor, w: Tensor) => wg.ops.conv2d(x, w, conv),
      shapes: [
        [2, 3, 11, 9],
        [4, 3, 3, 3],
      ],
      rtol: 1e-4,
      convPath: 'direct',
    },
    ...convGemmCases(quick),
    {
      name: 'maxPool2d and avgPool2d',
      fn: (x: Tensor) =>
        wg.ops
          .maxPool2d(x, { kernelSize: [2, 2] })
          .add(wg.ops.avgPool2d(x, { kernelSize: [2, 2] })),
      shapes: [[2, 3, 8, 6]],
    },
    {
      name: 'softmax, logSoftmax, tanh, exp, sum, mean',
      fn: (x: Tensor) => x.softmax(1).add(x.logSoftmax(0).tanh()).exp().sum(1).mean(),
      shapes: [[17, 33]],
      rtol: 1e-5,
    },
    {
      name: 'crossEntropy over linear',
      fn: (x: Tensor, w: Tensor) =>
        wg.ops.crossEntropy(
          x.matmul(w),
          wg.tensor(
            Int32Array.from({ length: 64 }, (_, i) => i % 10),
            {
              shape: [64],
              device: x.device,
            },
          ),
        ),
      shapes: [
        [64, 50],
        [50, 10],
      ],
      rtol: 1e-4,
    },
  ];
}

/** 30 steps of a small MLP on seeded data, with SGD or Adam (fused kernels); the losses. */
async function trainLosses(device: wg.DeviceName, optimizer: 'sgd' | 'adam'): Promise<number[]> {
  const before = wg.defaultDevice();
  wg.defaultDevice(device);
  try {
    const { x, y } = wg.data.spiral(256, { seed: 3, classes: 3 });
    const [xd, yd] = [await x.to(device), await y.to(device)];
    const model = new wg.nn.Sequential(
      new wg.nn.Linear(2, 64, { seed: 1 }),
      new wg.nn.Tanh(),
      new wg.nn.Linear(64, 3, { seed: 2 }),
    );
    const opt =
      optimizer === 'sgd'
        ? new wg.optim.SGD(model.parameters(), { lr: 0.5 })
        : new wg.optim.Adam(model.parameters(), { lr: 0.01 });
    const losses: number[] = [];
    for (let s = 0; s < 30; s++) {
      const loss = wg.tidy(() => {
        const l = wg.ops.crossEntropy(model.forward(xd), yd);
        opt.zeroGrad();
        l.backward();
        opt.step();
        return l.detach();
      });
      losses.push((await loss.data())[0]!);
      loss.dispose();
    }
    return losses;
  } finally {
    wg.defaultDevice(before);
  }
}

/**
 * Ops with 600 different numbers, each released before anything is submitted, so later values
 * take over the buffers of earlier ones (see WebGPUBackend.bindConstant): every product must
 * still use its own number. Returns the largest mismatch (0 when all are exact).
 */
async function constantsMismatch(): Promise<number> {
  const x = wg.tensor([1, 2, 3], { device: 'webgpu' });
  const outs = Array.from({ length: 600 }, (_, i) => wg.tidy(() => x.mul(0.25 + i)));
  let worst = 0;
  for (const [i, o] of outs.entries()) {
    const want = [1, 2, 3].map((e) => Math.fround(e * (0.25 + i)));
    worst = Math.max(worst, mismatch(await o.data(), want));
  }
  wg.dispose([x, ...outs]);
  return worst;
}

export async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const gpu = await initNodeWebGPU();
  process.stderr.write(`gpu-check on ${gpu.description}\n`);
  let passed = 0;
  let failed = 0;
  const verdict = (name: string, err: number, tol: number) => {
    const ok = err <= tol;
    if (ok) passed++;
    else failed++;
    process.stderr.write(`${ok ? 'ok  ' : 'FAIL'} ${name}: worst ${err.toExponential(2)}\n`);
  };
  const maxShared = gpu.gpuDevice.limits.maxComputeWorkgroupStorageSize;
  for (const c of cases(quick, maxShared)) {
    setMatmulTiling(c.tiling ?? null);
    setConvPath(c.convPath ?? null);
    try {
      const [g, r] = [await evaluate(c, 'webgpu'), await evaluate(c, 'cpu')];
      verdict(c.name, Math.max(...g.map((x, i) => mismatch(x, r[i]!))), c.rtol ?? 1e-5);
    } catch (e) {
      failed++;
      process.stderr.write(`FAIL ${c.name}: ${(e as Error).message}\n`);
    } finally {
      setMatmulTiling(null);
      setConvPath(null);
    }
  }
  for (const optimizer of ['sgd', 'adam'] as const) {
    const [lg, lc] = [await trainLosses('webgpu', optimizer), await trainLosses('cpu', optimizer)];
    verdict(
      `MLP 30 ${optimizer} steps, loss ${lc[0]!.toFixed(4)} → ${lc.at(-1)!.toFixed(4)}`,
      mismatch(lg, lc),
      1e-3,
    );
  }
  verdict('scalar constants reused across values', await constantsMismatch(), 0);
  gpu.destroy();
  process.stdout.write(JSON.stringify({ bench: 'gpu-check', passed, failed }) + '\n');
  if (failed > 0) process.exitCode = 1;
}

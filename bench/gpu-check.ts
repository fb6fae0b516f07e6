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
import {
  MATMUL_TILINGS,
  type MatmulTiling,
  setMatmulTiling,
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

function cases(quick: boolean): Case[] {
  const big = quick ? 40 : 300;
  const tilings: (MatmulTiling | 'simple')[] = [...MATMUL_TILINGS, 'simple'];
  return [
    ...tilings.flatMap((tiling) => [
      {
        name: `matmul ${JSON.stringify(tiling)} ${big + 3}x${big - 5}x${big + 17}`,
        fn: (a: Tensor, b: Tensor) => a.matmul(b),
        shapes: [
          [big + 3, big - 5],
          [big - 5, big + 17],
        ],
        rtol: 1e-4,
        tiling,
      },
      {
        name: `matmul ${JSON.stringify(tiling)} ${big}x${big - 4}x${big + 16} (vec4 fetches)`,
        fn: (a: Tensor, b: Tensor) => a.matmul(b),
        shapes: [
          [big, big - 4],
          [big - 4, big + 16],
        ],
        rtol: 1e-4,
        tiling,
      },
      {
        name: `matmul ${JSON.stringify(tiling)} batched, transposed, odd`,
        fn: (a: Tensor, b: Tensor) => wg.ops.matmul(a, b, { transposeA: true, transposeB: true }),
        shapes: [
          [3, 45, 37],
          [3, 70, 45],
        ],
        rtol: 1e-4,
        tiling,
      },
      {
        name: `matmul ${JSON.stringify(tiling)} batched, transposed, vec4`,
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
      name: 'conv2d stride 2×1 padding 1×2',
      fn: (x: Tensor, w: Tensor) => wg.ops.conv2d(x, w, conv),
      shapes: [
        [2, 3, 11, 9],
        [4, 3, 3, 3],
      ],
      rtol: 1e-4,
    },
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

/** 30 SGD steps of a small MLP on seeded data; the losses. */
async function trainLosses(device: wg.DeviceName): Promise<number[]> {
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
    const opt = new wg.optim.SGD(model.parameters(), { lr: 0.5 });
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
  for (const c of cases(quick)) {
    setMatmulTiling(c.tiling ?? null);
    try {
      const [g, r] = [await evaluate(c, 'webgpu'), await evaluate(c, 'cpu')];
      verdict(c.name, Math.max(...g.map((x, i) => mismatch(x, r[i]!))), c.rtol ?? 1e-5);
    } catch (e) {
      failed++;
      process.stderr.write(`FAIL ${c.name}: ${(e as Error).message}\n`);
    } finally {
      setMatmulTiling(null);
    }
  }
  const [lg, lc] = [await trainLosses('webgpu'), await trainLosses('cpu')];
  verdict(
    `MLP 30 SGD steps, loss ${lc[0]!.toFixed(4)} → ${lc.at(-1)!.toFixed(4)}`,
    mismatch(lg, lc),
    1e-3,
  );
  gpu.destroy();
  process.stdout.write(JSON.stringify({ bench: 'gpu-check', passed, failed }) + '\n');
  if (failed > 0) process.exitCode = 1;
}

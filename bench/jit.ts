/**
 * `npm run bench -- jit`: what `jit` buys on the CPU. Each case runs the same computation
 * eagerly and jitted; the anchor of each row is the eager time, so `ratio` = jit / eager
 * (below 1: jit is faster) and the note gives the speedup. Samples are paired (eager and jit
 * back to back, alternating which goes first) and the ratio is the median of the pairs'
 * ratios, so load from other processes hits both sides alike.
 *
 * Cases: an 8-op elementwise chain on 1M f32 elements, three times: with ops that have
 * WebAssembly kernels in eager mode too (add, sub, mul, div, relu: the fairest comparison),
 * with exactly rounded ops some of which run eager reference kernels (maximum, abs, neg), and
 * with tanh among them (eager: the reference kernel; fused: the SIMD polynomial); a training step (forward, backward, SGD) of an MLP 784-256-256-10 at batch
 * 128 with a tanh-scaled squared-error loss, jitting the loss function; and that MLP's
 * inference (softmax output) under noGrad, where the plan runs without the tape.
 */

import * as wg from '../engine/index.js';
import { type Row, report, row } from './harness.js';

type T = wg.Tensor;

const N = 1 << 20;

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function timeOnce(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

/** Paired timing of `eager` and `jitted`; both are run in a tidy scope. */
function compare(
  name: string,
  eager: () => unknown,
  jitted: () => unknown,
  { warmup = 5, samples = 40 } = {},
): Row {
  const run = (fn: () => unknown) => () => void wg.tidy(() => void fn());
  const [e, j] = [run(eager), run(jitted)];
  for (let i = 0; i < warmup; i++) {
    e();
    j();
  }
  const eagerMs: number[] = [];
  const jitMs: number[] = [];
  const ratios: number[] = [];
  for (let s = 0; s < samples; s++) {
    let te: number;
    let tj: number;
    if (s % 2 === 0) {
      te = timeOnce(e);
      tj = timeOnce(j);
    } else {
      tj = timeOnce(j);
      te = timeOnce(e);
    }
    eagerMs.push(te);
    jitMs.push(tj);
    ratios.push(tj / te);
  }
  const ours = median(jitMs);
  const ratio = median(ratios);
  // The harness divides ours by the anchor: give it the anchor that yields the paired ratio.
  return row(
    'jit',
    name,
    ours,
    'eager',
    ours / ratio,
    `${(1 / ratio).toFixed(2)}× faster (median of ${samples} paired ratios); medians ` +
      `${ours.toFixed(3)} vs ${median(eagerMs).toFixed(3)} ms`,
  );
}

function chainCases(): Row[] {
  const x = wg.randn([N], { seed: 1 });
  const y = wg.rand([N], { seed: 2 }).add(0.5);
  const exact = (a: T, b: T): T => a.add(b).mul(0.5).sub(b).maximum(a).div(b).abs().neg().relu();
  const withTanh = (a: T, b: T): T => a.mul(b).add(0.5).tanh().mul(a).sub(b).relu().add(1).sqrt();
  // Every op here has a WebAssembly kernel in eager mode too: the fairest comparison.
  const simdOnly = (a: T, b: T): T => a.add(b).mul(0.5).sub(b).div(b).relu().mul(a).add(1).sub(b);
  const jSimd = wg.jit(simdOnly);
  const jExact = wg.jit(exact);
  const jTanh = wg.jit(withTanh);
  return [
    compare(
      '8-op chain, 1M f32 (eager SIMD ops)',
      () => simdOnly(x, y),
      () => jSimd(x, y),
    ),
    compare(
      '8-op chain, 1M f32 (exact ops)',
      () => exact(x, y),
      () => jExact(x, y),
    ),
    compare(
      '8-op chain, 1M f32 (with tanh)',
      () => withTanh(x, y),
      () => jTanh(x, y),
    ),
  ];
}

function mlpCases(): Row[] {
  const sizes = [784, 256, 256, 10];
  const batch = 128;
  const params: T[] = [];
  const layers: [T, T][] = [];
  for (let i = 0; i < sizes.length - 1; i++) {
    const w = wg.randn([sizes[i]!, sizes[i + 1]!], { seed: 10 + i }).mul(1 / Math.sqrt(sizes[i]!));
    const b = wg.zeros([sizes[i + 1]!]);
    w.requiresGrad = true;
    b.requiresGrad = true;
    params.push(w, b);
    layers.push([wg.keep(w), wg.keep(b)]);
  }
  const loss = (x: T, target: T): T => {
    let h = x;
    layers.forEach(([w, b], i) => {
      h = h.matmul(w).add(b);
      if (i < layers.length - 1) h = h.relu();
    });
    const d = h.tanh().mul(2).sub(target);
    return d.mul(d).mean();
  };
  const jLoss = wg.jit(loss);
  const opt = new wg.optim.SGD(params, { lr: 0.01 });
  const x = wg.rand([batch, sizes[0]!], { seed: 3 });
  const target = wg.rand([batch, sizes[3]!], { seed: 4 });
  const step = (f: (x: T, t: T) => T) => () => {
    opt.zeroGrad();
    f(x, target).backward();
    opt.step();
  };
  const forward = (x: T): T => {
    let h = x;
    layers.forEach(([w, b], i) => {
      h = h.matmul(w).add(b);
      if (i < layers.length - 1) h = h.relu();
    });
    return h.softmax(1);
  };
  const jForward = wg.jit(forward);
  return [
    compare('mlp 784-256-256-10 train step, batch 128', step(loss), step(jLoss), {
      samples: 60,
    }),
    compare(
      'mlp 784-256-256-10 inference (noGrad), batch 128',
      () => wg.noGrad(() => forward(x)),
      () => wg.noGrad(() => jForward(x)),
      { samples: 60 },
    ),
  ];
}

export async function main(): Promise<void> {
  process.stderr.write(`ours: ${wg.cpuBackend.description}, one thread\n`);
  report([...chainCases(), ...mlpCases()]);
  await Promise.resolve();
}

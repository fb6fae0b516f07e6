/**
 * `npm run bench -- cpu`: f32 matmul (256, 512, 1024) in GFLOP/s, one training step
 * (forward, backward, SGD) of an MLP 784-256-256-10 at batch 128, and the eager overhead of a
 * small op (an `add` of two 8-element tensors, in a chain of 1,000: dispatch, shape checks,
 * bookkeeping, next to nothing of arithmetic), ours against tfjs-cpu, tfjs-wasm, jax-js (Wasm,
 * jitted; not for the small op) and PyTorch (when Debian's python3-torch is installed), all one
 * thread, in one run.
 */

import * as wg from '../engine/index.js';
import { type Row, gflops, report, row, timeIt } from './harness.js';
import { jaxMatmulMs, jaxMlpStepMs } from './anchors/jax.js';
import { tfMatmulMs, tfMlpStepMs, tfSmallOpMs, useTfBackend } from './anchors/tfjs.js';
import { runTorchAnchor } from './anchors/torch.js';

const SIZES = [256, 512, 1024];
const MLP = [784, 256, 256, 10];
const BATCH = 128;
/** The small-op case: elements per operand and adds per timed chain. */
const SMALL = { size: 8, ops: 1000 };

async function oursMatmulMs(n: number): Promise<number> {
  const a = wg.rand([n, n], { seed: 1 });
  const b = wg.rand([n, n], { seed: 2 });
  const t = await timeIt(() => wg.ops.matmul(a, b).dispose());
  a.dispose();
  b.dispose();
  return t.medianMs;
}

async function oursMlpStepMs(): Promise<number> {
  const layers: wg.nn.Linear[] = [];
  for (let i = 0; i < MLP.length - 1; i++)
    layers.push(new wg.nn.Linear(MLP[i]!, MLP[i + 1]!, { seed: i + 1 }));
  const params = layers.flatMap((l) => l.parameters());
  const opt = new wg.optim.SGD(params, { lr: 0.01 });
  const x = wg.rand([BATCH, MLP[0]!], { seed: 3 });
  const y = wg.tensor(
    Int32Array.from({ length: BATCH }, (_, i) => (i * 7) % 10),
    {
      shape: [BATCH],
    },
  );
  const t = await timeIt(() =>
    wg.tidy(() => {
      let h = x;
      layers.forEach((l, i) => {
        h = l.forward(h);
        if (i < layers.length - 1) h = h.relu();
      });
      const loss = wg.ops.crossEntropy(h, y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
    }),
  );
  return t.medianMs;
}

/** Milliseconds per eager add of two SMALL.size-element tensors. */
async function oursSmallOpMs(): Promise<number> {
  const a = wg.rand([SMALL.size], { seed: 1 });
  const b = wg.rand([SMALL.size], { seed: 2 });
  const t = await timeIt(() =>
    wg.tidy(() => {
      let h = a;
      for (let i = 0; i < SMALL.ops; i++) h = h.add(b);
    }),
  );
  wg.dispose([a, b]);
  return t.medianMs / SMALL.ops;
}

export async function runCpuBench(): Promise<Row[]> {
  const rows: Row[] = [];
  const flops = (n: number) => 2 * n * n * n;
  const ours = new Map<string, number>();
  for (const n of SIZES) ours.set(`matmul ${n}`, await oursMatmulMs(n));
  ours.set('mlp step', await oursMlpStepMs());
  ours.set('small op', await oursSmallOpMs());

  const anchors = new Map<string, Map<string, number | null>>();
  for (const backend of ['cpu', 'wasm'] as const) {
    const m = new Map<string, number | null>();
    const ok = await useTfBackend(backend);
    for (const n of SIZES)
      // tfjs-cpu at 1024 takes seconds per call; it is measured all the same, fewer times.
      m.set(`matmul ${n}`, ok ? await tfMatmulMs(n) : null);
    m.set('mlp step', ok ? await tfMlpStepMs(MLP, BATCH) : null);
    m.set('small op', ok ? await tfSmallOpMs(SMALL.size, SMALL.ops) : null);
    anchors.set(`tfjs-${backend}`, m);
  }
  const jax = new Map<string, number | null>();
  for (const n of SIZES) jax.set(`matmul ${n}`, await jaxMatmulMs(n));
  jax.set('mlp step', await jaxMlpStepMs(MLP, BATCH));
  anchors.set('jax-js', jax);

  const torch = runTorchAnchor({
    matmul: SIZES,
    mlp: { sizes: MLP, batch: BATCH },
    small_op: SMALL,
  });
  const pt = new Map<string, number | null>();
  if ('error' in torch) process.stderr.write(`PyTorch anchor unavailable: ${torch.error}\n`);
  for (const n of SIZES) pt.set(`matmul ${n}`, 'error' in torch ? null : (torch.matmul[n] ?? null));
  pt.set('mlp step', 'error' in torch ? null : torch.mlp);
  pt.set('small op', 'error' in torch ? null : (torch.small_op ?? null));
  anchors.set('pytorch', pt);

  const us = (ms: number): string => `${(ms * 1000).toFixed(2)} µs`;
  for (const [name, ms] of ours) {
    const n = Number(name.split(' ')[1]);
    for (const [anchor, m] of anchors) {
      if (!m.has(name)) continue;
      const a = m.get(name) ?? null;
      let note: string | undefined;
      if (name.startsWith('matmul')) {
        note = `ours ${gflops(flops(n), ms).toFixed(1)} GFLOP/s`;
        if (a !== null) note += `, ${anchor} ${gflops(flops(n), a).toFixed(1)} GFLOP/s`;
      } else if (name === 'small op')
        note =
          `eager add of two ${SMALL.size}-element f32 tensors: ours ${us(ms)} per op` +
          (a === null ? '' : `, ${anchor} ${us(a)}`);
      rows.push(row('cpu', name, ms, anchor, a, note));
    }
  }
  return rows;
}

export async function main(): Promise<void> {
  process.stderr.write(`ours: ${wg.cpuBackend.description}, one thread\n`);
  report(await runCpuBench());
}

/**
 * `npm run bench -- gpu [--quick] [--sizes 1024,2048] [--batches 64,128]`: the engine's WebGPU
 * device (the adapter Dawn finds, printed first) against tfjs-webgpu 4.22 on the same adapter in
 * this process, and against the engine's own CPU device:
 * - square f32 matmul in GFLOP/s, 8 matmuls per readback, median of 10 (as in GPU.md);
 * - one SGD step of an MLP 784-256-256-10 (loss read back), ours-webgpu vs tfjs-webgpu and
 *   ours-cpu;
 * - one SGD step of the MNIST CNN (examples/cnn-mnist.json through Graph.run), ours-webgpu vs
 *   ours-cpu (the goal: the GPU step at least 5× faster than the CPU step on the same machine)
 *   and vs the same CNN written in tfjs on tfjs-webgpu.
 * - a 3×3 conv layer's forward and both gradients, implicit GEMM against the direct kernels,
 *   and the CNN step with the direct conv kernels forced;
 * - an 8-op elementwise chain on 1M elements, eager against jit (see `jitChainMs`);
 * - `--sweep`: square matmuls with every candidate tiling of the register-blocked kernel, to
 *   choose the defaults on a new card;
 * - `--submit-every 32,128`: the jit chain and the MLP step again with the backend submitting
 *   after that many dispatches (the default is 512), against the default, to choose it.
 * Inputs are random (no dataset: the GPU machine has no network). `--quick` runs tiny sizes so
 * the suite finishes on SwiftShader; its figures only show that everything runs.
 * On a GPU server without Node, run the bundle scripts/pack-gpu.sh makes (docs/gpu-bench.md).
 */

import { readFileSync } from 'node:fs';
import * as wg from '../engine/index.js';
import type { Tensor } from '../engine/index.js';
import { initNodeWebGPU } from '../engine/node/webgpu.js';
import type { WebGPUBackend } from '../engine/backend/webgpu/index.js';
import { setConvPath } from '../engine/backend/webgpu/kernels/conv.js';
import {
  type MatmulTiling,
  MATMUL_CANDIDATES,
  MATMUL_TILINGS,
  setMatmulTiling,
  tilingName,
  tilingSharedBytes,
} from '../engine/backend/webgpu/kernels/matmul.js';
import { type Row, gflops, report, row, timeIt } from './harness.js';
import {
  type Timer,
  tfWebGPUCnnStepMs,
  tfWebGPUMatmulMs,
  tfWebGPUMlpStepMs,
  useTfWebGPU,
} from './anchors/tfjs-webgpu.js';

const PER_READ = 8;

interface Config {
  readonly sizes: number[];
  readonly mlp: number[];
  readonly mlpBatch: number;
  readonly cnnBatches: number[];
  readonly runs: number;
  readonly warmup: number;
  /** Timed runs of the CPU CNN step, which takes seconds at batch 128. */
  readonly cpuRuns: number;
  /** Matmul sizes at which every candidate tiling is timed (`--sweep`), else none. */
  readonly sweep: number[];
  /** Elements of the jit chain case. */
  readonly chain: number;
  /** Dispatches per submission to compare with the default (`--submit-every`), else none. */
  readonly submitEvery: number[];
}

/**
 * Tilings `--sweep` times besides the automatic choice; those needing more workgroup memory
 * than the device has are skipped.
 */
const SWEEP_TILINGS: readonly MatmulTiling[] = [
  ...MATMUL_TILINGS,
  ...MATMUL_CANDIDATES,
  { bm: 128, bn: 128, bk: 16, tm: 8, tn: 8 },
  { bm: 128, bn: 128, bk: 32, tm: 8, tn: 8 },
  { bm: 128, bn: 64, bk: 16, tm: 8, tn: 4 },
  { bm: 64, bn: 128, bk: 16, tm: 4, tn: 8 },
  { bm: 64, bn: 64, bk: 16, tm: 8, tn: 8 },
  { bm: 64, bn: 64, bk: 8, tm: 4, tn: 4 },
  { bm: 128, bn: 128, bk: 8, tm: 8, tn: 16 },
  { bm: 128, bn: 128, bk: 16, tm: 8, tn: 16 },
  { bm: 64, bn: 128, bk: 8, tm: 4, tn: 8 },
];

function parseArgs(argv: readonly string[]): Config {
  const quick = argv.includes('--quick');
  const list = (flag: string): number[] | null => {
    const i = argv.indexOf(flag);
    if (i < 0) return null;
    const v = argv[i + 1]?.split(',').map(Number);
    if (!v || v.some((n) => !Number.isInteger(n) || n <= 0))
      throw new Error(`${flag} takes positive integers separated by commas, e.g. ${flag} 64,128`);
    return v;
  };
  return {
    sizes: list('--sizes') ?? (quick ? [64, 128] : [1024, 2048, 4096, 8192]),
    mlp: quick ? [784, 32, 32, 10] : [784, 256, 256, 10],
    mlpBatch: quick ? 16 : 128,
    cnnBatches: list('--batches') ?? (quick ? [4] : [64, 128]),
    runs: quick ? 3 : 10,
    warmup: quick ? 1 : 3,
    cpuRuns: quick ? 2 : 5,
    sweep: argv.includes('--sweep')
      ? (list('--sweep-sizes') ?? (quick ? [64, 128] : [2048, 4096, 8192]))
      : [],
    chain: quick ? 1 << 14 : 1 << 20,
    submitEvery: list('--submit-every') ?? [],
  };
}

/** A first call slower than this cuts the timed runs to SLOW_RUNS (8192² matmuls, CPU CNN). */
const SLOW_MS = 3000;
const SLOW_RUNS = 3;

/**
 * Median of `runs` timed calls after `warmup` calls; the first warm-up call decides: when it
 * takes over SLOW_MS, the case is timed SLOW_RUNS times with no more warm-up, so that the full
 * suite fits a 10-minute device run whatever the card.
 */
function timer(warmup: number, runs: number): Timer {
  return async (fn) => {
    const t0 = performance.now();
    await fn();
    const first = performance.now() - t0;
    const slow = first > SLOW_MS;
    const t = await timeIt(fn, {
      warmup: slow ? 0 : Math.max(0, warmup - 1),
      runs: slow ? SLOW_RUNS : runs,
      minMs: 0,
    });
    return t.medianMs;
  };
}

/** Runs `fn` with new tensors (and parameters) made on `device`. */
function on<T>(device: wg.DeviceName, fn: () => T): T {
  const before = wg.defaultDevice();
  wg.defaultDevice(device);
  try {
    return fn();
  } finally {
    wg.defaultDevice(before);
  }
}

async function oursMatmulMs(n: number, c: Config): Promise<number> {
  const a = wg.rand([n, n], { seed: 1, device: 'webgpu' });
  const b = wg.rand([n, n], { seed: 2, device: 'webgpu' });
  const ms = await timer(
    c.warmup,
    c.runs,
  )(async () => {
    const cs: Tensor[] = [];
    for (let i = 0; i < PER_READ; i++) cs.push(wg.ops.matmul(a, b));
    // The queue runs in order: reading the last product waits for all of them.
    await cs[cs.length - 1]!.data();
    wg.dispose(cs);
  });
  wg.dispose([a, b]);
  return ms;
}

/** `--sweep`: every candidate tiling that fits the device, at each sweep size, in ms. */
async function sweepMatmul(c: Config, maxShared: number): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const quickTimer = { ...c, warmup: 1, runs: Math.min(c.runs, 5) };
  const unique = new Map(SWEEP_TILINGS.map((t) => [JSON.stringify(t), t]));
  for (const t of unique.values()) {
    if (tilingSharedBytes(t) > maxShared) continue;
    const name = tilingName(t);
    setMatmulTiling(t);
    try {
      for (const n of c.sweep) {
        const ms = await oursMatmulMs(n, quickTimer);
        out.set(`${n} ${name}`, ms);
        process.stderr.write(
          `sweep matmul ${n} ${name}: ${fmt(gflops(PER_READ * 2 * n ** 3, ms))} GFLOP/s\n`,
        );
      }
    } finally {
      setMatmulTiling(null);
    }
  }
  return out;
}

/** The conv layer timed by convLayerMs: x [N, C, H, W], w [Cout, C, 3, 3], padding 1. */
function convLayer(quick: boolean): { x: number[]; w: number[] } {
  return quick
    ? { x: [2, 8, 12, 12], w: [16, 8, 3, 3] }
    : { x: [32, 64, 56, 56], w: [64, 64, 3, 3] };
}

/** FLOPs of convLayerMs' step: forward, input gradient and filter gradient, 2 per MAC each. */
function convLayerFlops(quick: boolean): number {
  const { x, w } = convLayer(quick);
  return 3 * 2 * x[0]! * w[0]! * x[2]! * x[3]! * x[1]! * 9;
}

/**
 * A 3×3 conv layer's forward and both gradients (the gradient of sum(y)), read back, with the
 * conv ops forced to implicit GEMM or to the direct kernels.
 */
async function convLayerMs(path: 'gemm' | 'direct', quick: boolean, c: Config): Promise<number> {
  const shapes = convLayer(quick);
  const x = wg.randn(shapes.x, { seed: 5, device: 'webgpu' });
  const w = wg.randn(shapes.w, { seed: 6, device: 'webgpu' }).mul(0.1);
  const grads = wg.grad(
    (a: Tensor, b: Tensor) => wg.ops.conv2d(a, b, { padding: 1 }).sum(),
    [0, 1],
  );
  setConvPath(path);
  try {
    return await timer(
      c.warmup,
      c.runs,
    )(async () => {
      const gs = wg.tidy(() => grads(x, w).map((g) => wg.keep(g)));
      await gs[0]!.data();
      wg.dispose(gs);
    });
  } finally {
    setConvPath(null);
    wg.dispose([x, w]);
  }
}

/** The 8-op elementwise chain that `jit` fuses into one kernel. */
const chain8 = (a: Tensor, b: Tensor): Tensor =>
  a.add(b).mul(0.5).sub(b).div(b).relu().mul(a).add(1).sub(b);

/** How the chain is timed: see `jitChainMs`. */
type ChainMode = 'flush' | 'readback';

/** One timing of the chain: [jit ms, eager ms, dispatches per eager call, per jitted call]. */
interface ChainRun {
  readonly calls: number;
  readonly mode: ChainMode;
  readonly ms: [number, number, number, number];
}

/**
 * The 8-op chain on `c.chain` f32 elements on the GPU, eager against jit, `calls` calls per
 * timed run. Returns [jit ms, eager ms, dispatches per eager call, dispatches per jitted call].
 * - 'flush': `calls` independent calls on the same inputs, then wait for the GPU to finish
 *   (no readback). This times the chain itself: eager, its 8 ops (8 dispatches; numbers are
 *   device constants); jitted, one fused kernel.
 * - 'readback': each call's output feeds the next through an eager `mul(0.001)` (which keeps
 *   the values bounded), and the last result (4 MB) is read back. The extra op and the
 *   readback (about 1.3 ms on an H100 through Dawn) are the same on both sides, so they narrow
 *   the ratio; kept to compare with earlier runs.
 */
async function jitChainMs(
  gpu: WebGPUBackend,
  c: Config,
  calls: number,
  mode: ChainMode,
): Promise<[number, number, number, number]> {
  const jitted = wg.jit(chain8);
  const x = wg.randn([c.chain], { seed: 1, device: 'webgpu' });
  const y = wg.keep(wg.rand([c.chain], { seed: 2, device: 'webgpu' }).add(0.5));
  let dispatches = 0;
  const time = (fn: (a: Tensor, b: Tensor) => Tensor) =>
    timer(
      c.warmup,
      c.runs,
    )(async () => {
      const d0 = gpu.stats().dispatches;
      if (mode === 'flush') {
        const outs = wg.tidy(() => Array.from({ length: calls }, () => wg.keep(fn(x, y))));
        dispatches = (gpu.stats().dispatches - d0) / calls;
        await gpu.flush();
        wg.dispose(outs);
        return;
      }
      const last = wg.tidy(() => {
        let h = x;
        for (let i = 0; i < calls; i++) h = fn(h, y).mul(0.001);
        return h;
      });
      dispatches = (gpu.stats().dispatches - d0) / calls;
      await last.data();
      last.dispose();
    });
  const eager = await time(chain8);
  const eagerDispatches = dispatches;
  const jit = await time(jitted);
  wg.dispose([x, y]);
  return [jit, eager, eagerDispatches, dispatches];
}

async function oursMlpStepMs(device: wg.DeviceName, c: Config): Promise<number> {
  const { mlp, mlpBatch: batch } = c;
  const { layers, x, y } = on(device, () => ({
    layers: mlp.slice(1).map((out, i) => new wg.nn.Linear(mlp[i]!, out, { seed: i + 1 })),
    x: wg.rand([batch, mlp[0]!], { seed: 3 }),
    y: wg.tensor(
      Int32Array.from({ length: batch }, (_, i) => (i * 7) % mlp[mlp.length - 1]!),
      { shape: [batch] },
    ),
  }));
  const params = layers.flatMap((l) => l.parameters());
  const opt = new wg.optim.SGD(params, { lr: 0.01 });
  const ms = await timer(
    c.warmup,
    device === 'cpu' ? c.cpuRuns : c.runs,
  )(async () => {
    const loss = wg.tidy(() => {
      let h = x;
      layers.forEach((l, i) => {
        h = l.forward(h);
        if (i < layers.length - 1) h = h.relu();
      });
      const loss = wg.ops.crossEntropy(h, y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      return loss.detach();
    });
    await loss.data();
    loss.dispose();
  });
  wg.dispose([...params, x, y]);
  return ms;
}

interface GraphDoc {
  readonly nodes: readonly { readonly op: string; readonly device?: string }[];
}

function cnnDoc(): GraphDoc {
  // From bench/ and from the bundle in .devpack/ alike, the examples are one folder up.
  const url = new URL('../examples/cnn-mnist.json', import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as GraphDoc;
}

async function oursCnnStepMs(device: wg.DeviceName, batch: number, c: Config): Promise<number> {
  const json = cnnDoc();
  // Constants are made on the default device unless pinned: pin them to the inputs' device.
  const graph = wg.Graph.fromJSON({
    ...json,
    nodes: json.nodes.map((n) => (n.op === 'constant' ? { ...n, device } : n)),
  });
  const params = new Map<string, Tensor>();
  for (const [id, p] of graph.initParameters()) {
    const moved = await p.to(device);
    if (moved !== p) p.dispose();
    params.set(id, moved);
  }
  const opt = new wg.optim.SGD(params.values(), { lr: 0.05, momentum: 0.9 });
  const x = wg.rand([batch, 1, 28, 28], { seed: 4, device });
  const y = wg.tensor(
    Int32Array.from({ length: batch }, (_, i) => (i * 3) % 10),
    { shape: [batch], device },
  );
  const ms = await timer(
    c.warmup,
    device === 'cpu' ? c.cpuRuns : c.runs,
  )(async () => {
    const loss = wg.tidy(() => {
      const outs = graph.run({ x, y }, { params });
      opt.zeroGrad();
      outs['loss']!.backward();
      opt.step();
      return outs['loss']!.detach();
    });
    await loss.data();
    loss.dispose();
  });
  wg.dispose([...params.values(), x, y]);
  return ms;
}

export async function runGpuBench(argv: readonly string[]): Promise<Row[]> {
  const c = parseArgs(argv);
  const gpu = await initNodeWebGPU();
  process.stderr.write(`ours: ${gpu.description}\n`);
  process.stderr.write(`cpu: ${wg.cpuBackend.description}, one thread\n`);
  const info = gpu.adapter.info;
  process.stdout.write(
    JSON.stringify({
      bench: 'gpu',
      adapter: gpu.description,
      vendor: info.vendor,
      architecture: info.architecture,
      device: info.device,
      description: info.description,
    }) + '\n',
  );

  const rows: Row[] = [];
  const ours = new Map<number, number>();
  for (const n of c.sizes) ours.set(n, await oursMatmulMs(n, c));
  const sweep = await sweepMatmul(c, gpu.gpuDevice.limits.maxComputeWorkgroupStorageSize);
  const chains: ChainRun[] = [];
  for (const [calls, mode] of [
    [64, 'flush'],
    [64, 'readback'],
  ] as const)
    chains.push({ calls, mode, ms: await jitChainMs(gpu, c, calls, mode) });
  const mlpGpu = await oursMlpStepMs('webgpu', c);
  const mlpCpu = await oursMlpStepMs('cpu', c);
  const defaultBatch = gpu.maxBatch;
  const batches: { every: number; chains: ChainRun[]; mlp: number }[] = [];
  for (const every of c.submitEvery) {
    gpu.maxBatch = every;
    try {
      const again: ChainRun[] = [];
      for (const { calls, mode } of chains)
        again.push({ calls, mode, ms: await jitChainMs(gpu, c, calls, mode) });
      batches.push({ every, chains: again, mlp: await oursMlpStepMs('webgpu', c) });
    } finally {
      gpu.maxBatch = defaultBatch;
    }
  }
  const cnn = new Map<number, [number, number]>();
  for (const b of c.cnnBatches)
    cnn.set(b, [await oursCnnStepMs('webgpu', b, c), await oursCnnStepMs('cpu', b, c)]);
  const quick = argv.includes('--quick');
  const convGemm = await convLayerMs('gemm', quick, c);
  const convDirect = await convLayerMs('direct', quick, c);
  const cnnDirect = new Map<number, number>();
  setConvPath('direct');
  try {
    for (const b of c.cnnBatches) cnnDirect.set(b, await oursCnnStepMs('webgpu', b, c));
  } finally {
    setConvPath(null);
  }

  // tfjs-webgpu last: it takes its own device from the same GPU object.
  const { globals } = await import('webgpu');
  const tfOk = await useTfWebGPU(gpu.gpu, globals);
  const tfMatmul = new Map<number, number | null>();
  for (const n of c.sizes) {
    const flops = PER_READ * 2 * n ** 3;
    const mine = ours.get(n)!;
    const theirs = tfOk ? await tfWebGPUMatmulMs(n, PER_READ, timer(c.warmup, c.runs)) : null;
    const note =
      `${PER_READ} per readback; ours ${fmt(gflops(flops, mine))} GFLOP/s` +
      (theirs === null ? '' : `, tfjs-webgpu ${fmt(gflops(flops, theirs))} GFLOP/s`);
    rows.push(row('gpu', `matmul ${n}`, mine, 'tfjs-webgpu', theirs, note));
    tfMatmul.set(n, theirs);
  }
  for (const [key, ms] of sweep) {
    const n = Number(key.split(' ')[0]);
    const rate = `${fmt(gflops(PER_READ * 2 * n ** 3, ms))} GFLOP/s`;
    rows.push(row('gpu', `matmul ${key}`, ms, 'tfjs-webgpu', tfMatmul.get(n) ?? null, rate));
  }
  for (const { calls, mode, ms } of chains) {
    const [chainJit, chainEager, eagerDispatches, jitDispatches] = ms;
    const how =
      mode === 'flush'
        ? `${calls} calls per flush`
        : `${calls} chained calls (+ eager mul) per readback`;
    rows.push(
      row(
        'gpu',
        `jit 8-op chain ${c.chain} f32, ${how}`,
        chainJit,
        'eager',
        chainEager,
        `jit ${(chainEager / chainJit).toFixed(2)}× faster than eager (goal ≥ 3×); ` +
          `dispatches per call: eager ${eagerDispatches}, jit ${jitDispatches}`,
      ),
    );
  }
  const mlpName = `mlp ${c.mlp.join('-')} b${c.mlpBatch} step`;
  const base = `submit every ${defaultBatch}`;
  for (const { every, chains: again, mlp } of batches) {
    again.forEach(({ calls, mode, ms }, i) => {
      const before = chains[i]!.ms;
      const name = `jit 8-op chain ${c.chain} f32, ${calls} per ${mode}, submit every ${every}`;
      rows.push(row('gpu', `${name}, jit`, ms[0], base, before[0]));
      rows.push(row('gpu', `${name}, eager`, ms[1], base, before[1]));
    });
    rows.push(row('gpu', `${mlpName}, submit every ${every}`, mlp, base, mlpGpu));
  }
  const tfMlp = tfOk ? await tfWebGPUMlpStepMs(c.mlp, c.mlpBatch, timer(c.warmup, c.runs)) : null;
  rows.push(row('gpu', mlpName, mlpGpu, 'tfjs-webgpu', tfMlp));
  rows.push(row('gpu', mlpName, mlpGpu, 'ours-cpu', mlpCpu));
  const { x: cx, w: cw } = convLayer(quick);
  rows.push(
    row(
      'gpu',
      `conv 3×3 x ${cx.join('×')} → ${cw[0]} ch, fwd+bwd, implicit GEMM`,
      convGemm,
      'direct kernels',
      convDirect,
      `GEMM ${fmt(gflops(convLayerFlops(quick), convGemm))} GFLOP/s, direct ` +
        `${fmt(gflops(convLayerFlops(quick), convDirect))} GFLOP/s`,
    ),
  );
  for (const [b, [gpuMs, cpuMs]] of cnn) {
    const name = `cnn-mnist b${b} step`;
    rows.push(row('gpu', name, gpuMs, 'direct conv kernels', cnnDirect.get(b) ?? null));
    const speedUp = `GPU speed-up over our CPU ${(cpuMs / gpuMs).toFixed(2)}× (goal ≥ 5×)`;
    rows.push(row('gpu', name, gpuMs, 'ours-cpu', cpuMs, speedUp));
    const tfCnn = tfOk ? await tfWebGPUCnnStepMs(b, timer(c.warmup, c.runs)) : null;
    rows.push(row('gpu', name, gpuMs, 'tfjs-webgpu', tfCnn, 'the same CNN written in tfjs'));
  }
  gpu.destroy();
  return rows;
}

/** Three significant figures: SwiftShader's rates are far below 1 GFLOP/s. */
function fmt(x: number): string {
  return x >= 100 ? x.toFixed(0) : x.toPrecision(3);
}

export async function main(): Promise<void> {
  report(await runGpuBench(process.argv.slice(3)));
}

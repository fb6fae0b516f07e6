/**
 * f32 matmul speed of the engine's generated Wasm SIMD kernels against tfjs-wasm (XNNPACK),
 * one thread each, same process. Run: node --import tsx bench/matmul-wasm.ts
 *
 * Options: --sweep   also time a grid of tile parameters (ours only)
 *          --relaxed use relaxed SIMD (turns on Node 20's --experimental-wasm-relaxed-simd)
 *          --no-tfjs skip the comparison table (with --sweep)
 */

import { setFlagsFromString } from 'node:v8';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { Heap } from '../engine/backend/cpu/heap.js';
import {
  type MatmulParams,
  type MatmulTiling,
  type WasmKernels,
  createWasmKernels,
} from '../engine/backend/wasm/kernels.js';

interface Shape {
  name: string;
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
}

const shapes: Shape[] = [
  { name: '256³', m: 256, n: 256, k: 256 },
  { name: '512³', m: 512, n: 512, k: 512 },
  { name: '1024³', m: 1024, n: 1024, k: 1024 },
  { name: 'fc1 [128×784]@[784×256]', m: 128, n: 256, k: 784 },
  { name: 'fc2 [128×256]@[256×256]', m: 128, n: 256, k: 256 },
  { name: 'fc3 [128×256]@[256×10]', m: 128, n: 10, k: 256 },
  { name: 'dX  dY[128×256]@W^T', m: 128, n: 784, k: 256, transB: true },
  { name: 'dW  X^T[784×128]@dY', m: 784, n: 256, k: 128, transA: true },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1] ?? NaN;
}

/**
 * Median and best seconds of each of `fns`, after warm-up, with enough repetitions for ~0.3 s of work
 * each. The functions' runs are interleaved so that the machine's drift (this host's speed
 * varies by tens of percent from second to second) affects them alike.
 */
function timeStats(fns: (() => void)[]): { median: number; best: number }[] {
  let once = 1e-3;
  for (const fn of fns) {
    const t0 = performance.now();
    for (let i = 0; i < 3; i++) fn();
    once = Math.max(once, (performance.now() - t0) / 3);
  }
  const reps = Math.max(7, Math.min(61, Math.ceil(300 / once)));
  const xs: number[][] = fns.map(() => []);
  for (let i = 0; i < reps; i++) {
    fns.forEach((fn, j) => {
      const s = performance.now();
      fn();
      xs[j]?.push((performance.now() - s) / 1e3);
    });
  }
  return xs.map((x) => ({ median: median(x), best: Math.min(...x) }));
}

const NAN_STATS = { median: NaN, best: NaN };

const gflops = (s: Shape, sec: number) => (2 * s.m * s.n * s.k) / sec / 1e9;

function oursRunner(heap: Heap, ks: WasmKernels, s: Shape): { run: () => void; free: () => void } {
  const a = heap.alloc(s.m * s.k * 4);
  const b = heap.alloc(s.k * s.n * 4);
  const c = heap.alloc(s.m * s.n * 4);
  heap.f32(a, s.m * s.k).forEach((_, i, arr) => (arr[i] = Math.sin(i)));
  heap.f32(b, s.k * s.n).forEach((_, i, arr) => (arr[i] = Math.cos(i)));
  const p: MatmulParams = {
    a,
    b,
    c,
    m: s.m,
    n: s.n,
    k: s.k,
    aRowStride: s.transA ? 1 : s.k,
    aColStride: s.transA ? s.m : 1,
    bRowStride: s.transB ? 1 : s.n,
    bColStride: s.transB ? s.k : 1,
  };
  return {
    run: () => ks.matmul(p),
    free: () => {
      heap.release(a);
      heap.release(b);
      heap.release(c);
    },
  };
}

interface Speed {
  median: number;
  best: number;
}

/** GFLOP/s (median and best run) of ours and of tfjs-wasm on one shape, runs interleaved. */
function timeBoth(heap: Heap, ks: WasmKernels, s: Shape): [Speed, Speed] {
  const r = oursRunner(heap, ks, s);
  const a = tf.randomNormal(s.transA ? [s.k, s.m] : [s.m, s.k]);
  const b = tf.randomNormal(s.transB ? [s.n, s.k] : [s.k, s.n]);
  const [ours = NAN_STATS, theirs = NAN_STATS] = timeStats([
    r.run,
    () => {
      const c = tf.matMul(a, b, s.transA, s.transB);
      c.dataSync();
      c.dispose();
    },
  ]);
  a.dispose();
  b.dispose();
  r.free();
  const speed = (x: { median: number; best: number }): Speed => ({
    median: gflops(s, x.median),
    best: gflops(s, x.best),
  });
  return [speed(ours), speed(theirs)];
}

async function main(): Promise<void> {
  const args = new Set(process.argv.slice(2));
  const relaxed = args.has('--relaxed');
  if (relaxed) setFlagsFromString('--experimental-wasm-relaxed-simd');
  const heap = new Heap(64 << 20);
  const ks = createWasmKernels(heap, { relaxedSimd: relaxed });
  if (!ks) throw new Error('this host has no Wasm SIMD');
  await tf.setBackend('wasm');
  await tf.ready();
  console.log(
    `ours: relaxed SIMD ${ks.relaxedSimd ? 'on' : 'off'}, tiling ${JSON.stringify(ks.tiling)}; ` +
      `tfjs ${tf.version.tfjs} backend ${tf.getBackend()}`,
  );
  console.log('GFLOP/s as median/best of the interleaved runs; ratio of medians');
  console.log(
    'shape'.padEnd(28) + 'ours'.padStart(14) + 'tfjs-wasm'.padStart(14) + 'ratio'.padStart(8),
  );
  const cell = (x: Speed) => `${x.median.toFixed(1)}/${x.best.toFixed(1)}`.padStart(14);
  for (const s of args.has('--no-tfjs') ? [] : shapes) {
    const [ours, theirs] = timeBoth(heap, ks, s);
    console.log(
      s.name.padEnd(28) +
        cell(ours) +
        cell(theirs) +
        (ours.median / theirs.median).toFixed(2).padStart(8),
    );
  }

  if (args.has('--sweep')) {
    const grid: Partial<MatmulTiling>[] = [];
    const env = process.env.SWEEP;
    if (env) {
      // SWEEP='mr,nr,ku,kc,mc,nc;...'
      for (const spec of env.split(';')) {
        const [mr, nr, ku, kc, mc, nc] = spec.split(',').map(Number);
        grid.push({ mr, nr, ku, kc, mc, nc });
      }
    } else {
      for (const [mr, nr] of <[number, number][]>[
        [4, 8],
        [5, 8],
        [6, 8],
        [3, 12],
        [2, 16],
      ])
        for (const ku of [1, 2])
          grid.push({ mr, nr, ku, kc: 256, mc: Math.floor(128 / mr) * mr, nc: 4096 });
    }
    console.log('\nsweep, GFLOP/s median/best, candidates interleaved:');
    const cands = grid.map((tiling) => createWasmKernels(heap, { relaxedSimd: relaxed, tiling }));
    console.log(''.padEnd(28) + cands.map((_, i) => `#${i}`.padStart(12)).join(''));
    for (const s of shapes) {
      const runners = cands.map((k) => oursRunner(heap, k as WasmKernels, s));
      const st = timeStats(runners.map((r) => r.run));
      runners.forEach((r) => r.free());
      const cell = (x: { median: number; best: number }) =>
        `${gflops(s, x.median).toFixed(1)}/${gflops(s, x.best).toFixed(1)}`.padStart(12);
      console.log(s.name.padEnd(28) + st.map(cell).join(''));
    }
    grid.forEach((t, i) => console.log(`#${i} ${JSON.stringify(t)}`));
  }
}

await main();

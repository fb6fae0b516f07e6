import { setFlagsFromString } from 'node:v8';
import { describe, it, expect } from 'vitest';
import { Heap } from '../cpu/heap.js';
import { ModuleBuilder, ValType, supportsRelaxedSimd, writeI32, writeU32 } from './emitter.js';
import { type MatmulTiling, type WasmKernels, createWasmKernels } from './kernels.js';

// Node 20 keeps relaxed SIMD behind a flag; turn it on so both code paths are tested.
// (Module compilation reads the flag, so setting it at run time is enough.)
setFlagsFromString('--experimental-wasm-relaxed-simd');

/** xs[i], for indices the test knows are in range. */
function at(xs: ArrayLike<number>, i: number): number {
  const x = xs[i];
  if (x === undefined) throw new RangeError(`index ${i} of ${xs.length}`);
  return x;
}

function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32 - 0.5;
  };
}

interface Case {
  m: number;
  n: number;
  k: number;
  transA?: boolean;
  transB?: boolean;
  accumulate?: boolean;
}

/** Runs one matmul on the heap and compares with a float64 reference. */
function check(heap: Heap, kernels: WasmKernels, cs: Case, seed = 1): void {
  const { m, n, k } = cs;
  const r = rng(seed * 7919 + m * 31 + n * 17 + k);
  const aHost = Float32Array.from({ length: m * k }, r);
  const bHost = Float32Array.from({ length: k * n }, r);
  const cInit = Float32Array.from({ length: m * n }, r);
  const a = heap.alloc(m * k * 4);
  const b = heap.alloc(k * n * 4);
  const c = heap.alloc(m * n * 4);
  // A is m×k logically; stored transposed (k×m row-major) when transA.
  const aStore = heap.f32(a, m * k);
  const bStore = heap.f32(b, k * n);
  for (let i = 0; i < m; i++)
    for (let p = 0; p < k; p++) aStore[cs.transA ? p * m + i : i * k + p] = at(aHost, i * k + p);
  for (let p = 0; p < k; p++)
    for (let j = 0; j < n; j++) bStore[cs.transB ? j * k + p : p * n + j] = at(bHost, p * n + j);
  heap.f32(c, m * n).set(cInit);
  kernels.matmul({
    a,
    b,
    c,
    m,
    n,
    k,
    aRowStride: cs.transA ? 1 : k,
    aColStride: cs.transA ? m : 1,
    bRowStride: cs.transB ? 1 : n,
    bColStride: cs.transB ? k : 1,
    accumulate: cs.accumulate,
  });
  const out = heap.f32(c, m * n);
  const tol = 1e-5 * Math.sqrt(Math.max(k, 1));
  let worst = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = cs.accumulate ? at(cInit, i * n + j) : 0;
      let mag = Math.abs(s);
      for (let p = 0; p < k; p++) {
        const x = at(aHost, i * k + p) * at(bHost, p * n + j);
        s += x;
        mag += Math.abs(x);
      }
      const err = Math.abs(at(out, i * n + j) - s) / Math.max(mag, 1e-30);
      if (err > worst) worst = err;
    }
  }
  heap.release(a);
  heap.release(b);
  heap.release(c);
  expect(worst, `${JSON.stringify(cs)}`).toBeLessThanOrEqual(tol);
}

const shapes: [number, number, number][] = [
  [1, 1, 1],
  [1, 1, 7],
  [2, 3, 4],
  [7, 13, 5],
  [4, 8, 16],
  [6, 8, 3],
  [5, 9, 1],
  [33, 65, 17],
  [100, 3, 200],
  [3, 100, 50],
  [128, 10, 256],
  [300, 700, 300],
  [257, 129, 513],
];

const configs: { name: string; relaxed: boolean; tiling?: Partial<MatmulTiling> }[] = [
  { name: 'plain SIMD', relaxed: false },
  { name: 'relaxed SIMD', relaxed: true },
  // Small blocks, so that modest shapes cross every blocking boundary.
  { name: 'small blocks', relaxed: false, tiling: { mr: 3, nr: 4, ku: 3, kc: 7, mc: 6, nc: 8 } },
  { name: 'wide tile', relaxed: false, tiling: { mr: 2, nr: 12, ku: 2, kc: 64, mc: 32, nc: 48 } },
];

describe('wasm matmul', () => {
  for (const cfg of configs) {
    const run = cfg.relaxed && !supportsRelaxedSimd() ? it.skip : it;
    describe(cfg.name, () => {
      const heap = new Heap(1 << 20);
      const kernels = () => {
        const k = createWasmKernels(heap, { relaxedSimd: cfg.relaxed, tiling: cfg.tiling });
        if (!k) throw new Error('no Wasm SIMD');
        return k;
      };
      run('plain operands', () => {
        const ks = kernels();
        expect(ks.relaxedSimd).toBe(cfg.relaxed);
        for (const [m, n, k] of shapes) check(heap, ks, { m, n, k });
      });
      run('transposed operands', () => {
        const ks = kernels();
        for (const [m, n, k] of shapes) {
          check(heap, ks, { m, n, k, transA: true });
          check(heap, ks, { m, n, k, transB: true });
          check(heap, ks, { m, n, k, transA: true, transB: true });
        }
      });
      run('accumulate', () => {
        const ks = kernels();
        for (const [m, n, k] of shapes) {
          check(heap, ks, { m, n, k, accumulate: true });
          check(heap, ks, { m, n, k, accumulate: true, transB: true });
        }
      });
    });
  }

  it('handles k = 0 and empty outputs', () => {
    const heap = new Heap(1 << 20);
    const ks = createWasmKernels(heap);
    if (!ks) throw new Error('no Wasm SIMD');
    const c = heap.alloc(16);
    heap.f32(c, 4).fill(5);
    const base = { a: 64, b: 64, c, aRowStride: 0, aColStride: 1, bRowStride: 2, bColStride: 1 };
    ks.matmul({ ...base, m: 2, n: 2, k: 0, accumulate: true });
    expect([...heap.f32(c, 4)]).toEqual([5, 5, 5, 5]);
    ks.matmul({ ...base, m: 2, n: 2, k: 0 });
    expect([...heap.f32(c, 4)]).toEqual([0, 0, 0, 0]);
    ks.matmul({ ...base, m: 0, n: 2, k: 3 });
  });

  it('keeps working after the heap grows', () => {
    const heap = new Heap(1 << 16);
    const ks = createWasmKernels(heap);
    if (!ks) throw new Error('no Wasm SIMD');
    check(heap, ks, { m: 40, n: 40, k: 40 });
    const big = heap.alloc(8 << 20);
    check(heap, ks, { m: 90, n: 150, k: 300 });
    heap.release(big);
  });
});

describe('wasm elementwise', () => {
  const heap = new Heap(1 << 20);
  const ks = createWasmKernels(heap);
  if (!ks) throw new Error('no Wasm SIMD');
  const ref = {
    add: (x: number, y: number) => x + y,
    sub: (x: number, y: number) => x - y,
    mul: (x: number, y: number) => x * y,
    div: (x: number, y: number) => x / y,
  };
  const put = (data: Float32Array) => {
    const p = heap.alloc(data.length * 4 + 4) + 4; // deliberately not 16-byte aligned
    heap.f32(p, data.length).set(data);
    return p;
  };
  const free = (...ps: number[]) => ps.forEach((p) => heap.release(p - 4));
  const expectClose = (got: Float32Array, want: ArrayLike<number>) => {
    expect(got.length).toBe(want.length);
    for (let i = 0; i < got.length; i++)
      expect(Math.abs(at(got, i) - at(want, i))).toBeLessThanOrEqual(
        1e-6 * Math.max(1, Math.abs(at(want, i))),
      );
  };
  const sizes = [1, 3, 4, 5, 8, 17, 64, 1001];

  it('binary ops, scalar and row broadcasts', () => {
    const r = rng(5);
    for (const op of ['add', 'sub', 'mul', 'div'] as const) {
      const f = ref[op];
      for (const n of sizes) {
        const x = Float32Array.from({ length: n }, r);
        const y = Float32Array.from({ length: n }, () => r() + 2);
        const [px, py, po] = [put(x), put(y), put(new Float32Array(n))];
        ks.binary(op, px, py, po, n);
        expectClose(
          heap.f32(po, n),
          Float32Array.from(x, (v, i) => f(v, at(y, i))),
        );
        ks.binaryScalar(op, px, 2.5, po, n);
        expectClose(
          heap.f32(po, n),
          Float32Array.from(x, (v) => f(v, 2.5)),
        );
        ks.binaryScalar(op, py, 2.5, po, n, true);
        expectClose(
          heap.f32(po, n),
          Float32Array.from(y, (v) => f(2.5, v)),
        );
        ks.binary(op, px, py, px, n); // in place
        expectClose(
          heap.f32(px, n),
          Float32Array.from(x, (v, i) => f(v, at(y, i))),
        );
        free(px, py, po);
      }
      for (const [rows, cols] of <[number, number][]>[
        [1, 1],
        [3, 5],
        [128, 10],
        [7, 256],
        [2, 33],
      ]) {
        const x = Float32Array.from({ length: rows * cols }, r);
        const b = Float32Array.from({ length: cols }, () => r() + 2);
        const [px, pb, po] = [put(x), put(b), put(new Float32Array(rows * cols))];
        ks.binaryRow(op, px, pb, po, rows, cols);
        expectClose(
          heap.f32(po, rows * cols),
          Float32Array.from(x, (v, i) => f(v, at(b, i % cols))),
        );
        free(px, pb, po);
      }
    }
  });

  it('comparisons into bytes, whole and with a scalar, NaN false, bytes past the end untouched', () => {
    const r = rng(13);
    const tests = {
      gt: (p: number, q: number) => p > q,
      lt: (p: number, q: number) => p < q,
      eq: (p: number, q: number) => p === q,
    };
    for (const [op, f] of Object.entries(tests) as [keyof typeof tests, typeof tests.gt][])
      for (const n of sizes) {
        // Some NaN, some ties with the other side and with the scalar 0.25.
        const x = Float32Array.from({ length: n }, (_, i) =>
          i % 7 === 3 ? NaN : i % 5 === 1 ? 0.25 : r(),
        );
        const y = Float32Array.from(x, (v, i) => (i % 3 === 0 ? v : r()));
        const [px, py] = [put(x), put(y)];
        const po = heap.alloc(n + 8);
        for (const [b, want] of [
          [py, Array.from(x, (v, i) => (f(v, at(y, i)) ? 1 : 0))],
          [null, Array.from(x, (v) => (f(v, 0.25) ? 1 : 0))],
        ] as const) {
          new Uint8Array(heap.memory.buffer, po, n + 8).fill(7);
          ks.compare(op, px, b, 0.25, po, n);
          expect(Array.from(new Uint8Array(heap.memory.buffer, po, n))).toEqual(want);
          expect(Array.from(new Uint8Array(heap.memory.buffer, po + n, 8))).toEqual(
            new Array(8).fill(7),
          );
        }
        free(px, py);
        heap.release(po);
      }
  });

  it('relu and sum over the last axis', () => {
    const r = rng(9);
    for (const n of sizes) {
      const x = Float32Array.from({ length: n }, r);
      const [px, po] = [put(x), put(new Float32Array(n))];
      ks.relu(px, po, n);
      expectClose(
        heap.f32(po, n),
        Float32Array.from(x, (v) => Math.max(v, 0)),
      );
      free(px, po);
    }
    for (const [rows, cols] of <[number, number][]>[
      [1, 1],
      [3, 5],
      [128, 10],
      [7, 256],
      [2, 33],
      [4, 0],
      [1, 12],
    ]) {
      const x = Float32Array.from({ length: rows * cols }, r);
      const [px, po] = [put(x), put(new Float32Array(rows))];
      ks.sumLastAxis(px, po, rows, cols);
      const want = Array.from({ length: rows }, (_, i) =>
        x.subarray(i * cols, (i + 1) * cols).reduce((s, v) => s + v, 0),
      );
      const got = heap.f32(po, rows);
      for (let i = 0; i < rows; i++)
        expect(Math.abs(at(got, i) - at(want, i))).toBeLessThanOrEqual(
          1e-6 * Math.sqrt(cols + 1) * 4,
        );
      free(px, po);
    }
  });
});

describe('emitter', () => {
  it('encodes LEB128', () => {
    const u: number[] = [];
    writeU32(u, 624485);
    expect(u).toEqual([0xe5, 0x8e, 0x26]);
    const s: number[] = [];
    writeI32(s, -123456);
    expect(s).toEqual([0xc0, 0xbb, 0x78]);
    const t: number[] = [];
    writeU32(t, 0xffffffff);
    expect(t).toEqual([0xff, 0xff, 0xff, 0xff, 0x0f]);
  });

  it('builds a module that computes', () => {
    const mb = new ModuleBuilder();
    const f = mb.addFunction([ValType.i32, ValType.i32], [ValType.i32]);
    const acc = f.local(ValType.i32);
    // sum of i for i in [a, b)
    f.block().loop();
    f.localGet(0).localGet(1).i32GeS().brIf(1);
    f.localGet(acc).localGet(0).i32Add().localSet(acc);
    f.localGet(0).i32Const(1).i32Add().localSet(0);
    f.br(0).end().end();
    f.localGet(acc);
    mb.exportFunction('sum', f);
    const inst = new WebAssembly.Instance(new WebAssembly.Module(mb.toBytes()));
    const sum = inst.exports.sum as (a: number, b: number) => number;
    expect(sum(3, 10)).toBe(42);
    expect(sum(-10, 20)).toBe(135);
  });

  it('imports shared and non-shared memories', () => {
    for (const shared of [false, true]) {
      const memory = new WebAssembly.Memory({ initial: 1, maximum: 65536, shared });
      const mb = new ModuleBuilder();
      mb.importMemory({ module: 'env', name: 'memory', initial: 1, maximum: 65536, shared });
      const f = mb.addFunction([ValType.i32], []);
      f.localGet(0).localGet(0).v128Load().f32x4Const(1, 2, 3, 4).f32x4Mul().v128Store();
      mb.exportFunction('scale', f);
      const inst = new WebAssembly.Instance(new WebAssembly.Module(mb.toBytes()), {
        env: { memory },
      });
      const v = new Float32Array(memory.buffer, 64, 4);
      v.set([1, 1, 2, 2]);
      (inst.exports.scale as (p: number) => void)(64);
      expect([...v]).toEqual([1, 2, 6, 8]);
    }
  });
});

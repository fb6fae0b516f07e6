/**
 * The CPU device's fast path: WebAssembly SIMD kernels generated at start-up by the emitter
 * and run on the engine heap's memory, so they read and write tensors in place.
 *
 * Matrix multiplication follows the BLIS/GotoBLAS design. B is packed, per KC×NC block, into
 * column panels of NR columns stored K-major (kc×NR contiguous floats), and A, per MC×KC
 * block, into row panels of MR rows (kc×MR). Packing reads through arbitrary element strides,
 * so transposed operands cost nothing extra, and pads partial panels with zeros. A generated
 * micro-kernel then keeps an MR×NR tile of C in SIMD locals: per k it loads NR/4 vectors of
 * the B panel and, per row, one splatted A value, multiplying and adding (or using relaxed
 * SIMD's fused multiply-add where the host has it). The micro-kernel is its own Wasm
 * function, called from the generated driver loop, so the engine's tiering compiler
 * optimises it after its first few calls, within the first matmul.
 *
 * Edge tiles (M or N not multiples of MR or NR) are computed whole into a scratch tile and
 * their valid part is then added or copied into C (a last panel of at most 4 valid columns
 * uses a 4-column variant of the micro-kernel). K, M and N are split into equal blocks no
 * larger than KC, MC and NC. The defaults were chosen by measurement on Zen 5 under Node 20
 * (V8 11.3): 5×8 with mul+add (10 accumulators, 2 B vectors, the splat and a product: 14 of
 * the 15 xmm registers V8 allocates), 6×8 with fused multiply-add, the k loop not unrolled.
 *
 * The same module holds simple SIMD elementwise kernels (binary ops, their scalar and row
 * broadcasts, relu, row sums). The module imports the heap's memory, declared shared exactly
 * when the heap's memory is, with the 4 GiB maximum.
 */

import type { Heap } from '../cpu/heap.js';
import { type Code, ModuleBuilder, ValType, supportsRelaxedSimd, supportsSimd } from './emitter.js';

export interface MatmulParams {
  /** Byte addresses in the heap. */
  a: number;
  b: number;
  c: number;
  m: number;
  n: number;
  k: number;
  /** Element strides of A (m×k) and B (k×n); C is written contiguous row-major m×n. */
  aRowStride: number;
  aColStride: number;
  bRowStride: number;
  bColStride: number;
  /** C += A·B instead of C = A·B. */
  accumulate?: boolean;
}

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div';

/** f32 comparisons with a bool (one byte per element) result. */
export type CompareOp = 'gt' | 'lt' | 'eq';
const COMPARE_OPS: readonly CompareOp[] = ['gt', 'lt', 'eq'];

/**
 * All addresses are byte addresses of f32 arrays in the heap (4-byte aligned); element
 * counts are in elements. Outputs may alias inputs exactly (in-place), not partially.
 */
export interface WasmKernels {
  readonly relaxedSimd: boolean;
  readonly tiling: Readonly<MatmulTiling>;
  matmul(p: MatmulParams): void;
  /** out[i] = a[i] op b[i] for i < n. */
  binary(op: BinaryOp, a: number, b: number, out: number, n: number): void;
  /** out[i] = a[i] op s, or s op a[i] when `scalarFirst`. */
  binaryScalar(
    op: BinaryOp,
    a: number,
    s: number,
    out: number,
    n: number,
    scalarFirst?: boolean,
  ): void;
  /** out[r][j] = a[r][j] op row[j] for a rows×cols row-major (the bias-add broadcast). */
  binaryRow(op: BinaryOp, a: number, row: number, out: number, rows: number, cols: number): void;
  /** out[i] = max(a[i], 0). */
  relu(a: number, out: number, n: number): void;
  /**
   * Bytes out[i] = a[i] op b[i] ? 1 : 0 over f32 a and b (`out` is a bool array, one byte per
   * element); with `b` null, a[i] op s. False where either side is NaN.
   */
  compare(op: CompareOp, a: number, b: number | null, s: number, out: number, n: number): void;
  /** out[r] = Σ_j a[r][j] for a rows×cols row-major. */
  sumLastAxis(a: number, out: number, rows: number, cols: number): void;
}

/** Register and cache blocking of the matmul. */
export interface MatmulTiling {
  /** Rows of the micro-tile. */
  mr: number;
  /** Columns of the micro-tile; a multiple of 4. */
  nr: number;
  /** Unrolling of the micro-kernel's k loop. */
  ku: number;
  /** Depth of a packed block (the k extent a micro-kernel call covers). */
  kc: number;
  /** Rows of A packed at a time (rounded down to a multiple of mr). */
  mc: number;
  /** Columns of B packed at a time (rounded down to a multiple of nr). */
  nc: number;
}

export interface WasmKernelOptions {
  /**
   * Use relaxed SIMD's fused multiply-add: undefined uses it when the host validates it,
   * false never does, true requires it (throws where the host lacks it).
   */
  relaxedSimd?: boolean;
  /** Overrides of the blocking parameters (for tuning and tests). */
  tiling?: Partial<MatmulTiling>;
}

const DEFAULT_TILING: MatmulTiling = { mr: 5, nr: 8, ku: 1, kc: 256, mc: 120, nc: 4096 };
const DEFAULT_TILING_FMA: MatmulTiling = { mr: 6, nr: 8, ku: 1, kc: 256, mc: 120, nc: 4096 };

/** Returns the kernels, or null when the host lacks WebAssembly SIMD. */
export function createWasmKernels(heap: Heap, options: WasmKernelOptions = {}): WasmKernels | null {
  if (!supportsSimd()) return null;
  const hasRelaxed = supportsRelaxedSimd();
  if (options.relaxedSimd === true && !hasRelaxed)
    throw new Error('relaxed SIMD was required but the host does not validate it');
  const relaxed = options.relaxedSimd ?? hasRelaxed;
  const tiling: MatmulTiling = {
    ...(relaxed ? DEFAULT_TILING_FMA : DEFAULT_TILING),
    ...options.tiling,
  };
  normalizeTiling(tiling);
  const bytes = matmulModuleBytes(heap.shared, tiling, relaxed);
  const module = new WebAssembly.Module(bytes);
  const instance = new WebAssembly.Instance(module, { env: { memory: heap.memory } });
  const exports = instance.exports as unknown as ModuleExports;
  return new Kernels(heap, exports, tiling, relaxed);
}

/** Validates `t` and rounds mc and nc down to whole micro-panels. */
function normalizeTiling(t: MatmulTiling): void {
  const positive = (x: number) => Number.isInteger(x) && x > 0;
  if (![t.mr, t.nr, t.ku, t.kc, t.mc, t.nc].every(positive))
    throw new Error(`bad matmul tiling ${JSON.stringify(t)}`);
  if (t.nr % 4 !== 0) throw new Error('tiling: nr must be a multiple of 4');
  t.mc = Math.max(t.mr, t.mc - (t.mc % t.mr));
  t.nc = Math.max(t.nr, t.nc - (t.nc % t.nr));
}

interface ModuleExports {
  /**
   * (a, b, c, m, n, k, ars, acs, brs, bcs [bytes], accumulate, packA, packB, tile,
   *  kc, mc, nc [block sizes; mc and nc multiples of mr and nr])
   */
  matmul(
    a: number,
    b: number,
    c: number,
    m: number,
    n: number,
    k: number,
    ars: number,
    acs: number,
    brs: number,
    bcs: number,
    accumulate: number,
    packA: number,
    packB: number,
    tile: number,
    kc: number,
    mc: number,
    nc: number,
  ): void;
  relu(a: number, out: number, n: number): void;
  sum_rows(a: number, out: number, rows: number, cols: number): void;
  [binaryExport: string]: ((...args: number[]) => void) | undefined;
}

class Kernels implements WasmKernels {
  private scratch = 0;
  private scratchBytes = 0;

  constructor(
    private readonly heap: Heap,
    private readonly exports: ModuleExports,
    readonly tiling: Readonly<MatmulTiling>,
    readonly relaxedSimd: boolean,
  ) {}

  private fn(name: string): (...args: number[]) => void {
    const f = this.exports[name];
    if (!f) throw new Error(`wasm kernels: no export '${name}'`);
    return f;
  }

  binary(op: BinaryOp, a: number, b: number, out: number, n: number): void {
    if (n > 0) this.fn(op)(a, b, out, n);
  }

  binaryScalar(
    op: BinaryOp,
    a: number,
    s: number,
    out: number,
    n: number,
    scalarFirst = false,
  ): void {
    if (n > 0) this.fn(`${op}_scalar${scalarFirst ? '_first' : ''}`)(a, s, out, n);
  }

  binaryRow(op: BinaryOp, a: number, row: number, out: number, rows: number, cols: number): void {
    if (rows > 0 && cols > 0) this.fn(`${op}_row`)(a, row, out, rows, cols);
  }

  relu(a: number, out: number, n: number): void {
    if (n > 0) this.exports.relu(a, out, n);
  }

  compare(op: CompareOp, a: number, b: number | null, s: number, out: number, n: number): void {
    if (n === 0) return;
    if (b === null) this.fn(`${op}_scalar`)(a, s, out, n);
    else this.fn(op)(a, b, out, n);
  }

  sumLastAxis(a: number, out: number, rows: number, cols: number): void {
    if (rows > 0) this.exports.sum_rows(a, out, rows, cols);
  }

  private ensureScratch(bytes: number): number {
    if (bytes > this.scratchBytes) {
      if (this.scratch) this.heap.release(this.scratch);
      this.scratchBytes = Math.max(bytes, this.scratchBytes * 2);
      this.scratch = this.heap.alloc(this.scratchBytes);
    }
    return this.scratch;
  }

  matmul(p: MatmulParams): void {
    const { m, n, k } = p;
    if (m === 0 || n === 0) return;
    if (k === 0) {
      if (!p.accumulate) this.heap.f32(p.c, m * n).fill(0);
      return;
    }
    const t = this.tiling;
    // Split each dimension into equal blocks no larger than the tiling's (rounded up to whole
    // micro-panels), so that no block is a thin remainder.
    const kc = balance(k, t.kc, 1);
    const mc = balance(m, t.mc, t.mr);
    const nc = balance(n, t.nc, t.nr);
    const aBytes = roundUp(roundUp(mc, t.mr) * kc * 4, 64);
    const bBytes = roundUp(roundUp(nc, t.nr) * kc * 4, 64);
    const tileBytes = roundUp(t.mr * t.nr * 4, 64);
    const base = this.ensureScratch(aBytes + bBytes + tileBytes);
    this.exports.matmul(
      p.a,
      p.b,
      p.c,
      m,
      n,
      k,
      p.aRowStride * 4,
      p.aColStride * 4,
      p.bRowStride * 4,
      p.bColStride * 4,
      p.accumulate ? 1 : 0,
      base,
      base + aBytes,
      base + aBytes + bBytes,
      kc,
      mc,
      nc,
    );
  }
}

function roundUp(x: number, to: number): number {
  return Math.ceil(x / to) * to;
}

/** The block size that splits `total` into equal blocks of at most about `max`. */
function balance(total: number, max: number, multiple: number): number {
  const blocks = Math.ceil(total / max);
  return roundUp(Math.ceil(total / blocks), multiple);
}

// ---- Code generation -----------------------------------------------------------------

const { i32, v128 } = ValType;

/** xs[i], which the generator knows to exist. */
function at(xs: readonly number[], i: number): number {
  const x = xs[i];
  if (x === undefined) throw new RangeError(`local ${i} of ${xs.length}`);
  return x;
}

/** `for (i = start; i < end; i += step) body`, signed comparison; start/end/step push an i32. */
function forLoop(
  c: Code,
  i: number,
  start: () => void,
  end: () => void,
  step: () => void,
  body: () => void,
): void {
  start();
  c.localSet(i);
  c.block().loop();
  c.localGet(i);
  end();
  c.i32GeS().brIf(1);
  body();
  c.localGet(i);
  step();
  c.i32Add().localSet(i);
  c.br(0).end().end();
}

/** Pushes min(local a, b()) as i32. */
function minI32(c: Code, a: () => void, b: () => void, tmpA: number, tmpB: number): void {
  a();
  c.localSet(tmpA);
  b();
  c.localSet(tmpB);
  c.localGet(tmpA).localGet(tmpB).localGet(tmpA).localGet(tmpB).i32LtS().select();
}

/**
 * The generated module: imports env.memory; exports `matmul` (see ModuleExports) and, for
 * benchmarks, `kernel` and `pack` (A-panel packing).
 */
export function matmulModuleBytes(
  shared: boolean,
  t: MatmulTiling,
  relaxed: boolean,
): Uint8Array<ArrayBuffer> {
  const mb = new ModuleBuilder();
  mb.importMemory({ module: 'env', name: 'memory', initial: 1, maximum: 65536, shared });
  const kernel = emitMicroKernel(mb, t, relaxed, t.nr);
  // For a last column panel with at most 4 valid columns: computes only the first 4.
  const narrow = t.nr > 4 ? emitMicroKernel(mb, t, relaxed, 4) : kernel;
  const packA = emitPack(mb, t.mr);
  const packB = t.nr === t.mr ? packA : emitPack(mb, t.nr);
  const driver = emitDriver(mb, t, kernel, narrow, packA, packB);
  mb.exportFunction('matmul', driver);
  emitElementwise(mb);
  mb.exportFunction('kernel', kernel);
  mb.exportFunction('packA', packA);
  mb.exportFunction('packB', packB);
  return mb.toBytes();
}

/**
 * kernel(pa, pb, kc, pc, ldc, accumulate): C[0:mr, 0:cols] (+)= Apanel · Bpanel where the
 * panels are kc×mr and kc×nr floats, C at byte address pc with row pitch ldc bytes.
 *
 * The k loop is not unrolled by default (ku = 1): V8's scheduler hoists all the loads of an
 * unrolled body to its top, and with more than 15 live vectors the register allocator spills.
 * One step keeps mr·cols/4 accumulators, cols/4 B vectors, the splat and one product live.
 */
function emitMicroKernel(mb: ModuleBuilder, t: MatmulTiling, relaxed: boolean, cols: number): Code {
  const c = mb.addFunction([i32, i32, i32, i32, i32, i32]);
  const [pa, pb, kc, pc, ldc, accumulate] = [0, 1, 2, 3, 4, 5];
  const nv = cols / 4;
  const accs = c.locals(v128, t.mr * nv);
  const acc = (r: number, v: number) => at(accs, r * nv + v);
  const bv = c.locals(v128, nv);
  const av = c.local(v128);
  const end = c.local(i32);
  const mainEnd = c.local(i32);

  for (const x of accs) c.f32x4Const(0).localSet(x);

  const step = (u: number) => {
    for (let v = 0; v < nv; v++)
      c.localGet(pb)
        .v128Load((u * t.nr + v * 4) * 4, 2)
        .localSet(at(bv, v));
    for (let r = 0; r < t.mr; r++) {
      c.localGet(pa)
        .v128Load32Splat((u * t.mr + r) * 4)
        .localSet(av);
      for (let v = 0; v < nv; v++) {
        if (relaxed) {
          c.localGet(av).localGet(at(bv, v)).localGet(acc(r, v)).f32x4RelaxedMadd();
        } else {
          c.localGet(acc(r, v)).localGet(av).localGet(at(bv, v)).f32x4Mul().f32x4Add();
        }
        c.localSet(acc(r, v));
      }
    }
  };

  const loopOver = (unroll: number, endLocal: number) => {
    c.block();
    c.localGet(pa).localGet(endLocal).i32GeU().brIf(0);
    c.loop();
    for (let u = 0; u < unroll; u++) step(u);
    c.localGet(pa)
      .i32Const(unroll * t.mr * 4)
      .i32Add()
      .localSet(pa);
    c.localGet(pb)
      .i32Const(unroll * t.nr * 4)
      .i32Add()
      .localSet(pb);
    c.localGet(pa).localGet(endLocal).i32LtU().brIf(0);
    c.end().end();
  };

  // end = pa + kc*mr*4; the main loop covers kc - kc % ku steps, the remainder one at a time.
  c.localGet(kc)
    .i32Const(t.mr * 4)
    .i32Mul()
    .localGet(pa)
    .i32Add()
    .localSet(end);
  if (t.ku > 1) {
    c.localGet(end)
      .localGet(kc)
      .i32Const(t.ku)
      .i32RemU()
      .i32Const(t.mr * 4)
      .i32Mul()
      .i32Sub();
    c.localSet(mainEnd);
    loopOver(t.ku, mainEnd);
  }
  loopOver(1, end);

  // Write back, row by row.
  const writeBack = (add: boolean) => {
    for (let r = 0; r < t.mr; r++) {
      for (let v = 0; v < nv; v++) {
        c.localGet(pc);
        if (add)
          c.localGet(pc)
            .v128Load(v * 16, 2)
            .localGet(acc(r, v))
            .f32x4Add();
        else c.localGet(acc(r, v));
        c.v128Store(v * 16, 2);
      }
      if (r < t.mr - 1) c.localGet(pc).localGet(ldc).i32Add().localSet(pc);
    }
  };
  c.localGet(accumulate).if();
  writeBack(true);
  c.else();
  writeBack(false);
  c.end();
  return c;
}

/**
 * pack(src, laneStride, stepStride, lanes, steps, dst): packs a lanes×steps block (byte
 * strides) into panels of `w` lanes, each steps×w floats, lane fastest; a partial last
 * panel is padded with zeros.
 */
function emitPack(mb: ModuleBuilder, w: number): Code {
  const c = mb.addFunction([i32, i32, i32, i32, i32, i32]);
  const [src, laneStride, stepStride, lanes, steps, dst] = [0, 1, 2, 3, 4, 5];
  const p0 = c.local(i32);
  const ptr = c.locals(i32, w);
  const off = c.local(i32);
  const s = c.local(i32);
  const l = c.local(i32);
  const left = c.local(i32);

  // Full panels.
  c.i32Const(0).localSet(p0);
  c.block().loop();
  c.localGet(lanes).localGet(p0).i32Sub().i32Const(w).i32LtS().brIf(1);
  // Lane pointers for this panel.
  c.localGet(p0).localGet(laneStride).i32Mul().localGet(src).i32Add().localSet(at(ptr, 0));
  for (let j = 1; j < w; j++)
    c.localGet(at(ptr, j - 1))
      .localGet(laneStride)
      .i32Add()
      .localSet(at(ptr, j));
  c.i32Const(0).localSet(off);
  c.i32Const(0).localSet(s);
  if (w % 4 === 0) {
    // Contiguous lanes: copy vectors.
    c.localGet(laneStride).i32Const(4).i32Eq().if();
    c.block().loop();
    c.localGet(s).localGet(steps).i32GeS().brIf(1);
    for (let v = 0; v < w / 4; v++) {
      c.localGet(dst)
        .localGet(at(ptr, 0))
        .localGet(off)
        .i32Add()
        .v128Load(v * 16, 2)
        .v128Store(v * 16, 2);
    }
    c.localGet(off).localGet(stepStride).i32Add().localSet(off);
    c.localGet(dst)
      .i32Const(w * 4)
      .i32Add()
      .localSet(dst);
    c.localGet(s).i32Const(1).i32Add().localSet(s);
    c.br(0).end().end();
    c.else();
  }
  c.block().loop();
  c.localGet(s).localGet(steps).i32GeS().brIf(1);
  for (let j = 0; j < w; j++) {
    c.localGet(dst)
      .localGet(at(ptr, j))
      .localGet(off)
      .i32Add()
      .f32Load()
      .f32Store(j * 4);
  }
  c.localGet(off).localGet(stepStride).i32Add().localSet(off);
  c.localGet(dst)
    .i32Const(w * 4)
    .i32Add()
    .localSet(dst);
  c.localGet(s).i32Const(1).i32Add().localSet(s);
  c.br(0).end().end();
  if (w % 4 === 0) c.end();
  c.localGet(p0).i32Const(w).i32Add().localSet(p0);
  c.br(0).end().end();

  // Partial panel.
  c.localGet(lanes).localGet(p0).i32Sub().localTee(left).i32Const(0).i32GtS().if();
  c.localGet(p0).localGet(laneStride).i32Mul().localGet(src).i32Add().localSet(src);
  forLoop(
    c,
    s,
    () => c.i32Const(0),
    () => c.localGet(steps),
    () => c.i32Const(1),
    () => {
      c.localGet(src).localSet(at(ptr, 0));
      forLoop(
        c,
        l,
        () => c.i32Const(0),
        () => c.i32Const(w),
        () => c.i32Const(1),
        () => {
          c.localGet(dst).localGet(l).i32Const(2).i32Shl().i32Add();
          c.localGet(l).localGet(left).i32LtS().if(ValType.f32);
          c.localGet(at(ptr, 0)).f32Load();
          c.localGet(at(ptr, 0)).localGet(laneStride).i32Add().localSet(at(ptr, 0));
          c.else().f32Const(0).end();
          c.f32Store();
        },
      );
      c.localGet(src).localGet(stepStride).i32Add().localSet(src);
      c.localGet(dst)
        .i32Const(w * 4)
        .i32Add()
        .localSet(dst);
    },
  );
  c.end();
  return c;
}

/** The blocked loops around packing and the micro-kernel. Strides in bytes. */
function emitDriver(
  mb: ModuleBuilder,
  t: MatmulTiling,
  kernel: Code,
  narrow: Code,
  packA: Code,
  packB: Code,
): Code {
  const params = new Array<ValType>(17).fill(i32);
  const c = mb.addFunction(params);
  const [a, b, cp, m, n, k, ars, acs, brs, bcs, accumulate, bufA, bufB, tile, kcBlk, mcBlk, ncBlk] =
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];
  const [
    jc,
    nc,
    pcIdx,
    kc,
    ic,
    mc,
    jr,
    ir,
    nrEff,
    mrEff,
    acc,
    cRow,
    ldc,
    tmpA,
    tmpB,
    i,
    j,
    src,
    dstp,
    panA,
    panB,
  ] = c.locals(i32, 21);
  const kernelIdx = mb.funcIndex(kernel);
  const narrowIdx = mb.funcIndex(narrow);
  const packAIdx = mb.funcIndex(packA);
  const packBIdx = mb.funcIndex(packB);

  c.localGet(n).i32Const(2).i32Shl().localSet(ldc);
  forLoop(
    c,
    jc,
    () => c.i32Const(0),
    () => c.localGet(n),
    () => c.localGet(ncBlk),
    () => {
      minI32(
        c,
        () => c.localGet(ncBlk),
        () => c.localGet(n).localGet(jc).i32Sub(),
        tmpA,
        tmpB,
      );
      c.localSet(nc);
      forLoop(
        c,
        pcIdx,
        () => c.i32Const(0),
        () => c.localGet(k),
        () => c.localGet(kcBlk),
        () => {
          minI32(
            c,
            () => c.localGet(kcBlk),
            () => c.localGet(k).localGet(pcIdx).i32Sub(),
            tmpA,
            tmpB,
          );
          c.localSet(kc);
          // acc = accumulate || pc > 0
          c.localGet(accumulate).localGet(pcIdx).i32Const(0).i32GtS().i32Or().localSet(acc);
          // packB(B + pc*brs + jc*bcs, bcs, brs, nc, kc, bufB)
          c.localGet(b)
            .localGet(pcIdx)
            .localGet(brs)
            .i32Mul()
            .i32Add()
            .localGet(jc)
            .localGet(bcs)
            .i32Mul()
            .i32Add();
          c.localGet(bcs).localGet(brs).localGet(nc).localGet(kc).localGet(bufB).call(packBIdx);
          forLoop(
            c,
            ic,
            () => c.i32Const(0),
            () => c.localGet(m),
            () => c.localGet(mcBlk),
            () => {
              minI32(
                c,
                () => c.localGet(mcBlk),
                () => c.localGet(m).localGet(ic).i32Sub(),
                tmpA,
                tmpB,
              );
              c.localSet(mc);
              // packA(A + ic*ars + pc*acs, ars, acs, mc, kc, bufA)
              c.localGet(a)
                .localGet(ic)
                .localGet(ars)
                .i32Mul()
                .i32Add()
                .localGet(pcIdx)
                .localGet(acs)
                .i32Mul()
                .i32Add();
              c.localGet(ars).localGet(acs).localGet(mc).localGet(kc).localGet(bufA).call(packAIdx);
              forLoop(
                c,
                jr,
                () => c.i32Const(0),
                () => c.localGet(nc),
                () => c.i32Const(t.nr),
                () => {
                  minI32(
                    c,
                    () => c.i32Const(t.nr),
                    () => c.localGet(nc).localGet(jr).i32Sub(),
                    tmpA,
                    tmpB,
                  );
                  c.localSet(nrEff);
                  forLoop(
                    c,
                    ir,
                    () => c.i32Const(0),
                    () => c.localGet(mc),
                    () => c.i32Const(t.mr),
                    () => {
                      minI32(
                        c,
                        () => c.i32Const(t.mr),
                        () => c.localGet(mc).localGet(ir).i32Sub(),
                        tmpA,
                        tmpB,
                      );
                      c.localSet(mrEff);
                      // cRow = C + ((ic+ir)*n + jc + jr) * 4
                      c.localGet(ic).localGet(ir).i32Add().localGet(n).i32Mul();
                      c.localGet(jc)
                        .i32Add()
                        .localGet(jr)
                        .i32Add()
                        .i32Const(2)
                        .i32Shl()
                        .localGet(cp)
                        .i32Add()
                        .localSet(cRow);
                      // Panels: bufA + ir*kc*4, bufB + jr*kc*4
                      c.localGet(bufA)
                        .localGet(ir)
                        .localGet(kc)
                        .i32Mul()
                        .i32Const(2)
                        .i32Shl()
                        .i32Add()
                        .localSet(panA);
                      c.localGet(bufB)
                        .localGet(jr)
                        .localGet(kc)
                        .i32Mul()
                        .i32Const(2)
                        .i32Shl()
                        .i32Add()
                        .localSet(panB);
                      c.localGet(nrEff)
                        .i32Const(t.nr)
                        .i32Eq()
                        .localGet(mrEff)
                        .i32Const(t.mr)
                        .i32Eq()
                        .i32And()
                        .if();
                      {
                        c.localGet(panA).localGet(panB).localGet(kc);
                        c.localGet(cRow).localGet(ldc).localGet(acc).call(kernelIdx);
                      }
                      c.else();
                      {
                        // Blocks take no stack operands here, so the call sits in each arm.
                        const tileCall = (f: number) => {
                          c.localGet(panA).localGet(panB).localGet(kc);
                          c.localGet(tile)
                            .i32Const(t.nr * 4)
                            .i32Const(0)
                            .call(f);
                        };
                        c.localGet(nrEff).i32Const(4).i32LeS().if();
                        tileCall(narrowIdx);
                        c.else();
                        tileCall(kernelIdx);
                        c.end();
                        // C[i][j] (+)= tile[i][j] for the valid part.
                        forLoop(
                          c,
                          i,
                          () => c.i32Const(0),
                          () => c.localGet(mrEff),
                          () => c.i32Const(1),
                          () => {
                            c.localGet(i)
                              .localGet(ldc)
                              .i32Mul()
                              .localGet(cRow)
                              .i32Add()
                              .localSet(dstp);
                            c.localGet(i)
                              .i32Const(t.nr * 4)
                              .i32Mul()
                              .localGet(tile)
                              .i32Add()
                              .localSet(src);
                            forLoop(
                              c,
                              j,
                              () => c.i32Const(0),
                              () => c.localGet(nrEff),
                              () => c.i32Const(1),
                              () => {
                                c.localGet(dstp);
                                // tile + (acc ? C : 0); C is always readable, so select is safe.
                                c.localGet(src).f32Load();
                                c.localGet(dstp).f32Load().f32Const(0).localGet(acc).select();
                                c.f32Add().f32Store();
                                c.localGet(dstp).i32Const(4).i32Add().localSet(dstp);
                                c.localGet(src).i32Const(4).i32Add().localSet(src);
                              },
                            );
                          },
                        );
                      }
                      c.end();
                    },
                  );
                },
              );
            },
          );
        },
      );
    },
  );
  return c;
}

// ---- Elementwise kernels -------------------------------------------------------------

const { f32 } = ValType;

const BINARY_OPS: readonly BinaryOp[] = ['add', 'sub', 'mul', 'div'];

function vecOp(c: Code, op: BinaryOp): void {
  if (op === 'add') c.f32x4Add();
  else if (op === 'sub') c.f32x4Sub();
  else if (op === 'mul') c.f32x4Mul();
  else c.f32x4Div();
}

function scalarOp(c: Code, op: BinaryOp): void {
  if (op === 'add') c.f32Add();
  else if (op === 'sub') c.f32Sub();
  else if (op === 'mul') c.f32Mul();
  else c.f32Div();
}

/**
 * An operand of an elementwise loop: a pointer local that advances with the loop, or a
 * value held in a v128 local (splatted) and an f32 local.
 */
type Operand = { ptr: number } | { vec: number; scalar: number };

/** Pushes an operand's next four elements (`wide`, a v128) or next one (an f32). */
function pushOperand(c: Code, o: Operand, wide: boolean): void {
  if ('ptr' in o) {
    c.localGet(o.ptr);
    if (wide) c.v128Load(0, 0);
    else c.f32Load();
  } else c.localGet(wide ? o.vec : o.scalar);
}

/** Advances `out` by `outBytes` and every pointer operand by `inBytes`. */
function advancePointers(
  c: Code,
  out: number,
  outBytes: number,
  operands: readonly Operand[],
  inBytes: number,
): void {
  c.localGet(out).i32Const(outBytes).i32Add().localSet(out);
  for (const o of operands)
    if ('ptr' in o) c.localGet(o.ptr).i32Const(inBytes).i32Add().localSet(o.ptr);
}

/**
 * Emits `for (; count > 0; count--) *out++ = f(operands...)` over f32 elements, four at a
 * time with SIMD and then one at a time. `count` is clobbered; pointer operands and `out`
 * advance past the processed elements.
 */
function emitMapLoop(
  c: Code,
  count: number,
  out: number,
  operands: readonly Operand[],
  vec: () => void,
  scalar: () => void,
): void {
  const advance = (bytes: number) => advancePointers(c, out, bytes, operands, bytes);
  const push = (o: Operand, wide: boolean) => pushOperand(c, o, wide);
  // Vector part.
  c.block().loop();
  c.localGet(count).i32Const(4).i32LtS().brIf(1);
  c.localGet(out);
  for (const o of operands) push(o, true);
  vec();
  c.v128Store(0, 0);
  advance(16);
  c.localGet(count).i32Const(4).i32Sub().localSet(count);
  c.br(0).end().end();
  // Scalar tail.
  c.block().loop();
  c.localGet(count).i32Const(1).i32LtS().brIf(1);
  c.localGet(out);
  for (const o of operands) push(o, false);
  scalar();
  c.f32Store();
  advance(4);
  c.localGet(count).i32Const(1).i32Sub().localSet(count);
  c.br(0).end().end();
}

/**
 * Emits `for (; count > 0; count--) *out++ = cmp(*a++, b) ? 1 : 0` with f32 operands and byte
 * outputs: four at a time (a lane mask shifted to 0/1, its low bytes gathered and stored as one
 * word), then one at a time. `count` is clobbered; pointers advance.
 */
function emitCompareLoop(
  c: Code,
  count: number,
  out: number,
  operands: readonly Operand[],
  op: CompareOp,
): void {
  const mask = c.local(v128);
  const advance = (outBytes: number, inBytes: number) =>
    advancePointers(c, out, outBytes, operands, inBytes);
  const push = (o: Operand, wide: boolean) => pushOperand(c, o, wide);
  c.block().loop();
  c.localGet(count).i32Const(4).i32LtS().brIf(1);
  for (const o of operands) push(o, true);
  if (op === 'gt') c.f32x4Gt();
  else if (op === 'lt') c.f32x4Lt();
  else c.f32x4Eq();
  c.i32Const(31).i32x4ShrU().localSet(mask);
  c.localGet(out).localGet(mask).localGet(mask).i8x16Shuffle([0, 4, 8, 12]);
  c.v128Store32Lane(0);
  advance(4, 16);
  c.localGet(count).i32Const(4).i32Sub().localSet(count);
  c.br(0).end().end();
  c.block().loop();
  c.localGet(count).i32Const(1).i32LtS().brIf(1);
  c.localGet(out);
  for (const o of operands) push(o, false);
  if (op === 'gt') c.f32Gt();
  else if (op === 'lt') c.f32Lt();
  else c.f32Eq();
  c.i32Store8();
  advance(1, 4);
  c.localGet(count).i32Const(1).i32Sub().localSet(count);
  c.br(0).end().end();
}

/**
 * Exports, per op in add/sub/mul/div: `op(a, b, out, n)`, `op_scalar(a, s, out, n)`,
 * `op_scalar_first(a, s, out, n)` (s op a), `op_row(a, row, out, rows, cols)`; and
 * `relu(a, out, n)`, `sum_rows(a, out, rows, cols)`; per comparison in gt/lt/eq:
 * `op(a, b, out, n)` and `op_scalar(a, s, out, n)` with byte outputs.
 */
function emitElementwise(mb: ModuleBuilder): void {
  for (const op of COMPARE_OPS) {
    {
      const c = mb.addFunction([i32, i32, i32, i32]);
      const [a, b, out, n] = [0, 1, 2, 3];
      emitCompareLoop(c, n, out, [{ ptr: a }, { ptr: b }], op);
      mb.exportFunction(op, c);
    }
    {
      const c = mb.addFunction([i32, f32, i32, i32]);
      const [a, s, out, n] = [0, 1, 2, 3];
      const sv = c.local(v128);
      c.localGet(s).f32x4Splat().localSet(sv);
      emitCompareLoop(c, n, out, [{ ptr: a }, { vec: sv, scalar: s }], op);
      mb.exportFunction(`${op}_scalar`, c);
    }
  }
  for (const op of BINARY_OPS) {
    {
      const c = mb.addFunction([i32, i32, i32, i32]);
      const [a, b, out, n] = [0, 1, 2, 3];
      emitMapLoop(
        c,
        n,
        out,
        [{ ptr: a }, { ptr: b }],
        () => vecOp(c, op),
        () => scalarOp(c, op),
      );
      mb.exportFunction(op, c);
    }
    for (const first of [false, true]) {
      const c = mb.addFunction([i32, f32, i32, i32]);
      const [a, s, out, n] = [0, 1, 2, 3];
      const sv = c.local(v128);
      c.localGet(s).f32x4Splat().localSet(sv);
      const x: Operand = { ptr: a };
      const y: Operand = { vec: sv, scalar: s };
      emitMapLoop(
        c,
        n,
        out,
        first ? [y, x] : [x, y],
        () => vecOp(c, op),
        () => scalarOp(c, op),
      );
      mb.exportFunction(`${op}_scalar${first ? '_first' : ''}`, c);
    }
    {
      const c = mb.addFunction([i32, i32, i32, i32, i32]);
      const [a, row, out, rows, cols] = [0, 1, 2, 3, 4];
      const [r, count, rp] = c.locals(i32, 3);
      forLoop(
        c,
        r,
        () => c.i32Const(0),
        () => c.localGet(rows),
        () => c.i32Const(1),
        () => {
          c.localGet(cols).localSet(count);
          c.localGet(row).localSet(rp);
          emitMapLoop(
            c,
            count,
            out,
            [{ ptr: a }, { ptr: rp }],
            () => vecOp(c, op),
            () => scalarOp(c, op),
          );
        },
      );
      mb.exportFunction(`${op}_row`, c);
    }
  }
  {
    const c = mb.addFunction([i32, i32, i32]);
    const [a, out, n] = [0, 1, 2];
    const zv = c.local(v128);
    const zs = c.local(f32);
    c.f32x4Const(0).localSet(zv);
    const zero: Operand = { vec: zv, scalar: zs };
    emitMapLoop(
      c,
      n,
      out,
      [{ ptr: a }, zero],
      () => c.f32x4Max(),
      () => c.f32Max(),
    );
    mb.exportFunction('relu', c);
  }
  {
    // Per row: four (then eight, unrolled) partial sums in vectors, reduced pairwise.
    const c = mb.addFunction([i32, i32, i32, i32]);
    const [a, out, rows, cols] = [0, 1, 2, 3];
    const [r, j] = c.locals(i32, 2);
    const [s0, s1] = c.locals(v128, 2);
    const t = c.local(f32);
    forLoop(
      c,
      r,
      () => c.i32Const(0),
      () => c.localGet(rows),
      () => c.i32Const(1),
      () => {
        c.f32x4Const(0).localSet(s0).f32x4Const(0).localSet(s1);
        c.localGet(cols).localSet(j);
        c.block().loop();
        c.localGet(j).i32Const(8).i32LtS().brIf(1);
        c.localGet(s0).localGet(a).v128Load(0, 0).f32x4Add().localSet(s0);
        c.localGet(s1).localGet(a).v128Load(16, 0).f32x4Add().localSet(s1);
        c.localGet(a).i32Const(32).i32Add().localSet(a);
        c.localGet(j).i32Const(8).i32Sub().localSet(j);
        c.br(0).end().end();
        c.localGet(j).i32Const(4).i32GeS().if();
        c.localGet(s0).localGet(a).v128Load(0, 0).f32x4Add().localSet(s0);
        c.localGet(a).i32Const(16).i32Add().localSet(a);
        c.localGet(j).i32Const(4).i32Sub().localSet(j);
        c.end();
        c.localGet(s0).localGet(s1).f32x4Add().localSet(s0);
        c.localGet(s0).f32x4ExtractLane(0).localGet(s0).f32x4ExtractLane(1).f32Add();
        c.localGet(s0).f32x4ExtractLane(2).localGet(s0).f32x4ExtractLane(3).f32Add();
        c.f32Add().localSet(t);
        c.block().loop();
        c.localGet(j).i32Eqz().brIf(1);
        c.localGet(t).localGet(a).f32Load().f32Add().localSet(t);
        c.localGet(a).i32Const(4).i32Add().localSet(a);
        c.localGet(j).i32Const(1).i32Sub().localSet(j);
        c.br(0).end().end();
        c.localGet(out).localGet(t).f32Store();
        c.localGet(out).i32Const(4).i32Add().localSet(out);
      },
    );
    mb.exportFunction('sum_rows', c);
  }
}

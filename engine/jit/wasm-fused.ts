/**
 * Generated WebAssembly SIMD kernels for fused programs: one module per (program, input
 * dtypes, input layouts), built with the engine's emitter and run on the CPU heap's memory.
 * The kernel walks the output four f32 lanes at a time and then one element at a time (the
 * same vector code on lane 0, so each op is written once); every intermediate lives in a
 * v128 local, so a chain of N ops reads its inputs and writes its output once instead of N
 * times. bool values are lane masks (all ones or zero) in registers and 0/1 bytes in memory.
 *
 * Layouts: an input is `full` (as many elements as the output), `scalar` (one element,
 * splatted once) or `row` (the output's trailing dimensions, re-read every `cols` elements:
 * the bias-add broadcast). Anything else is left to the interpreter.
 *
 * Accuracy. +, −, ×, ÷, sqrt, min/max, relu, neg, abs, sign, comparisons, where and casts
 * between f32 and bool are exactly rounded in f32, which gives bit-identical results to the
 * reference kernels (float64 then one rounding: for these operations double rounding through
 * float64 is innocuous). leakyRelu multiplies in float64 lane by lane, as the reference does.
 * exp, log, tanh and sigmoid use Cephes' single-precision polynomials (as in sse_mathfun):
 * within a few ulp (relative error below 1e-6) over the whole float range, with IEEE special
 * values (±0, ±Inf, NaN, subnormal inputs of log) handled explicitly; subnormal results of
 * exp are correct to within one subnormal ulp. erf, gelu and pow are not generated: programs
 * with them run in the interpreter.
 */

import type { DType } from '../core/dtype.js';
import type { Heap } from '../backend/cpu/heap.js';
import { type Code, ModuleBuilder, ValType, supportsSimd } from '../backend/wasm/emitter.js';
import { type FusedProgram, type Instruction, programMeta } from './program.js';

export type WasmInputLayout = 'full' | 'scalar' | 'row';

/** run(out, rows, cols, ...inputPointers): byte addresses in the heap. */
export type FusedWasmKernel = (
  out: number,
  rows: number,
  cols: number,
  ...inputs: number[]
) => void;

const { i32, v128 } = ValType;

/** Ops with a generated SIMD form. */
const WASM_OPS = new Set<string>([
  'neg',
  'exp',
  'log',
  'sqrt',
  'abs',
  'sign',
  'tanh',
  'sigmoid',
  'relu',
  'leakyRelu',
  'identity',
  'cast',
  'add',
  'sub',
  'mul',
  'div',
  'maximum',
  'minimum',
  'equal',
  'greater',
  'less',
  'where',
]);

/** Whether the generated kernel covers `program` on inputs of these dtypes. */
export function wasmCovers(program: FusedProgram, inputDTypes: readonly DType[]): boolean {
  const fits = (d: DType) => d === 'f32' || d === 'bool';
  if (!inputDTypes.every(fits)) return false;
  if (!program.instructions.every((ins) => WASM_OPS.has(ins.op))) return false;
  const metas = programMeta(
    program,
    inputDTypes.map((dtype) => ({ shape: [], dtype })),
  );
  return metas.every((m) => fits(m.dtype));
}

// ---- constants and loops ---------------------------------------------------------------------

function i32x4Const(c: Code, v: number): Code {
  return c.v128Const(new Uint8Array(new Int32Array([v, v, v, v]).buffer));
}

/** `while (count >= step) { body; count -= step }`. */
function countedLoop(c: Code, count: number, step: number, body: () => void): void {
  c.block().loop();
  c.localGet(count).i32Const(step).i32LtS().brIf(1);
  body();
  c.localGet(count).i32Const(step).i32Sub().localSet(count);
  c.br(0).end().end();
}

// Cephes single-precision coefficients (cephes expf.c, logf.c, tanhf.c, as in sse_mathfun).
const LOG2E = Math.LOG2E;
const EXP_C1 = 0.693359375;
const EXP_C2 = -2.1219444e-4;
const EXP_P = [
  1.98756915e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1,
  5.0000001201e-1,
];
const SQRTHF = Math.SQRT1_2;
const LOG_P = [
  7.0376836292e-2, -1.151461031e-1, 1.167699874e-1, -1.2420140846e-1, 1.4249322787e-1,
  -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1, 3.3333331174e-1,
];
const LOG_Q1 = -2.1219444e-4;
const LOG_Q2 = 0.693359375;
const TANH_P = [
  -5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1, -3.33332819422e-1,
];
const MIN_NORMAL = 1.17549435e-38;

// ---- code generation -------------------------------------------------------------------------

class FusedCodegen {
  constructor(private readonly c: Code) {}

  private vec(): number {
    return this.c.local(v128);
  }

  /** res = e^x (x is left unchanged). */
  exp(x: number, res: number): void {
    const c = this.c;
    const [t, n, z] = [this.vec(), this.vec(), this.vec()];
    // Outside [-104, 89] the result is 0 or Inf anyway; the clamp keeps 2^n in range.
    c.localGet(x).f32x4Const(-104).f32x4Max().f32x4Const(89).f32x4Min().localSet(t);
    c.localGet(t).f32x4Const(LOG2E).f32x4Mul().f32x4Const(0.5).f32x4Add().f32x4Floor().localSet(n);
    // r = x - n·ln2, with ln2 split in two so that n·C1 is exact (Cody–Waite).
    c.localGet(t).localGet(n).f32x4Const(EXP_C1).f32x4Mul().f32x4Sub();
    c.localGet(n).f32x4Const(EXP_C2).f32x4Mul().f32x4Sub().localSet(t);
    c.localGet(t).localGet(t).f32x4Mul().localSet(z);
    c.f32x4Const(EXP_P[0]!);
    for (const p of EXP_P.slice(1)) c.localGet(t).f32x4Mul().f32x4Const(p).f32x4Add();
    c.localGet(z).f32x4Mul().localGet(t).f32x4Add().f32x4Const(1).f32x4Add().localSet(res);
    // Scale by 2^n as 2^(n>>1) · 2^(n - n>>1): each factor is a normal float for n in
    // [-150, 129], so overflow gives Inf and underflow rounds once into the subnormals.
    c.localGet(n).i32x4TruncSatF32x4S().localSet(n);
    c.localGet(n).i32Const(1).i32x4ShrS().localSet(z);
    c.localGet(res).localGet(z);
    i32x4Const(c, 127).i32x4Add().i32Const(23).i32x4Shl().f32x4Mul().localSet(res);
    c.localGet(res).localGet(n).localGet(z).i32x4Sub();
    i32x4Const(c, 127).i32x4Add().i32Const(23).i32x4Shl().f32x4Mul().localSet(res);
  }

  /** res = ln x. */
  log(x: number, res: number): void {
    const c = this.c;
    const [mask, m, e, z] = [this.vec(), this.vec(), this.vec(), this.vec()];
    // Subnormal inputs: scale by 2^23 first and take 23 off the exponent.
    c.localGet(x).f32x4Const(MIN_NORMAL).f32x4Lt().localSet(mask);
    c.localGet(x).f32x4Const(8388608).f32x4Mul().localGet(x).localGet(mask).v128Bitselect();
    c.localSet(m);
    c.f32x4Const(-23).f32x4Const(0).localGet(mask).v128Bitselect().localSet(e);
    // x = m·2^e with m in [0.5, 1).
    c.localGet(m).i32Const(23).i32x4ShrU();
    i32x4Const(c, 126).i32x4Sub().f32x4ConvertI32x4S().localGet(e).f32x4Add().localSet(e);
    c.localGet(m);
    i32x4Const(c, ~0x7f800000).v128And();
    i32x4Const(c, 0x3f000000).v128Or().localSet(m);
    // m < √½: use 2m - 1 and e - 1, so that the argument of log1p stays in [√½ - 1, √2 - 1].
    c.localGet(m).f32x4Const(SQRTHF).f32x4Lt().localSet(mask);
    c.localGet(m).localGet(mask).v128And().localSet(z);
    c.localGet(m).f32x4Const(1).f32x4Sub().localGet(z).f32x4Add().localSet(m);
    c.localGet(e).f32x4Const(1).localGet(mask).v128And().f32x4Sub().localSet(e);
    c.localGet(m).localGet(m).f32x4Mul().localSet(z);
    c.f32x4Const(LOG_P[0]!);
    for (const p of LOG_P.slice(1)) c.localGet(m).f32x4Mul().f32x4Const(p).f32x4Add();
    c.localGet(m).f32x4Mul().localGet(z).f32x4Mul();
    c.localGet(e).f32x4Const(LOG_Q1).f32x4Mul().f32x4Add();
    c.localGet(z).f32x4Const(0.5).f32x4Mul().f32x4Sub();
    c.localGet(m).f32x4Add();
    c.localGet(e).f32x4Const(LOG_Q2).f32x4Mul().f32x4Add().localSet(res);
    // ln ±0 = -Inf; ln of a negative number or NaN = NaN; ln Inf = Inf.
    c.f32x4Const(-Infinity).localGet(res).localGet(x).f32x4Const(0).f32x4Eq().v128Bitselect();
    c.localSet(res);
    c.f32x4Const(NaN).localGet(res).localGet(x).f32x4Const(0).f32x4Ge().v128Not();
    c.v128Bitselect().localSet(res);
    c.f32x4Const(Infinity).localGet(res).localGet(x).f32x4Const(Infinity).f32x4Eq();
    c.v128Bitselect().localSet(res);
  }

  /** res = tanh x. */
  tanh(x: number, res: number): void {
    const c = this.c;
    const [a, e, l, z] = [this.vec(), this.vec(), this.vec(), this.vec()];
    c.localGet(x).f32x4Abs().localSet(a);
    // |x| ≥ 0.625: 1 - 2/(e^2|x| + 1) with the sign of x (an overflowing exp gives ±1).
    c.localGet(a).localGet(a).f32x4Add().localSet(z);
    this.exp(z, e);
    c.f32x4Const(1).f32x4Const(2).localGet(e).f32x4Const(1).f32x4Add().f32x4Div().f32x4Sub();
    c.localSet(l);
    c.localGet(x).localGet(l);
    i32x4Const(c, -0x80000000).v128Bitselect().localSet(l);
    // |x| < 0.625: x + x³·P(x²), which keeps the relative accuracy near 0.
    c.localGet(x).localGet(x).f32x4Mul().localSet(z);
    c.f32x4Const(TANH_P[0]!);
    for (const p of TANH_P.slice(1)) c.localGet(z).f32x4Mul().f32x4Const(p).f32x4Add();
    c.localGet(z).f32x4Mul().localGet(x).f32x4Mul().localGet(x).f32x4Add();
    c.localGet(l).localGet(a).f32x4Const(0.625).f32x4Lt().v128Bitselect().localSet(res);
  }

  /** res = 1 / (1 + e^-x), as the reference computes it: e/(1+e) with e = e^-|x| for x < 0. */
  sigmoid(x: number, res: number): void {
    const c = this.c;
    const [t, e, d] = [this.vec(), this.vec(), this.vec()];
    c.localGet(x).f32x4Abs().f32x4Neg().localSet(t);
    this.exp(t, e);
    c.f32x4Const(1).localGet(e).f32x4Add().localSet(d);
    c.f32x4Const(1).localGet(d).f32x4Div().localGet(e).localGet(d).f32x4Div();
    c.localGet(x).f32x4Const(0).f32x4Ge().v128Bitselect().localSet(res);
  }

  /** res = x > 0 ? x : x·alpha, the product in float64 lane by lane (as the reference). */
  leakyRelu(x: number, alpha: number, res: number): void {
    const c = this.c;
    const t = this.vec();
    c.localGet(x).localSet(t);
    for (let lane = 0; lane < 4; lane++) {
      c.localGet(t).localGet(x).f32x4ExtractLane(lane).f64PromoteF32().f64Const(alpha);
      c.f64Mul().f32DemoteF64().f32x4ReplaceLane(lane).localSet(t);
    }
    c.localGet(x).localGet(t).localGet(x).f32x4Const(0).f32x4Gt().v128Bitselect().localSet(res);
  }

  /** The maximum (greater) or minimum (less) of a and b, NaN when either is NaN. */
  extremum(a: number, b: number, greater: boolean, res: number): void {
    const c = this.c;
    c.localGet(a).localGet(b).localGet(a).localGet(b);
    if (greater) c.f32x4Gt();
    else c.f32x4Lt();
    c.v128Bitselect().localSet(res);
    c.f32x4Const(NaN).localGet(res).localGet(a).localGet(a).f32x4Ne();
    c.localGet(b).localGet(b).f32x4Ne().v128Or().v128Bitselect().localSet(res);
  }

  /** Emits instruction `ins` with operand values in `args` (v128 locals) into `res`. */
  instruction(
    ins: Instruction,
    args: readonly number[],
    types: readonly DType[],
    res: number,
  ): void {
    const c = this.c;
    const [a, b, w] = [args[0]!, args[1]!, args[2]!];
    const get = (...locals: number[]) => {
      for (const l of locals) c.localGet(l);
      return c;
    };
    switch (ins.op) {
      case 'neg':
        get(a).f32x4Neg().localSet(res);
        return;
      case 'abs':
        get(a).f32x4Abs().localSet(res);
        return;
      case 'sqrt':
        get(a).f32x4Sqrt().localSet(res);
        return;
      case 'relu':
        // f32x4.max(-0, 0) is +0 and NaN stays NaN, as the reference's relu.
        get(a).f32x4Const(0).f32x4Max().localSet(res);
        return;
      case 'sign':
        c.f32x4Const(1).f32x4Const(-1);
        get(a, a).f32x4Const(0).f32x4Lt().v128Bitselect();
        get(a).f32x4Const(0).f32x4Gt().v128Bitselect().localSet(res);
        return;
      case 'exp':
        this.exp(a, res);
        return;
      case 'log':
        this.log(a, res);
        return;
      case 'tanh':
        this.tanh(a, res);
        return;
      case 'sigmoid':
        this.sigmoid(a, res);
        return;
      case 'leakyRelu':
        this.leakyRelu(a, ins.alpha ?? 0.01, res);
        return;
      case 'identity':
        get(a).localSet(res);
        return;
      case 'cast': {
        const from = types[0]!;
        if (from === ins.dtype) get(a).localSet(res);
        else if (ins.dtype === 'bool') get(a).f32x4Const(0).f32x4Ne().localSet(res);
        else get(a).f32x4Const(1).v128And().localSet(res); // bool mask to 1.0 or 0.0
        return;
      }
      case 'add':
        get(a, b).f32x4Add().localSet(res);
        return;
      case 'sub':
        get(a, b).f32x4Sub().localSet(res);
        return;
      case 'mul':
        get(a, b).f32x4Mul().localSet(res);
        return;
      case 'div':
        get(a, b).f32x4Div().localSet(res);
        return;
      case 'maximum':
        this.extremum(a, b, true, res);
        return;
      case 'minimum':
        this.extremum(a, b, false, res);
        return;
      case 'equal':
        if (types[0] === 'bool') get(a, b).i32x4Eq().localSet(res);
        else get(a, b).f32x4Eq().localSet(res);
        return;
      case 'greater':
        // On bools (0 < 1): a > b exactly when a is true and b false.
        if (types[0] === 'bool') get(a, b).v128AndNot().localSet(res);
        else get(a, b).f32x4Gt().localSet(res);
        return;
      case 'less':
        if (types[0] === 'bool') get(b, a).v128AndNot().localSet(res);
        else get(a, b).f32x4Lt().localSet(res);
        return;
      case 'where':
        get(b, w, a).v128Bitselect().localSet(res);
        return;
      case 'erf':
      case 'gelu':
      case 'pow':
        throw new Error(`wasm-fused: no SIMD form for ${ins.op}`);
      default:
        return ins.op satisfies never;
    }
  }
}

// ---- loads and stores ----------------------------------------------------------------------

/** Byte lanes 0-3 spread to the low byte of each i32 lane (16 picks a zero byte). */
const SPREAD_BYTES = [0, 16, 16, 16, 1, 16, 16, 16, 2, 16, 16, 16, 3, 16, 16, 16];
/** The low byte of each i32 lane gathered into bytes 0-3. */
const PACK_BYTES = [0, 4, 8, 12, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16];

/** Pushes the value at address local `ptr`: four lanes (wide) or lane 0 only. */
function emitLoad(c: Code, ptr: number, dtype: DType, wide: boolean): void {
  c.localGet(ptr);
  if (dtype === 'f32') {
    if (wide) c.v128Load(0, 0);
    else c.v128Load32Zero(0);
    return;
  }
  if (wide) c.v128Load32Zero(0).f32x4Const(0).i8x16Shuffle(SPREAD_BYTES);
  else c.i32Load8U(0).i32x4Splat();
  c.f32x4Const(0).i32x4Eq().v128Not();
}

/** Stores local `value` at address local `ptr`. */
function emitStore(c: Code, ptr: number, value: number, dtype: DType, wide: boolean): void {
  c.localGet(ptr).localGet(value);
  if (dtype === 'f32') {
    if (wide) c.v128Store(0, 0);
    else c.v128Store32Lane(0, 0);
    return;
  }
  if (wide) {
    i32x4Const(c, 1).v128And().f32x4Const(0).i8x16Shuffle(PACK_BYTES).v128Store32Lane(0, 0);
  } else c.i32x4ExtractLane(0).i32Const(1).i32And().i32Store8(0);
}

/**
 * The module's bytes: one exported function `run(out, rows, cols, p0, p1, …)` that computes
 * rows·cols output elements (full inputs and the output advance throughout; row inputs
 * restart every row).
 */
export function fusedModuleBytes(
  program: FusedProgram,
  inputDTypes: readonly DType[],
  layouts: readonly WasmInputLayout[],
  sharedMemory: boolean,
): Uint8Array<ArrayBuffer> {
  const metas = programMeta(
    program,
    inputDTypes.map((dtype) => ({ shape: [], dtype })),
  );
  const outDType = metas[metas.length - 1]!.dtype;
  const mb = new ModuleBuilder();
  mb.importMemory({
    module: 'env',
    name: 'memory',
    initial: 1,
    maximum: 65536,
    shared: sharedMemory,
  });
  const c = mb.addFunction([i32, i32, i32, ...inputDTypes.map(() => i32)]);
  const out = 0;
  const rows = 1;
  const cols = 2;
  const param = (i: number) => 3 + i;
  const [r, count] = c.locals(i32, 2);
  const cursor = layouts.map((l, i) => (l === 'row' ? c.local(i32) : param(i)));
  const values = inputDTypes.map(() => c.local(v128));
  const temps = program.instructions.map(() => c.local(v128));
  const gen = new FusedCodegen(c);

  // Constants and scalar inputs are splatted once, before the loops.
  const operands = program.instructions.map((ins) =>
    ins.args.map((a) => {
      if (a.kind === 'input') return values[a.index]!;
      if (a.kind === 'temp') return temps[a.index]!;
      const local = c.local(v128);
      c.f32x4Const(a.value).localSet(local);
      return local;
    }),
  );
  const types = program.instructions.map((ins) =>
    ins.args.map((a): DType => {
      if (a.kind === 'input') return inputDTypes[a.index]!;
      return a.kind === 'temp' ? metas[a.index]!.dtype : 'f32';
    }),
  );
  layouts.forEach((l, i) => {
    if (l !== 'scalar') return;
    c.localGet(param(i));
    if (inputDTypes[i] === 'f32') c.v128Load32Splat(0);
    else c.i32Load8U(0).i32x4Splat().f32x4Const(0).i32x4Eq().v128Not();
    c.localSet(values[i]!);
  });

  const body = (wide: boolean) => {
    layouts.forEach((l, i) => {
      if (l === 'scalar') return;
      emitLoad(c, cursor[i]!, inputDTypes[i]!, wide);
      c.localSet(values[i]!);
    });
    program.instructions.forEach((ins, j) =>
      gen.instruction(ins, operands[j]!, types[j]!, temps[j]!),
    );
    emitStore(c, out, temps[temps.length - 1]!, outDType, wide);
    const lanes = wide ? 4 : 1;
    layouts.forEach((l, i) => {
      if (l === 'scalar') return;
      const step = lanes * (inputDTypes[i] === 'f32' ? 4 : 1);
      c.localGet(cursor[i]!).i32Const(step).i32Add().localSet(cursor[i]!);
    });
    c.localGet(out)
      .i32Const(lanes * (outDType === 'f32' ? 4 : 1))
      .i32Add()
      .localSet(out);
  };
  // Rows.
  c.i32Const(0).localSet(r);
  c.block().loop();
  c.localGet(r).localGet(rows).i32GeS().brIf(1);
  layouts.forEach((l, i) => {
    if (l === 'row') c.localGet(param(i)).localSet(cursor[i]!);
  });
  c.localGet(cols).localSet(count);
  countedLoop(c, count, 4, () => body(true));
  countedLoop(c, count, 1, () => body(false));
  c.localGet(r).i32Const(1).i32Add().localSet(r);
  c.br(0).end().end();
  mb.exportFunction('run', c);
  return mb.toBytes();
}

// ---- instances -------------------------------------------------------------------------------

let simd: boolean | null = null;

/** Whether the host validates WebAssembly SIMD (checked once). */
export function fusedWasmAvailable(): boolean {
  simd ??= supportsSimd();
  return simd;
}

const kernels = new WeakMap<Heap, Map<string, FusedWasmKernel>>();
/** Generated modules kept per heap; a program keeps a few (one per input layout). */
const KERNEL_CAPACITY = 256;

/** The compiled kernel for `program` with these inputs, built on first use and cached. */
export function fusedWasmKernel(
  heap: Heap,
  program: FusedProgram,
  inputDTypes: readonly DType[],
  layouts: readonly WasmInputLayout[],
): FusedWasmKernel {
  let cache = kernels.get(heap);
  if (!cache) kernels.set(heap, (cache = new Map()));
  const key = `${program.text}|${inputDTypes.join(',')}|${layouts.join(',')}`;
  let kernel = cache.get(key);
  if (!kernel) {
    const bytes = fusedModuleBytes(program, inputDTypes, layouts, heap.shared);
    const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
      env: { memory: heap.memory },
    });
    kernel = instance.exports.run as FusedWasmKernel;
    if (cache.size >= KERNEL_CAPACITY) cache.delete(cache.keys().next().value!);
    cache.set(key, kernel);
  }
  return kernel;
}

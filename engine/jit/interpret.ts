/**
 * The portable `fusedElementwise` kernel: a small interpreter that evaluates a fused program
 * over typed arrays in blocks of BLOCK elements. Each instruction runs as one tight loop over
 * the block, writing into a per-instruction buffer of its dtype, so every intermediate is
 * rounded exactly as the unfused op's output would be (the reference kernels compute in
 * float64 and round when they store); the results are therefore bit-identical to running the
 * ops one by one with the reference kernels. The buffers stay in cache and nothing is
 * allocated per call, which is what makes this faster than N separate kernels even without
 * generated code (the app's CSP forbids `new Function`, and hosts without WebAssembly SIMD
 * need a fallback). Any broadcasting is supported: equal-size and one-element inputs are read
 * in place or splatted, anything else is gathered per block with an odometer.
 */

import { type DType, type TypedArray, allocArray } from '../core/dtype.js';
import { type Shape, broadcastStrides } from '../core/shape.js';
import { erf } from '../backend/cpu/kernels/elementwise.js';
import { type FusedProgram, type Instruction, programMeta } from './program.js';

/** What the interpreter sees of an operand or of the output (a CpuTensor fits). */
export interface ArrayOperand {
  readonly data: TypedArray;
  readonly shape: Shape;
  readonly dtype: DType;
  readonly size: number;
}

const BLOCK = 1024;
const SQRT1_2 = Math.SQRT1_2;

type InputMode =
  | { readonly kind: 'full' }
  | { readonly kind: 'scalar'; readonly buffer: TypedArray }
  | { readonly kind: 'gather'; readonly buffer: TypedArray; readonly strides: readonly number[] };

/** A program prepared for one set of input shapes and dtypes. */
class Evaluator {
  private readonly modes: InputMode[];
  private readonly temps: TypedArray[];
  /** Per instruction, per operand: the splatted constant, or null for other operands. */
  private readonly consts: (Float32Array | null)[][];

  constructor(
    private readonly program: FusedProgram,
    inputs: readonly ArrayOperand[],
    private readonly outShape: Shape,
    outSize: number,
  ) {
    const metas = programMeta(program, inputs);
    this.modes = inputs.map((t): InputMode => {
      if (t.size === outSize) return { kind: 'full' };
      if (t.size === 1) return { kind: 'scalar', buffer: allocArray(t.dtype, BLOCK) };
      return {
        kind: 'gather',
        buffer: allocArray(t.dtype, BLOCK),
        strides: broadcastStrides(t.shape, outShape),
      };
    });
    this.temps = metas.map((m) => allocArray(m.dtype, BLOCK));
    // Constants are f32 tensors in the unfused graph (fills), so they are rounded to f32.
    this.consts = program.instructions.map((ins) =>
      ins.args.map((a) => (a.kind === 'const' ? new Float32Array(BLOCK).fill(a.value) : null)),
    );
  }

  run(inputs: readonly ArrayOperand[], out: TypedArray, size: number): void {
    this.modes.forEach((mode, k) => {
      if (mode.kind === 'scalar') mode.buffer.fill(inputs[k]!.data[0]!);
    });
    const instructions = this.program.instructions;
    const last = instructions.length - 1;
    const arrays: TypedArray[] = [out, out, out];
    const offsets = [0, 0, 0];
    for (let start = 0; start < size; start += BLOCK) {
      const n = Math.min(BLOCK, size - start);
      this.modes.forEach((mode, k) => {
        if (mode.kind === 'gather')
          gather(inputs[k]!.data, mode.buffer, mode.strides, this.outShape, start, n);
      });
      for (let j = 0; j <= last; j++) {
        const ins = instructions[j]!;
        ins.args.forEach((a, i) => {
          if (a.kind === 'temp') {
            arrays[i] = this.temps[a.index]!;
            offsets[i] = 0;
          } else if (a.kind === 'const') {
            arrays[i] = this.consts[j]![i]!;
            offsets[i] = 0;
          } else {
            const mode = this.modes[a.index]!;
            arrays[i] = mode.kind === 'full' ? inputs[a.index]!.data : mode.buffer;
            offsets[i] = mode.kind === 'full' ? start : 0;
          }
        });
        if (j === last) apply(ins, out, start, arrays, offsets, n);
        else apply(ins, this.temps[j]!, 0, arrays, offsets, n);
      }
    }
  }
}

/** Copies elements [start, start + n) of the broadcast view of `src` into `dst`. */
function gather(
  src: TypedArray,
  dst: TypedArray,
  strides: readonly number[],
  outShape: Shape,
  start: number,
  n: number,
): void {
  const rank = outShape.length;
  const index = new Int32Array(rank);
  let offset = 0;
  let rest = start;
  for (let d = rank - 1; d >= 0; d--) {
    const dim = outShape[d]!;
    index[d] = rest % dim;
    rest = Math.floor(rest / dim);
    offset += index[d]! * strides[d]!;
  }
  for (let i = 0; i < n; i++) {
    dst[i] = src[offset]!;
    for (let d = rank - 1; d >= 0; d--) {
      index[d]!++;
      offset += strides[d]!;
      if (index[d]! < outShape[d]!) break;
      offset -= strides[d]! * outShape[d]!;
      index[d] = 0;
    }
  }
}

/**
 * Runs one instruction over n elements: O[o + i] = op(A[a + i], B[b + i], C[c + i]). The
 * formulas are the reference kernels' (engine/backend/cpu/kernels/elementwise.ts), so the
 * results round identically.
 */
function apply(
  ins: Instruction,
  O: TypedArray,
  o: number,
  arrays: readonly TypedArray[],
  offsets: readonly number[],
  n: number,
): void {
  const A = arrays[0]!;
  const a = offsets[0]!;
  const B = arrays[1]!;
  const b = offsets[1]!;
  switch (ins.op) {
    case 'neg':
      for (let i = 0; i < n; i++) O[o + i] = -A[a + i]!;
      return;
    case 'exp':
      for (let i = 0; i < n; i++) O[o + i] = Math.exp(A[a + i]!);
      return;
    case 'log':
      for (let i = 0; i < n; i++) O[o + i] = Math.log(A[a + i]!);
      return;
    case 'sqrt':
      for (let i = 0; i < n; i++) O[o + i] = Math.sqrt(A[a + i]!);
      return;
    case 'abs':
      for (let i = 0; i < n; i++) O[o + i] = Math.abs(A[a + i]!);
      return;
    case 'sign':
      for (let i = 0; i < n; i++) {
        const v = A[a + i]!;
        O[o + i] = v > 0 ? 1 : v < 0 ? -1 : v;
      }
      return;
    case 'tanh':
      for (let i = 0; i < n; i++) O[o + i] = Math.tanh(A[a + i]!);
      return;
    case 'sigmoid':
      for (let i = 0; i < n; i++) {
        const v = A[a + i]!;
        O[o + i] = v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v));
      }
      return;
    case 'relu':
      for (let i = 0; i < n; i++) {
        const v = A[a + i]!;
        O[o + i] = v > 0 ? v : v === v ? 0 : v;
      }
      return;
    case 'erf':
      for (let i = 0; i < n; i++) O[o + i] = erf(A[a + i]!);
      return;
    case 'gelu':
      for (let i = 0; i < n; i++) {
        const v = A[a + i]!;
        O[o + i] = 0.5 * v * (1 + erf(v * SQRT1_2));
      }
      return;
    case 'leakyRelu': {
      const alpha = ins.alpha ?? 0.01;
      for (let i = 0; i < n; i++) {
        const v = A[a + i]!;
        O[o + i] = v > 0 ? v : v * alpha;
      }
      return;
    }
    case 'identity':
      for (let i = 0; i < n; i++) O[o + i] = A[a + i]!;
      return;
    case 'cast':
      if (ins.dtype === 'bool') for (let i = 0; i < n; i++) O[o + i] = A[a + i] !== 0 ? 1 : 0;
      else if (ins.dtype === 'i32') for (let i = 0; i < n; i++) O[o + i] = Math.trunc(A[a + i]!);
      else for (let i = 0; i < n; i++) O[o + i] = A[a + i]!;
      return;
    case 'add':
      for (let i = 0; i < n; i++) O[o + i] = A[a + i]! + B[b + i]!;
      return;
    case 'sub':
      for (let i = 0; i < n; i++) O[o + i] = A[a + i]! - B[b + i]!;
      return;
    case 'mul':
      for (let i = 0; i < n; i++) O[o + i] = A[a + i]! * B[b + i]!;
      return;
    case 'div':
      for (let i = 0; i < n; i++) O[o + i] = A[a + i]! / B[b + i]!;
      return;
    case 'pow':
      for (let i = 0; i < n; i++) O[o + i] = Math.pow(A[a + i]!, B[b + i]!);
      return;
    case 'maximum':
      for (let i = 0; i < n; i++) {
        const x = A[a + i]!;
        const y = B[b + i]!;
        O[o + i] = x !== x || y !== y ? NaN : x > y ? x : y;
      }
      return;
    case 'minimum':
      for (let i = 0; i < n; i++) {
        const x = A[a + i]!;
        const y = B[b + i]!;
        O[o + i] = x !== x || y !== y ? NaN : x < y ? x : y;
      }
      return;
    case 'equal':
      for (let i = 0; i < n; i++) O[o + i] = A[a + i] === B[b + i] ? 1 : 0;
      return;
    case 'greater':
      for (let i = 0; i < n; i++) O[o + i] = A[a + i]! > B[b + i]! ? 1 : 0;
      return;
    case 'less':
      for (let i = 0; i < n; i++) O[o + i] = A[a + i]! < B[b + i]! ? 1 : 0;
      return;
    case 'where': {
      const C = arrays[2]!;
      const c = offsets[2]!;
      for (let i = 0; i < n; i++) O[o + i] = A[a + i] ? B[b + i]! : C[c + i]!;
      return;
    }
    default:
      return ins.op satisfies never;
  }
}

const evaluators = new Map<string, Evaluator>();
const EVALUATOR_CAPACITY = 128;

/** Evaluates `program` on `inputs` into `out` (whose shape is the inputs' broadcast shape). */
export function interpretProgram(
  program: FusedProgram,
  inputs: readonly ArrayOperand[],
  out: ArrayOperand,
): void {
  if (out.size === 0) return;
  const key =
    program.text +
    '|' +
    inputs.map((t) => `${t.dtype}[${t.shape.join(',')}]`).join(' ') +
    `->[${out.shape.join(',')}]`;
  let evaluator = evaluators.get(key);
  if (!evaluator) {
    evaluator = new Evaluator(program, inputs, out.shape, out.size);
    if (evaluators.size >= EVALUATOR_CAPACITY) evaluators.delete(evaluators.keys().next().value!);
    evaluators.set(key, evaluator);
  }
  evaluator.run(inputs, out.data, out.size);
}

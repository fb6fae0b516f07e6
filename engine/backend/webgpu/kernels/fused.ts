/**
 * The WebGPU kernel of `fusedElementwise` (engine/jit): one WGSL shader generated per fused
 * program, input dtypes and broadcast pattern, and cached under that key like every pipeline.
 * Each instruction becomes one `let t<j>` of its result's type, built from the same WGSL
 * expressions as the unfused kernels (kernels/elementwise.ts), with the same dtype rules
 * (arithmetic in the result dtype, comparisons in the promoted operand dtype, NaN passed
 * through unary ops), so a fused chain gives what the unfused ops give on this device: every
 * intermediate is an f32 (or i32, bool) value, as an unfused op's stored output would be.
 * The program's constants and leakyRelu alphas travel as f32 parameter words (a NaN or Inf
 * literal is a WGSL error), after the count and before the broadcast shape and strides.
 * Inputs are read as the unfused binary kernels read theirs: in place, one element, or
 * through broadcast strides.
 */

import { type DType, promoteTypes } from '../../../core/dtype.js';
import { WiregradError } from '../../../core/errors.js';
import {
  type FusedProgram,
  type Operand,
  parseProgram,
  programMeta,
} from '../../../jit/program.js';
import type { WebGPUBackend } from '../webgpu-backend.js';
import { type GpuTensor, bindings, linearKernel } from '../program.js';
import { NUMERICS, convertExpr, f32Bits, wgslType } from '../wgsl.js';
import { BINARY, COMPARISONS, IPOW, UNARY, broadcastPlan } from './elementwise.js';

interface FusedAttrs {
  readonly program: string;
}

/** A generated program body: WGSL statements and helper functions. */
interface Generated {
  readonly body: string;
  readonly helpers: string;
}

/**
 * The program's constants in the order `generate` reads them: per instruction, its constant
 * operands, then its alpha (leakyRelu).
 */
function programConstants(program: FusedProgram): number[] {
  return program.instructions.flatMap((ins) => [
    ...ins.args.flatMap((a) => (a.kind === 'const' ? [a.value] : [])),
    ...(ins.op === 'leakyRelu' ? [ins.alpha ?? 0.01] : []),
  ]);
}

/**
 * The WGSL statements of `program` for `inputs`, input k read at `index[k]`; constant c (in
 * programConstants' order) is read from p[constAt + c].
 */
function generate(
  program: FusedProgram,
  inputs: readonly GpuTensor[],
  index: readonly string[],
  constAt: number,
): Generated {
  const metas = programMeta(program, inputs);
  let constants = 0;
  const unaryUsed = new Set<string>();
  const constant = (): string => `bitcast<f32>(p[${constAt + constants++}u])`;
  /** An operand's WGSL value and dtype. */
  const operand = (a: Operand): [string, DType] => {
    switch (a.kind) {
      case 'input':
        return [`x${a.index}[${index[a.index]}]`, inputs[a.index]!.dtype];
      case 'temp':
        return [`t${a.index}`, metas[a.index]!.dtype];
      case 'const':
        return [constant(), 'f32'];
      default:
        return a satisfies never;
    }
  };
  const lines = program.instructions.map((ins, j) => {
    const out = metas[j]!.dtype;
    const args = ins.args.map(operand);
    const as = (k: number, dtype: DType) => convertExpr(args[k]![0], args[k]![1], dtype);
    let value: string;
    let dtype: DType = out;
    if (ins.op === 'identity') {
      value = as(0, out);
    } else if (ins.op === 'cast') {
      value = as(0, ins.dtype ?? out);
    } else if (ins.op === 'leakyRelu') {
      unaryUsed.add('leakyRelu');
      value = `u_leakyRelu(${as(0, 'f32')}, ${constant()})`;
      dtype = 'f32';
    } else if (ins.op === 'where') {
      value = `select(${as(2, out)}, ${as(1, out)}, ${as(0, 'bool')} != 0u)`;
    } else if (UNARY[ins.op]) {
      unaryUsed.add(ins.op);
      value = `u_${ins.op}(${as(0, 'f32')})`;
      dtype = 'f32';
    } else {
      const expr = BINARY[ins.op];
      if (!expr)
        throw new WiregradError(`no WebGPU form for fused instruction '${ins.op}'`, {
          op: 'fusedElementwise',
        });
      const work = COMPARISONS.has(ins.op) ? promoteTypes(args[0]![1], args[1]![1]) : out;
      dtype = COMPARISONS.has(ins.op) ? 'bool' : work;
      // Operands get names first: the binary expressions repeat them.
      const pre = `  let a${j} = ${as(0, work)};\n  let b${j} = ${as(1, work)};\n`;
      return `${pre}  let t${j} = ${convertExpr(expr(`a${j}`, `b${j}`, wgslType(work)), dtype, out)};`;
    }
    return `  let t${j} = ${convertExpr(value, dtype, out)};`;
  });
  const last = program.instructions.length - 1;
  const helpers = [...unaryUsed].map((op) =>
    op === 'leakyRelu'
      ? 'fn u_leakyRelu(v: f32, alpha: f32) -> f32 {\n  if (is_nan(v)) { return v; }\n' +
        '  return select(v * alpha, v, v > 0.0);\n}'
      : `fn u_${op}(v: f32) -> f32 {\n  if (is_nan(v)) { return v; }\n  return ${UNARY[op]!('v')};\n}`,
  );
  return {
    body: `${lines.join('\n')}\n  out[i] = t${last};`,
    helpers: [NUMERICS, IPOW, ...helpers].join('\n'),
  };
}

/** What a program's dispatches share, worked out once per program text. */
interface PreparedProgram {
  readonly program: FusedProgram;
  /** Its constants as parameter words. */
  readonly constantWords: readonly number[];
  readonly constantCount: number;
}

/** Programs seen, by text: a jitted function dispatches the same one on every call. */
const prepared = new Map<string, PreparedProgram>();
const MAX_PREPARED = 256;

function prepare(text: string): PreparedProgram {
  let entry = prepared.get(text);
  if (!entry) {
    const program = parseProgram(text);
    const constants = programConstants(program);
    entry = { program, constantWords: constants.map(f32Bits), constantCount: constants.length };
    if (prepared.size >= MAX_PREPARED) prepared.delete(prepared.keys().next().value!);
    prepared.set(text, entry);
  }
  return entry;
}

export function registerFusedKernel(gpu: WebGPUBackend): void {
  gpu.registerKernel<FusedAttrs>('fusedElementwise', (ctx, inputs, out, attrs) => {
    const { program, constantWords, constantCount } = prepare(attrs.program);
    // Binding 0 is the parameter words, binding 1 the output.
    const limit = gpu.gpuDevice.limits.maxStorageBuffersPerShaderStage - 2;
    if (inputs.length > limit)
      throw new WiregradError(
        `the fused program '${program.text}' reads ${inputs.length} inputs, but this WebGPU ` +
          `device binds at most ${limit} per kernel; fuse shorter chains or run it unfused`,
        { op: 'fusedElementwise' },
      );
    const plan = broadcastPlan(out.shape, inputs, out.size, 1 + constantCount);
    let dtypes = '';
    for (const t of inputs) dtypes += dtypes === '' ? t.dtype : `,${t.dtype}`;
    ctx.dispatch({
      key: `fused:${program.text}:${dtypes}:${plan.key}`,
      source: () => {
        const generated = generate(program, inputs, plan.index, 1);
        return linearKernel(
          bindings([
            ['out', wgslType(out.dtype), true],
            ...inputs.map((t, k) => [`x${k}`, wgslType(t.dtype)] as const),
          ]),
          `${plan.prelude}\n${generated.body}`,
          generated.helpers,
        );
      },
      params: [out.size, ...constantWords, ...plan.params],
      buffers: [{ buffer: out.buffer, write: true }, ...inputs.map((t) => ({ buffer: t.buffer }))],
      threads: out.size,
    });
  });
}

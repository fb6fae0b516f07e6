/**
 * The expression program of a `fusedElementwise` node: a straight-line list of elementwise
 * instructions over the node's inputs, small literal constants and earlier results, stored in
 * the node's attributes as one readable string so that a fused graph stays a JSON document:
 *
 *   add(x0, x1); mul(t0, 0.5); tanh(t1); leakyRelu(t2, alpha=0.2); where(x2, t3, -Infinity)
 *
 * `x<i>` is input i, `t<j>` the result of instruction j, a number is an f32 constant (written
 * as JavaScript prints a double, or NaN/Infinity/-Infinity); `name=value` pairs are the op's
 * attributes (`alpha` of leakyRelu, `dtype` of cast). The last instruction's result is the
 * node's output. Each instruction is exactly the registered op of that name, so its shape,
 * dtype and gradient rules are the op's own: `programMeta` runs their `inferShape`s.
 */

import { type DType, isDType } from '../core/dtype.js';
import { GraphError, WiregradError } from '../core/errors.js';
import { getOp, type TensorMeta } from '../ops/registry.js';

/** The ops a fused program may contain, with their number of tensor operands. */
export const FUSABLE_OPS = {
  neg: 1,
  exp: 1,
  log: 1,
  sqrt: 1,
  abs: 1,
  sign: 1,
  tanh: 1,
  sigmoid: 1,
  relu: 1,
  erf: 1,
  gelu: 1,
  leakyRelu: 1,
  identity: 1,
  cast: 1,
  add: 2,
  sub: 2,
  mul: 2,
  div: 2,
  pow: 2,
  maximum: 2,
  minimum: 2,
  equal: 2,
  greater: 2,
  less: 2,
  where: 3,
} as const;

export type FusableOp = keyof typeof FUSABLE_OPS;

export function isFusableOp(op: string): op is FusableOp {
  return Object.prototype.hasOwnProperty.call(FUSABLE_OPS, op);
}

/** An instruction operand: a node input, an earlier instruction's result, or an f32 constant. */
export type Operand =
  | { readonly kind: 'input'; readonly index: number }
  | { readonly kind: 'temp'; readonly index: number }
  | { readonly kind: 'const'; readonly value: number };

export interface Instruction {
  readonly op: FusableOp;
  readonly args: readonly Operand[];
  /** `alpha` for leakyRelu (a double, as the op takes it); absent otherwise. */
  readonly alpha?: number;
  /** The target dtype of cast. */
  readonly dtype?: DType;
}

export interface FusedProgram {
  readonly instructions: readonly Instruction[];
  /** One more than the highest input index used. */
  readonly inputCount: number;
  /** The canonical text (what `formatProgram` gives). */
  readonly text: string;
}

// ---- text ---------------------------------------------------------------------------------

function formatNumber(v: number): string {
  // String(-0) is '0'; keep the sign, since 1/-0 and where-branches can tell them apart.
  return Object.is(v, -0) ? '-0' : String(v);
}

function formatOperand(o: Operand): string {
  switch (o.kind) {
    case 'input':
      return `x${o.index}`;
    case 'temp':
      return `t${o.index}`;
    case 'const':
      return formatNumber(o.value);
    default:
      return o satisfies never;
  }
}

function formatInstruction(ins: Instruction): string {
  const parts = ins.args.map(formatOperand);
  if (ins.alpha !== undefined) parts.push(`alpha=${formatNumber(ins.alpha)}`);
  if (ins.dtype !== undefined) parts.push(`dtype=${ins.dtype}`);
  return `${ins.op}(${parts.join(', ')})`;
}

/** The canonical text of a list of instructions (checked as `parseProgram` checks it). */
export function formatProgram(instructions: readonly Instruction[]): string {
  return parseProgram(instructions.map(formatInstruction).join('; ')).text;
}

const NUMBER = /^-?(?:\d+\.?\d*(?:e[+-]?\d+)?|\.\d+(?:e[+-]?\d+)?|Infinity|NaN)$/i;

function fail(text: string, message: string): never {
  throw new GraphError(`program '${text}': ${message}`, { op: 'fusedElementwise' });
}

function parseOperand(token: string, temps: number, text: string): Operand {
  const ref = /^([xt])(\d+)$/.exec(token);
  if (ref) {
    const index = Number(ref[2]);
    if (ref[1] === 't' && index >= temps)
      fail(text, `t${index} is used before it is computed (instruction ${temps})`);
    return { kind: ref[1] === 'x' ? 'input' : 'temp', index };
  }
  if (NUMBER.test(token) && token !== '-NaN') return { kind: 'const', value: Number(token) };
  return fail(text, `'${token}' is not an operand (x<i>, t<j> or a number)`);
}

const parsed = new Map<string, FusedProgram>();
const PARSED_CAPACITY = 512;

/** Parses and checks a program's text (cached: the same text gives the same object). */
export function parseProgram(text: string): FusedProgram {
  const known = parsed.get(text);
  if (known) return known;
  const instructions: Instruction[] = [];
  let inputCount = 0;
  const statements = text.split(';').map((s) => s.trim());
  if (statements.length === 0 || statements.some((s) => s === ''))
    fail(text, 'expected instructions like `add(x0, x1); exp(t0)` separated by semicolons');
  for (const statement of statements) {
    const m = /^([A-Za-z]+)\((.*)\)$/.exec(statement);
    if (!m) fail(text, `'${statement}' is not an instruction like add(x0, t1)`);
    const op = m[1]!;
    if (!isFusableOp(op))
      fail(text, `'${op}' cannot be fused; fusable ops are ${Object.keys(FUSABLE_OPS).join(', ')}`);
    const tokens = m[2]!.split(',').map((s) => s.trim());
    const args: Operand[] = [];
    let alpha: number | undefined;
    let dtype: DType | undefined;
    for (const token of tokens) {
      const attr = /^([A-Za-z]+)=(.*)$/.exec(token);
      if (!attr) {
        const operand = parseOperand(token, instructions.length, text);
        if (operand.kind === 'input') inputCount = Math.max(inputCount, operand.index + 1);
        args.push(operand);
      } else if (attr[1] === 'alpha' && op === 'leakyRelu' && NUMBER.test(attr[2]!)) {
        alpha = Number(attr[2]);
      } else if (attr[1] === 'dtype' && op === 'cast' && isDType(attr[2])) {
        dtype = attr[2];
      } else fail(text, `'${token}' is not an attribute of ${op}`);
    }
    if (args.length !== FUSABLE_OPS[op])
      fail(text, `${op} takes ${FUSABLE_OPS[op]} operands, got ${args.length}`);
    if (op === 'cast' && dtype === undefined) fail(text, 'cast needs dtype=<f32|bool|…>');
    instructions.push({
      op,
      args,
      ...(alpha !== undefined ? { alpha } : {}),
      ...(dtype !== undefined ? { dtype } : {}),
    });
  }
  const canonical = instructions.map(formatInstruction).join('; ');
  const program: FusedProgram = { instructions, inputCount, text: canonical };
  if (parsed.size >= PARSED_CAPACITY) parsed.delete(parsed.keys().next().value!);
  parsed.set(text, program);
  return program;
}

// ---- shapes and dtypes ----------------------------------------------------------------------

const CONST_META: TensorMeta = { shape: [], dtype: 'f32' };

/** The attributes instruction `ins` passes to its op. */
export function instructionAttrs(ins: Instruction): object {
  if (ins.op === 'leakyRelu') return { alpha: ins.alpha ?? 0.01 };
  if (ins.op === 'cast') return { dtype: ins.dtype };
  return {};
}

/**
 * Shape and dtype of every instruction's result, by the ops' own rules. Throws when the
 * inputs do not fit, naming the instruction.
 */
export function programMeta(program: FusedProgram, inputs: readonly TensorMeta[]): TensorMeta[] {
  if (inputs.length < program.inputCount)
    throw new WiregradError(
      `the program reads x${program.inputCount - 1} but only ${inputs.length} inputs are ` +
        `connected`,
      { op: 'fusedElementwise' },
    );
  const metas: TensorMeta[] = [];
  program.instructions.forEach((ins, j) => {
    const args = ins.args.map((a) =>
      a.kind === 'input' ? inputs[a.index]! : a.kind === 'temp' ? metas[a.index]! : CONST_META,
    );
    try {
      metas.push(getOp(ins.op).inferShape(args, instructionAttrs(ins)));
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      throw new WiregradError(`instruction t${j} = ${formatInstruction(ins)}: ${why}`, {
        op: 'fusedElementwise',
      });
    }
  });
  return metas;
}

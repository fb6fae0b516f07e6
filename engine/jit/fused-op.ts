/**
 * The `fusedElementwise` op: a chain (or tree) of elementwise ops, made by the JIT's fusion
 * pass, run as one kernel. Its one attribute is the expression program (see program.ts), so
 * a fused graph is still a plain JSON document and its node shows what it computes. Shapes
 * and dtypes come from the fused ops' own rules; the inputs broadcast as they did unfused.
 *
 * Gradient: recompute. The rule re-runs the program op by op from the node's inputs (ordinary
 * ops, so the values equal eager ones and, under `createGraph`, are on the tape) and applies
 * each op's own gradient rule in reverse, summing what reaches each input. The forward pass
 * keeps its one kernel and no intermediates; the backward pass pays the recomputation, which
 * for elementwise ops costs about what storing them would.
 */

import { WiregradError } from '../core/errors.js';
import { sizeOf } from '../core/shape.js';
import { getOp, defineOp, type TensorMeta } from '../ops/registry.js';
import { runOp } from '../runtime/dispatch.js';
import { tidy } from '../runtime/scope.js';
import { gradEnabled } from '../runtime/state.js';
import type { Tensor } from '../tensor.js';
import { type FusedProgram, instructionAttrs, parseProgram, programMeta } from './program.js';

export interface FusedAttrs {
  /** The expression program's text, e.g. `mul(x0, x1); add(t0, 1); relu(t1)`. */
  readonly program: string;
}

/** Checks that every input and every intermediate result is used: no dead code. */
function checkLiveness(program: FusedProgram, inputCount: number): void {
  const used = new Set<string>();
  for (const ins of program.instructions)
    for (const a of ins.args) if (a.kind !== 'const') used.add(`${a.kind}${a.index}`);
  for (let i = 0; i < inputCount; i++)
    if (!used.has(`input${i}`))
      throw new WiregradError(`input ${i} (x${i}) is not used by the program '${program.text}'`, {
        op: 'fusedElementwise',
      });
  for (let j = 0; j < program.instructions.length - 1; j++)
    if (!used.has(`temp${j}`))
      throw new WiregradError(
        `t${j} is computed but never used in the program '${program.text}'; only the last ` +
          `instruction is the output`,
        { op: 'fusedElementwise' },
      );
}

function inferFused(inputs: readonly TensorMeta[], attrs: FusedAttrs): TensorMeta {
  const program = parseProgram(attrs.program);
  if (inputs.length !== program.inputCount)
    throw new WiregradError(
      `the program '${program.text}' reads ${program.inputCount} inputs, but ` +
        `${inputs.length} are connected`,
      { op: 'fusedElementwise' },
    );
  checkLiveness(program, inputs.length);
  const metas = programMeta(program, inputs);
  return metas[metas.length - 1]!;
}

/** The gradient rule: recompute the chain op by op, then apply each op's rule in reverse. */
function fusedGradient(
  inputs: readonly Tensor[],
  _output: Tensor,
  dy: Tensor,
  attrs: FusedAttrs,
): (Tensor | null)[] {
  const program = parseProgram(attrs.program);
  const compute = (): (Tensor | null)[] => {
    const values: Tensor[] = [];
    const operands: Tensor[][] = [];
    for (const ins of program.instructions) {
      const args = ins.args.map((a) => {
        if (a.kind === 'input') return inputs[a.index]!;
        if (a.kind === 'temp') return values[a.index]!;
        return runOp('fill', [], { shape: [], value: a.value, dtype: 'f32', device: dy.device });
      });
      const def = getOp(ins.op);
      const v = runOp(ins.op, args, instructionAttrs(ins));
      // Outside createGraph the tape is off; mark what depends on a differentiable input, as
      // the tape would, because gradient rules skip operands that do not require gradients.
      if (!v.requiresGrad && def.gradient && args.some((t) => t.requiresGrad))
        v.requiresGrad = true;
      values.push(v);
      operands.push(args);
    }
    const tempGrads: (Tensor | null)[] = values.map(() => null);
    const inputGrads: (Tensor | null)[] = inputs.map(() => null);
    const accumulate = (slot: (Tensor | null)[], i: number, g: Tensor): void => {
      const prev = slot[i];
      slot[i] = prev ? runOp('add', [prev, g]) : g;
    };
    tempGrads[values.length - 1] = dy;
    for (let j = program.instructions.length - 1; j >= 0; j--) {
      const g = tempGrads[j];
      const ins = program.instructions[j]!;
      const def = getOp(ins.op);
      if (!g || !def.gradient) continue;
      const args = operands[j]!;
      const grads = def.gradient(args, values[j]!, g, instructionAttrs(ins));
      ins.args.forEach((a, i) => {
        const gi = grads[i];
        if (!gi || !args[i]!.requiresGrad || a.kind === 'const') return;
        if (a.kind === 'temp') accumulate(tempGrads, a.index, gi);
        else accumulate(inputGrads, a.index, gi);
      });
    }
    return inputGrads;
  };
  // Without createGraph the recomputed values are garbage once the rule returns.
  return gradEnabled() ? compute() : tidy(compute);
}

defineOp<FusedAttrs>({
  name: 'fusedElementwise',
  arity: 'variadic',
  attrs: {
    program: {
      kind: 'string',
      doc: "elementwise instructions over inputs x<i>, e.g. 'mul(x0, x1); add(t0, 1); relu(t1)'",
    },
  },
  doc: 'A chain of elementwise ops run as one generated kernel (made by the JIT fusion pass).',
  gradientDoc:
    "Recomputes the chain op by op from the inputs and applies each op's gradient rule in " +
    'reverse (the chain rule through the program), summing what reaches each input.',
  inferShape: inferFused,
  gradient: fusedGradient,
  cost(inputs, out, attrs) {
    const size = sizeOf(out.shape);
    const bytesIn = inputs.reduce((s, t) => s + sizeOf(t.shape) * 4, 0);
    const ops = parseProgram(attrs.program).instructions.length;
    return { flops: ops * size, bytes: bytesIn + size * 4 };
  },
});

/** Runs a fused program on `inputs` (x0, x1, … in order). */
export function fusedElementwise(inputs: readonly Tensor[], program: string): Tensor {
  return runOp('fusedElementwise', inputs, { program });
}

/**
 * The autodiff teacher: steps through a recorded lesson (lesson.ts) one node at a time, first
 * forward (each primitive op's inputs and output), then backward in reverse topological order
 * (the gradient rule in words and maths, the op's inputs, output and upstream gradient, the
 * input gradients it produces, and, where a value feeds several consumers, the contributions
 * and their sum). The whole position is one number, the cursor: `teachState(lesson, cursor)` is
 * a pure function giving plain data for the UI, so undo (`stepBack`), jumping and replaying
 * are just cursor moves, and the worker can send the state as a message. Play and pause are
 * the UI's timer calling `next`.
 */

import { WiregradError } from '../core/errors.js';
import type { Graph } from '../graph/graph.js';
import { trace } from '../graph/trace.js';
import type { Tensor } from '../tensor.js';
import {
  type Contribution,
  type InputGradient,
  type Lesson,
  type LessonOptions,
  type TeachValue,
  recordLesson,
} from './lesson.js';

/**
 * Where the lesson is: 'start' before anything ran, 'forward' while evaluating, 'backward'
 * while differentiating, 'done' after the last backward step.
 */
export type TeachPhase = 'start' | 'forward' | 'backward' | 'done';

/** An input of the current op, with its value. */
export interface TeachOperand {
  readonly id: string;
  readonly label: string;
  readonly value: TeachValue;
}

/** The current step's backward numbers. */
export interface TeachGradient {
  /** 'rule': the op's gradient rule runs; 'leaf': a source's gradient is complete. */
  readonly kind: 'rule' | 'leaf';
  /** The gradient flowing into the node's output (the sum of `contributions`, or ones at the root). */
  readonly upstream: TeachValue;
  /** One per consumer use of the value, in the order they were summed. */
  readonly contributions: readonly Contribution[];
  /** The sum of the contributions when there are several (equal to `upstream`), else null. */
  readonly sum: TeachValue | null;
  readonly inputGradients: readonly InputGradient[];
}

/** What the UI shows: plain data. */
export interface TeachState {
  readonly phase: TeachPhase;
  /** Steps taken, from 0 to `total`. */
  readonly cursor: number;
  readonly total: number;
  readonly forwardSteps: number;
  /** The step just taken (null at the start). */
  readonly current: {
    readonly id: string;
    readonly op: string;
    readonly label: string;
    readonly group?: string;
    readonly node?: string;
    readonly attrs: Readonly<Record<string, unknown>>;
    readonly doc: string;
    readonly gradientDoc?: string;
    readonly inputs: readonly TeachOperand[];
    readonly output: TeachValue;
    /** Present on backward steps. */
    readonly gradient?: TeachGradient;
  } | null;
  /** Steps whose values are known (evaluated so far). */
  readonly evaluated: readonly string[];
  /** Steps whose gradients are complete (walked so far in backward). */
  readonly differentiated: readonly string[];
}

/** The state at `cursor` (0 … forward + backward steps); pure. */
export function teachState(lesson: Lesson, cursor: number): TeachState {
  const nf = lesson.forward.length;
  const total = nf + lesson.backward.length;
  if (!Number.isInteger(cursor) || cursor < 0 || cursor > total)
    throw new WiregradError(`teach: cursor must be an integer in 0…${total}, got ${cursor}`);
  const phase: TeachPhase =
    cursor === 0 ? 'start' : cursor === total ? 'done' : cursor <= nf ? 'forward' : 'backward';
  const byId = new Map(lesson.forward.map((s) => [s.id, s]));
  const evaluated = lesson.forward.slice(0, Math.min(cursor, nf)).map((s) => s.id);
  const walked = lesson.backward.slice(0, Math.max(0, cursor - nf));
  let current: TeachState['current'] = null;
  if (cursor > 0) {
    const b = cursor > nf ? lesson.backward[cursor - nf - 1]! : null;
    const step = b ? byId.get(b.id)! : lesson.forward[cursor - 1]!;
    current = {
      id: step.id,
      op: step.op,
      label: step.label,
      ...(step.group !== undefined ? { group: step.group } : {}),
      ...(step.node !== undefined ? { node: step.node } : {}),
      attrs: step.attrs,
      doc: step.doc,
      ...(step.gradientDoc !== undefined ? { gradientDoc: step.gradientDoc } : {}),
      inputs: step.inputs.map((id) => {
        const s = byId.get(id)!;
        return { id, label: s.label, value: s.value };
      }),
      output: step.value,
      ...(b
        ? {
            gradient: {
              kind: b.kind,
              upstream: b.upstream,
              contributions: b.contributions,
              sum: b.contributions.length > 1 ? b.upstream : null,
              inputGradients: b.inputGradients,
            },
          }
        : {}),
    };
  }
  return {
    phase,
    cursor,
    total,
    forwardSteps: nf,
    current,
    evaluated,
    differentiated: walked.map((s) => s.id),
  };
}

/**
 * A stepping session over one lesson. Each move returns the new state; the lesson and the
 * cursor are all there is, so a session can be rebuilt from them.
 */
export class Teacher {
  private position = 0;

  constructor(readonly lesson: Lesson) {}

  /** A teacher for `graph` run on `inputs` (by input name or id). */
  static fromGraph(
    graph: Graph,
    inputs: Readonly<Record<string, Tensor>>,
    options: LessonOptions = {},
  ): Teacher {
    return new Teacher(recordLesson(graph, inputs, options));
  }

  /**
   * A teacher for `fn` applied to `args`: the function is traced (tensors it captures become
   * parameters or constants) and the trace is taught on the same values. Named arguments keep
   * their names.
   */
  static fromFunction(fn: (...xs: Tensor[]) => Tensor, args: readonly Tensor[]): Teacher {
    const graph = trace(fn, args, { name: 'lesson' });
    const byInput: Record<string, Tensor> = {};
    graph.inputs.forEach((node, i) => {
      byInput[node.id] = args[i]!;
    });
    return Teacher.fromGraph(graph, byInput, { root: 'output' });
  }

  get cursor(): number {
    return this.position;
  }

  get total(): number {
    return this.lesson.forward.length + this.lesson.backward.length;
  }

  state(): TeachState {
    return teachState(this.lesson, this.position);
  }

  /** Evaluates the next node (no move once forward is complete). */
  stepForward(): TeachState {
    if (this.position < this.lesson.forward.length) this.position++;
    return this.state();
  }

  /** Differentiates the next node in reverse topological order, finishing forward first. */
  stepBackward(): TeachState {
    this.position = Math.min(this.total, Math.max(this.position, this.lesson.forward.length) + 1);
    return this.state();
  }

  /** The play tick: forward, then backward, until done. */
  next(): TeachState {
    if (this.position < this.total) this.position++;
    return this.state();
  }

  /** Undoes one step. */
  stepBack(): TeachState {
    if (this.position > 0) this.position--;
    return this.state();
  }

  /** Back to the start. */
  reset(): TeachState {
    this.position = 0;
    return this.state();
  }

  /**
   * Makes `id` (a step id or a graph node id) the current step: its backward step with
   * `phase: 'backward'` (the default while already in backward), else its forward step.
   */
  jumpTo(id: string, phase?: 'forward' | 'backward'): TeachState {
    const stepId = this.lesson.nodes[id] ?? id;
    const nf = this.lesson.forward.length;
    if (!this.lesson.forward.some((s) => s.id === stepId))
      throw new WiregradError(`teach: no node or step '${id}' in this lesson`);
    const inBackward = phase ?? (this.position > nf ? 'backward' : 'forward');
    if (inBackward === 'backward') {
      const k = this.lesson.backward.findIndex((s) => s.id === stepId);
      if (k < 0)
        throw new WiregradError(
          `teach: '${id}' has no backward step (no gradient flows through it)`,
        );
      this.position = nf + k + 1;
    } else {
      this.position = this.lesson.forward.findIndex((s) => s.id === stepId) + 1;
    }
    return this.state();
  }

  /** Moves to a cursor position (0 … total). */
  seek(cursor: number): TeachState {
    teachState(this.lesson, cursor); // validates
    this.position = cursor;
    return this.state();
  }
}

/**
 * Recording a lesson for the autodiff teacher: runs a graph once, forward and backward, on real
 * tensors, at the level of primitive ops (a composite node such as `linear` or `crossEntropy`
 * becomes the primitive steps its decomposition runs, grouped under the node's id), and keeps
 * every number as plain data. Backward is `walkBackward` from autograd/backward.ts, the walk
 * `backward()` runs, observed through its hooks: its order, its rule calls and its sums, so
 * every number equals what `backward()` computes, bit for bit. The lesson holds no tensors: it
 * is serialisable, and stepping through it (teacher.ts) is pure.
 */

import { walkBackward } from '../autograd/backward.js';
import { noGrad } from '../autograd/grad.js';
import { WiregradError, formatShape } from '../core/errors.js';
import { isFloat } from '../core/dtype.js';
import type { Graph, GraphNode } from '../graph/graph.js';
import { atNode, isSourceOp } from '../graph/ir.js';
import { graphSources } from '../graph/run.js';
import * as ops from '../ops/index.js';
import { type OpDef, getOp } from '../ops/registry.js';
import { runOp } from '../runtime/dispatch.js';
import { dispose, tidy } from '../runtime/scope.js';
import { type OpObserver, state } from '../runtime/state.js';
import type { Tensor } from '../tensor.js';

/** A tensor's value as plain data: row-major numbers (booleans as 0 and 1). */
export interface TeachValue {
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly values: readonly number[];
}

/** One forward step: a source value or one primitive op. */
export interface LessonStep {
  /** The graph node id, or `<node>/<op>_<k>` for the k-th primitive of a composite node. */
  readonly id: string;
  readonly op: string;
  /** What a person reads: the node's name, else its id. */
  readonly label: string;
  /** The composite graph node this primitive belongs to (absent for a node's only op). */
  readonly group?: string;
  /** The graph node whose value this step produces, when it is one. */
  readonly node?: string;
  /** 'source': an input, parameter or constant node; 'constant': a value made inside an op. */
  readonly kind: 'source' | 'constant' | 'op';
  /** Step ids of the op's inputs, in argument order. */
  readonly inputs: readonly string[];
  readonly attrs: Readonly<Record<string, unknown>>;
  readonly doc: string;
  readonly gradientDoc?: string;
  readonly value: TeachValue;
  /** Whether the value requires gradients (is on the tape). */
  readonly requiresGrad: boolean;
}

/** A gradient flowing from a consumer's rule into one of its inputs. */
export interface Contribution {
  /** The consumer step whose gradient rule produced it. */
  readonly from: string;
  /** Which of the consumer's inputs it is for (a value used twice gets two). */
  readonly inputIndex: number;
  readonly value: TeachValue;
}

/** What one backward step produced for one input of its op. */
export interface InputGradient {
  readonly input: string;
  readonly index: number;
  /** Null where the input needs no gradient (labels, indices, constants) or the rule gives none. */
  readonly value: TeachValue | null;
  /** The input's gradient summed so far, this contribution included (null as above). */
  readonly accumulated: TeachValue | null;
}

/** One backward step: an op's gradient rule applied, or a leaf receiving its final gradient. */
export interface BackwardStep {
  readonly id: string;
  /** 'rule': the op's gradient rule runs; 'leaf': a source's gradient is complete. */
  readonly kind: 'rule' | 'leaf';
  /** The gradient of the root with respect to this step's value (the sum of contributions). */
  readonly upstream: TeachValue;
  /** The consumers' contributions, in the order they were summed (empty for the root). */
  readonly contributions: readonly Contribution[];
  /** For 'rule' steps: the gradient for each input of the op. */
  readonly inputGradients: readonly InputGradient[];
}

/** A recorded lesson: plain data, ready for `structuredClone` and JSON. */
export interface Lesson {
  /** Forward steps in execution order (each after its inputs). */
  readonly forward: readonly LessonStep[];
  /** Backward steps in reverse topological order from the root, as backward() walks them. */
  readonly backward: readonly BackwardStep[];
  /** The step differentiated (its gradient is seeded with ones). */
  readonly root: string;
  /** The step of each graph node's value. */
  readonly nodes: Readonly<Record<string, string>>;
}

export interface LessonOptions {
  /** The value to differentiate: an output name or a node id (default: 'loss', else the first output). */
  readonly root?: string;
  /**
   * Source node ids whose gradients to show (default: every floating-point input and
   * parameter). Others are treated as constants.
   */
  readonly wrt?: readonly string[];
}

/**
 * The most numbers one lesson value may hold: the teacher shows every number, which is for
 * small graphs; a larger tensor would make messages and the page slow for nothing readable.
 */
export const MAX_TEACH_VALUES = 100_000;

/** Reads a tensor into plain data. */
export function teachValue(t: Tensor): TeachValue {
  if (t.size > MAX_TEACH_VALUES)
    throw new WiregradError(
      `teach: a value of shape ${formatShape(t.shape)} holds ${t.size} numbers, more than the ` +
        `teacher shows (${MAX_TEACH_VALUES}); teach a smaller batch or smaller layers`,
    );
  return { shape: [...t.shape], dtype: t.dtype, values: Array.from(t.dataSync()) };
}

function resolveRoot(graph: Graph, root: string | undefined): string {
  const pick = root ?? (graph.outputs.find((o) => o.name === 'loss') ?? graph.outputs[0])?.node;
  if (pick === undefined)
    throw new WiregradError('teach: the graph has no outputs; name the value to differentiate');
  const output = graph.outputs.find((o) => o.name === pick);
  if (output) return output.node;
  if (graph.hasNode(pick)) return pick;
  throw new WiregradError(
    `teach: '${pick}' is neither an output name (${graph.outputs.map((o) => `'${o.name}'`).join(', ') || 'none'}) nor a node id`,
  );
}

/** Collects the primitive ops the dispatcher runs while installed. */
class OpLog implements OpObserver {
  readonly ops: { def: OpDef; inputs: readonly Tensor[]; out: Tensor; attrs: object }[] = [];
  onOp(def: OpDef, inputs: readonly Tensor[], out: Tensor, attrs: object): void {
    // Shape inference of a composite dry-runs its decomposition on symbolic tensors.
    if (out.isSymbolic) return;
    this.ops.push({ def, inputs, out, attrs });
  }
}

function plainAttrs(attrs: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(attrs))
    if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') out[k] = v;
    else if (Array.isArray(v)) out[k] = [...(v as unknown[])];
  return out;
}

/**
 * Runs `graph` on `inputs` (by input name or id), records every primitive forward op and the
 * backward pass from the root, and returns them as plain data. See the file comment.
 */
export function recordLesson(
  graph: Graph,
  inputs: Readonly<Record<string, Tensor>>,
  options: LessonOptions = {},
): Lesson {
  if (state.tracer)
    throw new WiregradError('teach: cannot record a lesson while a function is being traced');
  const rootNode = resolveRoot(graph, options.root);
  const wrt = options.wrt ? new Set(options.wrt) : null;
  return tidy(() => {
    const sources = graphSources(graph, inputs);
    const forward: LessonStep[] = [];
    const stepOf = new Map<Tensor, string>();
    const nodes: Record<string, string> = {};
    const used = new Set<string>();
    const freshId = (base: string): string => {
      let id = base;
      for (let k = 2; used.has(id); k++) id = `${base}_${k}`;
      used.add(id);
      return id;
    };
    const add = (step: Omit<LessonStep, 'id'> & { id: string }, t: Tensor): string => {
      const id = freshId(step.id);
      forward.push({ ...step, id });
      stepOf.set(t, id);
      return id;
    };
    /** The step of a tensor met as an op input; values made outside the dispatcher become constants. */
    const stepFor = (t: Tensor, group: string): string =>
      stepOf.get(t) ??
      add(
        {
          id: `${group}/constant`,
          op: 'constant',
          label: 'constant',
          group,
          kind: 'constant',
          inputs: [],
          attrs: {},
          doc: 'A value made inside the op (a constant of its decomposition).',
          value: teachValue(t),
          requiresGrad: false,
        },
        t,
      );

    const values = new Map<string, Tensor>();
    for (const node of graph.nodes) {
      if (isSourceOp(node.op)) {
        const given = sources(node);
        const wanted = wrt ? wrt.has(node.id) : node.op !== 'constant';
        // A fresh leaf, so the teacher never touches the caller's tensors or their `.grad`.
        const leaf = noGrad(() => ops.identity(given));
        leaf.requiresGrad = wanted && isFloat(leaf.dtype);
        values.set(node.id, leaf);
        nodes[node.id] = add(sourceStep(node, leaf), leaf);
        continue;
      }
      const args = node.inputs.map((id) => values.get(id)!);
      const log = new OpLog();
      state.observers.push(log);
      let out: Tensor;
      try {
        out = runOp(node.op, args, node.attrs);
      } catch (e) {
        throw atNode(e, node);
      } finally {
        state.observers.splice(state.observers.indexOf(log), 1);
      }
      values.set(node.id, out);
      const single = log.ops.length === 1 && log.ops[0]!.out === out;
      const counts = new Map<string, number>();
      for (const { def, inputs: opInputs, out: opOut, attrs } of log.ops) {
        const k = (counts.get(def.name) ?? 0) + 1;
        counts.set(def.name, k);
        const inputIds = opInputs.map((t) => stepFor(t, node.id));
        add(
          {
            id: single ? node.id : `${node.id}/${def.name}_${k}`,
            op: def.name,
            label: single ? (node.name ?? node.id) : `${node.name ?? node.id}: ${def.name}`,
            ...(single ? {} : { group: node.id }),
            ...(opOut === out ? { node: node.id } : {}),
            kind: 'op',
            inputs: inputIds,
            attrs: plainAttrs(attrs),
            doc: def.doc,
            ...(def.gradientDoc !== undefined ? { gradientDoc: def.gradientDoc } : {}),
            value: teachValue(opOut),
            requiresGrad: opOut.requiresGrad,
          },
          opOut,
        );
      }
      // A composite may hand back one of its inputs unchanged (dropout when not training).
      nodes[node.id] = stepFor(out, node.id);
    }

    const root = values.get(rootNode)!;
    const backward = root.requiresGrad ? recordBackward(root, stepOf) : [];
    return { forward, backward, root: stepOf.get(root)!, nodes };
  });
}

function sourceStep(node: GraphNode, leaf: Tensor): Omit<LessonStep, 'id'> & { id: string } {
  return {
    id: node.id,
    op: node.op,
    label: node.name ?? node.id,
    node: node.id,
    kind: 'source',
    inputs: [],
    attrs: {},
    doc: getOp(node.op).doc,
    value: teachValue(leaf),
    requiresGrad: leaf.requiresGrad,
  };
}

/**
 * Backward from `root` by `walkBackward` itself (as `backward()` runs it, recording off),
 * keeping each step's numbers. The hooks read every value while backward still holds it.
 */
function recordBackward(root: Tensor, stepOf: ReadonlyMap<Tensor, string>): BackwardStep[] {
  const contributions = new Map<Tensor, Contribution[]>();
  const steps: BackwardStep[] = [];
  const name = (t: Tensor): string => stepOf.get(t)!;
  // The input gradients of the step being walked, filled in as its contributions are summed.
  let produced: InputGradient[] = [];
  const results = walkBackward(root, {
    onStep: ({ tensor, producer, upstream }) => {
      const received = contributions.get(tensor) ?? [];
      produced = producer
        ? producer.inputs.map((x, index) => ({
            input: name(x),
            index,
            value: null,
            accumulated: null,
          }))
        : [];
      steps.push({
        id: name(tensor),
        kind: producer ? 'rule' : 'leaf',
        upstream: teachValue(upstream),
        contributions: received,
        inputGradients: produced,
      });
    },
    onContribution: ({ consumer, index, input, contribution, sum }) => {
      const value = teachValue(contribution);
      const list = contributions.get(input) ?? [];
      list.push({ from: name(consumer), inputIndex: index, value });
      contributions.set(input, list);
      produced[index] = { ...produced[index]!, value, accumulated: teachValue(sum) };
    },
  });
  dispose([...results.values()]);
  return steps;
}

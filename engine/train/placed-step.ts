/**
 * The pieces of a training step on a mixed placement (some nodes on the CPU, some on WebGPU),
 * which `DeviceTrainer` runs as a placed plan because gradients cannot flow back through an
 * asynchronous `to()`:
 *
 * - `trainingGradients` builds the step's gradient graph by tracing, as `differentiate` does
 *   (forward nodes keep their ids), with what the training views need as extra outputs: the
 *   L2 norm of the gradient along each forward edge (summed from backward's own contributions,
 *   as `backwardMeasuringEdges` does eagerly), the forward values batch norm's running
 *   statistics are blended from, and for every node of the result the forward node it computes
 *   or differentiates (`grad:<node>`), so its events read like the other paths' timelines;
 * - `runPlacedSteps` runs the plan with `runPlan`, optionally recording the ops of each
 *   synchronous stretch and timing every transfer, so work that runs on the thread while a
 *   transfer is awaited never enters the step's timeline;
 * - `blendPlacedRunningStats` updates running statistics from values on any device.
 */

import { gradients } from '../autograd/backward.js';
import { noGrad } from '../autograd/grad.js';
import { type Graph, nodeToJSON } from '../graph/graph.js';
import { evaluateNodes } from '../graph/run.js';
import { GraphTracer, withTracer } from '../graph/trace.js';
import * as ops from '../ops/index.js';
import { batchNormUpdateStats } from '../ops/normalization.js';
import type { PlacedPlan } from '../placement/plan.js';
import { type PlanTiming, runPlan } from '../placement/run.js';
import { to } from '../runtime/devices.js';
import { dispose, keep, tidy } from '../runtime/scope.js';
import { type OpObserver, state } from '../runtime/state.js';
import type { Tensor } from '../tensor.js';
import { edgeKey } from './edge-gradients.js';
import type { RunningStatsNode } from './running-stats.js';

/** A forward edge of the training graph and the output holding its gradient's L2 norm. */
export interface MeasuredEdge {
  readonly from: string;
  readonly to: string;
  readonly port: number;
  /** The output name, or null where no gradient flows along the edge (or none is measured). */
  readonly output: string | null;
}

export interface TrainingGradients {
  /**
   * Outputs: the forward graph's, `grad:<id>` for each parameter differentiated, `value:<id>`
   * for each node asked for in `values`, and the edges' norms (see `edges`).
   */
  readonly graph: Graph;
  /** Every forward edge in node order (empty unless `measureEdges`). */
  readonly edges: readonly MeasuredEdge[];
  /** For each node of `graph`: the forward node it computes, or `grad:<node>` for backward. */
  readonly origin: ReadonlyMap<string, string>;
}

export interface TrainingGradientsOptions {
  /** The loss output's name. */
  readonly loss: string;
  /** The batch size the graph is built for (gradient rules bake shapes in). */
  readonly batch: number;
  /** The parameters to differentiate with respect to. */
  readonly wrt: readonly string[];
  /** Add an output per forward edge with the L2 norm of its gradient. */
  readonly measureEdges?: boolean;
  /** Forward nodes whose values become outputs named `value:<id>`. */
  readonly values?: readonly string[];
}

/** The gradient graph of a training graph with the views' extra outputs; see the file comment. */
export function trainingGradients(
  graph: Graph,
  options: TrainingGradientsOptions,
): TrainingGradients {
  const lossNode = graph.outputs.find((o) => o.name === options.loss)!.node;
  const metas = graph.inferShapes({ batch: options.batch });
  const wanted = new Set(options.wrt);
  // The name each traced op output gets in the timeline. Forward ops take the node being
  // evaluated. A gradient rule's ops are recorded before backward reports its step (`onStep`),
  // so they wait in `pending` until then; the sums that follow belong to the same step.
  const origin = new Map<Tensor, string>();
  let current: string | null = null;
  let pending: Tensor[] = [];
  const observer: OpObserver = {
    onOp: (_def, _inputs, out) => {
      if (current !== null) origin.set(out, current);
      else pending.push(out);
    },
  };
  const flush = (name: string): void => {
    for (const t of pending) origin.set(t, name);
    pending = [];
  };
  const tracer = new GraphTracer();
  const edges: MeasuredEdge[] = [];
  state.observers.push(observer);
  let result: Graph;
  try {
    result = withTracer(tracer, () => {
      const values = evaluateNodes(
        graph,
        (node) => {
          const json = nodeToJSON(node);
          const meta = metas.get(node.id)!;
          const attrs =
            node.op === 'input' ? { ...json.attrs, shape: [...meta.shape] } : json.attrs;
          return tracer.addSource({ ...json, attrs }, meta, wanted.has(node.id));
        },
        (node) => {
          current = node.id;
          tracer.hint = { id: node.id, ...(node.name !== undefined ? { name: node.name } : {}) };
        },
      );
      const nodeOf = new Map<Tensor, string>();
      for (const [id, t] of values) if (!nodeOf.has(t)) nodeOf.set(t, id);
      const forwardOf = (t: Tensor): string => origin.get(t) ?? nodeOf.get(t) ?? '';
      const sums = new Map<string, Tensor>();
      let step = '';
      current = null;
      const targets = options.wrt.map((id) => values.get(id)!);
      const grads = gradients(values.get(lossNode)!, targets, {
        createGraph: true,
        onStep: ({ tensor }) => {
          step = `grad:${forwardOf(tensor)}`;
          flush(step);
        },
        onContribution: ({ consumer, input, contribution }) => {
          const from = nodeOf.get(input);
          const to = origin.get(consumer);
          if (options.measureEdges && from !== undefined && to !== undefined && from !== to) {
            const key = edgeKey(from, to);
            const sum = sums.get(key);
            sums.set(key, sum ? ops.add(sum, contribution) : contribution);
          }
          flush(step);
        },
      });
      const outputs: [string, Tensor][] = [
        ...graph.outputs.map((o): [string, Tensor] => [o.name, values.get(o.node)!]),
        ...options.wrt.map((id, i): [string, Tensor] => [`grad:${id}`, grads[i]!]),
        ...(options.values ?? []).map((id): [string, Tensor] => [`value:${id}`, values.get(id)!]),
      ];
      if (options.measureEdges)
        for (const node of graph.nodes)
          node.inputs.forEach((from, port) => {
            const g = sums.get(edgeKey(from, node.id));
            const output = g ? `edge:${edges.length}` : null;
            edges.push({ from, to: node.id, port, output });
            if (!g) return;
            current = `grad:${node.id}`;
            outputs.push([output!, ops.sqrt(ops.sum(ops.mul(g, g)))]);
          });
      return tracer.finish(outputs, {
        ...(graph.name !== undefined ? { name: graph.name } : {}),
        keep: 'sources',
      });
    });
  } finally {
    state.observers.splice(state.observers.indexOf(observer), 1);
  }
  const names = new Map<string, string>();
  for (const [t, name] of origin) {
    const id = t.traceNode;
    if (typeof id === 'string' && result.hasNode(id)) names.set(id, name);
  }
  for (const node of result.nodes) if (!names.has(node.id)) names.set(node.id, node.id);
  return { graph: result, edges, origin: names };
}

export type { PlanTiming as PlacedRunTiming, TimedTransfer } from '../placement/run.js';

/**
 * `runPlan(plan, inputs, { params })`, recording into `timing` when given; returns the
 * outputs by name, each on its node's device (the caller owns them).
 */
export function runPlacedSteps(
  plan: PlacedPlan,
  inputs: Readonly<Record<string, Tensor>>,
  params: ReadonlyMap<string, Tensor>,
  timing?: PlanTiming,
): Promise<Record<string, Tensor>> {
  return runPlan(plan, inputs, { params, ...(timing ? { timing } : {}) });
}

/**
 * Blends this batch's statistics into the running ones of `nodes`, in place in `params`, from
 * `x` values on any device (`valueOf(node.x)`): each is computed where its running mean lives.
 */
export async function blendPlacedRunningStats(
  nodes: readonly RunningStatsNode[],
  valueOf: (id: string) => Tensor | undefined,
  params: ReadonlyMap<string, Tensor>,
): Promise<void> {
  for (const s of nodes) {
    const mean = params.get(s.mean);
    const variance = params.get(s.variance);
    const x = valueOf(s.x);
    if (!mean || !variance || !x) continue;
    const temps: Tensor[] = [];
    const on = async (t: Tensor, device = mean.device): Promise<Tensor> => {
      if (t.device === device) return t;
      const moved = await to(t, device);
      temps.push(moved);
      return moved;
    };
    try {
      const [xs, vs] = [await on(x), await on(variance)];
      const next = noGrad(() =>
        tidy(() => {
          const stats = batchNormUpdateStats(xs, mean, vs, s.momentum);
          return [keep(stats.runningMean), keep(stats.runningVar)] as const;
        }),
      );
      temps.push(...next);
      // `assign` takes over (and frees) the tensor it is given.
      mean.assign(next[0]);
      variance.assign(
        variance.device === mean.device ? next[1] : await on(next[1], variance.device),
      );
    } finally {
      dispose(temps.filter((t) => !t.isDisposed));
    }
  }
}

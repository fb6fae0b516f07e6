/**
 * Running a placed plan: `runPlan(plan, inputs, { params })` follows the plan's steps in
 * order, each op through `runOp` on its node's device and each `TransferNode` through `to()`,
 * which is asynchronous because reading GPU memory is; so the run is too. Source values go to
 * their node's device first: the caller's inputs (usually on the CPU) are uploaded, and
 * parameters are used where they are when already on their device (keep them there with
 * `placeParameters`). The run records no autodiff tape, since gradients cannot flow back
 * through `to()`; take gradients by differentiating the graph and placing that (see
 * `PlacedTrainer`). Intermediate values are freed when the run ends; the outputs belong to
 * the caller.
 */

import type { DeviceName } from '../backend/backend.js';
import type { Graph } from '../graph/graph.js';
import { atNode } from '../graph/ir.js';
import { type RunOptions, graphSources } from '../graph/run.js';
import { noGrad } from '../autograd/grad.js';
import { to } from '../runtime/devices.js';
import { runOp } from '../runtime/dispatch.js';
import { type ExecutionRecorder, enterNode } from '../runtime/events.js';
import { tidy } from '../runtime/scope.js';
import type { Tensor } from '../tensor.js';
import type { Placement } from './place.js';
import type { PlacedPlan } from './plan.js';

const SOURCE_OPS = new Set(['input', 'parameter', 'constant']);

/** One transfer of a timed run: whose value, between which devices, when (performance.now ms). */
export interface TimedTransfer {
  readonly source: string;
  readonly from: DeviceName;
  readonly to: DeviceName;
  readonly start: number;
  readonly end: number;
}

/** What a timed run records. */
export interface PlanTiming {
  /** Records the ops of each synchronous stretch (started and stopped around them). */
  readonly recorder: ExecutionRecorder;
  /** Every transfer, source uploads included, in order. */
  readonly transfers: TimedTransfer[];
}

/**
 * Runs `plan`; returns the outputs by name, each on its node's device. With `timing`, the ops
 * are recorded into its recorder (only while they run: a transfer awaits between them) and
 * every transfer is timed.
 */
export async function runPlan(
  plan: PlacedPlan,
  inputs: Readonly<Record<string, Tensor>>,
  options: RunOptions & { readonly timing?: PlanTiming } = {},
): Promise<Record<string, Tensor>> {
  const { timing } = options;
  const source = graphSources(plan.graph, inputs, options);
  const values = new Map<string, Tensor>();
  const originals = new Set<Tensor>();
  const made: Tensor[] = [];
  const move = async (t: Tensor, device: DeviceName, node: string): Promise<Tensor> => {
    if (!timing || t.device === device) return to(t, device);
    const start = performance.now();
    const moved = await to(t, device);
    timing.transfers.push({
      source: node,
      from: t.device,
      to: device,
      start,
      end: performance.now(),
    });
    return moved;
  };
  try {
    for (const step of plan.steps) {
      if (step.kind === 'transfer') {
        const moved = await move(values.get(step.source)!, step.to, step.source);
        made.push(moved);
        values.set(step.id, moved);
        continue;
      }
      const { node, device } = step;
      if (SOURCE_OPS.has(node.op)) {
        const value = source(node);
        originals.add(value);
        const placed = await move(value, device, node.id);
        if (placed !== value) made.push(placed);
        values.set(node.id, placed);
        continue;
      }
      const args = step.inputs.map((id) => values.get(id)!);
      // A creation op (fill, random …) allocates on its node's device; others follow inputs.
      const attrs = args.length === 0 ? { ...node.attrs, device } : node.attrs;
      const outer = enterNode(node.id);
      timing?.recorder.start();
      try {
        // A composite (crossEntropy …) makes intermediates of its own: tidy frees them.
        const out = tidy(() => noGrad(() => runOp(node.op, args, attrs)));
        made.push(out);
        values.set(node.id, out);
      } catch (e) {
        throw atNode(e, node);
      } finally {
        timing?.recorder.stop();
        enterNode(outer);
      }
    }
    const out: Record<string, Tensor> = {};
    for (const o of plan.outputs) out[o.name] = values.get(o.value)!;
    return out;
  } finally {
    // Outputs survive; so do the caller's tensors, which an op may return unchanged.
    const keepers = new Set(plan.outputs.map((o) => values.get(o.value)));
    for (const t of made) if (!keepers.has(t) && !originals.has(t)) t.dispose();
  }
}

/**
 * The graph's parameter values, each copied onto its node's device (those already there are
 * the graph's own tensors), for `runPlan`'s `params` and for training.
 */
export async function placeParameters(
  graph: Graph,
  placement: Placement,
): Promise<Map<string, Tensor>> {
  const own = graph.initParameters();
  const out = new Map<string, Tensor>();
  for (const [id, t] of own) out.set(id, await to(t, placement.get(id) ?? ('cpu' as DeviceName)));
  return out;
}

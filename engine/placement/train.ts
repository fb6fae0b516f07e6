/**
 * Training a placed graph. Gradients come from the graph, not a tape: `differentiate` builds
 * the gradient graph (forward nodes keep their ids, backward nodes are ordinary nodes), which is
 * placed with the same policy and pins as the forward graph and planned like any graph, so
 * backward ops get devices and cross-device edges get transfer nodes as forward ones do. (A
 * tape through a differentiable transfer would need backward to await GPU reads, and backward
 * is synchronous.) Each step runs the plan, which computes the loss on its node's device and
 * every parameter's gradient; then plain SGD updates every parameter on its own device,
 * moving the gradient there when it was computed elsewhere.
 */

import type { DeviceName } from '../backend/backend.js';
import { noGrad } from '../autograd/grad.js';
import { WiregradError } from '../core/errors.js';
import { differentiate } from '../graph/differentiate.js';
import type { Graph } from '../graph/graph.js';
import { to } from '../runtime/devices.js';
import { tidy } from '../runtime/scope.js';
import type { Tensor } from '../tensor.js';
import { type PlaceOptions, type PlacementPolicy, placeGraph } from './place.js';
import { type PlacedPlan, planExecution } from './plan.js';
import { placeParameters, runPlan } from './run.js';

export interface PlacedTrainingOptions extends PlaceOptions {
  /** The loss: an output name or node id of a scalar. */
  readonly loss: string;
  /** The batch size every step uses (the gradient graph is built for it). */
  readonly batch: number;
  /** SGD learning rate. */
  readonly lr: number;
}

export class PlacedTrainer {
  /** The gradient graph's values by parameter id, each on its node's device. */
  readonly params: Map<string, Tensor>;
  /** Parameter values this trainer made (copies and updates), which it frees when replaced. */
  private readonly owned = new Set<Tensor>();

  private constructor(
    /** The forward graph together with its gradients (outputs `grad:<id>`). */
    readonly gradientGraph: Graph,
    /** The executed plan of the gradient graph: what the canvas draws. */
    readonly plan: PlacedPlan,
    params: Map<string, Tensor>,
    private readonly lossOutput: string,
    private readonly lr: number,
    original: ReadonlyMap<string, Tensor>,
  ) {
    this.params = params;
    for (const [id, t] of params) if (t !== original.get(id)) this.owned.add(t);
  }

  /** Differentiates, places and plans `graph` for training; see the file comment. */
  static async create(
    graph: Graph,
    policy: PlacementPolicy,
    options: PlacedTrainingOptions,
  ): Promise<PlacedTrainer> {
    const gradientGraph = differentiate(graph, { loss: options.loss, batch: options.batch });
    // Pins name forward nodes; the gradient graph keeps their ids (pruned ones are dropped).
    const pins: Record<string, DeviceName> = {};
    for (const [id, device] of Object.entries(options.pins ?? {}))
      if (gradientGraph.hasNode(id)) pins[id] = device;
    const placement = placeGraph(gradientGraph, policy, { ...options, pins });
    const plan = planExecution(gradientGraph, placement);
    const params = await placeParameters(gradientGraph, placement);
    const lossOutput =
      graph.outputs.find((o) => o.name === options.loss || o.node === options.loss)?.name ??
      options.loss;
    if (!gradientGraph.outputs.some((o) => o.name === lossOutput))
      throw new WiregradError(
        `PlacedTrainer: the loss '${options.loss}' must be one of the graph's outputs ` +
          `(${graph.outputs.map((o) => `'${o.name}'`).join(', ')})`,
      );
    return new PlacedTrainer(
      gradientGraph,
      plan,
      params,
      lossOutput,
      options.lr,
      gradientGraph.initParameters(),
    );
  }

  /** One SGD step on this batch; returns the loss before the update. */
  async step(inputs: Readonly<Record<string, Tensor>>): Promise<number> {
    const before = new Set(this.params.values());
    const out = await runPlan(this.plan, inputs, { params: this.params });
    try {
      const loss = (await out[this.lossOutput]!.data())[0]!;
      for (const [id, p] of this.params) {
        const grad = out[`grad:${id}`]!;
        const g = await to(grad, p.device);
        const next = tidy(() => noGrad(() => p.sub(g.mul(this.lr))));
        if (g !== grad) g.dispose();
        next.requiresGrad = p.requiresGrad;
        if (this.owned.has(p)) {
          this.owned.delete(p);
          p.dispose();
        }
        this.owned.add(next);
        this.params.set(id, next);
      }
      return loss;
    } finally {
      for (const t of Object.values(out)) if (!this.owned.has(t) && !before.has(t)) t.dispose();
    }
  }
}

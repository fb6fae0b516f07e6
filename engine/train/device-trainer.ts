/**
 * Training a graph document under a device policy ('cpu', 'webgpu', 'auto') and the document's
 * per-node pins. `placeTraining` places the forward graph; `DeviceTrainer` then trains it in one
 * of two ways:
 *
 * - every node on one device other than the CPU: the ordinary `Trainer` with its parameters on
 *   that device, each step queued without waiting (`Trainer.stepQueuedWithAccuracy`) and its
 *   loss read back asynchronously;
 * - a mixed placement: the graph with its gradients (`differentiate`) is placed with the same
 *   policy and pins and run as a plan (`runPlan`), whose cross-device edges are transfer nodes;
 *   each parameter's gradient is moved to the parameter's device and the configured optimiser
 *   steps there. Gradient graphs are specialised to a batch size, so one is built per size met.
 *
 * Either way `step` is asynchronous and the caller's event loop stays free while the GPU works.
 * `readParams` copies the parameters to the CPU (for views that read them synchronously), and
 * `transfers` lists the forward edges that cross devices with the bytes each moves per step.
 * An all-CPU placement is not this class's business: the synchronous CPU path does that.
 */

import { backwardMeasuringEdges, edgeKey, evaluateOwned, nodeOfValues } from './edge-gradients.js';
import type { DeviceName } from '../backend/backend.js';
import { bytesPerElement } from '../core/dtype.js';
import { WiregradError } from '../core/errors.js';
import { sizeOf } from '../core/shape.js';
import { differentiate } from '../graph/differentiate.js';
import { Graph } from '../graph/graph.js';
import type { GraphJSON } from '../graph/ir.js';
import { graphSources } from '../graph/run.js';
import * as ops from '../ops/index.js';
import { type CostModel } from '../placement/cost-model.js';
import { type Placement, type PlacementPolicy, placeGraph } from '../placement/place.js';
import { type PlacedPlan, planExecution } from '../placement/plan.js';
import { runPlan } from '../placement/run.js';
import { to } from '../runtime/devices.js';
import { dispose, keep, tidy } from '../runtime/scope.js';
import type { Tensor } from '../tensor.js';
import { uploadSync } from './device.js';
import { type TrainConfig, Trainer, correctCount } from './trainer.js';

/** A forward edge whose ends run on different devices. */
export interface DeviceTransfer {
  /** The node whose value moves, and the node (and input port) that reads it. */
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly fromDevice: DeviceName;
  readonly toDevice: DeviceName;
  /** Bytes moved per step at the batch size asked for. */
  readonly bytes: number;
}

/** What one step measured. */
export interface DeviceStepResult {
  readonly loss: number;
  /** Correct predictions in the batch (argmax of the output equal to the label). */
  readonly correct: number;
}

/** The L2 norm of the gradient along one forward edge (null where none flows). */
export interface EdgeNorm {
  readonly from: string;
  readonly to: string;
  readonly port: number;
  readonly norm: number | null;
}

/**
 * A graph document without its nodes' device fields, and those fields as pins by node id: the
 * graph's own values (parameters, constants) are then made on the CPU, and placement decides.
 */
export function splitPins(graphJSON: unknown): {
  readonly graph: Graph;
  readonly pins: Readonly<Record<string, DeviceName>>;
} {
  const json: GraphJSON = Graph.fromJSON(graphJSON).toJSON();
  const pins: Record<string, DeviceName> = {};
  for (const n of json.nodes) if (n.device !== undefined) pins[n.id] = n.device;
  const graph = Graph.fromJSON({
    ...json,
    nodes: json.nodes.map((n) => {
      if (n.device === undefined) return n;
      const { device: _pinned, ...rest } = n;
      return rest;
    }),
  });
  return { graph, pins };
}

export interface PlaceTrainingOptions {
  readonly pins?: Readonly<Record<string, DeviceName>>;
  /** Needed by 'auto'. */
  readonly costModel?: CostModel;
  /** The batch size costs are estimated at. */
  readonly batch: number;
}

/** Every forward node's device under `policy` and `pins`. */
export function placeTraining(
  graph: Graph,
  policy: PlacementPolicy,
  options: PlaceTrainingOptions,
): Placement {
  return placeGraph(graph, policy, {
    pins: options.pins ?? {},
    batch: options.batch,
    ...(options.costModel ? { costModel: options.costModel } : {}),
  });
}

/** The single device of a placement, or null when it is mixed. */
export function singleDevice(placement: Placement): DeviceName | null {
  const devices = new Set(placement.values());
  return devices.size === 1 ? [...devices][0]! : null;
}

/** The forward edges of `graph` that cross devices under `placement`, with bytes at `batch`. */
export function transfersOf(graph: Graph, placement: Placement, batch: number): DeviceTransfer[] {
  const metas = graph.inferShapes({ batch });
  const out: DeviceTransfer[] = [];
  for (const node of graph.nodes)
    node.inputs.forEach((from, port) => {
      const fromDevice = placement.get(from);
      const toDevice = placement.get(node.id);
      if (fromDevice === undefined || toDevice === undefined || fromDevice === toDevice) return;
      const meta = metas.get(from)!;
      const bytes = sizeOf(meta.shape) * bytesPerElement(meta.dtype);
      out.push({ from, to: node.id, port, fromDevice, toDevice, bytes });
    });
  return out;
}

interface PlannedBatch {
  readonly plan: PlacedPlan;
  readonly logitsOutput: string;
}

export class DeviceTrainer {
  /** The optimiser, schedule and parameters (on their devices). */
  readonly trainer: Trainer;
  /** Null when the placement is mixed. */
  readonly device: DeviceName | null;
  private readonly plans = new Map<number, PlannedBatch>();
  private readonly dataInput: string;
  private readonly labelInput: string;
  private readonly outputName: string;
  /** The last placed step: placed steps await transfers, so each waits for the one before. */
  private chain: Promise<unknown> = Promise.resolve();

  /**
   * `graph` must carry no device fields (see `splitPins`); `placement` gives every node's
   * device, and must not be all on the CPU.
   */
  constructor(
    readonly graph: Graph,
    readonly config: TrainConfig,
    readonly placement: Placement,
    private readonly policy: PlacementPolicy,
    private readonly placeOptions: PlaceTrainingOptions,
  ) {
    this.device = singleDevice(placement);
    if (this.device === 'cpu')
      throw new WiregradError('DeviceTrainer: every node is on the CPU; use Trainer');
    const paramDevices = new Map<string, DeviceName>();
    for (const p of graph.parameters) paramDevices.set(p.id, placement.get(p.id) ?? 'cpu');
    this.trainer = new Trainer(graph, config, {
      device: this.device ?? 'cpu',
      ...(this.device === null ? { paramDevices } : {}),
    });
    this.dataInput = graph.inputs.find((n) => n.attrs['role'] === 'data')!.id;
    this.labelInput = graph.inputs.find((n) => n.attrs['role'] === 'label')!.id;
    const names = graph.outputs.map((o) => o.name);
    this.outputName = names.find((n) => n === 'logits' || n === 'output')!;
  }

  get params(): ReadonlyMap<string, Tensor> {
    return this.trainer.params;
  }

  /**
   * One optimisation step on a batch (on the CPU; keep it alive until this settles); resolves
   * once its loss is read back. Steps run in the order they are asked for.
   */
  step(x: Tensor, y: Tensor): Promise<DeviceStepResult> {
    if (this.device !== null) return this.trainer.stepQueuedWithAccuracy(x, y);
    const result = this.chain.then(() => this.placedStep(x, y));
    this.chain = result.catch(() => undefined);
    return result;
  }

  /**
   * `step` on one device, also measuring the L2 norm of the gradient that flows along every
   * forward edge u → v (the contributions v's ops pass back into u's value, as backward sums
   * them), computed on the device and read back with the loss in one read. Same step, same
   * numbers as `step`.
   */
  stepMeasuringEdges(
    x: Tensor,
    y: Tensor,
  ): Promise<DeviceStepResult & { readonly edges: readonly EdgeNorm[] }> {
    const device = this.device;
    if (device === null)
      throw new WiregradError('stepMeasuringEdges: the placement is mixed; use step');
    const trainer = this.trainer;
    const graph = this.graph;
    const edges: { from: string; to: string; port: number; at: number | null }[] = [];
    const values = tidy(() => {
      const label = uploadSync(y, device);
      const sources = graphSources(
        graph,
        { [this.dataInput]: uploadSync(x, device), [this.labelInput]: label },
        { params: trainer.params },
      );
      const { values: nodes, owner } = evaluateOwned(graph, sources);
      const loss = nodes.get(graph.outputs.find((o) => o.name === 'loss')!.node)!;
      trainer.optimizer.zeroGrad();
      const sums = backwardMeasuringEdges(loss, nodeOfValues(nodes), owner);
      trainer.optimizer.step();
      const logits = nodes.get(graph.outputs.find((o) => o.name === this.outputName)!.node)!;
      const out = [ops.detach(loss), ops.cast(correctCount(logits, label), 'f32')];
      for (const node of graph.nodes)
        node.inputs.forEach((from, port) => {
          const g = sums.get(edgeKey(from, node.id));
          edges.push({ from, to: node.id, port, at: g ? out.length : null });
          if (g) out.push(ops.sqrt(ops.sum(ops.mul(g, g))));
        });
      return ops.stack(out);
    });
    trainer.stepCount++;
    return values.data().then(
      (v) => {
        values.dispose();
        return {
          loss: v[0]!,
          correct: v[1]!,
          edges: edges.map(({ from, to, port, at }) => ({
            from,
            to,
            port,
            norm: at === null ? null : v[at]!,
          })),
        };
      },
      (e: unknown) => {
        values.dispose();
        throw e;
      },
    );
  }

  /** The current parameters, copied to the CPU (the caller owns the copies). */
  async readParams(): Promise<Map<string, Tensor>> {
    const out = new Map<string, Tensor>();
    try {
      for (const [id, p] of this.trainer.params) {
        const copy = await to(p, 'cpu');
        out.set(id, copy === p ? keep(tidy(() => ops.identity(p))) : keep(copy));
      }
    } catch (e) {
      dispose([...out.values()]);
      throw e;
    }
    return out;
  }

  /** The forward edges that cross devices, with bytes moved per step at `batch`. */
  transfers(batch: number): DeviceTransfer[] {
    return transfersOf(this.graph, this.placement, batch);
  }

  /** Frees the parameters, their gradients and the optimiser's state. */
  dispose(): void {
    this.trainer.optimizer.zeroGrad();
    this.trainer.optimizer.dispose();
    dispose([...this.trainer.params.values()]);
  }

  private planFor(batch: number): PlannedBatch {
    let planned = this.plans.get(batch);
    if (!planned) {
      const gradientGraph = differentiate(this.graph, { loss: 'loss', batch });
      const pins: Record<string, DeviceName> = {};
      // The forward nodes keep their ids and their devices; backward nodes follow the policy.
      for (const [id, device] of this.placement) if (gradientGraph.hasNode(id)) pins[id] = device;
      const placement = placeTraining(gradientGraph, this.policy, {
        ...this.placeOptions,
        pins,
        batch,
      });
      planned = { plan: planExecution(gradientGraph, placement), logitsOutput: this.outputName };
      this.plans.set(batch, planned);
    }
    return planned;
  }

  private async placedStep(x: Tensor, y: Tensor): Promise<DeviceStepResult> {
    const { plan, logitsOutput } = this.planFor(x.shape[0]!);
    const trainer = this.trainer;
    const out = await runPlan(
      plan,
      { [this.dataInput]: x, [this.labelInput]: y },
      { params: trainer.params },
    );
    const keepers = new Set<Tensor>();
    try {
      trainer.optimizer.zeroGrad();
      for (const [id, p] of trainer.params) {
        const grad = out[`grad:${id}`];
        if (!grad) continue;
        const g = await to(grad, p.device);
        p.grad = g;
        keepers.add(g);
      }
      trainer.optimizer.step();
      trainer.stepCount++;
      const logits = out[logitsOutput]!;
      const correct = tidy(() => correctCount(logits, uploadSync(y, logits.device)));
      try {
        const [loss] = await out['loss']!.data();
        const [count] = await correct.data();
        return { loss: loss!, correct: count! };
      } finally {
        correct.dispose();
      }
    } finally {
      for (const t of Object.values(out)) if (!keepers.has(t)) t.dispose();
    }
  }
}

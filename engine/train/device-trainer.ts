/**
 * Training a graph document under a device policy ('cpu', 'webgpu', 'auto') and the document's
 * per-node pins. `placeTraining` places the forward graph; `DeviceTrainer` then trains it in one
 * of two ways:
 *
 * - every node on one device other than the CPU: the ordinary `Trainer` with its parameters on
 *   that device, each step queued without waiting (`Trainer.stepQueuedWithAccuracy`) and its
 *   loss read back asynchronously;
 * - a mixed placement: the graph with its gradients (`trainingGradients`, placed-step.ts) is
 *   placed with the same policy and pins and run as a plan, whose cross-device edges are
 *   transfer nodes; each parameter's gradient is moved to the parameter's device and the
 *   configured optimiser steps there, and batch norm's running statistics are blended from the
 *   step's forward values. Gradient graphs are specialised to a batch size, so one is built per
 *   size met (and one more with the edges' gradient norms as outputs, for measured steps).
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
import { Graph } from '../graph/graph.js';
import type { GraphJSON } from '../graph/ir.js';
import { graphSources } from '../graph/run.js';
import * as ops from '../ops/index.js';
import { type CostModel } from '../placement/cost-model.js';
import { type Placement, type PlacementPolicy, placeGraph } from '../placement/place.js';
import { type PlacedPlan, planExecution } from '../placement/plan.js';
import { to } from '../runtime/devices.js';
import { ExecutionRecorder, type Phase } from '../runtime/events.js';
import { dispose, keep, tidy } from '../runtime/scope.js';
import type { Tensor } from '../tensor.js';
import { uploadSync } from './device.js';
import {
  type PlacedRunTiming,
  type TrainingGradients,
  blendPlacedRunningStats,
  runPlacedSteps,
  trainingGradients,
} from './placed-step.js';
import { applyRunningStats, isTrainable } from './running-stats.js';
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
 * The lanes timeline's row for ops queued on the GPU: lane 0 is the thread that dispatches
 * them (CPU ops run there), and the CPU's worker lanes are never used beside a GPU.
 */
export const GPU_QUEUE_LANE = 1;

/** The timeline lane of an op that ran on `device`, dispatched from executor lane `lane`. */
export const timelineLane = (device: DeviceName, lane: number): number =>
  device === 'webgpu' ? GPU_QUEUE_LANE : lane;

/** One op or transfer of a measured step on a mixed placement, for the lanes timeline. */
export interface StepEvent {
  /** The forward node, `grad:<node>` for its backward ops, `<node>@<device>` for a transfer. */
  readonly node: string;
  /** The op, or 'transfer'. */
  readonly op: string;
  readonly lane: number;
  readonly device: DeviceName;
  /** `performance.now()` ms; a GPU op's times are when it was queued. */
  readonly start: number;
  readonly end: number;
  readonly phase: Phase;
}

/** What a measured step reports: the step, each edge's gradient norm, and, when mixed, events. */
export interface MeasuredStepResult extends DeviceStepResult {
  readonly edges: readonly EdgeNorm[];
  /** The step's ops and transfers (mixed placements; on one device the caller records them). */
  readonly events?: readonly StepEvent[];
  /** When the step began to run (`performance.now()` ms), after the steps queued before it. */
  readonly startedAt?: number;
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
  readonly gradients: TrainingGradients;
}

/** Events kept from one measured step. */
const MAX_STEP_EVENTS = 4000;

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
    return this.queuePlaced(x, y, false);
  }

  /**
   * `step`, also measuring the L2 norm of the gradient that flows along every forward edge
   * u → v (the contributions v's ops pass back into u's value, as backward sums them),
   * computed where the step runs and read back with the loss. Same step, same numbers as
   * `step`. On a mixed placement it also returns the step's ops and transfers as `events`.
   */
  stepMeasuringEdges(x: Tensor, y: Tensor): Promise<MeasuredStepResult> {
    const device = this.device;
    if (device === null) return this.queuePlaced(x, y, true);
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
      // Batch norm's running statistics follow each training batch, as in Trainer.step.
      applyRunningStats(trainer.runningStats, nodes, trainer.params);
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

  /** Queues a placed step behind the ones before it (each awaits its transfers). */
  private queuePlaced(x: Tensor, y: Tensor, measure: true): Promise<MeasuredStepResult>;
  private queuePlaced(x: Tensor, y: Tensor, measure: false): Promise<DeviceStepResult>;
  private queuePlaced(x: Tensor, y: Tensor, measure: boolean): Promise<DeviceStepResult> {
    const result = this.chain.then(() => this.placedStep(x, y, measure));
    this.chain = result.catch(() => undefined);
    return result;
  }

  private planFor(batch: number, measure: boolean): PlannedBatch {
    const key = measure ? -batch : batch;
    let planned = this.plans.get(key);
    if (!planned) {
      const graph = this.graph;
      const gradients = trainingGradients(graph, {
        loss: 'loss',
        batch,
        wrt: graph.parameters.filter((p) => isTrainable(graph, p.id)).map((p) => p.id),
        measureEdges: measure,
        values: [...new Set(this.trainer.runningStats.map((s) => s.x))],
      });
      const pins: Record<string, DeviceName> = {};
      // The forward nodes keep their ids and their devices; backward nodes follow the policy.
      for (const [id, device] of this.placement) if (gradients.graph.hasNode(id)) pins[id] = device;
      const placement = placeTraining(gradients.graph, this.policy, {
        ...this.placeOptions,
        pins,
        batch,
      });
      planned = { plan: planExecution(gradients.graph, placement), gradients };
      this.plans.set(key, planned);
    }
    return planned;
  }

  private async placedStep(x: Tensor, y: Tensor, measure: boolean): Promise<MeasuredStepResult> {
    const startedAt = performance.now();
    const { plan, gradients } = this.planFor(x.shape[0]!, measure);
    const trainer = this.trainer;
    const timing: PlacedRunTiming | undefined = measure
      ? { recorder: new ExecutionRecorder({ capacity: MAX_STEP_EVENTS }), transfers: [] }
      : undefined;
    const out = await runPlacedSteps(
      plan,
      { [this.dataInput]: x, [this.labelInput]: y },
      trainer.params,
      timing,
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
      timing?.recorder.start();
      try {
        trainer.optimizer.step();
      } finally {
        timing?.recorder.stop();
      }
      trainer.stepCount++;
      await blendPlacedRunningStats(
        trainer.runningStats,
        (id) => out[`value:${id}`],
        trainer.params,
      );
      const logits = out[this.outputName]!;
      const correct = tidy(() => correctCount(logits, uploadSync(y, logits.device)));
      let loss: number;
      let count: number;
      try {
        loss = (await out['loss']!.data())[0]!;
        count = (await correct.data())[0]!;
      } finally {
        correct.dispose();
      }
      if (!timing) return { loss, correct: count, edges: [] };
      return {
        loss,
        correct: count,
        edges: await readEdgeNorms(gradients, out),
        events: stepEvents(gradients, timing),
        startedAt,
      };
    } finally {
      for (const t of Object.values(out)) if (!keepers.has(t)) t.dispose();
    }
  }
}

/** The edges' gradient norms from a measured step's outputs: one read per device. */
async function readEdgeNorms(
  gradients: TrainingGradients,
  out: Readonly<Record<string, Tensor>>,
): Promise<EdgeNorm[]> {
  const byDevice = new Map<DeviceName, string[]>();
  for (const e of gradients.edges)
    if (e.output !== null) {
      const device = out[e.output]!.device;
      byDevice.set(device, [...(byDevice.get(device) ?? []), e.output]);
    }
  const norms = new Map<string, number>();
  for (const names of byDevice.values()) {
    const stacked = tidy(() => ops.stack(names.map((n) => ops.reshape(out[n]!, []))));
    try {
      const values = await stacked.data();
      names.forEach((n, i) => norms.set(n, values[i]!));
    } finally {
      stacked.dispose();
    }
  }
  return gradients.edges.map(({ from, to, port, output }) => ({
    from,
    to,
    port,
    norm: output === null ? null : norms.get(output)!,
  }));
}

/** A measured step's ops and transfers, named after the forward nodes they serve. */
function stepEvents(gradients: TrainingGradients, timing: PlacedRunTiming): StepEvent[] {
  const name = (id: string): string => gradients.origin.get(id) ?? id;
  const phaseOf = (node: string): Phase => (node.startsWith('grad:') ? 'backward' : 'forward');
  const ops: StepEvent[] = timing.recorder.events().map((e) => {
    const node = e.phase === 'optimizer' ? e.node : name(e.node);
    return {
      node,
      op: e.op,
      lane: timelineLane(e.device, e.lane),
      device: e.device,
      start: e.start,
      end: e.end,
      phase: e.phase === 'optimizer' ? 'optimizer' : phaseOf(node),
    };
  });
  // A transfer is queued on, or read back from, the device that is not the CPU.
  const transfers = timing.transfers.map((t): StepEvent => {
    const source = name(t.source);
    const device = t.to === 'cpu' ? t.from : t.to;
    return {
      node: `${source}@${t.to}`,
      op: 'transfer',
      lane: timelineLane(device, 0),
      device,
      start: t.start,
      end: t.end,
      phase: phaseOf(source),
    };
  });
  return [...ops, ...transfers].sort((a, b) => a.start - b.start);
}

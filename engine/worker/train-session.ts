/**
 * Training over the worker protocol, engine side. `TrainSession` owns one training run of a
 * graph document on a synthetic 2-D data set (spiral, moons, circles, xor, gaussians): a
 * `Trainer` (parameters, optimiser, schedule), a seeded loader, and a position (epoch, batch).
 * `step()` performs exactly one optimisation step, the same as `Trainer.step` (run the graph,
 * zero the gradients, backward, optimiser step), measuring through backward's contribution hook
 * the gradient flowing along every forward edge. Each step also reports each node's device and
 * the lanes timeline of its execution events. The inspection views' statistics (each edge's
 * gradient and activation statistics, the timeline, parameter histograms every few steps) are
 * collected on a few steps a second, within a small share of the training time (VIEW_BUDGET);
 * `viewStep` says which step they describe. `TrainRunner` plays a session in short chunks on
 * later tasks (so pause, step and stop messages interleave) and throttles progress messages to
 * about 30 a second. Besides classifiers, a session trains a regression (f32 labels: RMSE and R²
 * instead of accuracy) and a model without labels (loss only); see training-task.ts.
 */

import {
  backwardMeasuringEdges,
  edgeKey,
  evaluateOwned,
  nodeOfValues,
} from '../train/edge-gradients.js';
import { backward } from '../autograd/backward.js';
import type { DeviceName } from '../backend/backend.js';
import { WiregradError } from '../core/errors.js';
import { isFloat } from '../core/dtype.js';
import type { ClassificationSet } from '../data/synthetic.js';
import { circles, gaussians, moons, sine, spiral, xor } from '../data/synthetic.js';
import { DataLoader } from '../data/loader.js';
import { TensorDataset } from '../data/dataset.js';
import { Graph } from '../graph/graph.js';
import { graphSources } from '../graph/run.js';
import { ExecutionRecorder, tensorStats } from '../runtime/events.js';
import { dispose, keep, tidy } from '../runtime/scope.js';
import type { Tensor } from '../tensor.js';
import { Trainer, countCorrect, validateTrainConfig, type TrainConfig } from '../train/trainer.js';
import {
  DeviceTrainer,
  type DeviceStepResult,
  type DeviceTransfer,
  type StepEvent,
  placeTraining,
  timelineLane,
  singleDevice,
  splitPins,
} from '../train/device-trainer.js';
import { histogramOf } from './histograms.js';
import { applyRunningStats } from '../train/running-stats.js';
import { type TrainingDevices, preparedTrainingDevices } from './training-device.js';
import {
  type TargetScale,
  checkTaskData,
  reconstructionSets,
  regressionMetrics,
  targetsShapedForLabel,
  trainTaskOf,
  withReconstructionTarget,
} from './training-task.js';
import { LearnedViews } from './learned-views.js';
import { ReconstructionViews } from './reconstruction-views.js';
import {
  LaneGradients,
  type LaneSource,
  hostCores,
  AUTO_LANES_MIN_FLOPS_PER_OP,
  flopsPerOp,
  laneCount,
  workerLanesFor,
} from './lane-training.js';
import type {
  DatasetName,
  EdgeGradient,
  HistogramSnapshot,
  TrainProgress,
  TrainSessionConfig,
  TrainStatus,
  TrainTask,
  TimelineEntry,
} from '../protocol/messages.js';

export const DATASETS: readonly DatasetName[] = [
  'spiral',
  'moons',
  'circles',
  'xor',
  'gaussians',
  'sine',
];

/** Makes a named data set of n points (`sine`: f32 targets [n, 1] to predict, no classes). */
export function makeDataset(name: DatasetName, n: number, seed: number): ClassificationSet {
  switch (name) {
    case 'spiral':
      return spiral(n, { seed });
    case 'moons':
      return moons(n, { seed });
    case 'circles':
      return circles(n, { seed });
    case 'xor':
      return xor(n, { seed, noise: 0.1 });
    case 'gaussians':
      return gaussians(n, { seed });
    case 'sine':
      return { ...sine(n, { seed }), classes: 0 };
    case 'mnist':
      throw new WiregradError(
        "the 'mnist' digits are read from the app's digits file: pass them as the session's data",
      );
    default:
      throw new WiregradError(
        `unknown data set '${String(name satisfies never)}'; use one of ${DATASETS.join(', ')}`,
      );
  }
}

/** The trainer's config from the protocol's flatter one, checked. */
export function trainConfigFrom(c: TrainSessionConfig): TrainConfig {
  return validateTrainConfig({
    epochs: c.epochs,
    batchSize: c.batchSize,
    seed: c.seed,
    optimizer: {
      type: c.optimizer,
      lr: c.lr,
      ...(c.momentum !== undefined ? { momentum: c.momentum } : {}),
    },
  });
}

/** What one step measured. */
interface StepSummary {
  readonly loss: number;
  readonly accuracy: number;
  readonly edges: readonly EdgeGradient[];
  readonly devices: Readonly<Record<string, string>>;
  readonly timeline: readonly TimelineEntry[];
  readonly ms: number;
  /** The step whose edges and timeline these are (the last step that collected them). */
  readonly viewStep: number;
  /** That step's batch loss and accuracy, where known. */
  readonly viewMetrics?: { readonly loss: number; readonly accuracy: number };
}

const MAX_TIMELINE = 2000;
/** How often a session on a device copies its parameters back for the views (ms). */
const MIRROR_INTERVAL_MS = 250;
/**
 * How often a running session on a device measures the views (ms): a measured step queues many
 * more small GPU ops than a plain one.
 */
const DEVICE_VIEW_INTERVAL_MS = 200;
/** Device steps kept in flight: one computing while the previous one's loss is read. */
const QUEUE_DEPTH = 2;
/** Parameter histograms are taken every this many steps by default (and after the first). */
export const HISTOGRAM_EVERY = 10;
/** How often a running session collects the views' statistics by default (ms). */
export const VIEW_INTERVAL_MS = 30;
/** The share of training time the views' statistics may take while a session runs. */
export const VIEW_BUDGET = 0.02;

export class TrainSession {
  readonly graph: Graph;
  readonly config: TrainConfig;
  readonly dataset: DatasetName;
  private trainer: Trainer;
  private readonly train: ClassificationSet;
  private readonly validation: ClassificationSet;
  private readonly loader: DataLoader;
  private readonly lossNode: string;
  private readonly outputNode: string;
  private readonly dataId: string;
  private readonly labelId: string;
  private readonly validateEvery: number;
  private readonly recorder = new ExecutionRecorder({ capacity: MAX_TIMELINE });
  /** Decision boundary, confusion matrix and predictions on the current weights. */
  readonly learned: LearnedViews;
  private epoch = 0;
  private batch = 0;
  private last: StepSummary | null = null;
  private validationResult: TrainProgress['validation'] = null;
  /**
   * What the session learns (training-task.ts): accuracy, the class views and predictions are
   * a classifier's; a regression reports RMSE and R² on validation, a reconstruction its loss.
   */
  readonly task: TrainTask;
  /** A regression target's standardisation, for metrics in its own units. */
  private readonly targetScale: TargetScale;
  /**
   * Whether steps collect what the live views show (edge gradients and activations, the
   * timeline, histograms); off, a step is the bare Trainer step (for measuring their cost).
   */
  private readonly views: boolean;
  private readonly histogramEvery: number;
  private histograms: HistogramSnapshot | null = null;
  private readonly viewIntervalMs: number;
  /** When the next step collects the views' statistics (performance.now() ms). */
  private nextViewAt = -Infinity;
  /** Mean time of recent steps that collected none (ms), for the views' budget. */
  private plainMs: number | null = null;
  /** Mean step time (ms), for the time-remaining estimate. */
  private meanMs = 0;

  constructor(
    graphJSON: unknown,
    dataset: DatasetName,
    config: TrainSessionConfig,
    options: {
      readonly size?: number;
      /** The training and validation sets, instead of making the named synthetic set. */
      readonly data?: {
        readonly train: ClassificationSet;
        readonly validation: ClassificationSet;
        /** A regression target's standardisation (csv-training.ts). */
        readonly targetScale?: TargetScale;
      };
      readonly validateEvery?: number;
      /** Collect the views' statistics (default true); see `views`. */
      readonly views?: boolean;
      /** Take parameter histograms at most every this many steps (default HISTOGRAM_EVERY). */
      readonly histogramEvery?: number;
      /**
       * Collect the views' statistics at most this often while training runs (ms; default
       * VIEW_INTERVAL_MS, about as often as progress is sent; 0: every step).
       */
      readonly viewIntervalMs?: number;
      /** Where the session may run (default: what the worker prepared for the policy). */
      readonly devices?: TrainingDevices;
      /**
       * The CPU lanes to train on (default: this worker's pool when the host shares memory and
       * the config asks for 2 or more lanes); null trains on one thread.
       */
      readonly lanes?: LaneSource | null;
      /**
       * Parameter values to start from instead of the seeded ones (a weights file's; checked
       * against the graph by the caller). The session owns them from now on.
       */
      readonly weights?: ReadonlyMap<string, Tensor>;
    } = {},
  ) {
    if (!DATASETS.includes(dataset) && !options.data)
      throw new WiregradError(`unknown data set '${dataset}'; use one of ${DATASETS.join(', ')}`);
    // Pins in the document go to placement; the graph itself makes its values on the CPU.
    const { graph, pins } = splitPins(graphJSON);
    this.task = trainTaskOf(graph);
    // A model that learns without labels gets a label input its loss does not read.
    this.graph = this.task === 'reconstruction' ? withReconstructionTarget(graph) : graph;
    this.config = trainConfigFrom(config);
    this.dataset = dataset;
    this.targetScale = options.data?.targetScale ?? { mean: 0, std: 1 };
    const size = options.size ?? 300;
    let sets = options.data ?? {
      train: makeDataset(dataset, size, this.config.seed),
      validation: makeDataset(dataset, Math.max(30, size >> 2), this.config.seed + 1),
    };
    if (this.task === 'reconstruction') sets = reconstructionSets(sets);
    else
      try {
        // A built-in regression set's targets [n, 1] go flat for a label input [N].
        if (!options.data) sets = targetsShapedForLabel(this.graph, sets);
        checkTaskData(this.graph, this.task, sets, `the '${dataset}' data set`);
      } catch (e) {
        dispose([sets.train.x, sets.train.y, sets.validation.x, sets.validation.y]);
        throw e;
      }
    if (options.weights) this.graph.adoptParameters(options.weights);
    this.trainer = new Trainer(this.graph, this.config);
    this.train = keepSet(sets.train);
    this.validation = keepSet(sets.validation);
    this.loader = new DataLoader(new TensorDataset(this.train.x, this.train.y), {
      batchSize: this.config.batchSize,
      shuffle: true,
      seed: this.config.seed,
    });
    const out = (name: string): string | undefined =>
      this.graph.outputs.find((o) => o.name === name)?.node;
    this.lossNode = out('loss')!;
    this.outputNode = (out('logits') ?? out('output'))!;
    this.dataId = this.graph.inputs.find((n) => n.attrs['role'] === 'data')!.id;
    this.labelId = this.graph.inputs.find((n) => n.attrs['role'] === 'label')!.id;
    this.validateEvery = options.validateEvery ?? this.loader.length;
    // A model without labels answers "try the model" with its reconstruction.
    const Views = this.task === 'reconstruction' ? ReconstructionViews : LearnedViews;
    this.learned = new Views({
      graph: this.graph,
      params: () => this.trainer.params,
      stepCount: () => this.stepCount,
      validationStep: () => this.validationResult?.step ?? null,
      train: this.train,
      validation: this.validation,
      targetScale: this.targetScale,
    });
    this.views = options.views ?? true;
    this.histogramEvery = Math.max(1, Math.floor(options.histogramEvery ?? HISTOGRAM_EVERY));
    this.viewIntervalMs = Math.max(0, options.viewIntervalMs ?? VIEW_INTERVAL_MS);
    this.placeOnDevices(pins, options.devices ?? preparedTrainingDevices(config.device ?? 'cpu'));
    this.useLanes(
      options.lanes === undefined ? workerLanesFor(config.lanes) : options.lanes,
      config,
    );
    // Weights from a file: show how well they do before any step.
    if (options.weights) this.validate();
  }

  get stepCount(): number {
    return this.trainer.stepCount;
  }

  get totalSteps(): number {
    return this.config.epochs * this.loader.length;
  }

  get done(): boolean {
    return this.stepCount >= this.totalSteps;
  }

  /** The indices of the batch the next step trains on. */
  nextBatchIndices(): number[] {
    return this.loader.batchIndices(this.epoch)[this.batch]!;
  }

  /** The parameter values (the session's own tensors; do not dispose). */
  get params(): ReadonlyMap<string, Tensor> {
    return this.trainer.params;
  }

  /**
   * Exactly one optimisation step on the next batch. It collects the views' statistics when
   * `viewIntervalMs` has passed since the last step that did, or when `observe` asks for them
   * (a single step from the UI); the others are bare Trainer steps, which keeps the views'
   * cost to a few steps a second whatever the training speed.
   */
  step(observe = false): void {
    if (this.device)
      throw new WiregradError('this session trains on WebGPU or several devices: use queueStep');
    if (this.done)
      throw new WiregradError(
        `training is complete (${this.totalSteps} steps); reset the session to train again`,
      );
    const indices = this.nextBatchIndices();
    const t0 = performance.now();
    const instrument = this.instrumentNow(observe, t0);
    if (instrument) this.recorder.clear().start();
    let summary: Omit<StepSummary, 'timeline' | 'ms' | 'viewStep'>;
    try {
      summary = tidy(() => this.instrumentedStep(indices, instrument));
    } finally {
      if (instrument) this.recorder.stop();
    }
    this.finishStep(summary, instrument, t0, t0);
  }

  /** Whether a step starting at `t0` collects the views' statistics (see `step`). */
  private instrumentNow(observe: boolean, t0: number): boolean {
    // The last step is always measured, so a finished run shows its final state.
    const last = this.stepCount + 1 === this.totalSteps;
    return this.views && (observe || last || t0 >= this.nextViewAt);
  }

  /**
   * A CPU step's bookkeeping once its update is applied: the summary, the timeline (events
   * recorded since `timelineT0`), histograms, the views' budget, the position and validation.
   */
  private finishStep(
    summary: Omit<StepSummary, 'timeline' | 'ms' | 'viewStep'>,
    instrument: boolean,
    t0: number,
    timelineT0: number,
    /** The phase of a timeline entry's node, where the events do not know it. */
    phaseOf?: (node: string) => TimelineEntry['phase'],
  ): void {
    const ms = performance.now() - t0;
    if (!instrument)
      this.plainMs = this.plainMs === null ? ms : this.plainMs + (ms - this.plainMs) / 20;
    const timeline = (instrument ? this.recorder.events() : []).map((e): TimelineEntry => ({
      node: e.node,
      op: e.op,
      lane: e.lane,
      device: e.device,
      start: e.start - timelineT0,
      end: e.end - timelineT0,
      phase: phaseOf && e.phase === 'forward' ? phaseOf(e.node) : e.phase,
    }));
    this.trainer.stepCount++;
    const n = this.trainer.stepCount;
    if (instrument && n - (this.histograms?.step ?? -Infinity) >= this.histogramEvery)
      this.histograms = this.snapshot();
    // The next measured step waits at least viewIntervalMs, and long enough for this one's
    // extra time (timeline and histograms included) to stay within VIEW_BUDGET of the
    // training time in between.
    if (instrument) {
      const extra = performance.now() - t0 - (this.plainMs ?? ms);
      this.nextViewAt = t0 + Math.max(this.viewIntervalMs, extra / VIEW_BUDGET);
    }
    this.meanMs = n === 1 ? ms : this.meanMs + (ms - this.meanMs) / Math.min(n, 20);
    const previous = this.last;
    this.last =
      instrument || !previous
        ? {
            ...summary,
            timeline,
            ms,
            viewStep: n,
            viewMetrics: { loss: summary.loss, accuracy: summary.accuracy },
          }
        : {
            ...summary,
            edges: previous.edges,
            timeline: previous.timeline,
            ms,
            viewStep: previous.viewStep,
            ...(previous.viewMetrics ? { viewMetrics: previous.viewMetrics } : {}),
          };
    if (++this.batch >= this.loader.length) {
      this.batch = 0;
      this.epoch++;
      this.trainer.endEpoch();
    }
    if (n % this.validateEvery === 0 || this.done) this.validate();
  }

  /** Loss and the task's metrics on the held-out set (accuracy, or RMSE and R²). */
  validate(): void {
    const r = this.trainer.evaluate(this.validation.x, this.validation.y);
    const regression =
      this.task === 'regression' && r.rmse !== undefined
        ? regressionMetrics(r.rmse, this.validation.y.dataSync() as Float32Array, this.targetScale)
        : {};
    this.validationResult = {
      step: this.stepCount,
      loss: r.loss,
      accuracy: this.task === 'classification' ? r.accuracy : NaN,
      ...regression,
    };
  }

  /** Back to step 0: parameters drawn again from their seeds, a fresh optimiser. */
  reset(): void {
    const old = [...this.trainer.params.values()];
    this.trainer.optimizer.zeroGrad();
    this.graph.initParameters({ reset: true });
    this.trainer = new Trainer(this.graph, this.config);
    dispose(old);
    this.epoch = 0;
    this.batch = 0;
    this.last = null;
    this.validationResult = null;
    this.histograms = null;
    this.nextViewAt = -Infinity;
    this.meanMs = 0;
    this.resetDevice();
  }

  /** Frees the data sets and parameters. */
  dispose(): void {
    dispose([this.train.x, this.train.y, this.validation.x, this.validation.y]);
    for (const p of this.trainer.params.values()) {
      p.grad?.dispose();
      p.grad = null;
    }
    this.trainer.optimizer.zeroGrad();
    this.disposeDevice();
  }

  progress(status: TrainStatus): TrainProgress {
    const s = this.last;
    return {
      status,
      ...(this.task !== 'classification' ? { task: this.task } : {}),
      step: this.stepCount,
      totalSteps: this.totalSteps,
      epoch: this.epoch,
      epochs: this.config.epochs,
      loss: s?.loss ?? null,
      accuracy: this.task === 'classification' ? (s?.accuracy ?? null) : null,
      validation: this.validationResult,
      stepMs: s?.ms ?? null,
      remainingMs: this.stepCount > 0 ? (this.totalSteps - this.stepCount) * this.meanMs : null,
      edges: s?.edges ?? [],
      devices: s?.devices ?? {},
      timeline: s?.timeline ?? [],
      ...(this.views ? this.learned.collect(status) : {}),
      ...(this.views
        ? {
            histograms: this.histograms,
            viewStep: s?.viewStep ?? null,
            viewMetrics: s?.viewMetrics ?? null,
          }
        : {}),
      ...(this.transfers.length > 0 ? { transfers: this.transfers } : {}),
      ...(this.deviceNote !== null || this.lanesNote !== null
        ? { deviceNote: [this.deviceNote, this.lanesNote].filter((n) => n !== null).join('; ') }
        : {}),
      ...(this.lanes !== null ? { lanes: this.lanesInUse } : {}),
    };
  }

  // ---- on WebGPU or a mixed placement: asynchronous steps (engine/train/device-trainer.ts) ----

  /** Trains on WebGPU or a mixed placement; null on the CPU alone (the synchronous `step`). */
  private device: DeviceTrainer | null = null;
  private deviceArgs: ConstructorParameters<typeof DeviceTrainer> | null = null;
  private transfers: readonly DeviceTransfer[] = [];
  private deviceNote: string | null = null;
  private placedDevices: Readonly<Record<string, string>> = {};
  /** Steps whose batch was taken, and those of them not read back yet. */
  private queuedSteps = 0;
  private inFlight = 0;
  private flight: Promise<unknown> = Promise.resolve();
  private lastSettled: number | null = null;
  /** When the CPU copy of the parameters (what the views and validation read) is next due. */
  private nextMirrorAt = -Infinity;
  /** When a device step next records its timeline. */
  private nextDeviceView = -Infinity;

  /** Whether CPU steps run on lanes (asynchronously, one at a time). */
  get onLanes(): boolean {
    return this.device === null && this.lanes !== null;
  }

  /** Whether steps are asynchronous: `queueStep`, not `step`. */
  get asynchronous(): boolean {
    return this.device !== null || this.lanes !== null;
  }

  /** Steps queued and not yet read back. */
  get inFlightSteps(): number {
    return this.inFlight;
  }

  /** Whether every step of the run has been taken or queued. */
  get allQueued(): boolean {
    return (this.device ? this.queuedSteps : this.stepCount + this.inFlight) >= this.totalSteps;
  }

  /** Settles once every queued step has been read back. */
  idle(): Promise<void> {
    return this.flight.then(
      () => undefined,
      () => undefined,
    );
  }

  /**
   * Queues exactly one optimisation step on the next batch; resolves once its loss is read
   * back and the session shows it. On the CPU alone it is `step`.
   */
  queueStep(observe = false): Promise<void> {
    const device = this.device;
    if (!device && this.lanes) return this.queueLaneStep(this.lanes, observe);
    if (!device) {
      this.step(observe);
      return Promise.resolve();
    }
    if (this.allQueued)
      throw new WiregradError(
        `training is complete (${this.totalSteps} steps); reset the session to train again`,
      );
    const batch = new TensorDataset(this.train.x, this.train.y).getBatch(this.nextBatchIndices());
    this.queuedSteps++;
    this.inFlight++;
    if (++this.batch >= this.loader.length) {
      this.batch = 0;
      this.epoch++;
      device.trainer.endEpoch();
    }
    // On one device the whole step is queued now: its ops' events make the lanes timeline,
    // and the gradients along the edges are measured on the device. A mixed placement's step
    // awaits its transfers, so it records its own events and returns them.
    const t0 = performance.now();
    const record = this.views && (observe || t0 >= this.nextDeviceView);
    const recordHere = record && device.device !== null;
    if (record) this.nextDeviceView = t0 + Math.max(this.viewIntervalMs, DEVICE_VIEW_INTERVAL_MS);
    if (recordHere) this.recorder.clear().start();
    let run: Promise<
      DeviceStepResult & {
        readonly edges?: readonly EdgeGradient[];
        readonly events?: readonly StepEvent[];
        readonly startedAt?: number;
      }
    >;
    try {
      run = record ? device.stepMeasuringEdges(batch.x, batch.y) : device.step(batch.x, batch.y);
    } catch (e) {
      dispose(batch);
      this.inFlight--;
      throw e;
    } finally {
      if (recordHere) this.recorder.stop();
    }
    const entry = (e: StepEvent, from = t0): TimelineEntry => ({
      node: e.node,
      op: e.op,
      lane: timelineLane(e.device, e.lane),
      device: e.device,
      start: e.start - from,
      end: e.end - from,
      phase: e.phase,
    });
    const timeline = recordHere ? this.recorder.events().map((e) => entry(e)) : null;
    // Results are applied in order, each after the one before has finished (it may await a
    // copy of the parameters for validation).
    const previous = this.flight;
    const applied = run
      .then(async (r) => {
        await previous;
        await this.applyDeviceStep(device, r, {
          size: batch.y.shape[0]!,
          observe,
          t0,
          // A placed step's times count from when it began, after the steps before it.
          timeline: timeline ?? r.events?.map((e) => entry(e, r.startedAt)) ?? null,
        });
      })
      .finally(() => {
        dispose(batch);
        this.inFlight--;
      });
    this.flight = applied.catch(() => undefined);
    return applied;
  }

  private placeOnDevices(pins: Readonly<Record<string, DeviceName>>, devices: TrainingDevices) {
    const usable = devices.webgpu
      ? pins
      : Object.fromEntries(Object.entries(pins).filter(([, d]) => d !== 'webgpu'));
    const options = {
      pins: usable,
      batch: this.config.batchSize,
      ...(devices.costModel ? { costModel: devices.costModel } : {}),
    };
    const placement = placeTraining(this.graph, devices.policy, options);
    this.deviceNote = devices.note;
    if (singleDevice(placement) === 'cpu') return;
    // Its own copy of the graph: its parameters are its own, the session's are CPU copies.
    this.deviceArgs = [
      Graph.fromJSON(this.graph.toJSON()),
      this.config,
      placement,
      devices.policy,
      options,
    ];
    this.device = new DeviceTrainer(...this.deviceArgs);
    this.transfers = this.device.transfers(this.config.batchSize);
    this.placedDevices = Object.fromEntries(
      this.graph.nodes.map((n) => [n.id, placement.get(n.id)!]),
    );
  }

  private async applyDeviceStep(
    device: DeviceTrainer,
    r: DeviceStepResult & { readonly edges?: readonly EdgeGradient[] },
    step: {
      readonly size: number;
      readonly observe: boolean;
      /** When it was queued. */
      readonly t0: number;
      readonly timeline: readonly TimelineEntry[] | null;
    },
  ): Promise<void> {
    if (device !== this.device) return; // reset meanwhile
    const { size, observe, t0, timeline } = step;
    this.trainer.stepCount++;
    const n = this.stepCount;
    const now = performance.now();
    // Steps overlap: a step's time is from the previous result (or its queueing) to its own.
    const ms = now - Math.max(t0, this.lastSettled ?? t0);
    this.lastSettled = now;
    this.meanMs = n === 1 ? ms : this.meanMs + (ms - this.meanMs) / Math.min(n, 20);
    this.last = {
      loss: r.loss,
      accuracy: r.correct / size,
      edges: r.edges ?? this.last?.edges ?? [],
      devices: this.placedDevices,
      timeline: timeline ?? this.last?.timeline ?? [],
      ms,
      viewStep: timeline !== null ? n : (this.last?.viewStep ?? n),
    };
    const validating = n % this.validateEvery === 0 || this.done;
    if (validating || observe || now >= this.nextMirrorAt) {
      const copies = await device.readParams();
      if (device !== this.device) return dispose([...copies.values()]);
      for (const [id, t] of copies) {
        this.trainer.params.get(id)?.dispose();
        this.trainer.params.set(id, t);
      }
      this.nextMirrorAt = performance.now() + MIRROR_INTERVAL_MS;
    }
    if (validating) this.validate();
  }

  /** Frees the device trainer's parameters and its graph's own CPU values. */
  private disposeDevice(): void {
    if (!this.device || !this.deviceArgs) return;
    this.device.dispose();
    dispose([...this.deviceArgs[0].initParameters().values()]);
  }

  private resetDevice(): void {
    if (!this.deviceArgs || !this.device) return;
    const [graph, ...rest] = this.deviceArgs;
    this.disposeDevice();
    // Its graph draws its parameters again from their seeds.
    this.device = new DeviceTrainer(graph, ...rest);
    this.queuedSteps = 0;
    this.lastSettled = null;
    this.nextMirrorAt = -Infinity;
  }

  // ---- on the CPU lanes: asynchronous steps (engine/worker/lane-training.ts) ----

  /** The lanes this session trains on; null on one thread. */
  private lanes: LaneSource | null = null;
  private laneGradients: LaneGradients | null = null;
  /** How many lanes a step may use, and how many it used last (1 until the pool is up). */
  private lanesWanted = 1;
  private lanesInUse = 1;
  private lanesNote: string | null = null;

  private useLanes(source: LaneSource | null, config: TrainSessionConfig): void {
    // Devices other than the CPU run their own way; lanes are for the CPU step.
    if (source === null || this.device !== null) return;
    const wanted = laneCount(config.lanes, hostCores());
    const auto = config.lanes === undefined || config.lanes === 'auto';
    if (wanted < 2 && !auto) return;
    if (auto) {
      const perOp = flopsPerOp(this.graph, config.batchSize);
      if (perOp < AUTO_LANES_MIN_FLOPS_PER_OP) {
        this.lanesNote =
          `CPU lanes (auto): one thread, since this model's ops are small (about ` +
          `${Math.round(perOp / 1000)} kFLOP each at batch ${config.batchSize}); choose a ` +
          `lane count to run its branches side by side anyway`;
        return;
      }
    }
    this.lanes = source;
    this.lanesWanted = config.lanes === undefined || config.lanes === 'auto' ? Infinity : wanted;
    const output = this.graph.outputs.find((o) => o.name === 'logits' || o.name === 'output');
    this.laneGradients = new LaneGradients(
      this.graph,
      { data: this.dataId, label: this.labelId, loss: 'loss', output: output!.name },
      this.trainer.runningStats,
    );
  }

  /** Queues one step on the lanes behind the steps already queued (each reads the last's weights). */
  private queueLaneStep(source: LaneSource, observe: boolean): Promise<void> {
    if (this.allQueued)
      throw new WiregradError(
        `training is complete (${this.totalSteps} steps); reset the session to train again`,
      );
    this.inFlight++;
    const applied = this.flight
      .then(() => this.laneStep(source, observe))
      .finally(() => {
        this.inFlight--;
      });
    this.flight = applied.catch(() => undefined);
    return applied;
  }

  /**
   * One step with its forward and backward on the lanes and the optimiser here. A step that
   * collects the views first measures the edges on this thread (forward and backward on the
   * tape, without updating), then runs the step on the lanes for the timeline.
   */
  private async laneStep(source: LaneSource, observe: boolean): Promise<void> {
    const pool = await source.pool();
    if (this.done) return;
    if (pool === null || pool.closed) {
      this.lanesNote = source.note;
      this.lanesInUse = 1;
      return this.step(observe);
    }
    const indices = this.nextBatchIndices();
    const t0 = performance.now();
    const instrument = this.instrumentNow(observe, t0);
    const measured = instrument ? tidy(() => this.instrumentedStep(indices, true, false)) : null;
    const trainer = this.trainer;
    trainer.optimizer.zeroGrad();
    const batch = new TensorDataset(this.train.x, this.train.y).getBatch(indices);
    const timelineT0 = performance.now();
    if (instrument) this.recorder.clear().start();
    let loss: number;
    let accuracy: number;
    try {
      const lanes = Math.min(this.lanesWanted, pool.size);
      const out = await this.laneGradients!.run(pool, lanes, batch.x, batch.y, trainer.params);
      this.lanesInUse = lanes;
      try {
        for (const [id, p] of trainer.params) {
          const g = out.grads.get(id);
          if (g) p.grad = g;
          out.grads.delete(id);
        }
        trainer.optimizer.step();
        loss = out.loss.item();
        accuracy =
          batch.y.dtype === 'i32' && out.output.rank === 2
            ? countCorrect(out.output, batch.y) / batch.y.shape[0]!
            : NaN;
      } finally {
        dispose([out.loss, out.output, ...out.grads.values()]);
      }
    } finally {
      if (instrument) this.recorder.stop();
      dispose(batch);
    }
    const devices: Record<string, string> = {};
    for (const node of this.graph.nodes) devices[node.id] = 'cpu';
    const summary = measured
      ? { ...measured, loss, accuracy }
      : { loss, accuracy, edges: [], devices };
    this.finishStep(summary, instrument, t0, timelineT0, (node) =>
      this.laneGradients!.phaseOf(node),
    );
  }

  /** Histograms of every parameter and its gradient, now. */
  private snapshot(): HistogramSnapshot {
    const params = [...this.trainer.params].map(([param, p]) => ({
      param,
      weights: histogramOf(p.dataSync()),
      grads: p.grad && !p.grad.isDisposed ? histogramOf(p.grad.dataSync()) : null,
    }));
    return { step: this.stepCount, params };
  }

  private instrumentedStep(
    indices: number[],
    views: boolean,
    /** False: forward and backward only, leaving the gradients for the caller to apply. */
    update = true,
  ): Omit<StepSummary, 'timeline' | 'ms' | 'viewStep'> {
    const batch = new TensorDataset(this.train.x, this.train.y).getBatch(indices);
    const sources = graphSources(
      this.graph,
      { [this.dataId]: batch.x, [this.labelId]: batch.y },
      { params: this.trainer.params },
    );
    // Which node each op output belongs to is recorded only for the views.
    const { values, owner } = evaluateOwned(this.graph, sources, views);
    const loss = values.get(this.lossNode)!;
    this.trainer.optimizer.zeroGrad();
    let edgeGrads = new Map<string, Tensor>();
    // A step without views is the Trainer's: plain backward, no edge measurement.
    if (loss.requiresGrad && views)
      edgeGrads = backwardMeasuringEdges(loss, nodeOfValues(values), owner);
    else if (loss.requiresGrad) backward(loss);
    if (update) this.trainer.optimizer.step();
    // Batch norm's running statistics follow each training batch, as in Trainer.step.
    if (update) applyRunningStats(this.trainer.runningStats, values, this.trainer.params);

    const edges: EdgeGradient[] = [];
    // Activation statistics once per value, however many edges carry it.
    const activations = new Map<string, EdgeGradient['activation']>();
    const activationOf = (from: string): EdgeGradient['activation'] => {
      if (!activations.has(from)) {
        const t = values.get(from);
        activations.set(from, t && isFloat(t.dtype) ? tensorStats(t) : null);
      }
      return activations.get(from);
    };
    if (views)
      for (const node of this.graph.nodes)
        node.inputs.forEach((from, port) => {
          const g = edgeGrads.get(edgeKey(from, node.id));
          const grad = g ? tensorStats(g) : null;
          const activation = activationOf(from);
          edges.push({ from, to: node.id, port, norm: grad ? grad.l2 : null, grad, activation });
        });
    const devices: Record<string, string> = {};
    for (const [id, t] of values) devices[id] = t.device;
    const logits = values.get(this.outputNode)!;
    const accuracy =
      batch.y.dtype === 'i32' && logits.rank === 2
        ? countCorrect(logits, batch.y) / batch.y.shape[0]!
        : NaN;
    return { loss: loss.item(), accuracy, edges, devices };
  }
}

function keepSet(set: ClassificationSet): ClassificationSet {
  keep(set.x);
  keep(set.y);
  return set;
}

/** Runs a session in chunks on later tasks, throttling progress; see the file comment. */
export class TrainRunner {
  private running = false;
  private stopped = false;
  private failure: string | null = null;
  private lastEmit = -Infinity;
  private scheduled = false;

  constructor(
    readonly session: TrainSession,
    private readonly emit: (progress: TrainProgress) => void,
    private readonly schedule: (task: () => void) => void,
    private readonly options: { readonly chunkMs?: number; readonly minIntervalMs?: number } = {},
  ) {}

  get status(): TrainStatus {
    if (this.failure !== null) return 'failed';
    if (this.stopped) return 'stopped';
    if (this.session.done) return 'done';
    return this.running ? 'running' : 'paused';
  }

  play(): void {
    if (this.stopped || this.session.done) return;
    this.running = true;
    this.kick();
  }

  pause(): void {
    if (!this.running) return;
    this.running = false;
    // A step on the lanes still running reports the pause as it settles, with its own count.
    if (this.session.onLanes && this.session.inFlightSteps > 0) return;
    this.send();
  }

  /** Pauses, then performs exactly one step. */
  stepOnce(): void {
    this.running = false;
    if (this.stopped) throw new WiregradError('training was stopped; start a new session');
    if (this.session.asynchronous) {
      // Its progress goes out once its loss is read back.
      this.session.queueStep(true).then(
        () => this.settled(),
        (e: unknown) => this.fail(e),
      );
      return;
    }
    this.session.step(true);
    this.send();
  }

  stop(): void {
    if (this.stopped) return;
    this.running = false;
    this.stopped = true;
    this.send();
    if (this.session.asynchronous) void this.session.idle().then(() => this.session.dispose());
    else this.session.dispose();
  }

  reset(): void {
    if (this.stopped) throw new WiregradError('training was stopped; start a new session');
    this.running = false;
    this.failure = null;
    if (this.session.asynchronous) {
      void this.session.idle().then(() => {
        if (this.stopped) return;
        this.session.reset();
        this.send();
      });
      return;
    }
    this.session.reset();
    this.send();
  }

  progress(): TrainProgress {
    const p = this.session.progress(this.status);
    return this.failure !== null ? { ...p, error: this.failure } : p;
  }

  private kick(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => {
      this.scheduled = false;
      this.tick();
    });
  }

  private tick(): void {
    if (!this.running || this.stopped) return;
    if (this.session.asynchronous) return this.tickQueued();
    const chunk = this.options.chunkMs ?? 12;
    const start = performance.now();
    try {
      do this.session.step();
      while (this.running && !this.session.done && performance.now() - start < chunk);
    } catch (e) {
      // Training stops at the error; the UI shows it with the last progress.
      this.running = false;
      this.failure = e instanceof Error ? e.message : String(e);
      this.send();
      return;
    }
    const now = performance.now();
    if (this.session.done) {
      this.running = false;
      this.send();
      return;
    }
    if (now - this.lastEmit >= (this.options.minIntervalMs ?? 33)) this.send();
    this.kick();
  }

  /** Keeps up to QUEUE_DEPTH device steps in flight; the next tick comes as one settles. */
  private tickQueued(): void {
    const session = this.session;
    try {
      // Steps on lanes run one after another anyway: one in flight keeps pause exact.
      const depth = session.onLanes ? 1 : QUEUE_DEPTH;
      while (this.running && !session.allQueued && session.inFlightSteps < depth)
        session.queueStep().then(
          () => this.settled(),
          (e: unknown) => this.fail(e),
        );
    } catch (e) {
      this.fail(e);
    }
  }

  /** A device step was read back: report it (throttled) and keep going. */
  private settled(): void {
    if (this.stopped || this.failure !== null) return;
    if (this.session.done) {
      this.running = false;
      this.send();
      return;
    }
    if (!this.running || performance.now() - this.lastEmit >= (this.options.minIntervalMs ?? 33))
      this.send();
    if (this.running) this.kick();
  }

  private fail(e: unknown): void {
    if (this.stopped || this.failure !== null) return;
    this.running = false;
    this.failure = e instanceof Error ? e.message : String(e);
    this.send();
  }

  private send(): void {
    this.lastEmit = performance.now();
    this.emit(this.progress());
  }
}

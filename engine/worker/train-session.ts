/**
 * Training over the worker protocol, engine side. `TrainSession` owns one training run of a
 * graph document on a synthetic 2-D data set (spiral, moons, circles, xor, gaussians): a
 * `Trainer` (parameters, optimiser, schedule), a seeded loader, and a position (epoch, batch).
 * `step()` performs exactly one optimisation step, the same as `Trainer.step` (run the graph,
 * zero the gradients, backward, optimiser step), measuring through backward's contribution hook
 * the gradient flowing along every forward edge. Each step also reports each node's device and
 * the lanes timeline of its execution events. `TrainRunner` plays a session in short chunks on
 * later tasks (so pause, step and stop messages interleave) and throttles progress messages to
 * about 30 a second.
 */

import { backward } from '../autograd/backward.js';
import { WiregradError } from '../core/errors.js';
import type { ClassificationSet } from '../data/synthetic.js';
import { circles, gaussians, moons, spiral, xor } from '../data/synthetic.js';
import { DataLoader } from '../data/loader.js';
import { TensorDataset } from '../data/dataset.js';
import { Graph } from '../graph/graph.js';
import { evaluateNodes, graphSources } from '../graph/run.js';
import * as ops from '../ops/index.js';
import { ExecutionRecorder, tensorStats } from '../runtime/events.js';
import { dispose, keep, tidy } from '../runtime/scope.js';
import { type OpObserver, state } from '../runtime/state.js';
import type { Tensor } from '../tensor.js';
import { Trainer, countCorrect, validateTrainConfig, type TrainConfig } from '../train/trainer.js';
import type {
  DatasetName,
  EdgeGradient,
  TrainProgress,
  TrainSessionConfig,
  TrainStatus,
  TimelineEntry,
} from '../protocol/messages.js';

export const DATASETS: readonly DatasetName[] = ['spiral', 'moons', 'circles', 'xor', 'gaussians'];

/** Makes a named data set of n points. */
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
}

const MAX_TIMELINE = 2000;

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
  private epoch = 0;
  private batch = 0;
  private last: StepSummary | null = null;
  private validationResult: { step: number; loss: number; accuracy: number } | null = null;
  /** Mean step time (ms), for the time-remaining estimate. */
  private meanMs = 0;

  constructor(
    graphJSON: unknown,
    dataset: DatasetName,
    config: TrainSessionConfig,
    options: { readonly size?: number; readonly validateEvery?: number } = {},
  ) {
    if (!DATASETS.includes(dataset))
      throw new WiregradError(`unknown data set '${dataset}'; use one of ${DATASETS.join(', ')}`);
    this.graph = Graph.fromJSON(graphJSON);
    this.config = trainConfigFrom(config);
    this.dataset = dataset;
    this.trainer = new Trainer(this.graph, this.config);
    const size = options.size ?? 300;
    this.train = keepSet(makeDataset(dataset, size, this.config.seed));
    this.validation = keepSet(makeDataset(dataset, Math.max(30, size >> 2), this.config.seed + 1));
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

  /** Exactly one optimisation step on the next batch. */
  step(): void {
    if (this.done)
      throw new WiregradError(
        `training is complete (${this.totalSteps} steps); reset the session to train again`,
      );
    const indices = this.nextBatchIndices();
    this.recorder.clear().start();
    const t0 = performance.now();
    let summary: Omit<StepSummary, 'timeline' | 'ms'>;
    try {
      summary = tidy(() => this.instrumentedStep(indices));
    } finally {
      this.recorder.stop();
    }
    const ms = performance.now() - t0;
    const timeline = this.recorder.events().map((e): TimelineEntry => ({
      node: e.node,
      op: e.op,
      lane: e.lane,
      device: e.device,
      start: e.start - t0,
      end: e.end - t0,
      phase: e.phase,
    }));
    this.trainer.stepCount++;
    const n = this.trainer.stepCount;
    this.meanMs = n === 1 ? ms : this.meanMs + (ms - this.meanMs) / Math.min(n, 20);
    this.last = { ...summary, timeline, ms };
    if (++this.batch >= this.loader.length) {
      this.batch = 0;
      this.epoch++;
      this.trainer.endEpoch();
    }
    if (n % this.validateEvery === 0 || this.done) this.validate();
  }

  /** Loss and accuracy on the held-out set. */
  validate(): void {
    const r = this.trainer.evaluate(this.validation.x, this.validation.y);
    this.validationResult = { step: this.stepCount, loss: r.loss, accuracy: r.accuracy };
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
    this.meanMs = 0;
  }

  /** Frees the data sets and parameters. */
  dispose(): void {
    dispose([this.train.x, this.train.y, this.validation.x, this.validation.y]);
    for (const p of this.trainer.params.values()) {
      p.grad?.dispose();
      p.grad = null;
    }
    this.trainer.optimizer.zeroGrad();
  }

  progress(status: TrainStatus): TrainProgress {
    const s = this.last;
    return {
      status,
      step: this.stepCount,
      totalSteps: this.totalSteps,
      epoch: this.epoch,
      epochs: this.config.epochs,
      loss: s?.loss ?? null,
      accuracy: s?.accuracy ?? null,
      validation: this.validationResult,
      stepMs: s?.ms ?? null,
      remainingMs: this.stepCount > 0 ? (this.totalSteps - this.stepCount) * this.meanMs : null,
      edges: s?.edges ?? [],
      devices: s?.devices ?? {},
      timeline: s?.timeline ?? [],
    };
  }

  private instrumentedStep(indices: number[]): Omit<StepSummary, 'timeline' | 'ms'> {
    const batch = new TensorDataset(this.train.x, this.train.y).getBatch(indices);
    // Which graph node each op's output belongs to (a composite's primitives included).
    const owner = new Map<Tensor, string>();
    let current = '';
    const observer: OpObserver = {
      onOp: (_def, _inputs, out) => {
        if (!out.isSymbolic) owner.set(out, current);
      },
    };
    const sources = graphSources(
      this.graph,
      { [this.dataId]: batch.x, [this.labelId]: batch.y },
      { params: this.trainer.params },
    );
    state.observers.push(observer);
    let values: Map<string, Tensor>;
    try {
      values = evaluateNodes(this.graph, sources, (node) => {
        current = node.id;
      });
    } finally {
      state.observers.splice(state.observers.indexOf(observer), 1);
    }
    const loss = values.get(this.lossNode)!;
    const nodeOf = new Map<Tensor, string>();
    for (const [id, t] of values) if (!nodeOf.has(t)) nodeOf.set(t, id);
    this.trainer.optimizer.zeroGrad();
    const edgeGrads = loss.requiresGrad
      ? backwardMeasuringEdges(loss, nodeOf, owner)
      : new Map<string, Tensor>();
    this.trainer.optimizer.step();

    const edges: EdgeGradient[] = [];
    for (const node of this.graph.nodes)
      node.inputs.forEach((from, port) => {
        const g = edgeGrads.get(edgeKey(from, node.id));
        edges.push({ from, to: node.id, port, norm: g ? tensorStats(g).l2 : null });
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

const edgeKey = (from: string, to: string): string => `${from}\u0000${to}`;

/**
 * `loss.backward()` after `zeroGrad`, also summing, per forward edge u → v, the contributions
 * that v's primitives pass into u's value: the gradient flowing along that edge. Backward's own
 * hook reports each contribution as it sums it, so these are backward's numbers. Run inside
 * `tidy`; the leaves' gradients are kept.
 */
function backwardMeasuringEdges(
  root: Tensor,
  nodeOf: ReadonlyMap<Tensor, string>,
  owner: ReadonlyMap<Tensor, string>,
): Map<string, Tensor> {
  const edges = new Map<string, Tensor>();
  backward(root, undefined, {
    onContribution: ({ consumer, input, contribution }) => {
      const from = nodeOf.get(input);
      const to = owner.get(consumer);
      if (from === undefined || to === undefined || from === to) return;
      const key = edgeKey(from, to);
      const sum = edges.get(key);
      // Backward frees a contribution once summed: keep a view (it shares, so holds, the storage).
      edges.set(key, sum ? ops.add(sum, contribution) : ops.identity(contribution));
      sum?.dispose();
    },
  });
  return edges;
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
    this.send();
  }

  /** Pauses, then performs exactly one step. */
  stepOnce(): void {
    this.running = false;
    if (this.stopped) throw new WiregradError('training was stopped; start a new session');
    this.session.step();
    this.send();
  }

  stop(): void {
    if (this.stopped) return;
    this.running = false;
    this.stopped = true;
    this.send();
    this.session.dispose();
  }

  reset(): void {
    if (this.stopped) throw new WiregradError('training was stopped; start a new session');
    this.running = false;
    this.failure = null;
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

  private send(): void {
    this.lastEmit = performance.now();
    this.emit(this.progress());
  }
}

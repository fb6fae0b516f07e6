/**
 * Training a graph document: the loop the CLI and the app share. A training graph has a `data`
 * input, a `label` input and two named outputs, `loss` (a scalar) and `logits` (or `output`).
 * Its parameters are materialised once from their seeded init rules; each `step` runs the graph
 * eagerly on one batch, backpropagates, and applies the optimiser, inside a memory scope so
 * that nothing leaks from step to step. `evaluate` measures loss and accuracy without
 * recording gradients.
 *
 * On a device other than the CPU (`{ device: 'webgpu' }`), parameters are uploaded there once
 * and batches are uploaded each step; results cannot be read synchronously, so `stepQueued`
 * queues a whole step (forward, backward, optimiser) without waiting and returns a promise of
 * its loss, read back asynchronously: the caller may queue the next step before the previous
 * loss has arrived, which keeps the GPU busy and the caller's event loop free.
 * `evaluateQueued` is `evaluate` with one asynchronous read at the end.
 */

import type { DeviceName } from '../backend/backend.js';
import { WiregradError } from '../core/errors.js';
import type { Graph } from '../graph/graph.js';
import { noGrad } from '../autograd/grad.js';
import { dispose, keep, tidy } from '../runtime/scope.js';
import type { Tensor } from '../tensor.js';
import * as ops from '../ops/index.js';
import { type Optimizer, SGD, Adam, AdamW } from '../optim/index.js';
import { CosineAnnealingLR, StepLR, type LRScheduler } from '../optim/index.js';
import { uploadSync } from './device.js';
import {
  type RunningStatsNode,
  isTrainable,
  runUpdatingStats,
  runningStatsNodes,
} from './running-stats.js';

export interface OptimizerConfig {
  readonly type: 'sgd' | 'adam' | 'adamw';
  readonly lr: number;
  readonly momentum?: number;
  readonly nesterov?: boolean;
  readonly weightDecay?: number;
}

export interface ScheduleConfig {
  readonly type: 'constant' | 'step' | 'cosine';
  readonly stepSize?: number;
  readonly gamma?: number;
  readonly etaMin?: number;
}

export interface TrainConfig {
  readonly epochs: number;
  readonly batchSize: number;
  readonly optimizer: OptimizerConfig;
  readonly schedule?: ScheduleConfig;
  readonly seed: number;
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  epochs: 10,
  batchSize: 32,
  optimizer: { type: 'adam', lr: 1e-3 },
  schedule: { type: 'constant' },
  seed: 0,
};

const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;
const SCHEDULES = ['constant', 'step', 'cosine'] as const;

function positive(name: string, value: unknown, integer: boolean): void {
  if (
    typeof value !== 'number' ||
    !Number.isFinite(value) ||
    value <= 0 ||
    (integer && !Number.isInteger(value))
  )
    throw new WiregradError(
      `training config: ${name} must be a positive ${integer ? 'integer' : 'number'}, got ` +
        `${JSON.stringify(value)}`,
    );
}

/** Checks a training config, naming the field that is wrong and the values it may take. */
export function validateTrainConfig(c: TrainConfig): TrainConfig {
  positive('epochs', c.epochs, true);
  positive('batchSize', c.batchSize, true);
  positive('optimizer.lr', c.optimizer.lr, false);
  if (!(OPTIMIZERS as readonly string[]).includes(c.optimizer.type))
    throw new WiregradError(
      `training config: optimizer.type '${String(c.optimizer.type)}' is not one of ` +
        `${OPTIMIZERS.join(', ')}`,
    );
  if (c.schedule && !(SCHEDULES as readonly string[]).includes(c.schedule.type))
    throw new WiregradError(
      `training config: schedule.type '${String(c.schedule.type)}' is not one of ` +
        `${SCHEDULES.join(', ')}`,
    );
  if (!Number.isInteger(c.seed) || c.seed < 0)
    throw new WiregradError(`training config: seed must be an integer >= 0, got ${c.seed}`);
  return c;
}

/** Reads a training config from a graph's `meta.training`, over the defaults, and checks it. */
export function trainConfigOf(graph: Graph, overrides: Partial<TrainConfig> = {}): TrainConfig {
  const meta = (graph.meta?.['training'] ?? {}) as Partial<TrainConfig>;
  return validateTrainConfig({
    ...DEFAULT_TRAIN_CONFIG,
    ...meta,
    ...overrides,
    optimizer: { ...DEFAULT_TRAIN_CONFIG.optimizer, ...meta.optimizer, ...overrides.optimizer },
  });
}

export interface EvalResult {
  readonly loss: number;
  /** Share of argmax predictions equal to the label; NaN for regression (f32 labels). */
  readonly accuracy: number;
  /** Number of examples evaluated. */
  readonly count: number;
  /** Root-mean-square error of the output against f32 labels (regression only). */
  readonly rmse?: number;
}

/**
 * How many rows of `logits` [N, C] have their argmax equal to the label, as an i32 scalar on
 * the logits' device (nothing is read); no gradients.
 */
export function correctCount(logits: Tensor, labels: Tensor): Tensor {
  return noGrad(() =>
    tidy(() => ops.sum(ops.cast(ops.equal(ops.argmax(logits, 1), labels), 'i32'))),
  );
}

/** How many rows of `logits` [N, C] have their argmax equal to the label; no gradients. */
export function countCorrect(logits: Tensor, labels: Tensor): number {
  return tidy(() => correctCount(logits, labels).item());
}

export interface TrainerOptions {
  /** Where parameters live and steps run (default 'cpu'); the device must be initialised. */
  readonly device?: DeviceName;
  /** Devices of single parameters, by node id, over `device` (a placed graph's). */
  readonly paramDevices?: ReadonlyMap<string, DeviceName>;
}

export class Trainer {
  readonly graph: Graph;
  readonly config: TrainConfig;
  readonly params: Map<string, Tensor>;
  /** Batch norm nodes whose running statistics each training step updates. */
  readonly runningStats: readonly RunningStatsNode[];
  readonly optimizer: Optimizer;
  readonly scheduler: LRScheduler | null;
  private readonly dataInput: string;
  private readonly labelInput: string;
  private readonly outputName: string;
  /** The device parameters live on and steps run on. */
  readonly device: DeviceName;
  stepCount = 0;

  constructor(graph: Graph, config: TrainConfig, options: TrainerOptions = {}) {
    this.graph = graph;
    this.config = config;
    this.device = options.device ?? 'cpu';
    const inputs = graph.inputs;
    const data = inputs.find((n) => n.attrs['role'] === 'data');
    const label = inputs.find((n) => n.attrs['role'] === 'label');
    if (!data || !label)
      throw new WiregradError(
        "a training graph needs an input with role 'data' and one with role 'label'",
      );
    this.dataInput = data.id;
    this.labelInput = label.id;
    const names = graph.outputs.map((o) => o.name);
    if (!names.includes('loss'))
      throw new WiregradError("a training graph needs an output named 'loss'");
    const out = names.find((n) => n === 'logits' || n === 'output');
    if (!out)
      throw new WiregradError("a training graph needs an output named 'logits' or 'output'");
    this.outputName = out;
    this.params = graph.initParameters();
    for (const [id, p] of this.params) {
      const device = options.paramDevices?.get(id) ?? this.device;
      if (device !== p.device) this.params.set(id, keep(uploadSync(p, device)));
    }
    // State such as batch norm's running statistics stays out of the optimiser.
    const list = [...this.params].flatMap(([id, p]) => {
      if (isTrainable(graph, id)) return [p];
      p.requiresGrad = false;
      return [];
    });
    this.runningStats = runningStatsNodes(graph);
    const o = config.optimizer;
    this.optimizer =
      o.type === 'sgd'
        ? new SGD(list, {
            lr: o.lr,
            momentum: o.momentum ?? 0,
            nesterov: o.nesterov ?? false,
            weightDecay: o.weightDecay ?? 0,
          })
        : o.type === 'adam'
          ? new Adam(list, { lr: o.lr, weightDecay: o.weightDecay ?? 0 })
          : new AdamW(list, { lr: o.lr, weightDecay: o.weightDecay ?? 0.01 });
    const s = config.schedule;
    this.scheduler =
      !s || s.type === 'constant'
        ? null
        : s.type === 'step'
          ? new StepLR(this.optimizer, { stepSize: s.stepSize ?? 10, gamma: s.gamma ?? 0.1 })
          : new CosineAnnealingLR(this.optimizer, { tMax: config.epochs, etaMin: s.etaMin ?? 0 });
  }

  /** One optimisation step on a batch; returns the batch loss. */
  step(x: Tensor, y: Tensor): number {
    const loss = tidy(() => {
      const outs = runUpdatingStats(
        this.graph,
        { [this.dataInput]: x, [this.labelInput]: y },
        this.params,
        this.runningStats,
      );
      const l = outs['loss']!;
      this.optimizer.zeroGrad();
      l.backward();
      this.optimizer.step();
      return l.item();
    });
    this.stepCount++;
    return loss;
  }

  /**
   * One optimisation step on a batch, queued without waiting for the device: returns at once
   * with a promise of the batch loss (the same number `step` returns), read back
   * asynchronously. Batches on the CPU are uploaded to the trainer's device. Steps queued one
   * after another run in order; the parameters are updated by the time the next one runs.
   */
  stepQueued(x: Tensor, y: Tensor): Promise<number> {
    return readScalars(this.queueStep(x, y, false)).then((v) => v[0]!);
  }

  /**
   * `stepQueued`, also counting the batch's correct predictions (argmax of the output equal
   * to the label; classification graphs only), read back with the loss in one read.
   */
  stepQueuedWithAccuracy(x: Tensor, y: Tensor): Promise<{ loss: number; correct: number }> {
    return readScalars(this.queueStep(x, y, true)).then((v) => ({ loss: v[0]!, correct: v[1]! }));
  }

  /** Queues one step; returns [loss] or [loss, correct] on the device, unread. */
  private queueStep(x: Tensor, y: Tensor, accuracy: boolean): Tensor {
    const result = tidy(() => {
      const label = uploadSync(y, this.device);
      const outs = runUpdatingStats(
        this.graph,
        { [this.dataInput]: uploadSync(x, this.device), [this.labelInput]: label },
        this.params,
        this.runningStats,
      );
      const l = outs['loss']!;
      this.optimizer.zeroGrad();
      l.backward();
      this.optimizer.step();
      if (!accuracy) return ops.reshape(l.detach(), [1]);
      const correct = ops.cast(correctCount(outs[this.outputName]!, label), 'f32');
      return ops.stack([l.detach(), correct]);
    });
    this.stepCount++;
    return result;
  }

  /**
   * `evaluate` on the trainer's device: every batch is queued, and the sums are read back once,
   * asynchronously, at the end.
   */
  async evaluateQueued(x: Tensor, y: Tensor, batchSize = 500): Promise<EvalResult> {
    const n = x.shape[0]!;
    const regression = y.dtype === 'f32';
    const totals = noGrad(() => {
      const parts: Tensor[] = [];
      try {
        for (let start = 0; start < n; start += batchSize) {
          const size = Math.min(batchSize, n - start);
          parts.push(keep(tidy(() => this.evaluationSums(x, y, start, size, regression))));
        }
        return tidy(() => ops.sum(ops.stack(parts), 0));
      } finally {
        dispose(parts);
      }
    });
    const [lossSum, score] = await readScalars(totals);
    if (regression)
      return { loss: lossSum! / n, accuracy: NaN, count: n, rmse: Math.sqrt(score! / y.size) };
    return { loss: lossSum! / n, accuracy: score! / n, count: n };
  }

  /** [loss × size, correct count or squared error] of one evaluation batch, on the device. */
  private evaluationSums(
    x: Tensor,
    y: Tensor,
    start: number,
    size: number,
    regression: boolean,
  ): Tensor {
    const xb = ops.slice(x, [start, ...x.shape.slice(1).map(() => 0)], [size, ...x.shape.slice(1)]);
    const yb = uploadSync(ops.slice(y, [start], [size]), this.device);
    const outs = this.graph.run(
      { [this.dataInput]: uploadSync(xb, this.device), [this.labelInput]: yb },
      { params: this.params, training: false },
    );
    const out = outs[this.outputName]!;
    let score: Tensor;
    if (regression) {
      const d = ops.sub(ops.reshape(out, yb.shape), yb);
      score = ops.sum(ops.mul(d, d));
    } else score = ops.cast(correctCount(out, yb), 'f32');
    return ops.stack([ops.mul(outs['loss']!, size), score]);
  }

  /** Call at the end of each epoch: advances the learning-rate schedule. */
  endEpoch(): void {
    this.scheduler?.step();
  }

  /**
   * Mean loss and accuracy over (x, y), in batches, without recording gradients. With f32
   * labels (regression, e.g. an mseLoss graph) accuracy means nothing: it reports the RMSE of
   * the output against the labels instead.
   */
  evaluate(x: Tensor, y: Tensor, batchSize = 500): EvalResult {
    const n = x.shape[0]!;
    const regression = y.dtype === 'f32';
    let lossSum = 0;
    let correct = 0;
    let squaredError = 0;
    noGrad(() => {
      for (let start = 0; start < n; start += batchSize) {
        const size = Math.min(batchSize, n - start);
        tidy(() => {
          const xb = ops.slice(
            x,
            [start, ...x.shape.slice(1).map(() => 0)],
            [size, ...x.shape.slice(1)],
          );
          const yb = ops.slice(y, [start], [size]);
          const outs = this.graph.run(
            { [this.dataInput]: xb, [this.labelInput]: yb },
            { params: this.params, training: false },
          );
          lossSum += outs['loss']!.item() * size;
          const out = outs[this.outputName]!;
          if (regression) {
            const d = ops.sub(ops.reshape(out, yb.shape), yb);
            squaredError += ops.sum(ops.mul(d, d)).item();
            return;
          }
          correct += countCorrect(out, yb);
        });
      }
    });
    if (regression)
      return { loss: lossSum / n, accuracy: NaN, count: n, rmse: Math.sqrt(squaredError / y.size) };
    return { loss: lossSum / n, accuracy: correct / n, count: n };
  }
}

/** The values of `t` as numbers, read asynchronously; `t` is disposed once read. */
function readScalars(t: Tensor): Promise<number[]> {
  return t.data().then(
    (d) => {
      t.dispose();
      return Array.from(d, Number);
    },
    (e: unknown) => {
      t.dispose();
      throw e;
    },
  );
}

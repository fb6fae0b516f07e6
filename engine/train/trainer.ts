/**
 * Training a graph document: the loop the CLI and the app share. A training graph has a `data`
 * input, a `label` input and two named outputs, `loss` (a scalar) and `logits` (or `output`).
 * Its parameters are materialised once from their seeded init rules; each `step` runs the graph
 * eagerly on one batch, backpropagates, and applies the optimiser, inside a memory scope so
 * that nothing leaks from step to step. `evaluate` measures loss and accuracy without
 * recording gradients.
 */

import { WiregradError } from '../core/errors.js';
import type { Graph } from '../graph/graph.js';
import { noGrad } from '../autograd/grad.js';
import { tidy } from '../runtime/scope.js';
import type { Tensor } from '../tensor.js';
import * as ops from '../ops/index.js';
import { type Optimizer, SGD, Adam, AdamW } from '../optim/index.js';
import { CosineAnnealingLR, StepLR, type LRScheduler } from '../optim/index.js';

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

/** How many rows of `logits` [N, C] have their argmax equal to the label; no gradients. */
export function countCorrect(logits: Tensor, labels: Tensor): number {
  return noGrad(() =>
    tidy(() => ops.sum(ops.cast(ops.equal(ops.argmax(logits, 1), labels), 'i32')).item()),
  );
}

export class Trainer {
  readonly graph: Graph;
  readonly config: TrainConfig;
  readonly params: Map<string, Tensor>;
  readonly optimizer: Optimizer;
  readonly scheduler: LRScheduler | null;
  private readonly dataInput: string;
  private readonly labelInput: string;
  private readonly outputName: string;
  stepCount = 0;

  constructor(graph: Graph, config: TrainConfig) {
    this.graph = graph;
    this.config = config;
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
    const list = [...this.params.values()];
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
      const outs = this.graph.run(
        { [this.dataInput]: x, [this.labelInput]: y },
        { params: this.params },
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

/**
 * What a training session's model has learned, for the app's views: the decision boundary of a
 * 2-D classifier (the model evaluated on a grid over the data), the fitted curve of a 1-D
 * regression (the model evaluated along the data's x range) or, for a regression of several
 * features, its predictions against the validation targets (regression-curve.ts; both on the
 * boundary's schedule), the confusion matrix on the
 * validation split, and predictions for examples the user gives ("try the model"). Each runs on
 * the session's current weights. `collect` is called with every progress message and adds a
 * fresh boundary or matrix only when the weights changed since the last one, and while
 * training runs at most every BOUNDARY_MS / CONFUSION_MS and COST_FACTOR times their own cost
 * (the matrix also waits for the next validation), so the views cost a few forward passes a
 * second whatever the step rate. The
 * data it needs are copied out at the start, so it keeps working after the session's tensors
 * are freed (a stopped session still answers predictions).
 */

import { WiregradError } from '../core/errors.js';
import type { ClassificationSet } from '../data/synthetic.js';
import type { Graph } from '../graph/graph.js';
import type {
  ConfusionMatrix,
  DecisionBoundary,
  PlotBounds,
  RegressionCurve,
  TrainStatus,
} from '../protocol/messages.js';
import type { Tensor } from '../tensor.js';
import {
  countConfusion,
  featuresOf,
  gridBounds,
  gridPoints,
  modelIO,
  predictProbabilities,
  summariseProbabilities,
  type GridBounds,
} from './predict.js';
import {
  CURVE_MAX_POINTS,
  CURVE_POINTS,
  SCATTER_MAX_ROWS,
  curveBounds,
  curveXs,
  predictValues,
  scatterOf,
} from './regression-curve.js';
import type { TargetScale } from './training-task.js';

/** Cells per side of the decision-boundary grid (the canvas smooths it). */
export const GRID_SIZE = 48;
/** Least time between two boundaries (and two matrices) while training runs (ms). */
export const BOUNDARY_MS = 250;
export const CONFUSION_MS = 500;
/**
 * While training runs, a view waits at least this many times as long as it last took to
 * compute, so the views take at most about 1/25 (4%) of the worker's time whatever the model
 * (a CNN's confusion matrix over 500 digits costs far more than a small MLP's boundary).
 */
export const COST_FACTOR = 25;
/**
 * A matrix that took longer than this (ms) is not recomputed after every single step while
 * training is paused (a step of the MNIST CNN would wait for 500 validation digits), only
 * after validations and on request.
 */
export const CHEAP_MS = 60;

export interface LearnedViewsSource {
  readonly graph: Graph;
  /** The current parameters (a reset replaces the map). */
  readonly params: () => ReadonlyMap<string, Tensor>;
  readonly stepCount: () => number;
  /** The step of the latest validation, or null before one. */
  readonly validationStep: () => number | null;
  readonly train: ClassificationSet;
  readonly validation: ClassificationSet;
  /** A regression target's standardisation: the curve is drawn in the target's own units. */
  readonly targetScale?: TargetScale;
  /** The clock (performance.now by default). */
  readonly now?: () => number;
}

export interface LearnedViewsUpdate {
  readonly boundary?: DecisionBoundary;
  readonly confusion?: ConfusionMatrix;
  readonly curve?: RegressionCurve;
}

export class LearnedViews {
  private readonly source: LearnedViewsSource;
  private readonly now: () => number;
  private readonly features: number;
  private twoD: boolean;
  /** A regression of one feature to one number: its fitted curve can be drawn. */
  private oneD: boolean;
  /** A regression of several features: its predictions against the validation targets. */
  private scatter: boolean;
  /** Those targets, in their own units (the validation rows' first SCATTER_MAX_ROWS). */
  private readonly validationTargets: Float32Array;
  private classifier: boolean;
  private readonly points: Float32Array;
  private readonly pointLabels: Uint8Array;
  private readonly bounds: GridBounds;
  private readonly grid: Float32Array;
  private readonly curveFrame: PlotBounds;
  private readonly curveX: Float32Array;
  private readonly validationX: Float32Array;
  private readonly validationY: Int32Array;
  /** Grows whenever the weights change (a step, a reset). */
  private version = 0;
  private seenStep = -1;
  private seenParams: ReadonlyMap<string, Tensor> | null = null;
  private boundaryVersion = -1;
  private boundaryAt = -Infinity;
  private boundaryWait = BOUNDARY_MS;
  private confusionVersion = -1;
  private confusionAt = -Infinity;
  private confusionWait = CONFUSION_MS;
  private confusionCost = 0;
  private confusionValidation: number | null = null;
  private forced = false;

  constructor(source: LearnedViewsSource) {
    this.source = source;
    this.now = source.now ?? (() => performance.now());
    const data = LearnedViews.copyData(source);
    this.features = data.features;
    this.classifier = data.classifier;
    this.twoD = data.twoD;
    this.oneD = data.oneD;
    this.scatter = data.scatter;
    this.validationTargets = data.validationTargets;
    this.points = data.points;
    this.pointLabels = data.pointLabels;
    this.validationX = data.validationX;
    this.validationY = data.validationY;
    this.bounds = gridBounds(this.points);
    this.grid = this.twoD ? gridPoints(this.bounds, GRID_SIZE) : new Float32Array(0);
    this.curveFrame = curveBounds(this.oneD ? this.points : new Float32Array(0));
    this.curveX = this.oneD ? curveXs(this.curveFrame, CURVE_POINTS) : new Float32Array(0);
  }

  /**
   * What the views need of the model and data, copied out. A model these views cannot read
   * (several data inputs, data the host cannot read back) gets no views; training goes on.
   */
  private static copyData(source: LearnedViewsSource) {
    const none = {
      features: 0,
      classifier: false,
      twoD: false,
      oneD: false,
      scatter: false,
      validationTargets: new Float32Array(0),
      points: new Float32Array(0),
      pointLabels: new Uint8Array(0),
      validationX: new Float32Array(0),
      validationY: new Int32Array(0),
    };
    try {
      const io = modelIO(source.graph);
      if (source.graph.inputs.filter((n) => n.attrs['role'] === 'data').length !== 1) return none;
      const features = featuresOf(io);
      const classifier = io.labelDType === 'i32';
      const x = source.train.x;
      const twoD = classifier && x.rank === 2 && x.shape[1] === 2 && features === 2;
      const regression = io.labelDType === 'f32';
      const oneD = regression && x.rank === 2 && x.shape[1] === 1 && features === 1;
      const rows = Math.min(SCATTER_MAX_ROWS, source.validation.x.shape[0] ?? 0);
      const scatter = regression && !oneD && rows > 0 && features > 0;
      const scale = source.targetScale ?? { mean: 0, std: 1 };
      return {
        features,
        classifier,
        twoD,
        oneD,
        scatter,
        validationTargets: scatter
          ? Float32Array.from(
              source.validation.y.dataSync().subarray(0, rows),
              (t) => t * scale.std + scale.mean,
            )
          : none.validationTargets,
        points: twoD
          ? Float32Array.from(x.dataSync())
          : oneD
            ? LearnedViews.curvePoints(x, source.train.y, source.targetScale)
            : none.points,
        pointLabels: twoD
          ? Uint8Array.from(source.train.y.dataSync(), (v) => Math.min(255, Math.max(0, v)))
          : none.pointLabels,
        validationX: classifier
          ? Float32Array.from(source.validation.x.dataSync())
          : scatter
            ? Float32Array.from(source.validation.x.dataSync().subarray(0, rows * features))
            : none.validationX,
        validationY: classifier
          ? Int32Array.from(source.validation.y.dataSync())
          : none.validationY,
      };
    } catch {
      return none;
    }
  }

  /** The first CURVE_MAX_POINTS training points (x, target in its own units) interleaved. */
  private static curvePoints(x: Tensor, y: Tensor, scale?: TargetScale): Float32Array {
    const xs = x.dataSync();
    const ys = y.dataSync();
    const n = Math.min(CURVE_MAX_POINTS, xs.length, ys.length);
    const { mean, std } = scale ?? { mean: 0, std: 1 };
    const out = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      out[2 * i] = xs[i]!;
      out[2 * i + 1] = ys[i]! * std + mean;
    }
    return out;
  }

  /** Whether the model fits one number to one feature (a curve can be drawn). */
  get curved(): boolean {
    return this.oneD;
  }

  /** Whether the model takes 2-D points (a decision boundary can be drawn). */
  get planar(): boolean {
    return this.twoD;
  }

  /** The next `collect` computes both views whatever the throttle says. */
  force(): void {
    this.forced = true;
  }

  /** Class probabilities of `count` examples (features row-major) with the current weights. */
  predict(inputs: Float32Array, count: number): { probabilities: Float32Array; classes: number } {
    return predictProbabilities(this.source.graph, this.source.params(), inputs, count);
  }

  /** The views that are due for a progress message of this status (see the file comment). */
  collect(status: TrainStatus): LearnedViewsUpdate {
    this.track();
    const forced = this.forced;
    this.forced = false;
    const now = this.now();
    const running = status === 'running';
    const update: {
      boundary?: DecisionBoundary;
      confusion?: ConfusionMatrix;
      curve?: RegressionCurve;
    } = {};
    try {
      if (
        (this.twoD || this.oneD || this.scatter) &&
        (forced ||
          (this.boundaryVersion !== this.version &&
            (!running || now - this.boundaryAt >= this.boundaryWait)))
      ) {
        if (this.twoD) update.boundary = this.boundary();
        else if (this.oneD) update.curve = this.curve();
        else update.curve = this.predictedAgainstActual();
        this.boundaryVersion = this.version;
        this.boundaryAt = now;
        this.boundaryWait = Math.max(BOUNDARY_MS, COST_FACTOR * (this.now() - now));
      }
      const validated = this.source.validationStep();
      if (
        this.classifier &&
        this.validationY.length > 0 &&
        (forced ||
          (this.confusionVersion !== this.version &&
            (running
              ? validated !== this.confusionValidation &&
                now - this.confusionAt >= this.confusionWait
              : validated !== this.confusionValidation || this.confusionCost <= CHEAP_MS)))
      ) {
        const start = this.now();
        update.confusion = this.confusion();
        this.confusionVersion = this.version;
        this.confusionAt = now;
        this.confusionCost = this.now() - start;
        this.confusionWait = Math.max(CONFUSION_MS, COST_FACTOR * this.confusionCost);
        this.confusionValidation = validated;
      }
    } catch {
      // A model whose output is not [N, classes] (or one number for a curve) has no such
      // views; training goes on.
      this.classifier = false;
      this.twoD = false;
      this.oneD = false;
      this.scatter = false;
      return {};
    }
    return update;
  }

  private track(): void {
    const params = this.source.params();
    const step = this.source.stepCount();
    if (params !== this.seenParams || step !== this.seenStep) {
      this.seenParams = params;
      this.seenStep = step;
      this.version++;
    }
  }

  private boundary(): DecisionBoundary {
    const { probabilities, classes } = this.predict(this.grid, GRID_SIZE * GRID_SIZE);
    const { predicted, confidence } = summariseProbabilities(probabilities, classes);
    return {
      step: this.seenStep,
      version: this.version,
      bounds: this.bounds,
      size: GRID_SIZE,
      classes,
      predicted,
      confidence,
      points: this.points,
      labels: this.pointLabels,
    };
  }

  private curve(): RegressionCurve {
    const scale = this.source.targetScale;
    return {
      kind: 'curve',
      step: this.seenStep,
      version: this.version,
      bounds: this.curveFrame,
      xs: this.curveX,
      predicted: predictValues(this.source.graph, this.source.params(), this.curveX, scale),
      points: this.points,
    };
  }

  private predictedAgainstActual(): RegressionCurve {
    const { graph, params, targetScale } = this.source;
    const predicted = predictValues(graph, params(), this.validationX, targetScale);
    const { points, bounds, xs, line } = scatterOf(this.validationTargets, predicted);
    return {
      kind: 'scatter',
      step: this.seenStep,
      version: this.version,
      bounds,
      xs,
      predicted: line,
      points,
    };
  }

  private confusion(): ConfusionMatrix {
    const count = this.validationY.length;
    if (this.validationX.length !== count * this.features)
      throw new WiregradError('the validation split does not fit the model');
    const { probabilities, classes: outputs } = this.predict(this.validationX, count);
    const { predicted } = summariseProbabilities(probabilities, outputs);
    // A model with fewer outputs than the data has classes still gets a row for every label.
    let classes = outputs;
    for (const label of this.validationY) classes = Math.max(classes, label + 1);
    return {
      step: this.seenStep,
      version: this.version,
      classes,
      counts: countConfusion(this.validationY, predicted, classes),
      total: count,
    };
  }
}

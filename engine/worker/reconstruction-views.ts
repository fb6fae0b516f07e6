/**
 * "Try the model" for a model that learns without labels (an autoencoder): instead of class
 * probabilities, `predict` answers with the model's output for the examples given, row-major
 * and shaped like its input (a drawn digit and the digit it reconstructs). It has no class
 * views: `collect` never sends a decision boundary or a confusion matrix. The graph is the
 * session's, with the unread label input `withReconstructionTarget` added (fed zeros here).
 */

import type { Graph } from '../graph/graph.js';
import type { TrainStatus } from '../protocol/messages.js';
import type { Tensor } from '../tensor.js';
import { LearnedViews, type LearnedViewsSource, type LearnedViewsUpdate } from './learned-views.js';
import { checkExamples, featuresOf, forwardInChunks, modelIO } from './predict.js';

/** A prediction of a reconstruction model: no classes; its output for each example. */
export interface ReconstructionAnswer {
  readonly classes: number;
  readonly probabilities: Float32Array;
  /** The model's output, `count` rows of as many values as each example has. */
  readonly reconstruction: Float32Array;
}

/** Examples per forward pass (a reconstruction is as large as its input). */
const CHUNK = 256;

export class ReconstructionViews extends LearnedViews {
  private readonly model: Graph;
  private readonly weights: () => ReadonlyMap<string, Tensor>;

  constructor(source: LearnedViewsSource) {
    super(source);
    this.model = source.graph;
    this.weights = source.params;
  }

  /** No classes, so no decision boundary or confusion matrix. */
  override collect(_status: TrainStatus): LearnedViewsUpdate {
    return {};
  }

  override predict(inputs: Float32Array, count: number): ReconstructionAnswer {
    const io = modelIO(this.model);
    checkExamples(io, inputs, count);
    const features = featuresOf(io);
    const reconstruction = new Float32Array(count * features);
    forwardInChunks(
      this.model,
      this.weights(),
      io,
      inputs,
      count,
      (out, start) => reconstruction.set(out.dataSync(), start * features),
      CHUNK,
    );
    return { classes: 0, probabilities: new Float32Array(0), reconstruction };
  }
}

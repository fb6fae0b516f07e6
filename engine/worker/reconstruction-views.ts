/**
 * "Try the model" for a model that learns without labels (an autoencoder): instead of class
 * probabilities, `predict` answers with the model's output for the examples given, row-major
 * and shaped like its input (a drawn digit and the digit it reconstructs). It has no class
 * views: `collect` never sends a decision boundary or a confusion matrix. The graph is the
 * session's, with the unread label input `withReconstructionTarget` added (fed zeros here).
 */

import { noGrad } from '../autograd/grad.js';
import { WiregradError } from '../core/errors.js';
import type { Graph } from '../graph/graph.js';
import type { TrainStatus } from '../protocol/messages.js';
import * as ops from '../ops/index.js';
import { tidy } from '../runtime/scope.js';
import type { Tensor } from '../tensor.js';
import { LearnedViews, type LearnedViewsSource, type LearnedViewsUpdate } from './learned-views.js';

/** A prediction of a reconstruction model: no classes; its output for each example. */
export interface ReconstructionAnswer {
  readonly classes: number;
  readonly probabilities: Float32Array;
  /** The model's output, `count` rows of as many values as each example has. */
  readonly reconstruction: Float32Array;
}

/** Examples per forward pass, as predict.ts bounds them. */
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
    const graph = this.model;
    const data = graph.inputs.find((n) => n.attrs['role'] === 'data')!;
    const target = graph.inputs.find((n) => n.attrs['role'] === 'label')!;
    const output = graph.outputs.find((o) => o.name === 'logits' || o.name === 'output')!;
    const shape = (data.attrs['shape'] as readonly number[]).slice(1);
    const features = shape.reduce((a, b) => a * b, 1);
    if (!Number.isInteger(count) || count < 1)
      throw new WiregradError(`predict needs at least one example, got ${count}`);
    if (inputs.length !== count * features)
      throw new WiregradError(
        `the model's data input takes ${features} values per example (shape [N, ` +
          `${shape.join(', ')}]), but ${count} example(s) came with ${inputs.length} values`,
      );
    const bad = inputs.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0)
      throw new WiregradError(
        `example ${Math.floor(bad / features)}, value ${bad % features} is ${inputs[bad]}: ` +
          'the model can only be asked about finite numbers',
      );
    const reconstruction = new Float32Array(count * features);
    noGrad(() => {
      for (let start = 0; start < count; start += CHUNK) {
        const n = Math.min(CHUNK, count - start);
        tidy(() => {
          const x = ops.tensor(inputs.subarray(start * features, (start + n) * features), {
            shape: [n, ...shape],
            dtype: 'f32',
          });
          const unread = ops.zeros([n], { dtype: 'i32' });
          const out = graph.run(
            { [data.id]: x, [target.id]: unread },
            { params: this.weights() as Map<string, Tensor>, training: false },
          )[output.name]!;
          reconstruction.set(out.dataSync(), start * features);
        });
      }
    });
    return { classes: 0, probabilities: new Float32Array(0), reconstruction };
  }
}

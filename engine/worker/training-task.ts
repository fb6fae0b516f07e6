/**
 * What a training session learns, read from its graph: a classifier (an i32 `label` input), a
 * regression (an f32 `label` input: numbers to predict) or a reconstruction (no `label` input:
 * the loss compares the output with the data itself, as an autoencoder's does). A
 * reconstruction graph trains through the same Trainer, lanes and device steps as the others:
 * `withReconstructionTarget` gives it a `label` input its loss does not read (int32 [N], so the
 * steps' accuracy bookkeeping stays shape-correct; the session reports no accuracy for it) and
 * an `output` naming its reconstruction, and `reconstructionSets` feeds that input zeros.
 * Checks here say what to change when the data cannot teach the model (numbers for a
 * classifier, classes for a regression), before any step fails inside a kernel.
 */

import { WiregradError } from '../core/errors.js';
import type { ClassificationSet } from '../data/synthetic.js';
import { Graph } from '../graph/graph.js';
import type { NodeJSON } from '../graph/ir.js';
import type { TrainTask } from '../protocol/messages.js';
import { tensor } from '../ops/creation.js';
import { dispose } from '../runtime/scope.js';

/** How a regression target was standardised: t' = (t − mean) / std (training rows' values). */
export interface TargetScale {
  readonly mean: number;
  readonly std: number;
}

/** Training and validation sets, with the regression target's scale where it was standardised. */
export interface TaskSets {
  readonly train: ClassificationSet;
  readonly validation: ClassificationSet;
  readonly targetScale?: TargetScale;
}

const labelInput = (graph: Graph) => graph.inputs.find((n) => n.attrs['role'] === 'label');
const dataInput = (graph: Graph) => graph.inputs.find((n) => n.attrs['role'] === 'data');

/** What `graph` learns (see the file comment). */
export function trainTaskOf(graph: Graph): TrainTask {
  const label = labelInput(graph);
  if (!label) return 'reconstruction';
  return label.attrs['dtype'] === 'f32' ? 'regression' : 'classification';
}

/** The declared shape of the graph document's `data` input (-1 for the batch), or null. */
export function dataShapeOf(graph: Graph): readonly number[] | null {
  const shape = dataInput(graph)?.attrs['shape'];
  return Array.isArray(shape) ? (shape as readonly number[]) : null;
}

/** Values per example of a shape whose first dimension is the batch. */
const perExample = (shape: readonly number[]): number => shape.slice(1).reduce((a, b) => a * b, 1);

/**
 * A reconstruction graph made trainable by the Trainer: the same nodes and parameters, plus an
 * int32 [N] `label` input that nothing reads (fed zeros) and, unless the graph has one, an
 * `output` naming the output its loss is computed from (the first besides `loss`).
 */
export function withReconstructionTarget(graph: Graph): Graph {
  const data = dataInput(graph);
  if (!data)
    throw new WiregradError(
      "this model has no input with role 'data': mark the input the model reads as its data",
    );
  if (!graph.outputs.some((o) => o.name === 'loss'))
    throw new WiregradError(
      "this model has no output named 'loss': name the output the training minimises 'loss'",
    );
  const shape = data.attrs['shape'] as readonly number[];
  const named = graph.outputs.find((o) => o.name === 'logits' || o.name === 'output');
  const main = named ?? graph.outputs.find((o) => o.name !== 'loss');
  if (!main)
    throw new WiregradError(
      "this model learns without labels but has no output besides 'loss': add an output for " +
        'its reconstruction (e.g. the last layer), so it can be validated and tried',
    );
  const outShape = graph.inferShapes().get(main.node)?.shape;
  if (outShape && perExample(outShape) !== perExample(shape))
    throw new WiregradError(
      `this model learns without labels, so its output '${main.name}' should reconstruct its ` +
        `input '${data.id}': it has ${perExample(outShape)} values per example but the input ` +
        `has ${perExample(shape)}; give its last layer ${perExample(shape)} outputs`,
    );
  const json = graph.toJSON();
  const ids = new Set(json.nodes.map((n) => n.id));
  let id = `${data.id}_unused_label`;
  for (let k = 2; ids.has(id); k++) id = `${data.id}_unused_label${k}`;
  const target: NodeJSON = {
    id,
    op: 'input',
    inputs: [],
    attrs: { shape: [-1], dtype: 'i32', role: 'label' },
  };
  return Graph.fromJSON({
    ...json,
    nodes: [...json.nodes, target],
    outputs: named ? json.outputs : [...json.outputs, { name: 'output', node: main.node }],
  });
}

/** The sets with their labels replaced by zeros, for the unread label input (old ones freed). */
export function reconstructionSets(sets: TaskSets): TaskSets {
  const unlabelled = (set: ClassificationSet): ClassificationSet => {
    const n = set.x.shape[0]!;
    dispose(set.y);
    return { ...set, y: tensor(new Int32Array(n), { shape: [n], dtype: 'i32' }), classes: 0 };
  };
  return { train: unlabelled(sets.train), validation: unlabelled(sets.validation) };
}

/**
 * Throws a WiregradError for people when the sets' targets cannot teach `graph` its task:
 * class labels for a regression, numbers for a classifier.
 */
export function checkTaskData(graph: Graph, task: TrainTask, sets: TaskSets, source: string) {
  if (task === 'reconstruction') return;
  const label = labelInput(graph)!;
  const y = sets.train.y;
  if (task === 'regression' && y.dtype !== 'f32')
    throw new WiregradError(
      `this model's label input '${label.id}' takes numbers (f32), so it predicts a number ` +
        `(a regression), but ${source} has class labels: train it on the 'sine' data set ` +
        '(a curve to fit, one x per example) or on a CSV whose target column holds numbers ' +
        '(upload one in the Data tab), or make the label input int32 with a crossEntropy loss ' +
        'to classify',
    );
  if (task === 'regression') {
    const data = dataInput(graph);
    const wants = data ? perExample(data.attrs['shape'] as readonly number[]) : 0;
    const has = perExample(sets.train.x.shape);
    if (data && wants !== has)
      throw new WiregradError(
        `${source} has ${has} feature${has === 1 ? '' : 's'} per example, but this model's ` +
          `input '${data.id}' takes ${wants}: set its shape to [N, ${has}]`,
      );
  }
  if (task === 'classification' && y.dtype === 'f32')
    throw new WiregradError(
      `${source} has numbers to predict (a regression), but this model's label input ` +
        `'${label.id}' takes class indices (int32): make the label input f32 and the loss an ` +
        'MSE loss (mseLoss), or choose a data set of classes (spiral, moons …) or a column ' +
        'of classes as the target in the Data tab',
    );
}

/**
 * The sets with a regression's targets shaped like the model's label input: a built-in set's
 * targets are [n, 1], a label input [N] takes them flat (an MSE of [N, 1] against [N] would
 * broadcast to [N, N]). Other sets are returned as they are; replaced targets are freed.
 */
export function targetsShapedForLabel(graph: Graph, sets: TaskSets): TaskSets {
  const label = labelInput(graph);
  const shape = label?.attrs['shape'];
  if (!label || label.attrs['dtype'] !== 'f32' || !Array.isArray(shape) || shape.length !== 1)
    return sets;
  const flat = (set: ClassificationSet): ClassificationSet => {
    if (set.y.dtype !== 'f32' || set.y.rank !== 2 || set.y.shape[1] !== 1) return set;
    const n = set.y.shape[0]!;
    const y = tensor(Float32Array.from(set.y.dataSync()), { shape: [n], dtype: 'f32' });
    dispose(set.y);
    return { ...set, y };
  };
  return { ...sets, train: flat(sets.train), validation: flat(sets.validation) };
}

/**
 * Regression metrics in the target's own units from the Trainer's RMSE on standardised targets
 * (`rmse`) over `targets` (the validation targets, standardised): RMSE scaled back, and
 * R² = 1 − SSE / SST, which the scale does not change.
 */
export function regressionMetrics(
  rmse: number,
  targets: Float32Array,
  scale: TargetScale,
): { readonly rmse: number; readonly r2: number } {
  const n = targets.length;
  let mean = 0;
  for (const t of targets) mean += t / n;
  let sst = 0;
  for (const t of targets) sst += (t - mean) ** 2;
  const sse = rmse * rmse * n;
  return { rmse: rmse * scale.std, r2: sst > 0 ? 1 - sse / sst : NaN };
}

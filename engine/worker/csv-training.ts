/**
 * Training on the user's own CSV in the app: the file the Data tab previews is parsed by the
 * same loader (engine/data/csv-table.ts), split 80/20 into training and validation rows
 * (seeded), normalised with the training rows' statistics, and checked against the model before
 * a session starts, so a mismatch says what to change (the Input's width, the last layer's
 * classes, a classifier's loss for a target of numbers) instead of failing inside a kernel. A
 * target of numbers trains a regression (targets standardised like the features).
 */

import { WiregradError } from '../core/errors.js';
import { parseCsv, splitTable } from '../data/csv-table.js';
import type { ClassificationSet } from '../data/synthetic.js';
import { Graph } from '../graph/graph.js';
import type { GraphJSON } from '../graph/ir.js';
import type { CsvUpload } from '../protocol/messages.js';
import { tensor } from '../ops/creation.js';
import { dispose } from '../runtime/scope.js';
import type { Tensor } from '../tensor.js';
import { featuresOf, modelIO } from './predict.js';
import type { TargetScale } from './training-task.js';

/** The share of rows held out for validation. */
export const CSV_VALIDATION_FRACTION = 0.2;

export interface CsvTrainingSets {
  readonly train: ClassificationSet;
  readonly validation: ClassificationSet;
  /** A regression target's standardisation (training rows' mean and deviation). */
  readonly targetScale?: TargetScale;
}

/**
 * The training and validation sets of `csv` for the model `graph` (new tensors, the caller's).
 * A target of classes gives class indices; a target of numbers gives f32 targets shaped like
 * the model's label input ([N, 1] or [N]), standardised with the training rows' mean and
 * deviation (`targetScale` says how, so metrics can be reported in the target's own units). A
 * model without a label input trains on the features alone. Throws a WiregradError for people
 * when the file cannot be read or does not fit the model.
 */
export function csvTrainingSets(graph: GraphJSON, csv: CsvUpload, seed: number): CsvTrainingSets {
  const table = parseCsv(csv.text, {
    source: csv.name,
    ...(csv.target !== undefined ? { target: csv.target } : {}),
  });
  const model = Graph.fromJSON(graph);
  const label = model.inputs.find((n) => n.attrs['role'] === 'label');
  const regression = table.task !== 'classification';
  if (label && regression && label.attrs['dtype'] !== 'f32') {
    const loss = model.outputs.find((o) => o.name === 'loss');
    const lossOp = model.nodes.find((n) => n.id === loss?.node)?.op;
    throw new WiregradError(
      `${csv.name}: the target column '${table.target.name}' holds numbers (a regression), ` +
        `but the model is a classifier (its label input '${label.id}' takes class indices` +
        `${lossOp ? ` and its loss is ${lossOp}` : ''}): to predict the numbers, make the ` +
        'label input f32 with shape [N, 1] and the loss an MSE loss (mseLoss) of the output ' +
        'and the label; or pick a column of classes as the target in the Data tab',
    );
  }
  if (label && !regression && label.attrs['dtype'] === 'f32')
    throw new WiregradError(
      `${csv.name}: the target column '${table.target.name}' holds classes ` +
        `(${listed(table.classNames)}), but the model's label input '${label.id}' takes ` +
        'numbers (f32, a regression): make it int32 with shape [N] and the loss crossEntropy, ' +
        'or pick a column of numbers as the target in the Data tab',
    );
  const io = label ? modelIO(model) : null;
  const dataShape = model.inputs.find((n) => n.attrs['role'] === 'data')?.attrs['shape'];
  const features = Array.isArray(dataShape)
    ? (dataShape as readonly number[]).slice(1).reduce((a, b) => a * b, 1)
    : 0;
  const width = table.featureNames.length;
  if ((io ? featuresOf(io) : features) !== width)
    throw new WiregradError(
      `${csv.name} has ${width} feature${width === 1 ? '' : 's'} per row ` +
        `(${listed(table.featureNames)}) but the model's input ` +
        `'${io?.data ?? model.inputs.find((n) => n.attrs['role'] === 'data')?.id}' takes ` +
        `${io ? featuresOf(io) : features}: set its shape to [N, ${width}]`,
    );
  if (io) {
    const outputNode = model.outputs.find((o) => o.name === io.output)!.node;
    const logits = model.inferShapes().get(outputNode)?.shape;
    const classes = logits?.at(-1);
    if (!regression && classes !== undefined && classes > 0 && classes < table.classes)
      throw new WiregradError(
        `${csv.name} has ${table.classes} classes (${listed(table.classNames)}) but the model's ` +
          `'${io.output}' has ${classes} outputs per example: give its last layer ` +
          `${table.classes} outputs`,
      );
    const perRow = logits ? logits.slice(1).reduce((a, b) => a * b, 1) : 1;
    if (regression && perRow !== 1)
      throw new WiregradError(
        `${csv.name}: the target '${table.target.name}' is one number per row, but the ` +
          `model's '${io.output}' has ${perRow} outputs per example: give its last layer 1 output`,
      );
    const labelRank = io.labelShape.length;
    if (regression && !(labelRank === 1 || (labelRank === 2 && io.labelShape[1] === 1)))
      throw new WiregradError(
        `${csv.name}: the target '${table.target.name}' is one number per row, but the ` +
          `model's label input '${io.label}' has shape [${io.labelShape.join(', ')}]: set it ` +
          'to [N, 1]',
      );
  }
  const split = splitTable(table, {
    validationFraction: CSV_VALIDATION_FRACTION,
    testFraction: 0,
    seed,
  });
  dispose([split.test.x, split.test.y]);
  if (!split.validation) {
    dispose([split.train.x, split.train.y]);
    throw new WiregradError(
      `${csv.name} has ${table.rows} rows, too few to hold out a validation set`,
    );
  }
  if (!regression)
    return {
      train: { ...split.train, classes: table.classes },
      validation: { ...split.validation, classes: table.classes },
    };
  // Standardised like the features, with the training rows' statistics only.
  const scale = targetScaleOf(split.train.y.dataSync());
  const shape = io?.labelShape.length === 1 ? 'flat' : 'column';
  return {
    train: { x: split.train.x, y: scaledTargets(split.train.y, scale, shape), classes: 0 },
    validation: {
      x: split.validation.x,
      y: scaledTargets(split.validation.y, scale, shape),
      classes: 0,
    },
    targetScale: scale,
  };
}

/** Mean and (population) standard deviation of the targets; 1 for a constant target. */
export function targetScaleOf(values: ArrayLike<number>): TargetScale {
  const n = values.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += values[i]! / n;
  let variance = 0;
  for (let i = 0; i < n; i++) variance += (values[i]! - mean) ** 2 / n;
  return { mean, std: Math.sqrt(variance) || 1 };
}

/** `y` ([n, 1] f32) standardised by `scale`, as [n, 1] or [n]; `y` is freed. */
function scaledTargets(y: Tensor, scale: TargetScale, shape: 'flat' | 'column'): Tensor {
  const values = Float32Array.from(y.dataSync(), (v) => (v - scale.mean) / scale.std);
  const n = values.length;
  dispose(y);
  return tensor(values, { shape: shape === 'flat' ? [n] : [n, 1], dtype: 'f32' });
}

function listed(names: readonly string[]): string {
  const shown = names.slice(0, 4).join(', ');
  return names.length > 4 ? `${shown}, …` : shown;
}

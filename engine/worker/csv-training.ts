/**
 * Training on the user's own CSV in the app: the file the Data tab previews is parsed by the
 * same loader (engine/data/csv-table.ts), split 80/20 into training and validation rows
 * (seeded), normalised with the training rows' statistics, and checked against the model before
 * a session starts, so a mismatch says what to change (the Input's width, the last layer's
 * classes) instead of failing inside a kernel.
 */

import { WiregradError } from '../core/errors.js';
import { parseCsv, splitTable } from '../data/csv-table.js';
import type { ClassificationSet } from '../data/synthetic.js';
import { Graph } from '../graph/graph.js';
import type { GraphJSON } from '../graph/ir.js';
import type { CsvUpload } from '../protocol/messages.js';
import { dispose } from '../runtime/scope.js';
import { featuresOf, modelIO } from './predict.js';

/** The share of rows held out for validation. */
export const CSV_VALIDATION_FRACTION = 0.2;

export interface CsvTrainingSets {
  readonly train: ClassificationSet;
  readonly validation: ClassificationSet;
}

/**
 * The training and validation sets of `csv` for the model `graph` (new tensors, the caller's).
 * Throws a WiregradError for people when the file cannot be read, is a regression table, or
 * does not fit the model.
 */
export function csvTrainingSets(graph: GraphJSON, csv: CsvUpload, seed: number): CsvTrainingSets {
  const table = parseCsv(csv.text, {
    source: csv.name,
    ...(csv.target !== undefined ? { target: csv.target } : {}),
  });
  if (table.task !== 'classification')
    throw new WiregradError(
      `${csv.name}: the target column '${table.target.name}' holds numbers, so it is a ` +
        'regression table; the app trains classifiers: pick a column of classes as the target ' +
        `in the Data tab, or train it from the command line (npx wiregrad train … csv:${csv.name})`,
    );
  const model = Graph.fromJSON(graph);
  const io = modelIO(model);
  const width = table.featureNames.length;
  if (featuresOf(io) !== width)
    throw new WiregradError(
      `${csv.name} has ${width} feature${width === 1 ? '' : 's'} per row ` +
        `(${listed(table.featureNames)}) but the model's input '${io.data}' takes ` +
        `${featuresOf(io)}: set its shape to [N, ${width}]`,
    );
  const outputNode = model.outputs.find((o) => o.name === io.output)!.node;
  const logits = model.inferShapes().get(outputNode)?.shape;
  const classes = logits?.at(-1);
  if (classes !== undefined && classes > 0 && classes < table.classes)
    throw new WiregradError(
      `${csv.name} has ${table.classes} classes (${listed(table.classNames)}) but the model's ` +
        `'${io.output}' has ${classes} outputs per example: give its last layer ` +
        `${table.classes} outputs`,
    );
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
  return {
    train: { ...split.train, classes: table.classes },
    validation: { ...split.validation, classes: table.classes },
  };
}

function listed(names: readonly string[]): string {
  const shown = names.slice(0, 4).join(', ');
  return names.length > 4 ? `${shown}, …` : shown;
}

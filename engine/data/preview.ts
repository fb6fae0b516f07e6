/**
 * Previews of data sets for people, as plain data (the protocol's `DataPreview`): the first rows
 * of a table or the first images of an image set, the class counts over the whole set, and one
 * example's shape and dtype. Built from what the loaders already return (a `CsvTable`, a
 * synthetic `ClassificationSet`, raw image pixels), so a preview shows exactly what training
 * will see, before normalisation.
 */

import type { DataPreview } from '../protocol/messages.js';
import type { CsvTable } from './csv-table.js';
import type { ClassificationSet } from './synthetic.js';

/** Rows a table preview shows. */
export const PREVIEW_ROWS = 20;
/** Images an image preview shows. */
export const PREVIEW_IMAGES = 32;

function countClasses(labels: ArrayLike<number>, classes: number): number[] {
  const counts = new Array<number>(classes).fill(0);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i]!;
    if (label >= 0 && label < classes) counts[label]!++;
  }
  return counts;
}

/** Rounds for display without hiding small values (4 significant digits). */
const shown = (v: number): number => (Number.isInteger(v) ? v : Number(v.toPrecision(4)));

/** What the built-in regression sets hold, in words (their default options). */
const REGRESSION_NOTES: Readonly<Record<string, string>> = {
  sine: 'y = sin(x) plus Gaussian noise (std 0.1), x uniform in [−3, 3]',
};

/**
 * A preview of a synthetic set of numbers to predict (`x` [n, features] f32, `y` [n, 1] f32):
 * its first rows (the points are in random order), one example's shapes, no class counts.
 */
export function previewRegressionSet(
  name: string,
  set: Pick<ClassificationSet, 'x' | 'y'>,
): DataPreview {
  const x = set.x.dataSync();
  const y = set.y.dataSync();
  const n = set.x.shape[0] ?? 0;
  const width = set.x.shape[1] ?? 1;
  const rows: (number | string)[][] = [];
  for (let i = 0; i < Math.min(PREVIEW_ROWS, n); i++) {
    const row: (number | string)[] = [];
    for (let j = 0; j < width; j++) row.push(shown(x[i * width + j]!));
    row.push(shown(y[i]!));
    rows.push(row);
  }
  const described = REGRESSION_NOTES[name];
  return {
    name,
    kind: 'tabular',
    task: 'regression',
    examples: n,
    features: { shape: set.x.shape.slice(1), dtype: set.x.dtype },
    labels: { shape: set.y.shape.slice(1), dtype: set.y.dtype },
    columns: [...(width === 1 ? ['x'] : Array.from({ length: width }, (_, j) => `x${j}`)), 'y'],
    rows,
    images: null,
    classes: [],
    classCounts: [],
    notes: [
      ...(described ? [described] : []),
      'numbers to predict (a regression): train a model with an f32 label input [N, 1] and ' +
        'an MSE loss (Templates → Regression: fit a curve)',
    ],
  };
}

/**
 * A preview of a synthetic 2-D set (`x` [n, 2] f32, `y` [n] i32). Its points are grouped by
 * class, so the rows shown are spread evenly over the set rather than all of the first class.
 * A set whose targets are numbers (f32) is previewed as a regression (`previewRegressionSet`).
 */
export function previewClassificationSet(name: string, set: ClassificationSet): DataPreview {
  if (set.y.dtype === 'f32') return previewRegressionSet(name, set);
  const x = set.x.dataSync();
  const y = set.y.dataSync();
  const n = y.length;
  const width = set.x.shape[1] ?? 1;
  const shownRows = Math.min(PREVIEW_ROWS, n);
  const rows: (number | string)[][] = [];
  for (let r = 0; r < shownRows; r++) {
    const i = Math.floor((r * n) / shownRows);
    const row: (number | string)[] = [];
    for (let j = 0; j < width; j++) row.push(shown(x[i * width + j]!));
    row.push(y[i]!);
    rows.push(row);
  }
  return {
    name,
    kind: 'tabular',
    task: 'classification',
    examples: n,
    features: { shape: [width], dtype: set.x.dtype },
    labels: { shape: [], dtype: set.y.dtype },
    columns: [...Array.from({ length: width }, (_, j) => `x${j}`), 'label'],
    rows,
    images: null,
    classes: Array.from({ length: set.classes }, (_, c) => String(c)),
    classCounts: countClasses(y, set.classes),
    notes: [`rows sampled evenly from the ${n} points (the set is grouped by class)`],
  };
}

/** A preview of a parsed CSV table: its first rows as the file has them (categories by name). */
export function previewCsvTable(table: CsvTable, notes: readonly string[] = []): DataPreview {
  const featureCount = table.featureNames.length;
  const shownRows = Math.min(PREVIEW_ROWS, table.rows);
  const rows: (number | string)[][] = [];
  for (let i = 0; i < shownRows; i++) {
    const row: (number | string)[] = [];
    for (let j = 0; j < featureCount; j++) row.push(shown(table.x[i * featureCount + j]!));
    const label = table.y[i]!;
    row.push(table.task === 'classification' ? (table.classNames[label] ?? label) : shown(label));
    rows.push(row);
  }
  const categorical = table.features.filter((f) => f.type === 'categorical');
  return {
    name: table.source,
    kind: 'tabular',
    task: table.task,
    examples: table.rows,
    features: { shape: [featureCount], dtype: 'f32' },
    labels: { shape: [], dtype: table.task === 'classification' ? 'i32' : 'f32' },
    columns: [...table.featureNames, table.target.name],
    rows,
    images: null,
    classes: table.classNames,
    classCounts: table.task === 'classification' ? countClasses(table.y, table.classes) : [],
    notes: [
      table.hasHeader ? 'column names from the header row' : 'no header row: columns numbered',
      ...(categorical.length > 0
        ? [`one-hot encoded: ${categorical.map((c) => c.name).join(', ')}`]
        : []),
      ...notes,
    ],
  };
}

/** Images (values in 0..1, `count` × height × width × channels) and their labels. */
export interface ImageSet {
  readonly name: string;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly count: number;
  readonly pixels: Float32Array;
  readonly labels: ArrayLike<number>;
  readonly classes: readonly string[];
  /** The shape of one example as the model takes it (e.g. [1, 28, 28]). */
  readonly exampleShape: readonly number[];
}

export function previewImageSet(set: ImageSet, notes: readonly string[] = []): DataPreview {
  const count = Math.min(PREVIEW_IMAGES, set.count);
  const size = set.width * set.height * set.channels;
  const pixels = new Uint8Array(count * size);
  for (let i = 0; i < pixels.length; i++)
    pixels[i] = Math.round(Math.min(1, Math.max(0, set.pixels[i]!)) * 255);
  return {
    name: set.name,
    kind: 'images',
    task: 'classification',
    examples: set.count,
    features: { shape: set.exampleShape, dtype: 'f32' },
    labels: { shape: [], dtype: 'i32' },
    columns: [],
    rows: [],
    images: {
      width: set.width,
      height: set.height,
      channels: set.channels,
      count,
      pixels,
      labels: Array.from(set.labels).slice(0, count),
    },
    classes: set.classes,
    classCounts: countClasses(set.labels, set.classes.length),
    notes,
  };
}

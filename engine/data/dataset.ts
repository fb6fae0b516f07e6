/**
 * Datasets: anything with a `length` that can assemble a batch of samples by index.
 * `TensorDataset` holds inputs x [n, …] and targets y [n, …] and batches them with `gather`
 * (so the data stays on its device); `Subset` views some of another dataset's samples;
 * `trainTestSplit` makes a seeded random split. Batches are new tensors owned by the caller
 * (or the enclosing `tidy`); the dataset does not own or free the tensors it was given.
 */

import { ShapeError, WiregradError, formatShape } from '../core/errors.js';
import * as ops from '../ops/index.js';
import { tidy } from '../runtime/scope.js';
import type { Tensor } from '../tensor.js';
import { HostRandom } from './host-random.js';

/** Inputs and targets of some samples, batch axis first. */
export interface Batch {
  readonly x: Tensor;
  readonly y: Tensor;
}

export interface Dataset {
  /** The number of samples. */
  readonly length: number;
  /** The samples at `indices` (each in [0, length)), in that order, as one batch. */
  getBatch(indices: readonly number[]): Batch;
}

function checkIndices(what: string, indices: readonly number[], length: number): void {
  for (const i of indices)
    if (!Number.isInteger(i) || i < 0 || i >= length)
      throw new WiregradError(`${what}: index ${i} is out of range for ${length} samples`);
}

export class TensorDataset implements Dataset {
  readonly x: Tensor;
  readonly y: Tensor;

  constructor(x: Tensor, y: Tensor) {
    if (x.rank === 0 || y.rank === 0 || x.shape[0] !== y.shape[0])
      throw new ShapeError(
        `TensorDataset: x ${formatShape(x.shape)} and y ${formatShape(y.shape)} must have the ` +
          `same number of samples on axis 0`,
      );
    this.x = x;
    this.y = y;
  }

  get length(): number {
    return this.x.shape[0]!;
  }

  getBatch(indices: readonly number[]): Batch {
    checkIndices('TensorDataset.getBatch', indices, this.length);
    return tidy(() => {
      const idx = ops.tensor(Int32Array.from(indices), { dtype: 'i32', device: this.x.device });
      return { x: ops.gather(this.x, idx, 0), y: ops.gather(this.y, idx, 0) };
    });
  }
}

/** The samples of `dataset` at `indices`, renumbered 0..indices.length-1. */
export class Subset implements Dataset {
  readonly dataset: Dataset;
  readonly indices: readonly number[];

  constructor(dataset: Dataset, indices: readonly number[]) {
    checkIndices('Subset', indices, dataset.length);
    this.dataset = dataset;
    this.indices = [...indices];
  }

  get length(): number {
    return this.indices.length;
  }

  getBatch(indices: readonly number[]): Batch {
    checkIndices('Subset.getBatch', indices, this.length);
    return this.dataset.getBatch(indices.map((i) => this.indices[i]!));
  }
}

export interface SplitOptions {
  /** The share of samples in the test set (default 0.2), rounded to the nearest count. */
  readonly testFraction?: number;
  /** Default 0. */
  readonly seed?: number;
}

/** A seeded random split into disjoint train and test subsets covering every sample. */
export function trainTestSplit(
  dataset: Dataset,
  options: SplitOptions = {},
): { train: Subset; test: Subset } {
  const { testFraction = 0.2, seed = 0 } = options;
  if (!(testFraction >= 0 && testFraction <= 1))
    throw new WiregradError(`trainTestSplit: testFraction must be in [0, 1], got ${testFraction}`);
  const order = new HostRandom(seed).permutation(dataset.length);
  const nTest = Math.round(dataset.length * testFraction);
  return {
    train: new Subset(dataset, order.slice(nTest)),
    test: new Subset(dataset, order.slice(0, nTest)),
  };
}

/**
 * `DataLoader`: iterates a dataset in batches. With `shuffle`, epoch e visits the samples in
 * the order of a permutation seeded by seed + e, so a run (or a resumed run, via `epoch`)
 * reproduces exactly. Each `for … of` over the loader is one epoch.
 *
 * Batch ownership: the loader frees each batch when the loop asks for the next one (or ends,
 * or breaks), so a training loop does not grow memory without a `dispose` per step. To keep a
 * batch beyond its iteration, copy what you need (e.g. `ops.mul(x, 1)`) inside the loop. A
 * dataset's `getBatch` must therefore return new tensors, never ones it keeps.
 */

import { WiregradError } from '../core/errors.js';
import { dispose } from '../runtime/scope.js';
import type { Batch, Dataset } from './dataset.js';
import { HostRandom } from './host-random.js';

export interface DataLoaderOptions {
  /** Samples per batch (default 32). */
  readonly batchSize?: number;
  /** Visit samples in a new random order each epoch (default false). */
  readonly shuffle?: boolean;
  /** Base seed of the per-epoch permutations (default 0). */
  readonly seed?: number;
  /** Skip the last batch when it is smaller than batchSize (default false). */
  readonly dropLast?: boolean;
}

export class DataLoader implements Iterable<Batch> {
  readonly dataset: Dataset;
  readonly batchSize: number;
  readonly shuffle: boolean;
  readonly seed: number;
  readonly dropLast: boolean;
  /** The epoch the next iteration runs; advanced by each iteration, settable to resume. */
  epoch = 0;

  constructor(dataset: Dataset, options: DataLoaderOptions = {}) {
    const { batchSize = 32, shuffle = false, seed = 0, dropLast = false } = options;
    if (!Number.isInteger(batchSize) || batchSize < 1)
      throw new WiregradError(`DataLoader: batchSize must be a positive integer, got ${batchSize}`);
    this.dataset = dataset;
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.seed = seed;
    this.dropLast = dropLast;
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.dataset.length / this.batchSize;
    return this.dropLast ? Math.floor(n) : Math.ceil(n);
  }

  /** The sample order of `epoch`. */
  order(epoch: number): number[] {
    const n = this.dataset.length;
    return this.shuffle
      ? new HostRandom((this.seed + epoch) >>> 0).permutation(n)
      : Array.from({ length: n }, (_, i) => i);
  }

  /** The sample indices of each batch of `epoch`. */
  batchIndices(epoch: number): number[][] {
    const order = this.order(epoch);
    const out: number[][] = [];
    for (let k = 0; k < this.length; k++)
      out.push(order.slice(k * this.batchSize, (k + 1) * this.batchSize));
    return out;
  }

  *[Symbol.iterator](): Iterator<Batch> {
    const batches = this.batchIndices(this.epoch++);
    let current: Batch | null = null;
    try {
      for (const indices of batches) {
        if (current) dispose([current.x, current.y]);
        current = this.dataset.getBatch(indices);
        yield current;
      }
    } finally {
      if (current) dispose([current.x, current.y]);
    }
  }
}

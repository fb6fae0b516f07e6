import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// The engine's entry point registers the CPU device the loaders' tensors live on.
import '../index.js';
import type { Tensor } from '../index.js';
import { loadIdx } from './idx.js';
import { FASHION_MNIST_DIR, fashionMnist, mnistDigits } from './mnist.js';

const counts = (t: Tensor): number[] => {
  const out = new Array<number>(10).fill(0);
  for (const v of t.dataSync()) out[v]!++;
  return out;
};

describe('MNIST digits from the mnist package', () => {
  it('gives a deterministic 8,000/2,000 split of [n, 1, 28, 28] images in [0, 1]', async () => {
    const { train, test } = await mnistDigits({ seed: 1 });
    expect([train.x.shape, train.x.dtype, train.y.shape, train.y.dtype]).toEqual([
      [8000, 1, 28, 28],
      'f32',
      [8000],
      'i32',
    ]);
    expect(test.x.shape).toEqual([2000, 1, 28, 28]);
    const px = train.x.dataSync();
    expect(Math.min(...px.subarray(0, 50000))).toBe(0);
    expect(px.every((v) => v >= 0 && v <= 1)).toBe(true);
    expect(Math.max(...px.subarray(0, 50000))).toBe(1);
    // The package holds 1001 zeros … 978 nines; the two sets share them out between them.
    const all = counts(train.y).map((c, d) => c + counts(test.y)[d]!);
    expect(all).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    const again = await mnistDigits({ seed: 1 });
    expect(Array.from(again.test.y.dataSync())).toEqual(Array.from(test.y.dataSync()));
    const other = await mnistDigits({ seed: 2, train: 100, test: 10 });
    expect(Array.from(other.test.y.dataSync())).not.toEqual(
      Array.from(test.y.dataSync()).slice(0, 10),
    );
    await expect(mnistDigits({ train: 9000, test: 2000 })).rejects.toThrow(
      /summing to at most 10000/,
    );
  });
});

describe.skipIf(!existsSync(FASHION_MNIST_DIR))('Fashion-MNIST IDX files (Debian)', () => {
  it('loadIdx reads the gzipped test images and labels', async () => {
    const images = await loadIdx(join(FASHION_MNIST_DIR, 't10k-images-idx3-ubyte.gz'));
    expect([images.type, images.shape]).toEqual(['u8', [10000, 28, 28]]);
    const set = await fashionMnist({ split: 'test' });
    expect(set.x.shape).toEqual([10000, 1, 28, 28]);
    expect(counts(set.y)).toEqual(new Array(10).fill(1000)); // the test set is balanced
  });

  it('a malformed file is named in the error', async () => {
    await expect(loadIdx(join(FASHION_MNIST_DIR, 'missing.gz'))).rejects.toThrow(
      /cannot read .*missing\.gz/,
    );
  });
});

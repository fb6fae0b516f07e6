import { describe, expect, it } from 'vitest';
import * as wg from '../index.js';
import {
  DataLoader,
  HostRandom,
  Subset,
  TensorDataset,
  circles,
  gaussians,
  idxImagesToTensor,
  idxLabelsToTensor,
  moons,
  parseIdx,
  spiral,
  trainTestSplit,
  xor,
} from './index.js';

const rows = (t: wg.Tensor): number[][] => t.arraySync() as number[][];
const labels = (t: wg.Tensor): number[] => Array.from(t.dataSync());
const counts = (ys: number[], classes: number): number[] =>
  Array.from({ length: classes }, (_, c) => ys.filter((y) => y === c).length);

describe('synthetic sets', () => {
  const sets = {
    spiral: (seed: number) => spiral(100, { seed }),
    moons: (seed: number) => moons(100, { seed }),
    circles: (seed: number) => circles(100, { seed }),
    xor: (seed: number) => xor(100, { seed, noise: 0.1 }),
    gaussians: (seed: number) => gaussians(100, { seed, classes: 4 }),
  };

  for (const [name, make] of Object.entries(sets))
    it(`${name}: x [n, 2] f32, y [n] i32, the same for a seed and different across seeds`, () => {
      const a = make(1);
      expect([a.x.shape, a.x.dtype, a.y.shape, a.y.dtype]).toEqual([[100, 2], 'f32', [100], 'i32']);
      const b = make(1);
      expect(Array.from(b.x.dataSync())).toEqual(Array.from(a.x.dataSync()));
      expect(labels(b.y)).toEqual(labels(a.y));
      expect(Array.from(make(2).x.dataSync())).not.toEqual(Array.from(a.x.dataSync()));
      expect(labels(a.y).every((y) => y >= 0 && y < a.classes)).toBe(true);
    });

  it('spiral splits n as evenly as possible and keeps radii in [0, 1]', () => {
    const s = spiral(100, { classes: 3, seed: 0 });
    expect(counts(labels(s.y), 3)).toEqual([34, 33, 33]);
    const radii = rows(s.x).map(([a, b]) => Math.hypot(a!, b!));
    expect(Math.max(...radii)).toBeLessThanOrEqual(1 + 1e-6);
    // Noise moves the angle only: class j's k-th point has radius k/(count-1).
    expect(radii[33]).toBeCloseTo(1, 5);
  });

  it('circles without noise lie on radius 1 (class 0) and factor (class 1)', () => {
    const c = circles(50, { noise: 0, factor: 0.3 });
    const ys = labels(c.y);
    rows(c.x).forEach(([a, b], i) =>
      expect(Math.hypot(a!, b!)).toBeCloseTo(ys[i] === 0 ? 1 : 0.3, 5),
    );
    expect(counts(ys, 2)).toEqual([25, 25]);
  });

  it('moons without noise are scikit-learn’s two half circles', () => {
    const m = moons(4, { noise: 0 });
    expect(rows(m.x).map((r) => r.map((v) => Math.round(v * 1e6) / 1e6))).toEqual([
      [1, 0],
      [-1, 0],
      [0, 0.5],
      [2, 0.5],
    ]);
    expect(labels(m.y)).toEqual([0, 0, 1, 1]);
  });

  it('xor labels 1 exactly where the signs of the coordinates differ', () => {
    const d = xor(200, { seed: 3 });
    const ys = labels(d.y);
    rows(d.x).forEach(([a, b], i) => expect(ys[i]).toBe(a! > 0 !== b! > 0 ? 1 : 0));
  });

  it('gaussians centre class j at angle 2πj/classes', () => {
    const g = gaussians(4000, { classes: 4, std: 0.1, radius: 2, seed: 1 });
    const ys = labels(g.y);
    const xs = rows(g.x);
    const centre = (c: number) =>
      [0, 1].map((k) => xs.filter((_, i) => ys[i] === c).reduce((s, r) => s + r[k]!, 0) / 1000);
    expect(centre(1)[0]).toBeCloseTo(0, 1);
    expect(centre(1)[1]).toBeCloseTo(2, 1);
    expect(centre(2)[0]).toBeCloseTo(-2, 1);
  });
});

describe('HostRandom', () => {
  it('draws uniform numbers with the right moments and permutations that cover 0..n-1', () => {
    const r = new HostRandom(11);
    const u = Array.from({ length: 20000 }, () => r.uniform());
    expect(u.reduce((a, b) => a + b) / u.length).toBeCloseTo(0.5, 2);
    const z = Array.from({ length: 20000 }, () => r.normal());
    expect(z.reduce((a, b) => a + b * b, 0) / z.length).toBeCloseTo(1, 1);
    const p = new HostRandom(1).permutation(50);
    expect([...p].sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(p).toEqual(new HostRandom(1).permutation(50));
  });
});

describe('datasets and loading', () => {
  const x = wg.tensor(Array.from({ length: 10 }, (_, i) => [i, 10 * i]));
  const y = wg.tensor(
    Array.from({ length: 10 }, (_, i) => i),
    { dtype: 'i32' },
  );
  const ds = new TensorDataset(x, y);

  it('TensorDataset gathers the samples asked for, in order', () => {
    const b = ds.getBatch([3, 0, 3]);
    expect(b.x.arraySync()).toEqual([
      [3, 30],
      [0, 0],
      [3, 30],
    ]);
    expect(labels(b.y)).toEqual([3, 0, 3]);
    expect(() => ds.getBatch([10])).toThrow(
      /TensorDataset\.getBatch: index 10 is out of range for 10 samples/,
    );
    expect(() => new TensorDataset(x, wg.zeros([9]))).toThrow(/same number of samples on axis 0/);
  });

  it('trainTestSplit makes disjoint seeded subsets that cover every sample', () => {
    const { train, test } = trainTestSplit(ds, { testFraction: 0.3, seed: 4 });
    expect([train.length, test.length]).toEqual([7, 3]);
    expect([...train.indices, ...test.indices].sort((a, b) => a - b)).toEqual([
      0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
    ]);
    expect(trainTestSplit(ds, { testFraction: 0.3, seed: 4 }).test.indices).toEqual(test.indices);
    expect(labels(test.getBatch([0, 1, 2]).y)).toEqual([...test.indices]);
    expect(new Subset(test, [2]).getBatch([0]).x.arraySync()).toEqual([
      [test.indices[2]!, 10 * test.indices[2]!],
    ]);
  });

  it('DataLoader batches in order, with a short last batch unless dropLast', () => {
    const sizes = [...new DataLoader(ds, { batchSize: 4 })].map((b) => b.x.shape[0]);
    expect(sizes).toEqual([4, 4, 2]);
    expect(new DataLoader(ds, { batchSize: 4, dropLast: true }).length).toBe(2);
    const seen: number[] = [];
    for (const b of new DataLoader(ds, { batchSize: 3 })) seen.push(...labels(b.y));
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('shuffles each epoch with seed + epoch, so runs reproduce', () => {
    const loader = new DataLoader(ds, { batchSize: 10, shuffle: true, seed: 5 });
    // Read inside the loop: the loader frees each batch when it moves on.
    const epoch = (l: DataLoader) => {
      const seen: number[] = [];
      for (const b of l) seen.push(...labels(b.y));
      return seen;
    };
    const first: number[][] = [];
    for (let e = 0; e < 3; e++) first.push(epoch(loader));
    expect(first[0]).not.toEqual(first[1]);
    for (const order of first) expect([...order].sort((a, b) => a - b)).toEqual(labels(y));
    expect(first[1]).toEqual(new HostRandom(6).permutation(10));
    const resumed = new DataLoader(ds, { batchSize: 10, shuffle: true, seed: 5 });
    resumed.epoch = 2;
    expect(epoch(resumed)).toEqual(first[2]);
  });

  it('frees each batch when the loop moves on, breaks or ends', () => {
    const loader = new DataLoader(ds, { batchSize: 2, shuffle: true });
    const before = wg.memory().tensors;
    for (const b of loader) expect(b.x.isDisposed).toBe(false);
    expect(wg.memory().tensors).toBe(before);
    for (const _ of loader) break;
    expect(wg.memory().tensors).toBe(before);
  });
});

describe('IDX', () => {
  /** An IDX file: header (big-endian dims) and raw big-endian values. */
  const idx = (code: number, dims: number[], body: number[]): Uint8Array => {
    const head = [0, 0, code, dims.length];
    for (const d of dims) head.push((d >>> 24) & 255, (d >>> 16) & 255, (d >>> 8) & 255, d & 255);
    return new Uint8Array([...head, ...body]);
  };

  it('reads every element type, big-endian', () => {
    expect(parseIdx(idx(0x08, [2, 2], [0, 1, 254, 255]))).toEqual({
      type: 'u8',
      shape: [2, 2],
      data: new Uint8Array([0, 1, 254, 255]),
    });
    expect(Array.from(parseIdx(idx(0x09, [2], [0x80, 0x7f])).data)).toEqual([-128, 127]);
    expect(Array.from(parseIdx(idx(0x0b, [1], [0xff, 0xfe])).data)).toEqual([-2]);
    expect(Array.from(parseIdx(idx(0x0c, [1], [0x00, 0x01, 0x00, 0x02])).data)).toEqual([65538]);
    expect(Array.from(parseIdx(idx(0x0d, [1], [0x3f, 0xc0, 0, 0])).data)).toEqual([1.5]);
    expect(Array.from(parseIdx(idx(0x0e, [1], [0xc0, 0x04, 0, 0, 0, 0, 0, 0])).data)).toEqual([
      -2.5,
    ]);
  });

  it('turns u8 images into f32 [n, 1, h, w] in [0, 1] and labels into i32', () => {
    const images = idxImagesToTensor(parseIdx(idx(0x08, [1, 1, 2], [0, 255])));
    expect([images.shape, images.dtype, Array.from(images.dataSync())]).toEqual([
      [1, 1, 1, 2],
      'f32',
      [0, 1],
    ]);
    const ys = idxLabelsToTensor(parseIdx(idx(0x08, [3], [7, 0, 9])));
    expect([ys.dtype, labels(ys)]).toEqual(['i32', [7, 0, 9]]);
    expect(() => idxImagesToTensor(parseIdx(idx(0x08, [3], [7, 0, 9])), 'labels.idx')).toThrow(
      /labels\.idx: expected u8 images \[n, h, w\], got u8 \[3\]/,
    );
  });

  it('names the source and the problem in a malformed file', () => {
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array([0, 0]), /f\.idx: 2 bytes is too short for an IDX header/],
      [
        new Uint8Array([0x1f, 0x8b, 8, 0]),
        /f\.idx: not an IDX file.*this is gzip data: decompress it first/,
      ],
      [new Uint8Array([0, 0, 0x07, 1, 0, 0, 0, 1, 0]), /f\.idx: unknown IDX type code 0x07/],
      [
        new Uint8Array([0, 0, 0x08, 3, 0, 0, 0, 1]),
        /f\.idx: the header declares 3 dimensions but the data ends at byte 8/,
      ],
      [
        idx(0x08, [2, 3], [1, 2, 3]),
        /f\.idx: shape \[2, 3\] of u8 needs 6 bytes of data but the file has 3; it is truncated/,
      ],
      [
        idx(0x0c, [1], [0, 0, 0, 1, 9]),
        /needs 4 bytes of data but the file has 5; there are trailing bytes/,
      ],
    ];
    for (const [bytes, message] of cases) expect(() => parseIdx(bytes, 'f.idx')).toThrow(message);
  });
});

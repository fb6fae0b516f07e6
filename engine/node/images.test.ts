import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { afterAll, describe, expect, it } from 'vitest';
import { expectClose } from '../../test/helpers/numeric.js';
import {
  decodeImage,
  loadImageFolder,
  loadImageFolderDataset,
  resizePlanes,
  toPlanes,
} from './images.js';

const root = mkdtempSync(join(tmpdir(), 'wiregrad-images-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A PNG of w×h pixels whose RGBA values `pixel(x, y)` gives. */
function png(w: number, h: number, pixel: (x: number, y: number) => number[]): Buffer {
  const img = new PNG({ width: w, height: h });
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) img.data.set(pixel(x, y), 4 * (y * w + x));
  return PNG.sync.write(img);
}

function put(path: string, bytes: Uint8Array): void {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, bytes);
}

describe('resizePlanes', () => {
  it('averages areas when shrinking, with fractional edges', () => {
    const img = Float32Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    expectClose(resizePlanes(img, 1, 4, 4, 2, 2), [3.5, 5.5, 11.5, 13.5]);
    // 3 → 2 samples: each output covers 1.5 inputs.
    expectClose(resizePlanes(Float32Array.from([0, 3, 6]), 1, 1, 3, 1, 2), [1, 5]);
  });

  it('interpolates between pixel centres when enlarging (half-pixel, clamped)', () => {
    expectClose(resizePlanes(Float32Array.from([0, 1]), 1, 1, 2, 1, 4), [0, 0.25, 0.75, 1]);
    // Each channel separately; the same size is returned unchanged.
    const two = Float32Array.from([0, 1, 10, 20]);
    expectClose(resizePlanes(two, 2, 1, 2, 1, 4), [0, 0.25, 0.75, 1, 10, 12.5, 17.5, 20]);
    expect(resizePlanes(two, 2, 1, 2, 1, 2)).toBe(two);
  });
});

describe('decoding', () => {
  it('reads PNG as luma (ITU-R 601) or RGB planes in [0, 1], ignoring alpha', () => {
    const bytes = png(2, 1, (x) => (x === 0 ? [255, 0, 0, 255] : [0, 0, 255, 0]));
    const img = decodeImage(bytes, 'a.png');
    expect([img.width, img.height]).toEqual([2, 1]);
    expectClose(toPlanes(img, 1), [0.299, 0.114], { atol: 1e-6 });
    expectClose(toPlanes(img, 3), [1, 0, 0, 0, 0, 1]);
  });

  it('reads JPEG (lossy: close to the encoded grey)', () => {
    const data = new Uint8Array(8 * 8 * 4).fill(200);
    const bytes = jpeg.encode({ width: 8, height: 8, data }, 95).data;
    const planes = toPlanes(decodeImage(bytes, 'a.jpg'), 1);
    for (const v of planes) expect(Math.abs(v - 200 / 255)).toBeLessThan(0.02);
  });

  it('names the file that does not decode and says why', () => {
    const broken = png(4, 4, () => [1, 2, 3, 255]).subarray(0, 40);
    expect(() => decodeImage(broken, 'cats/3.png')).toThrow(
      /^cats\/3\.png: cannot decode the PNG image \(.*\); the file is damaged or truncated/,
    );
    expect(() => decodeImage(new TextEncoder().encode('hello'), 'x.jpg')).toThrow(
      /^x\.jpg: not a PNG or JPEG image/,
    );
  });
});

describe('loadImageFolder', () => {
  const dir = join(root, 'shapes');
  // Two classes of different sizes and formats; sub-folder names give the classes, sorted.
  put(
    join(dir, 'light', 'b.png'),
    png(4, 4, () => [200, 200, 200, 255]),
  );
  put(
    join(dir, 'light', 'a.png'),
    png(2, 6, () => [255, 255, 255, 255]),
  );
  put(
    join(dir, 'dark', 'one.jpg'),
    jpeg.encode({ width: 8, height: 8, data: new Uint8Array(256) }, 90).data,
  );
  put(join(dir, 'dark', 'notes.txt'), new TextEncoder().encode('skipped'));
  put(join(dir, 'dark', '.hidden.png'), new Uint8Array([0]));

  it('reads sub-folders as sorted classes, resizes, and reports progress', async () => {
    const seen: string[] = [];
    const f = await loadImageFolder(dir, {
      size: [3, 3],
      onProgress: (p) => seen.push(`${p.done}/${p.total}`),
    });
    expect(f.classNames).toEqual(['dark', 'light']);
    expect(f.files.map((p) => p.slice(dir.length + 1))).toEqual([
      'dark/one.jpg',
      'light/a.png',
      'light/b.png',
    ]);
    expect([f.x.shape, f.x.dtype, Array.from(f.y.dataSync())]).toEqual([
      [3, 1, 3, 3],
      'f32',
      [0, 1, 1],
    ]);
    const x = f.x.dataSync();
    expectClose(x.subarray(9, 18), new Array(9).fill(1), { atol: 1e-6 });
    expectClose(x.subarray(18, 27), new Array(9).fill(200 / 255), { atol: 1e-6 });
    expect(Math.max(...x.subarray(0, 9))).toBeLessThan(0.02);
    expect(seen).toEqual(['1/3', '2/3', '3/3']);
    const rgb = await loadImageFolder(dir, { size: [2, 2], channels: 3 });
    expect(rgb.x.shape).toEqual([3, 3, 2, 2]);
  });

  it('splits into seeded train and test sets', async () => {
    const d = await loadImageFolderDataset(dir, { size: [2, 2], testFraction: 0.34, seed: 1 });
    expect([d.train.x.shape[0], d.test.x.shape[0]]).toEqual([2, 1]);
    expect([...d.trainFiles, ...d.testFiles].sort()).toEqual(
      (await loadImageFolder(dir)).files.slice().sort(),
    );
  });

  it('names the folder or file behind each problem', async () => {
    await expect(loadImageFolder(join(root, 'missing'))).rejects.toThrow(
      /cannot read the image folder .*missing: ENOENT/,
    );
    const flat = join(root, 'flat');
    put(
      join(flat, 'a.png'),
      png(1, 1, () => [0, 0, 0, 255]),
    );
    await expect(loadImageFolder(flat)).rejects.toThrow(/flat has no sub-folders: put the images/);
    const empty = join(root, 'emptyclass');
    put(
      join(empty, 'cat', '1.png'),
      png(1, 1, () => [0, 0, 0, 255]),
    );
    put(join(empty, 'dog', 'readme.md'), new Uint8Array([35]));
    await expect(loadImageFolder(empty)).rejects.toThrow(
      /class folder .*emptyclass\/dog has no \.png, \.jpg or \.jpeg files/,
    );
    const bad = join(root, 'bad');
    put(
      join(bad, 'cat', '1.png'),
      png(1, 1, () => [0, 0, 0, 255]),
    );
    put(join(bad, 'cat', '2.png'), new Uint8Array([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]));
    await expect(loadImageFolder(bad)).rejects.toThrow(
      /bad\/cat\/2\.png: cannot decode the PNG image/,
    );
  });
});

/**
 * Image folders for Node: `loadImageFolder(dir)` reads one sub-folder per class (classes in
 * sorted name order, files in sorted order within each), decodes PNG (pngjs) and JPEG (jpeg-js)
 * by their magic bytes, converts them to grayscale (ITU-R 601 luma, as PIL's 'L') or RGB,
 * resizes them to one size (area averaging when shrinking, bilinear when enlarging; the aspect
 * ratio is not kept) and returns x [n, C, H, W] f32 in [0, 1] (NCHW) and labels y [n] i32.
 * Alpha is ignored, as PIL's convert does. Files with other extensions and hidden files are
 * skipped; a file that does not decode is an error naming it. Memory holds the decoded images
 * only, one source image at a time.
 */

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import jpeg from 'jpeg-js';
import { WiregradError } from '../core/errors.js';
import { HostRandom } from '../data/host-random.js';
import { tensor } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';

/** A decoded image: 8-bit RGBA, row-major. */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

const IMAGE_EXTENSIONS = /\.(png|jpe?g)$/i;

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Decodes PNG or JPEG bytes (told apart by their first bytes); errors name `source`. */
export function decodeImage(bytes: Uint8Array, source: string): RgbaImage {
  const isPng = bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  try {
    if (isPng) {
      // pngjs expands every colour type and bit depth to 8-bit RGBA.
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, data: png.data };
    }
    if (isJpeg) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
      return { width: img.width, height: img.height, data: img.data };
    }
  } catch (e) {
    throw new WiregradError(
      `${source}: cannot decode the ${isPng ? 'PNG' : 'JPEG'} image (${reason(e)}); the file ` +
        'is damaged or truncated: replace it or remove it from the folder',
    );
  }
  throw new WiregradError(
    `${source}: not a PNG or JPEG image (its first bytes are neither); convert it, or remove it ` +
      'from the folder',
  );
}

/** Planar channels [C, h, w] in [0, 1]: grayscale (luma) for 1, RGB for 3. */
export function toPlanes(image: RgbaImage, channels: 1 | 3): Float32Array {
  const { width, height, data } = image;
  const n = width * height;
  const out = new Float32Array(channels * n);
  for (let p = 0; p < n; p++) {
    const r = data[4 * p]!;
    const g = data[4 * p + 1]!;
    const b = data[4 * p + 2]!;
    if (channels === 1) out[p] = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    else {
      out[p] = r / 255;
      out[n + p] = g / 255;
      out[2 * n + p] = b / 255;
    }
  }
  return out;
}

/** For each output position along one axis: the input positions it reads and their weights. */
interface Taps {
  readonly index: Int32Array;
  readonly weight: Float32Array;
  readonly start: Int32Array;
}

/**
 * Resampling weights from `from` to `to` samples: when shrinking, each output averages the
 * input interval it covers (area, with fractional edges); otherwise bilinear interpolation
 * between pixel centres (half-pixel convention, as OpenCV's INTER_LINEAR and PyTorch's
 * align_corners=False), clamped at the borders.
 */
function resampleTaps(from: number, to: number): Taps {
  const scale = from / to;
  const index: number[] = [];
  const weight: number[] = [];
  const start = new Int32Array(to + 1);
  for (let o = 0; o < to; o++) {
    start[o] = index.length;
    if (scale > 1) {
      const lo = o * scale;
      const hi = (o + 1) * scale;
      for (let i = Math.floor(lo); i < Math.min(from, Math.ceil(hi)); i++) {
        const cover = Math.min(hi, i + 1) - Math.max(lo, i);
        if (cover > 0) {
          index.push(i);
          weight.push(cover / scale);
        }
      }
    } else {
      const src = Math.min(Math.max((o + 0.5) * scale - 0.5, 0), from - 1);
      const i0 = Math.floor(src);
      const t = src - i0;
      index.push(i0);
      weight.push(1 - t);
      if (t > 0) {
        index.push(i0 + 1);
        weight.push(t);
      }
    }
  }
  start[to] = index.length;
  return { index: Int32Array.from(index), weight: Float32Array.from(weight), start };
}

/**
 * Resizes planar images [channels, h, w] to [channels, outH, outW] (see `resampleTaps`),
 * separably: along rows, then along columns.
 */
export function resizePlanes(
  planes: Float32Array,
  channels: number,
  h: number,
  w: number,
  outH: number,
  outW: number,
): Float32Array {
  if (h === outH && w === outW) return planes;
  const tx = resampleTaps(w, outW);
  const ty = resampleTaps(h, outH);
  const rows = new Float32Array(h * outW);
  const out = new Float32Array(channels * outH * outW);
  for (let c = 0; c < channels; c++) {
    const plane = c * h * w;
    for (let y = 0; y < h; y++)
      for (let x = 0; x < outW; x++) {
        let s = 0;
        for (let k = tx.start[x]!; k < tx.start[x + 1]!; k++)
          s += tx.weight[k]! * planes[plane + y * w + tx.index[k]!]!;
        rows[y * outW + x] = s;
      }
    const o = c * outH * outW;
    for (let y = 0; y < outH; y++)
      for (let x = 0; x < outW; x++) {
        let s = 0;
        for (let k = ty.start[y]!; k < ty.start[y + 1]!; k++)
          s += ty.weight[k]! * rows[ty.index[k]! * outW + x]!;
        out[o + y * outW + x] = s;
      }
  }
  return out;
}

export interface ImageFolderProgress {
  readonly done: number;
  readonly total: number;
  /** The file just read. */
  readonly file: string;
}

export interface ImageFolderOptions {
  /** [height, width] every image is resized to (default [28, 28]). */
  readonly size?: readonly [number, number];
  /** 1: grayscale, 3: RGB (default 1). */
  readonly channels?: 1 | 3;
  readonly onProgress?: (progress: ImageFolderProgress) => void;
}

export interface ImageFolder {
  /** Images [n, C, H, W] f32 in [0, 1]. */
  readonly x: Tensor;
  /** Class indices [n] i32: the position of the image's folder among the sorted class names. */
  readonly y: Tensor;
  readonly classNames: readonly string[];
  /** The image files, in the order of x. */
  readonly files: readonly string[];
}

async function listDir(path: string, what: string) {
  try {
    return await readdir(path, { withFileTypes: true });
  } catch (e) {
    throw new WiregradError(`cannot read ${what} ${path}: ${reason(e)}`);
  }
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The image files of `dir`, one sub-folder per class, without reading them. */
export async function listImageFolder(
  dir: string,
): Promise<{ classNames: string[]; files: string[]; labels: number[] }> {
  const entries = await listDir(dir, 'the image folder');
  const classNames = entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort(byName);
  if (classNames.length === 0)
    throw new WiregradError(
      `${dir} has no sub-folders: put the images of each class in a folder of its own ` +
        `(${join(dir, 'cat', '1.png')}, ${join(dir, 'dog', '1.jpg')}, …)`,
    );
  const files: string[] = [];
  const labels: number[] = [];
  for (const [label, name] of classNames.entries()) {
    const folder = join(dir, name);
    const images = (await listDir(folder, 'the class folder'))
      .filter((e) => e.isFile() && !e.name.startsWith('.') && IMAGE_EXTENSIONS.test(e.name))
      .map((e) => e.name)
      .sort(byName);
    if (images.length === 0)
      throw new WiregradError(
        `class folder ${folder} has no .png, .jpg or .jpeg files; add images or remove the folder`,
      );
    for (const f of images) {
      files.push(join(folder, f));
      labels.push(label);
    }
  }
  return { classNames, files, labels };
}

/** Reads every image of a class-per-folder tree as x [n, C, H, W] and labels y [n]. */
export async function loadImageFolder(
  dir: string,
  options: ImageFolderOptions = {},
): Promise<ImageFolder> {
  const [height, width] = options.size ?? [28, 28];
  const channels = options.channels ?? 1;
  if (![height, width].every((d) => Number.isInteger(d) && d > 0))
    throw new WiregradError(`image size must be two positive integers, got [${height}, ${width}]`);
  const { classNames, files, labels } = await listImageFolder(dir);
  const per = channels * height * width;
  const pixels = new Float32Array(files.length * per);
  for (const [i, file] of files.entries()) {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file);
    } catch (e) {
      throw new WiregradError(`cannot read image ${file}: ${reason(e)}`);
    }
    const image = decodeImage(bytes, file);
    if (image.width === 0 || image.height === 0)
      throw new WiregradError(`${file}: the image is empty (0 pixels)`);
    const planes = toPlanes(image, channels);
    pixels.set(resizePlanes(planes, channels, image.height, image.width, height, width), i * per);
    options.onProgress?.({ done: i + 1, total: files.length, file });
  }
  return {
    x: tensor(pixels, { shape: [files.length, channels, height, width], dtype: 'f32' }),
    y: tensor(Int32Array.from(labels), { shape: [files.length], dtype: 'i32' }),
    classNames,
    files,
  };
}

export interface ImageSplit {
  readonly x: Tensor;
  readonly y: Tensor;
}

export interface ImageFolderDataset {
  readonly train: ImageSplit;
  readonly test: ImageSplit;
  readonly classNames: readonly string[];
  readonly trainFiles: readonly string[];
  readonly testFiles: readonly string[];
}

/**
 * An image folder split into train and test sets by a seeded shuffle (the first
 * `testFraction` of the permutation is the test set).
 */
export async function loadImageFolderDataset(
  dir: string,
  options: ImageFolderOptions & { readonly testFraction?: number; readonly seed?: number } = {},
): Promise<ImageFolderDataset> {
  const { testFraction = 0.2, seed = 0 } = options;
  if (!(testFraction >= 0 && testFraction < 1))
    throw new WiregradError(`testFraction must be in [0, 1), got ${testFraction}`);
  const all = await loadImageFolder(dir, options);
  const n = all.files.length;
  const order = new HostRandom(seed).permutation(n);
  const nTest = Math.round(n * testFraction);
  const pick = (rows: readonly number[]): ImageSplit => {
    const [, c, h, w] = all.x.shape as [number, number, number, number];
    const per = c * h * w;
    const src = all.x.dataSync();
    const labels = all.y.dataSync();
    const x = new Float32Array(rows.length * per);
    rows.forEach((r, i) => x.set(src.subarray(r * per, (r + 1) * per), i * per));
    return {
      x: tensor(x, { shape: [rows.length, c, h, w], dtype: 'f32' }),
      y: tensor(
        Int32Array.from(rows, (r) => labels[r]!),
        { shape: [rows.length], dtype: 'i32' },
      ),
    };
  };
  const testRows = order.slice(0, nTest);
  const trainRows = order.slice(nTest);
  const split = {
    train: pick(trainRows),
    test: pick(testRows),
    classNames: all.classNames,
    trainFiles: trainRows.map((r) => all.files[r]!),
    testFiles: testRows.map((r) => all.files[r]!),
  };
  all.x.dispose();
  all.y.dispose();
  return split;
}

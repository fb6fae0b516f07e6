/**
 * The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/), pure: two zero
 * bytes, a type code (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64), the number of
 * dimensions, each dimension as a big-endian u32, then the values, big-endian, row-major.
 * `parseIdx` checks the header and that the data fills the shape exactly, naming the source
 * in every error. Decompression (the files ship gzipped) is the host's job: engine/node/idx.ts.
 */

import { WiregradError, formatShape } from '../core/errors.js';
import { tensor } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';

export type IdxType = 'u8' | 'i8' | 'i16' | 'i32' | 'f32' | 'f64';

export interface IdxArray {
  readonly type: IdxType;
  readonly shape: readonly number[];
  readonly data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

const TYPES: Readonly<Record<number, { readonly type: IdxType; readonly bytes: number }>> = {
  0x08: { type: 'u8', bytes: 1 },
  0x09: { type: 'i8', bytes: 1 },
  0x0b: { type: 'i16', bytes: 2 },
  0x0c: { type: 'i32', bytes: 4 },
  0x0d: { type: 'f32', bytes: 4 },
  0x0e: { type: 'f64', bytes: 8 },
};

/** Parses IDX `bytes`; `source` (a file name) is named in errors. */
export function parseIdx(bytes: Uint8Array, source = 'IDX data'): IdxArray {
  const fail = (message: string): never => {
    throw new WiregradError(`${source}: ${message}`);
  };
  if (bytes.length < 4)
    fail(`${bytes.length} bytes is too short for an IDX header (4 bytes at least); truncated?`);
  if (bytes[0] !== 0 || bytes[1] !== 0)
    fail(
      `not an IDX file: it must start with two zero bytes, got 0x${hex(bytes[0]!)} 0x${hex(bytes[1]!)}` +
        (bytes[0] === 0x1f && bytes[1] === 0x8b ? ' (this is gzip data: decompress it first)' : ''),
    );
  const code = bytes[2]!;
  const kind = TYPES[code];
  if (!kind)
    fail(
      `unknown IDX type code 0x${hex(code)} (expected 0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, ` +
        `0x0D f32 or 0x0E f64)`,
    );
  const { type, bytes: width } = kind!;
  const rank = bytes[3]!;
  const dataStart = 4 + 4 * rank;
  if (bytes.length < dataStart)
    fail(
      `the header declares ${rank} dimensions but the data ends at byte ${bytes.length}; truncated`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shape: number[] = [];
  for (let d = 0; d < rank; d++) shape.push(view.getUint32(4 + 4 * d, false));
  const size = shape.reduce((a, b) => a * b, 1);
  const need = size * width;
  const have = bytes.length - dataStart;
  if (have !== need)
    fail(
      `shape ${formatShape(shape)} of ${type} needs ${need} bytes of data but the file has ` +
        `${have}` +
        (have < need ? '; it is truncated' : '; there are trailing bytes'),
    );
  const data = readBigEndian(type, view, dataStart, size);
  return { type, shape, data };
}

function hex(v: number): string {
  return v.toString(16).padStart(2, '0').toUpperCase();
}

function readBigEndian(
  type: IdxType,
  view: DataView,
  start: number,
  size: number,
): IdxArray['data'] {
  switch (type) {
    case 'u8':
      return new Uint8Array(
        view.buffer.slice(view.byteOffset + start, view.byteOffset + start + size),
      );
    case 'i8':
      return new Int8Array(
        view.buffer.slice(view.byteOffset + start, view.byteOffset + start + size),
      );
    case 'i16': {
      const out = new Int16Array(size);
      for (let i = 0; i < size; i++) out[i] = view.getInt16(start + 2 * i, false);
      return out;
    }
    case 'i32': {
      const out = new Int32Array(size);
      for (let i = 0; i < size; i++) out[i] = view.getInt32(start + 4 * i, false);
      return out;
    }
    case 'f32': {
      const out = new Float32Array(size);
      for (let i = 0; i < size; i++) out[i] = view.getFloat32(start + 4 * i, false);
      return out;
    }
    case 'f64': {
      const out = new Float64Array(size);
      for (let i = 0; i < size; i++) out[i] = view.getFloat64(start + 8 * i, false);
      return out;
    }
    default:
      return type satisfies never;
  }
}

/**
 * Images [n, h, w] of u8 pixels as an f32 tensor [n, 1, h, w] in [0, 1] (NCHW, one channel).
 */
export function idxImagesToTensor(idx: IdxArray, source = 'IDX data'): Tensor {
  if (idx.type !== 'u8' || idx.shape.length !== 3)
    throw new WiregradError(
      `${source}: expected u8 images [n, h, w], got ${idx.type} ${formatShape(idx.shape)}`,
    );
  const [n, h, w] = idx.shape as [number, number, number];
  const pixels = Float32Array.from(idx.data, (v) => v / 255);
  return tensor(pixels, { shape: [n, 1, h, w], dtype: 'f32' });
}

/** Labels [n] of an integer type as an i32 tensor [n]. */
export function idxLabelsToTensor(idx: IdxArray, source = 'IDX data'): Tensor {
  if (idx.type === 'f32' || idx.type === 'f64' || idx.shape.length !== 1)
    throw new WiregradError(
      `${source}: expected integer labels [n], got ${idx.type} ${formatShape(idx.shape)}`,
    );
  return tensor(Int32Array.from(idx.data), { shape: [...idx.shape], dtype: 'i32' });
}

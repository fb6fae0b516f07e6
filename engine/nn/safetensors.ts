/**
 * The safetensors format (https://github.com/huggingface/safetensors), pure and in memory: an
 * 8-byte little-endian header length N, N bytes of UTF-8 JSON mapping each tensor name to
 * `{dtype, shape, data_offsets: [begin, end]}` (offsets into the byte buffer that follows the
 * header) plus an optional `__metadata__` string-to-string map, then the tensors' raw
 * little-endian bytes. As the reference implementation does, we pad the header with spaces to a
 * multiple of 8 bytes and store tensors by descending element size then by name, so every
 * tensor starts aligned to its element size. The loader checks what the reference checks (the
 * byte buffer is covered exactly, with no holes or overlaps) and names what is wrong.
 *
 * Wiregrad writes F32, F64, I32 and BOOL. It also reads the dtypes PyTorch checkpoints commonly
 * hold: F16 and BF16 (widened to f32) and I64, I16, I8, U8 (narrowed to i32, with a range check).
 * File access is the host's business: see engine/node/weights.ts.
 */

import { type DType, type TypedArray, bytesPerElement } from '../core/dtype.js';
import { WiregradError, formatShape } from '../core/errors.js';
import { sizeOf } from '../core/shape.js';
import { tensor } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';

/** The reference implementation refuses headers above 100 MB; so do we. */
const MAX_HEADER_BYTES = 100_000_000;

const WRITE_CODES: Readonly<Record<DType, string>> = {
  f32: 'F32',
  f64: 'F64',
  i32: 'I32',
  bool: 'BOOL',
};

/** Every dtype we read: its size in the file and the wiregrad dtype it becomes. */
const READ_CODES: Readonly<Record<string, { readonly bytes: number; readonly dtype: DType }>> = {
  F64: { bytes: 8, dtype: 'f64' },
  F32: { bytes: 4, dtype: 'f32' },
  F16: { bytes: 2, dtype: 'f32' },
  BF16: { bytes: 2, dtype: 'f32' },
  I64: { bytes: 8, dtype: 'i32' },
  I32: { bytes: 4, dtype: 'i32' },
  I16: { bytes: 2, dtype: 'i32' },
  I8: { bytes: 1, dtype: 'i32' },
  U8: { bytes: 1, dtype: 'i32' },
  BOOL: { bytes: 1, dtype: 'bool' },
};

/** One tensor's entry in a safetensors header. */
export interface SafetensorsEntry {
  readonly name: string;
  /** The dtype code as written in the file (`F32`, `I64`, …). */
  readonly fileDType: string;
  readonly shape: readonly number[];
  /** Byte range within the data section (after the header). */
  readonly dataOffsets: readonly [number, number];
}

export interface SafetensorsHeader {
  readonly metadata: Readonly<Record<string, string>>;
  readonly entries: readonly SafetensorsEntry[];
  /** Byte offset of the data section within the file (8 + header length). */
  readonly dataStart: number;
}

function fail(message: string): never {
  throw new WiregradError(`safetensors: ${message}`);
}

// Typed-array views use the host's byte order; the format is little-endian. Every host the
// engine runs on (x86, ARM in its usual mode) is little-endian; refuse loudly otherwise.
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
function requireLittleEndian(): void {
  if (!LITTLE_ENDIAN) fail('this host is big-endian, which the safetensors codec does not support');
}

interface PendingTensor {
  readonly name: string;
  readonly dtype: DType;
  readonly shape: readonly number[];
  readonly data: TypedArray;
}

/**
 * Serialises `tensors` (CPU tensors, read synchronously) to safetensors bytes. `metadata` goes
 * into `__metadata__`; its values must be strings, as the format requires.
 */
export function saveSafetensors(
  tensors: ReadonlyMap<string, Tensor>,
  metadata?: Readonly<Record<string, string>>,
): Uint8Array {
  const pending = [...tensors].map(([name, t]) => ({
    name,
    dtype: t.dtype,
    shape: t.shape,
    data: t.dataSync(),
  }));
  return encode(pending, metadata);
}

/** Like `saveSafetensors`, for tensors on any device (reads them with `await t.data()`). */
export async function saveSafetensorsAsync(
  tensors: ReadonlyMap<string, Tensor>,
  metadata?: Readonly<Record<string, string>>,
): Promise<Uint8Array> {
  const pending: PendingTensor[] = [];
  for (const [name, t] of tensors)
    pending.push({ name, dtype: t.dtype, shape: t.shape, data: await t.data() });
  return encode(pending, metadata);
}

function encode(
  tensors: readonly PendingTensor[],
  metadata: Readonly<Record<string, string>> | undefined,
): Uint8Array {
  requireLittleEndian();
  for (const t of tensors) {
    if (t.name === '' || t.name === '__metadata__')
      fail(`'${t.name}' cannot be a tensor name (empty or reserved); rename the tensor`);
  }
  if (metadata)
    for (const [k, v] of Object.entries(metadata))
      if (typeof v !== 'string')
        fail(
          `metadata '${k}' is ${typeof v}; __metadata__ values must be strings (JSON-encode it)`,
        );
  // Widest elements first, then by name: every tensor then starts at a multiple of its size.
  const order = [...tensors].sort(
    (a, b) =>
      bytesPerElement(b.dtype) - bytesPerElement(a.dtype) ||
      (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = { ...metadata };
  let offset = 0;
  for (const t of order) {
    const bytes = t.data.byteLength;
    header[t.name] = {
      dtype: WRITE_CODES[t.dtype],
      shape: [...t.shape],
      data_offsets: [offset, offset + bytes],
    };
    offset += bytes;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  if (padded !== json.length) {
    const withSpaces = new Uint8Array(padded).fill(0x20);
    withSpaces.set(json);
    json = withSpaces;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const view = new DataView(out.buffer);
  view.setUint32(0, json.length, true);
  view.setUint32(4, Math.floor(json.length / 2 ** 32), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const t of order) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), at);
    at += t.data.byteLength;
  }
  return out;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const isCount = (v: unknown): v is number =>
  typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** Parses and validates the header of safetensors `bytes` without reading tensor data. */
export function readSafetensorsHeader(bytes: Uint8Array): SafetensorsHeader {
  if (bytes.length < 8)
    fail(
      `the data is ${bytes.length} bytes, too short for the 8-byte header length; ` +
        `the file is truncated or not a safetensors file`,
    );
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (length > MAX_HEADER_BYTES)
    fail(
      `the header length field says ${length} bytes (over the 100 MB limit); ` +
        `this is not a safetensors file, or its first 8 bytes are corrupt`,
    );
  if (8 + length > bytes.length)
    fail(
      `the header length field says ${length} bytes but only ${bytes.length - 8} follow it; ` +
        `the file is truncated`,
    );
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + length));
  } catch {
    fail('the header is not valid UTF-8');
  }
  if (!text.startsWith('{'))
    fail(
      `the header must be a JSON object starting with '{', got ${JSON.stringify(text.slice(0, 20))}`,
    );
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    fail(`the header is not valid JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!isRecord(parsed)) fail('the header must be a JSON object');

  const dataLength = bytes.length - 8 - length;
  let metadata: Record<string, string> = {};
  const entries: SafetensorsEntry[] = [];
  for (const [name, value] of Object.entries(parsed)) {
    if (name === '__metadata__') {
      if (!isRecord(value) || !Object.values(value).every((v) => typeof v === 'string'))
        fail('__metadata__ must be an object whose values are strings');
      metadata = value as Record<string, string>;
      continue;
    }
    entries.push(parseEntry(name, value, dataLength));
  }

  // The reference loader requires the data section to be covered exactly: no holes, no
  // overlaps, nothing trailing (so a file cannot smuggle other content).
  const byOffset = [...entries].sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0]);
  let end = 0;
  let previous = '';
  for (const e of byOffset) {
    const [begin, stop] = e.dataOffsets;
    if (begin < end)
      fail(`tensor '${e.name}' overlaps tensor '${previous}' (bytes ${begin}..${end})`);
    if (begin > end)
      fail(`there are ${begin - end} unused bytes before tensor '${e.name}' (at data byte ${end})`);
    end = stop;
    previous = e.name;
  }
  if (end !== dataLength)
    fail(
      `the data section has ${dataLength} bytes but the tensors cover ${end}; ` +
        (end < dataLength ? 'there are trailing bytes' : 'the file is truncated'),
    );
  return { metadata, entries, dataStart: 8 + length };
}

function parseEntry(name: string, value: unknown, dataLength: number): SafetensorsEntry {
  if (!isRecord(value)) fail(`tensor '${name}': its header entry must be an object`);
  const { dtype, shape, data_offsets: offsets } = value;
  if (typeof dtype !== 'string' || !(dtype in READ_CODES))
    fail(
      `tensor '${name}': unsupported dtype ${JSON.stringify(dtype)} ` +
        `(wiregrad reads ${Object.keys(READ_CODES).join(', ')})`,
    );
  if (!Array.isArray(shape) || !shape.every(isCount))
    fail(
      `tensor '${name}': shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`,
    );
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every(isCount))
    fail(
      `tensor '${name}': data_offsets must be [begin, end] with non-negative integers, ` +
        `got ${JSON.stringify(offsets)}`,
    );
  const [begin, end] = offsets as [number, number];
  if (begin > end) fail(`tensor '${name}': data_offsets [${begin}, ${end}] end before they begin`);
  if (end > dataLength)
    fail(
      `tensor '${name}': data_offsets [${begin}, ${end}] reach past the data section ` +
        `(${dataLength} bytes); the file is truncated`,
    );
  const need = sizeOf(shape as number[]) * READ_CODES[dtype]!.bytes;
  if (end - begin !== need)
    fail(
      `tensor '${name}': data_offsets [${begin}, ${end}] span ${end - begin} bytes, but ` +
        `${formatShape(shape as number[])} of ${dtype} needs ${need}`,
    );
  return { name, fileDType: dtype, shape: shape as number[], dataOffsets: [begin, end] };
}

/** The `__metadata__` map of safetensors `bytes` (empty when there is none). */
export function safetensorsMetadata(bytes: Uint8Array): Record<string, string> {
  return { ...readSafetensorsHeader(bytes).metadata };
}

/**
 * Parses safetensors `bytes` into new tensors (on the default device), in header order. The
 * tensors belong to the caller (or to the enclosing `tidy`).
 */
export function loadSafetensors(bytes: Uint8Array): Map<string, Tensor> {
  requireLittleEndian();
  const header = readSafetensorsHeader(bytes);
  const out = new Map<string, Tensor>();
  for (const e of header.entries) {
    const raw = bytes.subarray(
      header.dataStart + e.dataOffsets[0],
      header.dataStart + e.dataOffsets[1],
    );
    const { dtype } = READ_CODES[e.fileDType]!;
    out.set(e.name, tensor(decode(e, raw), { shape: e.shape, dtype }));
  }
  return out;
}

/** Converts one tensor's bytes to the typed array of the wiregrad dtype it becomes. */
function decode(e: SafetensorsEntry, raw: Uint8Array): TypedArray {
  // Copy into a fresh, aligned buffer: the tensor may sit at any file offset. (Not `slice()`:
  // on a Node Buffer that returns a view of the shared pool.)
  const aligned = new Uint8Array(raw).buffer;
  switch (e.fileDType) {
    case 'F32':
      return new Float32Array(aligned);
    case 'F64':
      return new Float64Array(aligned);
    case 'I32':
      return new Int32Array(aligned);
    case 'BOOL':
      return Uint8Array.from(raw, (v) => (v !== 0 ? 1 : 0));
    case 'U8':
      return Int32Array.from(raw);
    case 'I8':
      return Int32Array.from(new Int8Array(aligned));
    case 'I16':
      return Int32Array.from(new Int16Array(aligned));
    case 'I64': {
      const wide = new BigInt64Array(aligned);
      const out = new Int32Array(wide.length);
      for (let i = 0; i < wide.length; i++) {
        const v = wide[i]!;
        if (v > 2147483647n || v < -2147483648n)
          fail(
            `tensor '${e.name}' (I64) holds ${v} at element ${i}, outside the i32 range; ` +
              `wiregrad has no 64-bit integers`,
          );
        out[i] = Number(v);
      }
      return out;
    }
    case 'F16':
      return Float32Array.from(new Uint16Array(aligned), halfToFloat);
    case 'BF16': {
      // bfloat16 is the top half of a float32.
      const halves = new Uint16Array(aligned);
      const bits = new Uint32Array(halves.length);
      for (let i = 0; i < halves.length; i++) bits[i] = halves[i]! << 16;
      return new Float32Array(bits.buffer);
    }
    default:
      return fail(`tensor '${e.name}': unsupported dtype ${e.fileDType}`);
  }
}

/** IEEE 754 binary16 to a number (exact: every half is a float32). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

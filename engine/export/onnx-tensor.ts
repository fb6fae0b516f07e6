/**
 * Reading ONNX tensors (initializers and Constant values) into plain numbers: raw_data in
 * little-endian order or the typed `*_data` fields, for the element types models hold in
 * practice (float, double, half, the integer widths, bool). 64-bit integers become numbers;
 * shape arithmetic in exported models stays far inside 2^53. External data (weights in a side
 * file) is refused with a message saying how to re-save the model.
 */

import { WiregradError } from '../core/errors.js';
import { sizeOf } from '../core/shape.js';
import { ONNX_DTYPE, type OnnxTensor } from './onnx-proto.js';

/** Element types an imported constant keeps (int64 stays distinct until it becomes i32). */
export type ConstType = 'f32' | 'f64' | 'i32' | 'i64' | 'bool';

/** A constant known at import time. 'N' marks an element that is the batch size (from Shape). */
export interface ConstValue {
  readonly type: ConstType;
  readonly shape: readonly number[];
  readonly data: readonly (number | 'N')[];
}

export function constTypeOf(dataType: number | undefined, what: string): ConstType {
  switch (dataType) {
    case ONNX_DTYPE.FLOAT:
    case ONNX_DTYPE.FLOAT16:
    case ONNX_DTYPE.BFLOAT16:
      return 'f32';
    case ONNX_DTYPE.DOUBLE:
      return 'f64';
    case ONNX_DTYPE.INT64:
    case ONNX_DTYPE.UINT32:
    case ONNX_DTYPE.UINT64:
      return 'i64';
    case ONNX_DTYPE.INT32:
    case ONNX_DTYPE.INT16:
    case ONNX_DTYPE.INT8:
    case ONNX_DTYPE.UINT8:
    case ONNX_DTYPE.UINT16:
      return 'i32';
    case ONNX_DTYPE.BOOL:
      return 'bool';
    default:
      throw new WiregradError(
        `ONNX: ${what} has element type ${dataType ?? 'undefined'}, which Wiregrad does not read ` +
          `(it reads float, double, half, integers and bool)`,
      );
  }
}

function half(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

/** The elements of raw little-endian bytes of ONNX element type `dataType`. */
function fromRaw(dataType: number, raw: Uint8Array, count: number, what: string): number[] {
  const buffer = new Uint8Array(raw).buffer; // aligned copy
  const need = (bytes: number) => {
    if (raw.byteLength !== count * bytes)
      throw new WiregradError(
        `ONNX: ${what} holds ${raw.byteLength} bytes, but its shape needs ${count * bytes}`,
      );
  };
  switch (dataType) {
    case ONNX_DTYPE.FLOAT:
      need(4);
      return Array.from(new Float32Array(buffer));
    case ONNX_DTYPE.DOUBLE:
      need(8);
      return Array.from(new Float64Array(buffer));
    case ONNX_DTYPE.FLOAT16:
      need(2);
      return Array.from(new Uint16Array(buffer), half);
    case ONNX_DTYPE.BFLOAT16:
      need(2);
      return Array.from(
        new Uint16Array(buffer),
        (b) => new Float32Array(new Uint32Array([b << 16]).buffer)[0]!,
      );
    case ONNX_DTYPE.INT64:
      need(8);
      return Array.from(new BigInt64Array(buffer), Number);
    case ONNX_DTYPE.UINT64:
      need(8);
      return Array.from(new BigUint64Array(buffer), Number);
    case ONNX_DTYPE.INT32:
      need(4);
      return Array.from(new Int32Array(buffer));
    case ONNX_DTYPE.UINT32:
      need(4);
      return Array.from(new Uint32Array(buffer));
    case ONNX_DTYPE.INT16:
      need(2);
      return Array.from(new Int16Array(buffer));
    case ONNX_DTYPE.UINT16:
      need(2);
      return Array.from(new Uint16Array(buffer));
    case ONNX_DTYPE.INT8:
      need(1);
      return Array.from(new Int8Array(buffer));
    case ONNX_DTYPE.UINT8:
    case ONNX_DTYPE.BOOL:
      need(1);
      return Array.from(raw);
    default:
      throw new WiregradError(
        `ONNX: ${what} has element type ${dataType}, which Wiregrad does not read`,
      );
  }
}

/** An ONNX tensor as a ConstValue. `what` names it in errors ("initializer 'fc1.weight'"). */
export function readTensor(t: OnnxTensor, what: string): ConstValue {
  if (t.dataLocation === 1)
    throw new WiregradError(
      `ONNX: ${what} keeps its data in an external file, which Wiregrad does not read; save ` +
        `the model with its weights inside (onnx.save(model, path, save_as_external_data=False))`,
    );
  const shape = (t.dims ?? []).map(Number);
  const type = constTypeOf(t.dataType, what);
  const count = sizeOf(shape);
  const dataType = t.dataType!;
  let data: number[];
  if (t.rawData && t.rawData.byteLength > 0) data = fromRaw(dataType, t.rawData, count, what);
  else if (t.floatData && t.floatData.length > 0) data = [...t.floatData];
  else if (t.doubleData && t.doubleData.length > 0) data = [...t.doubleData];
  else if (t.int64Data && t.int64Data.length > 0) data = t.int64Data.map(Number);
  else if (t.uint64Data && t.uint64Data.length > 0) data = t.uint64Data.map(Number);
  else if (t.int32Data && t.int32Data.length > 0)
    data =
      dataType === ONNX_DTYPE.FLOAT16
        ? t.int32Data.map(half)
        : dataType === ONNX_DTYPE.BFLOAT16
          ? t.int32Data.map((b) => new Float32Array(new Uint32Array([b << 16]).buffer)[0]!)
          : [...t.int32Data];
  else data = [];
  if (data.length !== count)
    throw new WiregradError(
      `ONNX: ${what} holds ${data.length} values, but its shape [${shape.join(', ')}] needs ${count}`,
    );
  return { type, shape, data };
}

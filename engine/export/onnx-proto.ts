/**
 * The slice of ONNX's protobuf schema (onnx/onnx.proto) that Wiregrad reads and writes, as plain
 * objects: ModelProto, GraphProto, NodeProto, TensorProto, ValueInfoProto, TypeProto,
 * TensorShapeProto, AttributeProto, OperatorSetIdProto and StringStringEntryProto, with the
 * field names of the standard in camelCase. The bytes are read and written by the hand-written
 * codec in `onnx-wire.ts` (no generated code, so it runs under a strict Content-Security-Policy).
 * Fields we do not model (training info, sparse tensors, functions) are skipped when decoding.
 * `encodeModel` and `decodeModel` convert between bytes and the plain objects below, with
 * 64-bit integers as JS numbers: dims and attribute ints fit in 53 bits in practice, and the
 * huge ones exporters write as "to the end" (INT64_MAX in Slice ends) only need to stay huge.
 */

import { WiregradError } from '../core/errors.js';
import { WireError, decodeModelWire, encodeModelWire } from './onnx-wire.js';

/** TensorProto.DataType codes used here. */
export const ONNX_DTYPE = {
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  BFLOAT16: 16,
} as const;

/** The doc_string Wiregrad gives initializers that hold constants (not trainable weights). */
export const CONSTANT_DOC = 'wiregrad:constant';

/** AttributeProto.AttributeType codes. */
export const ATTR_TYPE = {
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
} as const;

export interface OnnxTensor {
  dims?: number[];
  dataType?: number;
  floatData?: number[];
  int32Data?: number[];
  int64Data?: number[];
  doubleData?: number[];
  uint64Data?: number[];
  name?: string;
  docString?: string;
  rawData?: Uint8Array;
  stringData?: Uint8Array[];
  externalData?: { key?: string; value?: string }[];
  dataLocation?: number;
}

export interface OnnxDimension {
  dimValue?: number;
  dimParam?: string;
  denotation?: string;
}

export interface OnnxType {
  tensorType?: { elemType?: number; shape?: { dim?: OnnxDimension[] } };
  denotation?: string;
}

export interface OnnxValueInfo {
  name?: string;
  type?: OnnxType;
  docString?: string;
}

export interface OnnxAttribute {
  name?: string;
  type?: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: OnnxTensor;
  g?: OnnxGraph;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
  tensors?: OnnxTensor[];
  graphs?: OnnxGraph[];
  docString?: string;
  refAttrName?: string;
}

export interface OnnxNode {
  input?: string[];
  output?: string[];
  name?: string;
  opType?: string;
  domain?: string;
  attribute?: OnnxAttribute[];
  docString?: string;
}

export interface OnnxGraph {
  node?: OnnxNode[];
  name?: string;
  initializer?: OnnxTensor[];
  docString?: string;
  input?: OnnxValueInfo[];
  output?: OnnxValueInfo[];
  valueInfo?: OnnxValueInfo[];
}

export interface OnnxModel {
  irVersion?: number;
  opsetImport?: { domain?: string; version?: number }[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph?: OnnxGraph;
  metadataProps?: { key?: string; value?: string }[];
}

/** Serialises a model to the ONNX binary format. */
export function encodeModel(m: OnnxModel): Uint8Array {
  return encodeModelWire(m);
}

/** Parses ONNX bytes (a ModelProto) into plain objects; throws a readable error if they are not. */
export function decodeModel(bytes: Uint8Array): OnnxModel {
  let out: OnnxModel;
  try {
    out = decodeModelWire(bytes);
  } catch (e) {
    if (!(e instanceof WireError)) throw e;
    throw new WiregradError(`ONNX: the file is not an ONNX model (a ModelProto): ${e.message}`);
  }
  if (!out.graph)
    throw new WiregradError('ONNX: the model has no graph; is this an ONNX model file?');
  return out;
}

/** The string value of a bytes field (ONNX strings are UTF-8 bytes). */
export function utf8(bytes: Uint8Array | undefined): string {
  return bytes ? new TextDecoder().decode(bytes) : '';
}

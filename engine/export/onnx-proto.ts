/**
 * The slice of ONNX's protobuf schema (onnx/onnx.proto3) that Wiregrad reads and writes, as
 * protobufjs reflection definitions: ModelProto, GraphProto, NodeProto, TensorProto,
 * ValueInfoProto, TypeProto, TensorShapeProto, AttributeProto, OperatorSetIdProto and
 * StringStringEntryProto, with the field numbers of the standard. Fields we do not model
 * (training info, sparse tensors, functions) are skipped when decoding, as protobuf allows.
 * `encodeModel` and `decodeModel` convert between bytes and the plain objects below, with
 * 64-bit integers as JS numbers: dims and attribute ints fit in 53 bits in practice, and the
 * huge ones exporters write as "to the end" (INT64_MAX in Slice ends) only need to stay huge.
 */

import protobuf from 'protobufjs/light.js';
import { WiregradError } from '../core/errors.js';

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
  dataLocation?: number;
}

export interface OnnxDimension {
  dimValue?: number;
  dimParam?: string;
}

export interface OnnxType {
  tensorType?: { elemType?: number; shape?: { dim?: OnnxDimension[] } };
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
  docString?: string;
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

const field = (type: string, id: number) => ({ type, id });
// onnx.proto is proto2: fields have explicit presence, so a zero (keepdims=0) is written out.
const PROTO2 = { edition: 'proto2' };
const repeated = (type: string, id: number) => ({ rule: 'repeated', type, id });

/** The schema as protobufjs JSON; names are camelCase, numbers are the standard's. */
const SCHEMA = {
  nested: {
    onnx: {
      nested: {
        StringStringEntryProto: {
          ...PROTO2,
          fields: { key: field('string', 1), value: field('string', 2) },
        },
        OperatorSetIdProto: {
          ...PROTO2,
          fields: { domain: field('string', 1), version: field('int64', 2) },
        },
        TensorProto: {
          ...PROTO2,
          fields: {
            dims: repeated('int64', 1),
            dataType: field('int32', 2),
            floatData: repeated('float', 4),
            int32Data: repeated('int32', 5),
            stringData: repeated('bytes', 6),
            int64Data: repeated('int64', 7),
            name: field('string', 8),
            rawData: field('bytes', 9),
            doubleData: repeated('double', 10),
            uint64Data: repeated('uint64', 11),
            docString: field('string', 12),
            externalData: repeated('StringStringEntryProto', 13),
            dataLocation: field('int32', 14),
          },
        },
        TensorShapeProto: {
          ...PROTO2,
          fields: { dim: repeated('Dimension', 1) },
          nested: {
            Dimension: {
              ...PROTO2,
              oneofs: { value: { oneof: ['dimValue', 'dimParam'] } },
              fields: {
                dimValue: field('int64', 1),
                dimParam: field('string', 2),
                denotation: field('string', 3),
              },
            },
          },
        },
        TypeProto: {
          ...PROTO2,
          oneofs: { value: { oneof: ['tensorType'] } },
          fields: { tensorType: field('Tensor', 1), denotation: field('string', 6) },
          nested: {
            Tensor: {
              ...PROTO2,
              fields: { elemType: field('int32', 1), shape: field('TensorShapeProto', 2) },
            },
          },
        },
        ValueInfoProto: {
          ...PROTO2,
          fields: {
            name: field('string', 1),
            type: field('TypeProto', 2),
            docString: field('string', 3),
          },
        },
        AttributeProto: {
          ...PROTO2,
          fields: {
            name: field('string', 1),
            f: field('float', 2),
            i: field('int64', 3),
            s: field('bytes', 4),
            t: field('TensorProto', 5),
            g: field('GraphProto', 6),
            floats: repeated('float', 7),
            ints: repeated('int64', 8),
            strings: repeated('bytes', 9),
            tensors: repeated('TensorProto', 10),
            graphs: repeated('GraphProto', 11),
            docString: field('string', 13),
            type: field('int32', 20),
            refAttrName: field('string', 21),
          },
        },
        NodeProto: {
          ...PROTO2,
          fields: {
            input: repeated('string', 1),
            output: repeated('string', 2),
            name: field('string', 3),
            opType: field('string', 4),
            attribute: repeated('AttributeProto', 5),
            docString: field('string', 6),
            domain: field('string', 7),
          },
        },
        GraphProto: {
          ...PROTO2,
          fields: {
            node: repeated('NodeProto', 1),
            name: field('string', 2),
            initializer: repeated('TensorProto', 5),
            docString: field('string', 10),
            input: repeated('ValueInfoProto', 11),
            output: repeated('ValueInfoProto', 12),
            valueInfo: repeated('ValueInfoProto', 13),
          },
        },
        ModelProto: {
          ...PROTO2,
          fields: {
            irVersion: field('int64', 1),
            producerName: field('string', 2),
            producerVersion: field('string', 3),
            domain: field('string', 4),
            modelVersion: field('int64', 5),
            docString: field('string', 6),
            graph: field('GraphProto', 7),
            opsetImport: repeated('OperatorSetIdProto', 8),
            metadataProps: repeated('StringStringEntryProto', 14),
          },
        },
      },
    },
  },
};

let modelType: protobuf.Type | null = null;

/** Built on first use, so that importing this module costs nothing until ONNX is needed. */
function model(): protobuf.Type {
  modelType ??= protobuf.Root.fromJSON(SCHEMA).lookupType('onnx.ModelProto');
  return modelType;
}

/** Serialises a model to the ONNX binary format. */
export function encodeModel(m: OnnxModel): Uint8Array {
  const type = model();
  const problem = type.verify(m);
  if (problem) throw new WiregradError(`ONNX: the model does not fit the schema: ${problem}`);
  return type.encode(type.fromObject(m as Record<string, unknown>)).finish();
}

/** Parses ONNX bytes (a ModelProto) into plain objects; throws a readable error if they are not. */
export function decodeModel(bytes: Uint8Array): OnnxModel {
  const type = model();
  let message: protobuf.Message;
  try {
    message = type.decode(bytes);
  } catch (e) {
    throw new WiregradError(
      `ONNX: the file is not an ONNX model (a ModelProto): ${e instanceof Error ? e.message : String(e)}`,
    );
  }
  const out = type.toObject(message, { longs: Number, arrays: false, defaults: false });
  if (!out.graph)
    throw new WiregradError('ONNX: the model has no graph; is this an ONNX model file?');
  return out as OnnxModel;
}

/** The string value of a bytes field (ONNX strings are UTF-8 bytes). */
export function utf8(bytes: Uint8Array | undefined): string {
  return bytes ? new TextDecoder().decode(bytes) : '';
}

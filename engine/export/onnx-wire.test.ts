/**
 * The hand-written ONNX wire codec against protobufjs as an independent reference: exports of
 * the example, template and zoo graphs encode to the same bytes protobufjs writes from the same
 * objects and decode (ours and protobufjs's) to the same structure; packed repeated numbers,
 * negative and saturated 64-bit integers, proto2 zeros and unknown fields decode as protobuf
 * specifies; truncated or malformed bytes give a readable error instead of a crash.
 */

import protobuf from 'protobufjs/light.js';
import { describe, expect, it } from 'vitest';
import { exampleGraphs, templateGraphs, zooGraphs } from '../../test/export/graphs.js';
import { exportOnnx } from './onnx.js';
import { type OnnxModel, decodeModel } from './onnx-proto.js';
import { decodeModelWire, encodeModelWire } from './onnx-wire.js';

const field = (type: string, id: number) => ({ type, id });
const repeated = (type: string, id: number) => ({ rule: 'repeated', type, id });
const packed = (type: string, id: number) => ({ ...repeated(type, id), options: { packed: true } });
const PROTO2 = { edition: 'proto2' };

/** onnx.proto's messages as protobufjs JSON (field numbers from the standard). */
function schema(packedNumbers: boolean) {
  const many = packedNumbers ? packed : repeated;
  return {
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
          dims: many('int64', 1),
          dataType: field('int32', 2),
          floatData: many('float', 4),
          int32Data: many('int32', 5),
          stringData: repeated('bytes', 6),
          int64Data: many('int64', 7),
          name: field('string', 8),
          rawData: field('bytes', 9),
          doubleData: many('double', 10),
          uint64Data: many('uint64', 11),
          docString: field('string', 12),
          externalData: repeated('StringStringEntryProto', 13),
          dataLocation: field('int32', 14),
        },
      },
      Dimension: {
        ...PROTO2,
        fields: {
          dimValue: field('int64', 1),
          dimParam: field('string', 2),
          denotation: field('string', 3),
        },
      },
      TensorShapeProto: { ...PROTO2, fields: { dim: repeated('Dimension', 1) } },
      TensorTypeProto: {
        ...PROTO2,
        fields: { elemType: field('int32', 1), shape: field('TensorShapeProto', 2) },
      },
      TypeProto: {
        ...PROTO2,
        fields: { tensorType: field('TensorTypeProto', 1), denotation: field('string', 6) },
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
          floats: many('float', 7),
          ints: many('int64', 8),
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
          // A field Wiregrad does not model (training_info), to check that it is skipped.
          trainingInfo: repeated('StringStringEntryProto', 20),
        },
      },
    },
  };
}

const reference = protobuf.Root.fromJSON(schema(false)).lookupType('ModelProto');
const referencePacked = protobuf.Root.fromJSON(schema(true)).lookupType('ModelProto');

function protobufEncode(type: protobuf.Type, m: object): Uint8Array {
  return type.encode(type.fromObject(m as Record<string, unknown>)).finish();
}

function protobufDecode(bytes: Uint8Array): OnnxModel {
  const message = reference.decode(bytes);
  return reference.toObject(message, {
    longs: Number,
    arrays: false,
    defaults: false,
  }) as OnnxModel;
}

/** Byte fields as plain arrays, so Buffers (protobufjs) and Uint8Arrays (ours) compare equal. */
function plain(value: unknown): unknown {
  if (value instanceof Uint8Array) return Array.from(value);
  if (Array.isArray(value)) return value.map(plain);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = plain(v);
    return out;
  }
  return value;
}

// Every graph ONNX can express (the zoo's gradient-op graph is refused by the exporter).
const cases = [...exampleGraphs(), ...templateGraphs(), ...zooGraphs()].filter(
  ([name]) => name !== 'conv-grads',
);

describe('ONNX wire codec', () => {
  it.each(cases.map(([name]) => name))(
    '%s: the same bytes and structure as protobufjs',
    async (name) => {
      const graph = cases.find(([n]) => n === name)![1];
      const { model, bytes } = await exportOnnx(graph);
      expect(Buffer.from(bytes).equals(Buffer.from(encodeModelWire(model)))).toBe(true);
      const ours = encodeModelWire(model);
      expect(Buffer.from(ours).equals(Buffer.from(protobufEncode(reference, model)))).toBe(true);
      expect(plain(decodeModelWire(ours))).toEqual(plain(protobufDecode(ours)));
      // Decoding then encoding again gives the same bytes (a lossless round trip).
      const again = encodeModelWire(decodeModelWire(ours));
      expect(Buffer.from(again).equals(Buffer.from(ours))).toBe(true);
    },
  );

  const edgeModel: OnnxModel = {
    irVersion: 8,
    producerName: 'wïregrad ✓',
    opsetImport: [{ domain: '', version: 17 }],
    graph: {
      name: 'g',
      node: [
        {
          opType: 'Slice',
          input: ['x', 'starts', 'ends'],
          output: ['y'],
          attribute: [
            { name: 'keepdims', type: 2, i: 0 },
            { name: 'neg', type: 2, i: -3 },
            { name: 'big', type: 2, i: -(2 ** 40) - 7 },
            { name: 'alpha', type: 1, f: 0.25 },
            { name: 'ints', type: 7, ints: [0, 1, -1, 2 ** 50, -(2 ** 50)] },
            { name: 'floats', type: 6, floats: [1.5, -2, 0] },
            { name: 's', type: 3, s: new TextEncoder().encode('NOTSET') },
          ],
        },
      ],
      initializer: [
        {
          name: 't',
          dims: [2, 3],
          dataType: 6,
          int32Data: [1, -2, 3, -2147483648, 2147483647, 0],
        },
        { name: 'd', dims: [2], dataType: 11, doubleData: [Math.PI, -1e300] },
        { name: 'l', dims: [3], dataType: 7, int64Data: [-1, 0, 2 ** 52] },
        { name: 'u', dims: [1], dataType: 13, uint64Data: [2 ** 53] },
        { name: 'r', dims: [0], dataType: 1, rawData: new Uint8Array(0) },
      ],
      input: [
        {
          name: 'x',
          type: {
            tensorType: { elemType: 1, shape: { dim: [{ dimParam: 'N' }, { dimValue: 0 }] } },
          },
        },
      ],
    },
    metadataProps: [{ key: 'k', value: '' }],
  };

  it('writes proto2 zeros, negative and large integers as protobufjs does', () => {
    const ours = encodeModelWire(edgeModel);
    expect(Buffer.from(ours).equals(Buffer.from(protobufEncode(reference, edgeModel)))).toBe(true);
    expect(plain(decodeModelWire(ours))).toEqual(plain(edgeModel));
  });

  it('reads packed repeated numbers', () => {
    const bytes = protobufEncode(referencePacked, edgeModel);
    expect(bytes.length).toBeLessThan(encodeModelWire(edgeModel).length);
    expect(plain(decodeModelWire(bytes))).toEqual(plain(edgeModel));
  });

  it('saturates integers at or past 2^63, as the "to the end" Slice bound needs', () => {
    const model: OnnxModel = {
      graph: {
        node: [{ opType: 'Slice', attribute: [{ name: 'e', ints: [2 ** 63, -(2 ** 64)] }] }],
      },
    };
    const bytes = encodeModelWire(model);
    const ints = decodeModelWire(bytes).graph!.node![0]!.attribute![0]!.ints!;
    expect(ints[0]).toBe(2 ** 63); // INT64_MAX, the nearest double
    expect(ints[0]).toBeGreaterThan(2 ** 62);
    expect(ints[1]).toBe(-(2 ** 63));
    // protobufjs (with long.js) reads the same saturated values back.
    const theirs = protobufDecode(bytes).graph!.node![0]!.attribute![0]!.ints!;
    expect(theirs).toEqual(ints);
  });

  it('skips fields it does not model', () => {
    const bytes = protobufEncode(reference, {
      ...edgeModel,
      trainingInfo: [{ key: 'a', value: 'b' }],
    });
    expect(plain(decodeModelWire(bytes))).toEqual(plain(edgeModel));
  });

  it('generates no code, so it runs where a Content-Security-Policy forbids eval', () => {
    const g = globalThis as { Function: FunctionConstructor; eval: typeof eval };
    const saved = { Function: g.Function, eval: g.eval };
    const refuse = () => {
      throw new EvalError('code generation is not allowed here');
    };
    g.Function = refuse as unknown as FunctionConstructor;
    g.eval = refuse as unknown as typeof eval;
    try {
      // protobufjs builds its encoder with Function() on first use, so it fails here ...
      const fresh = protobuf.Root.fromJSON(schema(false)).lookupType('ModelProto');
      expect(() => protobufEncode(fresh, edgeModel)).toThrow(/code generation/);
      // ... while the hand-written codec works.
      const bytes = encodeModelWire(edgeModel);
      expect(plain(decodeModelWire(bytes))).toEqual(plain(edgeModel));
    } finally {
      g.Function = saved.Function;
      g.eval = saved.eval;
    }
  });

  it('refuses truncated and malformed bytes with a readable error', () => {
    const bytes = encodeModelWire(edgeModel);
    for (const cut of [1, 7, Math.floor(bytes.length / 2), bytes.length - 1]) {
      expect(() => decodeModel(bytes.subarray(0, cut))).toThrow(/not an ONNX model|has no graph/);
    }
    expect(() => decodeModel(new TextEncoder().encode('{"not": "onnx"}'))).toThrow(
      /ONNX: the (file is not an ONNX model|model has no graph)/,
    );
    expect(() => decodeModel(new Uint8Array([0x3a, 0xff, 0xff, 0xff, 0xff, 0x0f]))).toThrow(
      /not an ONNX model .*runs past the end at byte/,
    );
  });
});

/**
 * Writing ONNX protobuf objects: element-type codes, typed attributes, tensors as
 * little-endian raw_data, value_info with the batch dimension as the dim_param 'N', and
 * `OnnxWriter`, which collects a graph's nodes and initializers while remembering the shape of
 * every value it produces, so that the exporter can give every edge a value_info entry.
 */

import type { DType } from '../core/dtype.js';
import type { Dim } from './analysis.js';
import {
  ATTR_TYPE,
  ONNX_DTYPE,
  type OnnxAttribute,
  type OnnxNode,
  type OnnxTensor,
  type OnnxValueInfo,
} from './onnx-proto.js';

/** The dim_param of batch dimensions. */
export const BATCH_DIM = 'N';

export function onnxDType(dtype: DType): number {
  switch (dtype) {
    case 'f32':
      return ONNX_DTYPE.FLOAT;
    case 'f64':
      return ONNX_DTYPE.DOUBLE;
    case 'i32':
      return ONNX_DTYPE.INT32;
    case 'bool':
      return ONNX_DTYPE.BOOL;
    default:
      return dtype satisfies never;
  }
}

/** Attribute constructors, typed as ONNX wants them. */
export const attr = {
  int: (name: string, i: number): OnnxAttribute => ({ name, type: ATTR_TYPE.INT, i }),
  ints: (name: string, ints: readonly number[]): OnnxAttribute => ({
    name,
    type: ATTR_TYPE.INTS,
    ints: [...ints],
  }),
  float: (name: string, f: number): OnnxAttribute => ({ name, type: ATTR_TYPE.FLOAT, f }),
  string: (name: string, s: string): OnnxAttribute => ({
    name,
    type: ATTR_TYPE.STRING,
    s: new TextEncoder().encode(s),
  }),
  tensor: (name: string, t: OnnxTensor): OnnxAttribute => ({ name, type: ATTR_TYPE.TENSOR, t }),
};

/** Element types of ONNX values here: the engine's dtypes and int64 (indices, shapes). */
export type ElementType = DType | 'i64';

/** A value's shape and element type, for value_info. */
export interface EdgeMeta {
  readonly shape: readonly Dim[];
  readonly dtype: ElementType;
}

/** Little-endian bytes of `values` as `type`. */
function rawBytes(type: ElementType, values: ArrayLike<number>): Uint8Array {
  const array =
    type === 'f32'
      ? Float32Array.from(values)
      : type === 'f64'
        ? Float64Array.from(values)
        : type === 'i32'
          ? Int32Array.from(values)
          : type === 'bool'
            ? Uint8Array.from(values, (v) => (v !== 0 ? 1 : 0))
            : BigInt64Array.from(Array.from(values, (v) => BigInt(Math.trunc(v))));
  return new Uint8Array(array.buffer, array.byteOffset, array.byteLength);
}

export function tensorProto(
  name: string,
  type: ElementType,
  dims: readonly number[],
  values: ArrayLike<number>,
): OnnxTensor {
  return {
    name,
    dims: [...dims],
    dataType: type === 'i64' ? ONNX_DTYPE.INT64 : onnxDType(type),
    rawData: rawBytes(type, values),
  };
}

export function valueInfo(name: string, meta: EdgeMeta): OnnxValueInfo {
  return {
    name,
    type: {
      tensorType: {
        elemType: meta.dtype === 'i64' ? ONNX_DTYPE.INT64 : onnxDType(meta.dtype),
        shape: {
          dim: meta.shape.map((d) => (d === 'N' ? { dimParam: BATCH_DIM } : { dimValue: d })),
        },
      },
    },
  };
}

/** Collects nodes, initializers and the shape of every value while a graph is written. */
export class OnnxWriter {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: OnnxTensor[] = [];
  /** Shapes of values that nodes produce (for value_info). */
  readonly produced = new Map<string, EdgeMeta>();
  private readonly taken = new Set<string>();
  private readonly constants = new Map<string, string>();

  reserve(name: string): void {
    this.taken.add(name);
  }

  /** A value name not used yet, `base` if free. */
  fresh(base: string): string {
    let name = base;
    for (let k = 2; this.taken.has(name); k++) name = `${base}_${k}`;
    this.taken.add(name);
    return name;
  }

  node(
    opType: string,
    inputs: readonly string[],
    output: string,
    meta: EdgeMeta,
    attributes: readonly OnnxAttribute[] = [],
    name = output,
  ): string {
    this.nodes.push({
      opType,
      name,
      input: [...inputs],
      output: [output],
      ...(attributes.length > 0 ? { attribute: [...attributes] } : {}),
    });
    this.produced.set(output, meta);
    return output;
  }

  /** An intermediate step of node `id`: a fresh `<id>/<step>` value. */
  step(
    id: string,
    step: string,
    opType: string,
    inputs: readonly string[],
    meta: EdgeMeta,
    attributes: readonly OnnxAttribute[] = [],
  ): string {
    return this.node(opType, inputs, this.fresh(`${id}/${step}`), meta, attributes);
  }

  initializer(
    name: string,
    type: ElementType,
    dims: readonly number[],
    values: ArrayLike<number>,
    docString?: string,
  ): string {
    this.initializers.push({
      ...tensorProto(name, type, dims, values),
      ...(docString ? { docString } : {}),
    });
    return name;
  }

  /** A shared constant initializer (a scalar or an attribute-like list), made once per value. */
  constant(type: ElementType, dims: readonly number[], values: readonly number[]): string {
    const key = `${type}:${dims.join('x')}:${values.join(',')}`;
    let name = this.constants.get(key);
    if (name === undefined) {
      const label = values.length <= 4 ? values.map(String).join('_') : `${values.length}values`;
      name = this.initializer(this.fresh(`const/${type}/${label}`), type, dims, values);
      this.constants.set(key, name);
    }
    return name;
  }

  int64s(values: readonly number[]): string {
    return this.constant('i64', [values.length], values);
  }

  scalar(value: number, dtype: DType): string {
    return this.constant(dtype, [], [value]);
  }
}

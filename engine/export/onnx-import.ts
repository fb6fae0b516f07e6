/**
 * Importing an ONNX model as a Wiregrad graph. Each ONNX node becomes the engine nodes that
 * compute the same thing (onnx-import-ops.ts has one handler per ONNX op), with shapes kept
 * symbolic in the batch dimension: the engine's own shape rules run at two batch sizes as
 * nodes are added, and the shape arithmetic exporters write (Shape → Gather → Concat →
 * Reshape) is folded at import time, the batch size standing as 'N'. Float initializers
 * become parameters under their ONNX names (`fc1.weight`), holding the file's values; Gemm,
 * Conv, LayerNormalization and BatchNormalization become groups named after their weights, so
 * that a re-export to PyTorch gives nn.Linear, nn.Conv2d … again.
 *
 * An ONNX op Wiregrad cannot express becomes a `placeholder` node, with the output shape
 * ONNX declared where it did: the graph stays connected and shows on the canvas, the report
 * names every placeholder and why, and running the graph fails at the placeholder with a
 * message saying to replace it. Nothing about a model the importer cannot express crashes it.
 */

import { type DType } from '../core/dtype.js';
import { WiregradError } from '../core/errors.js';
import { Graph } from '../graph/graph.js';
import { PLACEHOLDER } from '../graph/placeholder.js';
import {
  type AttrValueJSON,
  type GraphJSON,
  type NodeJSON,
  GRAPH_FORMAT,
  GRAPH_VERSION,
} from '../graph/ir.js';
import { tensor } from '../ops/creation.js';
import { type TensorMeta, getOp } from '../ops/registry.js';
import { keep } from '../runtime/scope.js';
import type { Tensor } from '../tensor.js';
import type { Dim } from './analysis.js';
import {
  CONSTANT_DOC,
  ONNX_DTYPE,
  type OnnxNode,
  type OnnxValueInfo,
  decodeModel,
} from './onnx-proto.js';
import { type ConstValue, readTensor } from './onnx-tensor.js';
import { LAYER_HANDLERS } from './onnx-import-layers.js';
import {
  AttrReader,
  type Handler,
  ImportUnsupported,
  TENSOR_HANDLERS,
  cannot,
  engineDType,
} from './onnx-import-ops.js';

/** Every ONNX op the importer expresses, by op_type. */
const HANDLERS: Readonly<Record<string, Handler>> = { ...TENSOR_HANDLERS, ...LAYER_HANDLERS };

// ---- the placeholder op ---------------------------------------------------------------------

// ---- the import -----------------------------------------------------------------------------

/** What an ONNX value is during import: an engine node's output, a known constant, or both. */
interface Value {
  readonly node?: string;
  readonly constant?: ConstValue;
  /** A graph initializer (a float one becomes a parameter when an op reads it). */
  readonly initializer?: string;
  /** An initializer that stays a constant: a scalar, or one Wiregrad exported as a constant. */
  readonly frozen?: boolean;
}

export interface PlaceholderEntry {
  /** The engine node id of the placeholder. */
  readonly node: string;
  /** The ONNX node's name (or its first output when it has none). */
  readonly onnxNode: string;
  readonly op: string;
  readonly reason: string;
}

export interface OnnxImportReport {
  readonly opset: number;
  readonly producer: string;
  /** ONNX nodes read. */
  readonly onnxNodes: number;
  /** Engine nodes made. */
  readonly nodes: number;
  readonly parameters: number;
  readonly placeholders: readonly PlaceholderEntry[];
  readonly warnings: readonly string[];
}

export interface OnnxImport {
  /** The graph, with the file's weights as its parameter values. */
  readonly graph: Graph;
  /** The graph document (what a canvas or file holds). */
  readonly json: GraphJSON;
  /** The weights by parameter node id (also adopted by `graph`; kept, so dispose them yourself). */
  readonly weights: ReadonlyMap<string, Tensor>;
  readonly report: OnnxImportReport;
}

export interface OnnxImportOptions {
  /** The graph's name (default: the ONNX graph's). */
  readonly name?: string;
}

function dtypeOfElem(elemType: number | undefined): DType {
  switch (elemType) {
    case ONNX_DTYPE.DOUBLE:
    case ONNX_DTYPE.FLOAT:
    case ONNX_DTYPE.FLOAT16:
    case ONNX_DTYPE.BFLOAT16:
      return 'f32';
    case ONNX_DTYPE.BOOL:
      return 'bool';
    case undefined:
      return 'f32';
    default:
      return 'i32';
  }
}

/** Non-finite numbers are written as tokens in graph documents. */
function jsonNumber(v: number): number | 'Infinity' | '-Infinity' | 'NaN' {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'Infinity';
  if (v === -Infinity) return '-Infinity';
  return v;
}

export class Importer {
  readonly nodes: NodeJSON[] = [];
  readonly values = new Map<string, Value>();
  readonly weights = new Map<string, ConstValue>();
  readonly placeholders: PlaceholderEntry[] = [];
  readonly warnings: string[] = [];
  /** How many ONNX nodes read each value (a layer may own a weight only it reads). */
  readonly uses = new Map<string, number>();
  private readonly metas = [new Map<string, TensorMeta>(), new Map<string, TensorMeta>()];
  private readonly ids = new Set<string>();
  private readonly declared = new Map<string, OnnxValueInfo>();
  private seed = 1;

  constructor(readonly opset: number) {}

  // ---- ids and shapes ----

  uniqueId(base: string): string {
    const clean = base.replace(/^\/+/, '').replace(/\//g, '.') || 'node';
    let id = clean;
    for (let k = 2; this.ids.has(id); k++) id = `${clean}_${k}`;
    this.ids.add(id);
    return id;
  }

  declare(info: OnnxValueInfo): void {
    if (info.name) this.declared.set(info.name, info);
  }

  /** Adds an engine node after checking its shapes at two batch sizes; returns its id. */
  add(
    op: string,
    inputs: readonly string[],
    attrs: Record<string, AttrValueJSON>,
    base: string,
    group?: string,
  ): string {
    const def = getOp(op);
    const decoded = attrs as unknown as object;
    const metas = this.metas.map((m, b) => {
      const ins = inputs.map((i) => {
        const meta = m.get(i);
        if (!meta) cannot(`its input '${i}' has no known shape (it comes from a placeholder)`);
        return meta;
      });
      return def.inferShape(ins, op === 'input' ? { ...decoded, batch: b + 2 } : decoded);
    });
    const id = this.uniqueId(base);
    this.nodes.push({
      id,
      op,
      inputs: [...inputs],
      attrs,
      ...(group !== undefined ? { group } : {}),
    });
    metas.forEach((meta, b) => this.metas[b]!.set(id, meta));
    return id;
  }

  /** A node's shape, with 'N' where it follows the batch size. */
  shapeOfNode(id: string): Dim[] {
    const a = this.metas[0]!.get(id);
    const b = this.metas[1]!.get(id);
    if (!a || !b) cannot(`the shape of '${id}' is unknown (it comes from a placeholder)`);
    if (a.shape.length !== b.shape.length) return a.shape.map(() => 'N');
    return a.shape.map((d, i) => (d === b.shape[i] ? d : 'N'));
  }

  dtypeOfNode(id: string): DType {
    const meta = this.metas[0]!.get(id);
    if (!meta) cannot(`the dtype of '${id}' is unknown (it comes from a placeholder)`);
    return meta.dtype;
  }

  // ---- values ----

  value(name: string): Value {
    const v = this.values.get(name);
    if (!v) cannot(`its input '${name}' is not produced by any node the importer could read`);
    return v;
  }

  /** The constant an ONNX value holds, when it is known at import time. */
  constOf(name: string): ConstValue | null {
    return name === '' ? null : (this.values.get(name)?.constant ?? null);
  }

  shape(name: string): Dim[] {
    const v = this.value(name);
    if (v.node !== undefined) return this.shapeOfNode(v.node);
    return [...v.constant!.shape];
  }

  dtype(name: string): DType {
    const v = this.value(name);
    return v.node !== undefined ? this.dtypeOfNode(v.node) : engineDType(v.constant!.type);
  }

  /**
   * The engine node holding an ONNX value: a float initializer becomes a parameter the first
   * time an op reads it, other constants become `constant` nodes (of `dtype` when given).
   */
  node(name: string, dtype?: DType): string {
    const v = this.value(name);
    if (v.node !== undefined && (dtype === undefined || this.dtypeOfNode(v.node) === dtype))
      return v.node;
    const c = v.constant;
    if (!c) return this.add('cast', [v.node!], { dtype: dtype! }, `${v.node}.cast`);
    if (
      v.initializer !== undefined &&
      !v.frozen &&
      c.type === 'f32' &&
      (dtype === undefined || dtype === 'f32')
    ) {
      const id = this.parameter(v.initializer, c, c.shape.length >= 2 ? 'kaimingUniform' : 'zeros');
      this.values.set(name, { ...v, node: id });
      return id;
    }
    const id = this.constantNode(c, v.initializer ?? name, dtype);
    if (dtype === undefined) this.values.set(name, { ...v, node: id });
    return id;
  }

  /** A `constant` node holding `c` (as `dtype`, or the engine dtype of its type). */
  constantNode(c: ConstValue, base: string, dtype?: DType): string {
    const target = dtype ?? engineDType(c.type);
    if (c.data.some((d) => d === 'N'))
      cannot(`a constant depends on the batch size, which Wiregrad graphs cannot hold as data`);
    const data = (c.data as number[]).map((d) =>
      target === 'i32' ? Math.trunc(d) : target === 'bool' ? (d !== 0 ? 1 : 0) : d,
    );
    if (target === 'i32' && data.some((d) => d > 2147483647 || d < -2147483648))
      cannot(`a constant holds an integer outside the i32 range Wiregrad computes in`);
    return this.add(
      'constant',
      [],
      { shape: [...c.shape], dtype: target, data: data.map(jsonNumber) },
      base,
    );
  }

  /** A scalar constant node of `dtype`. */
  scalar(value: number, dtype: DType, base: string): string {
    return this.constantNode(
      { type: dtype === 'f64' ? 'f32' : dtype, shape: [], data: [value] },
      base,
      dtype,
    );
  }

  /** A seed for a random op the file gave none. */
  nextSeed(): number {
    return this.seed++;
  }

  /**
   * A parameter node holding `c` (the file's values), id `base` when free; `trainable: false`
   * for state the optimiser leaves alone (batch norm's running statistics).
   */
  parameter(
    base: string,
    c: ConstValue,
    init: 'kaimingUniform' | 'zeros' | 'ones',
    group?: string,
    trainable = true,
  ): string {
    const id = this.add(
      'parameter',
      [],
      {
        shape: [...c.shape],
        dtype: 'f32',
        init,
        seed: this.seed++,
        ...(trainable ? {} : { trainable: false }),
      },
      base,
      group,
    );
    this.weights.set(id, c);
    return id;
  }

  /** Sets output `k` of the ONNX node to an engine node or a constant. */
  set(name: string | undefined, v: Value): void {
    if (name) this.values.set(name, v);
  }

  /** A float initializer that only one ONNX node reads and no op has claimed yet. */
  ownedWeight(name: string | undefined): { name: string; value: ConstValue } | null {
    if (!name) return null;
    const v = this.values.get(name);
    if (!v || v.node !== undefined || v.initializer === undefined || v.frozen || !v.constant)
      return null;
    if (v.constant.type !== 'f32' || (this.uses.get(name) ?? 0) !== 1) return null;
    return { name: v.initializer, value: v.constant };
  }

  /** Claims an owned weight as a parameter (group member), optionally with other data. */
  claimWeight(
    name: string,
    data: ConstValue,
    init: 'kaimingUniform' | 'zeros' | 'ones',
    group?: string,
    preferredId?: string,
    trainable = true,
  ): string {
    const v = this.value(name);
    const id = this.parameter(preferredId ?? v.initializer ?? name, data, init, group, trainable);
    this.values.set(name, { ...v, node: id });
    return id;
  }

  // ---- placeholders ----

  /** Output `k` of an ONNX node it could not express, as a placeholder node. */
  placeholder(n: OnnxNode, k: number, base: string, reason: string): void {
    const name = n.output?.[k];
    if (!name) return;
    const info = this.declared.get(name);
    const dims = info?.type?.tensorType?.shape?.dim;
    const shape = dims?.map((d) => (d.dimValue !== undefined ? Number(d.dimValue) : -1));
    const inputs: string[] = [];
    for (const i of n.input ?? []) {
      if (!i) continue;
      try {
        inputs.push(this.node(i));
      } catch {
        // An input that cannot be made (a batch-dependent constant) is left unconnected.
      }
    }
    const attrs: Record<string, AttrValueJSON> = {
      op: `onnx:${n.opType ?? '?'}`,
      dtype: dtypeOfElem(info?.type?.tensorType?.elemType),
      ...(shape ? { shape } : {}),
    };
    const id = this.uniqueId(k === 0 ? base : `${base}.${k}`);
    this.nodes.push({ id, op: PLACEHOLDER, inputs, attrs });
    this.metas.forEach((m) => {
      try {
        const ins = inputs.map((i) => m.get(i));
        if (ins.every((x) => x !== undefined))
          m.set(id, getOp(PLACEHOLDER).inferShape(ins, attrs as object));
      } catch {
        // Unknown shape: nodes that read it become placeholders too, and say why.
      }
    });
    this.values.set(name, { node: id });
    this.placeholders.push({ node: id, onnxNode: n.name || name, op: n.opType ?? '?', reason });
  }

  /** Runs `body`; on failure, removes what it added and returns the reason. */
  attempt(body: () => void): string | null {
    const mark = this.nodes.length;
    const values = new Map(this.values);
    const weights = new Map(this.weights);
    const seed = this.seed;
    try {
      body();
      return null;
    } catch (e) {
      for (const n of this.nodes.splice(mark)) {
        this.ids.delete(n.id);
        this.metas.forEach((m) => m.delete(n.id));
      }
      this.values.clear();
      for (const [k, v] of values) this.values.set(k, v);
      this.weights.clear();
      for (const [k, v] of weights) this.weights.set(k, v);
      this.seed = seed;
      if (e instanceof ImportUnsupported || e instanceof WiregradError) return e.message;
      throw e;
    }
  }
}

/** An engine input declaration from an ONNX graph input. */
function inputDecl(info: OnnxValueInfo): { shape: number[]; dtype: DType } {
  const t = info.type?.tensorType;
  if (!t) cannot(`graph input '${info.name}' is not a tensor`);
  // A named (symbolic) dimension is the batch dimension; Wiregrad has one batch size per run.
  const shape = (t.shape?.dim ?? []).map((d) =>
    d.dimValue !== undefined ? Number(d.dimValue) : -1,
  );
  return { shape, dtype: dtypeOfElem(t.elemType) };
}

/**
 * Reads ONNX bytes into a graph. Every ONNX op the engine's op set can express imports, with
 * its attributes; the others become placeholders listed in `report.placeholders`.
 */
export function importOnnx(bytes: Uint8Array, options: OnnxImportOptions = {}): OnnxImport {
  const model = decodeModel(bytes);
  const g = model.graph!;
  const opset = Number(
    model.opsetImport?.find((o) => !o.domain || o.domain === 'ai.onnx')?.version ?? 0,
  );
  const im = new Importer(opset);
  if (opset > 0 && opset < 7)
    im.warnings.push(`opset ${opset} is older than 7; attributes are read with today's meanings`);
  for (const info of [...(g.valueInfo ?? []), ...(g.output ?? [])]) im.declare(info);
  for (const n of g.node ?? [])
    for (const i of n.input ?? []) if (i) im.uses.set(i, (im.uses.get(i) ?? 0) + 1);

  const initializers = new Set<string>();
  for (const t of g.initializer ?? []) {
    const name = t.name ?? '';
    initializers.add(name);
    const constant = readTensor(t, `initializer '${name}'`);
    const frozen = t.docString === CONSTANT_DOC || constant.shape.length === 0;
    im.values.set(name, { constant, initializer: name, ...(frozen ? { frozen } : {}) });
  }
  for (const info of g.input ?? []) {
    const name = info.name ?? '';
    if (initializers.has(name)) continue; // older exporters list initializers as inputs too
    const { shape, dtype } = inputDecl(info);
    if (info.type?.tensorType?.elemType === ONNX_DTYPE.INT64)
      im.warnings.push(`input '${name}' is int64 in ONNX and i32 in Wiregrad`);
    const role = dtype === 'i32' && shape.length <= 1 ? 'label' : 'data';
    const id = im.add('input', [], { shape, dtype, role }, name);
    im.values.set(name, { node: id });
  }

  const nodes = g.node ?? [];
  nodes.forEach((n, index) => {
    const op = n.opType ?? '';
    const base = n.name || n.output?.[0] || `${op}_${index}`;
    const handler = n.domain && n.domain !== 'ai.onnx' ? undefined : HANDLERS[op];
    const reason = handler
      ? im.attempt(() =>
          handler(im, {
            node: n,
            at: new AttrReader(n.attribute),
            base,
            input: (k) => n.input?.[k] ?? '',
            output: (k) => n.output?.[k],
          }),
        )
      : `Wiregrad has no op for the ONNX op '${op}'${n.domain ? ` (domain ${n.domain})` : ''}`;
    if (reason !== null) (n.output ?? []).forEach((_, k) => im.placeholder(n, k, base, reason));
  });

  const outputs: { name: string; node: string }[] = [];
  for (const info of g.output ?? []) {
    const name = info.name ?? '';
    const reason = im.attempt(() => {
      outputs.push({ name, node: im.node(name) });
    });
    if (reason !== null) im.warnings.push(`output '${name}' could not be connected: ${reason}`);
  }

  const json: GraphJSON = {
    format: GRAPH_FORMAT,
    version: GRAPH_VERSION,
    name: options.name ?? (g.name || 'Imported ONNX model'),
    nodes: im.nodes,
    outputs,
    meta: {
      source: 'onnx',
      producer: [model.producerName, model.producerVersion].filter(Boolean).join(' '),
      opset,
      ...(g.docString ? { description: g.docString } : {}),
    },
  };
  const graph = Graph.fromJSON(json);
  const weights = new Map<string, Tensor>();
  for (const [id, c] of im.weights) {
    const t = tensor(Float32Array.from(c.data as number[]), { shape: c.shape, dtype: 'f32' });
    t.requiresGrad = true;
    weights.set(id, keep(t));
  }
  graph.adoptParameters(weights);
  return {
    graph,
    json,
    weights,
    report: {
      opset,
      producer: json.meta!['producer'] as string,
      onnxNodes: nodes.length,
      nodes: im.nodes.length,
      parameters: im.weights.size,
      placeholders: im.placeholders,
      warnings: im.warnings,
    },
  };
}

/**
 * Exports a graph as an ONNX model (a ModelProto) at one pinned opset, ONNX_OPSET = 17, in
 * NCHW as the engine computes. Parameters and constants become initializers under their node
 * ids, graph inputs keep their names with the batch dimension symbolic ('N'), and every value
 * has a `value_info` entry with its shape (so Netron shows a shape on every edge). Each engine
 * node becomes one ONNX node where ONNX has the op, or a short chain named `<node>/<step>`
 * (gelu, mseLoss, transposed matmuls …); a biased conv2d layer is one Conv, crossEntropy is
 * SoftmaxCrossEntropyLoss. Ops ONNX lacks (the filter and pooling gradients, ONNX import
 * placeholders) are refused with an ExportError naming the node. onnx-writer.ts builds the
 * protobuf objects.
 * ONNX describes inference: dropout is exported as the identity, and seeded random ops as
 * RandomUniform/RandomNormal, which draw other numbers than the engine (both are warnings).
 * batchNorm is BatchNormalization in its inference form (training_mode 0): it normalises with
 * the running mean and variance (initializers), as the engine does in eval mode; a node set to
 * train with batch statistics exports so too, with a warning.
 */

import type { DType } from '../core/dtype.js';
import { sizeOf } from '../core/shape.js';
import type { Graph, GraphNode } from '../graph/graph.js';
import type { ConstantAttrs, InputAttrs } from '../graph/ir.js';
import { inputKey } from '../graph/run.js';
import type { Tensor } from '../tensor.js';
import {
  type Dim,
  type GraphAnalysis,
  type ValueMeta,
  analyzeGraph,
  unsupported,
} from './analysis.js';
import { type Layer, findLayers } from './layers.js';
import {
  BATCH_DIM,
  type EdgeMeta,
  type ElementType,
  OnnxWriter,
  attr,
  onnxDType,
  tensorProto,
  valueInfo,
} from './onnx-writer.js';
import {
  CONSTANT_DOC,
  ONNX_DTYPE,
  type OnnxModel,
  type OnnxValueInfo,
  encodeModel,
} from './onnx-proto.js';

/** The opset every exported model imports (LayerNormalization needs 17). */
export const ONNX_OPSET = 17;
/** The IR version that goes with opset 17. */
export const ONNX_IR_VERSION = 8;

export { BATCH_DIM, attr, onnxDType, tensorProto, valueInfo };

export interface OnnxExportOptions {
  /** Parameter values by node id (default: the graph's own). */
  readonly params?: ReadonlyMap<string, Tensor>;
  /** Export only these outputs (default: all). */
  readonly outputs?: readonly string[];
  /** The model's producer_version (default '0.1.0'). */
  readonly producerVersion?: string;
}

export interface OnnxExport {
  readonly bytes: Uint8Array;
  readonly model: OnnxModel;
  /** What differs from the engine's behaviour (dropout, random ops). */
  readonly warnings: readonly string[];
}

// ---- ops ----------------------------------------------------------------------------------

const UNARY: Readonly<Record<string, string>> = {
  neg: 'Neg',
  exp: 'Exp',
  log: 'Log',
  sqrt: 'Sqrt',
  abs: 'Abs',
  sign: 'Sign',
  tanh: 'Tanh',
  sigmoid: 'Sigmoid',
  relu: 'Relu',
  erf: 'Erf',
  identity: 'Identity',
  stopGradient: 'Identity',
};

const BINARY: Readonly<Record<string, string>> = {
  add: 'Add',
  sub: 'Sub',
  mul: 'Mul',
  div: 'Div',
  pow: 'Pow',
  maximum: 'Max',
  minimum: 'Min',
  equal: 'Equal',
  greater: 'Greater',
  less: 'Less',
};

interface Context {
  readonly w: OnnxWriter;
  readonly a: GraphAnalysis;
  readonly warnings: string[];
}

const withShape = (meta: ValueMeta, shape: readonly Dim[]): ValueMeta => ({
  shape,
  dtype: meta.dtype,
});
const typed = (meta: ValueMeta, dtype: ElementType): EdgeMeta => ({ shape: meta.shape, dtype });

/** Transposes the last two axes (for matmul's transpose flags). */
function swapLast(
  c: Context,
  id: string,
  value: string,
  meta: ValueMeta,
  label: string,
): { value: string; meta: ValueMeta } {
  const r = meta.shape.length;
  const perm = [...Array(r).keys()];
  [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
  const shape = perm.map((p) => meta.shape[p]!);
  const out = withShape(meta, shape);
  return {
    value: c.w.step(id, label, 'Transpose', [value], out, [attr.ints('perm', perm)]),
    meta: out,
  };
}

/** mean / sum / none over every axis of `value`, ending in the node's output `out`. */
function reduceLoss(
  c: Context,
  value: string,
  reduction: string,
  out: string,
  meta: ValueMeta,
): void {
  if (reduction === 'mean') c.w.node('ReduceMean', [value], out, meta, [attr.int('keepdims', 0)]);
  else if (reduction === 'sum')
    c.w.node('ReduceSum', [value], out, meta, [attr.int('keepdims', 0)]);
  else c.w.node('Identity', [value], out, meta);
}

/** Writes engine node `n` (inputs as value names) so that its value is `out`. */
function emitNode(c: Context, n: GraphNode, inputs: readonly string[], out: string): void {
  const { w, a } = c;
  const at = n.attrs as Record<string, unknown>;
  const meta = a.meta(n.id);
  const inMeta = (i: number): ValueMeta => a.meta(n.inputs[i]!);
  const [x, y, z] = inputs as [string, string, string];
  const T = 'ONNX';
  const unary = UNARY[n.op];
  if (unary) {
    w.node(unary, [x], out, meta);
    return;
  }
  const binary = BINARY[n.op];
  if (binary) {
    let operands = [x, y];
    // Wiregrad divides integers into a float quotient; ONNX's Div would truncate.
    if (n.op === 'div' && inMeta(0).dtype !== meta.dtype)
      operands = operands.map((v, i) =>
        w.step(n.id, `cast${i}`, 'Cast', [v], typed(inMeta(i), meta.dtype), [
          attr.int('to', ONNX_DTYPE.FLOAT),
        ]),
      );
    w.node(binary, operands, out, meta);
    return;
  }
  switch (n.op) {
    case 'leakyRelu':
      w.node('LeakyRelu', [x], out, meta, [
        attr.float('alpha', (at.alpha as number | undefined) ?? 0.01),
      ]);
      return;
    case 'gelu': {
      // Opset 17 has no Gelu: x · ½(1 + erf(x/√2)), the exact form the engine computes.
      const scaled = w.step(n.id, 'scaled', 'Mul', [x, w.scalar(Math.SQRT1_2, meta.dtype)], meta);
      const erf = w.step(n.id, 'erf', 'Erf', [scaled], meta);
      const plus = w.step(n.id, 'plus1', 'Add', [erf, w.scalar(1, meta.dtype)], meta);
      const half = w.step(n.id, 'cdf', 'Mul', [plus, w.scalar(0.5, meta.dtype)], meta);
      w.node('Mul', [x, half], out, meta);
      return;
    }
    case 'where':
      w.node('Where', [x, y, z], out, meta);
      return;
    case 'cast':
      w.node('Cast', [x], out, meta, [attr.int('to', onnxDType(at.dtype as DType))]);
      return;
    case 'fill': {
      const dtype = at.dtype as DType;
      const value = tensorProto('value', dtype, [1], [at.value as number]);
      w.node('ConstantOfShape', [w.int64s(at.shape as number[])], out, meta, [
        attr.tensor('value', value),
      ]);
      return;
    }
    case 'arange': {
      const dtype = at.dtype as DType;
      const s = (v: unknown) => w.scalar(v as number, dtype);
      w.node('Range', [s(at.start), s(at.stop), s(at.step)], out, meta);
      return;
    }
    case 'randomUniform':
    case 'randomNormal':
      c.warnings.push(
        `node '${n.id}' (${n.op}) exports as ${n.op === 'randomUniform' ? 'RandomUniform' : 'RandomNormal'}, ` +
          `which draws other numbers than Wiregrad's seeded stream`,
      );
      w.node(n.op === 'randomUniform' ? 'RandomUniform' : 'RandomNormal', [], out, meta, [
        attr.int('dtype', onnxDType(at.dtype as DType)),
        attr.ints('shape', at.shape as number[]),
        attr.float('seed', at.seed as number),
      ]);
      return;
    case 'reshape': {
      const shape = at.shape as number[];
      w.node(
        'Reshape',
        [x, w.int64s(shape)],
        out,
        meta,
        shape.includes(0) ? [attr.int('allowzero', 1)] : [],
      );
      return;
    }
    case 'expand': {
      // 1 keeps the input's dimension under ONNX's broadcasting: the batch dimension stays free.
      const target = (at.shape as number[]).map((d, i) => (meta.shape[i] === 'N' ? 1 : d));
      w.node('Expand', [x, w.int64s(target)], out, meta);
      return;
    }
    case 'transpose':
      w.node('Transpose', [x], out, meta, [attr.ints('perm', at.perm as number[])]);
      return;
    case 'slice': {
      const begin = at.begin as number[];
      const size = at.size as number[];
      const inShape = inMeta(0).shape;
      const axes = inShape.flatMap((d, i) =>
        begin[i] === 0 && (meta.shape[i] === d || size[i] === d) ? [] : [i],
      );
      if (axes.length === 0) {
        w.node('Identity', [x], out, meta);
        return;
      }
      const starts = axes.map((i) => begin[i]!);
      const ends = axes.map((i) => begin[i]! + size[i]!);
      w.node('Slice', [x, w.int64s(starts), w.int64s(ends), w.int64s(axes)], out, meta);
      return;
    }
    case 'pad': {
      const pads = at.pads as number[];
      const rank = pads.length / 2;
      const onnxPads = [...Array(rank).keys()]
        .map((d) => pads[2 * d]!)
        .concat([...Array(rank).keys()].map((d) => pads[2 * d + 1]!));
      w.node('Pad', [x, w.int64s(onnxPads), w.scalar(at.value as number, meta.dtype)], out, meta, [
        attr.string('mode', 'constant'),
      ]);
      return;
    }
    case 'concat':
      w.node('Concat', [...inputs], out, meta, [attr.int('axis', at.axis as number)]);
      return;
    case 'gather':
      w.node('Gather', [x, y], out, meta, [attr.int('axis', at.axis as number)]);
      return;
    case 'scatterAdd': {
      // ScatterND adds along the leading axes: move `axis` (and the indices' block) to the front.
      const axis = at.axis as number;
      const xm = inMeta(0);
      const im = inMeta(1);
      const um = inMeta(2);
      const r = xm.shape.length;
      const ri = im.shape.length;
      const perm = [axis, ...[...Array(r).keys()].filter((d) => d !== axis)];
      const updPerm = [...Array(ri).keys()]
        .map((k) => axis + k)
        .concat(
          [...Array(axis).keys()],
          [...Array(r - axis - 1).keys()].map((k) => axis + ri + k),
        );
      const front =
        axis === 0
          ? x
          : w.step(
              n.id,
              'x_front',
              'Transpose',
              [x],
              withShape(
                xm,
                perm.map((p) => xm.shape[p]!),
              ),
              [attr.ints('perm', perm)],
            );
      const upd =
        axis === 0
          ? z
          : w.step(
              n.id,
              'updates_front',
              'Transpose',
              [z],
              withShape(
                um,
                updPerm.map((p) => um.shape[p]!),
              ),
              [attr.ints('perm', updPerm)],
            );
      const i64 = w.step(n.id, 'indices64', 'Cast', [y], typed(im, 'i64'), [
        attr.int('to', ONNX_DTYPE.INT64),
      ]);
      const idx = w.step(n.id, 'indices', 'Unsqueeze', [i64, w.int64s([-1])], {
        shape: [...im.shape, 1],
        dtype: 'i64',
      });
      if (axis === 0) {
        w.node('ScatterND', [front, idx, upd], out, meta, [attr.string('reduction', 'add')]);
        return;
      }
      const frontMeta = withShape(
        xm,
        perm.map((p) => xm.shape[p]!),
      );
      const added = w.step(n.id, 'added', 'ScatterND', [front, idx, upd], frontMeta, [
        attr.string('reduction', 'add'),
      ]);
      const inverse = new Array<number>(r);
      perm.forEach((p, i) => (inverse[p] = i));
      w.node('Transpose', [added], out, meta, [attr.ints('perm', inverse)]);
      return;
    }
    case 'oneHot': {
      const im = inMeta(0);
      const i64 = w.step(n.id, 'indices64', 'Cast', [x], typed(im, 'i64'), [
        attr.int('to', ONNX_DTYPE.INT64),
      ]);
      const values = w.constant('f32', [2], [at.offValue as number, at.onValue as number]);
      const depth = w.constant('i64', [1], [at.depth as number]);
      if (meta.dtype === 'f32') {
        w.node('OneHot', [i64, depth, values], out, meta, [attr.int('axis', -1)]);
        return;
      }
      const hot = w.step(n.id, 'float', 'OneHot', [i64, depth, values], typed(meta, 'f32'), [
        attr.int('axis', -1),
      ]);
      w.node('Cast', [hot], out, meta, [attr.int('to', onnxDType(meta.dtype))]);
      return;
    }
    case 'sum':
    case 'max':
    case 'min': {
      const axes = at.axes as number[];
      const keep = attr.int('keepdims', at.keepDims ? 1 : 0);
      if (axes.length === 0) w.node('Identity', [x], out, meta);
      else if (n.op === 'sum') w.node('ReduceSum', [x, w.int64s(axes)], out, meta, [keep]);
      else
        w.node(n.op === 'max' ? 'ReduceMax' : 'ReduceMin', [x], out, meta, [
          attr.ints('axes', axes),
          keep,
        ]);
      return;
    }
    case 'argmax': {
      const arg = w.step(n.id, 'int64', 'ArgMax', [x], typed(meta, 'i64'), [
        attr.int('axis', at.axis as number),
        attr.int('keepdims', at.keepDims ? 1 : 0),
      ]);
      w.node('Cast', [arg], out, meta, [attr.int('to', ONNX_DTYPE.INT32)]);
      return;
    }
    case 'matmul': {
      let left = { value: x, meta: inMeta(0) };
      let right = { value: y, meta: inMeta(1) };
      if (at.transposeA && left.meta.shape.length >= 2)
        left = swapLast(c, n.id, x, left.meta, 'a_t');
      if (at.transposeB && right.meta.shape.length >= 2)
        right = swapLast(c, n.id, y, right.meta, 'b_t');
      w.node('MatMul', [left.value, right.value], out, meta);
      return;
    }
    case 'conv2d': {
      const wm = inMeta(1).shape as number[];
      w.node('Conv', [x, y], out, meta, [
        attr.ints('kernel_shape', wm.slice(2)),
        attr.ints('strides', at.stride as number[]),
        attr.ints('pads', at.padding as number[]),
        attr.ints('dilations', at.dilation as number[]),
        attr.int('group', at.groups as number),
      ]);
      return;
    }
    case 'conv2dBackpropInput': {
      // The adjoint of a convolution is ONNX's ConvTranspose, sized by output_padding.
      const [kh, kw] = (inMeta(1).shape as number[]).slice(2) as [number, number];
      const [ho, wo] = (inMeta(0).shape as number[]).slice(2) as [number, number];
      const [sh, sw] = at.stride as [number, number];
      const [dh, dw] = at.dilation as [number, number];
      const [pt, pl, pb, pr] = at.padding as [number, number, number, number];
      const target = (at.inputShape as number[]).slice(2) as [number, number];
      const outputPadding = [
        target[0] - (sh * (ho - 1) + dh * (kh - 1) + 1 - pt - pb),
        target[1] - (sw * (wo - 1) + dw * (kw - 1) + 1 - pl - pr),
      ];
      w.node('ConvTranspose', [x, y], out, meta, [
        attr.ints('kernel_shape', [kh, kw]),
        attr.ints('strides', [sh, sw]),
        attr.ints('pads', [pt, pl, pb, pr]),
        attr.ints('dilations', [dh, dw]),
        attr.int('group', at.groups as number),
        attr.ints('output_padding', outputPadding),
      ]);
      return;
    }
    case 'maxPool2d':
    case 'avgPool2d': {
      const [ph, pw] = at.padding as [number, number];
      const attributes = [
        attr.ints('kernel_shape', at.kernelSize as number[]),
        attr.ints('strides', at.stride as number[]),
        attr.ints('pads', [ph, pw, ph, pw]),
      ];
      if (n.op === 'avgPool2d')
        attributes.push(attr.int('count_include_pad', at.countIncludePad ? 1 : 0));
      w.node(n.op === 'maxPool2d' ? 'MaxPool' : 'AveragePool', [x], out, meta, attributes);
      return;
    }
    case 'softmax':
    case 'logSoftmax':
      w.node(n.op === 'softmax' ? 'Softmax' : 'LogSoftmax', [x], out, meta, [
        attr.int('axis', at.axis as number),
      ]);
      return;
    case 'crossEntropy': {
      const lm = inMeta(0);
      const lab = inMeta(1);
      const eps = (at.labelSmoothing as number | undefined) ?? 0;
      const reduction = (at.reduction as string | undefined) ?? 'mean';
      if (eps === 0) {
        // ONNX's own loss (opset 13): one node, with int64 labels.
        const l64 = w.step(n.id, 'labels64', 'Cast', [y], typed(lab, 'i64'), [
          attr.int('to', ONNX_DTYPE.INT64),
        ]);
        w.node('SoftmaxCrossEntropyLoss', [x, l64], out, meta, [
          attr.string('reduction', reduction),
        ]);
        return;
      }
      // With label smoothing: −log softmax(logits)[label] by LogSoftmax and GatherElements, then
      // (1 − ε)·nll + ε·mean over classes of −log p, as PyTorch's label_smoothing.
      const lsm = w.step(n.id, 'log_softmax', 'LogSoftmax', [x], lm, [attr.int('axis', 1)]);
      const keptShape = [lab.shape[0]!, 1, ...lab.shape.slice(1)];
      const l64 = w.step(n.id, 'labels64', 'Cast', [y], typed(lab, 'i64'), [
        attr.int('to', ONNX_DTYPE.INT64),
      ]);
      const unsq = w.step(n.id, 'labels', 'Unsqueeze', [l64, w.int64s([1])], {
        shape: keptShape,
        dtype: 'i64',
      });
      const picked = w.step(
        n.id,
        'picked',
        'GatherElements',
        [lsm, unsq],
        withShape(lm, keptShape),
        [attr.int('axis', 1)],
      );
      const squeezed = w.step(
        n.id,
        'log_p',
        'Squeeze',
        [picked, w.int64s([1])],
        withShape(lm, lab.shape),
      );
      const nll = w.step(n.id, 'nll', 'Neg', [squeezed], withShape(lm, lab.shape));
      const m = withShape(lm, lab.shape);
      const meanLsm = w.step(n.id, 'mean_log_p', 'ReduceMean', [lsm], m, [
        attr.ints('axes', [1]),
        attr.int('keepdims', 0),
      ]);
      const smooth = w.step(n.id, 'smooth', 'Neg', [meanLsm], m);
      const a1 = w.step(n.id, 'nll_scaled', 'Mul', [nll, w.scalar(1 - eps, lm.dtype)], m);
      const a2 = w.step(n.id, 'smooth_scaled', 'Mul', [smooth, w.scalar(eps, lm.dtype)], m);
      const loss = w.step(n.id, 'smoothed', 'Add', [a1, a2], m);
      reduceLoss(c, loss, reduction, out, meta);
      return;
    }
    case 'mseLoss': {
      const m = inMeta(0);
      const d = w.step(n.id, 'diff', 'Sub', [x, y], m);
      const sq = w.step(n.id, 'squared', 'Mul', [d, d], m);
      reduceLoss(c, sq, (at.reduction as string | undefined) ?? 'mean', out, meta);
      return;
    }
    case 'linear': {
      const xm = inMeta(0);
      if (xm.shape.length === 2) {
        w.node('Gemm', [...inputs], out, meta, [attr.int('transB', 1)]);
        return;
      }
      const wm = inMeta(1);
      const wt = w.step(
        n.id,
        'weight_t',
        'Transpose',
        [y],
        withShape(wm, [wm.shape[1]!, wm.shape[0]!]),
        [attr.ints('perm', [1, 0])],
      );
      if (inputs.length === 2) {
        w.node('MatMul', [x, wt], out, meta);
        return;
      }
      const mm = w.step(n.id, 'matmul', 'MatMul', [x, wt], meta);
      w.node('Add', [mm, z], out, meta);
      return;
    }
    case 'layerNorm': {
      const shape = at.normalizedShape as number[];
      const scale =
        y ??
        w.initializer(
          w.fresh(`${n.id}/ones`),
          meta.dtype,
          shape,
          new Array<number>(sizeOf(shape)).fill(1),
        );
      w.node('LayerNormalization', [x, scale, ...(z ? [z] : [])], out, meta, [
        attr.int('axis', -shape.length),
        attr.float('epsilon', (at.eps as number | undefined) ?? 1e-5),
      ]);
      return;
    }
    case 'batchNorm': {
      if (at.training === true)
        c.warnings.push(
          `node '${n.id}' (batchNorm) exports in inference form, normalising with its running ` +
            `statistics (the engine's eval mode): ONNX models are for inference`,
        );
      // ONNX's momentum weighs the running value, PyTorch's and the engine's the batch's.
      w.node('BatchNormalization', [...inputs], out, meta, [
        attr.float('epsilon', (at.eps as number | undefined) ?? 1e-5),
        attr.float('momentum', 1 - ((at.momentum as number | undefined) ?? 0.1)),
        attr.int('training_mode', 0),
      ]);
      return;
    }
    case 'dropout':
      if (at.training !== false && (at.p as number) > 0)
        c.warnings.push(
          `node '${n.id}' (dropout) exports as the identity: ONNX models are for inference`,
        );
      w.node('Identity', [x], out, meta);
      return;
    case 'conv2dBackpropFilter':
    case 'maxPool2dGrad':
    case 'maxPool2dGather':
    case 'avgPool2dGrad':
      return unsupported(
        T,
        n,
        `ONNX has no operator for '${n.op}' (a gradient op)`,
        'Export the forward graph instead; ONNX runtimes differentiate it themselves',
      );
    case 'placeholder':
      return unsupported(
        T,
        n,
        `it is a placeholder for the op '${String(at.op)}', which Wiregrad cannot run`,
        'Replace the placeholder with Wiregrad ops first',
      );
    default:
      return unsupported(T, n, `ONNX export has no translation for op '${n.op}'`);
  }
}

// ---- the model ----------------------------------------------------------------------------

/** The ModelProto of `graph` (weights read with `await t.data()`, so any device works). */
export async function exportOnnx(
  graph: Graph,
  options: OnnxExportOptions = {},
): Promise<OnnxExport> {
  const a = analyzeGraph(graph, options.outputs);
  const w = new OnnxWriter();
  const warnings: string[] = [];
  const c: Context = { w, a, warnings };
  const own = a.nodes.some((n) => n.op === 'parameter' && !options.params?.has(n.id))
    ? graph.initParameters()
    : new Map<string, Tensor>();
  const paramValue = (id: string): Tensor => options.params?.get(id) ?? own.get(id)!;

  // Graph inputs keep their names and outputs take theirs; other values are named by node id.
  const inputNodes = a.nodes.filter((n) => n.op === 'input');
  for (const n of inputNodes) w.reserve(inputKey(n));
  for (const o of a.outputs) w.reserve(o.name);
  const valueOf = new Map<string, string>();
  for (const n of inputNodes) valueOf.set(n.id, inputKey(n));
  // An output computed by a node is that node's value under the output's name; an output that
  // repeats a value (or is an input) gets an Identity.
  const direct = new Map<string, string>();
  for (const o of a.outputs)
    if (!valueOf.has(o.node) && !direct.has(o.node)) direct.set(o.node, o.name);

  const inputs: OnnxValueInfo[] = inputNodes.map((n) => {
    const at = n.attrs as unknown as InputAttrs;
    return valueInfo(inputKey(n), {
      shape: at.shape.map((d) => (d === -1 ? 'N' : d)),
      dtype: at.dtype,
    });
  });

  // A biased convolution layer (conv2d + reshaped bias + add) is one Conv with its bias input.
  const convs = new Map<string, Layer>();
  const inside = new Set<string>();
  for (const layer of findLayers(a))
    if (layer.kind === 'conv2d' && layer.params.bias !== undefined) {
      convs.set(layer.output, layer);
      for (const m of layer.members)
        if (m !== layer.output && !Object.values(layer.params).includes(m)) inside.add(m);
    }

  for (const n of a.nodes) {
    if (n.op === 'input' || inside.has(n.id)) continue;
    const name = direct.get(n.id) ?? w.fresh(n.id);
    valueOf.set(n.id, name);
    const meta = a.meta(n.id);
    if (n.op === 'parameter') {
      const t = paramValue(n.id);
      w.initializer(name, meta.dtype, meta.shape as number[], await t.data());
    } else if (n.op === 'constant') {
      const at = n.attrs as unknown as ConstantAttrs;
      // Marked, so that an import gives a constant back rather than a trainable parameter.
      w.initializer(name, at.dtype, at.shape, at.data, CONSTANT_DOC);
    } else if (convs.has(n.id)) {
      const layer = convs.get(n.id)! as Extract<Layer, { kind: 'conv2d' }>;
      const [ph, pw] = layer.padding as [number, number];
      const inputs = [layer.input, layer.params.weight!, layer.params.bias!].map((id) =>
        valueOf.get(id)!,
      );
      w.node('Conv', inputs, name, meta, [
        attr.ints('kernel_shape', layer.kernel),
        attr.ints('strides', layer.stride),
        attr.ints('pads', [ph, pw, ph, pw]),
        attr.ints('dilations', layer.dilation),
        attr.int('group', layer.groups),
      ]);
    } else {
      emitNode(
        c,
        n,
        n.inputs.map((i) => valueOf.get(i)!),
        name,
      );
    }
  }

  const outputs: OnnxValueInfo[] = a.outputs.map((o) => {
    const meta = a.meta(o.node);
    if (valueOf.get(o.node) !== o.name)
      w.node('Identity', [valueOf.get(o.node)!], o.name, meta, [], `output/${o.name}`);
    w.produced.delete(o.name);
    return valueInfo(o.name, meta);
  });
  const valueInfos = [...w.produced].map(([name, meta]) => valueInfo(name, meta));

  const description = typeof graph.meta?.description === 'string' ? graph.meta.description : '';
  const model: OnnxModel = {
    irVersion: ONNX_IR_VERSION,
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    producerName: 'wiregrad',
    producerVersion: options.producerVersion ?? '0.1.0',
    ...(description ? { docString: description } : {}),
    graph: {
      name: graph.name ?? 'graph',
      node: w.nodes,
      initializer: w.initializers,
      input: inputs,
      output: outputs,
      valueInfo: valueInfos,
    },
  };
  return { bytes: encodeModel(model), model, warnings };
}

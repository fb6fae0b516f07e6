/**
 * Exports a graph as a readable PyTorch module (`model.py`): layers the graph groups as
 * Linear, Conv2d, LayerNorm, Embedding or BatchNorm1d/2d become `nn` modules (see layers.ts) with PyTorch's
 * state-dict names, every other node one line of `forward()` with a functional call, named
 * after the node. `forward(x, y=None)` returns a dict of the graph's outputs; outputs that
 * need the labels (the loss) are computed only when the labels are given. Parameters outside
 * layers are `nn.Parameter`s initialised by the same rule as in the graph; small constants
 * are literal buffers, larger ones persistent buffers stored with the weights.
 *
 * The weights go into `weights.safetensors`, keyed by state-dict name; model.py carries a
 * tiny safetensors reader and writer (see python.ts), so `load_state_dict` needs nothing but
 * PyTorch. Ops that PyTorch has no public operator for (the pooling gradients) and placeholder
 * nodes of unsupported ONNX ops are refused with an ExportError naming the node.
 *
 * A `batchNorm` layer becomes nn.BatchNorm1d/2d, whose mode follows the module's: train()
 * normalises with the batch's statistics and updates running_mean/running_var (the engine's
 * `training: true`, with the trainer's update), eval() uses the running statistics (the
 * engine's `training: false`). Its num_batches_tracked is stored as 0: the engine does not
 * count batches, and with a fixed momentum PyTorch does not read it.
 */

import type { DType } from '../core/dtype.js';
import { sizeOf } from '../core/shape.js';
import type { Graph, GraphNode } from '../graph/graph.js';
import type { ConstantAttrs, InputAttrs, ParameterAttrs } from '../graph/ir.js';
import { inputKey } from '../graph/run.js';
import {
  type Dim,
  type GraphAnalysis,
  type ValueMeta,
  analyzeGraph,
  unsupported,
} from './analysis.js';
import { type Layer, findLayers } from './layers.js';
import { Namer, PYTHON_BUILTINS, PYTHON_KEYWORDS } from './names.js';
import {
  PY_SAFETENSORS,
  helperCode,
  pyDType,
  pyFloat,
  pyInt,
  pyLiteral,
  pyScalar,
  pyString,
  pyTuple,
} from './python.js';

/** Constants up to this many elements are written into model.py; larger ones go with the weights. */
const INLINE_CONSTANT_LIMIT = 64;

/** Attribute names nn.Module already has: a layer or parameter must not shadow them. */
const MODULE_ATTRIBUTES = [
  'training', 'forward', 'parameters', 'named_parameters', 'buffers', 'named_buffers', 'children',
  'named_children', 'modules', 'named_modules', 'state_dict', 'load_state_dict', 'to', 'cuda',
  'cpu', 'eval', 'train', 'apply', 'register_buffer', 'register_parameter', 'add_module',
  'zero_grad', 'type', 'float', 'double', 'half', 'bfloat16', 'extra_repr', 'requires_grad_',
  'share_memory', 'get_parameter', 'get_submodule', 'get_buffer', 'register_module', 'xpu',
  'ipu', 'dump_patches', 'call_super_init', 'register_forward_hook', 'register_forward_pre_hook',
  'register_backward_hook', 'register_full_backward_hook', 'to_empty',
]; // prettier-ignore

/** Names the generated forward() uses for itself. */
const FORWARD_NAMES = ['self', 'torch', 'nn', 'F', 'math', 'json', 'struct', 'outputs'];

/** One input of the exported module, in forward()'s argument order (data first, labels last). */
export interface ModuleInput {
  /** The graph's name for it (`run` takes it under this name). */
  readonly name: string;
  /** The Python argument name. */
  readonly arg: string;
  /** Declared shape; -1 is the batch dimension. */
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly role: 'data' | 'label';
  /** For integer labels read by a cross-entropy: the number of classes. */
  readonly classes?: number;
}

/** A tensor stored with the weights: a parameter or a large constant. */
export interface StoredTensor {
  /** The state-dict key. */
  readonly key: string;
  /** The graph node it holds the value of (for a batch count: the batchNorm node). */
  readonly node: string;
  /** A BatchNorm layer's num_batches_tracked: an integer count, not a graph value. */
  readonly role?: 'batchesTracked';
}

export interface PyTorchModule {
  /** model.py */
  readonly code: string;
  readonly className: string;
  readonly inputs: readonly ModuleInput[];
  /** The graph output names forward() returns. */
  readonly outputs: readonly string[];
  /** What weights.safetensors holds, by state-dict key. */
  readonly stored: readonly StoredTensor[];
  /** Outputs computed only when the labels are given. */
  readonly labelOutputs: readonly string[];
}

export interface PyTorchModuleOptions {
  /** Export only these outputs (default: all). */
  readonly outputs?: readonly string[];
  /** The class name (default `Model`). */
  readonly className?: string;
}

// ---- forward() expressions ----------------------------------------------------------------

interface Emit {
  readonly a: GraphAnalysis;
  /** The Python device expression for tensors made inside forward(). */
  readonly device: string;
  readonly helpers: Set<string>;
}

const dims = (shape: readonly Dim[]): string =>
  `[${shape.map((d) => (d === 'N' ? 'N' : String(d))).join(', ')}]`;

function inputMeta(e: Emit, node: GraphNode, i: number): ValueMeta {
  return e.a.meta(node.inputs[i]!);
}

/** Sizes as the arguments of reshape/permute/expand: `2, 3`, or `()` for none. */
const sizes = (values: readonly number[]): string =>
  values.length === 0 ? '()' : values.map(pyInt).join(', ');

/** `(h, w)` pairs read as ints when both are equal, as PyTorch prints them. */
function pair(values: readonly number[]): string {
  return values.length === 2 && values[0] === values[1] ? pyInt(values[0]!) : pyTuple(values);
}

/** Keyword arguments, leaving out those equal to PyTorch's defaults. */
function kwargs(list: readonly [string, string, string][]): string {
  return list
    .filter(([, value, fallback]) => value !== fallback)
    .map(([name, value]) => `, ${name}=${value}`)
    .join('');
}

/** The Python expression of one node, given its arguments' expressions. */
function forwardCall(e: Emit, node: GraphNode, args: readonly string[]): string {
  const [a, b, c] = args as [string, string, string];
  const at = node.attrs as Record<string, unknown>;
  const out = e.a.meta(node.id);
  const T = 'PyTorch';
  switch (node.op) {
    case 'neg':
      return `torch.neg(${a})`;
    case 'exp':
    case 'log':
    case 'sqrt':
    case 'abs':
    case 'sign':
    case 'tanh':
    case 'sigmoid':
    case 'erf':
      return `torch.${node.op}(${a})`;
    case 'relu':
    case 'gelu':
      return `F.${node.op}(${a})`;
    case 'leakyRelu':
      return `F.leaky_relu(${a}, ${pyFloat((at.alpha as number | undefined) ?? 0.01)})`;
    case 'add':
      return `${a} + ${b}`;
    case 'sub':
      return `${a} - ${b}`;
    case 'mul':
      return `${a} * ${b}`;
    case 'div':
      // Integer operands give a float quotient in both libraries.
      return `${a} / ${b}`;
    case 'pow':
      return `torch.pow(${a}, ${b})`;
    case 'maximum':
    case 'minimum':
      return `torch.${node.op}(${a}, ${b})`;
    case 'equal':
      return `torch.eq(${a}, ${b})`;
    case 'greater':
      return `torch.gt(${a}, ${b})`;
    case 'less':
      return `torch.lt(${a}, ${b})`;
    case 'where':
      return `torch.where(${a}, ${b}, ${c})`;
    case 'cast':
      return `${a}.to(${pyDType(at.dtype as DType)})`;
    case 'identity':
      return a;
    case 'stopGradient':
      return `${a}.detach()`;
    case 'fill':
      return (
        `torch.full(${pyTuple(at.shape as number[])}, ` +
        `${pyScalar(at.value as number, at.dtype as DType)}, dtype=${pyDType(at.dtype as DType)}, ` +
        `device=${e.device})`
      );
    case 'arange': {
      const dt = at.dtype as DType;
      return (
        `torch.arange(${pyScalar(at.start as number, dt)}, ${pyScalar(at.stop as number, dt)}, ` +
        `${pyScalar(at.step as number, dt)}, dtype=${pyDType(dt)}, device=${e.device})`
      );
    }
    case 'randomUniform':
    case 'randomNormal': {
      const helper = node.op === 'randomUniform' ? 'uniform' : 'normal';
      e.helpers.add(helper);
      return (
        `_${helper}(${pyTuple(at.shape as number[])}, ${pyInt(at.seed as number)}, ` +
        `${pyDType(at.dtype as DType)}, ${e.device})`
      );
    }
    case 'reshape':
      return `${a}.reshape(${sizes(at.shape as number[])})`;
    case 'expand': {
      // -1 keeps a dimension, so the batch dimension stays free.
      const inShape = inputMeta(e, node, 0).shape;
      const offset = out.shape.length - inShape.length;
      const target = (at.shape as number[]).map((d, i) =>
        i >= offset && out.shape[i] === 'N' && inShape[i - offset] === 'N' ? -1 : d,
      );
      return `${a}.expand(${sizes(target)})`;
    }
    case 'transpose':
      return `${a}.permute(${sizes(at.perm as number[])})`;
    case 'slice': {
      const inShape = inputMeta(e, node, 0).shape;
      const begin = at.begin as number[];
      const size = at.size as number[];
      const parts = inShape.map((d, i) =>
        begin[i] === 0 && (out.shape[i] === d || size[i] === d)
          ? ':'
          : `${begin[i]}:${begin[i]! + size[i]!}`,
      );
      while (parts.length > 0 && parts[parts.length - 1] === ':') parts.pop();
      return parts.length === 0 ? a : `${a}[${parts.join(', ')}]`;
    }
    case 'pad': {
      const pads = at.pads as number[];
      // F.pad lists (before, after) from the last axis backwards; leading zero pairs drop out.
      const pairs: number[] = [];
      for (let d = pads.length / 2 - 1; d >= 0; d--) pairs.push(pads[2 * d]!, pads[2 * d + 1]!);
      while (pairs.length > 2 && pairs[pairs.length - 1] === 0 && pairs[pairs.length - 2] === 0)
        pairs.splice(-2);
      const value = at.value as number;
      return `F.pad(${a}, ${pyTuple(pairs)}${value !== 0 ? `, value=${pyFloat(value)}` : ''})`;
    }
    case 'concat':
      return `torch.cat([${args.join(', ')}], dim=${pyInt(at.axis as number)})`;
    case 'gather':
      if (inputMeta(e, node, 1).shape.length === 1)
        return `torch.index_select(${a}, ${pyInt(at.axis as number)}, ${b}.long())`;
      e.helpers.add('take');
      return `_take(${a}, ${b}, ${pyInt(at.axis as number)})`;
    case 'scatterAdd':
      e.helpers.add('scatterAdd');
      return `_scatter_add(${a}, ${b}, ${c}, ${pyInt(at.axis as number)})`;
    case 'oneHot': {
      const dt = at.dtype as DType;
      if (at.onValue === 1 && at.offValue === 0)
        return `F.one_hot(${a}.long(), ${pyInt(at.depth as number)}).to(${pyDType(dt)})`;
      e.helpers.add('oneHot');
      return (
        `_one_hot(${a}, ${pyInt(at.depth as number)}, ${pyScalar(at.onValue as number, dt)}, ` +
        `${pyScalar(at.offValue as number, dt)}, ${pyDType(dt)})`
      );
    }
    case 'sum':
    case 'max':
    case 'min': {
      const axes = at.axes as number[];
      // No axes reduces nothing in Wiregrad; torch.sum(dim=[]) would reduce everything.
      if (axes.length === 0) return a;
      const keep = at.keepDims ? ', keepdim=True' : '';
      if (node.op === 'sum') {
        // torch.sum widens integers to int64; keep the graph's dtype.
        const dtype = out.dtype === 'i32' ? `, dtype=torch.int32` : '';
        return `torch.sum(${a}, dim=${pyTuple(axes)}${keep}${dtype})`;
      }
      return `torch.${node.op === 'max' ? 'amax' : 'amin'}(${a}, dim=${pyTuple(axes)}${keep})`;
    }
    case 'argmax':
      return (
        `torch.argmax(${a}, dim=${pyInt(at.axis as number)}` +
        `${at.keepDims ? ', keepdim=True' : ''}).to(torch.int32)`
      );
    case 'matmul': {
      const ta = at.transposeA && inputMeta(e, node, 0).shape.length >= 2;
      const tb = at.transposeB && inputMeta(e, node, 1).shape.length >= 2;
      return `torch.matmul(${ta ? `${a}.transpose(-2, -1)` : a}, ${tb ? `${b}.transpose(-2, -1)` : b})`;
    }
    case 'conv2d':
    case 'conv2dBackpropInput':
    case 'conv2dBackpropFilter': {
      const [t, l, bottom, r] = at.padding as [number, number, number, number];
      const symmetric = t === bottom && l === r;
      const options = kwargs([
        ['stride', pair(at.stride as number[]), '1'],
        ['padding', pair([t, l]), '0'],
        ['dilation', pair(at.dilation as number[]), '1'],
        ['groups', pyInt(at.groups as number), '1'],
      ]);
      if (node.op === 'conv2d') {
        if (symmetric) return `F.conv2d(${a}, ${b}${options})`;
        // PyTorch pads both sides alike: pad the input explicitly first.
        const rest = kwargs([
          ['stride', pair(at.stride as number[]), '1'],
          ['dilation', pair(at.dilation as number[]), '1'],
          ['groups', pyInt(at.groups as number), '1'],
        ]);
        return `F.conv2d(F.pad(${a}, ${pyTuple([l, r, t, bottom])}), ${b}${rest})`;
      }
      if (!symmetric)
        unsupported(
          T,
          node,
          'torch.nn.grad pads both sides alike, and this node pads asymmetrically',
        );
      return node.op === 'conv2dBackpropInput'
        ? `torch.nn.grad.conv2d_input(${pyTuple(at.inputShape as number[])}, ${b}, ${a}${options})`
        : `torch.nn.grad.conv2d_weight(${a}, ${pyTuple(at.filterShape as number[])}, ${b}${options})`;
    }
    case 'maxPool2d':
    case 'avgPool2d': {
      const fn = node.op === 'maxPool2d' ? 'F.max_pool2d' : 'F.avg_pool2d';
      const kernel = at.kernelSize as number[];
      const options = kwargs([
        ['stride', pair(at.stride as number[]), pair(kernel)],
        ['padding', pair(at.padding as number[]), '0'],
        ...(node.op === 'avgPool2d'
          ? [
              ['count_include_pad', at.countIncludePad ? 'True' : 'False', 'True'] as [
                string,
                string,
                string,
              ],
            ]
          : []),
      ]);
      return `${fn}(${a}, ${pair(kernel)}${options})`;
    }
    case 'softmax':
      return `F.softmax(${a}, dim=${pyInt(at.axis as number)})`;
    case 'logSoftmax':
      return `F.log_softmax(${a}, dim=${pyInt(at.axis as number)})`;
    case 'crossEntropy':
      return (
        `F.cross_entropy(${a}, ${b}.long()` +
        kwargs([
          ['reduction', pyString((at.reduction as string | undefined) ?? 'mean'), "'mean'"],
          ['label_smoothing', pyFloat((at.labelSmoothing as number | undefined) ?? 0), '0.0'],
        ]) +
        ')'
      );
    case 'mseLoss':
      return (
        `F.mse_loss(${a}, ${b}` +
        kwargs([
          ['reduction', pyString((at.reduction as string | undefined) ?? 'mean'), "'mean'"],
        ]) +
        ')'
      );
    case 'linear':
      return `F.linear(${args.join(', ')})`;
    case 'layerNorm': {
      const shape = pyTuple(at.normalizedShape as number[]);
      const eps = kwargs([['eps', pyFloat((at.eps as number | undefined) ?? 1e-5), '1e-05']]);
      return `F.layer_norm(${a}, ${shape}, ${b ?? 'None'}, ${c ?? 'None'}${eps})`;
    }
    case 'batchNorm': {
      // Not a layer (its tensors are shared or computed): a pure call in the node's own mode,
      // which never writes the running statistics, as the engine's op.
      const eps = kwargs([['eps', pyFloat((at.eps as number | undefined) ?? 1e-5), '1e-05']]);
      const [, w, bias, mean, variance] = args;
      return at.training === true
        ? `F.batch_norm(${a}, None, None, ${w}, ${bias}, training=True${eps})`
        : `F.batch_norm(${a}, ${mean}, ${variance}, ${w}, ${bias}, training=False${eps})`;
    }
    case 'dropout': {
      const p = at.p as number;
      if (at.training === false || p === 0) return a;
      if (at.seed === undefined) return `F.dropout(${a}, ${pyFloat(p)}, training=self.training)`;
      e.helpers.add('dropout');
      return `_dropout(${a}, ${pyFloat(p)}, ${pyInt(at.seed as number)}, self.training)`;
    }
    case 'maxPool2dGrad':
    case 'maxPool2dGather':
    case 'avgPool2dGrad':
      return unsupported(
        T,
        node,
        `PyTorch has no public operator for '${node.op}' (a pooling gradient)`,
        'Export the forward graph instead and let PyTorch differentiate it',
      );
    case 'placeholder':
      return unsupported(
        T,
        node,
        `it is a placeholder for the op '${String(at.op)}', which Wiregrad cannot run`,
        'Replace the placeholder with Wiregrad ops first',
      );
    default:
      return unsupported(T, node, `PyTorch export has no translation for op '${node.op}'`);
  }
}

// ---- __init__ -----------------------------------------------------------------------------

function layerModule(layer: Layer): string {
  switch (layer.kind) {
    case 'linear':
      return `nn.Linear(${layer.inFeatures}, ${layer.outFeatures}${layer.params.bias ? '' : ', bias=False'})`;
    case 'conv2d':
      return (
        `nn.Conv2d(${layer.inChannels}, ${layer.outChannels}, kernel_size=${pair(layer.kernel)}` +
        kwargs([
          ['stride', pair(layer.stride), '1'],
          ['padding', pair(layer.padding), '0'],
          ['dilation', pair(layer.dilation), '1'],
          ['groups', pyInt(layer.groups), '1'],
          ['bias', layer.params.bias ? 'True' : 'False', 'True'],
        ]) +
        ')'
      );
    case 'layerNorm': {
      const shape = layer.normalizedShape;
      return (
        `nn.LayerNorm(${shape.length === 1 ? pyInt(shape[0]!) : pyTuple(shape)}` +
        kwargs([
          ['eps', pyFloat(layer.eps), '1e-05'],
          ['elementwise_affine', layer.params.weight ? 'True' : 'False', 'True'],
        ]) +
        ')'
      );
    }
    case 'embedding':
      return `nn.Embedding(${layer.count}, ${layer.dim})`;
    case 'batchNorm':
      return (
        `nn.BatchNorm${layer.dims}d(${layer.features}` +
        kwargs([
          ['eps', pyFloat(layer.eps), '1e-05'],
          ['momentum', pyFloat(layer.momentum), '0.1'],
        ]) +
        ')'
      );
    default:
      return layer satisfies never;
  }
}

/** PyTorch's fan-in and fan-out of a weight shape (as engine/graph/run.ts computes them). */
function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) return { fanIn: shape[0] ?? 1, fanOut: shape[0] ?? 1 };
  const receptive = sizeOf(shape.slice(2));
  return { fanIn: shape[1]! * receptive, fanOut: shape[0]! * receptive };
}

/** A free parameter's initial value, by the same rule as the graph's (torch's random stream). */
function parameterInit(p: ParameterAttrs): string {
  const shape = pyTuple(p.shape);
  const dtype = pyDType(p.dtype);
  const empty = `torch.empty(${shape}, dtype=${dtype})`;
  const f = fans(p.shape);
  const uniform = (bound: number): string =>
    `nn.init.uniform_(${empty}, ${pyFloat(-bound)}, ${pyFloat(bound)})`;
  switch (p.init) {
    case 'zeros':
      return `torch.zeros(${shape}, dtype=${dtype})`;
    case 'ones':
      return `torch.ones(${shape}, dtype=${dtype})`;
    case 'constant':
      return `torch.full(${shape}, ${pyScalar(p.value ?? 0, p.dtype)}, dtype=${dtype})`;
    case 'normal':
      return `nn.init.normal_(${empty}, std=${pyFloat(p.std ?? 1)})`;
    case 'uniform':
      return uniform(p.bound ?? 1);
    case 'kaimingUniform':
      return uniform(1 / Math.sqrt(p.fanIn ?? f.fanIn));
    case 'xavierUniform':
      return uniform(Math.sqrt(6 / ((p.fanIn ?? f.fanIn) + (p.fanOut ?? f.fanOut))));
    default:
      return p.init satisfies never;
  }
}

function constantLiteral(c: ConstantAttrs): string {
  const values = c.data.map((v) => pyScalar(v, c.dtype));
  const data = c.shape.length === 0 ? values[0]! : `[${values.join(', ')}]`;
  const reshape = c.shape.length > 1 ? `.reshape(${sizes(c.shape)})` : '';
  return `torch.tensor(${data}, dtype=${pyDType(c.dtype)})${reshape}`;
}

// ---- the module ---------------------------------------------------------------------------

function docstring(
  graph: Graph,
  className: string,
  inputs: readonly ModuleInput[],
  a: GraphAnalysis,
): string {
  // The docstring is a plain string literal: keep backslashes and triple quotes literal.
  const safe = (s: string) => s.replace(/\\/g, '\\\\').replace(/"""/g, '\\"\\"\\"');
  const title = safe(graph.name ?? 'A Wiregrad graph');
  const description = safe(
    typeof graph.meta?.description === 'string' ? graph.meta.description : '',
  );
  const shapeText = (i: ModuleInput) =>
    `${i.arg} [${i.shape.map((d) => (d === -1 ? 'N' : String(d))).join(', ')}] ` +
    `${pyDType(i.dtype).slice(6)} (${i.role})`;
  const lines = [
    `"""${title}, as a PyTorch module.`,
    '',
    ...(description ? [description, ''] : []),
    'Exported by Wiregrad from its graph document: one line of forward() per graph node, where',
    'a layer (nn.Linear, nn.Conv2d …) stands for its group of nodes. Load the exported weights:',
    '',
    `    model = ${className}()`,
    `    model.load_state_dict(load_safetensors('weights.safetensors'))`,
    '',
    `Inputs: ${inputs.map(shapeText).join(', ')}.`,
    `Outputs (a dict): ${a.outputs.map((o) => `${o.name} ${dims(a.meta(o.node).shape)}`).join(', ')}.`,
    '"""',
  ];
  return lines.join('\n');
}

/** Generates model.py for `graph` (its weights are written separately, see `exportPyTorch`). */
export function pytorchModule(graph: Graph, options: PyTorchModuleOptions = {}): PyTorchModule {
  const a = analyzeGraph(graph, options.outputs);
  const className = options.className ?? 'Model';
  const layers = findLayers(a);
  const order = new Map(a.nodes.map((n, i) => [n.id, i]));
  layers.sort((x, y) => order.get(x.output)! - order.get(y.output)!);
  const layerByOutput = new Map(layers.map((l) => [l.output, l]));
  const inLayer = new Set(layers.flatMap((l) => l.members));

  const attrs = new Namer('snake', [...MODULE_ATTRIBUTES, ...PYTHON_KEYWORDS]);
  const locals = new Namer('snake', [
    ...FORWARD_NAMES,
    ...PYTHON_KEYWORDS,
    ...PYTHON_BUILTINS,
    className,
  ]);

  // Inputs: data first, then labels (which default to None).
  const inputNodes = a.nodes.filter((n) => n.op === 'input');
  const ordered = [
    ...inputNodes.filter((n) => (n.attrs as unknown as InputAttrs).role !== 'label'),
    ...inputNodes.filter((n) => (n.attrs as unknown as InputAttrs).role === 'label'),
  ];
  const inputs: ModuleInput[] = ordered.map((n) => {
    const at = n.attrs as unknown as InputAttrs;
    const reader = a.consumers(n.id).find((c) => c.op === 'crossEntropy' && c.inputs[1] === n.id);
    const logits = reader ? a.meta(reader.inputs[0]!).shape[1] : undefined;
    return {
      name: inputKey(n),
      arg: locals.name(n.id),
      shape: at.shape,
      dtype: at.dtype,
      role: at.role,
      ...(typeof logits === 'number' ? { classes: logits } : {}),
    };
  });

  const init: string[] = [];
  const stored: StoredTensor[] = [];
  const expr = new Map<string, string>();
  ordered.forEach((n, k) => expr.set(n.id, inputs[k]!.arg));

  for (const layer of layers) {
    const attr = attrs.name(layer.name);
    const note =
      layer.kind !== 'batchNorm'
        ? ''
        : layer.training
          ? '  # train(): batch statistics; eval(): running statistics'
          : '  # the graph normalises with the running statistics: call eval()';
    init.push(`self.${attr} = ${layerModule(layer)}${note}`);
    for (const [pname, node] of Object.entries(layer.params))
      stored.push({ key: `${attr}.${pname}`, node });
    if (layer.kind === 'batchNorm')
      stored.push({
        key: `${attr}.num_batches_tracked`,
        node: layer.output,
        role: 'batchesTracked',
      });
  }
  for (const n of a.nodes) {
    if (inLayer.has(n.id)) continue;
    if (n.op === 'parameter') {
      const p = n.attrs as unknown as ParameterAttrs;
      const attr = attrs.name(n.id);
      const trainable = (p.dtype === 'f32' || p.dtype === 'f64') && p.trainable !== false;
      const grad = trainable ? '' : ', requires_grad=False';
      init.push(`self.${attr} = nn.Parameter(${parameterInit(p)}${grad})  # ${p.init}`);
      stored.push({ key: attr, node: n.id });
      expr.set(n.id, `self.${attr}`);
    } else if (n.op === 'constant') {
      const c = n.attrs as unknown as ConstantAttrs;
      const attr = attrs.name(n.id);
      if (c.data.length <= INLINE_CONSTANT_LIMIT) {
        init.push(
          `self.register_buffer(${pyString(attr)}, ${constantLiteral(c)}, persistent=False)`,
        );
      } else {
        init.push(
          `self.register_buffer(${pyString(attr)}, torch.zeros(${pyTuple(c.shape)}, ` +
            `dtype=${pyDType(c.dtype)}))  # stored with the weights`,
        );
        stored.push({ key: attr, node: n.id });
      }
      expr.set(n.id, `self.${attr}`);
    }
  }

  // Values that need the labels, which forward() computes only when they are given.
  const labelIds = new Set(
    ordered.filter((n) => (n.attrs as unknown as InputAttrs).role === 'label').map((n) => n.id),
  );
  const needsLabels = new Set<string>();
  for (const n of a.nodes)
    if (labelIds.has(n.id) || n.inputs.some((i) => needsLabels.has(i))) needsLabels.add(n.id);

  const emit: Emit = {
    a,
    device: inputs.length > 0 ? `${inputs[0]!.arg}.device` : 'None',
    helpers: new Set(),
  };
  const body: string[] = [];
  const labelBody: string[] = [];
  for (const n of a.nodes) {
    if (n.op === 'input' || n.op === 'parameter' || n.op === 'constant') continue;
    if (inLayer.has(n.id) && !layerByOutput.has(n.id)) continue;
    const variable = locals.name(n.id);
    const layer = layerByOutput.get(n.id);
    let call: string;
    if (layer) {
      const x = expr.get(layer.input)!;
      call = `self.${attrs.name(layer.name)}(${layer.kind === 'embedding' ? `${x}.long()` : x})`;
    } else {
      call = forwardCall(
        emit,
        n,
        n.inputs.map((i) => expr.get(i)!),
      );
    }
    expr.set(n.id, variable);
    const line = `${variable} = ${call}  # ${dims(a.meta(n.id).shape)}`;
    (needsLabels.has(n.id) ? labelBody : body).push(line);
  }

  const plain = a.outputs.filter((o) => !needsLabels.has(o.node));
  const labelled = a.outputs.filter((o) => needsLabels.has(o.node));
  const ret = (o: { name: string; node: string }) => `${pyString(o.name)}: ${expr.get(o.node)!}`;
  const labelArgs = inputs.filter((i) => i.role === 'label');
  const signature = inputs.map((i) => (i.role === 'label' ? `${i.arg}=None` : i.arg));
  const forward: string[] = [...body];
  if (labelled.length === 0 && labelBody.length === 0) {
    forward.push(`return {${a.outputs.map(ret).join(', ')}}`);
  } else {
    forward.push(`outputs = {${plain.map(ret).join(', ')}}`);
    forward.push(`if ${labelArgs.map((l) => `${l.arg} is not None`).join(' and ')}:`);
    forward.push(...labelBody.map((l) => `    ${l}`));
    for (const o of labelled)
      forward.push(`    outputs[${pyString(o.name)}] = ${expr.get(o.node)!}`);
    forward.push('return outputs');
  }

  const inputSpec = inputs.map(
    (i) =>
      `    {'name': ${pyString(i.name)}, 'shape': ${pyLiteral(i.shape)}, 'dtype': ${pyDType(i.dtype)}, ` +
      `'role': ${pyString(i.role)}${i.classes !== undefined ? `, 'classes': ${i.classes}` : ''}},`,
  );
  const graphNodes = stored
    .filter((s) => s.role === undefined)
    .map((s) => `    ${pyString(s.key)}: ${pyString(s.node)},`);
  const helpers = helperCode(emit.helpers);
  const code = [
    docstring(graph, className, inputs, a),
    '',
    'import json',
    'import math',
    'import struct',
    '',
    'import torch',
    'import torch.nn.functional as F',
    'from torch import nn',
    '',
    "# forward()'s inputs, in order: the graph's name, shape (-1 is the batch size), dtype, role.",
    'INPUTS = [',
    ...inputSpec,
    ']',
    '# The graph outputs forward() returns (those that need the labels only when given them).',
    `OUTPUTS = ${pyLiteral(a.outputs.map((o) => o.name))}`,
    '# Each tensor of the state dict stored with the weights, and the graph node it belongs to.',
    'GRAPH_NODES = {',
    ...graphNodes,
    '}',
    '',
    '',
    `class ${className}(nn.Module):`,
    '    def __init__(self):',
    '        super().__init__()',
    ...(init.length > 0 ? init.map((l) => `        ${l}`) : []),
    '',
    `    def forward(self, ${signature.join(', ')}):`,
    ...forward.map((l) => `        ${l}`),
    '',
    ...(helpers ? [helpers] : []),
    PY_SAFETENSORS,
  ].join('\n');
  return {
    code: code.replace(/\n{3,}(?=\S)/g, '\n\n\n').trimEnd() + '\n',
    className,
    inputs,
    outputs: a.outputs.map((o) => o.name),
    stored,
    labelOutputs: labelled.map((o) => o.name),
  };
}

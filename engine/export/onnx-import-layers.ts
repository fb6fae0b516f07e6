/**
 * The importer's handlers for ONNX's layer ops: Gemm (as a grouped `linear` where it is
 * nn.Linear's form), Conv and ConvTranspose, the pools, LayerNormalization,
 * BatchNormalization (inference form, as `batchNorm` with untrained running statistics) and
 * SoftmaxCrossEntropyLoss. Layers become groups named after their weights, with the
 * GraphBuilder's node shapes (conv + bias view + add), so that the canvas shows them as blocks
 * and a PyTorch export writes nn modules again.
 */

import { sizeOf } from '../core/shape.js';
import type { AttrValueJSON } from '../graph/ir.js';
import type { Dim } from './analysis.js';
import type { Importer } from './onnx-import.js';
import {
  type Handler,
  type NodeContext,
  cannot,
  isStatic,
  normAxis,
  operands,
  staticShape,
} from './onnx-import-ops.js';
import type { ConstValue } from './onnx-tensor.js';

/**
 * The group a layer's nodes join: its weight's name without `.weight` (PyTorch names
 * initializers `fc1.weight`), else the node's scope (`/layer1/conv/Conv` gives `layer1.conv`).
 */
function groupOf(weight: string | undefined, nodeName: string): string {
  const m = weight ? /^(.*)\.(weight|bias|scale)$/.exec(weight) : null;
  if (m) return m[1]!;
  const parts = nodeName.replace(/^\/+/, '').split('/');
  return (parts.length > 1 ? parts.slice(0, -1) : parts).join('.');
}

/**
 * A layer parameter's id: its initializer's name when that reads like `fc1.weight`, else
 * `<group>.<role>`.
 */
function paramId(im: Importer, name: string, group: string, role: string): string {
  const initializer = im.value(name).initializer ?? '';
  return /\.(weight|bias|scale)$/.test(initializer) ? initializer : `${group}.${role}`;
}

/** Transposes a 2-D constant's data. */
function transposed(v: ConstValue): ConstValue {
  const [r, k] = v.shape as [number, number];
  const data = new Array<number | 'N'>(r * k);
  for (let i = 0; i < r; i++) for (let j = 0; j < k; j++) data[j * r + i] = v.data[i * k + j]!;
  return { type: v.type, shape: [k, r], data };
}

const gemm: Handler = (im, c) => {
  const [a, b, bias] = [c.input(0), c.input(1), c.input(2)];
  const alpha = c.at.float('alpha', 1);
  const beta = c.at.float('beta', 1);
  const transA = c.at.int('transA', 0) === 1;
  const transB = c.at.int('transB', 0) === 1;
  const weight = im.ownedWeight(b);
  const biasWeight = bias ? im.ownedWeight(bias) : null;
  const aShape = im.shape(a);
  // The layer form, nn.Linear's: y = x·Wᵀ + b with W [out, in], as one grouped `linear` node.
  if (
    !transA &&
    alpha === 1 &&
    beta === 1 &&
    aShape.length === 2 &&
    weight &&
    weight.value.shape.length === 2
  ) {
    const w = transB ? weight.value : transposed(weight.value);
    const out = w.shape[0]!;
    if (
      !bias ||
      (biasWeight && sizeOf(biasWeight.value.shape) === out && biasWeight.value.shape.length <= 1)
    ) {
      const group = groupOf(weight.name, c.base);
      const wId = im.claimWeight(b, w, 'kaimingUniform', group, paramId(im, b, group, 'weight'));
      const inputs = [im.node(a), wId];
      if (bias)
        inputs.push(
          im.claimWeight(
            bias,
            { ...biasWeight!.value, shape: [out] },
            'zeros',
            group,
            paramId(im, bias, group, 'bias'),
          ),
        );
      im.set(c.output(0), { node: im.add('linear', inputs, {}, group, group) });
      return;
    }
  }
  let y = im.add(
    'matmul',
    operands(im, [a, b]),
    { transposeA: transA, transposeB: transB },
    bias || alpha !== 1 ? `${c.base}.matmul` : c.base,
  );
  if (alpha !== 1)
    y = im.add(
      'mul',
      [y, im.scalar(alpha, im.dtypeOfNode(y), `${c.base}.alpha`)],
      {},
      bias ? `${c.base}.scaled` : c.base,
    );
  if (bias) {
    let cNode = im.node(bias, im.dtypeOfNode(y));
    if (beta !== 1)
      cNode = im.add(
        'mul',
        [cNode, im.scalar(beta, im.dtypeOfNode(y), `${c.base}.beta`)],
        {},
        `${c.base}.bias_scaled`,
      );
    y = im.add('add', [y, cNode], {}, c.base);
  }
  im.set(c.output(0), { node: y });
};

/** Conv / pooling padding from explicit pads or auto_pad, as [top, left, bottom, right]. */
function spatialPads(
  c: NodeContext,
  inShape: readonly Dim[],
  kernel: readonly number[],
  strides: readonly number[],
  dilations: readonly number[],
): number[] {
  const autoPad = c.at.string('auto_pad', 'NOTSET');
  if (autoPad === 'NOTSET') return c.at.ints('pads') ?? [0, 0, 0, 0];
  if (autoPad === 'VALID') return [0, 0, 0, 0];
  const spatial = staticShape(inShape.slice(2), 'the image size for auto_pad SAME');
  const begin: number[] = [];
  const end: number[] = [];
  spatial.forEach((size, i) => {
    const out = Math.ceil(size / strides[i]!);
    const total = Math.max(
      (out - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - size,
      0,
    );
    const small = Math.floor(total / 2);
    begin.push(autoPad === 'SAME_UPPER' ? small : total - small);
    end.push(autoPad === 'SAME_UPPER' ? total - small : small);
  });
  return [...begin, ...end];
}

const conv: Handler = (im, c) => {
  const [x, w, b] = [c.input(0), c.input(1), c.input(2)];
  const wShape = im.shape(w);
  if (wShape.length !== 4)
    cannot(`it is a ${wShape.length - 2}-D convolution (Wiregrad has conv2d)`);
  const kernel = staticShape(wShape.slice(2), 'the kernel');
  const strides = c.at.ints('strides') ?? [1, 1];
  const dilations = c.at.ints('dilations') ?? [1, 1];
  const padding = spatialPads(c, im.shape(x), kernel, strides, dilations);
  const group = groupOf(im.value(w).initializer, c.base);
  const weightId = im.ownedWeight(w)
    ? im.claimWeight(w, im.constOf(w)!, 'kaimingUniform', group, paramId(im, w, group, 'weight'))
    : im.node(w);
  const attrs = { stride: strides, padding, dilation: dilations, groups: c.at.int('group', 1) };
  if (!b) {
    im.set(c.output(0), { node: im.add('conv2d', [im.node(x), weightId], attrs, group, group) });
    return;
  }
  // GraphBuilder.conv2d's shape: conv, the bias viewed as [1, C, 1, 1], and their sum.
  const convId = im.add('conv2d', [im.node(x), weightId], attrs, `${group}.conv`, group);
  const cout = kernel.length > 0 ? (wShape[0] as number) : 0;
  const biasId = im.ownedWeight(b)
    ? im.claimWeight(b, im.constOf(b)!, 'zeros', group, paramId(im, b, group, 'bias'))
    : im.node(b);
  const view = im.add('reshape', [biasId], { shape: [1, cout, 1, 1] }, `${group}.bias_view`, group);
  im.set(c.output(0), { node: im.add('add', [convId, view], {}, group, group) });
};

const convTranspose: Handler = (im, c) => {
  const [x, w, b] = [c.input(0), c.input(1), c.input(2)];
  const xShape = im.shape(x);
  const wShape = staticShape(im.shape(w), 'the kernel');
  if (wShape.length !== 4) cannot(`it is a ${wShape.length - 2}-D transposed convolution`);
  if (c.at.has('output_shape'))
    cannot('it sets output_shape (give pads and output_padding instead)');
  if (!isStatic(xShape)) cannot("Wiregrad's transposed convolution needs a fixed batch size");
  const strides = c.at.ints('strides') ?? [1, 1];
  const dilations = c.at.ints('dilations') ?? [1, 1];
  const groups = c.at.int('group', 1);
  const outPad = c.at.ints('output_padding') ?? [0, 0];
  const pads =
    c.at.string('auto_pad', 'NOTSET') === 'NOTSET'
      ? (c.at.ints('pads') ?? [0, 0, 0, 0])
      : cannot('it uses auto_pad');
  const size = [0, 1].map(
    (i) =>
      strides[i]! * (xShape[2 + i]! - 1) +
      outPad[i]! +
      (wShape[2 + i]! - 1) * dilations[i]! +
      1 -
      pads[i]! -
      pads[i + 2]!,
  );
  const inputShape = [xShape[0]!, wShape[1]! * groups, size[0]!, size[1]!];
  const attrs = { stride: strides, padding: pads, dilation: dilations, groups, inputShape };
  let y = im.add(
    'conv2dBackpropInput',
    [im.node(x), im.node(w)],
    attrs,
    b ? `${c.base}.conv` : c.base,
  );
  if (b) {
    const view = im.add(
      'reshape',
      [im.node(b)],
      { shape: [1, inputShape[1]!, 1, 1] },
      `${c.base}.bias_view`,
    );
    y = im.add('add', [y, view], {}, c.base);
  }
  im.set(c.output(0), { node: y });
};

const pool =
  (op: 'maxPool2d' | 'avgPool2d'): Handler =>
  (im, c) => {
    const x = c.input(0);
    const shape = im.shape(x);
    if (shape.length !== 4)
      cannot(`it pools a rank-${shape.length} tensor (Wiregrad pools 2-D images)`);
    if (c.output(1)) cannot('it also returns the indices of the maxima');
    if (c.at.int('ceil_mode', 0) !== 0) cannot('it rounds the output size up (ceil_mode)');
    if ((c.at.ints('dilations') ?? [1, 1]).some((d) => d !== 1)) cannot('its windows are dilated');
    const kernel = c.at.ints('kernel_shape') ?? cannot('it has no kernel_shape');
    const stride = c.at.ints('strides') ?? [1, 1];
    const [t, l, bottom, r] = spatialPads(c, shape, kernel, stride, [1, 1]) as [
      number,
      number,
      number,
      number,
    ];
    if (t !== bottom || l !== r)
      cannot('it pads asymmetrically (Wiregrad pools pad both sides alike)');
    const attrs: Record<string, AttrValueJSON> = { kernelSize: kernel, stride, padding: [t, l] };
    if (op === 'avgPool2d') attrs['countIncludePad'] = c.at.int('count_include_pad', 0) === 1;
    im.set(c.output(0), { node: im.add(op, [im.node(x)], attrs, c.base) });
  };

const globalPool =
  (kind: 'max' | 'mean'): Handler =>
  (im, c) => {
    const x = c.input(0);
    const shape = im.shape(x);
    const axes = shape.slice(2).map((_, i) => i + 2);
    const spatial = staticShape(shape.slice(2), 'the image size');
    if (kind === 'max')
      return im.set(c.output(0), {
        node: im.add('max', [im.node(x)], { axes, keepDims: true }, c.base),
      });
    const total = im.add('sum', [im.node(x)], { axes, keepDims: true }, `${c.base}.sum`);
    const scale = im.scalar(1 / sizeOf(spatial), im.dtypeOfNode(total), `${c.base}.scale`);
    im.set(c.output(0), { node: im.add('mul', [total, scale], {}, c.base) });
  };

const layerNorm: Handler = (im, c) => {
  const [x, scale, bias] = [c.input(0), c.input(1), c.input(2)];
  const shape = im.shape(x);
  const axis = normAxis(c.at.int('axis', -1), shape.length);
  const normalizedShape = staticShape(shape.slice(axis), 'the normalised axes');
  const group = groupOf(im.value(scale).initializer, c.base);
  const param = (name: string, init: 'ones' | 'zeros', role: string) =>
    im.ownedWeight(name)
      ? im.claimWeight(name, im.constOf(name)!, init, group, paramId(im, name, group, role))
      : im.node(name);
  const inputs = [
    im.node(x),
    param(scale, 'ones', 'weight'),
    ...(bias ? [param(bias, 'zeros', 'bias')] : []),
  ];
  im.set(c.output(0), {
    node: im.add(
      'layerNorm',
      inputs,
      { normalizedShape, eps: c.at.float('epsilon', 1e-5) },
      group,
      group,
    ),
  });
};

/**
 * BatchNormalization in inference form → `batchNorm` with `training: false`: scale and B become
 * the weight and bias parameters, the running mean and variance parameters with `trainable:
 * false` (state, as the canvas's BatchNorm layers hold them), so training the imported graph in
 * the engine's training mode updates them as PyTorch would.
 */
const batchNorm: Handler = (im, c) => {
  const [x, scale, bias, mean, variance] = [0, 1, 2, 3, 4].map((k) => c.input(k)) as [
    string,
    string,
    string,
    string,
    string,
  ];
  if (c.at.int('training_mode', 0) !== 0 || c.output(1))
    cannot('it runs in training mode (Wiregrad imports inference batch norm)');
  if (im.shape(x).length < 2) cannot('its input has no channel axis (it needs [N, C, …])');
  const group = groupOf(im.value(scale).initializer, c.base);
  const param = (
    name: string,
    init: 'ones' | 'zeros',
    role: string,
    trainable: boolean,
  ): string => {
    const owned = im.ownedWeight(name);
    if (owned)
      return im.claimWeight(
        name,
        owned.value,
        init,
        group,
        paramId(im, name, group, role),
        trainable,
      );
    // Shared or computed: the running statistics still must not train.
    const value = im.constOf(name);
    if (!trainable && value && value.type === 'f32')
      return im.parameter(`${group}.${role}`, value, init, group, false);
    return im.node(name);
  };
  const inputs = [
    im.node(x),
    param(scale, 'ones', 'weight', true),
    param(bias, 'zeros', 'bias', true),
    param(mean, 'zeros', 'running_mean', false),
    param(variance, 'ones', 'running_var', false),
  ];
  // ONNX's momentum weighs the running value; the engine's (PyTorch's) weighs the batch. The
  // file holds float32s (0.9 reads 0.899999976): 7 digits give back the written values.
  const momentum = Number((1 - c.at.float('momentum', 0.9)).toPrecision(7));
  if (!(momentum >= 0 && momentum <= 1)) cannot(`its momentum ${1 - momentum} is outside [0, 1]`);
  im.set(c.output(0), {
    node: im.add(
      'batchNorm',
      inputs,
      {
        training: false,
        momentum,
        eps: Number(c.at.float('epsilon', 1e-5).toPrecision(7)),
      },
      group,
      group,
    ),
  });
};

/** ONNX's cross-entropy of scores and class labels (opset 12), without per-class weights. */
const softmaxCrossEntropy: Handler = (im, c) => {
  const [scores, labels, weights] = [c.input(0), c.input(1), c.input(2)];
  if (weights) cannot('it weighs the classes (Wiregrad’s crossEntropy does not)');
  if (c.at.has('ignore_index')) cannot('it ignores a label value (ignore_index)');
  if (c.output(1)) cannot('it also returns the log-probabilities');
  const reduction = c.at.string('reduction', 'mean');
  const inputs = [im.node(scores), im.node(labels, 'i32')];
  im.set(c.output(0), { node: im.add('crossEntropy', inputs, { reduction }, c.base) });
};

/** The layer ops the importer expresses, by op_type. */
export const LAYER_HANDLERS: Readonly<Record<string, Handler>> = {
  Gemm: gemm,
  Conv: conv,
  ConvTranspose: convTranspose,
  MaxPool: pool('maxPool2d'),
  AveragePool: pool('avgPool2d'),
  GlobalAveragePool: globalPool('mean'),
  GlobalMaxPool: globalPool('max'),
  LayerNormalization: layerNorm,
  BatchNormalization: batchNorm,
  SoftmaxCrossEntropyLoss: softmaxCrossEntropy,
};

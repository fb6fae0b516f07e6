/**
 * The graphs the export tests run: every example file in examples/, the templates (built here
 * with GraphBuilder the way the template menu builds them: MLP, CNN, residual block, two-tower,
 * autoencoder), and "zoo" graphs that put most of the op set through the exporters (functional
 * calls, free parameters, seeded random ops and dropout, a grouped conv, a fixed-batch graph
 * with the convolution gradient ops, shared batch norms as functional calls), and a CNN with
 * BatchNorm layers. `inputsFor` makes seeded inputs that fit each graph (class labels in range,
 * indices within their axis).
 */

import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as wg from '../../engine/index.js';
import { type Graph, GraphBuilder, type Tensor } from '../../engine/index.js';
import type { InputAttrs } from '../../engine/graph/ir.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));

/** Every example graph document in examples/, by file name. */
export function exampleGraphs(): [string, Graph][] {
  return readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => [f, wg.Graph.fromJSON(JSON.parse(readFileSync(EXAMPLES + f, 'utf8')))]);
}

const ADAM = (lr: number) => ({ type: 'adam', lr });

function mlp(): Graph {
  const b = new GraphBuilder('MLP for 2-D points');
  let h = b.input('x', [-1, 2], 'f32', 'data');
  const y = b.input('y', [-1], 'i32', 'label');
  const sizes = [2, 64, 64, 3];
  for (let i = 0; i < sizes.length - 1; i++) {
    h = b.linear(h, sizes[i]!, sizes[i + 1]!, `fc${i + 1}`);
    if (i < sizes.length - 2) h = b.op('relu', [h], {}, `relu${i + 1}`);
  }
  b.output('logits', h);
  b.output('loss', b.op('crossEntropy', [h, y], {}, 'loss'));
  return b.build({ training: { epochs: 60, batchSize: 32, optimizer: ADAM(0.01), seed: 0 } });
}

function cnn(): Graph {
  const b = new GraphBuilder('Small CNN for MNIST digits');
  const pool = { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0] };
  const x = b.input('x', [-1, 1, 28, 28], 'f32', 'data');
  const y = b.input('y', [-1], 'i32', 'label');
  let h = b.conv2d(x, 1, 8, 5, 'conv1');
  h = b.op('maxPool2d', [b.op('relu', [h], {}, 'relu1')], pool, 'pool1');
  h = b.conv2d(h, 8, 16, 5, 'conv2');
  h = b.op('maxPool2d', [b.op('relu', [h], {}, 'relu2')], pool, 'pool2');
  h = b.op('reshape', [h], { shape: [-1, 256] }, 'flatten');
  h = b.linear(b.op('relu', [b.linear(h, 256, 64, 'fc1')], {}, 'relu3'), 64, 10, 'fc2');
  b.output('logits', h);
  b.output('loss', b.op('crossEntropy', [h, y], {}, 'loss'));
  return b.build({ training: { epochs: 5, batchSize: 32, optimizer: ADAM(0.002), seed: 0 } });
}

function residual(): Graph {
  const b = new GraphBuilder('Residual block');
  const x = b.input('x', [-1, 64], 'f32', 'data');
  const y = b.input('y', [-1], 'i32', 'label');
  const h = b.op('relu', [b.linear(x, 64, 64, 'fc1')], {}, 'relu1');
  const skip = b.op('add', [x, b.linear(h, 64, 64, 'fc2')], {}, 'skip');
  const logits = b.linear(b.op('relu', [skip], {}, 'relu2'), 64, 10, 'head');
  b.output('logits', logits);
  b.output('loss', b.op('crossEntropy', [logits, y], {}, 'loss'));
  return b.build({ training: { epochs: 20, batchSize: 32, optimizer: ADAM(0.002), seed: 0 } });
}

function twoTower(): Graph {
  const b = new GraphBuilder('Two-tower classifier');
  const user = b.input('user', [-1, 16], 'f32', 'data');
  const item = b.input('item', [-1, 24], 'f32', 'data');
  const y = b.input('y', [-1], 'i32', 'label');
  const tower = (x: string, inFeatures: number, name: string): string => {
    const h = b.op('relu', [b.linear(x, inFeatures, 32, `${name}_fc1`)], {}, `${name}_relu`);
    return b.linear(h, 32, 16, `${name}_fc2`);
  };
  const joined = b.op(
    'concat',
    [tower(user, 16, 'user'), tower(item, 24, 'item')],
    { axis: 1 },
    'joined',
  );
  const logits = b.linear(b.op('relu', [joined], {}, 'joined_relu'), 32, 2, 'head');
  b.output('logits', logits);
  b.output('loss', b.op('crossEntropy', [logits, y], {}, 'loss'));
  return b.build({ training: { epochs: 20, batchSize: 32, optimizer: ADAM(0.005), seed: 0 } });
}

function autoencoder(): Graph {
  const b = new GraphBuilder('Autoencoder');
  const x = b.input('x', [-1, 784], 'f32', 'data');
  let h = b.op('relu', [b.linear(x, 784, 128, 'enc1')], {}, 'enc_relu1');
  h = b.op('relu', [b.linear(h, 128, 32, 'enc2')], {}, 'code');
  h = b.op('relu', [b.linear(h, 32, 128, 'dec1')], {}, 'dec_relu1');
  const recon = b.op('sigmoid', [b.linear(h, 128, 784, 'dec2')], {}, 'reconstruction');
  b.output('reconstruction', recon);
  b.output('loss', b.op('mseLoss', [recon, x], {}, 'loss'));
  return b.build({ training: { epochs: 10, batchSize: 64, optimizer: ADAM(0.001), seed: 0 } });
}

/**
 * Most elementwise, movement, reduction, creation and loss ops, batch-polymorphic. The
 * `inference` form (for ONNX, which describes inference) has no dropout and no random draws.
 */
export function opZoo(inference = false): Graph {
  const b = new GraphBuilder(inference ? 'Op zoo (inference)' : 'Op zoo');
  const x = b.input('x', [-1, 6], 'f32', 'data');
  const tok = b.input('tok', [-1], 'i32', 'data');
  const y = b.input('y', [-1], 'i32', 'label');
  const c = (id: string, value: number) =>
    b.op('constant', [], { shape: [], dtype: 'f32', data: [value] }, id);
  // An embedding and a layer norm (nn.Embedding, nn.LayerNorm), then free parameters.
  const emb = b.grouped('emb', () => {
    const table = b.parameter('emb.weight', [10, 6], { init: 'normal', std: 0.5 });
    return b.op('gather', [table, tok], { axis: 0 }, 'emb');
  });
  const h = b.op('add', [x, emb], {}, 'h');
  const ln = b.grouped('norm', () => {
    const g = b.parameter('norm.weight', [6], { init: 'uniform', bound: 1 });
    const be = b.parameter('norm.bias', [6], { init: 'uniform', bound: 0.5 });
    return b.op('layerNorm', [h, g, be], { normalizedShape: [6], eps: 1e-5 }, 'norm');
  });
  const act = b.op('leakyRelu', [b.op('gelu', [ln], {}, 'gelu')], { alpha: 0.2 }, 'leaky');
  const dropped = b.op(
    'dropout',
    [act],
    { p: 0.25, seed: 7, ...(inference ? { training: false } : {}) },
    'dropped',
  );
  const w = b.parameter('w', [6, 8], { init: 'xavierUniform' });
  const wSlice = b.op('slice', [w], { begin: [0, 1], size: [6, 5] }, 'w_slice');
  const m = b.op('matmul', [dropped, wSlice], { transposeA: false, transposeB: false }, 'mm');
  const v = b.parameter('v', [4, 5], { init: 'kaimingUniform' });
  const t = b.op('tanh', [m], {}, 'tanh');
  const scores = b.op('matmul', [t, v], { transposeA: false, transposeB: true }, 'scores');
  // Movement and reductions.
  const padded = b.op('pad', [m], { pads: [0, 0, 1, 2], value: 0.5 }, 'padded');
  const r = b.op('reshape', [padded], { shape: [-1, 2, 4] }, 'rows');
  const tr = b.op('transpose', [r], { perm: [0, 2, 1] }, 'cols');
  const s1 = b.op('sum', [tr], { axes: [2], keepDims: false }, 'col_sum');
  const mx = b.op('max', [tr], { axes: [2], keepDims: false }, 'col_max');
  const mn = b.op('min', [r], { axes: [1], keepDims: false }, 'row_min');
  const sm = b.op('softmax', [scores], { axis: 1 }, 'probs');
  const lsm = b.op('logSoftmax', [mx], { axis: 1 }, 'log_probs');
  // Elementwise.
  const one = c('one', 1);
  const sq = b.op(
    'sqrt',
    [b.op('add', [b.op('abs', [s1], {}, 'abs'), one], {}, 'abs1')],
    {},
    'sqrt',
  );
  const ex = b.op('exp', [b.op('neg', [b.op('abs', [mn], {}, 'abs_mn')], {}, 'neg')], {}, 'exp');
  const lg = b.op(
    'log',
    [b.op('add', [b.op('sigmoid', [mx], {}, 'sigmoid'), one], {}, 'sig1')],
    {},
    'log',
  );
  const p2 = b.op('pow', [sq, c('two', 2)], {}, 'pow');
  const hi = b.op('maximum', [ex, lg], {}, 'hi');
  const lo = b.op('minimum', [ex, lg], {}, 'lo');
  const picked = b.op(
    'where',
    [
      b.op('greater', [hi, c('half', 0.5)], {}, 'gt'),
      hi,
      b.op('mul', [lo, c('half2', 0.5)], {}, 'lo_half'),
    ],
    {},
    'picked',
  );
  const right = b.op(
    'cast',
    [b.op('equal', [b.op('argmax', [sm], { axis: 1, keepDims: false }, 'pred'), y], {}, 'eq')],
    { dtype: 'f32' },
    'right',
  );
  const hot = b.op('oneHot', [y], { depth: 4, onValue: 1, offValue: 0, dtype: 'f32' }, 'hot');
  const sel = b.op('mul', [hot, lsm], {}, 'sel');
  const centred = b.op('sub', [sm, b.op('div', [s1, c('three', 3)], {}, 'third')], {}, 'centred');
  const cat = b.op('concat', [p2, picked, sel, centred], { axis: 1 }, 'cat');
  // Creation ops (seeded random ones draw the engine's numbers in PyTorch too).
  const col = b.op('constant', [], { shape: [4, 1], dtype: 'f32', data: [1, 2, 3, 4] }, 'col');
  const grid = b.op(
    'add',
    [
      b.op('expand', [col], { shape: [4, 3] }, 'grid0'),
      b.op('fill', [], { shape: [4, 3], value: 0.25, dtype: 'f32' }, 'quarter'),
    ],
    {},
    'grid',
  );
  const ramp = b.op('arange', [], { start: 0, stop: 3, step: 1, dtype: 'f32' }, 'ramp');
  const noise = b.op(
    'mul',
    [
      inference
        ? b.op('fill', [], { shape: [4, 3], value: 0.3, dtype: 'f32' }, 'uniform')
        : b.op('randomUniform', [], { shape: [4, 3], seed: 3, dtype: 'f32' }, 'uniform'),
      inference
        ? b.op('fill', [], { shape: [4, 3], value: -0.7, dtype: 'f32' }, 'normal')
        : b.op('randomNormal', [], { shape: [4, 3], seed: 4, dtype: 'f32' }, 'normal'),
    ],
    {},
    'noise',
  );
  const bias = b.op(
    'sum',
    [b.op('add', [grid, b.op('add', [ramp, noise], {}, 'ramp_noise')], {}, 'table')],
    { axes: [1], keepDims: false },
    'bias',
  );
  const u = b.parameter('u', [16, 4], { init: 'kaimingUniform' });
  const out = b.op(
    'add',
    [b.op('matmul', [cat, u], { transposeA: false, transposeB: false }, 'head'), bias],
    {},
    'head_bias',
  );
  const frozen = b.op('identity', [b.op('stopGradient', [sm], {}, 'frozen')], {}, 'frozen_view');
  const logits = b.op(
    'sub',
    [out, b.op('mul', [frozen, c('tenth', 0.1)], {}, 'frozen_tenth')],
    {},
    'logits',
  );
  // Scatter: every row of h added into a zero table at its token.
  const z = b.parameter('z', [10, 6], { init: 'zeros' });
  const scattered = b.op(
    'sum',
    [b.op('scatterAdd', [z, tok, h], { axis: 0 }, 'scattered')],
    { axes: [0, 1], keepDims: false },
    'scattered_sum',
  );
  const signs = b.op(
    'sum',
    [b.op('sign', [m], {}, 'sign')],
    { axes: [0, 1], keepDims: false },
    'sign_sum',
  );
  const ce = b.op('crossEntropy', [logits, y], { labelSmoothing: 0.1 }, 'ce');
  const mse = b.op('mseLoss', [sm, hot], { reduction: 'sum' }, 'mse');
  const extra = b.op(
    'add',
    [
      b.op('mul', [scattered, c('small', 0.01)], {}, 'scattered_small'),
      b.op(
        'mul',
        [
          b.op(
            'add',
            [signs, b.op('sum', [right], { axes: [0], keepDims: false }, 'right_sum')],
            {},
            'counts',
          ),
          c('zero', 0),
        ],
        {},
        'counts_zero',
      ),
    ],
    {},
    'extra',
  );
  const loss = b.op(
    'add',
    [b.op('add', [ce, b.op('mul', [mse, c('tenth2', 0.1)], {}, 'mse_tenth')], {}, 'ce_mse'), extra],
    {},
    'loss',
  );
  b.output('logits', logits);
  b.output('loss', loss);
  return b.build({
    training: {
      epochs: 2,
      batchSize: 16,
      optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9 },
      seed: 0,
    },
  });
}

/** Convolutions and pools in several forms: strided, asymmetric padding, groups, no bias. */
function convZoo(): Graph {
  const b = new GraphBuilder('Conv zoo');
  const x = b.input('x', [-1, 4, 9, 9], 'f32', 'data');
  const y = b.input('y', [-1], 'i32', 'label');
  const c1 = b.op('relu', [b.conv2d(x, 4, 6, 3, 'c1', { stride: 2, padding: 1 })], {}, 'r1');
  const w2 = b.parameter('w2', [6, 3, 2, 2], { init: 'kaimingUniform' });
  const c2 = b.op(
    'conv2d',
    [c1, w2],
    { stride: [1, 1], padding: [0, 1, 1, 0], dilation: [2, 2], groups: 2 },
    'c2',
  );
  const mp = b.op('maxPool2d', [c2], { kernelSize: [3, 3], stride: [2, 2], padding: [1, 1] }, 'mp');
  const ap = b.op(
    'avgPool2d',
    [c2],
    { kernelSize: [2, 2], stride: [1, 1], padding: [1, 1], countIncludePad: false },
    'ap',
  );
  const c3 = b.grouped('c3', () => {
    const w3 = b.parameter('c3.weight', [6, 6, 3, 3], { init: 'kaimingUniform' });
    return b.op(
      'conv2d',
      [ap, w3],
      { stride: [2, 2], padding: [0, 0, 0, 0], dilation: [1, 1], groups: 1 },
      'c3',
    );
  });
  const s = b.op('reshape', [b.op('add', [mp, c3], {}, 'sum')], { shape: [-1, 24] }, 'flat');
  const n = b.op('layerNorm', [s], { normalizedShape: [24] }, 'ln');
  const logits = b.linear(n, 24, 3, 'head');
  b.output('logits', logits);
  b.output('loss', b.op('crossEntropy', [logits, y], { reduction: 'sum' }, 'loss'));
  return b.build({
    training: { epochs: 2, batchSize: 8, optimizer: { type: 'adamw', lr: 0.01 }, seed: 0 },
  });
}

/** The convolution gradient ops as forward ops (a fixed batch: their attrs hold the shapes). */
function convGrads(): Graph {
  const b = new GraphBuilder('Convolution gradients');
  const x = b.input('x', [2, 2, 6, 6], 'f32', 'data');
  const w = b.parameter('w', [3, 2, 3, 3], { init: 'kaimingUniform' });
  const geometry = { stride: [2, 2], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 1 };
  const conv = b.op('conv2d', [x, w], geometry, 'conv');
  const dx = b.op(
    'conv2dBackpropInput',
    [conv, w],
    { ...geometry, inputShape: [2, 2, 6, 6] },
    'dx',
  );
  const dw = b.op(
    'conv2dBackpropFilter',
    [x, conv],
    { ...geometry, filterShape: [3, 2, 3, 3] },
    'dw',
  );
  const fit = b.op('mseLoss', [dx, x], {}, 'fit');
  const size = b.op(
    'sum',
    [b.op('mul', [dw, dw], {}, 'dw2')],
    { axes: [0, 1, 2, 3], keepDims: false },
    'dw_size',
  );
  b.output('dx', dx);
  b.output(
    'loss',
    b.op(
      'add',
      [
        fit,
        b.op(
          'mul',
          [size, b.op('constant', [], { shape: [], dtype: 'f32', data: [0.001] }, 'k')],
          {},
          'dw_small',
        ),
      ],
      {},
      'loss',
    ),
  );
  return b.build();
}

/** Graphs that put most of the op set through the exporters. */
/**
 * A batch-normalised CNN as the canvas's BatchNorm layers build it (weight, bias and the running
 * statistics as `trainable: false` parameters in the layer's group): conv → BatchNorm2d → relu
 * → pool → linear → BatchNorm1d (its own momentum and eps) → relu → linear; the layers before
 * the norms have no bias.
 */
export function batchNormCnn(): Graph {
  const b = new GraphBuilder('Batch-normalised CNN');
  const x = b.input('x', [-1, 3, 6, 6], 'f32', 'data');
  const y = b.input('y', [-1], 'i32', 'label');
  const norm = (h: string, id: string, c: number, attrs: { momentum: number; eps: number }) =>
    b.grouped(id, () => {
      const w = b.parameter(`${id}.weight`, [c], { init: 'ones' });
      const bias = b.parameter(`${id}.bias`, [c], { init: 'zeros' });
      const mean = b.parameter(`${id}.running_mean`, [c], { init: 'zeros', trainable: false });
      const variance = b.parameter(`${id}.running_var`, [c], { init: 'ones', trainable: false });
      return b.op('batchNorm', [h, w, bias, mean, variance], { training: true, ...attrs }, id);
    });
  // No bias before a batch norm (it would cancel out), as in ResNets: nn.Conv2d(bias=False).
  let h = b.grouped('conv1', () => {
    const w = b.parameter('conv1.weight', [4, 3, 3, 3], { init: 'kaimingUniform' });
    const geometry = { stride: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 1 };
    return b.op('conv2d', [x, w], geometry, 'conv1');
  });
  h = b.op('relu', [norm(h, 'bn1', 4, { momentum: 0.1, eps: 1e-5 })], {}, 'relu1');
  h = b.op(
    'avgPool2d',
    [h],
    { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0], countIncludePad: true },
    'pool',
  );
  h = b.op('reshape', [h], { shape: [-1, 36] }, 'flatten');
  h = b.grouped('fc1', () => {
    const w = b.parameter('fc1.weight', [8, 36], { init: 'kaimingUniform' });
    return b.op('linear', [h, w], {}, 'fc1');
  });
  h = b.op('relu', [norm(h, 'bn2', 8, { momentum: 0.25, eps: 1e-3 })], {}, 'relu2');
  const logits = b.linear(h, 8, 3, 'fc2');
  b.output('logits', logits);
  b.output('loss', b.op('crossEntropy', [logits, y], {}, 'loss'));
  return b.build({ training: { epochs: 2, batchSize: 8, optimizer: ADAM(0.01), seed: 0 } });
}

/**
 * `batchNormCnn`'s parameters with the norms' weights, biases and running statistics moved
 * away from their initial values (ones, zeros), so that a mix-up of any of them shows.
 */
export function batchNormParams(graph: Graph): Map<string, Tensor> {
  const params = graph.initParameters();
  const seeded = (shape: readonly number[], lo: number, hi: number, seed: number): Tensor => {
    const unit = wg.tidy(() => wg.rand(shape, { seed }).dataSync());
    return wg.tensor(
      Float32Array.from(unit, (u) => lo + u * (hi - lo)),
      { shape },
    );
  };
  let seed = 100;
  for (const id of ['bn1', 'bn2']) {
    const c = params.get(`${id}.weight`)!.shape;
    const set = (name: string, lo: number, hi: number) => {
      const value = seeded(c, lo, hi, seed++);
      params.get(`${id}.${name}`)!.assign(value);
      value.dispose();
    };
    set('weight', 0.5, 1.5);
    set('bias', -0.3, 0.3);
    set('running_mean', -0.5, 0.5);
    set('running_var', 0.5, 2);
  }
  return params;
}

/**
 * Batch norms that are no layer (their weight and bias are shared, their statistics constants),
 * over [N, C, L]: one in eval mode, one normalising with the batch's statistics.
 */
function batchNormFunctional(): Graph {
  const b = new GraphBuilder('Shared batch norm');
  const x = b.input('x', [-1, 4, 5], 'f32', 'data');
  const g = b.parameter('g', [4], { init: 'uniform', bound: 1 });
  const beta = b.parameter('beta', [4], { init: 'uniform', bound: 0.5 });
  const constant = (id: string, data: number[]) =>
    b.op('constant', [], { shape: [4], dtype: 'f32', data }, id);
  const mean = constant('mean', [0.2, -0.1, 0.4, 0]);
  const variance = constant('variance', [0.5, 1.5, 2, 0.8]);
  const a = b.op('batchNorm', [x, g, beta, mean, variance], { training: false, eps: 1e-3 }, 'a');
  const n = b.op('batchNorm', [a, g, beta, mean, variance], { training: true, momentum: 0.3 }, 'n');
  const r = b.op('relu', [n], {}, 'r');
  b.output('y', n);
  b.output(
    'loss',
    b.op('sum', [b.op('mul', [r, r], {}, 'sq')], { axes: [0, 1, 2], keepDims: false }, 'loss'),
  );
  return b.build();
}

export function zooGraphs(): [string, Graph][] {
  return [
    ['op-zoo', opZoo()],
    ['conv-zoo', convZoo()],
    ['conv-grads', convGrads()],
    ['batchnorm-functional', batchNormFunctional()],
  ];
}

/** The templates of the template menu, built with GraphBuilder. */
export function templateGraphs(): [string, Graph][] {
  return [
    ['mlp', mlp()],
    ['cnn', cnn()],
    ['residual', residual()],
    ['two-tower', twoTower()],
    ['autoencoder', autoencoder()],
  ];
}

/** A small seeded generator for integer inputs. */
function ints(n: number, high: number, seed: number): Int32Array {
  let s = (seed * 2654435761) >>> 0 || 1;
  return Int32Array.from({ length: n }, () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) % high;
  });
}

/** The range integer input `id` must stay in: its class count, index axis or depth. */
function integerRange(graph: Graph, id: string): number {
  const shapes = graph.inferShapes({ batch: 2 });
  for (const n of graph.nodes) {
    const k = n.inputs.indexOf(id);
    if (k < 0) continue;
    if (n.op === 'crossEntropy' && k === 1) return shapes.get(n.inputs[0]!)!.shape[1]!;
    if ((n.op === 'gather' || n.op === 'scatterAdd') && k === 1)
      return shapes.get(n.inputs[0]!)!.shape[n.attrs['axis'] as number]!;
    if (n.op === 'oneHot') return n.attrs['depth'] as number;
  }
  return 4;
}

/** Seeded inputs for every input of `graph`, at batch size `batch` (kept: dispose them). */
export function inputsFor(graph: Graph, batch: number, seed: number): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  graph.inputs.forEach((n, i) => {
    const a = n.attrs as unknown as InputAttrs;
    const shape = a.shape.map((d) => (d === -1 ? batch : d));
    const size = shape.reduce((p, d) => p * d, 1);
    const t =
      a.dtype === 'i32'
        ? wg.tensor(ints(size, integerRange(graph, n.id), seed + i), { shape, dtype: 'i32' })
        : wg
            .rand(shape, { seed: seed * 31 + i })
            .mul(2)
            .sub(1);
    out[n.name ?? n.id] = wg.keep(t);
  });
  return out;
}

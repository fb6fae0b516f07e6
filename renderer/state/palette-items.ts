/**
 * What the palette offers and what each entry inserts. Curated entries (inputs, layers,
 * activations, merges, losses) come first, with PyTorch's names and defaults; every other op of
 * the engine's registry follows as a primitive. `buildItem` turns an entry into the nodes to add
 * (a layer's parameter nodes grouped with it), with fresh ids, as plain data: the `addNode`
 * command inserts them.
 */

import type { OpCategory, OpInfo } from '../../engine/protocol/messages.js';
import type { EditorDocument, NodeJSON } from './document.js';
import { freshId, nextSeed } from './graph-edit.js';
import { FLATTEN_NAME, type LayerConfig, buildLayer } from './layers.js';

export type PaletteSection = 'Inputs' | 'Layers' | 'Activations' | 'Combine' | 'Losses' | 'Ops';

export const PALETTE_SECTIONS: readonly PaletteSection[] = [
  'Inputs',
  'Layers',
  'Activations',
  'Combine',
  'Losses',
  'Ops',
];

/** Colour family of a node: an op category, or 'layer' for a group with parameters. */
export type NodeTone = OpCategory | 'layer';

export interface PaletteItem {
  /** Stable key: `palette-item-<key>` in the DOM; an op name for primitives. */
  readonly key: string;
  readonly label: string;
  readonly section: PaletteSection;
  readonly description: string;
  /** Extra words the search matches (PyTorch names, synonyms). */
  readonly keywords: readonly string[];
  readonly tone: NodeTone;
}

interface Curated extends PaletteItem {
  readonly build: (doc: EditorDocument) => NodeJSON[];
}

const single =
  (base: string, op: string, attrs: NodeJSON['attrs'] = {}, arity = 1, name?: string) =>
  (doc: EditorDocument): NodeJSON[] => [
    {
      id: freshId(doc, base),
      op,
      inputs: Array.from({ length: arity }, () => ''),
      attrs,
      ...(name !== undefined ? { name } : {}),
    },
  ];

const layer =
  (base: string, config: LayerConfig) =>
  (doc: EditorDocument): NodeJSON[] => {
    const seed = nextSeed(doc.graph.nodes);
    return buildLayer(freshId(doc, base), '', config, [seed, seed + 1]);
  };

const POOL = { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0] };

const CURATED: readonly Curated[] = [
  {
    key: 'input',
    label: 'Input',
    section: 'Inputs',
    description: 'Data fed to the model; -1 (N) marks the batch dimension.',
    keywords: ['data', 'x', 'placeholder'],
    tone: 'source',
    build: single('input', 'input', { shape: [-1, 2], dtype: 'f32', role: 'data' }, 0),
  },
  {
    key: 'label',
    label: 'Label',
    section: 'Inputs',
    description: 'Targets a loss compares against (class indices).',
    keywords: ['target', 'y', 'labels'],
    tone: 'source',
    build: single('label', 'input', { shape: [-1], dtype: 'i32', role: 'label' }, 0),
  },
  {
    key: 'parameter',
    label: 'Parameter',
    section: 'Inputs',
    description: 'A trainable tensor with an init rule and a seed.',
    keywords: ['weight', 'variable', 'nn.Parameter'],
    tone: 'source',
    build: (doc) => [
      {
        id: freshId(doc, 'param'),
        op: 'parameter',
        inputs: [],
        attrs: { shape: [64], dtype: 'f32', init: 'zeros', seed: nextSeed(doc.graph.nodes) },
      },
    ],
  },
  {
    key: 'linear',
    label: 'Linear',
    section: 'Layers',
    description: 'y = x·Wᵀ + b (nn.Linear), with weight and bias parameters.',
    keywords: ['dense', 'fully connected', 'fc', 'affine', 'nn.Linear'],
    tone: 'layer',
    build: layer('linear', { kind: 'linear', inFeatures: 64, outFeatures: 64 }),
  },
  {
    key: 'conv2d',
    label: 'Conv2d',
    section: 'Layers',
    description: '2-D convolution over [N, C, H, W] (nn.Conv2d), with weight and bias.',
    keywords: ['convolution', 'cnn', 'nn.Conv2d'],
    tone: 'layer',
    build: layer('conv', {
      kind: 'conv2d',
      inChannels: 1,
      outChannels: 8,
      kernelSize: 3,
      stride: 1,
      padding: 1,
    }),
  },
  {
    key: 'maxPool2d',
    label: 'MaxPool2d',
    section: 'Layers',
    description: 'Maximum over 2×2 windows (nn.MaxPool2d).',
    keywords: ['pooling', 'downsample'],
    tone: 'nn',
    build: single('maxpool', 'maxPool2d', POOL),
  },
  {
    key: 'avgPool2d',
    label: 'AvgPool2d',
    section: 'Layers',
    description: 'Mean over 2×2 windows (nn.AvgPool2d).',
    keywords: ['pooling', 'average', 'downsample'],
    tone: 'nn',
    build: single('avgpool', 'avgPool2d', { ...POOL, countIncludePad: true }),
  },
  {
    key: 'embedding',
    label: 'Embedding',
    section: 'Layers',
    description: 'A learned vector for each i32 index: [N, …] → [N, …, dim] (nn.Embedding).',
    keywords: ['lookup', 'token', 'word vectors', 'nn.Embedding'],
    tone: 'layer',
    build: layer('embedding', { kind: 'embedding', numEmbeddings: 1000, embeddingDim: 64 }),
  },
  {
    key: 'layerNorm',
    label: 'LayerNorm',
    section: 'Layers',
    description: 'Normalises the last dimension, with gain and bias (nn.LayerNorm).',
    keywords: ['normalization', 'norm', 'nn.LayerNorm'],
    tone: 'layer',
    build: layer('layernorm', { kind: 'layerNorm', features: 64 }),
  },
  {
    key: 'batchNorm2d',
    label: 'BatchNorm2d',
    section: 'Layers',
    description: 'Normalises each channel of [N, C, H, W] over the batch (nn.BatchNorm2d).',
    keywords: ['normalization', 'norm', 'batch norm', 'nn.BatchNorm2d'],
    tone: 'layer',
    build: layer('batchnorm', { kind: 'batchNorm', dims: 2, features: 16 }),
  },
  {
    key: 'batchNorm1d',
    label: 'BatchNorm1d',
    section: 'Layers',
    description: 'Normalises each feature of [N, C] over the batch (nn.BatchNorm1d).',
    keywords: ['normalization', 'norm', 'batch norm', 'nn.BatchNorm1d'],
    tone: 'layer',
    build: layer('batchnorm', { kind: 'batchNorm', dims: 1, features: 64 }),
  },
  {
    key: 'dropout',
    label: 'Dropout',
    section: 'Layers',
    description: 'Zeroes elements with probability p while training.',
    keywords: ['regularization', 'nn.Dropout'],
    tone: 'nn',
    build: single('dropout', 'dropout', { p: 0.5 }),
  },
  {
    key: 'flatten',
    label: 'Flatten',
    section: 'Layers',
    description: 'Reshapes [N, …] to [N, features] (a reshape to [-1, F]).',
    keywords: ['reshape', 'nn.Flatten', 'view'],
    tone: 'movement',
    build: single('flatten', 'reshape', { shape: [-1, 1] }, 1, FLATTEN_NAME),
  },
  ...(
    [
      ['relu', 'ReLU', 'max(x, 0)', []],
      ['tanh', 'Tanh', 'Hyperbolic tangent', []],
      ['sigmoid', 'Sigmoid', '1 / (1 + e^−x)', ['logistic']],
      ['gelu', 'GELU', 'x·Φ(x), as in transformers', []],
    ] as const
  ).map(([key, label, description, keywords]): Curated => ({
    key,
    label,
    section: 'Activations',
    description,
    keywords: ['activation', 'nonlinearity', ...keywords],
    tone: 'activation',
    build: single(key, key),
  })),
  {
    key: 'leakyRelu',
    label: 'LeakyReLU',
    section: 'Activations',
    description: 'x where x > 0, else 0.01·x',
    keywords: ['activation', 'nonlinearity'],
    tone: 'activation',
    build: single('leakyrelu', 'leakyRelu', { alpha: 0.01 }),
  },
  {
    key: 'add',
    label: 'Add',
    section: 'Combine',
    description: 'a + b with broadcasting (residual connections).',
    keywords: ['sum', 'plus', 'residual', 'skip'],
    tone: 'arithmetic',
    build: single('add', 'add', {}, 2),
  },
  {
    key: 'concat',
    label: 'Concat',
    section: 'Combine',
    description: 'Joins any number of tensors along an axis (torch.cat).',
    keywords: ['cat', 'join', 'merge'],
    tone: 'movement',
    build: single('concat', 'concat', { axis: 1 }, 0),
  },
  {
    key: 'crossEntropy',
    label: 'CrossEntropy',
    section: 'Losses',
    description: 'Cross-entropy of logits [N, C] against class labels [N].',
    keywords: ['loss', 'classification', 'nll', 'softmax'],
    tone: 'loss',
    build: single('loss', 'crossEntropy', {}, 2),
  },
  {
    key: 'mseLoss',
    label: 'MSE loss',
    section: 'Losses',
    description: 'Mean squared error (pred − target)².',
    keywords: ['loss', 'regression', 'l2', 'mse'],
    tone: 'loss',
    build: single('loss', 'mseLoss', {}, 2),
  },
];

const CURATED_BY_KEY = new Map(CURATED.map((item) => [item.key, item]));

/** Ops shown only through a curated entry (which adds parameters or a name) or not at all. */
const HIDDEN_OPS = new Set(['input', 'parameter', 'linear']);

/** Defaults that make a fresh primitive node valid where the attribute kind alone cannot. */
const PRIMITIVE_DEFAULTS: Readonly<Record<string, NodeJSON['attrs']>> = {
  reshape: { shape: [-1] },
  expand: { shape: [1] },
  transpose: { perm: [1, 0] },
  slice: { begin: [0], size: [1] },
  pad: { pads: [1, 1], value: 0 },
  sum: { axes: [-1], keepDims: false },
  max: { axes: [-1], keepDims: false },
  min: { axes: [-1], keepDims: false },
  argmax: { axis: -1, keepDims: false },
  softmax: { axis: -1 },
  logSoftmax: { axis: -1 },
  oneHot: { depth: 10, onValue: 1, offValue: 0, dtype: 'f32' },
  conv2d: { stride: [1, 1], padding: [0, 0, 0, 0], dilation: [1, 1], groups: 1 },
  fill: { shape: [1], value: 0, dtype: 'f32' },
  arange: { start: 0, stop: 10, step: 1, dtype: 'f32' },
  randomUniform: { shape: [1], seed: 0, dtype: 'f32' },
  randomNormal: { shape: [1], seed: 0, dtype: 'f32' },
  constant: { shape: [], dtype: 'f32', data: [0] },
  layerNorm: { normalizedShape: [64] },
  batchNorm: { training: true },
  dropout: { p: 0.5 },
};

/** A value of each attribute kind, for required attributes without a listed default. */
function defaultOfKind(kind: string): NodeJSON['attrs'][string] {
  switch (kind) {
    case 'int':
    case 'float':
      return 0;
    case 'ints':
    case 'floats':
    case 'intOrInts':
      return [];
    case 'bool':
      return false;
    case 'dtype':
      return 'f32';
    default:
      return '';
  }
}

export function defaultAttrs(info: OpInfo): NodeJSON['attrs'] {
  const preset = PRIMITIVE_DEFAULTS[info.name] ?? {};
  const attrs: Record<string, NodeJSON['attrs'][string]> = {};
  for (const [name, spec] of Object.entries(info.attrs)) {
    const value = preset[name];
    if (value !== undefined) attrs[name] = value;
    else if (!spec.optional) attrs[name] = spec.choices?.[0] ?? defaultOfKind(spec.kind);
  }
  return attrs;
}

function primitiveItem(info: OpInfo): PaletteItem {
  return {
    key: info.name,
    label: info.name,
    section: 'Ops',
    description: info.doc,
    keywords: [],
    tone: info.category,
  };
}

/** The curated entries, then every other registered op (once the op list has arrived). */
export function paletteItems(ops: readonly OpInfo[] | null): PaletteItem[] {
  const items: PaletteItem[] = CURATED.map(({ build: _build, ...item }) => item);
  for (const info of ops ?? [])
    if (!CURATED_BY_KEY.has(info.name) && !HIDDEN_OPS.has(info.name))
      items.push(primitiveItem(info));
  return items;
}

/** The nodes that palette entry `key` inserts into `doc`, or null for an unknown key. */
export function buildItem(
  doc: EditorDocument,
  key: string,
  ops: ReadonlyMap<string, OpInfo>,
): NodeJSON[] | null {
  const curated = CURATED_BY_KEY.get(key);
  if (curated) return curated.build(doc);
  const info = ops.get(key);
  if (!info || HIDDEN_OPS.has(key)) return null;
  const inputs = Array.from({ length: info.minInputs }, () => '');
  return [{ id: freshId(doc, key), op: key, inputs, attrs: defaultAttrs(info) }];
}

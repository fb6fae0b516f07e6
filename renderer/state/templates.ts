/**
 * Starting models for the templates menu. They are written the way examples/make-graphs.ts
 * writes the example files with the engine's GraphBuilder (same ids, layers, seeds and
 * training metadata), through `TemplateBuilder`, a renderer-side twin that builds layers with
 * layers.ts; the MLP and CNN templates are checked against those files node for node. Each
 * template opens laid out by auto-layout.ts.
 */

import { layeredLayout } from './auto-layout.js';
import {
  type EditorDocument,
  type NodeJSON,
  type OutputJSON,
  GRAPH_FORMAT,
  GRAPH_VERSION,
} from './document.js';
import { type LayerConfig, buildLayer } from './layers.js';
import { buildView } from './view.js';

type Attrs = NodeJSON['attrs'];

/** Builds a document the way GraphBuilder does: explicit ids, seeds counted from 1. */
export class TemplateBuilder {
  private readonly nodes: NodeJSON[] = [];
  private readonly outputs: OutputJSON[] = [];
  private seed = 1;

  constructor(readonly name: string) {}

  input(
    id: string,
    shape: readonly number[],
    dtype: 'f32' | 'i32',
    role: 'data' | 'label',
  ): string {
    this.nodes.push({ id, op: 'input', inputs: [], attrs: { shape: [...shape], dtype, role } });
    return id;
  }

  op(op: string, inputs: readonly string[], attrs: Attrs, id: string): string {
    this.nodes.push({ id, op, inputs: [...inputs], attrs });
    return id;
  }

  private layer(id: string, x: string, config: LayerConfig): string {
    this.nodes.push(...buildLayer(id, x, config, [this.seed, this.seed + 1]));
    this.seed += 2;
    return id;
  }

  linear(x: string, inFeatures: number, outFeatures: number, id: string): string {
    return this.layer(id, x, { kind: 'linear', inFeatures, outFeatures });
  }

  conv2d(x: string, inChannels: number, outChannels: number, kernel: number, id: string): string {
    return this.layer(id, x, {
      kind: 'conv2d',
      inChannels,
      outChannels,
      kernelSize: kernel,
      stride: 1,
      padding: 0,
    });
  }

  output(name: string, node: string): void {
    this.outputs.push({ name, node });
  }

  /** The document, laid out, with `meta` (description, training settings) kept. */
  toDocument(meta: Record<string, unknown>): EditorDocument {
    const graph = {
      format: GRAPH_FORMAT,
      version: GRAPH_VERSION,
      name: this.name,
      nodes: this.nodes,
      outputs: this.outputs,
      meta,
    } as const;
    const doc: EditorDocument = { graph, layout: {} };
    return { graph, layout: layeredLayout(buildView(doc, new Map())) };
  }
}

const ADAM = (lr: number) => ({ type: 'adam', lr });

/** (x − mean) / std with MNIST's pixel statistics, as examples/make-graphs.ts does. */
function standardise(b: TemplateBuilder, x: string): string {
  const mean = b.op('constant', [], { shape: [], dtype: 'f32', data: [0.1307] }, 'pixel_mean');
  const std = b.op('constant', [], { shape: [], dtype: 'f32', data: [0.3081] }, 'pixel_std');
  return b.op('div', [b.op('sub', [x, mean], {}, 'centred'), std], {}, 'standardised');
}

/** A two-hidden-layer MLP for 2-D points (examples/mlp-spiral.json). */
function mlp(): EditorDocument {
  const b = new TemplateBuilder('MLP for 2-D points');
  const sizes = [2, 64, 64, 3];
  let h = b.input('x', [-1, 2], 'f32', 'data');
  const y = b.input('y', [-1], 'i32', 'label');
  for (let i = 0; i < sizes.length - 1; i++) {
    h = b.linear(h, sizes[i]!, sizes[i + 1]!, `fc${i + 1}`);
    if (i < sizes.length - 2) h = b.op('relu', [h], {}, `relu${i + 1}`);
  }
  b.output('logits', h);
  b.output('loss', b.op('crossEntropy', [h, y], {}, 'loss'));
  return b.toDocument({
    description: 'A two-hidden-layer MLP for the 2-D classification sets (spiral: 3 classes).',
    training: { epochs: 60, batchSize: 32, optimizer: ADAM(0.01), seed: 0 },
  });
}

/** How the digit templates train: five epochs of Adam with a cosine schedule. */
const DIGITS_TRAINING = {
  epochs: 5,
  batchSize: 32,
  optimizer: ADAM(0.002),
  schedule: { type: 'cosine' },
  seed: 0,
} as const;

/** Two conv/pool stages and two linear layers for MNIST (examples/cnn-mnist.json). */
function cnn(): EditorDocument {
  const b = new TemplateBuilder('Small CNN for MNIST digits');
  const pool = { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0] };
  const x = b.input('x', [-1, 1, 28, 28], 'f32', 'data');
  const y = b.input('y', [-1], 'i32', 'label');
  let h = b.conv2d(standardise(b, x), 1, 8, 5, 'conv1'); // 24×24
  h = b.op('relu', [h], {}, 'relu1');
  h = b.op('maxPool2d', [h], pool, 'pool1');
  h = b.conv2d(h, 8, 16, 5, 'conv2'); // 8×8
  h = b.op('relu', [h], {}, 'relu2');
  h = b.op('maxPool2d', [h], pool, 'pool2');
  h = b.op('reshape', [h], { shape: [-1, 256] }, 'flatten');
  h = b.linear(h, 256, 64, 'fc1');
  h = b.op('relu', [h], {}, 'relu3');
  h = b.linear(h, 64, 10, 'fc2');
  b.output('logits', h);
  b.output('loss', b.op('crossEntropy', [h, y], {}, 'loss'));
  return b.toDocument({
    description: 'Two conv/pool stages and two linear layers for 28×28 digit images.',
    training: DIGITS_TRAINING,
  });
}

/**
 * Flatten → Linear 784→128 → ReLU → Linear 128→10 for MNIST digits: the structure of
 * examples/mlp-mnist.json (standardised pixels, the same ids) with a narrower hidden layer.
 */
function mnistMlp(): EditorDocument {
  const b = new TemplateBuilder('MLP for MNIST digits');
  const x = b.input('x', [-1, 1, 28, 28], 'f32', 'data');
  const y = b.input('y', [-1], 'i32', 'label');
  let h = b.op('reshape', [standardise(b, x)], { shape: [-1, 784] }, 'flatten');
  h = b.linear(h, 784, 128, 'fc1');
  h = b.op('relu', [h], {}, 'relu1');
  h = b.linear(h, 128, 10, 'fc2');
  b.output('logits', h);
  b.output('loss', b.op('crossEntropy', [h, y], {}, 'loss'));
  return b.toDocument({
    description: 'A one-hidden-layer MLP for 28×28 digit images (10 classes).',
    training: DIGITS_TRAINING,
  });
}

/** Two inputs, each through its own tower, joined by concat and classified. */
function twoTower(): EditorDocument {
  const b = new TemplateBuilder('Two-tower classifier');
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
  return b.toDocument({
    description: 'Two feature towers joined by concatenation, then a linear head (2 classes).',
    training: { epochs: 20, batchSize: 32, optimizer: ADAM(0.005), seed: 0 },
  });
}

/** A residual block: y = relu(x + fc2(relu(fc1(x)))), then a classifier head. */
function residualBlock(): EditorDocument {
  const b = new TemplateBuilder('Residual block');
  const x = b.input('x', [-1, 64], 'f32', 'data');
  const y = b.input('y', [-1], 'i32', 'label');
  const h = b.op('relu', [b.linear(x, 64, 64, 'fc1')], {}, 'relu1');
  const skip = b.op('add', [x, b.linear(h, 64, 64, 'fc2')], {}, 'skip');
  const out = b.op('relu', [skip], {}, 'relu2');
  const logits = b.linear(out, 64, 10, 'head');
  b.output('logits', logits);
  b.output('loss', b.op('crossEntropy', [logits, y], {}, 'loss'));
  return b.toDocument({
    description: 'One residual block (two linear layers and a skip connection) and a head.',
    training: { epochs: 20, batchSize: 32, optimizer: ADAM(0.002), seed: 0 },
  });
}

/** A dense autoencoder for 28×28 images flattened to 784, trained on reconstruction. */
function autoencoder(): EditorDocument {
  const b = new TemplateBuilder('Autoencoder');
  const x = b.input('x', [-1, 784], 'f32', 'data');
  let h = b.op('relu', [b.linear(x, 784, 128, 'enc1')], {}, 'enc_relu1');
  h = b.op('relu', [b.linear(h, 128, 32, 'enc2')], {}, 'code');
  h = b.op('relu', [b.linear(h, 32, 128, 'dec1')], {}, 'dec_relu1');
  const recon = b.op('sigmoid', [b.linear(h, 128, 784, 'dec2')], {}, 'reconstruction');
  b.output('reconstruction', recon);
  b.output('loss', b.op('mseLoss', [recon, x], {}, 'loss'));
  return b.toDocument({
    description: 'Encoder 784 → 128 → 32 and decoder back to 784, trained with MSE.',
    training: { epochs: 10, batchSize: 64, optimizer: ADAM(0.001), seed: 0 },
  });
}

/** Two independent towers over the same 2-D points, summed: branches the lanes can overlap. */
function twoTowers(): EditorDocument {
  const b = new TemplateBuilder('Two towers for 2-D points');
  const x = b.input('x', [-1, 2], 'f32', 'data');
  const y = b.input('y', [-1], 'i32', 'label');
  const tower = (name: string): string => {
    let h = b.op('relu', [b.linear(x, 2, 64, `${name}_fc1`)], {}, `${name}_relu1`);
    h = b.op('relu', [b.linear(h, 64, 64, `${name}_fc2`)], {}, `${name}_relu2`);
    return h;
  };
  const merged = b.op('add', [tower('left'), tower('right')], {}, 'merge');
  const logits = b.linear(merged, 64, 3, 'head');
  b.output('logits', logits);
  b.output('loss', b.op('crossEntropy', [logits, y], {}, 'loss'));
  return b.toDocument({
    description: 'Two independent Linear–ReLU towers over the same points, added, then a head.',
    training: { epochs: 60, batchSize: 32, optimizer: ADAM(0.01), seed: 0 },
  });
}

/** Eight Linear–sigmoid layers: the gradient shrinks layer by layer towards the input. */
function deepSigmoid(): EditorDocument {
  const b = new TemplateBuilder('Deep sigmoid stack');
  let h = b.input('x', [-1, 2], 'f32', 'data');
  const y = b.input('y', [-1], 'i32', 'label');
  for (let i = 1; i <= DEEP_SIGMOID_LAYERS; i++) {
    h = b.linear(h, i === 1 ? 2 : 16, 16, `fc${i}`);
    h = b.op('sigmoid', [h], {}, `sigmoid${i}`);
  }
  const logits = b.linear(h, 16, 3, 'head');
  b.output('logits', logits);
  b.output('loss', b.op('crossEntropy', [logits, y], {}, 'loss'));
  return b.toDocument({
    description:
      'Eight Linear–sigmoid layers: sigmoid’s slope is at most 1/4, so the gradient vanishes ' +
      'towards the input.',
    training: { epochs: 20, batchSize: 32, optimizer: { type: 'sgd', lr: 0.1 }, seed: 0 },
  });
}

const DEEP_SIGMOID_LAYERS = 8;

/** How the curve-fitting template trains: Adam on the 300 `sine` points, about 1,000 steps. */
export const REGRESSION_TRAINING = {
  epochs: 100,
  batchSize: 32,
  optimizer: ADAM(0.01),
  seed: 0,
} as const;

/**
 * A small Tanh MLP that fits a curve: one number in, one out, an MSE loss against an f32 label
 * [N, 1] (a regression), for the built-in `sine` set.
 */
function regression(): EditorDocument {
  const b = new TemplateBuilder('Regression: fit a curve');
  const x = b.input('x', [-1, 1], 'f32', 'data');
  const y = b.input('y', [-1, 1], 'f32', 'label');
  let h = b.op('tanh', [b.linear(x, 1, 32, 'fc1')], {}, 'tanh1');
  h = b.op('tanh', [b.linear(h, 32, 32, 'fc2')], {}, 'tanh2');
  const out = b.linear(h, 32, 1, 'fc3');
  b.output('output', out);
  b.output('loss', b.op('mseLoss', [out, y], {}, 'loss'));
  return b.toDocument({
    description:
      'Linear 1→32 → Tanh → Linear 32→32 → Tanh → Linear 32→1 with an MSE loss: fits ' +
      'y = sin(x) from noisy points (the sine data set).',
    training: REGRESSION_TRAINING,
  });
}

export interface Template {
  /** `template-<name>` in the DOM. */
  readonly name: string;
  readonly label: string;
  readonly description: string;
  readonly build: () => EditorDocument;
}

export const TEMPLATES: readonly Template[] = [
  {
    name: 'mlp',
    label: 'MLP',
    description: '2 → 64 → 64 → 3 classifier for 2-D points',
    build: mlp,
  },
  { name: 'cnn', label: 'CNN', description: 'Two conv/pool stages for MNIST digits', build: cnn },
  {
    name: 'mnist-mlp',
    label: 'MLP for MNIST',
    description: 'Flatten → 784 → 128 → 10 for MNIST digits',
    build: mnistMlp,
  },
  {
    name: 'two-tower',
    label: 'Two-tower',
    description: 'Two feature towers joined by concat',
    build: twoTower,
  },
  {
    name: 'two-towers',
    label: 'Two towers (2-D)',
    description: 'Two independent Linear–ReLU stacks, added: parallel lanes',
    build: twoTowers,
  },
  {
    name: 'deep-sigmoid',
    label: 'Deep sigmoid (vanishing gradients)',
    description: 'Eight Linear–sigmoid layers on 2-D points',
    build: deepSigmoid,
  },
  {
    name: 'residual',
    label: 'Residual block',
    description: 'Linear–ReLU–Linear with a skip connection',
    build: residualBlock,
  },
  {
    name: 'regression',
    label: 'Regression: fit a curve',
    description: '1 → 32 → 32 → 1 Tanh MLP fits sin(x) with MSE',
    build: regression,
  },
  {
    name: 'autoencoder',
    label: 'Autoencoder',
    description: '784 → 32 → 784 reconstruction with MSE',
    build: autoencoder,
  },
];

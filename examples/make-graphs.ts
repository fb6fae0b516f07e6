/**
 * Writes the example graph files in this folder: `node --import tsx examples/make-graphs.ts`.
 * Each is a training graph: a `data` input `x`, a `label` input `y`, outputs `logits` and
 * `loss`, and a `meta.training` block with the optimiser and batch size the CLI uses.
 */

import { writeFileSync } from 'node:fs';
import { GraphBuilder } from '../engine/graph/builder.js';

function write(file: string, b: GraphBuilder, training: object, description: string): void {
  const json = b.toJSON({ description, training });
  b.build(); // validates
  writeFileSync(new URL(file, import.meta.url), JSON.stringify(json, null, 2) + '\n');
}

/** (x − mean) / std with MNIST's pixel statistics, so inputs are centred for the optimiser. */
function standardise(b: GraphBuilder, x: string): string {
  const mean = b.op('constant', [], { shape: [], dtype: 'f32', data: [0.1307] }, 'pixel_mean');
  const std = b.op('constant', [], { shape: [], dtype: 'f32', data: [0.3081] }, 'pixel_std');
  return b.op('div', [b.op('sub', [x, mean], {}, 'centred'), std], {}, 'standardised');
}

function mlp(name: string, sizes: number[], imageInput: boolean): GraphBuilder {
  const b = new GraphBuilder(name);
  let h = imageInput
    ? b.input('x', [-1, 1, 28, 28], 'f32', 'data')
    : b.input('x', [-1, sizes[0]!], 'f32', 'data');
  const y = b.input('y', [-1], 'i32', 'label');
  if (imageInput) h = b.op('reshape', [standardise(b, h)], { shape: [-1, sizes[0]!] }, 'flatten');
  for (let i = 0; i < sizes.length - 1; i++) {
    h = b.linear(h, sizes[i]!, sizes[i + 1]!, `fc${i + 1}`);
    if (i < sizes.length - 2) h = b.op('relu', [h], {}, `relu${i + 1}`);
  }
  b.output('logits', h);
  b.output('loss', b.op('crossEntropy', [h, y], {}, 'loss'));
  return b;
}

write(
  'mlp-spiral.json',
  mlp('MLP for 2-D points', [2, 64, 64, 3], false),
  { epochs: 60, batchSize: 32, optimizer: { type: 'adam', lr: 0.01 }, seed: 0 },
  'A two-hidden-layer MLP for the 2-D classification sets (spiral: 3 classes).',
);

write(
  'mlp-mnist.json',
  mlp('MLP for MNIST digits', [784, 256, 10], true),
  {
    epochs: 5,
    batchSize: 32,
    optimizer: { type: 'adam', lr: 0.002 },
    schedule: { type: 'cosine' },
    seed: 0,
  },
  'A one-hidden-layer MLP for 28×28 digit images.',
);

{
  const b = new GraphBuilder('Small CNN for MNIST digits');
  const x = b.input('x', [-1, 1, 28, 28], 'f32', 'data');
  const y = b.input('y', [-1], 'i32', 'label');
  let h = b.conv2d(standardise(b, x), 1, 8, 5, 'conv1'); // 24×24
  h = b.op('relu', [h], {}, 'relu1');
  h = b.op('maxPool2d', [h], { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0] }, 'pool1');
  h = b.conv2d(h, 8, 16, 5, 'conv2'); // 8×8
  h = b.op('relu', [h], {}, 'relu2');
  h = b.op('maxPool2d', [h], { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0] }, 'pool2');
  h = b.op('reshape', [h], { shape: [-1, 256] }, 'flatten');
  h = b.linear(h, 256, 64, 'fc1');
  h = b.op('relu', [h], {}, 'relu3');
  h = b.linear(h, 64, 10, 'fc2');
  b.output('logits', h);
  b.output('loss', b.op('crossEntropy', [h, y], {}, 'loss'));
  write(
    'cnn-mnist.json',
    b,
    {
      epochs: 5,
      batchSize: 32,
      optimizer: { type: 'adam', lr: 0.002 },
      schedule: { type: 'cosine' },
      seed: 0,
    },
    'Two conv/pool stages and two linear layers for 28×28 digit images.',
  );
}

/** An MLP over CSV features; `outputs` 1 with an f32 label makes it a regression (mseLoss). */
function tabular(name: string, sizes: number[], regression: boolean): GraphBuilder {
  const b = new GraphBuilder(name);
  let h = b.input('x', [-1, sizes[0]!], 'f32', 'data');
  const y = regression ? b.input('y', [-1, 1], 'f32', 'label') : b.input('y', [-1], 'i32', 'label');
  for (let i = 0; i < sizes.length - 1; i++) {
    h = b.linear(h, sizes[i]!, sizes[i + 1]!, `fc${i + 1}`);
    if (i < sizes.length - 2) h = b.op('relu', [h], {}, `relu${i + 1}`);
  }
  b.output(regression ? 'output' : 'logits', h);
  b.output('loss', b.op(regression ? 'mseLoss' : 'crossEntropy', [h, y], {}, 'loss'));
  return b;
}

write(
  'mlp-tabular-regression.json',
  tabular('MLP regression for examples/data/houses.csv', [7, 32, 32, 1], true),
  { epochs: 60, batchSize: 32, optimizer: { type: 'adam', lr: 0.01 }, seed: 0 },
  'Predicts a number (houses.csv: price) from 7 normalised features (3 numeric, 4 one-hot).',
);

{
  // The app's "Regression: fit a curve" template: a Tanh MLP fitting the built-in `sine` set.
  const b = new GraphBuilder('MLP fitting a curve (the sine set)');
  const x = b.input('x', [-1, 1], 'f32', 'data');
  const y = b.input('y', [-1, 1], 'f32', 'label');
  let h = b.op('tanh', [b.linear(x, 1, 32, 'fc1')], {}, 'tanh1');
  h = b.op('tanh', [b.linear(h, 32, 32, 'fc2')], {}, 'tanh2');
  const out = b.linear(h, 32, 1, 'fc3');
  b.output('output', out);
  b.output('loss', b.op('mseLoss', [out, y], {}, 'loss'));
  write(
    'mlp-sine.json',
    b,
    { epochs: 100, batchSize: 32, optimizer: { type: 'adam', lr: 0.01 }, seed: 0, dataset: 'sine' },
    'Fits y = sin(x) + noise on x in [-3, 3] (the built-in sine set): a regression (mseLoss).',
  );
}

write(
  'mlp-tabular-classification.json',
  tabular('MLP classifier for examples/data/fruit.csv', [7, 32, 3], false),
  { epochs: 40, batchSize: 32, optimizer: { type: 'adam', lr: 0.01 }, seed: 0 },
  'Classifies rows (fruit.csv: 3 fruits) from 7 normalised features (4 numeric, 3 one-hot).',
);

{
  const b = new GraphBuilder('Small CNN for Fashion-MNIST');
  const x = b.input('x', [-1, 1, 28, 28], 'f32', 'data');
  const y = b.input('y', [-1], 'i32', 'label');
  // Fashion-MNIST's pixel statistics (training set): mean 0.2860, deviation 0.3530.
  const mean = b.op('constant', [], { shape: [], dtype: 'f32', data: [0.286] }, 'pixel_mean');
  const std = b.op('constant', [], { shape: [], dtype: 'f32', data: [0.353] }, 'pixel_std');
  let h = b.op('div', [b.op('sub', [x, mean], {}, 'centred'), std], {}, 'standardised');
  h = b.conv2d(h, 1, 16, 5, 'conv1', { padding: 2 }); // 28×28
  h = b.op('relu', [h], {}, 'relu1');
  h = b.op('maxPool2d', [h], { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0] }, 'pool1');
  h = b.conv2d(h, 16, 32, 5, 'conv2'); // 10×10
  h = b.op('relu', [h], {}, 'relu2');
  h = b.op('maxPool2d', [h], { kernelSize: [2, 2], stride: [2, 2], padding: [0, 0] }, 'pool2');
  h = b.op('reshape', [h], { shape: [-1, 800] }, 'flatten');
  h = b.linear(h, 800, 64, 'fc1');
  h = b.op('relu', [h], {}, 'relu3');
  h = b.linear(h, 64, 10, 'fc2');
  b.output('logits', h);
  b.output('loss', b.op('crossEntropy', [h, y], {}, 'loss'));
  write(
    'cnn-fashion.json',
    b,
    {
      epochs: 3,
      batchSize: 32,
      optimizer: { type: 'adam', lr: 0.002 },
      schedule: { type: 'cosine' },
      seed: 0,
    },
    'Two conv/pool stages and two linear layers for 28×28 Fashion-MNIST images.',
  );
}

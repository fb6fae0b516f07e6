/**
 * Lesson graphs for the autodiff teacher (the Learn tab): small graphs whose every number can
 * be shown. Each is an ordinary document; what makes it a lesson is `meta.lesson`, which gives
 * the values of its inputs (so the numbers are the same on every run; parameters are seeded)
 * and the value to differentiate. Values are row-major; a `-1` batch dimension takes the batch
 * the values imply.
 */

import type { EditorDocument } from './document.js';
import { TemplateBuilder } from './templates.js';

/** The numbers fed to one input. */
export interface LessonInput {
  readonly shape: readonly number[];
  readonly dtype: 'f32' | 'i32';
  readonly values: readonly number[];
}

/** `meta.lesson` of a lesson document. */
export interface LessonMeta {
  /** Values of the inputs, by input id. */
  readonly inputs: Readonly<Record<string, LessonInput>>;
  /** The output name (or node id) whose gradient is taken. */
  readonly root: string;
}

export interface LessonTemplate {
  /** `lesson-<name>` in the DOM. */
  readonly name: string;
  readonly label: string;
  readonly description: string;
  readonly build: () => EditorDocument;
}

const scalar = (v: number): LessonInput => ({ shape: [], dtype: 'f32', values: [v] });

/** Builds the document with its lesson metadata. */
function lessonDocument(
  b: TemplateBuilder,
  description: string,
  lesson: LessonMeta,
): EditorDocument {
  return b.toDocument({ description, lesson });
}

/**
 * micrograd's neuron: o = tanh(a·b + c), with a = 2 (an input), b = −3 (its weight) and
 * c = 6.8813735870195432 (the bias), chosen so that a·b + c = 0.8814 and o = 1/√2, which makes
 * 1 − o² = 0.5 and every gradient a round number.
 */
function neuron(): EditorDocument {
  const b = new TemplateBuilder('Lesson: a single neuron');
  const x = b.input('a', [], 'f32', 'data');
  const w = b.input('b', [], 'f32', 'data');
  const bias = b.input('c', [], 'f32', 'data');
  const ab = b.op('mul', [x, w], {}, 'ab');
  const n = b.op('add', [ab, bias], {}, 'n');
  b.output('o', b.op('tanh', [n], {}, 'o'));
  return lessonDocument(b, 'o = tanh(a·b + c): one neuron, the chain rule on scalars.', {
    inputs: { a: scalar(2), b: scalar(-3), c: scalar(6.881373587019543) },
    root: 'o',
  });
}

/** A 2 → 3 → 2 MLP (tanh) on the four xor points, with cross-entropy. */
function xorMlp(): EditorDocument {
  const b = new TemplateBuilder('Lesson: an MLP on xor');
  const x = b.input('x', [-1, 2], 'f32', 'data');
  const y = b.input('y', [-1], 'i32', 'label');
  const h = b.op('tanh', [b.linear(x, 2, 3, 'fc1')], {}, 'hidden');
  const logits = b.linear(h, 3, 2, 'fc2');
  b.output('logits', logits);
  b.output('loss', b.op('crossEntropy', [logits, y], {}, 'loss'));
  return lessonDocument(
    b,
    'Two linear layers on the four xor points: gradients through matmul, bias, tanh and the loss.',
    {
      inputs: {
        x: { shape: [4, 2], dtype: 'f32', values: [0, 0, 0, 1, 1, 0, 1, 1] },
        y: { shape: [4], dtype: 'i32', values: [0, 1, 1, 0] },
      },
      root: 'loss',
    },
  );
}

/** loss = −Σ t·log softmax(z) for one example, written out op by op. */
function softmaxCrossEntropy(): EditorDocument {
  const b = new TemplateBuilder('Lesson: softmax and cross-entropy');
  const z = b.input('z', [1, 3], 'f32', 'data');
  const t = b.op('constant', [], { shape: [1, 3], dtype: 'f32', data: [1, 0, 0] }, 'target');
  const p = b.op('softmax', [z], { axis: 1 }, 'p');
  const logp = b.op('log', [p], {}, 'log_p');
  const picked = b.op('mul', [t, logp], {}, 't_log_p');
  const total = b.op('sum', [picked], { axes: [0, 1], keepDims: false }, 'total');
  b.output('p', p);
  b.output('loss', b.op('neg', [total], {}, 'loss'));
  return lessonDocument(
    b,
    'Softmax then cross-entropy against the one-hot target: the gradient at z is p − t.',
    { inputs: { z: { shape: [1, 3], dtype: 'f32', values: [2, 1, 0.1] } }, root: 'loss' },
  );
}

/** A 3×3 filter over a 4×4 image (padding 1) and loss = Σ y²/2. */
function convolution(): EditorDocument {
  const b = new TemplateBuilder('Lesson: a convolution’s gradient');
  const x = b.input('x', [1, 1, 4, 4], 'f32', 'data');
  const w = b.input('w', [1, 1, 3, 3], 'f32', 'data');
  const y = b.op(
    'conv2d',
    [x, w],
    { stride: [1, 1], padding: [1, 1, 1, 1], dilation: [1, 1], groups: 1 },
    'y',
  );
  const half = b.op('constant', [], { shape: [], dtype: 'f32', data: [0.5] }, 'half');
  const sq = b.op('mul', [y, y], {}, 'y_squared');
  const total = b.op('sum', [sq], { axes: [0, 1, 2, 3], keepDims: false }, 'total');
  b.output('y', y);
  b.output('loss', b.op('mul', [total, half], {}, 'loss'));
  return lessonDocument(
    b,
    'A 3×3 filter over a 4×4 input: dx is the full convolution of dy with the flipped filter, ' +
      'dw the correlation of x with dy.',
    {
      inputs: {
        x: {
          shape: [1, 1, 4, 4],
          dtype: 'f32',
          values: [1, 2, 0, -1, 0, 1, 3, 1, -2, 0, 1, 2, 1, -1, 0, 1],
        },
        w: { shape: [1, 1, 3, 3], dtype: 'f32', values: [0, 1, 0, 1, -2, 1, 0, 0.5, 0] },
      },
      root: 'loss',
    },
  );
}

/** Six linear(2→2) + sigmoid layers: each sigmoid multiplies the gradient by at most 1/4. */
function vanishing(): EditorDocument {
  const b = new TemplateBuilder('Lesson: why gradients vanish');
  let h = b.input('x', [-1, 2], 'f32', 'data');
  const depth = 6;
  for (let i = 1; i <= depth; i++)
    h = b.op('sigmoid', [b.linear(h, 2, 2, `fc${i}`)], {}, `sigmoid${i}`);
  b.output('out', h);
  const loss = b.op('sum', [h], { axes: [0, 1], keepDims: false }, 'loss');
  b.output('loss', loss);
  return lessonDocument(
    b,
    'A deep stack of sigmoids: σ′ ≤ 1/4, so the gradient shrinks at every layer on its way down.',
    { inputs: { x: { shape: [1, 2], dtype: 'f32', values: [0.5, -1] } }, root: 'loss' },
  );
}

export const LESSONS: readonly LessonTemplate[] = [
  {
    name: 'neuron',
    label: 'A single neuron',
    description: 'tanh(a·b + c) on scalars, micrograd style',
    build: neuron,
  },
  {
    name: 'xor-mlp',
    label: 'MLP on xor',
    description: '2 → 3 → 2 with tanh and cross-entropy',
    build: xorMlp,
  },
  {
    name: 'softmax-ce',
    label: 'Softmax + cross-entropy',
    description: 'the gradient at the logits is p − t',
    build: softmaxCrossEntropy,
  },
  {
    name: 'conv',
    label: 'Convolution gradient',
    description: 'a 3×3 filter over a 4×4 input',
    build: convolution,
  },
  {
    name: 'vanishing',
    label: 'Why gradients vanish',
    description: 'six sigmoid layers, gradients shrinking',
    build: vanishing,
  },
];

/** The lesson metadata of a document, when it has valid metadata. */
export function lessonMeta(doc: EditorDocument): LessonMeta | null {
  const raw = doc.graph.meta?.['lesson'];
  if (typeof raw !== 'object' || raw === null) return null;
  const meta = raw as Partial<LessonMeta>;
  if (typeof meta.inputs !== 'object' || meta.inputs === null || typeof meta.root !== 'string')
    return null;
  return meta as LessonMeta;
}

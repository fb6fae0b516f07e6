/**
 * TensorFlow.js anchors in this process: the plain-JS CPU backend and the XNNPACK Wasm backend
 * (SIMD; threads are off in Node). Gradients come from tfjs-core's registrations.
 */

import { createRequire } from 'node:module';
import type * as TF from '@tensorflow/tfjs';
import { timeIt } from '../harness.js';

// The CommonJS builds: tfjs's ES module build does not resolve under Node's ESM loader.
const require = createRequire(import.meta.url);
const tf = require('@tensorflow/tfjs') as typeof TF;
require('@tensorflow/tfjs-backend-wasm');

export type TfBackend = 'cpu' | 'wasm';

export async function useTfBackend(name: TfBackend): Promise<boolean> {
  try {
    return (await tf.setBackend(name)) && tf.getBackend() === name;
  } catch {
    return false;
  }
}

export async function tfMatmulMs(n: number): Promise<number> {
  const a = tf.randomUniform([n, n]);
  const b = tf.randomUniform([n, n]);
  const t = await timeIt(() => {
    const c = tf.matMul(a, b);
    c.dataSync();
    c.dispose();
  });
  a.dispose();
  b.dispose();
  return t.medianMs;
}

/** Milliseconds per eager `add` of two `size`-element tensors, over a chain of `ops` adds. */
export async function tfSmallOpMs(size: number, ops: number): Promise<number> {
  const a = tf.randomUniform([size]);
  const b = tf.randomUniform([size]);
  const t = await timeIt(() =>
    tf.tidy(() => {
      let h: TF.Tensor = a;
      for (let i = 0; i < ops; i++) h = tf.add(h, b);
    }),
  );
  tf.dispose([a, b]);
  return t.medianMs / ops;
}

/** One SGD step of an MLP with ReLU hidden layers and softmax cross-entropy. */
export async function tfMlpStepMs(sizes: readonly number[], batch: number): Promise<number> {
  const params: TF.Variable[] = [];
  for (let i = 0; i < sizes.length - 1; i++) {
    const bound = 1 / Math.sqrt(sizes[i]!);
    params.push(tf.variable(tf.randomUniform([sizes[i]!, sizes[i + 1]!], -bound, bound)));
    params.push(tf.variable(tf.randomUniform([sizes[i + 1]!], -bound, bound)));
  }
  const x = tf.randomUniform([batch, sizes[0]!]);
  const labels = tf.oneHot(
    tf.randomUniform([batch], 0, sizes[sizes.length - 1]!, 'int32'),
    sizes[sizes.length - 1]!,
  );
  const opt = tf.train.sgd(0.01);
  const t = await timeIt(() => {
    const cost = opt.minimize(() => {
      let h: TF.Tensor = x;
      for (let i = 0; i < params.length; i += 2) {
        h = tf.add(tf.matMul(h, params[i]!), params[i + 1]!);
        if (i + 2 < params.length) h = tf.relu(h);
      }
      return tf.losses.softmaxCrossEntropy(labels, h) as TF.Scalar;
    }, true);
    cost!.dataSync();
    cost!.dispose();
  });
  tf.dispose([...params, x, labels]);
  opt.dispose();
  return t.medianMs;
}

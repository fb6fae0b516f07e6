/**
 * TensorFlow.js's WebGPU backend as an anchor, on the same `GPU` object (and so the same
 * adapter) as the engine. tfjs-webgpu looks for `navigator.gpu` and the WebGPU constants
 * (`GPUBufferUsage`, …) as globals: in Node those come from the `webgpu` package, so
 * `useTfWebGPU(gpu)` installs them before `tf.setBackend('webgpu')`.
 *
 * The packages are loaded with `require` from `createRequire`: tfjs's ES module build does not
 * resolve under Node's ESM loader. scripts/pack-gpu.sh bundles this file by dropping the
 * `createRequire` line, so that esbuild sees plain `require` calls and includes tfjs.
 */

import { createRequire } from 'node:module';
import type * as TF from '@tensorflow/tfjs';

const require = createRequire(import.meta.url);

let tf: typeof TF | null = null;

/** Times `fn` (warm-ups and median chosen by the caller), in ms. */
export type Timer = (fn: () => Promise<void>) => Promise<number>;

/** Switches tfjs to its WebGPU backend on `gpu`; false (and why, on stderr) when it cannot. */
export async function useTfWebGPU(gpu: GPU, globals: object): Promise<boolean> {
  try {
    Object.assign(globalThis, globals);
    const g = globalThis as { navigator?: { gpu?: GPU } };
    // Node 20 has no navigator; a newer Node has one whose gpu slot is empty.
    if (g.navigator) Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
    else g.navigator = { gpu };
    tf = require('@tensorflow/tfjs') as typeof TF;
    require('@tensorflow/tfjs-backend-webgpu');
    return (await tf.setBackend('webgpu')) && tf.getBackend() === 'webgpu';
  } catch (e) {
    process.stderr.write(`tfjs-webgpu unavailable: ${e instanceof Error ? e.message : e}\n`);
    return false;
  }
}

function lib(): typeof TF {
  if (!tf) throw new Error('call useTfWebGPU() first');
  return tf;
}

/** Median time of `perRead` square f32 matmuls followed by one readback. */
export async function tfWebGPUMatmulMs(n: number, perRead: number, time: Timer): Promise<number> {
  const tf = lib();
  const a = tf.randomUniform([n, n]);
  const b = tf.randomUniform([n, n]);
  const ms = await time(async () => {
    const cs: TF.Tensor[] = [];
    for (let i = 0; i < perRead; i++) cs.push(tf.matMul(a, b));
    await cs[cs.length - 1]!.data();
    tf.dispose(cs);
  });
  tf.dispose([a, b]);
  return ms;
}

/** One SGD step of an MLP (ReLU hidden layers, softmax cross-entropy), loss read back. */
export async function tfWebGPUMlpStepMs(
  sizes: readonly number[],
  batch: number,
  time: Timer,
): Promise<number> {
  const tf = lib();
  const params: TF.Variable[] = [];
  for (let i = 0; i < sizes.length - 1; i++) {
    const bound = 1 / Math.sqrt(sizes[i]!);
    params.push(tf.variable(tf.randomUniform([sizes[i]!, sizes[i + 1]!], -bound, bound)));
    params.push(tf.variable(tf.randomUniform([sizes[i + 1]!], -bound, bound)));
  }
  const classes = sizes[sizes.length - 1]!;
  const x = tf.randomUniform([batch, sizes[0]!]);
  const labels = tf.oneHot(tf.randomUniform([batch], 0, classes, 'int32'), classes);
  const opt = tf.train.sgd(0.01);
  const ms = await time(async () => {
    const cost = opt.minimize(() => {
      let h: TF.Tensor = x;
      for (let i = 0; i < params.length; i += 2) {
        h = tf.add(tf.matMul(h, params[i]!), params[i + 1]!);
        if (i + 2 < params.length) h = tf.relu(h);
      }
      return tf.losses.softmaxCrossEntropy(labels, h) as TF.Scalar;
    }, true);
    await cost!.data();
    cost!.dispose();
  });
  tf.dispose([...params, x, labels]);
  opt.dispose();
  return ms;
}

/**
 * One SGD step (momentum 0.9) of the MNIST CNN of examples/cnn-mnist.json, written in tfjs
 * (NHWC): conv 5×5 1→8, ReLU, max-pool 2, conv 5×5 8→16, ReLU, max-pool 2, dense 256→64, ReLU,
 * dense 64→10, softmax cross-entropy; loss read back. Null (and why, on stderr) when a kernel
 * it needs is missing on tfjs-webgpu.
 */
export async function tfWebGPUCnnStepMs(batch: number, time: Timer): Promise<number | null> {
  const tf = lib();
  const u = (shape: number[], fanIn: number): TF.Variable => {
    const bound = 1 / Math.sqrt(fanIn);
    return tf.variable(tf.randomUniform(shape, -bound, bound));
  };
  const params = {
    c1: u([5, 5, 1, 8], 25),
    b1: u([8], 25),
    c2: u([5, 5, 8, 16], 200),
    b2: u([16], 200),
    f1: u([256, 64], 256),
    g1: u([64], 256),
    f2: u([64, 10], 64),
    g2: u([10], 64),
  };
  const x = tf.randomUniform([batch, 28, 28, 1]) as TF.Tensor4D;
  const labels = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32'), 10);
  const opt = tf.train.momentum(0.05, 0.9);
  const p = params;
  try {
    const ms = await time(async () => {
      const cost = opt.minimize(() => {
        const s = x.sub(0.1307).div(0.3081) as TF.Tensor4D;
        let h = tf.relu(tf.conv2d(s, p.c1 as TF.Tensor4D, 1, 'valid').add(p.b1)) as TF.Tensor4D;
        h = tf.maxPool(h, 2, 2, 'valid');
        h = tf.relu(tf.conv2d(h, p.c2 as TF.Tensor4D, 1, 'valid').add(p.b2)) as TF.Tensor4D;
        h = tf.maxPool(h, 2, 2, 'valid');
        const f = tf.relu(tf.matMul(h.reshape([batch, 256]), p.f1).add(p.g1));
        const logits = tf.matMul(f, p.f2).add(p.g2);
        return tf.losses.softmaxCrossEntropy(labels, logits) as TF.Scalar;
      }, true);
      await cost!.data();
      cost!.dispose();
    });
    return ms;
  } catch (e) {
    process.stderr.write(`tfjs-webgpu CNN step failed: ${e instanceof Error ? e.message : e}\n`);
    return null;
  } finally {
    tf.dispose([...Object.values(params), x, labels]);
    opt.dispose();
  }
}

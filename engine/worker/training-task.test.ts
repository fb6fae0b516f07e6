import { describe, expect, it } from 'vitest';
import { digitsAsset } from '../../scripts/build-digits.mjs';
import { spiralJSON } from '../../test/helpers/examples.js';
import { GraphBuilder } from '../graph/builder.js';
import type { GraphJSON } from '../graph/ir.js';
import { EngineClient } from '../protocol/client.js';
import type {
  EngineRequest,
  EngineResponse,
  TrainProgress,
  TrainSessionConfig,
} from '../protocol/messages.js';
import { startNodeLanes } from '../node/lanes.js';
import { tensor } from '../ops/creation.js';
import { dispose } from '../runtime/scope.js';
import type { Tensor } from '../tensor.js';
import type { LaneSource } from './lane-training.js';
import { csvTrainingSets, targetScaleOf } from './csv-training.js';
import { parseDigits } from './digits.js';
import { createInProcessEngineClient } from './in-process.js';
import { createEngineServer } from './server.js';
import { TrainSession } from './train-session.js';

/** y = 3a − 2b + 0.5c + 40 with a little noise: a clearly linear table in units far from 0. */
function linearCsv(rows: number): string {
  let seed = 11;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31 - 0.5;
  };
  const lines = ['a,b,c,price'];
  for (let i = 0; i < rows; i++) {
    const [a, b, c] = [rand() * 10, rand() * 10, rand() * 10];
    const y = 3 * a - 2 * b + 0.5 * c + 40 + rand() * 0.5;
    lines.push(`${a.toFixed(3)},${b.toFixed(3)},${c.toFixed(3)},${y.toFixed(3)}`);
  }
  return lines.join('\n') + '\n';
}

/** An MLP regressor on `features` inputs: label [N, 1] (or [N]) f32, MSE loss. */
function regressorJSON(features: number, labelShape: readonly number[] = [-1, 1]): GraphJSON {
  const b = new GraphBuilder('Regressor');
  const x = b.input('x', [-1, features], 'f32', 'data');
  const y = b.input('y', labelShape, 'f32', 'label');
  const h = b.op('relu', [b.linear(x, features, 16, 'fc1')], {}, 'relu1');
  let out = b.linear(h, 16, 1, 'head');
  if (labelShape.length === 1) out = b.op('reshape', [out], { shape: [-1] }, 'flat');
  b.output('output', out);
  b.output('loss', b.op('mseLoss', [out, y], {}, 'loss'));
  return b.toJSON();
}

/** A dense autoencoder 784 → 64 → 16 → 64 → 784 trained with MSE against its own input. */
function autoencoderJSON(): GraphJSON {
  const b = new GraphBuilder('Autoencoder');
  const x = b.input('x', [-1, 784], 'f32', 'data');
  let h = b.op('relu', [b.linear(x, 784, 64, 'enc1')], {}, 'enc_relu1');
  h = b.op('relu', [b.linear(h, 64, 16, 'enc2')], {}, 'code');
  h = b.op('relu', [b.linear(h, 16, 64, 'dec1')], {}, 'dec_relu1');
  const recon = b.op('sigmoid', [b.linear(h, 64, 784, 'dec2')], {}, 'reconstruction');
  b.output('reconstruction', recon);
  b.output('loss', b.op('mseLoss', [recon, x], {}, 'loss'));
  return b.toJSON();
}

const wgTensor = (values: Float32Array, shape: readonly number[]): Tensor =>
  tensor(values, { shape, dtype: 'f32' });

const config: TrainSessionConfig = {
  optimizer: 'adam',
  lr: 0.02,
  batchSize: 32,
  epochs: 15,
  seed: 0,
};

/** Resolves with the first streamed progress that satisfies `done`. */
function waitFor(
  client: EngineClient,
  done: (p: TrainProgress) => boolean,
): Promise<TrainProgress> {
  return new Promise((resolve) => {
    const off = client.onTrainProgress((p) => {
      if (done(p)) {
        off();
        resolve(p);
      }
    });
  });
}

/** A client over the worker's server in this thread that reads `digits` as the digits file. */
function digitsClient(digits: ArrayBuffer): EngineClient {
  let listener: ((response: EngineResponse) => void) | null = null;
  let closed = false;
  const server = createEngineServer(
    (response) => {
      const copy = structuredClone(response);
      setTimeout(() => !closed && listener?.(copy), 0);
    },
    undefined,
    { loadAsset: () => Promise.resolve(digits.slice(0)) },
  );
  return new EngineClient({
    post: (request: EngineRequest) => {
      const copy = structuredClone(request);
      setTimeout(() => !closed && server.receive(copy), 0);
    },
    listen: (handler) => (listener = handler),
    onFailure: () => undefined,
    close: () => (closed = true),
  });
}

describe('regression on a CSV whose target holds numbers', () => {
  it('gives standardised f32 targets shaped like the label input', () => {
    const csv = { name: 'prices.csv', text: linearCsv(200) };
    const column = csvTrainingSets(regressorJSON(3), csv, 0);
    expect(column.train.y.dtype).toBe('f32');
    expect(column.train.y.shape).toEqual([160, 1]);
    expect(column.validation.y.shape).toEqual([40, 1]);
    // The training targets are standardised with their own statistics: mean 0, deviation 1.
    const again = targetScaleOf(column.train.y.dataSync());
    expect(Math.abs(again.mean)).toBeLessThan(1e-5);
    expect(again.std).toBeCloseTo(1, 4);
    // …and the scale says how, in the target's units (prices around 40).
    expect(column.targetScale!.mean).toBeGreaterThan(30);
    expect(column.targetScale!.std).toBeGreaterThan(5);
    const flat = csvTrainingSets(regressorJSON(3, [-1]), csv, 0);
    expect(flat.train.y.shape).toEqual([160]);
    dispose([column.train.x, column.train.y, column.validation.x, column.validation.y]);
    dispose([flat.train.x, flat.train.y, flat.validation.x, flat.validation.y]);
  });

  it('trains: the loss falls and R² on the validation rows passes 0.8, RMSE in price units', () => {
    const sets = csvTrainingSets(regressorJSON(3), { name: 'prices.csv', text: linearCsv(400) }, 0);
    const session = new TrainSession(regressorJSON(3), 'spiral', config, {
      data: sets,
      lanes: null,
    });
    expect(session.task).toBe('regression');
    session.step();
    const first = session.progress('paused');
    expect(first.task).toBe('regression');
    expect(first.accuracy).toBeNull();
    while (!session.done) session.step();
    const last = session.progress('done');
    expect(last.loss!).toBeLessThan(first.loss! / 5);
    const v = last.validation!;
    expect(v.r2!).toBeGreaterThan(0.8);
    expect(Number.isNaN(v.accuracy)).toBe(true);
    // RMSE in the target's own units: R² = 1 − MSE / Var, so RMSE ≈ std · √(1 − R²).
    const std = sets.targetScale!.std;
    expect(v.rmse!).toBeGreaterThan(0);
    expect(v.rmse!).toBeLessThan(std * 0.45);
    // Standardised loss (MSE) and the RMSE in units agree: RMSE² ≈ loss · std².
    expect(v.rmse! ** 2 / std ** 2).toBeCloseTo(v.loss, 4);
    session.dispose();
  });

  it('trains through the engine protocol, with no accuracy and no class views', async () => {
    const client = createInProcessEngineClient();
    const done = waitFor(client, (p) => p.status === 'done');
    await client.startTraining(regressorJSON(3), 'spiral', config, {
      csv: { name: 'prices.csv', text: linearCsv(300) },
    });
    const last = await done;
    expect(last.task).toBe('regression');
    expect(last.accuracy).toBeNull();
    expect(last.validation?.r2).toBeGreaterThan(0.8);
    expect(last.confusion).toBeUndefined();
    expect(last.boundary).toBeUndefined();
    client.close();
  });

  it('says what to change when the model does not fit the target', () => {
    const csv = { name: 'prices.csv', text: linearCsv(50) };
    // A classifier (crossEntropy, int32 labels) on numbers.
    const spiral = csvTrainingSets.bind(null, spiralJSON(), {
      name: 'prices.csv',
      text: 'x,y,price\n' + Array.from({ length: 20 }, (_, i) => `${i},1,${i * 1.5}`).join('\n'),
    });
    expect(spiral).toThrow(
      "prices.csv: the target column 'price' holds numbers (a regression), but the model is a " +
        "classifier (its label input 'y' takes class indices and its loss is crossEntropy): to " +
        'predict the numbers, make the label input f32 with shape [N, 1] and the loss an MSE ' +
        'loss (mseLoss) of the output and the label; or pick a column of classes as the target ' +
        'in the Data tab',
    );
    // An output three wide for one number per row.
    const b = new GraphBuilder('Wide');
    const x = b.input('x', [-1, 3], 'f32', 'data');
    const y = b.input('y', [-1, 3], 'f32', 'label');
    const out = b.linear(x, 3, 3, 'head');
    b.output('output', out);
    b.output('loss', b.op('mseLoss', [out, y], {}, 'loss'));
    expect(() => csvTrainingSets(b.toJSON(), csv, 0)).toThrow(
      "prices.csv: the target 'price' is one number per row, but the model's 'output' has 3 " +
        'outputs per example: give its last layer 1 output',
    );
    // A regressor on a column of classes.
    const classes =
      'a,b,c,kind\n' + Array.from({ length: 20 }, (_, i) => `${i},1,2,k${i % 2}`).join('\n');
    expect(() =>
      csvTrainingSets(regressorJSON(3), { name: 'kinds.csv', text: classes }, 0),
    ).toThrow(/'kind' holds classes \(k0, k1\), but the model's label input 'y' takes numbers/);
    // A regressor on a built-in set of classes.
    expect(() => new TrainSession(regressorJSON(2), 'spiral', config, { lanes: null })).toThrow(
      "this model's label input 'y' takes numbers (f32), so it predicts a number (a regression), " +
        "but the 'spiral' data set has class labels",
    );
  });
});

describe('a model that learns without labels (an autoencoder)', () => {
  it('trains on the data alone: the reconstruction loss falls, validation reports loss only', () => {
    // 2-D points reconstructed through a 1-D code on the line they lie near: a tiny autoencoder.
    const b = new GraphBuilder('Line autoencoder');
    const x = b.input('x', [-1, 2], 'f32', 'data');
    const code = b.linear(b.op('tanh', [b.linear(x, 2, 8, 'enc')], {}, 'h'), 8, 1, 'code');
    const recon = b.linear(b.op('tanh', [b.linear(code, 1, 8, 'dec')], {}, 'g'), 8, 2, 'out');
    b.output('reconstruction', recon);
    b.output('loss', b.op('mseLoss', [recon, x], {}, 'loss'));
    const session = new TrainSession(
      b.toJSON(),
      'moons',
      { ...config, epochs: 20 },
      { lanes: null },
    );
    expect(session.task).toBe('reconstruction');
    session.step();
    const first = session.progress('paused');
    expect(first.task).toBe('reconstruction');
    expect(first.accuracy).toBeNull();
    while (!session.done) session.step();
    const last = session.progress('done');
    expect(last.loss!).toBeLessThan(first.loss! / 3);
    expect(last.validation!.loss).toBeLessThan(first.loss! / 3);
    expect(Number.isNaN(last.validation!.accuracy)).toBe(true);
    expect(last.validation!.r2).toBeUndefined();
    // 2-D points, but no classes: no decision boundary or confusion matrix.
    expect(last.boundary).toBeUndefined();
    expect(last.confusion).toBeUndefined();
    // Every edge of the model gets a gradient, as for a classifier.
    expect(last.edges.filter((e) => e.norm !== null).length).toBeGreaterThan(10);
    session.dispose();
  });

  it('trains on CPU lanes with the same losses as on one thread', async () => {
    const pool = await startNodeLanes({ lanes: 2 });
    try {
      const lanes: LaneSource = { pool: () => Promise.resolve(pool), note: null };
      const graph = autoencoderJSON();
      const losses = async (session: TrainSession): Promise<number[]> => {
        const out: number[] = [];
        for (let k = 0; k < 6; k++) {
          await session.queueStep(k % 3 === 0);
          out.push(session.progress('paused').loss!);
        }
        session.dispose();
        return out;
      };
      // Patterned "images" with labels the model never reads.
      const sets = () => {
        const train = wgTensor(
          Float32Array.from({ length: 200 * 784 }, (_, i) => ((i * 7) % 13) / 13),
          [200, 784],
        );
        const validation = wgTensor(
          Float32Array.from({ length: 40 * 784 }, (_, i) => ((i * 5) % 11) / 11),
          [40, 784],
        );
        const labels = (n: number) => tensor(new Int32Array(n), { shape: [n], dtype: 'i32' });
        return {
          train: { x: train, y: labels(200), classes: 10 },
          validation: { x: validation, y: labels(40), classes: 10 },
        };
      };
      const lanesConfig = { ...config, lanes: 2 };
      const one = new TrainSession(graph, 'mnist', lanesConfig, {
        data: sets(),
        lanes: null,
      });
      const two = new TrainSession(graph, 'mnist', lanesConfig, {
        data: sets(),
        lanes,
      });
      expect(two.asynchronous).toBe(true);
      const a = await losses(one);
      const b = await losses(two);
      expect(b).toEqual(a);
      expect(a.at(-1)!).toBeLessThan(a[0]!);
    } finally {
      await pool.close();
    }
  });

  it('trains on the MNIST digits through the engine protocol', async () => {
    const bytes = await digitsAsset();
    const file = bytes.buffer.slice(
      bytes.byteOffset,
      bytes.byteOffset + bytes.byteLength,
    ) as ArrayBuffer;
    const client = digitsClient(file);
    const steps: number[] = [];
    client.onTrainProgress((p) => {
      if (p.loss !== null) steps.push(p.loss);
    });
    const { progress: paused } = await client.startTraining(
      autoencoderJSON(),
      'mnist',
      { ...config, lr: 0.002, batchSize: 64, epochs: 3 },
      { paused: true, validateEvery: 40 },
    );
    expect(paused.task).toBe('reconstruction');
    // "Try the model" answers with the reconstruction of a digit, closer once trained.
    const digit = parseDigits(file).validation.pixels.slice(0, 784);
    const error = async (): Promise<number> => {
      const answer = await client.predict(digit, 1);
      expect(answer.classes).toBe(0);
      expect(answer.reconstruction).toHaveLength(784);
      return answer.reconstruction!.reduce((a, v, i) => a + (v - digit[i]!) ** 2, 0) / 784;
    };
    const before = await error();
    const done = waitFor(client, (p) => p.step >= 80 && p.status === 'paused');
    for (let k = 0; k < 80; k++) await client.controlTraining('train/step');
    const last = await done;
    expect(await error()).toBeLessThan(before * 0.5);
    expect(last.accuracy).toBeNull();
    expect(last.confusion).toBeUndefined();
    expect(last.validation?.step).toBe(80);
    expect(last.loss!).toBeLessThan(steps[0]! * 0.6);
    // Its weights save and load like a classifier's: a session started from them validates
    // to the same loss.
    const weights = await client.saveWeights(autoencoderJSON(), 80);
    const { progress: loaded } = await client.startTraining(
      autoencoderJSON(),
      'mnist',
      { ...config, batchSize: 64 },
      { paused: true, weights },
    );
    expect(loaded.step).toBe(0);
    expect(loaded.validation!.loss).toBeCloseTo(last.validation!.loss, 5);
    client.close();
  });

  it('says what to change when its output cannot reconstruct its input', () => {
    const b = new GraphBuilder('Narrow');
    const x = b.input('x', [-1, 2], 'f32', 'data');
    const out = b.linear(x, 2, 3, 'out');
    b.output('reconstruction', out);
    b.output('loss', b.op('sum', [out], { axes: [0, 1], keepDims: false }, 'loss'));
    expect(() => new TrainSession(b.toJSON(), 'moons', config, { lanes: null })).toThrow(
      "this model learns without labels, so its output 'reconstruction' should reconstruct its " +
        "input 'x': it has 3 values per example but the input has 2; give its last layer 2 outputs",
    );
  });
});

import { describe, expect, it } from 'vitest';
import type { TrainProgress } from '../../engine/protocol/messages.js';
import { createInProcessEngineClient } from '../../engine/worker/in-process.js';
import type { EditorDocument } from './document.js';
import { TEMPLATES, TemplateBuilder } from './templates.js';
import { Training, trainingProblem, trainingTask } from './training.js';

const template = (name: string): EditorDocument => TEMPLATES.find((t) => t.name === name)!.build();

/** A regressor on three features: label f32 [N, 1], MSE loss. */
function regressor(): EditorDocument {
  const b = new TemplateBuilder('Regressor');
  const x = b.input('x', [-1, 3], 'f32', 'data');
  const y = b.input('y', [-1, 1], 'f32', 'label');
  const h = b.op('relu', [b.linear(x, 3, 16, 'fc1')], {}, 'relu1');
  const out = b.linear(h, 16, 1, 'head');
  b.output('output', out);
  b.output('loss', b.op('mseLoss', [out, y], {}, 'loss'));
  return b.toDocument({});
}

/** A small autoencoder of 2-D points through a 1-D code (trains on the moons). */
function pointAutoencoder(): EditorDocument {
  const b = new TemplateBuilder('Point autoencoder');
  const x = b.input('x', [-1, 2], 'f32', 'data');
  const h = b.op('tanh', [b.linear(x, 2, 8, 'enc')], {}, 'h');
  const g = b.op('tanh', [b.linear(b.linear(h, 8, 1, 'code'), 1, 8, 'dec')], {}, 'g');
  const recon = b.linear(g, 8, 2, 'out');
  b.output('reconstruction', recon);
  b.output('loss', b.op('mseLoss', [recon, x], {}, 'loss'));
  return b.toDocument({});
}

/** y = 2a − b + 3c + 100, with a little noise. */
function linearCsv(rows: number): string {
  let seed = 5;
  const rand = (): number => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31 - 0.5;
  };
  const lines = ['a,b,c,target'];
  for (let i = 0; i < rows; i++) {
    const [a, b, c] = [rand() * 4, rand() * 4, rand() * 4];
    lines.push(`${a},${b},${c},${2 * a - b + 3 * c + 100 + rand() * 0.2}`);
  }
  return lines.join('\n');
}

/** A Training on `doc` whose frames run at once; `until` waits for a streamed progress. */
function harness(doc: EditorDocument) {
  const client = createInProcessEngineClient();
  const training = new Training({
    client,
    document: () => doc,
    schedule: (task) => task(),
    minIntervalMs: 0,
  });
  const until = (done: (p: TrainProgress) => boolean): Promise<TrainProgress> =>
    new Promise((resolve) => {
      const off = client.onTrainProgress((p) => {
        if (done(p)) {
          off();
          resolve(p);
        }
      });
    });
  return { client, training, until };
}

describe('what a document learns', () => {
  it('tells classifiers, regressions and models without labels apart', () => {
    expect(trainingTask(template('mlp'))).toBe('classification');
    expect(trainingTask(regressor())).toBe('regression');
    expect(trainingTask(template('autoencoder'))).toBe('reconstruction');
    expect(trainingProblem(regressor())).toBeNull();
    expect(trainingProblem(template('autoencoder'))).toBeNull();
  });

  it('says what a model without labels lacks when its loss is its only output', () => {
    const doc = template('autoencoder');
    const lossOnly = {
      ...doc,
      graph: { ...doc.graph, outputs: doc.graph.outputs.filter((o) => o.name === 'loss') },
    };
    expect(trainingProblem(lossOnly)).toMatch(/learns without labels, but 'loss' is its only/);
    // Not a model to reconstruct with: shown like a classifier that is not ready.
    expect(trainingTask(lossOnly)).toBe('classification');
  });
});

describe('training other tasks than classification in the app', () => {
  it('trains a regression on an uploaded CSV: RMSE and R², never an accuracy', async () => {
    const { client, training, until } = harness(regressor());
    training.setForm({
      source: 'csv',
      csv: { name: 'linear.csv', text: linearCsv(300) },
      epochs: 20,
      batchSize: 32,
      lr: 0.01,
    });
    const done = until((p) => p.status === 'done');
    await training.start();
    await done;
    await new Promise((resolve) => setTimeout(resolve, 0));
    const s = training.store.getState();
    expect(s.error).toBeNull();
    expect(s.progress?.task).toBe('regression');
    expect(s.progress?.accuracy).toBeNull();
    expect(s.train.length).toBeGreaterThan(2);
    expect(s.train.every((p) => Number.isNaN(p.accuracy))).toBe(true);
    expect(s.train.at(-1)!.loss).toBeLessThan(s.train[0]!.loss / 5);
    expect(s.progress?.validation?.r2).toBeGreaterThan(0.8);
    expect(s.confusion).toBeNull();
    expect(s.boundary).toBeNull();
    client.close();
  });

  it('says to use an MSE loss when a classifier is started on a target of numbers', async () => {
    const { client, training } = harness(template('mlp'));
    training.setForm({ source: 'csv', csv: { name: 'linear.csv', text: linearCsv(50) } });
    await training.start();
    expect(training.store.getState().error).toMatch(
      /'target' holds numbers \(a regression\), but the model is a classifier.*MSE loss/,
    );
    client.close();
  });

  it('trains a model without labels on the data alone: the loss falls, no accuracy', async () => {
    const { client, training, until } = harness(pointAutoencoder());
    training.setForm({ dataset: 'moons', epochs: 15, lr: 0.02 });
    const done = until((p) => p.status === 'done');
    await training.start();
    await done;
    await new Promise((resolve) => setTimeout(resolve, 0));
    const s = training.store.getState();
    expect(s.error).toBeNull();
    expect(s.progress?.task).toBe('reconstruction');
    expect(s.progress?.accuracy).toBeNull();
    expect(s.train.at(-1)!.loss).toBeLessThan(s.train[0]!.loss / 3);
    expect(s.validation.at(-1)!.loss).toBeLessThan(s.train[0]!.loss / 3);
    expect(s.grads.size).toBeGreaterThan(0);
    // Trying the model gives back its reconstruction of the points asked about.
    const answer = await training.predict(new Float32Array([0.5, 0.25, -1, 0.5]), 2);
    expect(answer.reconstruction).toHaveLength(4);
    client.close();
  });
});

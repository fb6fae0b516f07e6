/**
 * The "Regression: fit a curve" template: the model the engine's GraphBuilder builds (as
 * examples/mlp-sine.json, which the worker's tests train, holds it), a regression the Train panel
 * opens on the `sine` set with the template's own settings, and it fits the curve: R² far above 0.9 and a fitted curve in the
 * store that follows the data.
 */

import { describe, expect, it } from 'vitest';
import type { TrainProgress } from '../../engine/protocol/messages.js';
import { checkDraftGraph } from '../../engine/worker/check-graph.js';
import { createInProcessEngineClient } from '../../engine/worker/in-process.js';
import { GraphBuilder } from '../../engine/graph/builder.js';
import type { EditorDocument } from './document.js';
import { REGRESSION_TRAINING, TEMPLATES } from './templates.js';
import {
  DEFAULT_FORM,
  Training,
  datasetForModel,
  formSettingsOf,
  trainingProblem,
  trainingTask,
} from './training.js';

/** The template's model built with GraphBuilder (as examples/make-graphs.ts writes mlp-sine.json). */
function curveFitJSON() {
  const b = new GraphBuilder('Regression: fit a curve');
  const x = b.input('x', [-1, 1], 'f32', 'data');
  const y = b.input('y', [-1, 1], 'f32', 'label');
  let h = b.op('tanh', [b.linear(x, 1, 32, 'fc1')], {}, 'tanh1');
  h = b.op('tanh', [b.linear(h, 32, 32, 'fc2')], {}, 'tanh2');
  const out = b.linear(h, 32, 1, 'fc3');
  b.output('output', out);
  b.output('loss', b.op('mseLoss', [out, y], {}, 'loss'));
  return b.toJSON();
}

const template = (name: string): EditorDocument => TEMPLATES.find((t) => t.name === name)!.build();

function harness(doc: () => EditorDocument) {
  const client = createInProcessEngineClient();
  const training = new Training({
    client,
    document: doc,
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

describe('the Regression: fit a curve template', () => {
  it('is the 1 → 32 → 32 → 1 Tanh MLP with an MSE loss that GraphBuilder builds', () => {
    const { graph } = template('regression');
    const built = curveFitJSON();
    expect(graph.nodes).toEqual(built.nodes);
    expect(graph.outputs).toEqual(built.outputs);
    expect(graph.name).toBe('Regression: fit a curve');
    const { shapes, diagnostics } = checkDraftGraph(graph);
    expect(diagnostics).toEqual([]);
    expect(shapes.x?.shape).toEqual(['N', 1]);
    expect(shapes.fc1?.shape).toEqual(['N', 32]);
    expect(shapes.tanh2?.shape).toEqual(['N', 32]);
    expect(shapes.fc3?.shape).toEqual(['N', 1]);
    expect(shapes.loss?.shape).toEqual([]);
    expect(graph.nodes.find((n) => n.id === 'y')?.attrs).toMatchObject({
      dtype: 'f32',
      shape: [-1, 1],
      role: 'label',
    });
  });

  it('is a regression the Train panel opens on the sine set with the template’s settings', () => {
    const doc = template('regression');
    expect(trainingProblem(doc)).toBeNull();
    expect(trainingTask(doc)).toBe('regression');
    expect(datasetForModel(doc, 'spiral')).toBe('sine');
    expect(datasetForModel(doc, 'mnist')).toBe('sine');
    expect(datasetForModel(doc, 'sine')).toBeNull();
    // Back to a 2-D classifier: the points it classifies.
    expect(datasetForModel(template('mlp'), 'sine')).toBe('spiral');
    expect(formSettingsOf(doc)).toEqual({
      epochs: REGRESSION_TRAINING.epochs,
      batchSize: REGRESSION_TRAINING.batchSize,
      optimizer: 'adam',
      lr: REGRESSION_TRAINING.optimizer.lr,
    });

    let current = template('mlp');
    const { client, training } = harness(() => current);
    training.setForm({ epochs: 3, lr: 0.5, optimizer: 'sgd' });
    training.fitDatasetToModel();
    expect(training.store.getState().form.dataset).toBe(DEFAULT_FORM.dataset);
    current = doc;
    training.fitDatasetToModel();
    const form = training.store.getState().form;
    expect(form).toMatchObject({ dataset: 'sine', epochs: 100, lr: 0.01, optimizer: 'adam' });
    // Once on the set, the user's own changes stay.
    training.setForm({ epochs: 7 });
    training.fitDatasetToModel();
    expect(training.store.getState().form.epochs).toBe(7);
    client.close();
  });

  it('fits the sine curve: the loss falls, val R² passes 0.9, the curve follows the data', async () => {
    const doc = template('regression');
    const { client, training, until } = harness(() => doc);
    training.fitDatasetToModel();
    const done = until((p) => p.status === 'done');
    await training.start();
    await done;
    await new Promise((resolve) => setTimeout(resolve, 0));
    const s = training.store.getState();
    expect(s.error).toBeNull();
    expect(s.progress?.task).toBe('regression');
    expect(s.progress?.step).toBe(100 * 10);
    expect(s.train.at(-1)!.loss).toBeLessThan(s.train[0]!.loss / 4);
    expect(s.progress?.validation?.r2).toBeGreaterThan(0.9);
    expect(s.boundary).toBeNull();
    const curve = s.curve!;
    expect(curve).not.toBeNull();
    expect(curve.step).toBe(s.progress?.step);
    // The fitted curve is close to sin(x) over the data's range.
    let worst = 0;
    curve.xs.forEach((x, i) => {
      if (Math.abs(x) <= 2.8) worst = Math.max(worst, Math.abs(curve.predicted[i]! - Math.sin(x)));
    });
    expect(worst).toBeLessThan(0.2);
    client.close();
  });
});

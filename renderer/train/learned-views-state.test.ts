import { describe, expect, it } from 'vitest';
import { createInProcessEngineClient } from '../../engine/worker/in-process.js';
import { TEMPLATES } from '../state/templates.js';
import { Training } from '../state/training.js';

const mlp = () => TEMPLATES.find((t) => t.name === 'mlp')!.build();

/** A Training on the in-process engine whose frames run when `flush` is called. */
function harness() {
  const client = createInProcessEngineClient();
  const frames: (() => void)[] = [];
  const training = new Training({
    client,
    document: mlp,
    schedule: (task) => frames.push(task),
    minIntervalMs: 0,
  });
  const flush = (): void => {
    for (const task of frames.splice(0)) task();
  };
  return { client, training, flush };
}

describe('the decision boundary and confusion matrix in the training store', () => {
  it('keeps the newest boundary of a burst, even when the last message has none', async () => {
    const { client, training, flush } = harness();
    await training.step(); // starts a paused session (with views of the initial weights), steps
    await training.pause(); // answered without new views: the weights did not change
    flush();
    const s = training.store.getState();
    expect(s.progress!.step).toBe(1);
    expect(s.progress!.boundary).toBeUndefined();
    // The boundary of step 1 came with the step's progress and survived the later message.
    expect(s.boundary!.step).toBe(1);
    expect(s.boundary!.predicted.length).toBe(s.boundary!.size ** 2);
    expect(s.confusion!.total).toBe(75);
    client.close();
  });

  it('starts again without views, and refreshes them on request', async () => {
    const { client, training, flush } = harness();
    await training.step();
    flush();
    const before = training.store.getState().boundary!.version;
    await training.refreshViews();
    flush();
    expect(training.store.getState().boundary!.version).toBe(before);
    expect(training.store.getState().confusion!.step).toBe(1);
    training.setForm({ dataset: 'xor' });
    const started = training.start({ paused: true });
    expect(training.store.getState().boundary).toBeNull();
    expect(training.store.getState().confusion).toBeNull();
    await started;
    flush();
    expect(training.store.getState().boundary!.step).toBe(0);
    client.close();
  });

  it('answers predictions with the current weights, or says there are none yet', async () => {
    const { client, training } = harness();
    await expect(training.predict(Float32Array.from([0, 0]), 1)).rejects.toThrow(
      /Train the model first/,
    );
    await training.step();
    const { classes, probabilities } = await training.predict(Float32Array.from([0.3, -0.4]), 1);
    expect(classes).toBe(3);
    expect(probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    await expect(training.predict(new Float32Array(3), 1)).rejects.toThrow(
      /^the model's data input takes 2 values/,
    );
    client.close();
  });
});

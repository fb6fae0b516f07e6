import { describe, expect, it } from 'vitest';
import type { EngineClient } from '../../engine/protocol/client.js';
import type { TrainProgress } from '../../engine/protocol/messages.js';
import { createInProcessEngineClient } from '../../engine/worker/in-process.js';
import { emptyDocument } from './document.js';
import { TEMPLATES } from './templates.js';
import { DATASET_NAMES, Training, datasetLabel, edgeKey, trainingProblem } from './training.js';
import { classifyGrad, formatNorm, gradPosition } from '../train/grad-scale.js';

const mlp = () => TEMPLATES.find((t) => t.name === 'mlp')!.build();

/** A Training whose frame callbacks run when `flush` is called, as a browser's frames would. */
function harness() {
  const client = createInProcessEngineClient();
  const frames: (() => void)[] = [];
  const training = new Training({
    client,
    document: mlp,
    schedule: (task) => frames.push(task),
    minIntervalMs: 0,
  });
  const flush = (): number => {
    const n = frames.length;
    for (const task of frames.splice(0)) task();
    return n;
  };
  /** Resolves once a streamed progress satisfies `done`. */
  const until = (done: (p: TrainProgress) => boolean): Promise<void> =>
    new Promise((resolve) => {
      const off = client.onTrainProgress((p) => {
        if (done(p)) {
          off();
          resolve();
        }
      });
    });
  return { client, training, flush, until };
}

describe('the app’s training session', () => {
  it('says what a document lacks to be trained, and accepts the MLP template', () => {
    expect(trainingProblem(mlp())).toBeNull();
    const problem = trainingProblem(emptyDocument());
    expect(problem).toMatch(/role 'data'/);
    expect(problem).toMatch(/role 'label'/);
    expect(problem).toMatch(/output named 'loss'/);
    expect(problem).toMatch(/output named 'logits'/);
    // The autoencoder template learns without labels: it trains as it is (training-tasks.test.ts).
    const autoencoder = TEMPLATES.find((t) => t.name === 'autoencoder')!.build();
    expect(trainingProblem(autoencoder)).toBeNull();
  });

  it('shows the first lanes timeline at once, and later ones at most every 500 ms', async () => {
    let listener: ((p: TrainProgress, session: number) => void) | null = null;
    let clock = 0;
    const frames: (() => void)[] = [];
    const base = {
      step: 0,
      status: 'running',
      edges: [],
      timeline: [],
    } as unknown as TrainProgress;
    const client = {
      onTrainProgress: (l: (p: TrainProgress, session: number) => void) => {
        listener = l;
        return () => undefined;
      },
      startTraining: () => Promise.resolve({ session: 1, progress: base }),
    } as unknown as EngineClient;
    const training = new Training({
      client,
      document: mlp,
      schedule: (task) => frames.push(task),
      minIntervalMs: 0,
      now: () => clock,
    });
    const flush = (): void => {
      for (const task of frames.splice(0)) task();
    };
    await training.start();
    flush();
    const bar = (node: string) => ({
      node,
      op: 'matmul',
      lane: 0,
      device: 'cpu',
      start: 0,
      end: 1,
      phase: 'forward' as const,
    });
    const progress = (step: number, node: string): TrainProgress =>
      ({ ...base, step, timeline: [bar(node)] }) as TrainProgress;
    clock = 10;
    listener!(progress(1, 'first'), 1);
    flush();
    expect(training.store.getState().timeline.map((e) => e.node)).toEqual(['first']);
    clock = 100;
    listener!(progress(2, 'second'), 1);
    flush();
    expect(training.store.getState().timeline.map((e) => e.node)).toEqual(['first']);
    clock = 700;
    listener!(progress(3, 'third'), 1);
    flush();
    expect(training.store.getState().timeline.map((e) => e.node)).toEqual(['third']);
  });

  it('starts afresh when another model replaces the canvas’s: the old session stops', async () => {
    const { client, training, flush } = harness();
    await training.step();
    await training.step();
    flush();
    expect(training.store.getState().progress?.step).toBe(2);
    training.detach();
    const s = training.store.getState();
    expect(s.progress).toBeNull();
    expect(s.train).toEqual([]);
    expect(s.grads.size).toBe(0);
    expect(s.weights).toBeNull();
    // Nothing to save for the new model, and the old session was stopped in the worker.
    expect(await training.weightsForSave()).toBeNull();
    await expect(client.controlTraining('train/step')).rejects.toThrow(
      /training is complete|stopped|no training/i,
    );
    // A step starts a new session from step 0.
    await training.step();
    flush();
    expect(training.store.getState().progress?.step).toBe(1);
  });

  it('steps exactly once from paused, and folds a burst of progress into one frame', async () => {
    const { client, training, flush, until } = harness();
    await training.step(); // no session yet: starts one paused, then steps
    expect(flush()).toBe(1);
    let s = training.store.getState();
    expect(s.progress!.status).toBe('paused');
    expect(s.progress!.step).toBe(1);
    expect(s.train).toEqual([{ step: 1, loss: s.progress!.loss, accuracy: s.progress!.accuracy }]);
    // Every forward edge of the graph is keyed by its target and port.
    expect(s.grads.get(edgeKey('fc3', 0))).toBeGreaterThan(0);
    // No gradient flows into the data: its edge is there, with null.
    const fromData = s.progress!.edges.filter((e) => e.from === 'x');
    expect(fromData.length).toBe(1);
    expect(s.grads.get(edgeKey(fromData[0]!.to, fromData[0]!.port))).toBeNull();
    expect(s.grads.has(edgeKey(fromData[0]!.to, fromData[0]!.port))).toBe(true);

    await training.step();
    await training.step();
    // Two answers, one frame: the store moves once, to the newest.
    expect(flush()).toBe(1);
    s = training.store.getState();
    expect(s.progress!.step).toBe(3);
    expect(s.train.map((p) => p.step)).toEqual([1, 2, 3]);

    const running = until((p) => p.step >= 30);
    await training.resume();
    await running;
    await training.pause();
    flush();
    s = training.store.getState();
    expect(s.progress!.status).toBe('paused');
    expect(s.train.length).toBeGreaterThan(3);
    expect(s.train.at(-1)!.step).toBe(s.progress!.step);

    await training.reset();
    flush();
    s = training.store.getState();
    expect(s.progress!.step).toBe(0);
    expect(s.train).toEqual([]);
    await training.stop();
    flush();
    expect(training.store.getState().progress!.status).toBe('stopped');
    client.close();
  });

  it('refuses to start a document that is not a training graph, saying why', async () => {
    const client = createInProcessEngineClient();
    const training = new Training({ client, document: emptyDocument, schedule: (t) => t() });
    await training.start();
    expect(training.store.getState().error).toMatch(/cannot be trained yet/);
    expect(training.store.getState().progress).toBeNull();
    client.close();
  });

  it('updates the store at most every minIntervalMs while progress streams', async () => {
    const client = createInProcessEngineClient();
    let clock = 0;
    const frames: (() => void)[] = [];
    const training = new Training({
      client,
      document: mlp,
      schedule: (task) => frames.push(task),
      minIntervalMs: 100,
      now: () => clock,
    });
    const updates: number[] = [];
    training.store.subscribe((s) => updates.push(s.progress?.step ?? -1));
    await training.start({ paused: true });
    frames.splice(0).forEach((t) => t());
    expect(updates).toEqual([-1, 0]);
    // Step: its streamed progress, 10 ms after the last update, would wait out the interval,
    // but the answer to the user's own step shows on the next frame.
    clock = 10;
    await training.step();
    expect(frames.length).toBe(1);
    frames.splice(0).forEach((t) => t());
    expect(updates.at(-1)).toBe(1);
    client.close();
  });
});

describe('the gradient scale', () => {
  it('flags vanishing, exploding and NaN norms and places the rest on a log scale', () => {
    expect(classifyGrad(null)).toBe('none');
    expect(classifyGrad(NaN)).toBe('nan');
    expect(classifyGrad(Infinity)).toBe('nan');
    expect(classifyGrad(1e-8)).toBe('vanishing');
    expect(classifyGrad(2e3)).toBe('exploding');
    expect(classifyGrad(0.5)).toBe('ok');
    // 1e-7 .. 1e3 is ten decades: 1e-2 sits half way.
    expect(gradPosition(1e-2)).toBeCloseTo(0.5, 12);
    expect(gradPosition(1e-7)).toBeCloseTo(0, 12);
    expect(gradPosition(1e5)).toBe(1);
    expect(formatNorm(0.012345)).toBe('0.0123');
    expect(formatNorm(3.2e-6)).toBe('3.20e-6');
    expect(formatNorm(NaN)).toBe('NaN');
  });
});

describe('the data set menus', () => {
  it('name each built-in set, saying which one is a regression', () => {
    expect(DATASET_NAMES.map(datasetLabel)).toEqual([
      'spiral',
      'moons',
      'circles',
      'xor',
      'gaussians',
      'sine (regression)',
      'mnist digits',
    ]);
  });
});

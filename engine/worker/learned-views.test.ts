import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { digitsAsset } from '../../scripts/build-digits.mjs';
import type { GraphJSON } from '../graph/ir.js';
import { EngineClient, type EngineTransport } from '../protocol/client.js';
import type {
  EngineRequest,
  EngineResponse,
  TrainProgress,
  TrainSessionConfig,
} from '../protocol/messages.js';
import { type AssetLoader, DIGITS_FILE, fetchAsset, parseDigits } from './digits.js';
import { Graph } from '../graph/graph.js';
import { BOUNDARY_MS, COST_FACTOR, GRID_SIZE, LearnedViews } from './learned-views.js';
import { makeDataset } from './train-session.js';
import { createEngineServer } from './server.js';

const example = (name: string): GraphJSON =>
  JSON.parse(readFileSync(new URL(`../../examples/${name}`, import.meta.url), 'utf8')) as GraphJSON;

const config: TrainSessionConfig = {
  optimizer: 'adam',
  lr: 0.01,
  batchSize: 32,
  epochs: 5,
  seed: 0,
};

const realAsset: AssetLoader = async (name) => {
  expect(name).toBe(DIGITS_FILE);
  const bytes = await digitsAsset();
  return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
};

let clients: EngineClient[] = [];
afterEach(() => {
  for (const c of clients) c.close();
  clients = [];
});

/** A client over the worker's server in this thread, with messages cloned as postMessage does. */
function client(loadAsset: AssetLoader = realAsset): EngineClient {
  let listener: ((response: EngineResponse) => void) | null = null;
  let closed = false;
  const server = createEngineServer(
    (response) => {
      const copy = structuredClone(response);
      setTimeout(() => !closed && listener?.(copy), 0);
    },
    undefined,
    { loadAsset },
  );
  const transport: EngineTransport = {
    post: (request: EngineRequest) => {
      const copy = structuredClone(request);
      setTimeout(() => !closed && server.receive(copy), 0);
    },
    listen: (handler) => (listener = handler),
    onFailure: () => undefined,
    close: () => (closed = true),
  };
  const c = new EngineClient(transport);
  clients.push(c);
  return c;
}

const sum = (values: ArrayLike<number>): number => Array.from(values).reduce((a, b) => a + b, 0);

describe('decision boundary and confusion matrix over the protocol', () => {
  it('comes with the start, follows the weights, and counts the whole validation split', async () => {
    const c = client();
    const { progress } = await c.startTraining(example('mlp-spiral.json'), 'spiral', config, {
      paused: true,
    });
    const first = progress.boundary!;
    expect(first.size).toBe(GRID_SIZE);
    expect(first.classes).toBe(3);
    expect(first.predicted.length).toBe(GRID_SIZE * GRID_SIZE);
    expect(first.points.length).toBe(2 * 300);
    expect(first.labels.length).toBe(300);
    // Every training point lies inside the grid.
    for (let i = 0; i < 300; i++) {
      expect(first.points[2 * i]!).toBeGreaterThan(first.bounds.xMin);
      expect(first.points[2 * i]!).toBeLessThan(first.bounds.xMax);
    }
    const confusion = progress.confusion!;
    expect(confusion.classes).toBe(3);
    expect(confusion.total).toBe(75);
    expect(sum(confusion.counts)).toBe(75);

    // A boundary comes once per change of the weights, with whichever message goes first (the
    // streamed progress or the answer): keep the newest of both.
    let later = first;
    const keep = (p: TrainProgress): void => {
      if (p.boundary && p.boundary.version > later.version) later = p.boundary;
    };
    c.onTrainProgress(keep);
    // Twenty steps later the boundary has moved.
    for (let i = 0; i < 20; i++) keep(await c.controlTraining('train/step'));
    expect(later.version).toBeGreaterThan(first.version);
    let changed = 0;
    for (let i = 0; i < later.predicted.length; i++)
      if (later.predicted[i] !== first.predicted[i] || later.confidence[i] !== first.confidence[i])
        changed++;
    expect(changed).toBeGreaterThan(100);

    // Asked again without a step: nothing new unless forced.
    const status = await c.controlTraining('train/pause');
    expect(status.boundary).toBeUndefined();
    const refreshed = await c.refreshTrainingViews();
    expect(refreshed.boundary!.version).toBe(later.version);
    expect(sum(refreshed.confusion!.counts)).toBe(75);
  });

  it('predicts class probabilities that sum to 1, also after the session stopped', async () => {
    const c = client();
    await c.startTraining(example('mlp-spiral.json'), 'spiral', config, { paused: true });
    for (let i = 0; i < 5; i++) await c.controlTraining('train/step');
    const { classes, probabilities } = await c.predict(Float32Array.from([0.5, -0.2, 0, 1]), 2);
    expect(classes).toBe(3);
    expect(probabilities.length).toBe(6);
    expect(sum(probabilities.subarray(0, 3))).toBeCloseTo(1, 5);
    expect(sum(probabilities.subarray(3))).toBeCloseTo(1, 5);
    await c.controlTraining('train/stop');
    const again = await c.predict(Float32Array.from([0.5, -0.2]), 1);
    expect([...again.probabilities]).toEqual([...probabilities.subarray(0, 3)]);
    await expect(c.predict(new Float32Array(784), 1)).rejects.toThrow(/takes 2 values per example/);
  });
});

describe('MNIST digits', () => {
  it('parses the asset the build writes: 2,000 training and 500 validation images', async () => {
    const digits = parseDigits(await realAsset(DIGITS_FILE));
    expect(digits.rows).toBe(28);
    expect(digits.train.count).toBe(2000);
    expect(digits.validation.count).toBe(500);
    // Every digit appears equally often, pixels are in 0..1 and not blank.
    const perDigit = new Array<number>(10).fill(0);
    for (const l of digits.train.labels) perDigit[l]!++;
    expect(perDigit).toEqual(new Array<number>(10).fill(200));
    expect(Math.max(...digits.train.pixels.subarray(0, 784))).toBe(1);
    expect(digits.train.pixels.every((v) => v >= 0 && v <= 1)).toBe(true);
  });

  it('refuses a file of another kind, saying so', () => {
    expect(() => parseDigits(new Uint8Array(100).buffer)).toThrow(/not a digits file/);
  });

  it('trains the CNN on the digits and predicts 10 probabilities for a drawing', async () => {
    const c = client();
    const { progress } = await c.startTraining(example('cnn-mnist.json'), 'mnist', config, {
      paused: true,
    });
    expect(progress.totalSteps).toBe(5 * Math.ceil(2000 / 32));
    expect(progress.boundary).toBeUndefined();
    expect(progress.confusion!.classes).toBe(10);
    expect(progress.confusion!.total).toBe(500);
    expect(sum(progress.confusion!.counts)).toBe(500);
    const stepped = await c.controlTraining('train/step');
    expect(stepped.step).toBe(1);
    expect(Number.isFinite(stepped.loss)).toBe(true);
    const image = new Float32Array(784);
    for (let r = 6; r < 22; r++) image[r * 28 + 14] = 1; // a vertical stroke: a "1"
    const { classes, probabilities } = await c.predict(image, 1);
    expect(classes).toBe(10);
    expect(sum(probabilities)).toBeCloseTo(1, 5);
  });

  it('feeds the same digits, flat, to a model whose data input is [N, 784]', async () => {
    const c = client();
    await c.startTraining(example('mlp-mnist.json'), 'mnist', config, { paused: true });
    const first = await c.controlTraining('train/step');
    let last = first;
    for (let i = 0; i < 10; i++) last = await c.controlTraining('train/step');
    expect(last.step).toBe(11);
    expect(last.loss!).toBeLessThan(first.loss!);
    const { classes, probabilities } = await c.predict(new Float32Array(784), 1);
    expect(classes).toBe(10);
    expect(sum(probabilities)).toBeCloseTo(1, 5);
  });

  it('says what to do when the digits file is missing', async () => {
    // The worker fetches next to its own script; here the server answers 404.
    const asked: string[] = [];
    vi.stubGlobal('location', { href: 'http://app.test/engine-worker.js' });
    vi.stubGlobal('fetch', (url: URL) => {
      asked.push(String(url));
      return Promise.resolve(new Response('not found', { status: 404 }));
    });
    try {
      const c = client(fetchAsset);
      await expect(
        c.startTraining(example('cnn-mnist.json'), 'mnist', config, { paused: true }),
      ).rejects.toThrow(/^engine: The MNIST digits \(mnist-digits\.bin\) are missing .*HTTP 404/);
      expect(asked).toEqual(['http://app.test/mnist-digits.bin']);
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('refuses a model whose data input does not take 28×28 images', async () => {
    const c = client();
    await expect(
      c.startTraining(example('mlp-spiral.json'), 'mnist', config, { paused: true }),
    ).rejects.toThrow(/MNIST digits are 28×28 images/);
  });
});

describe('how often the views are computed', () => {
  /** Views over a real MLP and data set, with a clock and a step counter the test moves. */
  function views(cost = 0) {
    const graph = Graph.fromJSON(example('mlp-spiral.json'));
    const params = graph.initParameters();
    const state = { now: 1000, step: 0, validated: null as number | null };
    const learned = new LearnedViews({
      graph,
      params: () => params,
      stepCount: () => state.step,
      validationStep: () => state.validated,
      train: makeDataset('spiral', 90, 0),
      validation: makeDataset('spiral', 30, 1),
      // Each reading of the clock inside a computation advances it by `cost`.
      now: () => (state.now += cost),
    });
    return { learned, state };
  }

  it('sends a boundary once per change of the weights, throttled while running', () => {
    const { learned, state } = views();
    expect(learned.collect('paused').boundary).toBeDefined();
    expect(learned.collect('paused').boundary).toBeUndefined();
    state.step = 1;
    state.now += 10;
    // Running: too soon after the last one.
    expect(learned.collect('running').boundary).toBeUndefined();
    state.now += BOUNDARY_MS;
    expect(learned.collect('running').boundary?.step).toBe(1);
    // Paused (a single step from the UI): at once.
    state.step = 2;
    expect(learned.collect('paused').boundary?.step).toBe(2);
  });

  it('waits longer while running when a view is costly', () => {
    const { learned, state } = views(40); // every computation appears to take 40 ms
    learned.collect('paused');
    state.step = 1;
    state.now += BOUNDARY_MS + 100;
    expect(learned.collect('running').boundary).toBeUndefined();
    state.now += COST_FACTOR * 40;
    expect(learned.collect('running').boundary).toBeDefined();
  });

  it('counts the validation split after each validation while running', () => {
    const { learned, state } = views();
    expect(learned.collect('paused').confusion?.total).toBe(30);
    state.step = 5;
    state.now += 10_000;
    expect(learned.collect('running').confusion).toBeUndefined();
    state.validated = 5;
    expect(learned.collect('running').confusion?.step).toBe(5);
    learned.force();
    expect(learned.collect('running').confusion?.step).toBe(5);
  });
});

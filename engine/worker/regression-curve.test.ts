/**
 * The fitted curve of a 1-D regression: the curve-fitting template trains on the `sine` set
 * to a high R², and the curve the session sends is the model's own prediction along the data's
 * x range (checked against the MLP computed by hand from the session's weights), throttled like
 * the decision boundary. Models that are not 1-D regressions get no curve.
 */

import { describe, expect, it } from 'vitest';
import type { GraphJSON, NodeJSON } from '../graph/ir.js';
import type { TrainProgress, TrainSessionConfig } from '../protocol/messages.js';
import type { Tensor } from '../tensor.js';
import { exampleGraphJSON } from '../../test/helpers/examples.js';
import { spiralJSON } from '../../test/helpers/examples.js';
import { createInProcessEngineClient } from './in-process.js';
import { csvTrainingSets } from './csv-training.js';
import {
  CURVE_POINTS,
  curveBounds,
  curveXs,
  predictValues,
  scatterOf,
} from './regression-curve.js';
import { Graph } from '../graph/graph.js';
import { BOUNDARY_MS, LearnedViews } from './learned-views.js';
import { TrainSession, makeDataset } from './train-session.js';

/** The "Regression: fit a curve" template's model (examples/mlp-sine.json, node for node). */
const regressionGraph = (): GraphJSON => exampleGraphJSON('mlp-sine');

const config: TrainSessionConfig = {
  optimizer: 'adam',
  lr: 0.01,
  batchSize: 32,
  epochs: 100,
  seed: 0,
};

/** The template's MLP evaluated by hand: fc3(tanh(fc2(tanh(fc1(x))))). */
function byHand(params: ReadonlyMap<string, Tensor>, x: number | readonly number[]): number {
  const layer = (name: string, input: number[]): number[] => {
    const w = params.get(`${name}.weight`)!;
    const b = Array.from(params.get(`${name}.bias`)!.dataSync());
    const [out, inp] = w.shape as [number, number];
    const wv = w.dataSync();
    return Array.from({ length: out }, (_, o) => {
      let s = b[o]!;
      for (let i = 0; i < inp; i++) s += wv[o * inp + i]! * input[i]!;
      return s;
    });
  };
  const h1 = layer('fc1', typeof x === 'number' ? [x] : [...x]).map(Math.tanh);
  const h2 = layer('fc2', h1).map(Math.tanh);
  return layer('fc3', h2)[0]!;
}

describe('the fitted curve of a 1-D regression', () => {
  it('frames the points and spreads x evenly over the frame', () => {
    const b = curveBounds(Float32Array.from([0, 1, 10, -1, 5, 3]), 0.1);
    expect(b.xMin).toBeCloseTo(-1, 6);
    expect(b.xMax).toBeCloseTo(11, 6);
    expect(b.yMin).toBeCloseTo(-1.4, 6);
    expect(b.yMax).toBeCloseTo(3.4, 6);
    const xs = curveXs({ xMin: -2, xMax: 2, yMin: 0, yMax: 1 }, 5);
    expect(Array.from(xs)).toEqual([-2, -1, 0, 1, 2]);
    expect(curveBounds(new Float32Array(0))).toEqual({ xMin: -1, xMax: 1, yMin: -1, yMax: 1 });
  });

  it('the template learns sin(x) on the sine set: the loss falls and val R² passes 0.9', () => {
    const session = new TrainSession(regressionGraph(), 'sine', config, { viewIntervalMs: 1e9 });
    expect(session.task).toBe('regression');
    session.step();
    const first = session.progress('paused');
    for (let k = 0; k < 600; k++) session.step();
    session.validate();
    const later = session.progress('paused');
    expect(later.task).toBe('regression');
    expect(later.accuracy).toBeNull();
    expect(later.loss!).toBeLessThan(first.loss! / 4);
    expect(later.validation!.r2!).toBeGreaterThan(0.9);
    // The noise's std is 0.1, so a good fit's RMSE is about that.
    expect(later.validation!.rmse!).toBeLessThan(0.25);
    session.dispose();
  });

  it('sends the curve: the model’s prediction along x, with the training points', () => {
    const session = new TrainSession(regressionGraph(), 'sine', config);
    for (let k = 0; k < 20; k++) session.step();
    const curve = session.progress('paused').curve!;
    expect(curve.kind).toBe('curve');
    expect(session.progress('paused').boundary).toBeUndefined();
    expect(curve.step).toBe(20);
    expect(curve.xs).toHaveLength(CURVE_POINTS);
    expect(curve.predicted).toHaveLength(CURVE_POINTS);
    expect(curve.points).toHaveLength(2 * 300);
    // The frame holds every training point; x runs over it in order.
    for (let i = 0; i < curve.points.length; i += 2) {
      expect(curve.points[i]!).toBeGreaterThanOrEqual(curve.bounds.xMin);
      expect(curve.points[i]!).toBeLessThanOrEqual(curve.bounds.xMax);
      expect(curve.points[i + 1]!).toBeGreaterThanOrEqual(curve.bounds.yMin);
      expect(curve.points[i + 1]!).toBeLessThanOrEqual(curve.bounds.yMax);
    }
    expect(curve.xs[0]).toBeCloseTo(curve.bounds.xMin, 5);
    expect(curve.xs.at(-1)).toBeCloseTo(curve.bounds.xMax, 5);
    for (let i = 0; i < CURVE_POINTS; i += 17)
      expect(curve.predicted[i]!).toBeCloseTo(byHand(session.params, curve.xs[i]!), 4);
    // Nothing changed since: no new curve; a step brings one for its weights.
    expect(session.progress('paused').curve).toBeUndefined();
    session.step();
    const next = session.progress('paused').curve!;
    expect(next.version).toBeGreaterThan(curve.version);
    expect(next.predicted[0]).toBeCloseTo(byHand(session.params, next.xs[0]!), 4);
    session.dispose();
  });

  it('is throttled like the decision boundary while training runs, at once when paused', () => {
    const graph = Graph.fromJSON(regressionGraph());
    const params = graph.initParameters();
    const state = { now: 1000, step: 0 };
    const learned = new LearnedViews({
      graph,
      params: () => params,
      stepCount: () => state.step,
      validationStep: () => null,
      train: makeDataset('sine', 60, 0),
      validation: makeDataset('sine', 20, 1),
      now: () => state.now,
    });
    expect(learned.curved).toBe(true);
    expect(learned.planar).toBe(false);
    expect(learned.collect('paused').curve?.step).toBe(0);
    expect(learned.collect('paused').curve).toBeUndefined();
    state.step = 1;
    state.now += 10;
    expect(learned.collect('running').curve).toBeUndefined();
    state.now += BOUNDARY_MS;
    expect(learned.collect('running').curve?.step).toBe(1);
    state.step = 2;
    expect(learned.collect('paused').curve?.step).toBe(2);
    // Refresh: the next collection brings one even with nothing changed.
    learned.force();
    const forced = learned.collect('running');
    expect(forced.curve?.step).toBe(2);
    expect(forced.boundary).toBeUndefined();
    expect(forced.confusion).toBeUndefined();
  });

  it('scales predictions back to the target’s units', () => {
    const session = new TrainSession(regressionGraph(), 'sine', config);
    const xs = Float32Array.from([-1, 0, 2]);
    const plain = predictValues(session.graph, session.params, xs);
    const scaled = predictValues(session.graph, session.params, xs, { mean: 5, std: 2 });
    for (let i = 0; i < xs.length; i++) expect(scaled[i]).toBeCloseTo(plain[i]! * 2 + 5, 5);
    session.dispose();
  });

  it('a classifier gets its decision boundary, no curve', () => {
    const session = new TrainSession(spiralJSON(), 'spiral', { ...config, epochs: 1 });
    session.step();
    const p = session.progress('paused');
    expect(p.boundary).toBeDefined();
    expect(p.curve).toBeUndefined();
    session.dispose();
  });

  it('a regression of several features (a CSV) gets predicted against actual instead', async () => {
    const graph = regressionGraph();
    const wide = {
      ...graph,
      nodes: graph.nodes.map((n) =>
        n.id === 'x'
          ? { ...n, attrs: { ...n.attrs, shape: [-1, 2] } }
          : n.id === 'fc1.weight'
            ? { ...n, attrs: { ...n.attrs, shape: [32, 2] } }
            : n,
      ),
    };
    const rows = ['a,b,t'];
    for (let i = 0; i < 60; i++) rows.push(`${i % 7},${i % 5},${100 + (i % 7) + 2 * (i % 5)}`);
    const csv = { name: 'wide.csv', text: rows.join('\n') };
    const sets = csvTrainingSets(wide, csv, 0);
    const validationX = Array.from(sets.validation.x.dataSync());
    const validationY = Array.from(sets.validation.y.dataSync());
    const { mean, std } = sets.targetScale!;
    const session = new TrainSession(wide, 'sine', { ...config, epochs: 1 }, { data: sets });
    session.step();
    const view = session.progress('paused').curve!;
    expect(view.kind).toBe('scatter');
    expect(view.points).toHaveLength(2 * validationY.length);
    // Each validation row: its target and the model's prediction, both in the target's units.
    for (let i = 0; i < validationY.length; i++) {
      expect(view.points[2 * i]).toBeCloseTo(validationY[i]! * std + mean, 3);
      const x = validationX.slice(2 * i, 2 * i + 2);
      const predicted = byHand(session.params, x) * std + mean;
      expect(view.points[2 * i + 1]).toBeCloseTo(predicted, 3);
    }
    // The line predicted = actual across a square frame holding every point.
    expect(Array.from(view.xs)).toEqual(Array.from(view.predicted));
    expect(view.bounds.xMin).toBe(view.bounds.yMin);
    expect(view.bounds.xMax).toBe(view.bounds.yMax);
    expect(view.xs[0]).toBeCloseTo(view.bounds.xMin, 4);
    expect(Math.min(...validationY.map((t) => t * std + mean))).toBeGreaterThan(view.bounds.xMin);
    session.dispose();

    // Through the engine protocol, as the app trains on an uploaded file.
    const client = createInProcessEngineClient();
    const kinds: string[] = [];
    client.onTrainProgress((p) => {
      if (p.curve) kinds.push(p.curve.kind);
    });
    const { progress } = await client.startTraining(
      wide,
      'sine',
      { ...config, epochs: 1 },
      { paused: true, csv },
    );
    await client.controlTraining('train/step');
    if (progress.curve) kinds.unshift(progress.curve.kind);
    expect(kinds.length).toBeGreaterThan(0);
    expect(new Set(kinds)).toEqual(new Set(['scatter']));
    client.close();
  });

  it('frames predicted against actual as a square around both', () => {
    const { points, bounds, xs, line } = scatterOf(
      Float32Array.from([1, 2, 3]),
      Float32Array.from([1.5, 0, 4]),
    );
    expect(Array.from(points)).toEqual([1, 1.5, 2, 0, 3, 4]);
    expect(bounds.xMin).toBeCloseTo(-0.2, 6);
    expect(bounds.xMax).toBeCloseTo(4.2, 6);
    expect([bounds.yMin, bounds.yMax]).toEqual([bounds.xMin, bounds.xMax]);
    expect(Array.from(xs)).toEqual(Array.from(line));
  });

  it('the in-process engine streams curves while the template trains on sine', async () => {
    const client = createInProcessEngineClient();
    const curves: number[] = [];
    const done = new Promise<TrainProgress>((resolve) => {
      client.onTrainProgress((p) => {
        if (p.curve) curves.push(p.curve.version);
        if (p.status === 'done') resolve(p);
      });
    });
    await client.startTraining(regressionGraph(), 'sine', { ...config, epochs: 20 });
    const last = await done;
    expect(last.validation!.r2!).toBeGreaterThan(0.5);
    expect(curves.length).toBeGreaterThan(0);
    // Each curve is for newer weights than the one before.
    for (let i = 1; i < curves.length; i++) expect(curves[i]!).toBeGreaterThan(curves[i - 1]!);
    client.close();
  });
});

describe('the sine set in a training session', () => {
  const withNode = (graph: GraphJSON, id: string, attrs: NodeJSON['attrs']): GraphJSON => ({
    ...graph,
    nodes: graph.nodes.map((n) => (n.id === id ? { ...n, attrs: { ...n.attrs, ...attrs } } : n)),
  });

  it('gives a label input [N] its targets flat, for a model whose output is flat too', () => {
    const graph = withNode(regressionGraph(), 'y', { shape: [-1] });
    const flat: GraphJSON = {
      ...graph,
      nodes: [
        ...graph.nodes.map((n) => (n.id === 'loss' ? { ...n, inputs: ['flat', 'y'] } : n)),
        { id: 'flat', op: 'reshape', inputs: ['fc3'], attrs: { shape: [-1] } },
      ],
      outputs: [
        { name: 'output', node: 'flat' },
        { name: 'loss', node: 'loss' },
      ],
    };
    const session = new TrainSession(flat, 'sine', config, { views: false });
    for (let k = 0; k < 300; k++) session.step();
    session.validate();
    expect(session.progress('paused').validation!.r2!).toBeGreaterThan(0.8);
    session.dispose();
  });

  it('says what to change when the model does not fit the set', () => {
    const wide = withNode(withNode(regressionGraph(), 'x', { shape: [-1, 2] }), 'fc1.weight', {
      shape: [32, 2],
    });
    expect(() => new TrainSession(wide, 'sine', config)).toThrow(
      "the 'sine' data set has 1 feature per example, but this model's input 'x' takes 2: " +
        'set its shape to [N, 1]',
    );
    expect(() => new TrainSession(regressionGraph(), 'spiral', config)).toThrow(
      /the 'spiral' data set has class labels: train it on the 'sine' data set/,
    );
    expect(() => new TrainSession(spiralJSON(), 'sine', config)).toThrow(
      /the 'sine' data set has numbers to predict \(a regression\).*MSE loss/,
    );
  });
});

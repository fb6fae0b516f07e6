import { describe, expect, it } from 'vitest';
import type { TrainSessionConfig } from '../protocol/messages.js';
import { TrainSession } from './train-session.js';
import { spiralJSON } from '../../test/helpers/examples.js';

const config: TrainSessionConfig = {
  optimizer: 'adam',
  lr: 0.01,
  batchSize: 32,
  epochs: 5,
  seed: 0,
};

describe('the training views’ statistics', () => {
  it('gives every edge its gradient’s and its value’s statistics', () => {
    const session = new TrainSession(spiralJSON(), 'spiral', config);
    session.step();
    const p = session.progress('paused');
    const edge = (from: string, to: string) => p.edges.find((e) => e.from === from && e.to === to)!;
    const hidden = edge('relu1', 'fc2');
    expect(hidden.grad!.l2).toBe(hidden.norm);
    expect(hidden.grad!.count).toBe(32 * 64);
    expect(hidden.grad!.min).toBeLessThanOrEqual(hidden.grad!.mean);
    expect(hidden.grad!.max).toBeGreaterThanOrEqual(hidden.grad!.mean);
    expect(hidden.grad!.nanCount + hidden.grad!.infCount).toBe(0);
    // relu's output is never negative, and some of it is positive.
    expect(hidden.activation!.count).toBe(32 * 64);
    expect(hidden.activation!.min).toBeGreaterThanOrEqual(0);
    expect(hidden.activation!.l2).toBeGreaterThan(0);
    // The data carries a value but no gradient; the labels (i32) neither.
    expect(edge('x', 'fc1').grad).toBeNull();
    expect(edge('x', 'fc1').activation!.count).toBe(32 * 2);
    expect(edge('y', 'loss').activation).toBeNull();
    expect(p.viewStep).toBe(1);
    session.dispose();
  });

  it('bins every parameter and its gradient after the first step and then every K steps', () => {
    const session = new TrainSession(spiralJSON(), 'spiral', config, { histogramEvery: 4 });
    const taken: number[] = [];
    for (let k = 0; k < 10; k++) {
      session.step(true);
      const h = session.progress('paused').histograms!;
      if (taken.at(-1) !== h.step) taken.push(h.step);
    }
    expect(taken).toEqual([1, 5, 9]);
    const h = session.progress('paused').histograms!;
    expect(h.params.map((p) => p.param).sort()).toEqual([...session.params.keys()].sort());
    for (const { param, weights, grads } of h.params) {
      const size = session.params.get(param)!.size;
      expect(
        weights.counts.reduce((a, b) => a + b, 0),
        param,
      ).toBe(size);
      expect(
        grads!.counts.reduce((a, b) => a + b, 0),
        param,
      ).toBe(size);
      expect(weights.lo).toBeLessThan(weights.hi);
    }
    session.reset();
    expect(session.progress('paused').histograms).toBeNull();
    session.dispose();
  });

  it('measures a running session’s views only every viewIntervalMs, a single step always', () => {
    const session = new TrainSession(spiralJSON(), 'spiral', config, { viewIntervalMs: 1e9 });
    session.step();
    const first = session.progress('running');
    for (let k = 0; k < 3; k++) session.step();
    const later = session.progress('running');
    expect(later.step).toBe(4);
    expect(later.viewStep).toBe(1);
    expect(later.edges).toBe(first.edges);
    expect(later.loss).not.toBe(first.loss);
    // The measured step's own loss travels with its views.
    expect(later.viewMetrics).toEqual({ loss: first.loss, accuracy: first.accuracy });
    session.step(true);
    expect(session.progress('paused').viewStep).toBe(5);
    expect(session.progress('paused').viewMetrics!.loss).toBe(session.progress('paused').loss);
    session.dispose();
  });

  it('measures the last step, so a finished run shows its final state', () => {
    const session = new TrainSession(
      spiralJSON(),
      'spiral',
      { ...config, epochs: 1 },
      {
        viewIntervalMs: 1e9,
      },
    );
    while (!session.done) session.step();
    const p = session.progress('done');
    expect(p.viewStep).toBe(session.totalSteps);
    session.dispose();
  });

  it('trains exactly the same with views off, and then sends none', () => {
    const on = new TrainSession(spiralJSON(), 'spiral', config, { viewIntervalMs: 0 });
    const off = new TrainSession(spiralJSON(), 'spiral', config, { views: false });
    for (let k = 0; k < 5; k++) {
      on.step();
      off.step();
      expect(off.progress('running').loss).toBe(on.progress('running').loss);
    }
    const p = off.progress('running');
    expect(p.edges).toEqual([]);
    expect(p.timeline).toEqual([]);
    expect('histograms' in p).toBe(false);
    on.dispose();
    off.dispose();
  });
});

import { describe, expect, it } from 'vitest';
import type { TrainProgress } from '../../engine/protocol/messages.js';
import { MAX_SNAPSHOTS } from './view-history.js';
import {
  EMPTY_VIEWS,
  clearedViews,
  foldProgress,
  scrubViews,
  scrubbedMetrics,
  setEdgeMode,
} from './views-state.js';

const key = (to: string, port: number) => `${to}:${port}`;

/** A progress message at `step` whose edge fc1:0 carried gradient norm `norm`. */
function progress(step: number, norm: number, extra: Partial<TrainProgress> = {}): TrainProgress {
  return {
    status: 'running',
    step,
    totalSteps: 1000,
    epoch: 0,
    epochs: 1,
    loss: 1 / step,
    accuracy: 0.5,
    validation: null,
    stepMs: 1,
    remainingMs: 1,
    edges: [{ from: 'x', to: 'fc1', port: 0, norm }],
    devices: {},
    timeline: [],
    viewStep: step,
    ...extra,
  };
}

const snapshot = (step: number) => ({
  step,
  params: [{ param: 'w', weights: { lo: 0, hi: 1, counts: [1], nonFinite: 0 }, grads: null }],
});

describe('the views slice of the Train store', () => {
  it('records each measured step once and shows the latest', () => {
    let v = foldProgress(EMPTY_VIEWS, [progress(1, 0.1), progress(2, 0.2)], key);
    // A message whose edges are from an earlier measured step adds no record.
    v = foldProgress(v, [progress(5, 0.2, { viewStep: 2 })], key);
    expect(v.records.map((r) => r.step)).toEqual([1, 2]);
    expect(v.shownStep).toBe(2);
    expect(v.shown.get('fc1:0')!.norm).toBe(0.2);
    // Nothing new: the same object, so selectors do not re-render.
    expect(foldProgress(v, [progress(6, 0.2, { viewStep: 2 })], key)).toBe(v);
  });

  it('scrubs to an earlier step and stays there while training goes on, until live', () => {
    let v = foldProgress(
      EMPTY_VIEWS,
      [1, 2, 3].map((s) => progress(s, s / 10)),
      key,
    );
    v = scrubViews(v, 2);
    expect(v.shownStep).toBe(2);
    expect(v.shown.get('fc1:0')!.norm).toBe(0.2);
    v = foldProgress(v, [progress(4, 0.4)], key);
    expect(v.scrub).toBe(2);
    expect(v.shownStep).toBe(2);
    expect(v.records).toHaveLength(4);
    v = scrubViews(v, null);
    expect(v.shownStep).toBe(4);
    expect(v.shown.get('fc1:0')!.norm).toBe(0.4);
  });

  it('keeps histogram snapshots once each, bounded', () => {
    let v = EMPTY_VIEWS;
    for (let s = 1; s <= 3 * MAX_SNAPSHOTS; s++)
      v = foldProgress(v, [progress(s, 1, { histograms: snapshot(s - (s % 2)) })], key);
    expect(v.snapshots.length).toBeLessThanOrEqual(MAX_SNAPSHOTS);
    const steps = v.snapshots.map((s) => s.step);
    expect(new Set(steps).size).toBe(steps.length);
    expect(steps.at(-1)).toBe(3 * MAX_SNAPSHOTS);
  });

  it('starts again after a reset, back to live, keeping the edge mode', () => {
    let v = foldProgress(EMPTY_VIEWS, [progress(1, 0.1), progress(2, 0.2)], key);
    v = setEdgeMode(scrubViews(v, 1), 'activations');
    v = foldProgress(v, [progress(0, 0, { edges: [], viewStep: null, loss: null })], key);
    expect(v.records).toEqual([]);
    expect(v.scrub).toBeNull();
    expect(v.shownStep).toBeNull();
    expect(v.mode).toBe('activations');
    expect(clearedViews(v)).toEqual({ ...EMPTY_VIEWS, mode: 'activations' });
    expect(setEdgeMode(v, 'activations')).toBe(v);
  });

  it('shows the scrubbed step’s own metrics, else the chart’s nearest', () => {
    const train = [5, 10].map((step) => ({ step, loss: 1 / step, accuracy: step / 10 }));
    let v = foldProgress(
      EMPTY_VIEWS,
      [
        progress(2, 0.1, { viewMetrics: { loss: 0.9, accuracy: 0.3 } }),
        progress(7, 0.1),
        progress(12, 0.1),
      ],
      key,
    );
    expect(scrubbedMetrics(v, train)).toBeNull();
    v = scrubViews(v, 2);
    expect(scrubbedMetrics(v, train)).toEqual({ loss: 0.9, accuracy: 0.3 });
    v = scrubViews(v, 7);
    expect(scrubbedMetrics(v, train)).toBe(train[0]);
    expect(scrubbedMetrics(scrubViews(v, 12), [])).toBeNull();
    // Before any chart point: the first one after.
    expect(scrubbedMetrics(scrubViews(v, 2), [train[1]!])).toEqual({ loss: 0.9, accuracy: 0.3 });
    const noOwn = foldProgress(EMPTY_VIEWS, [progress(3, 0.1)], key);
    expect(scrubbedMetrics(scrubViews(noOwn, 3), train)).toBe(train[0]);
  });
});

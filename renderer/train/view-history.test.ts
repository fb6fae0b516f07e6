import { describe, expect, it } from 'vitest';
import type { EdgeGradient, ValueHistogram } from '../../engine/protocol/messages.js';
import {
  MAX_RECORDS,
  type StepRecord,
  appendByStep,
  appendRecord,
  atStep,
  commonRange,
  edgeSeries,
  edgeValue,
  readingsOf,
  rebin,
  scrubPosition,
  scrubStepAt,
} from './view-history.js';

const stats = (l2: number) => ({ l2, mean: 0, min: 0, max: 0, nanCount: 0, infCount: 0, count: 4 });
const record = (step: number, norm: number | null = step): StepRecord => ({
  step,
  edges: new Map([['fc1:0', { norm, grad: null, activation: stats(10 * step) }]]),
});

describe('the step history', () => {
  it('appends later steps, replaces the same step, and restarts on an earlier one', () => {
    let h = appendRecord([], record(1));
    h = appendRecord(h, record(5));
    h = appendRecord(h, record(5, 0.5));
    expect(h.map((r) => r.step)).toEqual([1, 5]);
    expect(h[1]!.edges.get('fc1:0')!.norm).toBe(0.5);
    expect(appendRecord(h, record(2)).map((r) => r.step)).toEqual([2]);
  });

  it('stays bounded over a long run, keeping the newest steps and thinning the old evenly', () => {
    let h: readonly { step: number }[] = [];
    for (let s = 1; s <= 5000; s++) h = appendByStep(h, { step: s }, 100);
    expect(h.length).toBeLessThanOrEqual(100);
    expect(h.length).toBeGreaterThan(50);
    expect(h.at(-1)!.step).toBe(5000);
    // Strictly increasing, and the first steps are still represented (thinned, not dropped).
    expect(h.every((r, i) => i === 0 || r.step > h[i - 1]!.step)).toBe(true);
    expect(h[0]!.step).toBeLessThan(500);
    // The newest quarter is dense: consecutive steps.
    const tail = h.slice(-20);
    expect(tail.every((r, i) => i === 0 || r.step === tail[i - 1]!.step + 1)).toBe(true);
  });

  it('keeps at most MAX_RECORDS records', () => {
    let h: readonly StepRecord[] = [];
    for (let s = 1; s <= 3 * MAX_RECORDS; s++) h = appendRecord(h, record(s));
    expect(h.length).toBeLessThanOrEqual(MAX_RECORDS);
  });

  it('finds the state at a step: the last record at or before it', () => {
    const h = [1, 4, 9, 16].map((s) => record(s));
    expect(atStep(h, 0)).toBeNull();
    expect(atStep(h, 4)!.step).toBe(4);
    expect(atStep(h, 15)!.step).toBe(9);
    expect(atStep(h, 100)!.step).toBe(16);
  });

  it('gives an edge’s series of gradient norms or activation norms, skipping gaps', () => {
    const h = [record(1, 0.1), record(2, null), record(3, 0.3)];
    expect(edgeSeries(h, 'fc1:0')).toEqual([
      { step: 1, value: 0.1 },
      { step: 3, value: 0.3 },
    ]);
    expect(edgeSeries(h, 'fc1:0', 'activations').map((p) => p.value)).toEqual([10, 20, 30]);
    expect(edgeSeries(h, 'other:0')).toEqual([]);
  });

  it('reads progress edges into readings keyed by target and port', () => {
    const edges: EdgeGradient[] = [
      { from: 'x', to: 'fc1', port: 0, norm: null, grad: null, activation: stats(2) },
      { from: 'w', to: 'fc1', port: 1, norm: 0.5, grad: stats(0.5), activation: stats(3) },
      { from: 'w', to: 'fc2', port: 1, norm: 0.25 },
    ];
    const r = readingsOf(edges, (to, port) => `${to}:${port}`);
    expect(edgeValue(r.get('fc1:1'), 'gradients')).toBe(0.5);
    expect(edgeValue(r.get('fc1:0'), 'gradients')).toBeNull();
    expect(edgeValue(r.get('fc1:0'), 'activations')).toBe(2);
    expect(r.get('fc2:1')).toEqual({ norm: 0.25, grad: null, activation: null });
    expect(edgeValue(undefined, 'activations')).toBeNull();
  });
});

describe('the scrubber', () => {
  const h = [2, 4, 6, 8].map((s) => record(s));

  it('stands at the last record when live', () => {
    expect(scrubPosition(h, null)).toEqual({ max: 3, value: 3, step: 8, live: true });
    expect(scrubPosition([], null)).toEqual({ max: 0, value: 0, step: null, live: true });
  });

  it('shows the record at or before the chosen step', () => {
    expect(scrubPosition(h, 5)).toEqual({ max: 3, value: 1, step: 4, live: false });
    // Before the first record (thinned away), the first is shown.
    expect(scrubPosition(h, 1)).toEqual({ max: 3, value: 0, step: 2, live: false });
  });

  it('turns a range position into a step, the last position into live', () => {
    expect(scrubStepAt(h, 0)).toBe(2);
    expect(scrubStepAt(h, 2)).toBe(6);
    expect(scrubStepAt(h, 3)).toBeNull();
    expect(scrubStepAt([], 0)).toBeNull();
    // Round trip: every position maps to a step that maps back to it.
    for (let i = 0; i < h.length - 1; i++)
      expect(scrubPosition(h, scrubStepAt(h, i)).value).toBe(i);
  });
});

describe('histograms over time', () => {
  const hist = (lo: number, hi: number, counts: number[]): ValueHistogram => ({
    lo,
    hi,
    counts,
    nonFinite: 0,
  });

  it('finds the range that holds every histogram, skipping empty ones', () => {
    expect(commonRange([hist(-1, 1, [1]), hist(0, 3, [1]), hist(0, 0, [0])])).toEqual({
      lo: -1,
      hi: 3,
    });
    expect(commonRange([hist(0, 0, [0])])).toBeNull();
  });

  it('re-bins onto a wider range, keeping the total and the place of each count', () => {
    // [0, 1] in 2 bins onto [0, 2] in 4 bins: same bin width, so counts move over unchanged.
    expect(rebin(hist(0, 1, [3, 5]), 0, 2, 4)).toEqual([3, 5, 0, 0]);
    // [0, 2] in 2 bins onto [0, 2] in 4: each count splits evenly.
    expect(rebin(hist(0, 2, [4, 2]), 0, 2, 4)).toEqual([2, 2, 1, 1]);
    const out = rebin(hist(-0.3, 0.7, [1, 2, 3, 4, 5]), -1, 1, 7);
    expect(out.reduce((a, b) => a + b, 0)).toBeCloseTo(15, 10);
    // Nothing lands outside the source's range.
    expect(out[0]).toBe(0);
    expect(out[6]).toBe(0);
    expect(rebin(hist(0, 0, [0]), 0, 1, 3)).toEqual([0, 0, 0]);
  });
});

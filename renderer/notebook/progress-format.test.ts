import { describe, expect, it } from 'vitest';
import {
  type ProgressValue,
  formatDuration,
  formatMetric,
  progressPercent,
  progressText,
} from './progress-format.js';

const bar = (done: number, total: number, more: Partial<ProgressValue> = {}): ProgressValue => ({
  kind: 'progress',
  done,
  total,
  title: null,
  metrics: {},
  elapsedMs: null,
  etaMs: null,
  ...more,
});

describe('progress text', () => {
  it('rounds the percent down so that only a finished bar reads 100%', () => {
    expect(progressPercent(bar(120, 600))).toBe(20);
    expect(progressPercent(bar(599, 600))).toBe(99);
    expect(progressPercent(bar(600, 600))).toBe(100);
  });

  it('writes one line with title, count, percent and metrics', () => {
    expect(progressText(bar(120, 600, { title: 'train', metrics: { loss: 0.41 } }))).toBe(
      'train: 120/600 (20%) loss=0.41',
    );
    expect(progressText(bar(1, 3))).toBe('progress: 1/3 (33%)');
  });

  it('shows metrics with four significant digits and durations by size', () => {
    expect(formatMetric(0.123456)).toBe('0.1235');
    expect(formatMetric(3)).toBe('3');
    expect(formatMetric(0.0000123)).toBe('1.23e-5');
    expect(formatMetric(NaN)).toBe('NaN');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(12_340)).toBe('12.3 s');
    expect(formatDuration(245_000)).toBe('4:05');
    expect(formatDuration(3_723_000)).toBe('1:02:03');
  });
});

import { describe, expect, it } from 'vitest';
import type { TimelineEntry } from '../../engine/protocol/messages.js';
import { laneLabel } from './timeline-rows.js';

const bar = (lane: number, device: string): TimelineEntry => ({
  node: 'fc1',
  op: 'matmul',
  lane,
  device,
  start: 0,
  end: 1,
  phase: 'forward',
});

describe('timeline rows', () => {
  it('are named after the device their bars ran on', () => {
    const mixed = [bar(0, 'cpu'), bar(1, 'webgpu'), bar(1, 'webgpu')];
    expect(laneLabel(mixed, 0)).toBe('CPU 0');
    expect(laneLabel(mixed, 1)).toBe('GPU');
    // Two CPU lanes: lane 1 is a CPU lane.
    expect(laneLabel([bar(0, 'cpu'), bar(1, 'cpu')], 1)).toBe('CPU 1');
  });
});

import type { TimelineEntry } from '../../engine/protocol/messages.js';

/** A timeline row's name: `GPU` for the GPU queue (every bar on it ran on a GPU), else `CPU <lane>`. */
export function laneLabel(timeline: readonly TimelineEntry[], lane: number): string {
  const on = timeline.filter((e) => e.lane === lane);
  return on.length > 0 && on.every((e) => e.device !== 'cpu') ? 'GPU' : `CPU ${lane}`;
}

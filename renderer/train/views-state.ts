/**
 * The training views' slice of the Train store (`TrainingState.views`): the bounded step and
 * histogram histories (view-history.ts), which statistic edges show, where the scrubber stands
 * and, derived from those, the edge readings the canvas draws now. Every change is a pure
 * function from one slice to the next, so the store's class only routes calls here.
 */

import type { HistogramSnapshot, TrainProgress } from '../../engine/protocol/messages.js';
import {
  type EdgeMode,
  type EdgeReading,
  type StepRecord,
  appendRecord,
  appendSnapshot,
  atStep,
  readingsOf,
} from './view-history.js';

export interface TrainingViews {
  /** Measured steps, oldest first (bounded). */
  readonly records: readonly StepRecord[];
  /** Parameter histograms, oldest first (bounded). */
  readonly snapshots: readonly HistogramSnapshot[];
  /** The step the scrubber looks at, or null for live. */
  readonly scrub: number | null;
  readonly mode: EdgeMode;
  /** The readings the canvas shows: the scrubbed step's, else the latest. */
  readonly shown: ReadonlyMap<string, EdgeReading>;
  /** The step of `shown`, or null before any. */
  readonly shownStep: number | null;
}

export const EMPTY_VIEWS: TrainingViews = {
  records: [],
  snapshots: [],
  scrub: null,
  mode: 'gradients',
  shown: new Map(),
  shownStep: null,
};

/** `views` with `shown` brought in line with its records and scrubber. */
function withShown(views: Omit<TrainingViews, 'shown' | 'shownStep'>): TrainingViews {
  const record =
    views.scrub === null
      ? views.records.at(-1)
      : (atStep(views.records, views.scrub) ?? views.records[0]);
  return { ...views, shown: record?.edges ?? new Map(), shownStep: record?.step ?? null };
}

/** A fresh history for a new session; the edge mode stays. */
export function clearedViews(views: TrainingViews): TrainingViews {
  return { ...EMPTY_VIEWS, mode: views.mode };
}

/**
 * Folds a batch of progress messages into the views: each message's edges (measured at its
 * `viewStep`) become a record and its histograms a snapshot; a message from before the last
 * record (a reset) starts the histories again and returns the scrubber to live.
 */
export function foldProgress(
  views: TrainingViews,
  batch: readonly TrainProgress[],
  key: (to: string, port: number) => string,
): TrainingViews {
  let { records, snapshots, scrub } = views;
  for (const p of batch) {
    if (p.step < (records.at(-1)?.step ?? 0)) {
      records = [];
      snapshots = [];
      scrub = null;
    }
    const step = p.viewStep ?? p.step;
    if (p.edges.length > 0 && step > 0 && step !== records.at(-1)?.step)
      records = appendRecord(records, {
        step,
        edges: readingsOf(p.edges, key),
        ...(p.viewMetrics ? { metrics: p.viewMetrics } : {}),
      });
    const h = p.histograms;
    if (h && h.step !== snapshots.at(-1)?.step) snapshots = appendSnapshot(snapshots, h);
  }
  if (records === views.records && snapshots === views.snapshots && scrub === views.scrub)
    return views;
  return withShown({ ...views, records, snapshots, scrub });
}

/** Looks at `step` (the record at or before it), or back at the latest with null. */
export function scrubViews(views: TrainingViews, step: number | null): TrainingViews {
  return withShown({ ...views, scrub: step });
}

/**
 * The loss and accuracy to show while scrubbed: the shown record's own, else the chart's point
 * at or before its step, else the first one after it; null when live or with no history.
 */
export function scrubbedMetrics(
  views: TrainingViews,
  train: readonly { readonly step: number; readonly loss: number; readonly accuracy: number }[],
): { readonly loss: number; readonly accuracy: number } | null {
  if (views.scrub === null || views.shownStep === null) return null;
  const record = atStep(views.records, views.shownStep);
  if (record?.step === views.shownStep && record.metrics) return record.metrics;
  return atStep(train, views.shownStep) ?? train.find((p) => p.step > views.shownStep!) ?? null;
}

export function setEdgeMode(views: TrainingViews, mode: EdgeMode): TrainingViews {
  return views.mode === mode ? views : { ...views, mode };
}

/**
 * The training views' memory, as pure functions over plain data: the per-step edge readings
 * (gradient and activation statistics) the session measured, the parameter histogram
 * snapshots, and what the scrubber shows. Both histories are bounded, so a long run costs a
 * fixed amount of memory and every view stays cheap to draw: past the bound, the older half
 * keeps every other record (recent steps stay dense, old ones thin out evenly). A restarted or
 * reset session (a step lower than the last one recorded) starts the history again.
 */

import type {
  EdgeGradient,
  HistogramSnapshot,
  ValueHistogram,
  ValueStats,
} from '../../engine/protocol/messages.js';

/** What one edge carried in one measured step. */
export interface EdgeReading {
  /** The gradient's L2 norm; null where none flowed. */
  readonly norm: number | null;
  readonly grad: ValueStats | null;
  readonly activation: ValueStats | null;
}

/** One measured step: every edge's reading, by the store's edge key. */
export interface StepRecord {
  readonly step: number;
  readonly edges: ReadonlyMap<string, EdgeReading>;
  /** The step's batch loss and accuracy, where the session sent them. */
  readonly metrics?: { readonly loss: number; readonly accuracy: number };
}

/** Edge records kept at most (a sparkline's points, the scrubber's stops). */
export const MAX_RECORDS = 200;
/** Histogram snapshots kept at most (rows of the heat strip). */
export const MAX_SNAPSHOTS = 48;

/** Which statistic the canvas colours edges by. */
export type EdgeMode = 'gradients' | 'activations';

/** The readings of a progress message's edges, keyed by `key(to, port)`. */
export function readingsOf(
  edges: readonly EdgeGradient[],
  key: (to: string, port: number) => string,
): Map<string, EdgeReading> {
  const out = new Map<string, EdgeReading>();
  for (const e of edges)
    out.set(key(e.to, e.port), {
      norm: e.norm,
      grad: e.grad ?? null,
      activation: e.activation ?? null,
    });
  return out;
}

/** Keeps the newest items and every other one of the older half, once past `max`. */
function bound<T>(items: readonly T[], max: number): readonly T[] {
  if (items.length <= max) return items;
  const half = Math.floor(items.length / 2);
  return [...items.slice(0, half).filter((_, i) => i % 2 === 0), ...items.slice(half)];
}

/**
 * Appends an item stamped with a step: a later step is added (the history bounded to `max`),
 * the same step replaces the last, an earlier one starts the history again.
 */
export function appendByStep<T extends { readonly step: number }>(
  items: readonly T[],
  item: T,
  max: number,
): readonly T[] {
  const last = items.at(-1);
  if (last === undefined || item.step < last.step) return [item];
  if (item.step === last.step) return [...items.slice(0, -1), item];
  return bound([...items, item], max);
}

export const appendRecord = (records: readonly StepRecord[], record: StepRecord) =>
  appendByStep(records, record, MAX_RECORDS);

export const appendSnapshot = (snapshots: readonly HistogramSnapshot[], s: HistogramSnapshot) =>
  appendByStep(snapshots, s, MAX_SNAPSHOTS);

/** The last item at or before `step` (the state of the views then), else null. */
export function atStep<T extends { readonly step: number }>(
  items: readonly T[],
  step: number,
): T | null {
  let lo = 0;
  let hi = items.length - 1;
  let found: T | null = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (items[mid]!.step <= step) {
      found = items[mid]!;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** One point of an edge's history. */
export interface SeriesPoint {
  readonly step: number;
  readonly value: number;
}

/**
 * An edge's history of one statistic (the gradient norm, or the activation's L2 norm) over
 * the recorded steps; steps where it had none are left out.
 */
export function edgeSeries(
  records: readonly StepRecord[],
  key: string,
  mode: EdgeMode = 'gradients',
): SeriesPoint[] {
  const out: SeriesPoint[] = [];
  for (const r of records) {
    const reading = r.edges.get(key);
    const value = mode === 'gradients' ? reading?.norm : reading?.activation?.l2;
    if (value !== null && value !== undefined) out.push({ step: r.step, value });
  }
  return out;
}

/** The value the canvas colours an edge by in `mode`; null when it has none. */
export function edgeValue(reading: EdgeReading | undefined, mode: EdgeMode): number | null {
  if (!reading) return null;
  return mode === 'gradients' ? reading.norm : (reading.activation?.l2 ?? null);
}

// ---- the scrubber ---------------------------------------------------------------------------

/**
 * The scrubber's position as a range input sees it: `max` is the last record's index, `value`
 * the shown record's (the last one when live). `step` is the shown step (null before any).
 */
export interface ScrubPosition {
  readonly max: number;
  readonly value: number;
  readonly step: number | null;
  readonly live: boolean;
}

/** Where the scrubber stands: `scrub` is the step looked at, or null for live. */
export function scrubPosition(records: readonly StepRecord[], scrub: number | null): ScrubPosition {
  const max = Math.max(0, records.length - 1);
  if (scrub === null || records.length === 0)
    return { max, value: max, step: records.at(-1)?.step ?? null, live: true };
  const shown = atStep(records, scrub) ?? records[0]!;
  return { max, value: records.indexOf(shown), step: shown.step, live: false };
}

/**
 * The step to look at when the range input moves to `index`: the record's step, or null
 * (live) at the last record.
 */
export function scrubStepAt(records: readonly StepRecord[], index: number): number | null {
  if (records.length === 0 || index >= records.length - 1) return null;
  return records[Math.max(0, Math.floor(index))]!.step;
}

// ---- histograms over time -------------------------------------------------------------------

/** The range that holds every given histogram (histograms with no finite value are skipped). */
export function commonRange(hists: readonly ValueHistogram[]): { lo: number; hi: number } | null {
  let lo = Infinity;
  let hi = -Infinity;
  for (const h of hists) {
    if (h.hi <= h.lo) continue;
    lo = Math.min(lo, h.lo);
    hi = Math.max(hi, h.hi);
  }
  return lo < hi ? { lo, hi } : null;
}

/**
 * `h`'s counts spread over `bins` equal bins of [lo, hi] (which must hold h's range): each
 * source bin's count is shared among the target bins it overlaps, in proportion to the
 * overlap, so rows taken at different steps (each with its own range) line up in one picture.
 * The total is kept.
 */
export function rebin(h: ValueHistogram, lo: number, hi: number, bins: number): number[] {
  const out = new Array<number>(bins).fill(0);
  if (h.hi <= h.lo || hi <= lo) return out;
  const width = (h.hi - h.lo) / h.counts.length;
  const scale = bins / (hi - lo);
  h.counts.forEach((count, i) => {
    if (count === 0) return;
    const a = (h.lo + i * width - lo) * scale;
    const b = (h.lo + (i + 1) * width - lo) * scale;
    const span = b - a;
    for (let t = Math.max(0, Math.floor(a)); t < Math.min(bins, Math.ceil(b)); t++) {
      const overlap = Math.min(b, t + 1) - Math.max(a, t);
      if (overlap > 0) out[t]! += (count * overlap) / span;
    }
  });
  return out;
}

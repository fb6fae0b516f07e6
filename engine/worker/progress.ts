/**
 * Progress outputs for notebook cells: `progress(done, total, info?)` makes a bar value (done of
 * total, a title, named metrics), and a `ProgressClock` times the bars a running cell shows.
 *
 * A bar's timing is measured from when the first progress with the same key (its display id)
 * was shown in the running cell: elapsed is the time since then, and the time left assumes the
 * rate since then holds. A bar whose `done` goes back (a new loop under the same id) or whose
 * `total` changes starts a new timing.
 */

import type { CellValue } from '../protocol/messages.js';
import { Tensor } from '../tensor.js';

/** A progress bar as a cell shows it (what `progress` makes). */
export type ProgressValue = Extract<CellValue, { kind: 'progress' }>;

export interface ProgressInfo {
  /** A short name shown before the bar ("train"). */
  readonly title?: string;
  /** Named numbers shown beside the bar, e.g. `{ loss, accuracy }` (a one-value tensor is read). */
  readonly metrics?: Readonly<Record<string, number | Tensor>>;
}

/** The most metrics one bar shows. */
export const MAX_PROGRESS_METRICS = 16;

function describe(v: unknown): string {
  if (v instanceof Tensor) return `a tensor of shape ${JSON.stringify(v.shape)}`;
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined) return String(v);
  return typeof v === 'object' ? (Array.isArray(v) ? 'an array' : 'an object') : String(v);
}

function metricValue(name: string, v: unknown): number {
  if (typeof v === 'number') return v;
  if (v instanceof Tensor && v.size === 1) return Number(v.dataSync()[0]);
  throw new TypeError(
    `progress: metric '${name}' is ${describe(v)}; give a number (or a one-value tensor)`,
  );
}

/**
 * A progress bar for a cell's output: `done` of `total` steps (finite, 0 ≤ done ≤ total,
 * total > 0), with an optional title and metrics. Shown with `display(bar, id)` in a loop, it
 * updates in place and gains elapsed time and time left.
 */
export function progress(done: number, total: number, info: ProgressInfo = {}): ProgressValue {
  if (typeof total !== 'number' || !Number.isFinite(total) || total <= 0)
    throw new RangeError(
      `progress: total is ${describe(total)}; expected a finite number of steps above 0`,
    );
  if (typeof done !== 'number' || !Number.isFinite(done) || done < 0)
    throw new RangeError(
      `progress: done is ${describe(done)}; expected a finite number from 0 to total (${total})`,
    );
  if (done > total)
    throw new RangeError(
      `progress: done (${done}) is more than total (${total}); expected 0 ≤ done ≤ total`,
    );
  if (typeof info !== 'object' || info === null)
    throw new TypeError(`progress: info is ${describe(info)}; expected { title?, metrics? }`);
  const title = info.title ?? null;
  if (title !== null && typeof title !== 'string')
    throw new TypeError(`progress: title is ${describe(title)}; expected a string`);
  const raw: unknown = info.metrics ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw) || raw instanceof Tensor)
    throw new TypeError(
      `progress: metrics is ${describe(raw)}; expected a record of numbers, e.g. { loss: 0.4 }`,
    );
  const entries = Object.entries(raw as Record<string, unknown>);
  if (entries.length > MAX_PROGRESS_METRICS)
    throw new RangeError(
      `progress: ${entries.length} metrics is more than ${MAX_PROGRESS_METRICS}; show fewer`,
    );
  const metrics: Record<string, number> = {};
  for (const [name, v] of entries) metrics[name] = metricValue(name, v);
  return { kind: 'progress', done, total, title, metrics, elapsedMs: null, etaMs: null };
}

/** A record shaped like a progress bar (written by hand or saved), checked as `progress` does. */
export function progressFromRecord(value: Record<string, unknown>): ProgressValue {
  const title = typeof value.title === 'string' ? value.title : undefined;
  const metrics =
    typeof value.metrics === 'object' && value.metrics !== null
      ? (value.metrics as Record<string, number>)
      : undefined;
  const bar = progress(value.done as number, value.total as number, { title, metrics });
  const ms = (v: unknown) => (typeof v === 'number' && v >= 0 ? v : null);
  return { ...bar, elapsedMs: ms(value.elapsedMs), etaMs: ms(value.etaMs) };
}

/** Times the progress bars of one cell run, by key (display id, else title). */
export class ProgressClock {
  private readonly starts = new Map<string, { at: number; done: number; total: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** The bar with elapsed time and time left, as of now. */
  stamp(key: string, bar: ProgressValue): ProgressValue {
    const now = this.now();
    let start = this.starts.get(key);
    if (!start || bar.done < start.done || bar.total !== start.total) {
      start = { at: now, done: bar.done, total: bar.total };
      this.starts.set(key, start);
    }
    const elapsedMs = Math.max(0, now - start.at);
    const stepped = bar.done - start.done;
    const etaMs =
      bar.done >= bar.total
        ? 0
        : stepped > 0 && elapsedMs > 0
          ? Math.round((elapsedMs * (bar.total - bar.done)) / stepped)
          : null;
    return { ...bar, elapsedMs, etaMs };
  }
}

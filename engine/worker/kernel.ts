/**
 * The notebook kernel: runs code cells (TypeScript) one after another in one shared scope, as
 * a Jupyter kernel does, with the engine's public API in scope as `wg`.
 *
 * A cell runs as follows. Sucrase removes its types (keeping every line where it was, so errors
 * point at the TypeScript source). The JavaScript becomes an ES module: a prologue on the
 * cell's first line (so line numbers stay the same) binds `wg`, a `console` that records into
 * the cell's output, and every name an earlier cell declared and this one does not redeclare
 * (`const` names as `const`, the rest as `let`); it also registers accessors for this cell's
 * own top-level declarations. The module is imported from a `blob:` URL (a `data:` URL in
 * Node), so top-level `await` works and no `eval` is needed.
 *
 * Semantics, in short: a cell sees the value each earlier name had when the cell started;
 * assigning to an earlier `let` name writes the new value back to the cell that declared it
 * when the cell ends (even if it throws), so that cell's functions see it too; redeclaring a
 * name in a later cell replaces it (as re-running a cell does). The value of a final
 * expression statement is the cell's result. Errors carry the line in the cell's source.
 */

import { transform } from 'sucrase';
import * as wg from '../index.js';
import { Graph } from '../graph/graph.js';
import type { GraphJSON } from '../graph/ir.js';
import type { CellError, CellLog, CellRun, CellValue, ChartSeries } from '../protocol/messages.js';
import { dispose } from '../runtime/scope.js';
import { Tensor } from '../tensor.js';
import { analyzeCell, type Declaration } from './cell-source.js';
import { ProgressClock, type ProgressValue, progress, progressFromRecord } from './progress.js';

/** Imports a module's source text; resolves when it has run. */
export type ModuleImporter = (source: string) => Promise<{ url: string; done: Promise<unknown> }>;

/** How many tensor values travel back to the UI (a 64×64 heatmap, or the start of more). */
export const MAX_TENSOR_VALUES = 4096;
/** The least time between two streamed batches of a running cell's output lines, in ms. */
export const STREAM_MS = 100;
/** How long a text value may be before it is cut. */
const MAX_TEXT = 10_000;

const KERNEL_KEY = 'wiregrad.kernel';

/** A binding a cell declared: read and (unless `const`) written through the declaring module. */
interface Binding {
  readonly kind: Declaration['kind'];
  readonly get: () => unknown;
  readonly set: ((value: unknown) => void) | null;
}

/** What the prologue of a running cell finds under `globalThis[Symbol.for(KERNEL_KEY)]`. */
interface KernelBridge {
  readonly wg: typeof wg;
  readonly plot: typeof plot;
  readonly image: typeof image;
  readonly progress: typeof progress;
  display(value: unknown, id?: string): void;
  readonly console: Pick<Console, 'log' | 'info' | 'warn' | 'error' | 'debug'>;
  read(name: string): unknown;
  bind(accessors: Record<string, unknown>): void;
  setLast(value: unknown): void;
}

function isNode(): boolean {
  const g = globalThis as { process?: { versions?: { node?: string } } };
  return typeof g.process?.versions?.node === 'string';
}

/**
 * The default importer: a `blob:` URL in browsers and workers (allowed by the page's
 * `worker-src`/`script-src` rules for blob URLs), a `data:` URL in Node, which has no blob
 * imports.
 */
export const importModule: ModuleImporter = (source) => {
  if (isNode()) {
    const bytes = new TextEncoder().encode(source);
    let binary = '';
    for (const b of bytes) binary += String.fromCharCode(b);
    const url = `data:text/javascript;base64,${btoa(binary)}`;
    return Promise.resolve({ url, done: import(/* @vite-ignore */ url) });
  }
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const done = import(/* @vite-ignore */ url).finally(() => URL.revokeObjectURL(url));
  return Promise.resolve({ url, done });
};

function clip(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}… (${text.length} characters)` : text;
}

/** A short description of any value, for logs and results (tensors by shape and dtype). */
export function formatValue(value: unknown, depth = 0, seen = new Set<unknown>()): string {
  if (value instanceof Tensor) return `Tensor(${JSON.stringify(value.shape)}, ${value.dtype})`;
  if (typeof value === 'string') return depth === 0 ? value : JSON.stringify(value);
  if (typeof value === 'function') return value.name ? `[function ${value.name}]` : '[function]';
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'symbol') return value.toString();
  if (value === null || typeof value !== 'object') return String(value);
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  if (seen.has(value)) return '[circular]';
  if (depth > 3) return Array.isArray(value) ? '[…]' : '{…}';
  seen.add(value);
  try {
    if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
      const items = Array.from(value as unknown as ArrayLike<number>);
      const shown = items.slice(0, 100).map(String).join(', ');
      return `${value.constructor.name}(${items.length}) [${shown}${items.length > 100 ? ', …' : ''}]`;
    }
    if (Array.isArray(value)) {
      const shown = value.slice(0, 100).map((v) => formatValue(v, depth + 1, seen));
      return `[${shown.join(', ')}${value.length > 100 ? `, … ${value.length - 100} more` : ''}]`;
    }
    if (value instanceof Map)
      return `Map(${value.size}) {${[...value]
        .slice(0, 50)
        .map(([k, v]) => `${formatValue(k, depth + 1, seen)} => ${formatValue(v, depth + 1, seen)}`)
        .join(', ')}}`;
    if (value instanceof Set)
      return `Set(${value.size}) {${[...value]
        .slice(0, 50)
        .map((v) => formatValue(v, depth + 1, seen))
        .join(', ')}}`;
    const entries = Object.entries(value as Record<string, unknown>).slice(0, 50);
    const name =
      value.constructor && value.constructor !== Object ? `${value.constructor.name} ` : '';
    return `${name}{${entries.map(([k, v]) => `${k}: ${formatValue(v, depth + 1, seen)}`).join(', ')}}`;
  } catch (error) {
    return `[unprintable: ${error instanceof Error ? error.message : String(error)}]`;
  } finally {
    seen.delete(value);
  }
}

/** A tensor's values as plain data (capped), or a text saying why they cannot be read. */
export function describeTensor(t: Tensor): CellValue {
  if (t.isDisposed)
    return { kind: 'text', text: `Tensor(${JSON.stringify(t.shape)}, ${t.dtype}), disposed` };
  try {
    const data = t.dataSync();
    const n = Math.min(data.length, MAX_TENSOR_VALUES);
    const values: number[] = new Array<number>(n);
    for (let i = 0; i < n; i++) values[i] = Number(data[i]);
    return {
      kind: 'tensor',
      shape: [...t.shape],
      dtype: t.dtype,
      device: t.device,
      values,
      truncated: data.length > n,
    };
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return {
      kind: 'text',
      text: `Tensor(${JSON.stringify(t.shape)}, ${t.dtype}) on ${t.device}: ${why}`,
    };
  }
}

// ---- rich outputs: charts, images, graphs ---------------------------------------------------

/** A chart as a cell returns it (what `plot` makes). */
export type ChartValue = Extract<CellValue, { kind: 'chart' }>;
/** An image as a cell returns it (what `image` makes). */
export type ImageValue = Extract<CellValue, { kind: 'image' }>;

/** The data of one line: y values (x = 0, 1, …), a 1-D tensor, or points. */
export type PlotData =
  readonly number[] | Tensor | readonly { readonly x: number; readonly y: number }[];

export interface PlotOptions {
  readonly title?: string;
  readonly xLabel?: string;
  readonly yLabel?: string;
  /** The name of a single line (the legend); several lines take their record keys. */
  readonly name?: string;
  /** Draw dots, not lines: a scatter plot (of {x, y} points, e.g. a 2-D embedding). */
  readonly scatter?: boolean;
}

/** The most points a line keeps; longer lines keep every k-th point (and the last). */
export const MAX_CHART_POINTS = 5000;
/** The most pixels an image may have (512 × 512). */
export const MAX_IMAGE_PIXELS = 512 * 512;

function isRecordValue(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function seriesOf(name: string, data: unknown): ChartSeries {
  let x: number[] = [];
  let y: number[] = [];
  if (data instanceof Tensor) {
    if (data.shape.length !== 1)
      throw new TypeError(
        `plot: line '${name}' is a tensor of shape ${JSON.stringify(data.shape)}; give a 1-D ` +
          `tensor (reshape it, or plot its rows one by one)`,
      );
    y = Array.from(data.dataSync(), Number);
    x = y.map((_, i) => i);
  } else if (Array.isArray(data)) {
    data.forEach((p: unknown, i) => {
      if (typeof p === 'number') {
        x.push(i);
        y.push(p);
      } else if (isRecordValue(p) && typeof p.x === 'number' && typeof p.y === 'number') {
        x.push(p.x);
        y.push(p.y);
      } else
        throw new TypeError(
          `plot: line '${name}' has ${formatValue(p)} at index ${i}; give numbers or {x, y} points`,
        );
    });
  } else
    throw new TypeError(
      `plot: line '${name}' is ${formatValue(data)}; give an array of numbers, {x, y} points or ` +
        `a 1-D tensor`,
    );
  if (x.length > MAX_CHART_POINTS) {
    const step = Math.ceil(x.length / MAX_CHART_POINTS);
    const keep = (_: number, i: number) => i % step === 0 || i === x.length - 1;
    x = x.filter(keep);
    y = y.filter(keep);
  }
  return { name, x, y };
}

/**
 * A line chart for a cell's output: `plot([1, 4, 9])`, `plot(points, { title })`, or several
 * named lines `plot({ train: a, test: b })`.
 */
export function plot(
  data: PlotData | Readonly<Record<string, PlotData>>,
  options: PlotOptions = {},
): ChartValue {
  const series =
    Array.isArray(data) || data instanceof Tensor
      ? [seriesOf(options.name ?? 'y', data)]
      : isRecordValue(data)
        ? Object.entries(data).map(([name, d]) => seriesOf(name, d))
        : [seriesOf(options.name ?? 'y', data)];
  if (series.length === 0) throw new TypeError('plot: no lines to draw (the record is empty)');
  return {
    kind: 'chart',
    title: options.title ?? null,
    xLabel: options.xLabel ?? null,
    yLabel: options.yLabel ?? null,
    series: options.scatter ? series.map((s) => ({ ...s, scatter: true })) : series,
  };
}

/**
 * An image for a cell's output from values in 0..1 (clamped): a [H, W] tensor or nested array
 * (grey), or a [C, H, W] tensor with C = 1 (grey) or 3 (RGB).
 */
export function image(
  data: Tensor | readonly (readonly number[])[],
  options: { readonly title?: string } = {},
): ImageValue {
  let shape: number[];
  let values: ArrayLike<number>;
  if (data instanceof Tensor) {
    shape = [...data.shape];
    values = Array.from(data.dataSync(), Number);
  } else if (Array.isArray(data) && data.every((row) => Array.isArray(row))) {
    const width = data[0]?.length ?? 0;
    if (data.some((row) => row.length !== width))
      throw new TypeError('image: the rows have different lengths; give a rectangular array');
    shape = [data.length, width];
    values = data.flat();
  } else
    throw new TypeError(
      `image: expected a [H, W] or [C, H, W] tensor (or an array of rows), got ${formatValue(data)}`,
    );
  const rank = shape.length;
  const channels = rank === 3 ? shape[0]! : 1;
  if ((rank !== 2 && rank !== 3) || (channels !== 1 && channels !== 3))
    throw new TypeError(
      `image: a tensor of shape ${JSON.stringify(shape)} is not an image; give [H, W] (grey) or ` +
        `[C, H, W] with C = 1 or 3 (e.g. x.reshape([28, 28]))`,
    );
  const height = shape[rank - 2]!;
  const width = shape[rank - 1]!;
  if (width * height === 0) throw new TypeError('image: the image is empty');
  if (width * height > MAX_IMAGE_PIXELS)
    throw new RangeError(
      `image: ${width}×${height} is more than ${MAX_IMAGE_PIXELS} pixels; show a crop or a ` +
        `downsampled tensor`,
    );
  // [C, H, W] planes to interleaved pixels.
  const plane = width * height;
  const pixels = new Array<number>(plane * channels);
  for (let c = 0; c < channels; c++)
    for (let i = 0; i < plane; i++) {
      const v = Number(values[c * plane + i]);
      pixels[i * channels + c] = Number.isFinite(v)
        ? Math.round(Math.max(0, Math.min(1, v)) * 255)
        : 0;
    }
  return {
    kind: 'image',
    width,
    height,
    channels: channels as 1 | 3,
    pixels,
    title: options.title ?? null,
  };
}

function isGraphDocument(value: unknown): value is GraphJSON {
  return (
    isRecordValue(value) &&
    value.format === 'wiregrad.graph' &&
    Array.isArray(value.nodes) &&
    Array.isArray(value.outputs)
  );
}

/** A record shaped like a chart a cell built by hand: `{ kind: 'chart', series: [...] }`. */
function chartFromRecord(value: Record<string, unknown>): ChartValue {
  const raw = value.series;
  if (!Array.isArray(raw))
    throw new TypeError("a chart needs 'series': an array of lines ({ name?, values | points })");
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  const series = raw.map((line: unknown, i) => {
    if (Array.isArray(line) || line instanceof Tensor) return seriesOf(`y${i + 1}`, line);
    if (!isRecordValue(line))
      throw new TypeError(`chart line ${i + 1} is ${formatValue(line)}; give an array or a record`);
    const name = text(line.name) ?? `y${i + 1}`;
    const s =
      Array.isArray(line.x) && Array.isArray(line.y)
        ? seriesOf(
            name,
            line.y.map((y: unknown, j) => ({ x: Number((line.x as unknown[])[j]), y: Number(y) })),
          )
        : seriesOf(name, line.values ?? line.points ?? line.y);
    return line.scatter === true ? { ...s, scatter: true } : s;
  });
  return {
    kind: 'chart',
    title: text(value.title),
    xLabel: text(value.xLabel),
    yLabel: text(value.yLabel),
    series,
  };
}

/** A value as the UI shows it: tensors as data, charts, images and graphs as such, else text. */
export function toCellValue(value: unknown): CellValue {
  if (value instanceof Tensor) return describeTensor(value);
  if (value instanceof Graph) return { kind: 'graph', graph: value.toJSON() };
  if (isGraphDocument(value)) return { kind: 'graph', graph: value };
  if (isRecordValue(value) && value.kind === 'chart') {
    try {
      return chartFromRecord(value);
    } catch (error) {
      return { kind: 'text', text: `[chart not drawn: ${errorOf(error).message}]` };
    }
  }
  if (isRecordValue(value) && value.kind === 'progress') {
    try {
      return progressFromRecord(value);
    } catch (error) {
      return { kind: 'text', text: `[progress not drawn: ${errorOf(error).message}]` };
    }
  }
  if (isRecordValue(value) && value.kind === 'image' && Array.isArray(value.pixels)) {
    const v = value as unknown as ImageValue;
    if (
      v.width * v.height * v.channels === v.pixels.length &&
      (v.channels === 1 || v.channels === 3)
    )
      return v;
  }
  return { kind: 'text', text: clip(formatValue(value)) };
}

/** Line and column of the first stack frame inside the module at `url`. */
function frameIn(stack: string, url: string): { line: number; column: number } | null {
  let from = stack.indexOf(url);
  while (from >= 0) {
    const match = /^:(\d+):(\d+)/.exec(stack.slice(from + url.length));
    if (match) return { line: Number(match[1]), column: Number(match[2]) };
    from = stack.indexOf(url, from + url.length);
  }
  return null;
}

function errorOf(thrown: unknown): { name: string; message: string; stack: string } {
  if (thrown instanceof Error)
    return { name: thrown.name, message: thrown.message, stack: thrown.stack ?? '' };
  return { name: 'Error', message: `a value was thrown: ${formatValue(thrown)}`, stack: '' };
}

/** Sucrase's parse errors end with "(line:column)". */
function sucraseError(thrown: unknown): CellError {
  const { message } = errorOf(thrown);
  const match = /\((\d+):(\d+)\)\s*$/.exec(message);
  return {
    name: 'SyntaxError',
    message: message.replace(/\s*\(\d+:\d+\)\s*$/, ''),
    line: match ? Number(match[1]) : null,
    column: match ? Number(match[2]) + 1 : null,
  };
}

/** Removes a cell's TypeScript types, keeping lines in place. */
export function transpileCell(source: string): string {
  return transform(source, {
    transforms: ['typescript'],
    disableESTransforms: true,
    preserveDynamicImport: true,
  }).code;
}

let runCounter = 0;

/** Receives a running cell's output lines: those from index `from` on are `logs`. */
export type LogListener = (from: number, logs: readonly CellLog[]) => void;

/**
 * A running cell's output lines. Changes go to the listener at once when the last batch is at
 * least STREAM_MS old, else in one batch when that time is up (a timer, which fires when the
 * cell awaits) or with the next change after it (so a cell that never yields still streams).
 * The listener gets the lines from the first one changed since the last batch.
 */
export class LogStream {
  readonly logs: CellLog[] = [];
  private dirtyFrom = Infinity;
  private lastSent = -Infinity;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(private listener?: LogListener) {}

  push(log: CellLog): void {
    this.logs.push(log);
    this.changed(this.logs.length - 1);
  }

  /** Replaces the line shown under display id `id`, or adds it. */
  display(id: string, log: CellLog): void {
    const at = this.logs.findIndex((l) => l.display === id);
    if (at < 0) return this.push(log);
    this.logs[at] = log;
    this.changed(at);
  }

  /** Forgets every line (a cell run again from the start). */
  clear(): void {
    this.logs.length = 0;
    this.changed(0);
  }

  /** The run ended: its result carries every line, so nothing more is streamed. */
  close(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.listener = undefined;
  }

  private changed(index: number): void {
    if (!this.listener) return;
    this.dirtyFrom = Math.min(this.dirtyFrom, index);
    const wait = STREAM_MS - (Date.now() - this.lastSent);
    if (wait <= 0) this.flush();
    else
      this.timer ??= setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, wait);
  }

  private flush(): void {
    if (!this.listener || this.dirtyFrom === Infinity) return;
    const from = Math.min(this.dirtyFrom, this.logs.length);
    this.dirtyFrom = Infinity;
    this.lastSent = Date.now();
    this.listener(from, this.logs.slice(from));
  }
}

export class Kernel {
  private readonly bindings = new Map<string, Binding>();
  private queue: Promise<unknown> = Promise.resolve();

  /** `now` is the clock progress bars are timed with (ms). */
  constructor(
    private readonly importer: ModuleImporter = importModule,
    private readonly now: () => number = Date.now,
  ) {}

  /** The names in the shared scope, in the order they were first declared. */
  names(): string[] {
    return [...this.bindings.keys()];
  }

  /** The current value of a name in the shared scope (undefined when it has none). */
  value(name: string): unknown {
    try {
      return this.bindings.get(name)?.get();
    } catch {
      return undefined;
    }
  }

  /**
   * Runs one cell after those already queued; never rejects (errors are in the result).
   * `onLogs` receives the cell's output lines while it runs (see `LogStream`).
   */
  run(cell: number, source: string, onLogs?: LogListener): Promise<CellRun> {
    const next = this.queue.then(() => this.runNow(cell, source, onLogs));
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Forgets every name, disposing the tensors they hold. */
  reset(): void {
    for (const name of this.bindings.keys()) {
      const value = this.value(name);
      if (value instanceof Tensor && !value.isDisposed) dispose(value);
    }
    this.bindings.clear();
  }

  private async runNow(cell: number, source: string, onLogs?: LogListener): Promise<CellRun> {
    const started = Date.now();
    const stream = new LogStream(onLogs);
    try {
      return await this.runStreaming(cell, source, started, stream);
    } finally {
      stream.close();
    }
  }

  private async runStreaming(
    cell: number,
    source: string,
    started: number,
    stream: LogStream,
  ): Promise<CellRun> {
    const logs = stream.logs;
    const finish = (
      value: CellValue | null,
      error: CellError | null,
      names: readonly string[],
    ): CellRun => ({ cell, logs, value, error, names, ms: Date.now() - started });

    let js: string;
    try {
      js = transpileCell(source);
    } catch (thrown) {
      return finish(null, sucraseError(thrown), []);
    }
    const shape = analyzeCell(js);
    let result = await this.evaluate(js, shape.declarations, shape.lastExpression, stream);
    if (result.syntaxError && shape.lastExpression) {
      // The guess at the last statement was wrong: run the cell as written, without its value.
      stream.clear();
      result = await this.evaluate(js, shape.declarations, null, stream);
    }
    const value = result.error || result.last === undefined ? null : toCellValue(result.last);
    return finish(value, result.error, result.error ? [] : shape.declarations.map((d) => d.name));
  }

  private async evaluate(
    js: string,
    declarations: readonly Declaration[],
    lastExpression: { start: number; end: number } | null,
    stream: LogStream,
  ): Promise<{ last: unknown; error: CellError | null; syntaxError: boolean }> {
    const own = new Set(declarations.map((d) => d.name));
    const reserved = new Set(['wg', 'console']);
    // The output helpers, unless a cell declared a name of its own with that name.
    const helpers = ['plot', 'image', 'progress', 'display'].filter(
      (n) => !own.has(n) && !this.bindings.has(n),
    );
    const imported = [...this.bindings].filter(([name]) => !own.has(name) && !reserved.has(name));
    const bridgeName = `__wgKernel${++runCounter}`;
    const key = JSON.stringify(KERNEL_KEY);
    const prologue: string[] = [`const ${bridgeName} = globalThis[Symbol.for(${key})];`];
    if (!own.has('wg')) prologue.push(`const wg = ${bridgeName}.wg;`);
    if (!own.has('console')) prologue.push(`const console = ${bridgeName}.console;`);
    for (const name of helpers) prologue.push(`const ${name} = ${bridgeName}.${name};`);
    for (const [name, binding] of imported)
      prologue.push(
        `${binding.kind === 'const' ? 'const' : 'let'} ${name} = ${bridgeName}.read(${JSON.stringify(name)});`,
      );
    // Accessors for this cell's declarations and the earlier `let` names it may assign. They
    // are registered before the body runs (the body's bindings are hoisted), read afterwards.
    const accessors = [
      ...declarations.map((d) => [d.name, d.kind] as const),
      ...imported.filter(([, b]) => b.kind === 'let').map(([name]) => [name, 'let'] as const),
    ].map(
      ([name, kind]) =>
        `get ${name}() { return ${name}; }` +
        (kind === 'let' ? `, set ${name}(v) { ${name} = v; }` : ''),
    );
    prologue.push(`${bridgeName}.bind({ ${accessors.join(', ')} });`);
    const head = prologue.join(' ');
    const body = lastExpression
      ? `${js.slice(0, lastExpression.start)}${bridgeName}.setLast((${js.slice(
          lastExpression.start,
          lastExpression.end,
        )}));${js.slice(lastExpression.end)}`
      : js;
    // The prologue shares the first line with the cell, so line numbers are the source's.
    const moduleSource = `${head} ${body}\n`;

    // Where the module's columns differ from the source's: the prologue before line 1, and the
    // `setLast((` inserted before the final expression.
    const setLastOpen = `${bridgeName}.setLast((`;
    const lastLine = lastExpression ? lineOf(js, lastExpression.start) : 0;
    const lastColumn = lastExpression ? columnOf(js, lastExpression.start) : 0;
    const sourceColumn = (line: number, column: number): number => {
      let c = line === 1 ? column - head.length - 1 : column;
      if (line === lastLine && c > lastColumn) c = Math.max(lastColumn, c - setLastOpen.length);
      return Math.max(1, c);
    };
    let last: unknown;
    let accessorsOf: Record<string, unknown> = {};
    const initial = new Map(imported.map(([name, b]) => [name, safeGet(b)]));
    // Progress bars are timed from the first one shown with the same display id (else title).
    const clock = new ProgressClock(this.now);
    const shown = (value: unknown, id?: string): CellValue => {
      const v = toCellValue(value);
      return v.kind === 'progress' ? clock.stamp(id ?? `title:${v.title ?? ''}`, v) : v;
    };
    // A bar the cell made but did not show (a bare `progress(i, n)` statement in a loop) is
    // shown anyway, updating one line per title; one it displays, logs or ends with is not
    // shown twice. The check waits a microtask, so `display(progress(…), id)` claims it first.
    const claimed = new WeakSet<object>();
    const claim = (value: unknown): void => {
      if (typeof value === 'object' && value !== null) claimed.add(value);
    };
    const unshown = new Set<ProgressValue>();
    const showBare = (bar: ProgressValue): void => {
      if (!unshown.delete(bar) || claimed.has(bar)) return;
      const id = `progress:${bar.title ?? ''}`;
      stream.display(id, { level: 'log', values: [shown(bar, id)], display: id });
    };
    const record =
      (level: CellLog['level']) =>
      (...args: unknown[]): void => {
        args.forEach(claim);
        stream.push({ level, values: args.map((a) => shown(a)) });
      };
    const bridge: KernelBridge = {
      wg,
      plot,
      image,
      progress: (done, total, info) => {
        // Bars made earlier and still unclaimed were bare statements: show them now, so a loop
        // that never awaits still updates its bar (one step behind) while it runs.
        for (const earlier of unshown) showBare(earlier);
        const bar = progress(done, total, info);
        unshown.add(bar);
        queueMicrotask(() => showBare(bar));
        return bar;
      },
      display: (value, id) => {
        claim(value);
        const log: CellLog = {
          level: 'log',
          values: [shown(value, id === undefined ? undefined : String(id))],
        };
        if (id === undefined) stream.push(log);
        else stream.display(String(id), { ...log, display: String(id) });
      },
      console: {
        log: record('log'),
        info: record('info'),
        debug: record('log'),
        warn: record('warn'),
        error: record('error'),
      },
      read: (name) => this.value(name),
      bind: (a) => {
        accessorsOf = a;
      },
      setLast: (value) => {
        claim(value);
        // A progress bar as the cell's value is timed when the cell reaches it.
        last = isRecordValue(value) && value.kind === 'progress' ? shown(value) : value;
      },
    };
    const slot = globalThis as unknown as Record<symbol, KernelBridge | undefined>;
    slot[Symbol.for(KERNEL_KEY)] = bridge;
    let url = '';
    let error: CellError | null = null;
    let syntaxError = false;
    try {
      const imported = await this.importer(moduleSource);
      url = imported.url;
      await imported.done;
    } catch (thrown) {
      const info = errorOf(thrown);
      const frame = url ? frameIn(info.stack, url) : null;
      syntaxError = info.name === 'SyntaxError' && !frame;
      error = {
        name: info.name,
        message: info.message,
        line: frame?.line ?? null,
        column: frame ? sourceColumn(frame.line, frame.column) : null,
      };
    } finally {
      slot[Symbol.for(KERNEL_KEY)] = undefined;
    }
    if (syntaxError && lastExpression) return { last: undefined, error, syntaxError };
    this.adopt(declarations, imported, initial, accessorsOf);
    return { last, error, syntaxError };
  }

  /**
   * After a cell ran (or threw): its declarations join the shared scope (those it reached), and
   * earlier `let` names it assigned are written back to the cells that declared them.
   */
  private adopt(
    declarations: readonly Declaration[],
    imported: readonly (readonly [string, Binding])[],
    initial: ReadonlyMap<string, unknown>,
    accessors: Record<string, unknown>,
  ): void {
    const descriptorOf = (name: string) => Object.getOwnPropertyDescriptor(accessors, name);
    for (const [name, binding] of imported) {
      if (binding.kind !== 'let' || !binding.set) continue;
      const getter = descriptorOf(name)?.get;
      if (!getter) continue;
      const now = safeCall(getter);
      if (now.ok && now.value !== initial.get(name)) binding.set(now.value);
    }
    for (const { name, kind } of declarations) {
      const descriptor = descriptorOf(name);
      const get = descriptor?.get;
      if (!get || !safeCall(get).ok) continue; // never initialised: the cell threw before it
      const set = descriptor.set;
      this.bindings.delete(name);
      this.bindings.set(name, {
        kind,
        get: () => get.call(accessors),
        set: kind === 'let' && set ? (v) => set.call(accessors, v) : null,
      });
    }
  }
}

/** 1-based line of an offset. */
function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** 1-based column of an offset. */
function columnOf(text: string, offset: number): number {
  return offset - text.lastIndexOf('\n', offset - 1);
}

function safeGet(binding: Binding): unknown {
  try {
    return binding.get();
  } catch {
    return undefined;
  }
}

function safeCall(get: () => unknown): { ok: boolean; value?: unknown } {
  try {
    return { ok: true, value: get() };
  } catch {
    return { ok: false };
  }
}

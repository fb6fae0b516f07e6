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
import type { CellError, CellLog, CellRun, CellValue } from '../protocol/messages.js';
import { dispose } from '../runtime/scope.js';
import { Tensor } from '../tensor.js';
import { analyzeCell, type Declaration } from './cell-source.js';

/** Imports a module's source text; resolves when it has run. */
export type ModuleImporter = (source: string) => Promise<{ url: string; done: Promise<unknown> }>;

/** How many tensor values travel back to the UI (a 64×64 heatmap, or the start of more). */
export const MAX_TENSOR_VALUES = 4096;
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

/** A value as the UI shows it: tensors as data, everything else as text. */
export function toCellValue(value: unknown): CellValue {
  if (value instanceof Tensor) return describeTensor(value);
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

export class Kernel {
  private readonly bindings = new Map<string, Binding>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly importer: ModuleImporter = importModule) {}

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

  /** Runs one cell after those already queued; never rejects (errors are in the result). */
  run(cell: number, source: string): Promise<CellRun> {
    const next = this.queue.then(() => this.runNow(cell, source));
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

  private async runNow(cell: number, source: string): Promise<CellRun> {
    const started = Date.now();
    const logs: CellLog[] = [];
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
    let result = await this.evaluate(js, shape.declarations, shape.lastExpression, logs);
    if (result.syntaxError && shape.lastExpression) {
      // The guess at the last statement was wrong: run the cell as written, without its value.
      logs.length = 0;
      result = await this.evaluate(js, shape.declarations, null, logs);
    }
    const value = result.error || result.last === undefined ? null : toCellValue(result.last);
    return finish(value, result.error, result.error ? [] : shape.declarations.map((d) => d.name));
  }

  private async evaluate(
    js: string,
    declarations: readonly Declaration[],
    lastExpression: { start: number; end: number } | null,
    logs: CellLog[],
  ): Promise<{ last: unknown; error: CellError | null; syntaxError: boolean }> {
    const own = new Set(declarations.map((d) => d.name));
    const reserved = new Set(['wg', 'console']);
    const imported = [...this.bindings].filter(([name]) => !own.has(name) && !reserved.has(name));
    const bridgeName = `__wgKernel${++runCounter}`;
    const key = JSON.stringify(KERNEL_KEY);
    const prologue: string[] = [`const ${bridgeName} = globalThis[Symbol.for(${key})];`];
    if (!own.has('wg')) prologue.push(`const wg = ${bridgeName}.wg;`);
    if (!own.has('console')) prologue.push(`const console = ${bridgeName}.console;`);
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
    const record =
      (level: CellLog['level']) =>
      (...args: unknown[]): void => {
        logs.push({ level, values: args.map(toCellValue) });
      };
    const bridge: KernelBridge = {
      wg,
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
        last = value;
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

/**
 * Notebook cells in the saved file. The file stays what engine/protocol/notebook.ts writes (a
 * Jupyter notebook whose graph lives in one cell's `metadata.wiregrad.graph`); this module adds
 * the other cells around that graph cell as ordinary nbformat cells, so Jupyter and GitHub show
 * them: markdown as markdown, code as code with its outputs in nbformat's form (stream,
 * execute_result, error). The exact output (tensor values …) also travels in the code cell's
 * `metadata.wiregrad.output`, which is what Wiregrad reads back.
 *
 * Reading is tolerant: a plain graph document (`.json` of earlier builds) or a notebook with only
 * the graph cell opens as one graph cell; unknown cell types are skipped; a malformed output is
 * dropped rather than refusing the file (the graph reader has already accepted it).
 */

import type { CellError, CellLog, CellValue } from '../../engine/protocol/messages.js';
import { type Cell, type CellOutput, makeCell } from './cells.js';

/** What a notebook holds besides the graph. */
export interface NotebookContent {
  readonly cells: readonly Cell[];
  readonly outputs: Readonly<Record<string, CellOutput>>;
}

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function sourceText(source: unknown): string {
  if (typeof source === 'string') return source;
  if (Array.isArray(source)) return source.filter((s) => typeof s === 'string').join('');
  return '';
}

function toSourceLines(text: string): string[] {
  return text === '' ? [] : text.split(/(?<=\n)/);
}

const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

const isNumberList = (v: unknown): boolean =>
  Array.isArray(v) && v.every((x) => typeof x === 'number' || x === null);

function isCellValue(v: unknown): v is CellValue {
  if (!isRecord(v)) return false;
  if (v.kind === 'text') return typeof v.text === 'string';
  if (v.kind === 'graph') return isRecord(v.graph) && Array.isArray(v.graph.nodes);
  if (v.kind === 'chart')
    return (
      Array.isArray(v.series) &&
      v.series.every(
        (s) =>
          isRecord(s) &&
          typeof s.name === 'string' &&
          isNumberList(s.x) &&
          isNumberList(s.y) &&
          (s.x as unknown[]).length === (s.y as unknown[]).length,
      )
    );
  if (v.kind === 'image')
    return (
      typeof v.width === 'number' &&
      typeof v.height === 'number' &&
      (v.channels === 1 || v.channels === 3) &&
      isNumberList(v.pixels) &&
      (v.pixels as unknown[]).length === v.width * v.height * v.channels
    );
  return (
    v.kind === 'tensor' &&
    Array.isArray(v.shape) &&
    v.shape.every((d) => typeof d === 'number') &&
    typeof v.dtype === 'string' &&
    Array.isArray(v.values) &&
    v.values.every((x) => typeof x === 'number' || x === null)
  );
}

/** Reads a saved output back, or null when it is not one this build understands. */
export function readOutput(v: unknown): CellOutput | null {
  if (!isRecord(v)) return null;
  const logs = Array.isArray(v.logs) ? v.logs : [];
  const validLogs: CellLog[] = [];
  for (const log of logs)
    if (
      isRecord(log) &&
      ['log', 'info', 'warn', 'error'].includes(String(log.level)) &&
      Array.isArray(log.values) &&
      log.values.every(isCellValue)
    )
      validLogs.push({
        level: log.level as CellLog['level'],
        values: (log.values as CellValue[]).map(restoreValue),
      });
  const value = isCellValue(v.value) ? restoreValue(v.value) : null;
  const e = v.error;
  const error: CellError | null =
    isRecord(e) && typeof e.message === 'string'
      ? {
          name: typeof e.name === 'string' ? e.name : 'Error',
          message: e.message,
          line: typeof e.line === 'number' ? e.line : null,
          column: typeof e.column === 'number' ? e.column : null,
        }
      : null;
  return {
    logs: validLogs,
    value: value && value.kind === 'tensor' ? { ...value, device: String(value.device) } : value,
    error,
    count: typeof v.count === 'number' ? v.count : 0,
    ms: typeof v.ms === 'number' ? v.ms : 0,
    signature: typeof v.signature === 'string' ? v.signature : '',
  };
}

/** A saved value as this build holds it: JSON's nulls (NaN, ±Infinity) back to NaN. */
function restoreValue(value: CellValue): CellValue {
  const numbers = (list: readonly (number | null)[]) => list.map((x) => x ?? NaN);
  if (value.kind === 'chart')
    return {
      ...value,
      title: value.title ?? null,
      xLabel: value.xLabel ?? null,
      yLabel: value.yLabel ?? null,
      series: value.series.map((s) => ({ ...s, x: numbers(s.x), y: numbers(s.y) })),
    };
  if (value.kind === 'image') return { ...value, title: value.title ?? null };
  return value;
}

function valueText(value: CellValue): string {
  if (value.kind === 'text') return value.text;
  if (value.kind === 'graph')
    return `Graph ${value.graph.name ?? ''} (${value.graph.nodes.length} nodes)`.replace('  ', ' ');
  if (value.kind === 'chart')
    return `Chart${value.title ? ` "${value.title}"` : ''}: ${value.series
      .map((s) => `${s.name} (${s.y.length} points)`)
      .join(', ')}`;
  if (value.kind === 'image')
    return `Image ${value.width}×${value.height}${value.title ? ` "${value.title}"` : ''}`;
  const shown = value.values.slice(0, 20).join(', ');
  return (
    `Tensor(${JSON.stringify(value.shape)}, ${value.dtype}) ` +
    `[${shown}${value.values.length > 20 || value.truncated ? ', …' : ''}]`
  );
}

/** A code cell's output as nbformat output objects, for readers outside Wiregrad. */
function nbOutputs(output: CellOutput): Json[] {
  const outputs: Json[] = [];
  for (const log of output.logs)
    outputs.push({
      output_type: 'stream',
      name: log.level === 'warn' || log.level === 'error' ? 'stderr' : 'stdout',
      text: toSourceLines(`${log.values.map(valueText).join(' ')}\n`),
    });
  if (output.value)
    outputs.push({
      output_type: 'execute_result',
      execution_count: output.count,
      data: { 'text/plain': toSourceLines(valueText(output.value)) },
      metadata: {},
    });
  if (output.error)
    outputs.push({
      output_type: 'error',
      ename: output.error.name,
      evalue: output.error.message,
      traceback: [
        output.error.line !== null
          ? `${output.error.name}: ${output.error.message} (line ${output.error.line})`
          : `${output.error.name}: ${output.error.message}`,
      ],
    });
  return outputs;
}

/**
 * Adds the notebook's cells to the text `toNotebook` wrote (which has the graph cell only): the
 * graph cell keeps its place among them. The result is the file's text.
 */
export function writeNotebookCells(graphNotebookText: string, content: NotebookContent): string {
  const notebook = JSON.parse(graphNotebookText) as Json;
  const graphCells = Array.isArray(notebook.cells) ? (notebook.cells as Json[]) : [];
  const graphCell = graphCells[0];
  const cells: Json[] = [];
  let graphWritten = false;
  for (const cell of content.cells) {
    if (cell.kind === 'graph') {
      if (graphCell && !graphWritten) cells.push(graphCell);
      graphWritten = true;
    } else if (cell.kind === 'markdown') {
      cells.push({
        id: cell.id,
        cell_type: 'markdown',
        metadata: {},
        source: toSourceLines(cell.source),
      });
    } else {
      const output = content.outputs[cell.id];
      cells.push({
        id: cell.id,
        cell_type: 'code',
        metadata: output ? { wiregrad: { output } } : {},
        source: toSourceLines(cell.source),
        execution_count: output ? output.count : null,
        outputs: output ? nbOutputs(output) : [],
      });
    }
  }
  if (graphCell && !graphWritten) cells.unshift(graphCell);
  return `${JSON.stringify({ ...notebook, cells }, null, 1)}\n`;
}

/**
 * The cells of a file the graph reader accepted: its markdown and code cells in order with the
 * graph cell where the graph was (first when the file is a plain graph document or has none).
 */
export function readNotebookCells(text: string): NotebookContent {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { cells: [makeCell('graph')], outputs: {} };
  }
  if (!isRecord(json) || !Array.isArray(json.cells))
    return { cells: [makeCell('graph')], outputs: {} };
  const cells: Cell[] = [];
  const outputs: Record<string, CellOutput> = {};
  const used = new Set<string>();
  let hasGraph = false;
  for (const raw of json.cells) {
    if (!isRecord(raw)) continue;
    const meta = isRecord(raw.metadata) ? raw.metadata : {};
    const wiregrad = isRecord(meta.wiregrad) ? meta.wiregrad : {};
    let id = typeof raw.id === 'string' && ID_PATTERN.test(raw.id) ? raw.id : undefined;
    if (id && used.has(id)) id = undefined;
    if ('graph' in wiregrad) {
      if (hasGraph) continue;
      hasGraph = true;
      cells.push(makeCell('graph', '', id));
    } else if (raw.cell_type === 'markdown' || raw.cell_type === 'code') {
      const cell = makeCell(raw.cell_type, sourceText(raw.source), id);
      cells.push(cell);
      const output = raw.cell_type === 'code' ? readOutput(wiregrad.output) : null;
      if (output) outputs[cell.id] = output;
    }
    used.add(cells[cells.length - 1]?.id ?? '');
  }
  if (!hasGraph) cells.unshift(makeCell('graph'));
  return { cells, outputs };
}

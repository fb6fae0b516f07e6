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
 *
 * Several graph cells: the active one (the canvas's document) is written from the text the graph
 * writer produced for the canvas; the others from their graphs, kept beside the cells by id. A
 * graph cell whose graph cannot be read opens as a cell that says why and is written back
 * exactly as it was, so opening and saving never loses it.
 */

import type { GraphJSON } from '../../engine/graph/ir.js';
import type { CellError, CellLog, CellValue } from '../../engine/protocol/messages.js';
import {
  GRAPH_CELL_ID,
  activeGraphIndex,
  graphCell,
  isGraphCell,
  readGraphEnvelope,
  wiregradMetadata,
} from '../../engine/protocol/notebook.js';
import { type Cell, type CellOutput, makeCell, newCellId } from './cells.js';
import { progressText } from './progress-format.js';

/**
 * What a graph cell holds: its graph (layout in `meta.layout`), or, when the file's graph could
 * not be read, the cell as it was in the file and why.
 */
export type GraphSlot =
  | { readonly graph: GraphJSON }
  | { readonly raw: Readonly<Record<string, unknown>>; readonly error: string };

/** What a notebook holds besides the canvas's graph. */
export interface NotebookContent {
  readonly cells: readonly Cell[];
  readonly outputs: Readonly<Record<string, CellOutput>>;
  /**
   * The graphs of graph cells by cell id. The active cell's entry may lag behind the canvas,
   * which holds the live document; it is not written.
   */
  readonly graphs?: Readonly<Record<string, GraphSlot>>;
  /** The id of the active graph cell (the canvas's document); the first graph cell if absent. */
  readonly active?: string;
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
  if (v.kind === 'progress')
    return (
      typeof v.done === 'number' &&
      typeof v.total === 'number' &&
      v.total > 0 &&
      v.done >= 0 &&
      v.done <= v.total &&
      isRecord(v.metrics) &&
      Object.values(v.metrics).every((x) => typeof x === 'number' || x === null)
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
        ...(typeof log.display === 'string' ? { display: log.display } : {}),
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
  if (value.kind === 'progress') {
    const ms = (v: unknown) => (typeof v === 'number' ? v : null);
    return {
      kind: 'progress',
      done: value.done,
      total: value.total,
      title: typeof value.title === 'string' ? value.title : null,
      metrics: Object.fromEntries(
        Object.entries(value.metrics).map(([k, v]) => [k, (v as number | null) ?? NaN]),
      ),
      elapsedMs: ms(value.elapsedMs),
      etaMs: ms(value.etaMs),
    };
  }
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
  if (value.kind === 'progress') return progressText(value);
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
 * Adds the notebook's cells to the text `toNotebook` wrote (which has the canvas's graph cell
 * only): that cell takes the active graph cell's place and id, the other graph cells are written
 * from `content.graphs`. The result is the file's text.
 */
export function writeNotebookCells(graphNotebookText: string, content: NotebookContent): string {
  const notebook = JSON.parse(graphNotebookText) as Json;
  const graphCells = Array.isArray(notebook.cells) ? (notebook.cells as Json[]) : [];
  const canvasCell = graphCells[0];
  const active = content.active ?? content.cells.find((c) => c.kind === 'graph')?.id;
  const cells: Json[] = [];
  let graphWritten = false;
  let graphCount = 0;
  for (const cell of content.cells) {
    if (cell.kind === 'graph') {
      const slot = content.graphs?.[cell.id];
      if (cell.id === active) {
        if (canvasCell && !graphWritten) {
          cells.push({ ...canvasCell, id: cell.id });
          graphCount++;
        }
        graphWritten = true;
      } else if (slot) {
        cells.push(
          'graph' in slot
            ? (graphCell(slot.graph, cell.id) as unknown as Json)
            : { ...slot.raw, id: cell.id },
        );
        graphCount++;
      }
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
  if (canvasCell && !graphWritten) {
    cells.unshift(canvasCell);
    graphCount++;
  }
  const activeId = (canvasCell && !graphWritten ? canvasCell.id : active) ?? '';
  const metadata = isRecord(notebook.metadata) ? notebook.metadata : {};
  const wiregrad = isRecord(metadata.wiregrad) ? metadata.wiregrad : {};
  return `${JSON.stringify(
    {
      ...notebook,
      metadata: {
        ...metadata,
        wiregrad: { ...wiregrad, ...wiregradMetadata(graphCount, String(activeId)) },
      },
      cells,
    },
    null,
    1,
  )}\n`;
}

/** The content of a file with no cells of its own: one graph cell, the canvas's. */
function graphOnly(): Required<NotebookContent> {
  const cell = makeCell('graph');
  return { cells: [cell], outputs: {}, graphs: {}, active: cell.id };
}

/**
 * The cells of a file the graph reader accepted: its markdown and code cells in order with the
 * graph cells where their graphs were (one graph cell first when the file is a plain graph
 * document or has none), each graph cell's graph, and which graph cell is active (the one the
 * graph reader opened on the canvas).
 */
export function readNotebookCells(text: string): Required<NotebookContent> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return graphOnly();
  }
  if (!isRecord(json) || !Array.isArray(json.cells)) return graphOnly();
  const rawCells = json.cells as unknown[];
  const activeIndex = activeGraphIndex({ metadata: json.metadata, cells: rawCells });
  const cells: Cell[] = [];
  const outputs: Record<string, CellOutput> = {};
  const graphs: Record<string, GraphSlot> = {};
  let active: string | undefined;
  const used = new Set<string>();
  let graphNumber = 0;
  for (const [index, raw] of rawCells.entries()) {
    if (!isRecord(raw)) continue;
    const meta = isRecord(raw.metadata) ? raw.metadata : {};
    const wiregrad = isRecord(meta.wiregrad) ? meta.wiregrad : {};
    let id = typeof raw.id === 'string' && ID_PATTERN.test(raw.id) ? raw.id : undefined;
    if (id && used.has(id)) id = undefined;
    if (isGraphCell(raw)) {
      graphNumber++;
      // The first graph cell may keep the format's graph cell id; later ones need their own.
      const wanted = id ?? (graphNumber === 1 ? GRAPH_CELL_ID : newCellId());
      const cell = makeCell('graph', '', used.has(wanted) ? newCellId() : wanted);
      cells.push(cell);
      if (index === activeIndex) active = cell.id;
      try {
        graphs[cell.id] = { graph: readGraphEnvelope(wiregrad.graph, 'its graph') };
      } catch (error) {
        graphs[cell.id] = {
          raw,
          error:
            `Graph cell ${graphNumber} (cell ${index + 1}, id '${cell.id}') cannot be read: ` +
            `${error instanceof Error ? error.message : String(error)}. It is kept as it was in ` +
            'the file; fix it in a text editor or delete the cell',
        };
      }
    } else if (raw.cell_type === 'markdown' || raw.cell_type === 'code') {
      const cell = makeCell(raw.cell_type, sourceText(raw.source), id);
      cells.push(cell);
      const output = raw.cell_type === 'code' ? readOutput(wiregrad.output) : null;
      if (output) outputs[cell.id] = output;
    }
    used.add(cells[cells.length - 1]?.id ?? '');
  }
  if (active === undefined) {
    const first = cells.find((c) => c.kind === 'graph');
    if (first) active = first.id;
    else {
      const cell = makeCell('graph');
      cells.unshift(cell);
      active = cell.id;
    }
  }
  return { cells, outputs, graphs, active };
}

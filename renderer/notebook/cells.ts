/**
 * The notebook document: an ordered list of cells, each markdown, code (TypeScript run by the
 * engine worker's kernel) or graph (a model; a notebook holds one or more, and the active one is
 * the canvas document, which the canvas edits). Cells are immutable values and every edit is a pure command returning the next
 * list and an undo label, as the canvas's commands do. Outputs are not part of the document
 * (running a cell is not an edit to undo); they live beside it, keyed by cell id.
 */

import type { CellError, CellLog, CellValue } from '../../engine/protocol/messages.js';
import { GRAPH_CELL_ID } from '../../engine/protocol/notebook.js';

export type CellKind = 'markdown' | 'code' | 'graph';

export interface Cell {
  /** Stable across edits and saves (an nbformat 4.5 cell id: [A-Za-z0-9_-], 1-64 chars). */
  readonly id: string;
  readonly kind: CellKind;
  /** Markdown or TypeScript text; empty for a graph cell. */
  readonly source: string;
}

/** A code cell's last run, as shown under it and saved with it. */
export interface CellOutput {
  readonly logs: readonly CellLog[];
  readonly value: CellValue | null;
  readonly error: CellError | null;
  /** The kernel's run counter when it ran ([3] in the margin). */
  readonly count: number;
  readonly ms: number;
  /** `upstreamSignature` of the cell when it ran: a different one now means stale. */
  readonly signature: string;
}

/** The result of a command: the next cells and what Undo would say. */
export interface CellEdit {
  readonly cells: readonly Cell[];
  readonly label: string;
}

let idCounter = 0;

/** A new cell id, unique within a session and very likely across files. */
export function newCellId(): string {
  idCounter = (idCounter + 1) % 1_000_000;
  const random = Math.floor(Math.random() * 0xffffffff)
    .toString(36)
    .padStart(7, '0');
  return `cell-${Date.now().toString(36)}-${random}-${idCounter.toString(36)}`;
}

/**
 * A new cell. A graph cell without an id gets the file format's first graph cell id (what a
 * notebook with one model uses); further graph cells are made with `makeGraphCell`.
 */
export function makeCell(kind: CellKind, source = '', id?: string): Cell {
  return kind === 'graph'
    ? { id: id ?? GRAPH_CELL_ID, kind, source: '' }
    : { id: id === undefined || id === GRAPH_CELL_ID ? newCellId() : id, kind, source };
}

/** A new graph cell with an id of its own (for a second model and beyond). */
export function makeGraphCell(): Cell {
  return makeCell('graph', '', newCellId());
}

/** A new notebook: its model (the graph cell) and an empty code cell. */
export function newNotebookCells(): Cell[] {
  return [makeCell('graph'), makeCell('code')];
}

const KIND_NAMES: Readonly<Record<CellKind, string>> = {
  markdown: 'markdown cell',
  code: 'code cell',
  graph: 'graph cell',
};

function indexOf(cells: readonly Cell[], id: string): number {
  const index = cells.findIndex((c) => c.id === id);
  if (index < 0) throw new Error(`no cell '${id}' in the notebook`);
  return index;
}

/** Inserts a cell at `index` (clamped; the end when omitted). */
export function addCell(cells: readonly Cell[], cell: Cell, index = cells.length): CellEdit {
  const at = Math.max(0, Math.min(index, cells.length));
  return {
    cells: [...cells.slice(0, at), cell, ...cells.slice(at)],
    label: `Add ${KIND_NAMES[cell.kind]}`,
  };
}

/**
 * Removes a cell. The active graph cell (`active`, the canvas's model) and the last graph cell
 * cannot be removed: the canvas always has a document.
 */
export function removeCell(cells: readonly Cell[], id: string, active?: string): CellEdit {
  const index = indexOf(cells, id);
  const cell = cells[index]!;
  if (cell.kind === 'graph' && cells.filter((c) => c.kind === 'graph').length === 1)
    throw new Error('the graph cell holds the model and cannot be removed; move it instead');
  if (cell.kind === 'graph' && cell.id === active)
    throw new Error(
      'this graph cell is the model on the canvas and cannot be removed: choose ' +
        '"Edit on canvas" on another graph cell first, then delete this one',
    );
  return {
    cells: cells.filter((c) => c.id !== id),
    label: `Delete ${KIND_NAMES[cells[index]!.kind]}`,
  };
}

/** Moves a cell by `delta` places (clamped to the list). */
export function moveCell(cells: readonly Cell[], id: string, delta: number): CellEdit {
  const from = indexOf(cells, id);
  const to = Math.max(0, Math.min(cells.length - 1, from + delta));
  const next = [...cells];
  const [cell] = next.splice(from, 1);
  next.splice(to, 0, cell!);
  return { cells: next, label: `Move ${KIND_NAMES[cell!.kind]} ${delta < 0 ? 'up' : 'down'}` };
}

export function editSource(cells: readonly Cell[], id: string, source: string): CellEdit {
  const index = indexOf(cells, id);
  const cell = cells[index]!;
  if (cell.kind === 'graph') throw new Error('a graph cell is edited on the canvas');
  const next = [...cells];
  next[index] = { ...cell, source };
  return { cells: next, label: `Edit ${KIND_NAMES[cell.kind]}` };
}

/** Turns a markdown cell into a code cell or back, keeping its text. */
export function setKind(cells: readonly Cell[], id: string, kind: 'markdown' | 'code'): CellEdit {
  const index = indexOf(cells, id);
  const cell = cells[index]!;
  if (cell.kind === 'graph') throw new Error('a graph cell cannot change kind');
  const next = [...cells];
  next[index] = { ...cell, kind };
  return { cells: next, label: `Change to ${KIND_NAMES[kind]}` };
}

/** FNV-1a over UTF-16 code units, as 8 hex digits: cheap, stable, not cryptographic. */
export function hashText(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * What a code cell's output depends on: its own source and the sources of the code cells above
 * it, in order. An output whose signature differs from this is stale.
 */
export function upstreamSignature(cells: readonly Cell[], id: string): string {
  const index = indexOf(cells, id);
  const parts: string[] = [];
  for (let i = 0; i <= index; i++) if (cells[i]!.kind === 'code') parts.push(cells[i]!.source);
  return hashText(parts.join('\u0000'));
}

/** Whether an output no longer matches its cell or the code cells above it. */
export function isStale(cells: readonly Cell[], id: string, output: CellOutput): boolean {
  // An output without a signature (written by another tool) cannot be judged.
  return output.signature !== '' && upstreamSignature(cells, id) !== output.signature;
}

/** The 1-based number of a cell among all cells (what errors and hooks name). */
export function cellNumber(cells: readonly Cell[], id: string): number {
  return indexOf(cells, id) + 1;
}

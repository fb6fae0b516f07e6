/**
 * The notebook file format: a Wiregrad model saved as a Jupyter nbformat 4.5 `.ipynb`, so GitHub
 * and Jupyter open it. The graph document (layout in its `meta.layout`) lives in the metadata of
 * the first cell (`cells[0].metadata.wiregrad.graph`), a markdown cell that describes the model
 * for readers who see the notebook without Wiregrad; the notebook's own `metadata.wiregrad`
 * holds the format version. Weights will travel in a `.safetensors` file beside the notebook.
 *
 * A notebook may hold several graph cells, each with its own graph. One is *active* (the one the
 * canvas edits): `metadata.wiregrad.active` names its cell id, and readers fall back to the first
 * graph cell when it is absent. A notebook with one graph cell is written as version 1, exactly
 * as before, so older builds still open it; one with several is version 2 (`active` set), which
 * older builds refuse with a message to update rather than dropping graphs.
 *
 * `toNotebook` writes; `fromNotebook` reads, migrating older versions and refusing with a
 * `NotebookError` (kind plus a message for people) anything malformed, truncated or newer, so a
 * caller can show the message and keep the open document. Nodes whose op this build does not
 * know load as `placeholder` nodes that keep the original op and attributes, and are written
 * back unchanged, so a notebook from a newer build survives a round trip through an older one.
 *
 * Pure and import-free (types only), so the renderer, the worker and the Electron main process
 * can all use it.
 */

import type { AttrValueJSON, GraphJSON, NodeJSON } from '../graph/ir.js';

/**
 * The newest version of Wiregrad's notebook layout (`metadata.wiregrad.version`) this build
 * reads and writes: 2 when a notebook holds several graph cells (`MULTI_GRAPH_VERSION`).
 */
export const NOTEBOOK_VERSION = 2;

/** The version written for a notebook with one graph cell (what every earlier build reads). */
export const SINGLE_GRAPH_VERSION = 1;

/** The version written for a notebook with several graph cells and `metadata.wiregrad.active`. */
export const MULTI_GRAPH_VERSION = 2;

/**
 * The newest graph document version this build reads: engine/graph/ir.ts's GRAPH_VERSION (a
 * unit test keeps them equal; this file may not import values from outside engine/protocol).
 */
export const READABLE_GRAPH_VERSION = 1;

/** The op of a node that stands for an op this build does not know. */
export const PLACEHOLDER_OP = 'placeholder';

/** The id of the cell that holds the graph (nbformat 4.5 ids: 1-64 of [A-Za-z0-9_-]). */
export const GRAPH_CELL_ID = 'wiregrad-model';

export type NotebookErrorKind =
  'not-json' | 'truncated' | 'not-notebook' | 'no-graph' | 'newer-version' | 'invalid';

/** Why a file could not be read; `message` says what to do. */
export class NotebookError extends Error {
  constructor(
    readonly kind: NotebookErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'NotebookError';
  }
}

/** One nbformat 4.5 cell as Wiregrad writes it (a markdown cell). */
export interface NotebookCell {
  readonly id: string;
  readonly cell_type: 'markdown' | 'code' | 'raw';
  readonly metadata: Record<string, unknown>;
  /** nbformat's multiline string: lines that keep their '\n' (all but the last). */
  readonly source: string | readonly string[];
  readonly outputs?: readonly unknown[];
  readonly execution_count?: number | null;
}

export interface Notebook {
  readonly nbformat: 4;
  readonly nbformat_minor: number;
  readonly metadata: Record<string, unknown>;
  readonly cells: readonly NotebookCell[];
}

/** Upgrades `metadata.wiregrad` plus the graph from version n to n + 1, keyed by n. */
export type NotebookMigration = (notebook: Notebook) => Notebook;
/**
 * Version 1 → 2: nothing to rewrite. A version 1 notebook holds one graph cell, which is the
 * active one when `metadata.wiregrad.active` is absent.
 */
export const NOTEBOOK_MIGRATIONS: Readonly<Record<number, NotebookMigration>> = {
  1: (notebook) => notebook,
};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Splits text into nbformat's list of lines, each but the last keeping its newline. */
function toSourceLines(text: string): string[] {
  return text.split(/(?<=\n)/);
}

function escapeMarkdown(text: string): string {
  return text.replace(/([\\`*_[\]<>|#])/g, '\\$1');
}

/** A short description of the model for people reading the notebook on GitHub or in Jupyter. */
export function describeModel(graph: GraphJSON): string {
  const name = graph.name?.trim() || 'Untitled model';
  const nodes = graph.nodes;
  const byOp = (op: string): NodeJSON[] => nodes.filter((n) => n.op === op);
  const label = (n: NodeJSON): string => `\`${(n.name ?? n.id).replace(/`/g, "'")}\``;
  const list = (items: readonly NodeJSON[]): string =>
    items.length === 0 ? 'none' : items.map(label).join(', ');
  const ops = new Map<string, number>();
  for (const n of nodes) ops.set(n.op, (ops.get(n.op) ?? 0) + 1);
  const opList = [...ops].map(([op, count]) => `${op} × ${count}`).join(', ');
  const outputs = graph.outputs.map((o) => `\`${o.name.replace(/`/g, "'")}\``).join(', ');
  return [
    `# ${escapeMarkdown(name)}`,
    '',
    `A Wiregrad model: ${nodes.length} node` + `${nodes.length === 1 ? '' : 's'}.`,
    '',
    `- **Inputs:** ${list(byOp('input'))}`,
    `- **Parameters:** ${list(byOp('parameter'))}`,
    `- **Outputs:** ${outputs || 'none'}`,
    `- **Ops:** ${opList || 'none'}`,
    '',
    'Open this notebook in Wiregrad to see and edit the graph; it is stored in this cell’s ' +
      'metadata (`metadata.wiregrad.graph`).',
  ].join('\n');
}

/** Puts placeholder nodes back as the op and attributes they stand for. */
function restorePlaceholder(node: NodeJSON): NodeJSON {
  if (node.op !== PLACEHOLDER_OP) return node;
  const op = node.attrs.op;
  const attrs = node.attrs.attrs;
  if (typeof op !== 'string' || typeof attrs !== 'string') return node;
  try {
    const parsed: unknown = JSON.parse(attrs);
    if (!isRecord(parsed)) return node;
    return { ...node, op, attrs: parsed as Record<string, AttrValueJSON> };
  } catch {
    return node;
  }
}

/**
 * A graph cell as written: a markdown cell describing the model, the graph (placeholders put
 * back as the ops they stand for) in `metadata.wiregrad.graph`.
 */
export function graphCell(graph: GraphJSON, id: string = GRAPH_CELL_ID): NotebookCell {
  const saved: GraphJSON = { ...graph, nodes: graph.nodes.map(restorePlaceholder) };
  return {
    id,
    cell_type: 'markdown',
    metadata: { wiregrad: { graph: saved } },
    source: toSourceLines(describeModel(saved)),
  };
}

/**
 * The notebook's `metadata.wiregrad` for `graphCells` graph cells of which `active` (a cell id)
 * is on the canvas: version 1 without `active` for one graph cell, as earlier builds wrote.
 */
export function wiregradMetadata(graphCells: number, active: string): Record<string, unknown> {
  return graphCells > 1
    ? { version: MULTI_GRAPH_VERSION, active }
    : { version: SINGLE_GRAPH_VERSION };
}

/** The notebook for a graph document (layout already in `graph.meta.layout`). */
export function toNotebook(graph: GraphJSON): Notebook {
  return {
    nbformat: 4,
    nbformat_minor: 5,
    metadata: {
      wiregrad: wiregradMetadata(1, GRAPH_CELL_ID),
      // Jupyter shows markdown without a kernel; language_info tells it what the cells are.
      language_info: { name: 'typescript' },
    },
    cells: [graphCell(graph)],
  };
}

/** Whether a cell (as parsed from a file) holds a graph: `metadata.wiregrad.graph` is set. */
export function isGraphCell(cell: unknown): boolean {
  return (
    isRecord(cell) &&
    isRecord(cell.metadata) &&
    isRecord(cell.metadata.wiregrad) &&
    'graph' in cell.metadata.wiregrad
  );
}

/**
 * The index in `cells` of the active graph cell: the one `metadata.wiregrad.active` names when
 * it is a graph cell, else the first graph cell; -1 when there is none.
 */
export function activeGraphIndex(notebook: {
  readonly metadata?: unknown;
  readonly cells: readonly unknown[];
}): number {
  const wiregrad = isRecord(notebook.metadata) ? notebook.metadata.wiregrad : undefined;
  const active = isRecord(wiregrad) ? wiregrad.active : undefined;
  if (typeof active === 'string') {
    const named = notebook.cells.findIndex(
      (cell) => isGraphCell(cell) && isRecord(cell) && cell.id === active,
    );
    if (named >= 0) return named;
  }
  return notebook.cells.findIndex(isGraphCell);
}

/** The notebook's text as saved: one-space-indented JSON and a final newline, as Jupyter writes it. */
export function notebookText(graph: GraphJSON): string {
  return `${JSON.stringify(toNotebook(graph), null, 1)}\n`;
}

/**
 * True when parsing failed because the text stops early: a string or a bracket is still open at
 * the end (a download or a disk write cut short), as opposed to text that is wrong midway.
 */
export function looksTruncated(text: string): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return inString || depth > 0 || text.trim() === '';
}

/** Parses JSON text, naming truncation separately from other syntax errors. */
export function parseJSONFile(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    const detail = error instanceof Error ? ` (${error.message})` : '';
    if (looksTruncated(text))
      throw new NotebookError(
        'truncated',
        `the ${what} is cut short: it ends before its JSON is complete${detail}. It may not have ` +
          'finished saving or downloading; open a complete copy (or the recovered autosave)',
      );
    throw new NotebookError('not-json', `the ${what} is not JSON${detail}`);
  }
}

export interface ReadOptions {
  /**
   * Whether this build knows an op. Nodes with an unknown op become placeholder nodes; without
   * this option nodes are left as written.
   */
  readonly isKnownOp?: (op: string) => boolean;
  /** Migrations by the version they upgrade from (tests inject their own). */
  readonly migrations?: Readonly<Record<number, NotebookMigration>>;
  /** The version this build writes (tests raise it to exercise migrations). */
  readonly currentVersion?: number;
}

/** The result of reading: the graph and the ids of nodes that became placeholders. */
export interface ReadGraph {
  readonly graph: GraphJSON;
  readonly placeholders: readonly string[];
}

/** A placeholder node for an op this build does not know: original op and attributes kept. */
export function placeholderFor(node: NodeJSON): NodeJSON {
  return {
    ...node,
    op: PLACEHOLDER_OP,
    attrs: { op: node.op, attrs: JSON.stringify(node.attrs) },
  };
}

/** Replaces nodes of unknown ops by placeholders; returns the graph and the replaced ids. */
export function replaceUnknownOps(graph: GraphJSON, isKnownOp: (op: string) => boolean): ReadGraph {
  const placeholders: string[] = [];
  const nodes = graph.nodes.map((node) => {
    if (node.op === PLACEHOLDER_OP || isKnownOp(node.op)) return node;
    placeholders.push(node.id);
    return placeholderFor(node);
  });
  return { graph: placeholders.length === 0 ? graph : { ...graph, nodes }, placeholders };
}

/** Checks a graph document's envelope (format, version, node list); the engine checks nodes. */
export function readGraphEnvelope(json: unknown, where: string): GraphJSON {
  if (!isRecord(json) || json.format !== 'wiregrad.graph')
    throw new NotebookError(
      'invalid',
      `${where} is not a Wiregrad graph: expected "format": "wiregrad.graph"`,
    );
  if (typeof json.version !== 'number' || !Number.isInteger(json.version) || json.version < 1)
    throw new NotebookError('invalid', `${where} has no graph version (a positive integer)`);
  if (json.version > READABLE_GRAPH_VERSION)
    throw new NotebookError(
      'newer-version',
      `${where} is graph version ${json.version}, newer than this Wiregrad reads ` +
        `(${READABLE_GRAPH_VERSION}); update Wiregrad to open it`,
    );
  if (!Array.isArray(json.nodes) || !json.nodes.every(isRecord))
    throw new NotebookError('invalid', `${where} has no "nodes" list of objects`);
  if (json.outputs !== undefined && !Array.isArray(json.outputs))
    throw new NotebookError('invalid', `${where} has an "outputs" field that is not a list`);
  return {
    ...(json as unknown as GraphJSON),
    outputs: (json.outputs ?? []) as GraphJSON['outputs'],
  };
}

/** Checks the parts of nbformat 4 this reader relies on; throws `not-notebook` otherwise. */
function readNotebookEnvelope(json: unknown): Notebook {
  if (!isRecord(json) || !('nbformat' in json) || !('cells' in json))
    throw new NotebookError(
      'not-notebook',
      'the file is not a Jupyter notebook: it has no "nbformat" and "cells"',
    );
  if (typeof json.nbformat !== 'number' || json.nbformat < 4)
    throw new NotebookError(
      'not-notebook',
      `the notebook is nbformat ${String(json.nbformat)}; Wiregrad reads nbformat 4 ` +
        '(convert it with `jupyter nbconvert --to notebook`)',
    );
  if (json.nbformat > 4)
    throw new NotebookError(
      'newer-version',
      `the notebook is nbformat ${json.nbformat}, newer than this Wiregrad reads (4); ` +
        'update Wiregrad to open it',
    );
  if (!Array.isArray(json.cells) || !isRecord(json.metadata))
    throw new NotebookError(
      'not-notebook',
      'the notebook is malformed: "cells" must be a list and "metadata" an object',
    );
  return json as unknown as Notebook;
}

/**
 * Reads a notebook's text into a graph document. Throws a `NotebookError` saying what is wrong
 * (not JSON, truncated, not a notebook, no Wiregrad graph, newer version, malformed graph).
 */
export function fromNotebook(text: string, options: ReadOptions = {}): ReadGraph {
  return graphFromNotebookJSON(parseJSONFile(text, 'notebook'), options);
}

function graphFromNotebookJSON(json: unknown, options: ReadOptions): ReadGraph {
  const currentVersion = options.currentVersion ?? NOTEBOOK_VERSION;
  const migrations = options.migrations ?? NOTEBOOK_MIGRATIONS;
  let notebook = readNotebookEnvelope(json);
  const wiregrad = notebook.metadata.wiregrad;
  if (!isRecord(wiregrad))
    throw new NotebookError(
      'no-graph',
      'this Jupyter notebook has no Wiregrad model (no "metadata.wiregrad"); Wiregrad opens ' +
        'notebooks it saved',
    );
  let version = wiregrad.version;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 1)
    throw new NotebookError(
      'invalid',
      'the notebook\'s "metadata.wiregrad.version" is not a positive integer',
    );
  if (version > currentVersion)
    throw new NotebookError(
      'newer-version',
      `the notebook was saved by a newer Wiregrad (notebook version ${version}; this one reads ` +
        `up to ${currentVersion}); update Wiregrad to open it`,
    );
  while (version < currentVersion) {
    const migrate = migrations[version];
    if (!migrate)
      throw new NotebookError(
        'invalid',
        `no migration from notebook version ${version} to ${version + 1}; this is a Wiregrad bug`,
      );
    notebook = migrate(notebook);
    version++;
  }
  const cellIndex = activeGraphIndex(notebook);
  const cell = notebook.cells[cellIndex];
  const holder = cell && isRecord(cell.metadata.wiregrad) ? cell.metadata.wiregrad : undefined;
  if (!holder || !('graph' in holder))
    throw new NotebookError(
      'no-graph',
      'the notebook has no cell with a Wiregrad graph ("metadata.wiregrad.graph"); was it ' +
        'edited outside Wiregrad?',
    );
  const graph = readGraphEnvelope(holder.graph, `cell ${cellIndex + 1}'s graph`);
  return options.isKnownOp
    ? replaceUnknownOps(graph, options.isKnownOp)
    : { graph, placeholders: [] };
}

/**
 * Reads either a notebook or a plain graph document (the `.json` files of earlier builds),
 * told apart by their content, not their name.
 */
export function readModelFile(text: string, options: ReadOptions = {}): ReadGraph {
  const json = parseJSONFile(text, 'file');
  if (isRecord(json) && json.format === 'wiregrad.graph') {
    const graph = readGraphEnvelope(json, 'the file');
    return options.isKnownOp
      ? replaceUnknownOps(graph, options.isKnownOp)
      : { graph, placeholders: [] };
  }
  return graphFromNotebookJSON(json, options);
}

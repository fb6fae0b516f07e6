/**
 * A Jupyter notebook Wiregrad did not write (no `metadata.wiregrad`, no graph cell) opened as a
 * new Wiregrad notebook: its markdown cells stay markdown, its code cells become code cells when
 * the notebook's language is one Wiregrad runs (TypeScript or JavaScript) and otherwise fenced
 * code blocks in markdown cells marked with their language (a Python cell is read, not run), with
 * their text outputs quoted below them. An empty model's graph cell goes last. The result is the
 * text of a Wiregrad notebook, which the ordinary readers then open; nothing of the original file
 * is changed.
 */

import { isGraphCell, notebookText } from '../../engine/protocol/notebook.js';
import { documentToFile, emptyDocument } from '../state/document.js';
import { type Cell, makeCell } from './cells.js';
import { writeNotebookCells } from './notebook-file.js';

/** A plain Jupyter notebook as a Wiregrad notebook, and what became of its cells. */
export interface JupyterImport {
  /** The Wiregrad notebook's text. */
  readonly text: string;
  /** The notebook's language as its metadata names it, or null when it names none. */
  readonly language: string | null;
  readonly markdownCells: number;
  /** Code cells kept as code cells, to run. */
  readonly codeCells: number;
  /** Code cells in another language, shown as code blocks in markdown cells. */
  readonly quotedCells: number;
}

type Json = Record<string, unknown>;

function isRecord(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function text(source: unknown): string {
  if (typeof source === 'string') return source;
  if (Array.isArray(source)) return source.filter((s) => typeof s === 'string').join('');
  return '';
}

/** Languages whose code runs as a Wiregrad code cell (TypeScript; JavaScript is TypeScript). */
const RUNNABLE = new Set(['typescript', 'javascript', 'ts', 'js']);

/** The most characters of a cell's outputs quoted in the notebook. */
const MAX_OUTPUT_CHARS = 2000;

function languageOf(metadata: Json): string | null {
  const kernel = isRecord(metadata.kernelspec) ? metadata.kernelspec : {};
  const info = isRecord(metadata.language_info) ? metadata.language_info : {};
  const name = [kernel.language, info.name].find((v) => typeof v === 'string' && v.trim() !== '');
  return typeof name === 'string' ? name.trim().toLowerCase() : null;
}

/** A fence longer than any run of backticks in `body`, so the body cannot close it. */
function fenced(body: string, language: string): string {
  const longest = Math.max(2, ...[...body.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${language}\n${body.replace(/\n$/, '')}\n${fence}`;
}

/** The text of a code cell's outputs (streams, plain-text results, errors); images are left out. */
function outputText(outputs: unknown): string {
  if (!Array.isArray(outputs)) return '';
  const parts: string[] = [];
  for (const output of outputs) {
    if (!isRecord(output)) continue;
    if (output.output_type === 'stream') parts.push(text(output.text));
    else if (output.output_type === 'error')
      parts.push(`${String(output.ename ?? 'Error')}: ${String(output.evalue ?? '')}\n`);
    else if (isRecord(output.data) && output.data['text/plain'] !== undefined)
      parts.push(`${text(output.data['text/plain'])}\n`);
  }
  const all = parts.join('').replace(/\n+$/, '');
  return all.length > MAX_OUTPUT_CHARS ? `${all.slice(0, MAX_OUTPUT_CHARS)}\n…` : all;
}

/**
 * The Wiregrad notebook for a plain Jupyter notebook's text, or null when the text is not one
 * (not JSON, no cell list, or already a Wiregrad notebook: it has `metadata.wiregrad` or a graph
 * cell). `modelName` names the empty model.
 */
export function importJupyter(notebookJson: string, modelName: string): JupyterImport | null {
  let json: unknown;
  try {
    json = JSON.parse(notebookJson);
  } catch {
    return null;
  }
  if (!isRecord(json) || !Array.isArray(json.cells) || typeof json.nbformat !== 'number')
    return null;
  const metadata = isRecord(json.metadata) ? json.metadata : {};
  if (metadata.wiregrad !== undefined || json.cells.some(isGraphCell)) return null;
  const language = languageOf(metadata);
  const runnable = language !== null && RUNNABLE.has(language);
  const cells: Cell[] = [];
  let markdownCells = 0;
  let codeCells = 0;
  let quotedCells = 0;
  for (const raw of json.cells as unknown[]) {
    if (!isRecord(raw)) continue;
    const source = text(raw.source);
    if (raw.cell_type === 'markdown') {
      cells.push(makeCell('markdown', source));
      markdownCells++;
    } else if (raw.cell_type === 'code' && source.trim() !== '') {
      if (runnable) {
        cells.push(makeCell('code', source));
        codeCells++;
        continue;
      }
      const output = outputText(raw.outputs);
      const quoted = fenced(source, language ?? '');
      cells.push(
        makeCell('markdown', output ? `${quoted}\n\nOutput:\n\n${fenced(output, 'text')}` : quoted),
      );
      quotedCells++;
    } else if (raw.cell_type === 'raw' && source.trim() !== '') {
      cells.push(makeCell('markdown', fenced(source, '')));
      markdownCells++;
    }
  }
  const graph = makeCell('graph');
  const graphText = notebookText(documentToFile(emptyDocument(modelName)));
  return {
    text: writeNotebookCells(graphText, {
      cells: [...cells, graph],
      outputs: {},
      active: graph.id,
    }),
    language,
    markdownCells,
    codeCells,
    quotedCells,
  };
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** What the status bar says after opening `name` through importJupyter. */
export function jupyterImportMessage(name: string, result: JupyterImport): string {
  const language = result.language
    ? result.language[0]!.toUpperCase() + result.language.slice(1)
    : null;
  const parts: string[] = [];
  if (result.markdownCells > 0) parts.push(count(result.markdownCells, 'markdown cell'));
  if (result.codeCells > 0) parts.push(count(result.codeCells, 'code cell'));
  if (result.quotedCells > 0)
    parts.push(
      `${count(result.quotedCells, `${language ? `${language} ` : ''}code cell`)} shown as ` +
        'text (Wiregrad runs TypeScript)',
    );
  const cells = parts.length > 0 ? `: ${parts.join(', ')}` : '';
  return (
    `Opened ${name} as a new Wiregrad notebook with an empty model${cells}. ` +
    'Save writes it as a Wiregrad notebook and asks where'
  );
}

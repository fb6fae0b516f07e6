/**
 * The data a document trains on, kept in the document: the CSV uploaded in the Data tab (its
 * name, text and chosen target column) and whether Train uses it. A notebook keeps it in
 * `metadata.wiregrad.data`; the autosaved graph document (renderer/app/files.ts) in its
 * `meta.data`, so crash recovery brings it back too:
 *
 *     { "source": "csv", "csv": { "name", "target"?, "bytes", "sha256", "text"? } }
 *
 * `bytes` and `sha256` are the UTF-8 size and SHA-256 of the text, so an entry changed or cut
 * short outside Wiregrad is noticed rather than trained on. A CSV over the cap is recorded
 * without its text (`text` absent, `omitted: "too-large"`), and opening says it must be uploaded
 * again. Reading never throws: a malformed entry is reported as `damaged` with the problem in
 * words, and the rest of the document opens as usual.
 */

import type { CsvUpload } from '../../engine/protocol/messages.js';
import { type EditorDocument, documentToFile, serializeDocument } from '../state/document.js';
import type { Training } from '../state/training.js';
import { sha256Hex } from './weights-ref.js';

/** The most CSV text (UTF-8 bytes) a saved notebook or a desktop recovery copy embeds. */
export const MAX_EMBEDDED_CSV_BYTES = 20 * 1024 * 1024;

/**
 * The most a browser autosave embeds: it lives in the page's localStorage (a few MB for the
 * whole site), and a document too large for it would not be autosaved at all.
 */
export const MAX_BROWSER_AUTOSAVE_CSV_BYTES = 1024 * 1024;

export type DataSource = 'builtin' | 'csv';

/** The document's data: the uploaded CSV (or none) and whether Train uses it. */
export interface DocumentData {
  readonly csv: CsvUpload | null;
  readonly source: DataSource;
}

export const NO_DATA: DocumentData = { csv: null, source: 'builtin' };

/** The CSV as recorded in a document. */
export interface CsvEntry {
  readonly name: string;
  readonly target?: string;
  /** UTF-8 size of the text. */
  readonly bytes: number;
  /** SHA-256 of the text's UTF-8 bytes, lowercase hex. */
  readonly sha256: string;
  /** The text; absent when it was over the cap (`omitted`). */
  readonly text?: string;
  readonly omitted?: 'too-large';
}

/** `metadata.wiregrad.data` (notebooks) or `meta.data` (graph documents). */
export interface DataEntry {
  readonly source: DataSource;
  readonly csv: CsvEntry;
}

/** What a document's text says about its data. */
export type DataRead =
  /** No entry: the document has no uploaded CSV. */
  | { readonly kind: 'none' }
  | { readonly kind: 'restored'; readonly data: DocumentData }
  /** The CSV was over the cap when saved: only its name and size are known. */
  | {
      readonly kind: 'too-large';
      readonly name: string;
      readonly bytes: number;
      readonly source: DataSource;
    }
  /** The entry is malformed or does not match its checksum; `problem` says how. */
  | { readonly kind: 'damaged'; readonly problem: string };

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The entry for `data`, or null when there is no CSV. Text over `maxBytes` is left out (name,
 * size and checksum kept).
 */
export async function dataEntryFor(
  data: DocumentData,
  maxBytes: number = MAX_EMBEDDED_CSV_BYTES,
): Promise<DataEntry | null> {
  const csv = data.csv;
  if (!csv) return null;
  const utf8 = new TextEncoder().encode(csv.text);
  const sha256 = await sha256Hex(utf8);
  const fits = utf8.byteLength <= maxBytes;
  return {
    source: data.source,
    csv: {
      name: csv.name,
      ...(csv.target !== undefined ? { target: csv.target } : {}),
      bytes: utf8.byteLength,
      sha256,
      ...(fits ? { text: csv.text } : { omitted: 'too-large' as const }),
    },
  };
}

/** The same entry without its text (for a store with less room than the notebook). */
export function withoutText(entry: DataEntry): DataEntry {
  const { text: _text, ...csv } = entry.csv;
  return { ...entry, csv: { ...csv, omitted: 'too-large' } };
}

/** Where a parsed document keeps its data entry: the notebook's or the graph's metadata. */
function holderOf(json: unknown): Record<string, unknown> | null {
  if (!isRecord(json)) return null;
  if (json.format === 'wiregrad.graph') return isRecord(json.meta) ? json.meta : null;
  if (!isRecord(json.metadata)) return null;
  return isRecord(json.metadata.wiregrad) ? json.metadata.wiregrad : null;
}

/**
 * The notebook's text with `entry` in `metadata.wiregrad.data` (removed when null). A graph
 * document gets it in `meta.data`. Text that is neither (or already without an entry to remove)
 * is returned unchanged.
 */
export function withDataEntry(text: string, entry: DataEntry | null): string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return text;
  }
  if (!isRecord(json)) return text;
  const had = holderOf(json)?.data !== undefined;
  if (!entry && !had) return text;
  if (json.format === 'wiregrad.graph') {
    const meta = isRecord(json.meta) ? { ...json.meta } : {};
    if (entry) meta.data = entry;
    else delete meta.data;
    return `${JSON.stringify({ ...json, meta }, null, 2)}\n`;
  }
  if (!Array.isArray(json.cells)) return text;
  const metadata = isRecord(json.metadata) ? json.metadata : {};
  const wiregrad = isRecord(metadata.wiregrad) ? { ...metadata.wiregrad } : {};
  if (entry) wiregrad.data = entry;
  else delete wiregrad.data;
  return `${JSON.stringify({ ...json, metadata: { ...metadata, wiregrad } }, null, 1)}\n`;
}

/**
 * Reads the data entry of a notebook or graph document's text and checks the CSV against its
 * recorded size and SHA-256. Never throws; text that is not JSON reads as `none` (opening the
 * document reports that).
 */
export async function readDataEntry(text: string): Promise<DataRead> {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'none' };
  }
  const entry = holderOf(json)?.data;
  if (entry === undefined) return { kind: 'none' };
  return checkEntry(entry);
}

async function checkEntry(entry: unknown): Promise<DataRead> {
  const damaged = (problem: string): DataRead => ({ kind: 'damaged', problem });
  if (!isRecord(entry)) return damaged('its data entry is not an object');
  const { source, csv } = entry;
  if (source !== 'csv' && source !== 'builtin')
    return damaged(`its data entry has an unknown source ${JSON.stringify(source)}`);
  if (!isRecord(csv)) return damaged('its data entry has no "csv" object');
  const { name, target, bytes, sha256, text } = csv;
  if (typeof name !== 'string' || name === '') return damaged('its uploaded CSV has no file name');
  if (target !== undefined && typeof target !== 'string')
    return damaged(`the target column of ${name} is not a column name`);
  if (typeof bytes !== 'number' || !Number.isInteger(bytes) || bytes < 0)
    return damaged(`the size recorded for ${name} is not a whole number of bytes`);
  if (typeof sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(sha256))
    return damaged(`the checksum recorded for ${name} is not a SHA-256`);
  if (text === undefined) {
    if (csv.omitted === 'too-large') return { kind: 'too-large', name, bytes, source };
    return damaged(`the text of ${name} is missing`);
  }
  if (typeof text !== 'string') return damaged(`the text of ${name} is not a string`);
  const utf8 = new TextEncoder().encode(text);
  if (utf8.byteLength !== bytes || (await sha256Hex(utf8)) !== sha256)
    return damaged(`${name} does not match its saved size and SHA-256 (changed outside Wiregrad)`);
  return {
    kind: 'restored',
    data: {
      csv: { name, text, ...(target !== undefined ? { target } : {}) },
      source,
    },
  };
}

/** A size in words: `1.5 MB`, `820 KB`, `78 bytes`. */
export function sizeText(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}

/**
 * A sentence about the data a document opened with, for the status bar; null when there is
 * nothing to say. `where` names what kept it (a notebook, or the autosaved work).
 */
export function dataNotice(read: DataRead, where: 'notebook' | 'autosave'): string | null {
  const kept = where === 'notebook' ? 'in the notebook' : 'with the autosaved work';
  switch (read.kind) {
    case 'none':
      return null;
    case 'restored':
      return read.data.csv ? `with its data (${read.data.csv.name})` : null;
    case 'too-large':
      return (
        `its CSV ${read.name} (${sizeText(read.bytes)}) was too large to keep ${kept}: ` +
        'upload it again in the Data tab'
      );
    case 'damaged':
      return `its CSV was not restored: ${read.problem}; upload it again in the Data tab`;
    default:
      return read satisfies never;
  }
}

/** What files need of the Train form: the document's data, set it, and hear of changes. */
export interface DataKeeper {
  data(): DocumentData;
  setData(data: DocumentData): void;
  /** Calls `listener` when the uploaded CSV or the choice to train on it changes. */
  watchData(listener: () => void): () => void;
}

/** The Train form (renderer/state/training.ts) as the keeper of the document's data. */
export function trainingDataKeeper(training: Training): DataKeeper {
  const read = (): DocumentData => {
    const { csv, source } = training.store.getState().form;
    return csv ? { csv, source: source === 'csv' ? 'csv' : 'builtin' } : NO_DATA;
  };
  return {
    data: read,
    setData: (data) =>
      training.setForm(
        data.csv ? { csv: data.csv, source: data.source } : { csv: undefined, source: 'builtin' },
      ),
    watchData: (listener) => {
      let last = read();
      return training.store.subscribe(() => {
        const next = read();
        if (next.csv === last.csv && next.source === last.source) return;
        last = next;
        listener();
      });
    },
  };
}

/**
 * The document without a data entry in its graph's meta (an autosaved graph document keeps it
 * there; the editor's document never does).
 */
export function withoutDocumentData(doc: EditorDocument): EditorDocument {
  const meta = doc.graph.meta;
  if (!meta || !('data' in meta)) return doc;
  const { data: _data, ...rest } = meta;
  if (Object.keys(rest).length > 0) return { ...doc, graph: { ...doc.graph, meta: rest } };
  const { meta: _meta, ...graph } = doc.graph;
  return { ...doc, graph };
}

/**
 * The autosaved form of a document: the graph document (renderer/state/document.ts's
 * `serializeDocument`) with `entry` in its `meta.data`; exactly `serializeDocument`'s text
 * without one.
 */
export function autosaveText(doc: EditorDocument, entry: DataEntry | null): string {
  if (!entry) return serializeDocument(doc);
  const file = documentToFile(doc);
  return `${JSON.stringify({ ...file, meta: { ...file.meta, data: entry } }, null, 2)}\n`;
}

/**
 * The canvas document as a file: saved as a Jupyter notebook (engine/protocol/notebook.ts, the
 * graph and its layout in cell metadata), opened from a notebook or from a plain `.json` graph
 * document of earlier builds. Nodes whose op this build does not know open as placeholders the
 * user can replace; `placeholders` lists them so the UI can say so. A file that is not JSON text
 * at all (an ONNX model, an image) is told apart from one cut short, and never quoted.
 */

import { type ReadGraph, notebookText, readModelFile } from '../../engine/protocol/notebook.js';
import { type EditorDocument, documentFromFile, documentToFile } from '../state/document.js';

export const NOTEBOOK_EXTENSION = '.ipynb';

/** The notebook text for a document. */
export function serializeModel(doc: EditorDocument): string {
  return notebookText(documentToFile(doc));
}

export interface OpenedModel {
  readonly doc: EditorDocument;
  /** Ids of nodes that became placeholders for unknown ops. */
  readonly placeholders: ReadGraph['placeholders'];
}

/**
 * Reads a notebook or a `.json` graph. Throws an Error whose message says what is wrong (not
 * JSON, cut short, not a notebook, a newer version); nothing is changed when it throws.
 */
export function parseModel(text: string, isKnownOp?: (op: string) => boolean): OpenedModel {
  const read = readModelFile(text, isKnownOp ? { isKnownOp } : {});
  return { doc: documentFromFile(read.graph), placeholders: read.placeholders };
}

/** A file name for a model: its name made safe, with the notebook extension. */
export function modelFileName(modelName: string | undefined): string {
  const stem =
    (modelName ?? 'model')
      .replace(/[^\w.-]+/g, '-')
      .replace(/^-|-$/g, '')
      .toLowerCase() || 'model';
  return `${stem}${NOTEBOOK_EXTENSION}`;
}

/** The notebook name to save a file opened under `name` as (`mlp.json` becomes `mlp.ipynb`). */
export function notebookNameFor(name: string): string {
  return name.toLowerCase().endsWith(NOTEBOOK_EXTENSION)
    ? name
    : `${name.replace(/\.json$/i, '')}${NOTEBOOK_EXTENSION}`;
}

/** A sentence about the placeholders a file opened with, or null when there are none. */
export function placeholderNotice(placeholders: readonly string[]): string | null {
  if (placeholders.length === 0) return null;
  const ids = placeholders.map((id) => `'${id}'`).join(', ');
  return placeholders.length === 1
    ? `node ${ids} uses an op this Wiregrad does not know: replace it`
    : `nodes ${ids} use ops this Wiregrad does not know: replace them`;
}

/**
 * Whether `text` holds a character no JSON text file has: a control other than tab, line feed,
 * form feed or carriage return, or U+FFFD (what invalid UTF-8 decodes to).
 */
function hasNonTextCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0c && c !== 0x0d) || c === 0x7f)
      return true;
    if (c === 0xfffd) return true;
  }
  return false;
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/**
 * Why `text` (a file read as UTF-8) cannot be a notebook or graph document whatever JSON says:
 * it holds bytes no text file has (NUL and other control characters, invalid UTF-8, which reads
 * as U+FFFD), is empty, or does not start as JSON does. Null when it may be JSON (truncated or wrong JSON
 * is left to the file reader, which says which). The answer never quotes the bytes.
 */
export function notModelText(name: string, text: string): string | null {
  const body = text.replace(/^\uFEFF/, '');
  // A JSON text may quote U+FFFD (a replacement character in a saved output): JSON decides.
  const binary = hasNonTextCharacter(body) && !parsesAsJson(body);
  const start = body.trimStart()[0];
  if (!binary && start === undefined) return `${name} is empty: it holds no notebook or model`;
  if (!binary && (start === '{' || start === '[')) return null;
  const onnx = /\.onnx$/i.test(name) ? '; to bring in an ONNX model, use File → Import ONNX…' : '';
  return `${name} is not a Wiregrad notebook or model (it is not JSON text)${onnx}`;
}

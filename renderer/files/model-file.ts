/**
 * The canvas document as a file: saved as a Jupyter notebook (engine/protocol/notebook.ts, the
 * graph and its layout in cell metadata), opened from a notebook or from a plain `.json` graph
 * document of earlier builds. Nodes whose op this build does not know open as placeholders the
 * user can replace; `placeholders` lists them so the UI can say so.
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

/**
 * Trained weights beside a notebook: `model.ipynb` keeps its weights in `model.safetensors` in
 * the same folder (engine/train/weights-file.ts is the format). The notebook records which
 * weights it was saved with in `metadata.wiregrad.weights` (the step, the size and a SHA-256 of
 * the file), so opening it can tell a missing or a changed weights file from the right one.
 */

export const WEIGHTS_EXTENSION = '.safetensors';

/** What a notebook says about the weights saved beside it. */
export interface WeightsRef {
  /** The file's name when saved (the notebook's name with `.safetensors`). */
  readonly file: string;
  readonly step: number;
  readonly bytes: number;
  readonly sha256: string;
}

/** The weights file's name for a notebook's: `model.ipynb` → `model.safetensors`. */
export function weightsFileName(notebookName: string): string {
  const dot = notebookName.lastIndexOf('.');
  const stem = dot > 0 ? notebookName.slice(0, dot) : notebookName;
  return `${stem}${WEIGHTS_EXTENSION}`;
}

export function isWeightsFileName(name: string): boolean {
  return name.toLowerCase().endsWith(WEIGHTS_EXTENSION);
}

/** The SHA-256 of `bytes` as lowercase hex (Web Crypto, in the page and in Node). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The notebook text with `ref` recorded in `metadata.wiregrad.weights` (or the record removed
 * when `ref` is null). Text that is not a notebook (a graph document of an earlier build) is
 * returned as it is, and so is a notebook without a record to remove.
 */
export function withWeightsRef(notebookText: string, ref: WeightsRef | null): string {
  let notebook: unknown;
  try {
    notebook = JSON.parse(notebookText);
  } catch {
    return notebookText;
  }
  if (!isRecord(notebook) || !Array.isArray(notebook.cells)) return notebookText;
  const had = isRecord(notebook.metadata) && isRecord(notebook.metadata.wiregrad);
  if (!ref && !(had && 'weights' in (notebook.metadata as { wiregrad: object }).wiregrad))
    return notebookText;
  const metadata = isRecord(notebook.metadata) ? notebook.metadata : {};
  const wiregrad = isRecord(metadata.wiregrad) ? { ...metadata.wiregrad } : {};
  if (ref) wiregrad.weights = { ...ref };
  else delete wiregrad.weights;
  return `${JSON.stringify({ ...notebook, metadata: { ...metadata, wiregrad } }, null, 1)}\n`;
}

/** The weights record of a notebook's text, or null when it has none (or is not a notebook). */
export function readWeightsRef(notebookText: string): WeightsRef | null {
  let notebook: unknown;
  try {
    notebook = JSON.parse(notebookText);
  } catch {
    return null;
  }
  if (!isRecord(notebook) || !isRecord(notebook.metadata)) return null;
  const wiregrad = notebook.metadata.wiregrad;
  if (!isRecord(wiregrad) || !isRecord(wiregrad.weights)) return null;
  const w = wiregrad.weights;
  if (
    typeof w.file !== 'string' ||
    typeof w.sha256 !== 'string' ||
    typeof w.step !== 'number' ||
    typeof w.bytes !== 'number'
  )
    return null;
  return { file: w.file, step: w.step, bytes: w.bytes, sha256: w.sha256 };
}

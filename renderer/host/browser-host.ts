/**
 * The host in a plain browser (web mode). Files go through the File System Access API where
 * the browser has it (Chromium: real open/save dialogs, and Save writes back to the same file),
 * and otherwise through an <input type=file> upload and a download. Autosave uses localStorage.
 * Models are saved as Jupyter notebooks (`.ipynb`); Open also takes the `.json` graphs of earlier
 * builds (renderer/files/model-file.ts tells them apart by content).
 */

import { WEIGHTS_EXTENSION, isWeightsFileName, weightsFileName } from '../files/weights-ref.js';
import type { FileKind, Host, HostFile, OpenedFile, WeightsToSave } from './host.js';

/** The parts of the File System Access API used here (not yet in TypeScript's DOM types). */
interface PickerType {
  readonly description: string;
  readonly accept: Record<string, readonly string[]>;
}
interface WritableFileStream {
  write(data: string | Uint8Array): Promise<void>;
  close(): Promise<void>;
}
interface WritableFileHandle {
  readonly name: string;
  getFile(): Promise<File>;
  createWritable(): Promise<WritableFileStream>;
}
interface FileSystemAccess {
  showOpenFilePicker?(options: {
    types: readonly PickerType[];
    multiple?: boolean;
  }): Promise<WritableFileHandle[]>;
  showSaveFilePicker?(options: {
    suggestedName: string;
    types: readonly PickerType[];
  }): Promise<WritableFileHandle>;
}

const NOTEBOOK_MIME = 'application/x-ipynb+json';

/** What Open offers: notebooks, and the plain graph documents of earlier builds. */
const OPEN_TYPES: readonly PickerType[] = [
  { description: 'Wiregrad notebook', accept: { [NOTEBOOK_MIME]: ['.ipynb'] } },
  { description: 'Wiregrad graph (earlier builds)', accept: { 'application/json': ['.json'] } },
];
/** What Save writes. */
const SAVE_TYPES: readonly PickerType[] = [
  { description: 'Wiregrad notebook', accept: { [NOTEBOOK_MIME]: ['.ipynb'] } },
];
/** The trained weights beside a notebook. */
const WEIGHTS_TYPE: PickerType = {
  description: 'Trained weights (safetensors)',
  accept: { 'application/octet-stream': [WEIGHTS_EXTENSION] },
};

export const AUTOSAVE_KEY = 'wiregrad.autosave.v1';

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === 'AbortError';
}

function pickerType(kind: FileKind): PickerType {
  return { description: kind.description, accept: { [kind.mime]: kind.extensions } };
}

function isHandle(value: unknown): value is WritableFileHandle {
  return typeof value === 'object' && value !== null && 'createWritable' in value;
}

/**
 * The notebook among the files the user picked, with the weights file picked along with it
 * (the browser cannot read a notebook's folder, so the user picks both). Throws when the
 * choice holds no notebook.
 */
async function pickedNotebook<F extends { readonly name: string }>(
  picked: readonly F[],
  read: (file: F) => Promise<{ text?: string; bytes?: Uint8Array }>,
): Promise<{ notebook: F; text: string; weights?: { name: string; bytes: Uint8Array } } | null> {
  if (picked.length === 0) return null;
  const notebook = picked.find((f) => !isWeightsFileName(f.name));
  if (!notebook)
    throw new Error(
      'pick the notebook (.ipynb) to open; select its .safetensors file along with it to ' +
        'bring its trained weights',
    );
  const weightsFile =
    picked.find((f) => f.name === weightsFileName(notebook.name)) ??
    picked.find((f) => isWeightsFileName(f.name));
  const { text = '' } = await read(notebook);
  if (!weightsFile) return { notebook, text };
  const { bytes = new Uint8Array() } = await read(weightsFile);
  return { notebook, text, weights: { name: weightsFile.name, bytes } };
}

/** Opens the browser's file chooser through a hidden input; null when the user cancels. */
function uploadFile(): Promise<OpenedFile | null> {
  return new Promise((resolve, reject) => {
    const input = document.createElement('input');
    input.type = 'file';
    input.multiple = true;
    input.accept = `.ipynb,.json,${WEIGHTS_EXTENSION}`;
    input.addEventListener('change', () => {
      pickedNotebook([...(input.files ?? [])], async (file) =>
        isWeightsFileName(file.name)
          ? { bytes: new Uint8Array(await file.arrayBuffer()) }
          : { text: await file.text() },
      ).then(
        (picked) =>
          resolve(
            picked && {
              name: picked.notebook.name,
              text: picked.text,
              ...(picked.weights ? { weights: picked.weights } : {}),
            },
          ),
        reject,
      );
    });
    input.addEventListener('cancel', () => resolve(null));
    input.click();
  });
}

function download(data: string | Uint8Array, name: string): void {
  const type = typeof data === 'string' ? NOTEBOOK_MIME : 'application/octet-stream';
  const url = URL.createObjectURL(new Blob([data as BlobPart], { type }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  // Revoke after the click's navigation has started.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function writeHandle(handle: WritableFileHandle, data: string | Uint8Array): Promise<void> {
  const stream = await handle.createWritable();
  await stream.write(data);
  await stream.close();
}

/**
 * Trained weights autosaved with the document: too large for localStorage, so they go to
 * IndexedDB (database `wiregrad`, store `autosave`, key `weights`).
 */
const WEIGHTS_DB = 'wiregrad';
const WEIGHTS_STORE = 'autosave';
const WEIGHTS_KEY = 'weights';

function openWeightsDb(win: Window): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = win.indexedDB.open(WEIGHTS_DB, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(WEIGHTS_STORE);
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB did not open'));
  });
}

async function withWeightsStore<T>(
  win: Window,
  mode: IDBTransactionMode,
  use: (store: IDBObjectStore) => IDBRequest,
): Promise<T> {
  const db = await openWeightsDb(win);
  try {
    return await new Promise<T>((resolve, reject) => {
      const transaction = db.transaction(WEIGHTS_STORE, mode);
      const request = use(transaction.objectStore(WEIGHTS_STORE));
      transaction.oncomplete = () => resolve(request.result as T);
      transaction.onerror = () => reject(transaction.error ?? new Error('IndexedDB failed'));
    });
  } finally {
    db.close();
  }
}

function storeWeights(win: Window, weights: Uint8Array | null): Promise<unknown> {
  return withWeightsStore(win, 'readwrite', (store) =>
    weights === null ? store.delete(WEIGHTS_KEY) : store.put(weights, WEIGHTS_KEY),
  );
}

async function readStoredWeights(win: Window): Promise<Uint8Array | null> {
  const value = await withWeightsStore<unknown>(win, 'readonly', (store) => store.get(WEIGHTS_KEY));
  return value instanceof Uint8Array ? value : null;
}

export function createBrowserHost(win: Window = window): Host {
  const fs = win as unknown as FileSystemAccess;
  /**
   * The weights file chosen for each notebook file (by its handle): Save writes both back
   * without asking again, as it does the notebook alone.
   */
  const weightsHandles = new WeakMap<WritableFileHandle, WritableFileHandle>();
  return {
    kind: 'web',
    async openFile() {
      if (!fs.showOpenFilePicker) return uploadFile();
      try {
        const handles = await fs.showOpenFilePicker({
          types: [...OPEN_TYPES, WEIGHTS_TYPE],
          multiple: true,
        });
        const picked = await pickedNotebook(handles, async (handle) => {
          const file = await handle.getFile();
          return isWeightsFileName(handle.name)
            ? { bytes: new Uint8Array(await file.arrayBuffer()) }
            : { text: await file.text() };
        });
        if (!picked) return null;
        const handle = picked.notebook;
        const weightsHandle = handles.find((h) => h.name === picked.weights?.name);
        if (weightsHandle) weightsHandles.set(handle, weightsHandle);
        return {
          name: handle.name,
          text: picked.text,
          handle,
          ...(picked.weights ? { weights: picked.weights } : {}),
        };
      } catch (error) {
        if (isAbort(error)) return null;
        throw error;
      }
    },
    async saveFile(
      text: string,
      suggestedName: string,
      target?: HostFile,
      weights?: WeightsToSave,
    ) {
      if (!fs.showSaveFilePicker) {
        // Downloads: the weights first, as on the desktop.
        const weightsName = weightsFileName(suggestedName);
        if (weights) download(weights.bytes, weightsName);
        download(weights ? weights.text : text, suggestedName);
        return { name: suggestedName, ...(weights ? { weightsName } : {}) };
      }
      let handle: WritableFileHandle;
      try {
        handle = isHandle(target?.handle)
          ? target.handle
          : await fs.showSaveFilePicker({ suggestedName, types: SAVE_TYPES });
      } catch (error) {
        if (isAbort(error)) return null;
        throw error;
      }
      let weightsName: string | undefined;
      if (weights) {
        // The page cannot write beside the notebook by itself: the user confirms the weights
        // file once, and Save writes back to it from then on. Declining saves the notebook alone.
        try {
          const known = weightsHandles.get(handle);
          const weightsHandle =
            known ??
            (await fs.showSaveFilePicker({
              suggestedName: weightsFileName(handle.name),
              types: [WEIGHTS_TYPE],
            }));
          await writeHandle(weightsHandle, weights.bytes);
          weightsHandles.set(handle, weightsHandle);
          weightsName = weightsHandle.name;
        } catch (error) {
          if (!isAbort(error)) throw error;
        }
      }
      await writeHandle(handle, weights && weightsName ? weights.text : text);
      return { name: handle.name, handle, ...(weightsName ? { weightsName } : {}) };
    },
    // Without the picker (other browsers) the page falls back to a download and an upload.
    ...(fs.showSaveFilePicker && fs.showOpenFilePicker
      ? {
          async saveBytes(bytes: Uint8Array, suggestedName: string, kind: FileKind) {
            try {
              const handle = await fs.showSaveFilePicker!({
                suggestedName,
                types: [pickerType(kind)],
              });
              const stream = await handle.createWritable();
              await stream.write(bytes);
              await stream.close();
              return { name: handle.name, handle };
            } catch (error) {
              if (isAbort(error)) return null;
              throw error;
            }
          },
          async openBytes(kind: FileKind) {
            try {
              const [handle] = await fs.showOpenFilePicker!({ types: [pickerType(kind)] });
              if (!handle) return null;
              const file = await handle.getFile();
              return { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) };
            } catch (error) {
              if (isAbort(error)) return null;
              throw error;
            }
          },
        }
      : {}),
    loadAutosave() {
      try {
        return win.localStorage.getItem(AUTOSAVE_KEY);
      } catch {
        return null; // storage disabled (privacy settings): start empty
      }
    },
    autosave(text: string, _unsaved?: boolean, weights?: Uint8Array | null) {
      try {
        win.localStorage.setItem(AUTOSAVE_KEY, text);
      } catch {
        // Quota exceeded or storage disabled: autosave is best effort, Save still works.
      }
      if (weights !== undefined)
        void storeWeights(win, weights).catch((error: unknown) => {
          console.warn('Autosaving the trained weights failed:', error);
        });
    },
    loadAutosavedWeights() {
      return readStoredWeights(win).catch(() => null);
    },
  };
}

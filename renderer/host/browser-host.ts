/**
 * The host in a plain browser (web mode). Files go through the File System Access API where
 * the browser has it (Chromium: real open/save dialogs, and Save writes back to the same file),
 * and otherwise through an <input type=file> upload and a download. Autosave uses localStorage.
 * Models are saved as Jupyter notebooks (`.ipynb`); Open also takes the `.json` graphs of earlier
 * builds (renderer/files/model-file.ts tells them apart by content).
 */

import type { FileKind, Host, HostFile, OpenedFile } from './host.js';

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
  showOpenFilePicker?(options: { types: readonly PickerType[] }): Promise<WritableFileHandle[]>;
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

/** Opens the browser's file chooser through a hidden input; null when the user cancels. */
function uploadFile(): Promise<OpenedFile | null> {
  return new Promise((resolve, reject) => {
    const input = document.createElement('input');
    input.type = 'file';
    input.accept = '.ipynb,.json';
    input.addEventListener('change', () => {
      const file = input.files?.[0];
      if (!file) return resolve(null);
      file.text().then((text) => resolve({ name: file.name, text }), reject);
    });
    input.addEventListener('cancel', () => resolve(null));
    input.click();
  });
}

function download(text: string, name: string): void {
  const url = URL.createObjectURL(new Blob([text], { type: NOTEBOOK_MIME }));
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  // Revoke after the click's navigation has started.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function createBrowserHost(win: Window = window): Host {
  const fs = win as unknown as FileSystemAccess;
  return {
    kind: 'web',
    async openFile() {
      if (!fs.showOpenFilePicker) return uploadFile();
      try {
        const [handle] = await fs.showOpenFilePicker({ types: OPEN_TYPES });
        if (!handle) return null;
        const file = await handle.getFile();
        return { name: file.name, text: await file.text(), handle };
      } catch (error) {
        if (isAbort(error)) return null;
        throw error;
      }
    },
    async saveFile(text: string, suggestedName: string, target?: HostFile) {
      if (!fs.showSaveFilePicker) {
        download(text, suggestedName);
        return { name: suggestedName };
      }
      try {
        const handle = isHandle(target?.handle)
          ? target.handle
          : await fs.showSaveFilePicker({ suggestedName, types: SAVE_TYPES });
        const stream = await handle.createWritable();
        await stream.write(text);
        await stream.close();
        return { name: handle.name, handle };
      } catch (error) {
        if (isAbort(error)) return null;
        throw error;
      }
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
    autosave(text: string) {
      try {
        win.localStorage.setItem(AUTOSAVE_KEY, text);
      } catch {
        // Quota exceeded or storage disabled: autosave is best effort, Save still works.
      }
    },
  };
}

/**
 * The host adapter: everything the renderer needs from where it runs (files, autosave), behind
 * one interface, so the same renderer works in Electron (desktop host, through the preload's
 * bridge) and in a plain browser (browser-host.ts), as Netron's view talks only to its host.
 */

/** A file the user chose, with an opaque handle to save back to it where the host can. */
export interface HostFile {
  readonly name: string;
  readonly handle?: unknown;
}

export interface OpenedFile extends HostFile {
  readonly text: string;
  /**
   * The trained weights beside the notebook (`model.safetensors` for `model.ipynb`), where the
   * host found them: the desktop reads them from the same folder; the browser takes them when
   * the user picks both files.
   */
  readonly weights?: { readonly name: string; readonly bytes: Uint8Array };
  /**
   * Work recovered after a crash (desktop): it matches no file, so it stays unsaved (and its
   * recovery copy stays) until the user saves it.
   */
  readonly recovered?: boolean;
}

/** Trained weights to write beside a notebook, and the notebook's text that refers to them. */
export interface WeightsToSave {
  readonly bytes: Uint8Array;
  readonly text: string;
}

/** Where a save went, and the name of the weights file written beside it, if any. */
export interface SavedFile extends HostFile {
  /** Set when `weights` were given and written; absent when the user declined or none were. */
  readonly weightsName?: string;
}

/**
 * What the desktop app's menu asks the page to do (electron/ipc-contract.ts's MENU_COMMANDS;
 * an electron/ test keeps the two lists equal, since the renderer cannot import electron/).
 */
export const HOST_COMMANDS = [
  'new',
  'open',
  'save',
  'saveAs',
  'export',
  'undo',
  'redo',
  'zoomIn',
  'zoomOut',
  'fitView',
  'run',
  'stop',
  'group',
  'ungroup',
  'autoLayout',
  'shortcuts',
] as const;
export type HostCommand = (typeof HOST_COMMANDS)[number];

/** A kind of binary file, for save and open dialogs (an ONNX model, a zip of files). */
export interface FileKind {
  readonly description: string;
  readonly mime: string;
  /** With the dot: `.onnx`. */
  readonly extensions: readonly string[];
}

/** A binary file the user chose. */
export interface OpenedBytes {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface Host {
  readonly kind: 'web' | 'desktop';
  /** Asks the user for a file to open; null when they cancel. */
  openFile(): Promise<OpenedFile | null>;
  /**
   * Saves `text`: over `target` when given and the host can write there, else where the user
   * chooses (or as a download). Resolves with where it went, or null when the user cancels.
   * `weights.bytes` (safetensors) are written beside the notebook as `<name>.safetensors`,
   * before the notebook, and then the notebook as `weights.text` (which refers to them); where
   * they are not written (the user declined), the notebook is written as `text`. So a notebook
   * never refers to weights that were not written.
   */
  saveFile(
    text: string,
    suggestedName: string,
    target?: HostFile,
    weights?: WeightsToSave,
  ): Promise<SavedFile | null>;
  /**
   * Saves binary contents (exports) where the user chooses; null when they cancel. Hosts
   * without it are given a download (renderer/files/export-save.ts).
   */
  saveBytes?(bytes: Uint8Array, suggestedName: string, kind: FileKind): Promise<HostFile | null>;
  /** Asks the user for a binary file (an ONNX model); null when they cancel. */
  openBytes?(kind: FileKind): Promise<OpenedBytes | null>;
  /** The last autosaved document text, or null. */
  loadAutosave(): string | null;
  /**
   * Keeps `text` as the document to restore on the next start. `unsaved` says whether it differs
   * from the file last opened or saved: the desktop keeps a recovery copy only of unsaved work,
   * so opening a file and quitting does not offer a recovery at the next start. `weights`
   * (safetensors) replace the trained weights kept with it; null drops them; absent keeps them.
   */
  autosave(text: string, unsaved?: boolean, weights?: Uint8Array | null): void;
  /**
   * Web only: the trained weights autosaved with the document `loadAutosave` gives, or null.
   * (The desktop hands them over with the recovered document.)
   */
  loadAutosavedWeights?(): Promise<Uint8Array | null>;
  /**
   * Desktop only: called once the page can take documents; resolves with those waiting (work
   * recovered after a crash, a notebook the app was launched with). The last one is opened.
   */
  ready?(): Promise<readonly OpenedFile[]>;
  /** Desktop only: menu commands; returns the unsubscribe function. */
  onCommand?(listener: (command: HostCommand) => void): () => void;
  /** Desktop only: files opened from outside the page (recent files, the OS, a second launch). */
  onOpenFile?(listener: (file: OpenedFile) => void): () => void;
}

/**
 * What main does with files for the renderer: open through a dialog or a path (recent files,
 * the OS, a second instance), save atomically, keep the recent list and the recovery file. The
 * renderer never names a path main has not shown it: Save over a file works only for files this
 * session opened or saved (the granted set), so a compromised page cannot write elsewhere.
 * Dialogs and file access are injected, so tests run on a temp folder without Electron.
 */

import { basename, extname } from 'node:path';
import type {
  AutosaveRequest,
  ExportRequest,
  FileKindData,
  ImportedFileData,
  OpenedFileData,
  SaveRequest,
  SavedFileData,
  WeightsFileData,
} from './ipc-contract.js';
import type { RecentFiles } from './recent-files.js';
import type { RecoveryStore } from './recovery.js';

/** The largest file Open reads; bigger ones are not models (weights go in .safetensors). */
export const MAX_OPEN_BYTES = 64 * 1024 * 1024;

/** The largest model Import reads. */
export const MAX_IMPORT_BYTES = 2 * 2 ** 30;

export interface FileServiceDeps {
  /** The user's choice of a file to open, or null. */
  showOpenDialog(): Promise<string | null>;
  /** The user's choice of where to save, or null. */
  showSaveDialog(suggestedName: string): Promise<string | null>;
  readFile(path: string): Promise<string>;
  fileSize(path: string): Promise<number>;
  /** An atomic write (atomic-write.ts), of text or bytes. */
  writeFile(path: string, data: string | Uint8Array): Promise<void>;
  /** The user's choice of where to save an export of this kind, or null. */
  showExportDialog(suggestedName: string, kind: FileKindData): Promise<string | null>;
  /** The user's choice of a file of this kind to import, or null. */
  showImportDialog(kind: FileKindData): Promise<string | null>;
  readBytes(path: string): Promise<Uint8Array>;
  readonly recent: RecentFiles;
  readonly recovery: RecoveryStore;
  /** Called after the recent list changed (main rebuilds the menu). */
  recentChanged(): void;
}

export class FileService {
  private readonly granted = new Set<string>();

  constructor(private readonly deps: FileServiceDeps) {}

  /** Whether the renderer may save over `path` without a dialog. */
  isGranted(path: string): boolean {
    return this.granted.has(path);
  }

  async openWithDialog(): Promise<OpenedFileData | null> {
    const path = await this.deps.showOpenDialog();
    return path === null ? null : this.openPath(path);
  }

  /** Reads a file the user picked (or the OS passed); it becomes granted and recent. */
  async openPath(path: string): Promise<OpenedFileData> {
    let text: string;
    try {
      const size = await this.deps.fileSize(path);
      if (size > MAX_OPEN_BYTES)
        throw new Error(
          `${basename(path)} is ${Math.round(size / 2 ** 20)} MiB; Wiregrad notebooks hold ` +
            'graphs, not weights, and are far smaller. Is it the right file?',
        );
      text = await this.deps.readFile(path);
    } catch (error) {
      if (isMissing(error)) {
        await this.deps.recent.remove(path);
        this.deps.recentChanged();
        throw new Error(`${basename(path)} no longer exists; it was removed from Open Recent`);
      }
      throw error;
    }
    this.granted.add(path);
    await this.deps.recent.add(path);
    this.deps.recentChanged();
    const weights = await this.readWeightsBeside(path);
    return { path, name: basename(path), text, ...(weights ? { weights } : {}) };
  }

  /**
   * The trained weights beside a notebook (`model.safetensors` for `model.ipynb`), or null when
   * there are none (or they are too large to be weights Wiregrad wrote).
   */
  private async readWeightsBeside(path: string): Promise<WeightsFileData | null> {
    if (extname(path).toLowerCase() !== '.ipynb') return null;
    const weightsPath = weightsPathFor(path);
    try {
      if ((await this.deps.fileSize(weightsPath)) > MAX_IMPORT_BYTES) return null;
      return { name: basename(weightsPath), bytes: await this.deps.readBytes(weightsPath) };
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async save(request: SaveRequest): Promise<SavedFileData | null> {
    let path: string | null;
    if (request.path !== undefined) {
      if (!this.granted.has(request.path))
        throw new Error(
          'Save refused: that file was not opened or saved in this session; use Save As',
        );
      path = request.path;
    } else {
      path = await this.deps.showSaveDialog(request.suggestedName);
      if (path === null) return null;
      // Dialogs on Linux may return the name as typed; a notebook always ends in .ipynb.
      if (extname(path) === '') path = `${path}.ipynb`;
    }
    // The weights first: a notebook that refers to them is written only once they are.
    let weightsName: string | undefined;
    if (request.weights) {
      const weightsPath = weightsPathFor(path);
      await this.deps.writeFile(weightsPath, request.weights.bytes);
      weightsName = basename(weightsPath);
    }
    await this.deps.writeFile(path, request.weights ? request.weights.text : request.text);
    this.granted.add(path);
    await this.deps.recovery.clear();
    await this.deps.recent.add(path);
    this.deps.recentChanged();
    return { path, name: basename(path), ...(weightsName ? { weightsName } : {}) };
  }

  /**
   * Writes an export where the user chooses (atomically). Exports are not notebooks: they do not
   * become recent, and Save cannot write over them.
   */
  async exportBytes(request: ExportRequest): Promise<SavedFileData | null> {
    let path = await this.deps.showExportDialog(request.suggestedName, request.kind);
    if (path === null) return null;
    if (extname(path) === '') path = `${path}${request.kind.extensions[0]}`;
    await this.deps.writeFile(path, request.bytes);
    return { path, name: basename(path) };
  }

  /** Reads a binary file the user picks (an ONNX model), at most MAX_IMPORT_BYTES. */
  async importBytes(kind: FileKindData): Promise<ImportedFileData | null> {
    const path = await this.deps.showImportDialog(kind);
    if (path === null) return null;
    const size = await this.deps.fileSize(path);
    if (size > MAX_IMPORT_BYTES)
      throw new Error(
        `${basename(path)} is ${Math.round(size / 2 ** 20)} MiB, more than the ` +
          `${MAX_IMPORT_BYTES / 2 ** 30} GiB Wiregrad imports`,
      );
    return { name: basename(path), bytes: await this.deps.readBytes(path) };
  }

  async autosave(request: AutosaveRequest): Promise<void> {
    await this.deps.recovery.save(request.name, request.text, request.weights);
  }

  async discardRecovery(): Promise<void> {
    await this.deps.recovery.clear();
  }
}

/** The weights file beside a notebook: the same folder and name, `.safetensors`. */
export function weightsPathFor(notebookPath: string): string {
  const extension = extname(notebookPath);
  const stem = extension ? notebookPath.slice(0, -extension.length) : notebookPath;
  return `${stem}.safetensors`;
}

function isMissing(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}

/** The notebook a command line names (a file association, a second instance), or null. */
export function notebookFromArgv(argv: readonly string[]): string | null {
  // argv[0] is the executable (and argv[1] the app folder when run as `electron .`).
  for (const arg of argv.slice(1)) {
    if (arg.startsWith('-')) continue;
    const extension = extname(arg).toLowerCase();
    if (extension === '.ipynb' || extension === '.json') return arg;
  }
  return null;
}

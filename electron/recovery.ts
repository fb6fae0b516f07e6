/**
 * Crash recovery: the renderer's autosaves go to one file in a recovery folder under the app's
 * data folder, written atomically, and are removed when the document is saved. If the file is
 * still there at the next start, the last session ended with unsaved work (a crash, or a quit
 * without saving), and main offers to restore it. I/O is injected so tests use a temp folder.
 */

import { join } from 'node:path';
import type { OpenedFileData } from './ipc-contract.js';

export const RECOVERY_FILE = 'autosave.json';
/** The trained weights autosaved with the work (safetensors), when training ran. */
export const RECOVERY_WEIGHTS_FILE = 'autosave.safetensors';
const RECOVERY_VERSION = 1;

export interface RecoveryEntry {
  /** The name of the file the work came from ('Untitled model.ipynb' when it had none). */
  readonly name: string;
  /** When it was autosaved, in ms since the epoch. */
  readonly savedAt: number;
  readonly text: string;
  /** The trained weights autosaved with it, if any. */
  readonly weights?: Uint8Array;
}

export interface RecoveryIo {
  read(path: string): Promise<string | null>;
  /** A file's bytes, or null when it does not exist. */
  readBytes(path: string): Promise<Uint8Array | null>;
  write(path: string, data: string | Uint8Array): Promise<void>;
  remove(path: string): Promise<void>;
  mkdir(path: string): Promise<void>;
}

/** Reads a recovery file's text; null for a missing or damaged one (nothing to offer). */
export function parseRecovery(text: string | null): RecoveryEntry | null {
  if (text === null) return null;
  try {
    const json = JSON.parse(text) as unknown;
    if (typeof json !== 'object' || json === null) return null;
    const { version, name, savedAt, text: body } = json as Record<string, unknown>;
    if (version !== RECOVERY_VERSION || typeof name !== 'string' || typeof body !== 'string')
      return null;
    if (typeof savedAt !== 'number' || !Number.isFinite(savedAt)) return null;
    return { name, savedAt, text: body };
  } catch {
    return null;
  }
}

export class RecoveryStore {
  readonly file: string;
  readonly weightsFile: string;

  constructor(
    readonly folder: string,
    private readonly io: RecoveryIo,
    private readonly now: () => number = Date.now,
  ) {
    this.file = join(folder, RECOVERY_FILE);
    this.weightsFile = join(folder, RECOVERY_WEIGHTS_FILE);
  }

  /**
   * Keeps `text` as the work to offer; `weights` replace the autosaved weights (null removes
   * them; absent leaves them as they are, since edits autosave the text alone). The weights are
   * written first, so the work offered never misses weights it was autosaved with.
   */
  async save(name: string, text: string, weights?: Uint8Array | null): Promise<void> {
    await this.io.mkdir(this.folder);
    if (weights === null) await this.io.remove(this.weightsFile);
    else if (weights) await this.io.write(this.weightsFile, weights);
    const entry = { version: RECOVERY_VERSION, name, savedAt: this.now(), text };
    await this.io.write(this.file, JSON.stringify(entry));
  }

  /** The unsaved work of an earlier session (with its weights, if any), or null. */
  async pending(): Promise<RecoveryEntry | null> {
    const entry = parseRecovery(await this.io.read(this.file));
    if (!entry) return null;
    const weights = await this.io.readBytes(this.weightsFile);
    return weights ? { ...entry, weights } : entry;
  }

  async clear(): Promise<void> {
    await this.io.remove(this.file);
    await this.io.remove(this.weightsFile);
  }
}

/** The question main asks at start (Electron's showMessageBox options). */
export function recoveryQuestion(entry: RecoveryEntry): {
  type: 'question';
  buttons: string[];
  defaultId: number;
  cancelId: number;
  title: string;
  message: string;
  detail: string;
} {
  return {
    type: 'question',
    buttons: ['Restore', 'Discard'],
    defaultId: 0,
    cancelId: 1,
    title: 'Recover unsaved work',
    message: `Wiregrad closed with unsaved changes to ${entry.name}.`,
    detail: `Restore the work autosaved at ${new Date(entry.savedAt).toLocaleString()}? Discard deletes it.`,
  };
}

/** The recovered work as a document to open: no path, so Save asks where to write it. */
export function recoveredDocument(entry: RecoveryEntry): OpenedFileData {
  const weights = entry.weights
    ? { weights: { name: 'recovered weights', bytes: entry.weights } }
    : {};
  return { path: null, name: entry.name, text: entry.text, ...weights };
}

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
}

export interface Host {
  readonly kind: 'web' | 'desktop';
  /** Asks the user for a file to open; null when they cancel. */
  openFile(): Promise<OpenedFile | null>;
  /**
   * Saves `text`: over `target` when given and the host can write there, else where the user
   * chooses (or as a download). Resolves with where it went, or null when the user cancels.
   */
  saveFile(text: string, suggestedName: string, target?: HostFile): Promise<HostFile | null>;
  /** The last autosaved document text, or null. */
  loadAutosave(): string | null;
  /** Keeps `text` as the document to restore on the next start. */
  autosave(text: string): void;
}

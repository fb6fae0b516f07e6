/**
 * Open, Save and New through the host adapter, and autosave. The file the document came from
 * (name and the host's handle, so Save writes back to it) and the revision last saved (for the
 * unsaved-changes dot) live in a small store of their own.
 */

import { createStore, type StoreApi } from 'zustand/vanilla';
import type { Host, HostFile } from '../host/host.js';
import { parseDocument, serializeDocument } from '../state/document.js';
import type { Editor } from '../state/editor.js';

export interface FileState {
  readonly file: HostFile | null;
  /** The document revision last saved or opened. */
  readonly savedRevision: number;
  /** The last problem opening or saving, for the status bar. */
  readonly message: string | null;
}

export class Files {
  readonly state: StoreApi<FileState>;

  constructor(
    private readonly editor: Editor,
    private readonly host: Host,
  ) {
    this.state = createStore<FileState>(() => ({
      file: null,
      savedRevision: editor.document.getState().revision,
      message: null,
    }));
  }

  private suggestedName(): string {
    const name = this.editor.doc.graph.name ?? 'model';
    return `${
      name
        .replace(/[^\w.-]+/g, '-')
        .replace(/^-|-$/g, '')
        .toLowerCase() || 'model'
    }.json`;
  }

  async save(): Promise<void> {
    const { file } = this.state.getState();
    const revision = this.editor.document.getState().revision;
    try {
      const saved = await this.host.saveFile(
        serializeDocument(this.editor.doc),
        file?.name ?? this.suggestedName(),
        file ?? undefined,
      );
      if (saved)
        this.state.setState({
          file: saved,
          savedRevision: revision,
          message: `Saved ${saved.name}`,
        });
    } catch (error) {
      this.state.setState({ message: `Could not save: ${messageOf(error)}` });
    }
  }

  async open(): Promise<void> {
    try {
      const opened = await this.host.openFile();
      if (!opened) return;
      this.editor.load(parseDocument(opened.text), `Open ${opened.name}`);
      this.state.setState({
        file: opened,
        savedRevision: this.editor.document.getState().revision,
        message: `Opened ${opened.name}`,
      });
    } catch (error) {
      this.state.setState({ message: `Could not open the file: ${messageOf(error)}` });
    }
  }

  newDocument(): void {
    this.editor.newDocument();
    this.state.setState({
      file: null,
      savedRevision: this.editor.document.getState().revision,
      message: null,
    });
  }

  /** Autosaves the document a moment after each change; returns the unsubscribe function. */
  startAutosave(delayMs = 400): () => void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stop = this.editor.document.subscribe((state, previous) => {
      if (state.doc === previous.doc) return;
      clearTimeout(timer);
      timer = setTimeout(() => this.host.autosave(serializeDocument(state.doc)), delayMs);
    });
    return () => {
      clearTimeout(timer);
      stop();
    };
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

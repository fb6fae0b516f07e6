/**
 * Open, Save and New through the host adapter, and autosave. The file the document came from
 * (name and the host's handle, so Save writes back to it) and the revision last saved (for the
 * unsaved-changes dot) live in a small store of their own.
 */

import { createStore, type StoreApi } from 'zustand/vanilla';
import type { Host, HostFile, OpenedFile, WeightsToSave } from '../host/host.js';
import { importJupyter, jupyterImportMessage } from '../notebook/jupyter-import.js';
import {
  modelFileName,
  notModelText,
  notebookNameFor,
  parseModel,
  placeholderNotice,
  serializeModel,
} from '../files/model-file.js';
import {
  type DataEntry,
  type DataKeeper,
  type DocumentData,
  MAX_BROWSER_AUTOSAVE_CSV_BYTES,
  NO_DATA,
  autosaveText,
  dataEntryFor,
  dataNotice,
  readDataEntry,
  sizeText,
  withDataEntry,
  withoutDocumentData,
  withoutText,
} from '../files/data-entry.js';
import type { WeightsForSave } from '../state/training.js';
import {
  readWeightsRef,
  sha256Hex,
  weightsFileName,
  withWeightsRef,
} from '../files/weights-ref.js';
import type { Editor } from '../state/editor.js';

export interface FileState {
  readonly file: HostFile | null;
  /** The document revision last saved or opened. */
  readonly savedRevision: number;
  /**
   * The last file message (opened, saved, a problem opening or saving), for the status bar. An
   * 'info' message clears itself after a while; an 'error' stays until dismissed or replaced.
   */
  readonly message: string | null;
  readonly messageKind: 'info' | 'error';
}

/** How long an info message stays in the status bar (ms). */
export const INFO_MESSAGE_MS = 20_000;

/** The file stem of a name, for a model named after its file (`a/b/analysis.ipynb`: analysis). */
function stemOf(name: string): string {
  return (
    name
      .split(/[\\/]/)
      .pop()
      ?.replace(/\.[^.]*$/, '') || 'Untitled model'
  );
}

/**
 * What a notebook adds to files (renderer/notebook/notebook.ts): its cells written around the
 * graph cell, read back on open, and cleared by New.
 */
export interface NotebookFiles {
  write(graphNotebookText: string): string;
  saved(text: string): void;
  opened(text: string): void;
  reset(): void;
}

/**
 * What files need of training (renderer/state/training.ts's Training): the weights to write
 * beside the notebook, and taking the weights found beside one.
 */
export interface WeightsKeeper {
  weightsForSave(): Promise<WeightsForSave>;
  loadWeights(bytes: Uint8Array, name: string): Promise<string | null>;
  forgetWeights(): void;
  /**
   * Calls `listener` when training reaches a new step (with whether it is still running);
   * returns the unsubscribe function.
   */
  watchSteps(listener: (step: number, running: boolean) => void): () => void;
}

/** While training runs, its weights are autosaved at most this often (ms). */
export const WEIGHTS_AUTOSAVE_MS = 30_000;

/** The document's data with its entry, whose checksum may still be being computed. */
interface PendingDataEntry {
  readonly data: DocumentData;
  readonly entry: Promise<DataEntry | null>;
  /** The entry once computed. */
  settled?: DataEntry | null;
}

export class Files {
  readonly state: StoreApi<FileState>;
  private notebook: NotebookFiles | null = null;
  private weights: WeightsKeeper | null = null;
  private dataKeeper: DataKeeper | null = null;
  /** The document's data and its entry (the checksum is computed once per upload). */
  private dataEntry: PendingDataEntry | null = null;
  /** Set while the data is replaced by Open or New, which is not an edit. */
  private applyingData = false;
  /** Counts loads, so data read for an earlier one is not applied after a later one. */
  private loads = 0;
  private scheduleAutosave: (() => void) | null = null;

  constructor(
    private readonly editor: Editor,
    private readonly host: Host,
    infoMessageMs = INFO_MESSAGE_MS,
  ) {
    this.state = createStore<FileState>(() => ({
      file: null,
      savedRevision: editor.document.getState().revision,
      message: null,
      messageKind: 'info',
    }));
    let timer: ReturnType<typeof setTimeout> | undefined;
    this.state.subscribe((state, previous) => {
      if (state.message === previous.message && state.messageKind === previous.messageKind) return;
      clearTimeout(timer);
      const { message } = state;
      if (message === null || state.messageKind !== 'info') return;
      timer = setTimeout(() => {
        if (this.state.getState().message === message) this.state.setState({ message: null });
      }, infoMessageMs);
    });
  }

  /** Clears the status bar's file message (the user dismissed it). */
  dismissMessage(): void {
    this.state.setState({ message: null, messageKind: 'info' });
  }

  /** Saves and opens the notebook's cells with the graph from now on. */
  attachNotebook(notebook: NotebookFiles): void {
    this.notebook = notebook;
  }

  /** Saves the trained weights beside the notebook, and loads those found beside one. */
  attachWeights(weights: WeightsKeeper): void {
    this.weights = weights;
  }

  /**
   * Keeps the document's data (the CSV uploaded in the Data tab) in the notebook and the
   * autosave from now on: changing it is an unsaved edit, Open restores it, New clears it.
   */
  attachData(keeper: DataKeeper): void {
    this.dataKeeper = keeper;
    this.refreshDataEntry();
    keeper.watchData(() => {
      this.refreshDataEntry();
      if (!this.applyingData) this.state.setState({ savedRevision: -1 });
      this.scheduleAutosave?.();
    });
  }

  /** The entry for the data as it is now, its checksum computed once per uploaded file. */
  private refreshDataEntry(): void {
    const data = this.dataKeeper?.data() ?? NO_DATA;
    const last = this.dataEntry;
    if (last && last.data.csv === data.csv && last.data.source === data.source) return;
    const current: PendingDataEntry = {
      data,
      entry:
        last && last.data.csv === data.csv && data.csv
          ? last.entry.then((e) => e && { ...e, source: data.source })
          : dataEntryFor(data),
    };
    this.dataEntry = current;
    void current.entry.then(
      (entry) => {
        current.settled = entry;
        // The autosave before the checksum was ready went without the data.
        if (this.dataEntry === current && entry) this.scheduleAutosave?.();
      },
      () => (current.settled = null),
    );
  }

  /** Replaces the document's data without counting it as an edit (Open, New). */
  private applyData(data: DocumentData): void {
    if (!this.dataKeeper) return;
    this.applyingData = true;
    try {
      this.dataKeeper.setData(data);
    } finally {
      this.applyingData = false;
    }
  }

  /**
   * The text autosaved for the document: the graph document with the data's entry once its
   * checksum is known. A browser keeps autosaves in localStorage, so a large CSV goes there
   * without its text.
   */
  private autosaveText(): string {
    const entry = this.dataEntry?.settled ?? null;
    const fits =
      !entry || this.host.kind === 'desktop' || entry.csv.bytes <= MAX_BROWSER_AUTOSAVE_CSV_BYTES;
    return autosaveText(this.editor.doc, entry && (fits ? entry : withoutText(entry)));
  }

  /** Whether an op is known, once the catalog has arrived (before that, nothing is replaced). */
  private isKnownOp(): ((op: string) => boolean) | undefined {
    const catalog = this.editor.catalog.getState();
    return catalog.loaded && catalog.error === null ? (op) => catalog.byName.has(op) : undefined;
  }

  /** Saves over the current file, or asks where when there is none or `as` is set (Save As). */
  async save(as = false): Promise<void> {
    const current = this.state.getState().file;
    const file = as ? null : current;
    const revision = this.editor.document.getState().revision;
    try {
      // A `.json` graph from an earlier build is saved as a new notebook beside it, never over it.
      const target = file && notebookNameFor(file.name) === file.name ? file : undefined;
      const graphText = serializeModel(this.editor.doc);
      const dataEntry = (await this.dataEntry?.entry) ?? null;
      const written = withDataEntry(
        this.notebook ? this.notebook.write(graphText) : graphText,
        dataEntry,
      );
      const weights = await this.weights?.weightsForSave();
      const text = withWeightsRef(written, null);
      const name = current
        ? notebookNameFor(current.name)
        : modelFileName(this.editor.doc.graph.name);
      let withWeights: WeightsToSave | undefined;
      if (weights && 'bytes' in weights) {
        const ref = {
          file: weightsFileName(target?.name ?? name),
          step: weights.step,
          bytes: weights.bytes.byteLength,
          sha256: await sha256Hex(weights.bytes),
        };
        withWeights = { bytes: weights.bytes, text: withWeightsRef(written, ref) };
      }
      const saved = await this.host.saveFile(text, name, target, withWeights);
      if (saved) {
        const savedText = withWeights && saved.weightsName ? withWeights.text : text;
        this.notebook?.saved(savedText);
        const dataNote =
          dataEntry?.csv.omitted === 'too-large'
            ? `; its CSV ${dataEntry.csv.name} (${sizeText(dataEntry.csv.bytes)}) is too large ` +
              'to keep in the notebook, so it must be uploaded again after opening it'
            : '';
        const note =
          weights && 'skipped' in weights
            ? `; the trained weights were not saved: ${weights.skipped}`
            : withWeights && !saved.weightsName
              ? '; without its trained weights'
              : saved.weightsName
                ? ` and its trained weights (${saved.weightsName})`
                : '';
        this.state.setState({
          file: saved,
          savedRevision: revision,
          message: `Saved ${saved.name}${note}${dataNote}`,
          messageKind: 'info',
        });
      }
    } catch (error) {
      this.state.setState({ message: `Could not save: ${messageOf(error)}`, messageKind: 'error' });
    }
  }

  async open(): Promise<void> {
    try {
      const opened = await this.host.openFile();
      if (opened) this.load(opened);
    } catch (error) {
      this.state.setState({
        message: `Could not open the file: ${messageOf(error)}`,
        messageKind: 'error',
      });
    }
  }

  /**
   * Loads a file the host opened (a dialog, a recent file, recovered work). A file that cannot
   * be read leaves the document as it was and says why in the status bar. A plain Jupyter
   * notebook opens as a new, unsaved Wiregrad notebook (its file is not written by Save).
   */
  load(file: OpenedFile): void {
    const notText = notModelText(file.name, file.text);
    if (notText !== null)
      return void this.state.setState({ message: notText, messageKind: 'error' });
    const imported = file.recovered ? null : importJupyter(file.text, stemOf(file.name));
    if (imported)
      return this.loadImported(file, imported.text, jupyterImportMessage(file.name, imported));
    const opened = file;
    try {
      const model = parseModel(opened.text, this.isKnownOp());
      // A recovered graph document keeps its data in meta.data; the data goes to the Data tab.
      this.editor.load(withoutDocumentData(model.doc), `Open ${opened.name}`);
      const serial = ++this.loads;
      this.notebook?.opened(opened.text);
      // Recovered work keeps its recovery copy (weights too) until it is saved.
      if (opened.recovered) this.weights?.forgetWeights();
      else this.forgetWeights();
      const notice = placeholderNotice(model.placeholders);
      const message = opened.recovered
        ? `Recovered unsaved work of ${opened.name}; save it to keep it`
        : `Opened ${opened.name}${notice ? `: ${notice}` : ''}`;
      this.state.setState({
        file: opened,
        savedRevision: opened.recovered ? -1 : this.editor.document.getState().revision,
        message,
        messageKind: 'info',
      });
      // The weights first, so the data's sentence follows the weights'.
      void this.loadWeightsBeside(opened, message)
        .catch(() => undefined)
        .then(() => this.loadData(opened, serial));
    } catch (error) {
      this.state.setState({
        message: `Could not open the file: ${messageOf(error)}`,
        messageKind: 'error',
      });
    }
  }

  /**
   * Loads a notebook made from another file (a plain Jupyter notebook): a new document, unsaved
   * and with no file, so Save asks where and the original is written only if the user picks it.
   */
  private loadImported(file: OpenedFile, text: string, message: string): void {
    try {
      const model = parseModel(text, this.isKnownOp());
      this.editor.load(model.doc, `Open ${file.name}`);
      this.loads++;
      this.notebook?.opened(text);
      this.applyData(NO_DATA);
      this.forgetWeights();
      this.state.setState({ file: null, savedRevision: -1, message, messageKind: 'info' });
    } catch (error) {
      this.state.setState({
        message: `Could not open the file: ${messageOf(error)}`,
        messageKind: 'error',
      });
    }
  }

  /**
   * Loads the weights that came with an opened notebook, or says why not: missing, changed
   * since the notebook was saved, or not fitting the model. The notebook stays open either way.
   */
  private async loadWeightsBeside(opened: OpenedFile, opening: string): Promise<void> {
    const ref = readWeightsRef(opened.text);
    const say = (more: string): void => {
      if (this.state.getState().file === opened)
        this.state.setState({ message: `${opening}${more}`, messageKind: 'info' });
    };
    if (!this.weights) return;
    if (!opened.weights) {
      if (ref)
        say(
          `; its trained weights (${ref.file}, step ${ref.step.toLocaleString('en-US')}) were ` +
            'not found beside it, so the model starts from its initial values',
        );
      return;
    }
    const { name, bytes } = opened.weights;
    const changed = ref !== null && (await sha256Hex(bytes)) !== ref.sha256;
    const problem = await this.weights.loadWeights(bytes, name);
    if (problem !== null) say(`; ${problem}`);
    else
      say(
        ` with its trained weights (${name})` +
          (changed ? '; the weights file changed since the notebook was saved' : ''),
      );
  }

  /**
   * Restores the data kept in an opened document (none: the Data tab is cleared), or says why
   * not: too large to have been kept, or a damaged entry. The document stays open either way.
   */
  private async loadData(opened: OpenedFile, serial: number): Promise<void> {
    const read = await readDataEntry(opened.text);
    if (serial !== this.loads) return;
    if (read.kind === 'restored') this.applyData(read.data);
    else this.applyData(NO_DATA);
    const notice = dataNotice(read, opened.recovered ? 'autosave' : 'notebook');
    if (!notice || this.state.getState().file !== opened) return;
    const plain = `Opened ${opened.name}`;
    const said = this.state.getState().message ?? plain;
    const csv = read.kind === 'restored' ? read.data.csv : null;
    // A CSV that did not come back is worth more than a line in the status bar.
    if (!csv) this.editor.notify(`${opened.name}: ${notice}`);
    this.state.setState({
      messageKind: 'info',
      message: !csv
        ? `${said}; ${notice}`
        : said === plain
          ? `${plain} ${notice}`
          : `${said}; its data (${csv.name}) is back in the Data tab`,
    });
  }

  /**
   * At start, with the autosaved document restored (web): brings back the data autosaved with
   * it (`text` is the autosave as read; the editor's document was restored without its data).
   */
  async restoreAutosavedData(text: string): Promise<void> {
    const serial = this.loads;
    const read = await readDataEntry(text);
    if (serial !== this.loads || read.kind === 'none') return;
    if (read.kind === 'restored') this.applyData(read.data);
    const notice = dataNotice(read, 'autosave');
    if (notice && read.kind !== 'restored') this.editor.notify(`Autosaved work: ${notice}`);
    if (notice)
      this.state.setState({
        messageKind: 'info',
        message:
          read.kind === 'restored' && read.data.csv
            ? `Restored the CSV autosaved with this model (${read.data.csv.name})`
            : `The autosaved work opened, but ${notice}`,
      });
  }

  /**
   * Takes the weights of a model just imported (ONNX) as the document's: the model starts from
   * them, and Save writes them beside the notebook. Resolves with why not, or null.
   */
  async adoptWeights(bytes: Uint8Array, name: string): Promise<string | null> {
    if (!this.weights) return null;
    this.forgetWeights();
    return this.weights.loadWeights(bytes, name);
  }

  /**
   * At start, with the autosaved document restored (web): loads the trained weights autosaved
   * with it.
   */
  async restoreAutosavedWeights(): Promise<void> {
    const bytes = await this.host.loadAutosavedWeights?.();
    if (!bytes || !this.weights) return;
    const problem = await this.weights.loadWeights(bytes, 'autosaved weights');
    if (problem !== null)
      return void this.state.setState({ message: problem, messageKind: 'error' });
    this.state.setState({
      message: 'Restored the trained weights autosaved with this model',
      messageKind: 'info',
    });
  }

  /** Another document: the last one's weights are neither saved nor recovered with it. */
  private forgetWeights(): void {
    this.weights?.forgetWeights();
    this.host.autosave(this.autosaveText(), false, null);
  }

  newDocument(): void {
    this.editor.newDocument();
    this.loads++;
    // The CSV belonged to the last document.
    this.applyData(NO_DATA);
    this.forgetWeights();
    this.notebook?.reset();
    this.state.setState({
      file: null,
      savedRevision: this.editor.document.getState().revision,
      message: null,
      messageKind: 'info',
    });
  }

  /** Autosaves the document a moment after each change; returns the unsubscribe function. */
  /**
   * Autosaves the document a moment after each change, and the trained weights when training
   * pauses, stops or finishes at a new step, and every WEIGHTS_AUTOSAVE_MS while it runs (so a
   * crash loses at most that much training). Returns the unsubscribe function.
   */
  startAutosave(delayMs = 400): () => void {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const unsaved = (): boolean =>
      this.editor.document.getState().revision !== this.state.getState().savedRevision;
    const schedule = (): void => {
      clearTimeout(timer);
      timer = setTimeout(() => this.host.autosave(this.autosaveText(), unsaved()), delayMs);
    };
    this.scheduleAutosave = schedule;
    const stop = this.editor.document.subscribe((state, previous) => {
      if (state.doc !== previous.doc) schedule();
    });
    let lastWeights = -Infinity;
    let lastStep = 0;
    let saving = false;
    /** A step that arrived while weights were being saved, to save once that is done. */
    let waiting: { step: number; running: boolean } | null = null;
    const onStep = (step: number, running: boolean): void => {
      const now = performance.now();
      if (saving) {
        waiting = { step, running };
        return;
      }
      if (step === lastStep || (running && now - lastWeights < WEIGHTS_AUTOSAVE_MS)) return;
      saving = true;
      lastWeights = now;
      void this.autosaveWeights()
        .then((saved) => {
          if (saved) lastStep = step;
        })
        .finally(() => {
          saving = false;
          const next = waiting;
          waiting = null;
          if (next) onStep(next.step, next.running);
        });
    };
    const stopWeights = this.weights?.watchSteps(onStep);
    return () => {
      clearTimeout(timer);
      if (this.scheduleAutosave === schedule) this.scheduleAutosave = null;
      stop();
      stopWeights?.();
    };
  }

  /** Autosaves the current weights with the document; resolves with whether it did. */
  private async autosaveWeights(): Promise<boolean> {
    const weights = await this.weights?.weightsForSave();
    if (!weights || !('bytes' in weights)) return false;
    this.host.autosave(this.autosaveText(), true, weights.bytes);
    return true;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * One notebook's state and commands, headless (tests drive it without React): the cells with
 * their undo history (separate from the canvas's), the outputs of code cells, which cells are
 * queued or running, the kernel's status, whether the notebook is trusted, and whether the
 * Notebook or the Canvas view is showing.
 *
 * Code runs in a kernel (engine/worker/kernel.ts) behind its own engine worker, started by the
 * injected `startKernel`, so interrupting a runaway cell can terminate that worker without
 * touching the canvas's. A notebook opened from a file runs nothing until trusted; trust is
 * remembered per file content hash (`TrustList`), and what the user saves is trusted.
 *
 * Graph cells: a notebook holds one or more, each with its own graph (kept beside the cells by
 * id, like outputs, so cell undo never rolls a graph back). Exactly one is active: its graph is
 * the canvas's document, reached through the injected `CanvasLink`. Making another cell active
 * writes the canvas's document back into the active cell first, so nothing is lost. The active
 * cell cannot be deleted, and an undo or redo that would remove it is refused with a message.
 */

import { createStore, type StoreApi } from 'zustand/vanilla';
import type { GraphJSON } from '../../engine/graph/ir.js';
import type { CellLog, CellRun } from '../../engine/protocol/messages.js';
import {
  type Cell,
  type CellEdit,
  type CellKind,
  type CellOutput,
  addCell,
  cellNumber,
  editSource,
  hashText,
  makeCell,
  makeGraphCell,
  moveCell,
  newNotebookCells,
  removeCell,
  setKind,
  upstreamSignature,
} from './cells.js';
import {
  type GraphSlot,
  type NotebookContent,
  readNotebookCells,
  writeNotebookCells,
} from './notebook-file.js';

/** What the notebook needs of the canvas: read its document, show another one. */
export interface CanvasLink {
  /** The canvas's document as a graph file (layout in `meta.layout`). */
  current(): GraphJSON;
  /** Replaces the canvas's document by `graph`; the canvas's undo history starts afresh. */
  show(graph: GraphJSON, label: string): void;
  /** Tells the user something wherever they are looking (the canvas's notice). */
  notify?(text: string): void;
}

/** What the notebook needs of a kernel: the engine client's cell methods. */
export interface KernelClient {
  /** `onLogs` sees the output lines while the cell runs (lines from `from` on replaced). */
  runCell(
    cell: number,
    source: string,
    onLogs?: (from: number, logs: readonly CellLog[]) => void,
  ): Promise<CellRun>;
  resetKernel(): Promise<void>;
  close(): void;
}

/** The part of Web Storage the notebook uses (autosave and remembered trust). */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

export type KernelStatus = 'idle' | 'busy';
export type ViewMode = 'canvas' | 'notebook';

interface UndoEntry {
  readonly before: readonly Cell[];
  readonly after: readonly Cell[];
  readonly label: string;
  /** Set for text edits, which merge with the next edit of the same cell. */
  readonly typing?: { readonly cell: string; readonly at: number };
}

export interface NotebookState {
  readonly cells: readonly Cell[];
  readonly outputs: Readonly<Record<string, CellOutput>>;
  /**
   * The graphs of graph cells by cell id. The active cell's entry is what it held when it last
   * stopped being active (or was opened); the canvas holds its live document.
   */
  readonly graphs: Readonly<Record<string, GraphSlot>>;
  /** The id of the active graph cell: the one whose graph is the canvas's document. */
  readonly active: string;
  readonly past: readonly UndoEntry[];
  readonly future: readonly UndoEntry[];
  /** Counts cell edits (not runs); 0 for a fresh or just-opened notebook. */
  readonly revision: number;
  readonly trusted: boolean;
  readonly running: Readonly<Record<string, 'queued' | 'running'>>;
  /** The output lines of running cells so far (streamed by the kernel), by cell id. */
  readonly live: Readonly<Record<string, readonly CellLog[]>>;
  readonly kernel: KernelStatus;
  /** The kernel's run counter (the [n] of the last output). */
  readonly counter: number;
  /** A sentence for the notebook's status line (a refusal, a restart …), or null. */
  readonly message: string | null;
  readonly mode: ViewMode;
  /** The selected cell (keyboard focus moves with it). */
  readonly selected: string | null;
  /** Bumped when the selected cell should take keyboard focus. */
  readonly focusRequest: number;
  /** The markdown cell being edited (shown as source), or null. */
  readonly editing: string | null;
  /** A request to focus a code cell's editor (n changes each time). */
  readonly editorFocus: { readonly id: string; readonly n: number } | null;
}

const AUTOSAVE_KEY = 'wiregrad.notebook.autosave.v1';

/** A new graph cell's model: an Input node to build from. */
export function newGraph(name: string): GraphJSON {
  return {
    format: 'wiregrad.graph',
    version: 1,
    name,
    nodes: [
      { id: 'x', op: 'input', inputs: [], attrs: { shape: [-1, 2], dtype: 'f32', role: 'data' } },
    ],
    outputs: [],
    meta: { layout: { x: { x: 0, y: 0 } } },
  };
}

const graphName = (graph: GraphJSON | undefined): string => graph?.name?.trim() || 'Untitled model';
const TRUST_KEY = 'wiregrad.notebook.trusted.v1';
/** The autosave keeps the cells only (the canvas autosaves the graph): a stub marks its place. */
const AUTOSAVE_STUB = JSON.stringify({
  cells: [{ id: 'wiregrad-model', cell_type: 'markdown', metadata: { wiregrad: { graph: null } } }],
});
/** How long after a keystroke another keystroke in the same cell merges into its undo entry. */
const TYPING_MERGE_MS = 1500;

/** Content hashes of notebooks the user trusted (most recent last, at most 200). */
export class TrustList {
  constructor(private readonly storage: KeyValueStore | null) {}

  private read(): string[] {
    try {
      const parsed: unknown = JSON.parse(this.storage?.getItem(TRUST_KEY) ?? '[]');
      return Array.isArray(parsed) ? parsed.filter((h): h is string => typeof h === 'string') : [];
    } catch {
      return [];
    }
  }

  has(text: string): boolean {
    return this.read().includes(hashText(text));
  }

  add(text: string): void {
    const hash = hashText(text);
    const list = this.read().filter((h) => h !== hash);
    list.push(hash);
    try {
      this.storage?.setItem(TRUST_KEY, JSON.stringify(list.slice(-200)));
    } catch {
      // Storage full or refused: trust then lasts for this session only.
    }
  }
}

export interface NotebookOptions {
  readonly startKernel: () => KernelClient;
  readonly storage?: KeyValueStore | null;
  /** Autosave delay in ms (0 writes at once). Default 400. */
  readonly autosaveMs?: number;
}

export class Notebook {
  readonly state: StoreApi<NotebookState>;
  private kernel: KernelClient | null = null;
  /** Bumped by interrupt and restart: answers of an older kernel are dropped. */
  private generation = 0;
  private queue: Promise<void> = Promise.resolve();
  private readonly trust: TrustList;
  private readonly storage: KeyValueStore | null;
  /** The text of the file last opened, until it is trusted. */
  private openedText: string | null = null;
  private canvas: CanvasLink | null = null;

  constructor(private readonly options: NotebookOptions) {
    this.storage = options.storage ?? null;
    this.trust = new TrustList(this.storage);
    const restored = this.restoreAutosave();
    const cells = restored?.cells ?? newNotebookCells();
    this.state = createStore<NotebookState>(() => ({
      cells,
      outputs: restored?.outputs ?? {},
      graphs: restored?.graphs ?? {},
      active: restored?.active ?? cells.find((c) => c.kind === 'graph')!.id,
      past: [],
      future: [],
      revision: 0,
      trusted: restored?.trusted ?? true,
      running: {},
      live: {},
      kernel: 'idle',
      counter: 0,
      message: null,
      mode: 'canvas',
      selected: null,
      focusRequest: 0,
      editing: null,
      editorFocus: null,
    }));
    this.startAutosave(options.autosaveMs ?? 400);
  }

  get cells(): readonly Cell[] {
    return this.state.getState().cells;
  }

  // ---- edits (undoable) --------------------------------------------------------------------

  private apply(edit: (cells: readonly Cell[]) => CellEdit, typingCell?: string): boolean {
    const s = this.state.getState();
    let result: CellEdit;
    try {
      result = edit(s.cells);
    } catch (error) {
      this.say(error instanceof Error ? error.message : String(error));
      return false;
    }
    if (result.cells === s.cells) return false;
    const now = Date.now();
    const last = s.past[s.past.length - 1];
    const merge =
      typingCell !== undefined &&
      last?.typing?.cell === typingCell &&
      now - last.typing.at < TYPING_MERGE_MS &&
      s.future.length === 0;
    const entry: UndoEntry = {
      before: merge ? last.before : s.cells,
      after: result.cells,
      label: result.label,
      ...(typingCell !== undefined ? { typing: { cell: typingCell, at: now } } : {}),
    };
    this.state.setState({
      cells: result.cells,
      past: [...(merge ? s.past.slice(0, -1) : s.past), entry].slice(-200),
      future: [],
      revision: s.revision + 1,
      message: null,
    });
    return true;
  }

  /** Adds a cell after `afterId` (or at the end) and selects it; returns its id. */
  add(kind: Exclude<CellKind, 'graph'>, afterId?: string | null, source = ''): string {
    const cell = makeCell(kind, source);
    const cells = this.cells;
    const at = afterId ? cells.findIndex((c) => c.id === afterId) + 1 : cells.length;
    this.apply((c) => addCell(c, cell, at <= 0 ? cells.length : at));
    this.select(cell.id);
    return cell.id;
  }

  remove(id: string): void {
    const cells = this.cells;
    const index = cells.findIndex((c) => c.id === id);
    if (this.apply((c) => removeCell(c, id, this.state.getState().active))) {
      const next = this.cells[Math.min(index, this.cells.length - 1)];
      this.select(next?.id ?? null);
    }
  }

  move(id: string, delta: number): void {
    this.apply((c) => moveCell(c, id, delta));
  }

  edit(id: string, source: string): void {
    const cell = this.cells.find((c) => c.id === id);
    if (!cell || cell.source === source) return;
    this.apply((c) => editSource(c, id, source), id);
  }

  setKind(id: string, kind: 'markdown' | 'code'): void {
    this.apply((c) => setKind(c, id, kind));
  }

  undo(): void {
    const s = this.state.getState();
    const entry = s.past[s.past.length - 1];
    if (!entry || !this.keepsActive(entry.before, `Undo ${entry.label}`)) return;
    this.state.setState({
      cells: entry.before,
      past: s.past.slice(0, -1),
      future: [{ ...entry, typing: undefined }, ...s.future],
      revision: s.revision + 1,
    });
  }

  redo(): void {
    const s = this.state.getState();
    const entry = s.future[0];
    if (!entry || !this.keepsActive(entry.after, `Redo ${entry.label}`)) return;
    this.state.setState({
      cells: entry.after,
      past: [...s.past, entry],
      future: s.future.slice(1),
      revision: s.revision + 1,
    });
  }

  /** Whether `cells` still hold the active graph cell; says why not when they do not. */
  private keepsActive(cells: readonly Cell[], what: string): boolean {
    const active = this.state.getState().active;
    if (cells.some((c) => c.id === active)) return true;
    this.say(
      `${what} would remove the graph cell on the canvas: choose "Edit on canvas" on another ` +
        'graph cell first.',
    );
    return false;
  }

  // ---- graph cells --------------------------------------------------------------------------

  /** Connects the canvas, whose document is the active graph cell's graph. */
  attachCanvas(canvas: CanvasLink): void {
    this.canvas = canvas;
  }

  /**
   * Adds a graph cell after `afterId` (or at the end) holding `graph` (a new model with an
   * Input node when omitted) and selects it; `activate` puts it on the canvas. Returns its id.
   */
  addGraph(afterId?: string | null, graph?: GraphJSON, activate = false): string {
    const cell = makeGraphCell();
    const cells = this.cells;
    const count = cells.filter((c) => c.kind === 'graph').length;
    const slot = { graph: graph ?? newGraph(`Model ${count + 1}`) };
    this.state.setState({ graphs: { ...this.state.getState().graphs, [cell.id]: slot } });
    const at = afterId ? cells.findIndex((c) => c.id === afterId) + 1 : cells.length;
    this.apply((c) => addCell(c, cell, at <= 0 ? cells.length : at));
    this.select(cell.id);
    if (activate) this.activate(cell.id);
    return cell.id;
  }

  /** The graph a graph cell holds now: the canvas's for the active cell. */
  graphOf(id: string): GraphSlot | null {
    const s = this.state.getState();
    if (id === s.active && this.canvas) return { graph: this.canvas.current() };
    return s.graphs[id] ?? null;
  }

  /**
   * Makes a graph cell the active one and shows the canvas: the canvas's document is written
   * back into the cell it came from first, then the cell's graph replaces it. Refused with a
   * message for a cell whose graph could not be read. Returns whether the cell is active.
   */
  activate(id: string): boolean {
    const s = this.state.getState();
    const cell = s.cells.find((c) => c.id === id);
    if (!cell || cell.kind !== 'graph') return false;
    if (id === s.active) {
      this.setMode('canvas');
      return true;
    }
    const slot = s.graphs[id];
    if (!slot || !('graph' in slot)) {
      this.say(
        slot && 'error' in slot
          ? `This graph cell cannot go on the canvas. ${slot.error}.`
          : 'This graph cell has no graph.',
      );
      return false;
    }
    if (!this.canvas) {
      this.say('There is no canvas to edit this graph on.');
      return false;
    }
    const previous = this.canvas.current();
    const graphs = { ...s.graphs, [s.active]: { graph: previous } };
    this.state.setState({ graphs, active: id });
    this.canvas.show(slot.graph, `Edit ${graphName(slot.graph)}`);
    const message =
      `“${graphName(slot.graph)}” is on the canvas; “${graphName(previous)}” is kept in its ` +
      'cell. The canvas’s undo history starts afresh with each switch.';
    this.state.setState({ mode: 'canvas', message });
    this.canvas.notify?.(message);
    return true;
  }

  // ---- view ---------------------------------------------------------------------------------

  /** Selects a cell; `focus` moves keyboard focus to it (out of any editor). */
  select(id: string | null, focus = false): void {
    const s = this.state.getState();
    this.state.setState({
      selected: id,
      focusRequest: focus ? s.focusRequest + 1 : s.focusRequest,
      editing: s.editing !== null && s.editing !== id ? null : s.editing,
    });
  }

  /**
   * Selects the cell after `id` (the first when null); past the last one, `create` adds a code
   * cell there and puts the cursor in it, as Shift+Enter does in Jupyter.
   */
  selectNext(id: string | null, create = true): void {
    const cells = this.cells;
    const index = id === null ? -1 : cells.findIndex((c) => c.id === id);
    const next = cells[index + 1];
    if (next) this.select(next.id, true);
    else if (create && id !== null) this.focusEditor(this.add('code', id));
  }

  selectPrevious(id: string | null): void {
    const cells = this.cells;
    const index = id === null ? cells.length : cells.findIndex((c) => c.id === id);
    const previous = cells[Math.max(0, index - 1)];
    if (previous) this.select(previous.id, true);
  }

  /** Shows a markdown cell's source for editing (null: render it again). */
  setEditing(id: string | null): void {
    this.state.setState({ editing: id, ...(id !== null ? { selected: id } : {}) });
  }

  /** Puts the cursor in a code cell's editor. */
  focusEditor(id: string): void {
    const n = (this.state.getState().editorFocus?.n ?? 0) + 1;
    this.state.setState({ selected: id, editorFocus: { id, n } });
  }

  setMode(mode: ViewMode): void {
    this.state.setState({ mode });
  }

  private say(message: string | null): void {
    this.state.setState({ message });
  }

  // ---- running ------------------------------------------------------------------------------

  private client(): KernelClient {
    this.kernel ??= this.options.startKernel();
    return this.kernel;
  }

  private setRunning(id: string, status: 'queued' | 'running' | null): void {
    const running = { ...this.state.getState().running };
    if (status) running[id] = status;
    else delete running[id];
    this.state.setState({
      running,
      kernel: Object.keys(running).length > 0 ? 'busy' : 'idle',
    });
  }

  /**
   * Runs a code cell (after the runs already queued). Refused with a message while the
   * notebook is untrusted. Resolves with the output, or null when it did not run.
   */
  run(id: string): Promise<CellOutput | null> {
    const s = this.state.getState();
    const cell = s.cells.find((c) => c.id === id);
    if (!cell || cell.kind !== 'code') return Promise.resolve(null);
    if (!s.trusted) {
      this.say('This notebook came from a file: trust it to run its code.');
      return Promise.resolve(null);
    }
    const generation = this.generation;
    this.setRunning(id, 'queued');
    const result = this.queue.then(async (): Promise<CellOutput | null> => {
      if (generation !== this.generation) return null;
      const current = this.state.getState();
      const now = current.cells.find((c) => c.id === id);
      if (!now) {
        this.setRunning(id, null);
        return null;
      }
      this.setRunning(id, 'running');
      const signature = upstreamSignature(current.cells, id);
      let run: CellRun;
      try {
        run = await this.client().runCell(
          cellNumber(current.cells, id),
          now.source,
          (from, logs) => {
            if (generation !== this.generation) return;
            const live = this.state.getState().live;
            const lines = [...(live[id] ?? []).slice(0, from), ...logs];
            this.state.setState({ live: { ...live, [id]: lines } });
          },
        );
      } catch (error) {
        if (generation !== this.generation) return null;
        run = {
          cell: cellNumber(current.cells, id),
          logs: [],
          value: null,
          error: {
            name: 'KernelError',
            message: error instanceof Error ? error.message : String(error),
            line: null,
            column: null,
          },
          names: [],
          ms: 0,
        };
      }
      if (generation !== this.generation) return null;
      const count = this.state.getState().counter + 1;
      const output: CellOutput = {
        logs: run.logs,
        value: run.value,
        error: run.error,
        count,
        ms: run.ms,
        signature,
      };
      const { [id]: _done, ...live } = this.state.getState().live;
      this.state.setState({
        counter: count,
        outputs: { ...this.state.getState().outputs, [id]: output },
        live,
      });
      this.setRunning(id, null);
      return output;
    });
    this.queue = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /**
   * Shift+Enter: runs the cell (when it is code) and moves to the next one, adding a code cell
   * after the last. An untrusted notebook only says why nothing ran.
   */
  runAndAdvance(id: string): void {
    const s = this.state.getState();
    if (!s.trusted && s.cells.find((c) => c.id === id)?.kind === 'code') {
      this.say('This notebook came from a file: trust it to run its code.');
      return;
    }
    void this.run(id);
    this.selectNext(id);
  }

  /** Runs every code cell in order, stopping at the first error. */
  async runAll(): Promise<void> {
    await this.runCells(this.cells);
  }

  /**
   * Runs the code cells above `id` (not `id` itself) in order, stopping at the first error:
   * what a cell needs defined before it runs.
   */
  async runAbove(id: string): Promise<void> {
    const index = this.cells.findIndex((c) => c.id === id);
    if (index < 0) return;
    if (!this.cells.slice(0, index).some((c) => c.kind === 'code')) {
      this.say('There are no code cells above this one to run.');
      return;
    }
    await this.runCells(this.cells.slice(0, index));
  }

  private async runCells(cells: readonly Cell[]): Promise<void> {
    if (!this.state.getState().trusted) {
      this.say('This notebook came from a file: trust it to run its code.');
      return;
    }
    const generation = this.generation;
    for (const cell of cells) {
      if (cell.kind !== 'code') continue;
      const output = await this.run(cell.id);
      if (generation !== this.generation || !output || output.error) return;
    }
  }

  /**
   * Stops whatever runs by terminating the kernel's worker (JavaScript cannot be stopped from
   * outside otherwise); the next run starts a fresh kernel, so every name is gone.
   */
  interrupt(): void {
    const { running, live } = this.state.getState();
    const outputs = { ...this.state.getState().outputs };
    let counter = this.state.getState().counter;
    for (const [id, status] of Object.entries(running))
      if (status === 'running')
        // What the cell printed before it was stopped stays (a training loop's log and
        // progress bars), under a run number of its own.
        outputs[id] = {
          logs: live[id] ?? [],
          value: null,
          error: {
            name: 'Interrupted',
            message:
              'the kernel was stopped and restarted; names defined by earlier cells are gone, ' +
              'run them again',
            line: null,
            column: null,
          },
          count: ++counter,
          ms: 0,
          signature: upstreamSignature(this.cells, id),
        };
    this.stopKernel();
    this.state.setState({
      counter,
      outputs,
      message: 'Interrupted: the kernel was restarted, so earlier names are gone.',
    });
  }

  /** Starts over with an empty scope (the worker is replaced, so this also stops a run). */
  restart(): void {
    this.stopKernel();
    this.state.setState({ counter: 0, message: 'Kernel restarted: the scope is empty.' });
  }

  private stopKernel(): void {
    this.generation++;
    this.kernel?.close();
    this.kernel = null;
    this.queue = Promise.resolve();
    this.state.setState({ running: {}, live: {}, kernel: 'idle' });
  }

  clearOutputs(): void {
    this.state.setState({ outputs: {} });
  }

  // ---- trust and files ----------------------------------------------------------------------

  /** Lets this notebook run code, and remembers the file's content as trusted. */
  trustNotebook(): void {
    if (this.openedText !== null) this.trust.add(this.openedText);
    this.openedText = null;
    this.state.setState({ trusted: true, message: null });
  }

  /** The file text with the cells added to what the graph writer produced. */
  write(graphNotebookText: string): string {
    const s = this.state.getState();
    return writeNotebookCells(graphNotebookText, {
      cells: s.cells,
      outputs: s.outputs,
      graphs: s.graphs,
      active: s.active,
    });
  }

  /** The user saved `text`: they wrote it, so opening it again is trusted. */
  saved(text: string): void {
    if (this.state.getState().trusted) this.trust.add(text);
  }

  /**
   * A file was opened: its cells replace the notebook's; it runs nothing until trusted. A file
   * without code cells has nothing to run, so it needs no trust (what the user adds is theirs).
   */
  opened(text: string): void {
    const content = readNotebookCells(text);
    const trusted = this.trust.has(text) || !content.cells.some((c) => c.kind === 'code');
    this.openedText = trusted ? null : text;
    this.replace(content, trusted);
    const broken = Object.entries(content.graphs).filter(
      ([id, slot]) => 'error' in slot && id !== content.active,
    );
    if (broken.length > 0) {
      const text =
        broken.map(([, slot]) => ('error' in slot ? slot.error : '')).join('. ') +
        '. The other cells opened as saved.';
      this.say(text);
      this.canvas?.notify?.(text);
    }
  }

  /** A new, empty (and trusted) notebook. */
  reset(): void {
    this.openedText = null;
    this.replace({ cells: newNotebookCells(), outputs: {} }, true);
  }

  private replace(content: NotebookContent, trusted: boolean): void {
    this.stopKernel();
    this.state.setState({
      cells: content.cells,
      outputs: content.outputs,
      graphs: content.graphs ?? {},
      active: content.active ?? content.cells.find((c) => c.kind === 'graph')!.id,
      past: [],
      future: [],
      revision: 0,
      trusted,
      counter: Math.max(0, ...Object.values(content.outputs).map((o) => o.count)),
      message: null,
      selected: null,
      editing: null,
      editorFocus: null,
    });
  }

  // ---- autosave -----------------------------------------------------------------------------

  private restoreAutosave(): (Required<NotebookContent> & { trusted: boolean }) | null {
    const text = this.storage?.getItem(AUTOSAVE_KEY);
    if (!text) return null;
    try {
      const saved = JSON.parse(text) as { text?: unknown; trusted?: unknown };
      if (typeof saved.text !== 'string') return null;
      const content = readNotebookCells(saved.text);
      // The active cell's graph is the canvas's (autosaved by the canvas): a stub here.
      const { [content.active]: _stub, ...graphs } = content.graphs;
      return { ...content, graphs, trusted: saved.trusted === true };
    } catch {
      return null;
    }
  }

  private startAutosave(delayMs: number): void {
    if (!this.storage) return;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const save = () => {
      const s = this.state.getState();
      const text = writeNotebookCells(AUTOSAVE_STUB, {
        cells: s.cells,
        outputs: s.outputs,
        graphs: s.graphs,
        active: s.active,
      });
      try {
        this.storage?.setItem(AUTOSAVE_KEY, JSON.stringify({ text, trusted: s.trusted }));
      } catch {
        // A full storage loses only the autosave; the file is saved with Save.
      }
    };
    this.state.subscribe((s, previous) => {
      if (
        s.cells === previous.cells &&
        s.outputs === previous.outputs &&
        s.graphs === previous.graphs &&
        s.active === previous.active &&
        s.trusted === previous.trusted
      )
        return;
      clearTimeout(timer);
      if (delayMs === 0) save();
      else timer = setTimeout(save, delayMs);
    });
  }
}

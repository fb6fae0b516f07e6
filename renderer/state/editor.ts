/**
 * The headless editor: everything the canvas can do, without React, so tests drive it directly
 * (select, connect, undo, then assert), as tldraw's Editor is driven. `createEditor` makes one
 * per canvas, with its own small zustand stores (document with undo history and derived view,
 * selection, engine analysis, op catalog); React reaches them through context.tsx.
 *
 * Edits go through `run(name, args)`, which applies a command from commands.ts and records an
 * undo entry (the documents before and after: immutable values sharing unchanged nodes, so an
 * entry costs little and restores the state exactly). After each change the document is posted
 * to the engine worker on the next animation frame (or the scheduler given); a newer request
 * supersedes an older one, and answers for stale revisions are dropped.
 */

import { createStore, type StoreApi } from 'zustand/vanilla';
import type { EngineClient } from '../../engine/protocol/client.js';
import type { GraphCheck, OpInfo } from '../../engine/protocol/messages.js';
import { layeredLayout } from './auto-layout.js';
import {
  type CommandArgs,
  type CommandContext,
  type CommandName,
  type CommandResult,
  type Fragment,
  COMMANDS,
  copyFragment,
} from './commands.js';
import { type Fix, type NodeProblem, problemsByViewNode } from './diagnostics.js';
import { type EditorDocument, type Point, emptyDocument } from './document.js';
import { upstreamOf } from './graph-edit.js';
import { expandGroupIds, groupsOf, groupsToCopy } from './groups.js';
import { TEMPLATES } from './templates.js';
import { type DocumentView, buildView } from './view.js';

/** One undoable edit: the documents before and after it. */
export interface HistoryEntry {
  readonly label: string;
  readonly before: EditorDocument;
  readonly after: EditorDocument;
}

export interface DocumentState {
  readonly doc: EditorDocument;
  /** Counts changes (edits, undos, redos, loads); analysis answers carry the one they are for. */
  readonly revision: number;
  readonly past: readonly HistoryEntry[];
  readonly future: readonly HistoryEntry[];
  /** What the canvas draws (derived from doc and the op catalog). */
  readonly view: DocumentView;
}

export interface SelectionState {
  /** Canvas node ids (a collapsed layer's group id). */
  readonly nodes: readonly string[];
  /** Canvas edge ids (`ViewEdge.id`). */
  readonly edges: readonly string[];
}

export interface AnalysisState {
  /** The document revision `check` belongs to; -1 before the first answer. */
  readonly revision: number;
  readonly check: GraphCheck | null;
  /** `check`'s diagnostics by canvas node ('' for the document); unchanged lists kept. */
  readonly problems: ReadonlyMap<string, readonly NodeProblem[]>;
  /** Why the engine could not answer, when it could not. */
  readonly error: string | null;
}

/** Canvas requests that are not document edits. */
export interface UiState {
  /** Bumped when the canvas should fit the whole model in view (after a load). */
  readonly fitRequest: number;
  /** A short message for the user (a toast), numbered so the same text shows again. */
  readonly notice: { readonly id: number; readonly text: string } | null;
  /** Whether the keyboard shortcuts panel is open. */
  readonly shortcutsHelp: boolean;
}

export interface CatalogState {
  readonly list: readonly OpInfo[];
  readonly byName: ReadonlyMap<string, OpInfo>;
  readonly loaded: boolean;
  readonly error: string | null;
}

export interface EditorOptions {
  readonly client: EngineClient;
  readonly document?: EditorDocument;
  /** Runs the analysis after changes; default: the next animation frame (a timer in Node). */
  readonly schedule?: (task: () => void) => void;
  /** The most undo entries kept. */
  readonly historyLimit?: number;
}

/** How far an inserted node pushes the nodes below it down (a small card and an edge). */
const INSERT_ROOM = 140;

const defaultSchedule = (task: () => void): void => {
  if (typeof requestAnimationFrame === 'function') requestAnimationFrame(() => task());
  else setTimeout(task, 0);
};

export class Editor {
  readonly document: StoreApi<DocumentState>;
  readonly selection: StoreApi<SelectionState>;
  readonly analysis: StoreApi<AnalysisState>;
  readonly catalog: StoreApi<CatalogState>;
  readonly ui: StoreApi<UiState>;
  private readonly client: EngineClient;
  private readonly schedule: (task: () => void) => void;
  private readonly historyLimit: number;
  private analysisQueued = false;
  private disposed = false;
  private clipboard: Fragment | null = null;
  private pasteCount = 0;
  private readonly ready: Promise<void>;

  constructor(options: EditorOptions) {
    this.client = options.client;
    this.schedule = options.schedule ?? defaultSchedule;
    this.historyLimit = options.historyLimit ?? 500;
    const doc = options.document ?? emptyDocument();
    this.catalog = createStore<CatalogState>(() => ({
      list: [],
      byName: new Map(),
      loaded: false,
      error: null,
    }));
    this.document = createStore<DocumentState>(() => ({
      doc,
      revision: 0,
      past: [],
      future: [],
      view: buildView(doc, new Map()),
    }));
    this.selection = createStore<SelectionState>(() => ({ nodes: [], edges: [] }));
    this.analysis = createStore<AnalysisState>(() => ({
      revision: -1,
      check: null,
      problems: new Map(),
      error: null,
    }));
    this.ui = createStore<UiState>(() => ({
      fitRequest: 0,
      notice: null,
      shortcutsHelp: false,
    }));
    this.ready = this.loadCatalog();
    this.requestAnalysis();
  }

  // ---- reading ----------------------------------------------------------------------------

  get doc(): EditorDocument {
    return this.document.getState().doc;
  }

  get view(): DocumentView {
    return this.document.getState().view;
  }

  get canUndo(): boolean {
    return this.document.getState().past.length > 0;
  }

  get canRedo(): boolean {
    return this.document.getState().future.length > 0;
  }

  /** Resolves once the op catalog has arrived (or failed to). */
  whenReady(): Promise<void> {
    return this.ready;
  }

  /** Resolves with the analysis of the current document once the engine has answered. */
  whenAnalysed(): Promise<GraphCheck> {
    const current = (): GraphCheck | null => {
      const a = this.analysis.getState();
      return a.revision === this.document.getState().revision ? a.check : null;
    };
    const now = current();
    if (now) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const stop = this.analysis.subscribe((a) => {
        const check = current();
        if (check) {
          stop();
          resolve(check);
        } else if (a.error) {
          stop();
          reject(new Error(a.error));
        }
      });
    });
  }

  // ---- editing ----------------------------------------------------------------------------

  /** Runs a command; returns its result, or null when it changed nothing. */
  run<N extends CommandName>(name: N, args: CommandArgs<N>): CommandResult | null {
    const command = COMMANDS[name] as (
      doc: EditorDocument,
      args: CommandArgs<N>,
      ctx: CommandContext,
    ) => CommandResult | null;
    const state = this.document.getState();
    const result = command(state.doc, args, { ops: this.catalog.getState().byName });
    if (!result || result.doc === state.doc) return null;
    const entry: HistoryEntry = { label: result.label, before: state.doc, after: result.doc };
    this.setDocument(result.doc, [...state.past, entry].slice(-this.historyLimit), []);
    if (result.select) this.select(result.select);
    return result;
  }

  undo(): boolean {
    const { past, future } = this.document.getState();
    const entry = past[past.length - 1];
    if (!entry) return false;
    this.setDocument(entry.before, past.slice(0, -1), [entry, ...future]);
    return true;
  }

  redo(): boolean {
    const { past, future } = this.document.getState();
    const entry = future[0];
    if (!entry) return false;
    this.setDocument(entry.after, [...past, entry], future.slice(1));
    return true;
  }

  /** Inserts a palette entry; returns the new canvas node's id. */
  addItem(item: string, position: Point): string | null {
    return this.run('addNode', { item, position })?.select?.[0] ?? null;
  }

  /** Whether an edge from canvas node `source` to `target` is allowed (no loop, no cycle). */
  canConnect(source: string, target: string, port: number): boolean {
    const view = this.view;
    const from = view.byId.get(source);
    const to = view.byId.get(target)?.ports[port];
    if (!from || !to || source === target) return false;
    return !upstreamOf(this.doc.graph.nodes, [from.output]).has(to.node);
  }

  /** Connects canvas node `source`'s output to port `port` of canvas node `target`. */
  connect(source: string, target: string, port: number): boolean {
    const from = this.view.byId.get(source);
    const to = this.view.byId.get(target)?.ports[port];
    if (!from || !to) return false;
    const sourceShape = this.shapeOf(from.output);
    return (
      this.run('connect', {
        source: from.output,
        target: to.node,
        index: to.index,
        ...(sourceShape ? { sourceShape } : {}),
      }) !== null
    );
  }

  /** Removes canvas edges by id. */
  disconnect(edgeIds: readonly string[]): boolean {
    const view = this.view;
    const ports = edgeIds.flatMap((id) => {
      const edge = view.edges.find((e) => e.id === id);
      const port = edge ? view.byId.get(edge.target)?.ports[edge.port] : undefined;
      return port ? [{ target: port.node, index: port.index }] : [];
    });
    return this.run('disconnect', { ports }) !== null;
  }

  /** Deletes the selected nodes, or else the selected edges. */
  deleteSelection(): boolean {
    const { nodes, edges } = this.selection.getState();
    const ids = expandGroupIds(this.doc, nodes);
    const done =
      nodes.length > 0 ? this.run('removeNodes', { ids }) !== null : this.disconnect(edges);
    if (done) this.select([]);
    return done;
  }

  moveNodes(positions: Readonly<Record<string, Point>>): boolean {
    return this.run('moveNodes', { positions }) !== null;
  }

  copy(): Fragment | null {
    const ids = this.selection.getState().nodes;
    if (ids.length === 0) return null;
    const groups = groupsToCopy(this.doc, ids);
    const fragment = copyFragment(this.doc, expandGroupIds(this.doc, ids));
    this.clipboard = groups.length > 0 ? { ...fragment, groups } : fragment;
    this.pasteCount = 0;
    return this.clipboard;
  }

  /** Pastes the last copy (or `fragment`), offset a little more each time. */
  paste(fragment: Fragment | null = this.clipboard): boolean {
    if (!fragment) return false;
    this.pasteCount++;
    const offset = { x: 40 * this.pasteCount, y: 40 * this.pasteCount };
    return this.run('paste', { fragment, offset }) !== null;
  }

  /** Folds the selected canvas nodes into one collapsed group. */
  group(): boolean {
    return this.run('groupNodes', { ids: this.selection.getState().nodes }) !== null;
  }

  /** Dissolves the selected groups, or the open group the selected nodes are in. */
  ungroupSelection(): boolean {
    const selected = this.selection.getState().nodes;
    const groups = groupsOf(this.doc);
    const ids = Object.keys(groups).filter(
      (id) => selected.includes(id) || groups[id]!.members.some((m) => selected.includes(m)),
    );
    return this.run('ungroup', { ids }) !== null;
  }

  /** Opens a collapsed group (members in a frame), or collapses an open one. */
  setGroupOpen(id: string, open: boolean): boolean {
    return this.run('setGroupCollapsed', { id, collapsed: !open }) !== null;
  }

  /** Asks the canvas to show the whole model (readably: see canvas/fit-view.ts). */
  requestFit(): void {
    this.ui.setState((s) => ({ fitRequest: s.fitRequest + 1 }));
  }

  /** Opens or closes the keyboard shortcuts panel (toggles without `open`). */
  toggleShortcutsHelp(open?: boolean): void {
    this.ui.setState((s) => ({ shortcutsHelp: open ?? !s.shortcutsHelp }));
  }

  /** Shows a short message to the user (the canvas draws it as a toast). */
  notify(text: string): void {
    this.ui.setState((s) => ({ notice: { id: (s.notice?.id ?? 0) + 1, text } }));
  }

  applyFix(fix: Fix): boolean {
    if (fix.command === 'setLayerConfig') return this.run('setLayerConfig', fix.args) !== null;
    const target = this.view.owner.get(fix.args.target) ?? fix.args.target;
    // The Flatten takes the target's place; the target and everything below it move down.
    const at = this.doc.layout[target] ?? { x: 0, y: 0 };
    const moves: Record<string, Point> = {};
    for (const [id, p] of Object.entries(this.doc.layout))
      if (p.y >= at.y) moves[id] = { x: p.x, y: p.y + INSERT_ROOM };
    return this.run('insertFlatten', { ...fix.args, position: at, moves }) !== null;
  }

  /** Replaces the document (New, Open, a template): undoable; missing positions laid out. */
  load(doc: EditorDocument, label: string): void {
    const view = buildView(doc, this.catalog.getState().byName);
    const missing = view.nodes.some((n) => !doc.layout[n.id]);
    const laidOut = missing ? { ...doc, layout: { ...layeredLayout(view), ...doc.layout } } : doc;
    this.run('replaceDocument', { doc: laidOut, label });
    this.select([]);
    this.requestFit();
    for (const listener of [...this.loadListeners]) listener();
  }

  private readonly loadListeners = new Set<() => void>();

  /**
   * Calls `listener` after each `load` (New, Open, a template, an import, another graph cell):
   * the model on the canvas is another one. Returns the unsubscribe function.
   */
  onLoad(listener: () => void): () => void {
    this.loadListeners.add(listener);
    return () => void this.loadListeners.delete(listener);
  }

  loadTemplate(name: string): boolean {
    const template = TEMPLATES.find((t) => t.name === name);
    if (!template) return false;
    this.load(template.build(), `Open template ${template.label}`);
    return true;
  }

  newDocument(): void {
    this.load(emptyDocument(), 'New model');
  }

  /** Lays every node out again, as one undoable move. */
  tidyUp(): boolean {
    return this.moveNodes(layeredLayout(this.view));
  }

  // ---- selection --------------------------------------------------------------------------

  select(nodes: readonly string[], edges: readonly string[] = []): void {
    const current = this.selection.getState();
    if (same(current.nodes, nodes) && same(current.edges, edges)) return;
    this.selection.setState({ nodes: [...nodes], edges: [...edges] });
  }

  selectAll(): void {
    this.select(this.view.nodes.map((n) => n.id));
  }

  dispose(): void {
    this.disposed = true;
  }

  // ---- internals --------------------------------------------------------------------------

  private shapeOf(node: string) {
    const a = this.analysis.getState();
    return a.check?.shapes[node]?.shape;
  }

  private setDocument(
    doc: EditorDocument,
    past: readonly HistoryEntry[],
    future: readonly HistoryEntry[],
  ): void {
    const state = this.document.getState();
    const view = buildView(doc, this.catalog.getState().byName, state.view);
    this.document.setState({ doc, past, future, view, revision: state.revision + 1 });
    const { nodes, edges } = this.selection.getState();
    const liveEdges = new Set(view.edges.map((e) => e.id));
    this.select(
      nodes.filter((id) => view.byId.has(id)),
      edges.filter((id) => liveEdges.has(id)),
    );
    this.requestAnalysis();
  }

  private async loadCatalog(): Promise<void> {
    try {
      const list = await this.client.listOps();
      const byName = new Map(list.map((op) => [op.name, op]));
      this.catalog.setState({ list, byName, loaded: true, error: null });
      const state = this.document.getState();
      this.document.setState({ view: buildView(state.doc, byName, state.view) });
    } catch (error) {
      this.catalog.setState({ loaded: true, error: messageOf(error) });
    }
  }

  private requestAnalysis(): void {
    if (this.analysisQueued || this.disposed) return;
    this.analysisQueued = true;
    this.schedule(() => {
      this.analysisQueued = false;
      void this.analyse();
    });
  }

  private async analyse(): Promise<void> {
    if (this.disposed) return;
    const { doc, revision } = this.document.getState();
    try {
      const check = await this.client.checkGraph(doc.graph);
      // null: superseded by a newer request, whose answer will come.
      if (check === null || this.disposed) return;
      if (revision !== this.document.getState().revision) return;
      const previous = this.analysis.getState().problems;
      const problems = new Map(
        [...problemsByViewNode(check, this.view, doc)].map(([id, list]) => {
          const old = previous.get(id);
          return [id, old && JSON.stringify(old) === JSON.stringify(list) ? old : list] as const;
        }),
      );
      this.analysis.setState({ revision, check, problems, error: null });
    } catch (error) {
      if (!this.disposed) this.analysis.setState({ error: messageOf(error) });
    }
  }
}

function same(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export function createEditor(options: EditorOptions): Editor {
  return new Editor(options);
}

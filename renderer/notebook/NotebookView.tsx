/**
 * The Notebook view: a bar (run all, interrupt, restart, add cells, undo/redo, kernel status),
 * the trust banner of a notebook opened from a file, and the cells stacked. Markdown cells show
 * rendered and switch to editing on double-click or Enter; code cells edit in Monaco and run
 * with Shift+Enter (run and move on), Ctrl/⌘+Enter (run and stay) or their Run button; graph
 * cells preview their graphs, the active one (the canvas's document) marked, and "Edit on
 * canvas" makes a graph cell the active one.
 *
 * Keys (outside an editor): ↑/↓ select, Enter edits (a graph cell: on the canvas), Shift+Enter
 * runs and moves on, Ctrl/⌘+Enter runs the selected cell,
 * Ctrl/⌘+Shift+Enter runs the code cells above, Ctrl/⌘+Z
 * and Ctrl/⌘+Shift+Z (or Y) undo and redo cell edits. Inside an editor, Escape leaves it.
 */

import { memo, useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { useShallow } from 'zustand/react/shallow';
import { ACTIONS } from '../app/actions.js';
import { type Cell, isStale } from './cells.js';
import { CellOutputView } from './CellOutput.js';
import { CodeEditor } from './CodeEditor.js';
import { useNotebook, useNotebookState, useOptionalNotebook, useViewMode } from './context.js';
import { GraphPreview } from './GraphPreview.js';
import { Markdown } from './Markdown.js';
import './notebook.css';

function BarButton({
  label,
  icon,
  testId,
  title,
  onClick,
  disabled = false,
}: {
  label: string;
  icon: string;
  testId: string;
  title?: string;
  onClick: () => void;
  disabled?: boolean;
}) {
  return (
    <button
      type="button"
      className="wg-button"
      data-testid={testId}
      title={title ?? label}
      disabled={disabled}
      onClick={onClick}
    >
      <span className="wg-button__icon" aria-hidden="true">
        {icon}
      </span>
      <span>{label}</span>
    </button>
  );
}

function NotebookBar() {
  const notebook = useNotebook();
  const { kernel, trusted, canUndo, canRedo, undoLabel, redoLabel } = useNotebookState(
    useShallow((s) => ({
      kernel: s.kernel,
      trusted: s.trusted,
      canUndo: s.past.length > 0,
      canRedo: s.future.length > 0,
      undoLabel: s.past[s.past.length - 1]?.label ?? null,
      redoLabel: s.future[0]?.label ?? null,
    })),
  );
  const selected = useNotebookState((s) => s.selected);
  return (
    <div className="wg-notebook__bar" role="toolbar" aria-label="Notebook">
      <div className="wg-toolbar__group">
        <BarButton
          label="Run all"
          icon="▶"
          testId="run-all"
          disabled={!trusted}
          onClick={() => void notebook.runAll()}
        />
        <BarButton
          label="Run above"
          icon="⤒"
          testId="run-above"
          title="Run the code cells above the selected one (Ctrl/⌘+Shift+Enter)"
          disabled={!trusted || selected === null}
          onClick={() => selected && void notebook.runAbove(selected)}
        />
        <BarButton
          label="Interrupt"
          icon="■"
          testId="kernel-interrupt"
          title="Interrupt: stops the running cell by restarting the kernel (names are lost)"
          disabled={kernel !== 'busy'}
          onClick={() => notebook.interrupt()}
        />
        <BarButton
          label="Restart"
          icon="↻"
          testId="kernel-restart"
          title="Restart the kernel: forget every name the cells defined"
          onClick={() => notebook.restart()}
        />
      </div>
      <div className="wg-toolbar__group">
        <BarButton
          label="Code"
          icon="+"
          testId="add-code-cell"
          title="Add a code cell below the selected one"
          onClick={() => notebook.focusEditor(notebook.add('code', selected))}
        />
        <BarButton
          label="Markdown"
          icon="+"
          testId="add-markdown-cell"
          title="Add a markdown cell below the selected one"
          onClick={() => notebook.setEditing(notebook.add('markdown', selected))}
        />
        <BarButton
          label="Graph"
          icon="+"
          testId="add-graph-cell"
          title="Add a graph cell (a new model) below the selected one"
          onClick={() => notebook.addGraph(selected)}
        />
      </div>
      <div className="wg-toolbar__group">
        <BarButton
          label="Undo"
          icon="↶"
          testId="notebook-undo"
          title={undoLabel ? `Undo ${undoLabel}` : 'Nothing to undo'}
          disabled={!canUndo}
          onClick={() => notebook.undo()}
        />
        <BarButton
          label="Redo"
          icon="↷"
          testId="notebook-redo"
          title={redoLabel ? `Redo ${redoLabel}` : 'Nothing to redo'}
          disabled={!canRedo}
          onClick={() => notebook.redo()}
        />
      </div>
      <div
        className={`wg-kernel is-${kernel}`}
        data-testid="kernel-status"
        data-status={kernel}
        title="The kernel runs cells in the engine worker, in one shared scope"
      >
        <span className="wg-kernel__dot" aria-hidden="true" />
        {kernel === 'busy' ? 'Running' : 'Kernel idle'}
      </div>
    </div>
  );
}

function TrustBanner() {
  const notebook = useNotebook();
  const trusted = useNotebookState((s) => s.trusted);
  if (trusted) return null;
  return (
    <div className="wg-trust" role="alert" data-testid="trust-banner">
      <span className="wg-trust__icon" aria-hidden="true">
        ⚠
      </span>
      <span className="wg-trust__text">
        This notebook was opened from a file. Its code and saved outputs are shown, but nothing runs
        until you trust it: code cells can do anything the engine can.
      </span>
      <button
        type="button"
        className="wg-button wg-button--primary"
        data-testid="trust-notebook"
        onClick={() => notebook.trustNotebook()}
      >
        Trust and enable running
      </button>
    </div>
  );
}

function MarkdownBody({ cell, selected }: { cell: Cell; selected: boolean }) {
  const notebook = useNotebook();
  const editing = useNotebookState((s) => s.editing === cell.id);
  // Escape renders the cell and keeps it selected, with the keys (↑/↓, Enter) on the notebook;
  // Shift+Enter renders it and moves on, as a code cell's run does.
  const stop = useCallback(() => {
    notebook.setEditing(null);
    notebook.select(cell.id, true);
  }, [notebook, cell.id]);
  const renderAndAdvance = useCallback(() => {
    notebook.setEditing(null);
    notebook.selectNext(cell.id);
  }, [notebook, cell.id]);
  if (editing)
    return (
      <CodeEditor
        cellId={cell.id}
        source={cell.source}
        language="markdown"
        autoFocus
        onChange={(s) => notebook.edit(cell.id, s)}
        onRun={renderAndAdvance}
        onRunInPlace={stop}
        onEscape={stop}
        onFocus={() => notebook.select(cell.id)}
      />
    );
  return (
    <div
      className="wg-cell__markdown"
      title={selected ? 'Double-click or press Enter to edit' : undefined}
      onDoubleClick={() => notebook.setEditing(cell.id)}
    >
      {cell.source.trim() ? (
        <Markdown source={cell.source} />
      ) : (
        <div className="wg-cell__placeholder">Empty markdown cell: double-click to write.</div>
      )}
    </div>
  );
}

function CodeBody({ cell, index }: { cell: Cell; index: number }) {
  const notebook = useNotebook();
  const saved = useNotebookState((s) => s.outputs[cell.id]);
  const live = useNotebookState((s) => s.live[cell.id]);
  // While the cell runs, the lines it printed so far replace its last output.
  const output = useMemo(
    () =>
      live
        ? {
            logs: live,
            value: null,
            error: null,
            count: saved?.count ?? 0,
            ms: 0,
            signature: saved?.signature ?? '',
          }
        : saved,
    [live, saved],
  );
  const focusToken = useNotebookState((s) => (s.editorFocus?.id === cell.id ? s.editorFocus.n : 0));
  const stale = useNotebookState((s) => (output ? isStale(s.cells, cell.id, output) : false));
  const runError = useMemo(
    () =>
      output?.error && !stale
        ? { line: output.error.line, message: `${output.error.name}: ${output.error.message}` }
        : null,
    [output, stale],
  );
  const runAndAdvance = useCallback(() => notebook.runAndAdvance(cell.id), [notebook, cell.id]);
  const runInPlace = useCallback(() => void notebook.run(cell.id), [notebook, cell.id]);
  return (
    <>
      <CodeEditor
        cellId={cell.id}
        source={cell.source}
        language="typescript"
        onChange={(s) => notebook.edit(cell.id, s)}
        onRun={runAndAdvance}
        onRunInPlace={runInPlace}
        onFocus={() => notebook.select(cell.id)}
        onEscape={() => notebook.select(cell.id, true)}
        runError={runError}
        focusToken={focusToken}
      />
      {output && <CellOutputView output={output} cellNumber={index + 1} stale={!live && stale} />}
    </>
  );
}

const CellView = memo(function CellView({ cell, index }: { cell: Cell; index: number }) {
  const notebook = useNotebook();
  const selected = useNotebookState((s) => s.selected === cell.id);
  const focusRequest = useNotebookState((s) => (s.selected === cell.id ? s.focusRequest : 0));
  const status = useNotebookState((s) => s.running[cell.id] ?? null);
  const count = useNotebookState((s) => s.outputs[cell.id]?.count ?? null);
  const trusted = useNotebookState((s) => s.trusted);
  const isLast = useNotebookState((s) => s.cells[s.cells.length - 1]?.id === cell.id);
  const active = useNotebookState((s) => s.active === cell.id);
  const root = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (focusRequest > 0) {
      root.current?.focus({ preventScroll: true });
      root.current?.scrollIntoView({ block: 'nearest' });
    }
  }, [focusRequest]);
  const gutter =
    cell.kind !== 'code'
      ? ''
      : status === 'running'
        ? '[*]'
        : status === 'queued'
          ? '[…]'
          : count !== null && count > 0
            ? `[${count}]`
            : '[ ]';
  return (
    <div
      ref={root}
      className={`wg-cell is-${cell.kind}${selected ? ' is-selected' : ''}${status ? ` is-${status}` : ''}${active ? ' is-active' : ''}`}
      data-testid={`cell-${index}`}
      data-kind={cell.kind}
      data-active={cell.kind === 'graph' ? String(active) : undefined}
      data-cell-id={cell.id}
      tabIndex={-1}
      onMouseDown={() => {
        if (!selected) notebook.select(cell.id);
      }}
    >
      <div
        className="wg-cell__gutter"
        aria-label={cell.kind === 'code' ? `Run count ${gutter}` : undefined}
      >
        {cell.kind === 'code' && (
          <button
            type="button"
            className="wg-cell__run"
            data-testid="cell-run"
            title={
              trusted
                ? 'Run cell (Shift+Enter; Ctrl/⌘+Enter to stay)'
                : 'Trust the notebook to run its code'
            }
            disabled={!trusted || status !== null}
            onClick={() => void notebook.run(cell.id)}
          >
            ▶
          </button>
        )}
        <span className="wg-cell__count">{gutter}</span>
      </div>
      <div className="wg-cell__body">
        {cell.kind === 'markdown' && <MarkdownBody cell={cell} selected={selected} />}
        {cell.kind === 'code' && <CodeBody cell={cell} index={index} />}
        {cell.kind === 'graph' && (
          <GraphPreview
            cellId={cell.id}
            active={active}
            onEdit={() => void notebook.activate(cell.id)}
          />
        )}
      </div>
      <div className="wg-cell__tools" aria-label="Cell actions">
        <button
          type="button"
          className="wg-icon-button"
          title="Move up"
          data-testid="cell-move-up"
          disabled={index === 0}
          onClick={() => notebook.move(cell.id, -1)}
        >
          ↑
        </button>
        <button
          type="button"
          className="wg-icon-button"
          title="Move down"
          data-testid="cell-move-down"
          disabled={isLast}
          onClick={() => notebook.move(cell.id, 1)}
        >
          ↓
        </button>
        <button
          type="button"
          className="wg-icon-button"
          title={
            active
              ? 'This graph is on the canvas: put another graph cell on the canvas to delete it'
              : 'Delete cell'
          }
          data-testid="cell-delete"
          onClick={() => notebook.remove(cell.id)}
        >
          ✕
        </button>
      </div>
    </div>
  );
});

function isInEditor(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el?.closest?.('.monaco-editor, textarea, input, select');
}

export function NotebookView() {
  const notebook = useNotebook();
  const cells = useNotebookState((s) => s.cells);
  const message = useNotebookState((s) => s.message);
  const root = useRef<HTMLElement>(null);
  const [isMac] = useState(() => /Mac|iPhone|iPad/.test(navigator.platform));

  useEffect(() => root.current?.focus({ preventScroll: true }), []);

  const onKeyDown = (event: React.KeyboardEvent) => {
    const mod = isMac ? event.metaKey : event.ctrlKey;
    if (isInEditor(event.target)) {
      // Keep the canvas's shortcuts (undo …) away from the cell editors, but let the app's
      // file keys (Ctrl/⌘+S, Ctrl/⌘+O …) through: they work while typing everywhere else.
      if (mod && !ACTIONS.some((a) => a.inTextFields && a.matches?.(event.nativeEvent, mod)))
        event.stopPropagation();
      return;
    }
    const s = notebook.state.getState();
    const selected = s.selected;
    let handled = true;
    if (mod && event.key.toLowerCase() === 'z' && !event.shiftKey) notebook.undo();
    else if (
      mod &&
      (event.key.toLowerCase() === 'y' || (event.key.toLowerCase() === 'z' && event.shiftKey))
    )
      notebook.redo();
    else if (event.key === 'Enter' && event.shiftKey && mod && selected)
      void notebook.runAbove(selected);
    else if (event.key === 'ArrowDown' && !mod) notebook.selectNext(selected, false);
    else if (event.key === 'ArrowUp' && !mod) notebook.selectPrevious(selected);
    else if (event.key === 'Enter' && event.shiftKey && selected) notebook.runAndAdvance(selected);
    else if (event.key === 'Enter' && mod && selected) void notebook.run(selected);
    else if (event.key === 'Enter' && selected) {
      const cell = s.cells.find((c) => c.id === selected);
      if (cell?.kind === 'markdown') notebook.setEditing(selected);
      else if (cell?.kind === 'code') notebook.focusEditor(selected);
      else if (cell?.kind === 'graph') notebook.activate(selected);
      else handled = false;
    } else handled = false;
    if (handled) {
      event.preventDefault();
      event.stopPropagation();
    }
  };

  return (
    <section
      ref={root}
      className="wg-notebook"
      data-testid="notebook"
      aria-label="Notebook"
      tabIndex={-1}
      onKeyDown={onKeyDown}
    >
      <NotebookBar />
      <TrustBanner />
      {message && (
        <div className="wg-notebook__message" data-testid="notebook-message" role="status">
          {message}
        </div>
      )}
      <div className="wg-notebook__cells">
        {cells.map((cell, index) => (
          <CellView key={cell.id} cell={cell} index={index} />
        ))}
        <div className="wg-notebook__add">
          <button
            type="button"
            className="wg-button"
            onClick={() => notebook.focusEditor(notebook.add('code'))}
          >
            <span className="wg-button__icon" aria-hidden="true">
              +
            </span>
            <span>Code cell</span>
          </button>
          <button
            type="button"
            className="wg-button"
            onClick={() => notebook.setEditing(notebook.add('markdown'))}
          >
            <span className="wg-button__icon" aria-hidden="true">
              +
            </span>
            <span>Markdown cell</span>
          </button>
          <button type="button" className="wg-button" onClick={() => notebook.addGraph()}>
            <span className="wg-button__icon" aria-hidden="true">
              +
            </span>
            <span>Graph cell</span>
          </button>
        </div>
      </div>
    </section>
  );
}

/** The Canvas | Notebook switch for the toolbar (nothing when the app has no notebook). */
export function ViewSwitch() {
  const notebook = useOptionalNotebook();
  const mode = useViewMode();
  if (!notebook) return null;
  return (
    <div className="wg-viewswitch" role="tablist" aria-label="View">
      {(['canvas', 'notebook'] as const).map((m) => (
        <button
          key={m}
          type="button"
          role="tab"
          aria-selected={mode === m}
          className={`wg-viewswitch__tab${mode === m ? ' is-active' : ''}`}
          data-testid={`view-${m}`}
          onClick={() => notebook.setMode(m)}
        >
          {m === 'canvas' ? 'Canvas' : 'Notebook'}
        </button>
      ))}
    </div>
  );
}

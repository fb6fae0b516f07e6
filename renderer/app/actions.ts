/**
 * Every user command of the app shell as a registered action (excalidraw's pattern): a name, a
 * label, a keyboard shortcut, a predicate saying whether it applies now, and what it performs.
 * The toolbar's buttons and the keyboard handler both go through this table, so a shortcut and
 * its button can never disagree.
 */

import { canvasClipboard } from '../canvas/system-clipboard.js';
import { layeredLayout } from '../state/auto-layout.js';
import type { Editor } from '../state/editor.js';
import { type Size, elkLayout } from '../state/elk-layout.js';
import type { Training } from '../state/training.js';
import { requestExport, requestOnnxImport } from '../files/export-dialog-events.js';
import type { Files } from './files.js';

export interface ActionContext {
  readonly editor: Editor;
  readonly files: Files;
  /** Fits the whole model in view (React Flow's, supplied by the canvas). */
  readonly fitView: () => void;
  /** Zooms the canvas one step (supplied by the canvas). */
  readonly zoom?: (direction: 'in' | 'out') => void;
  /** The canvas's measured card sizes, for auto-layout. */
  readonly measuredSizes?: () => ReadonlyMap<string, Size>;
  /** The training session (Run and Stop). */
  readonly training?: Training;
}

export interface Action {
  readonly name: string;
  readonly label: string;
  /** For display, e.g. "Ctrl+Z". */
  readonly shortcut?: string;
  /** Other keys that do the same, for display (e.g. "Ctrl+Y" for redo). */
  readonly alsoShortcuts?: readonly string[];
  /** Whether the key event triggers it (modifier is Ctrl, or ⌘ on a Mac). */
  readonly matches?: (event: KeyboardEvent, mod: boolean) => boolean;
  /** Also when focus is in a text field (Save, Open); otherwise typing wins. */
  readonly inTextFields?: boolean;
  readonly enabled?: (ctx: ActionContext) => boolean;
  readonly perform: (ctx: ActionContext) => void;
}

const key = (event: KeyboardEvent): string => event.key.toLowerCase();

export const ACTIONS: readonly Action[] = [
  {
    name: 'undo',
    label: 'Undo',
    shortcut: 'Ctrl+Z',
    matches: (e, mod) => mod && !e.shiftKey && key(e) === 'z',
    enabled: ({ editor }) => editor.canUndo,
    perform: ({ editor }) => void editor.undo(),
  },
  {
    name: 'redo',
    label: 'Redo',
    shortcut: 'Ctrl+Shift+Z',
    alsoShortcuts: ['Ctrl+Y'],
    matches: (e, mod) => mod && (e.shiftKey ? key(e) === 'z' : key(e) === 'y'),
    enabled: ({ editor }) => editor.canRedo,
    perform: ({ editor }) => void editor.redo(),
  },
  {
    name: 'saveAs',
    label: 'Save As…',
    shortcut: 'Ctrl+Shift+S',
    matches: (e, mod) => mod && e.shiftKey && key(e) === 's',
    inTextFields: true,
    perform: ({ files }) => void files.save(true),
  },
  {
    name: 'save',
    label: 'Save',
    shortcut: 'Ctrl+S',
    matches: (e, mod) => mod && !e.shiftKey && key(e) === 's',
    inTextFields: true,
    perform: ({ files }) => void files.save(),
  },
  {
    name: 'open',
    label: 'Open…',
    shortcut: 'Ctrl+O',
    matches: (e, mod) => mod && !e.shiftKey && key(e) === 'o',
    inTextFields: true,
    perform: ({ files }) => void files.open(),
  },
  {
    name: 'new',
    label: 'New',
    shortcut: 'Ctrl+N',
    matches: (e, mod) => mod && !e.shiftKey && key(e) === 'n',
    perform: ({ files }) => files.newDocument(),
  },
  {
    name: 'delete',
    label: 'Delete',
    shortcut: 'Delete',
    alsoShortcuts: ['Backspace'],
    matches: (e, mod) => !mod && !e.shiftKey && (e.key === 'Delete' || e.key === 'Backspace'),
    enabled: ({ editor }) => {
      const s = editor.selection.getState();
      return s.nodes.length > 0 || s.edges.length > 0;
    },
    perform: ({ editor }) => void editor.deleteSelection(),
  },
  {
    name: 'copy',
    label: 'Copy',
    shortcut: 'Ctrl+C',
    matches: (e, mod) => mod && !e.shiftKey && key(e) === 'c',
    enabled: ({ editor }) => editor.selection.getState().nodes.length > 0,
    perform: ({ editor }) => void canvasClipboard(editor).copy(),
  },
  {
    name: 'cut',
    label: 'Cut',
    shortcut: 'Ctrl+X',
    matches: (e, mod) => mod && !e.shiftKey && key(e) === 'x',
    enabled: ({ editor }) => editor.selection.getState().nodes.length > 0,
    perform: ({ editor }) => void canvasClipboard(editor).cut(),
  },
  {
    name: 'paste',
    label: 'Paste',
    shortcut: 'Ctrl+V',
    matches: (e, mod) => mod && !e.shiftKey && key(e) === 'v',
    perform: ({ editor }) => void canvasClipboard(editor).paste(),
  },
  {
    name: 'group',
    label: 'Group',
    shortcut: 'Ctrl+G',
    matches: (e, mod) => mod && !e.shiftKey && key(e) === 'g',
    enabled: ({ editor }) => editor.selection.getState().nodes.length > 0,
    perform: ({ editor }) => void editor.group(),
  },
  {
    name: 'ungroup',
    label: 'Ungroup',
    shortcut: 'Ctrl+Shift+G',
    matches: (e, mod) => mod && e.shiftKey && key(e) === 'g',
    enabled: ({ editor }) => editor.selection.getState().nodes.length > 0,
    perform: ({ editor }) => void editor.ungroupSelection(),
  },
  {
    name: 'duplicate',
    label: 'Duplicate',
    shortcut: 'Ctrl+D',
    matches: (e, mod) => mod && !e.shiftKey && key(e) === 'd',
    enabled: ({ editor }) => editor.selection.getState().nodes.length > 0,
    perform: ({ editor }) => {
      editor.copy();
      editor.paste();
    },
  },
  {
    name: 'selectAll',
    label: 'Select all',
    shortcut: 'Ctrl+A',
    matches: (e, mod) => mod && !e.shiftKey && key(e) === 'a',
    perform: ({ editor }) => editor.selectAll(),
  },
  {
    name: 'tidy',
    label: 'Tidy up',
    shortcut: 'Shift+L',
    matches: (e, mod) => !mod && e.shiftKey && key(e) === 'l',
    enabled: ({ editor }) => editor.view.nodes.length > 0,
    perform: ({ editor, fitView, measuredSizes }) => {
      // ELK's layered layout; the built-in one if ELK fails. One undoable move either way.
      const view = editor.view;
      const sizes = measuredSizes?.();
      void elkLayout(view, sizes ? { sizes } : {})
        .catch((error: unknown) => {
          console.warn('ELK layout failed, using the built-in layout:', error);
          return layeredLayout(view);
        })
        .then((positions) => {
          // Skip if the nodes changed meanwhile (positions would be for another model).
          const ids = editor.view.nodes.map((n) => n.id);
          const same = ids.length === view.nodes.length && ids.every((id) => id in positions);
          if (same && editor.moveNodes(positions)) fitView();
        });
    },
  },
  {
    name: 'zoomIn',
    label: 'Zoom in',
    shortcut: 'Ctrl+=',
    alsoShortcuts: ['Ctrl++'],
    matches: (e, mod) => mod && (e.key === '=' || e.key === '+'),
    perform: ({ zoom }) => zoom?.('in'),
  },
  {
    name: 'zoomOut',
    label: 'Zoom out',
    shortcut: 'Ctrl+-',
    matches: (e, mod) => mod && e.key === '-',
    perform: ({ zoom }) => zoom?.('out'),
  },
  {
    name: 'run',
    label: 'Run training',
    shortcut: 'F5',
    matches: (e, mod) => !mod && !e.shiftKey && e.key === 'F5',
    enabled: ({ training }) => training !== undefined,
    perform: ({ training }) => {
      const status = training?.store.getState().progress?.status;
      if (status === 'paused') void training?.resume();
      else if (status !== 'running') void training?.start();
    },
  },
  {
    name: 'stop',
    label: 'Stop training',
    shortcut: 'Shift+F5',
    matches: (e, mod) => !mod && e.shiftKey && e.key === 'F5',
    enabled: ({ training }) => training !== undefined,
    perform: ({ training }) => void training?.stop(),
  },
  {
    name: 'export',
    label: 'Export…',
    shortcut: 'Ctrl+E',
    matches: (e, mod) => mod && !e.shiftKey && key(e) === 'e',
    inTextFields: true,
    perform: () => requestExport(),
  },
  {
    name: 'importOnnx',
    label: 'Import ONNX…',
    perform: () => requestOnnxImport(),
  },
  {
    name: 'help',
    label: 'Shortcuts',
    shortcut: 'F1',
    alsoShortcuts: ['?'],
    matches: (e, mod) => !mod && ((!e.shiftKey && e.key === 'F1') || e.key === '?'),
    perform: ({ editor }) => editor.toggleShortcutsHelp(),
  },
  {
    name: 'fit',
    label: 'Fit view',
    shortcut: 'Shift+1',
    alsoShortcuts: ['Ctrl+0'],
    matches: (e, mod) =>
      (!mod && e.shiftKey && (e.key === '!' || e.code === 'Digit1')) || (mod && e.key === '0'),
    perform: ({ fitView }) => fitView(),
  },
  {
    name: 'deselect',
    label: 'Clear selection',
    shortcut: 'Escape',
    matches: (e, mod) => !mod && !e.shiftKey && e.key === 'Escape',
    perform: ({ editor }) => {
      if (editor.ui.getState().shortcutsHelp) editor.toggleShortcutsHelp(false);
      else editor.select([]);
    },
  },
];

export function getAction(name: string): Action {
  const action = ACTIONS.find((a) => a.name === name);
  if (!action) throw new Error(`no action '${name}'`);
  return action;
}

function inTextField(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return !!el && (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName));
}

/** Runs the action a key event matches, if it applies now; returns whether one ran. */
export function handleShortcut(event: KeyboardEvent, ctx: ActionContext, isMac: boolean): boolean {
  const mod = isMac ? event.metaKey : event.ctrlKey;
  const typing = inTextField(event.target);
  for (const action of ACTIONS) {
    if (!action.matches?.(event, mod)) continue;
    if (typing && !action.inTextFields) return false;
    if (action.enabled && !action.enabled(ctx)) return false;
    event.preventDefault();
    action.perform(ctx);
    return true;
  }
  return false;
}

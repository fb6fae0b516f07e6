/**
 * Every user command of the app shell as a registered action (excalidraw's pattern): a name, a
 * label, a keyboard shortcut, a predicate saying whether it applies now, and what it performs.
 * The toolbar's buttons and the keyboard handler both go through this table, so a shortcut and
 * its button can never disagree.
 */

import type { Editor } from '../state/editor.js';
import type { Files } from './files.js';

export interface ActionContext {
  readonly editor: Editor;
  readonly files: Files;
  /** Fits the whole model in view (React Flow's, supplied by the canvas). */
  readonly fitView: () => void;
}

export interface Action {
  readonly name: string;
  readonly label: string;
  /** For display, e.g. "Ctrl+Z". */
  readonly shortcut?: string;
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
    matches: (e, mod) => mod && ((e.shiftKey && key(e) === 'z') || key(e) === 'y'),
    enabled: ({ editor }) => editor.canRedo,
    perform: ({ editor }) => void editor.redo(),
  },
  {
    name: 'save',
    label: 'Save',
    shortcut: 'Ctrl+S',
    matches: (e, mod) => mod && key(e) === 's',
    inTextFields: true,
    perform: ({ files }) => void files.save(),
  },
  {
    name: 'open',
    label: 'Open…',
    shortcut: 'Ctrl+O',
    matches: (e, mod) => mod && key(e) === 'o',
    inTextFields: true,
    perform: ({ files }) => void files.open(),
  },
  {
    name: 'new',
    label: 'New',
    perform: ({ files }) => files.newDocument(),
  },
  {
    name: 'delete',
    label: 'Delete',
    shortcut: 'Delete',
    matches: (e) => e.key === 'Delete' || e.key === 'Backspace',
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
    matches: (e, mod) => mod && key(e) === 'c',
    enabled: ({ editor }) => editor.selection.getState().nodes.length > 0,
    perform: ({ editor }) => void editor.copy(),
  },
  {
    name: 'paste',
    label: 'Paste',
    shortcut: 'Ctrl+V',
    matches: (e, mod) => mod && key(e) === 'v',
    perform: ({ editor }) => void editor.paste(),
  },
  {
    name: 'duplicate',
    label: 'Duplicate',
    shortcut: 'Ctrl+D',
    matches: (e, mod) => mod && key(e) === 'd',
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
    matches: (e, mod) => mod && key(e) === 'a',
    perform: ({ editor }) => editor.selectAll(),
  },
  {
    name: 'tidy',
    label: 'Tidy up',
    shortcut: 'Shift+L',
    matches: (e, mod) => !mod && e.shiftKey && key(e) === 'l',
    enabled: ({ editor }) => editor.view.nodes.length > 0,
    perform: ({ editor, fitView }) => {
      if (editor.tidyUp()) fitView();
    },
  },
  {
    name: 'fit',
    label: 'Fit view',
    shortcut: 'Shift+1',
    matches: (e, mod) => !mod && e.shiftKey && (e.key === '!' || e.code === 'Digit1'),
    perform: ({ fitView }) => fitView(),
  },
  {
    name: 'deselect',
    label: 'Clear selection',
    shortcut: 'Escape',
    matches: (e) => e.key === 'Escape',
    perform: ({ editor }) => editor.select([]),
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

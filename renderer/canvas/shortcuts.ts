/**
 * The keyboard shortcuts panel's content, generated from the registered actions (the table
 * the key handler itself runs through), so the list cannot drift from what the keys do. Key
 * names follow the platform: Ctrl on Linux and Windows, ⌘ on a Mac.
 */

import { ACTIONS } from '../app/actions.js';

export interface ShortcutEntry {
  readonly name: string;
  readonly label: string;
  /** Display forms of every key that runs the action. */
  readonly keys: readonly string[];
}

/** Held while clicking a node, these add it to the selection (or take it out) instead of
 * selecting it alone (React Flow's key names; Meta is ⌘). */
export const MULTI_SELECT_KEYS: readonly string[] = ['Shift', 'Control', 'Meta'];

/** Held while dragging on the background, this draws a selection box. */
export const BOX_SELECT_KEY = 'Shift';

/** What the mouse does with a key held on the canvas (React Flow handles these with the keys
 * above, not the action table). */
export const POINTER_GESTURES: readonly ShortcutEntry[] = [
  {
    name: 'add-to-selection',
    label: 'Add a node to the selection',
    keys: ['Shift+click', 'Ctrl+click'],
  },
  { name: 'box-select', label: 'Select the nodes in a box', keys: ['Shift+drag'] },
];

/** `POINTER_GESTURES` with the platform's key names. */
export function pointerGestureEntries(isMac = false): ShortcutEntry[] {
  return POINTER_GESTURES.map((g) => ({ ...g, keys: g.keys.map((k) => displayKey(k, isMac)) }));
}

function displayKey(k: string, isMac: boolean): string {
  return isMac ? k.replace(/\bCtrl\+/g, '⌘').replace(/\bShift\+/g, '⇧') : k;
}

/** Every action that has a key, in the table's order. */
export function shortcutEntries(isMac = false): ShortcutEntry[] {
  return ACTIONS.filter((a) => a.matches && a.shortcut).map((a) => ({
    name: a.name,
    label: a.label,
    keys: [a.shortcut!, ...(a.alsoShortcuts ?? [])].map((k) => displayKey(k, isMac)),
  }));
}

/** The display form of a key event ("Ctrl+Shift+Z", "Shift+1", "F1", "?"), as actions list them. */
export function describeKey(event: {
  readonly key: string;
  readonly code?: string;
  readonly ctrlKey: boolean;
  readonly metaKey: boolean;
  readonly shiftKey: boolean;
}): string {
  const parts: string[] = [];
  if (event.ctrlKey || event.metaKey) parts.push('Ctrl');
  let key = event.key;
  // A shifted digit is named by its key, not the character it types on this layout.
  const digit = /^Digit(\d)$/.exec(event.code ?? '');
  if (digit && event.shiftKey) key = digit[1]!;
  // A printable character typed with Shift already says so ('?', '+'), so Shift is implied.
  const printable = key.length === 1 && !/[a-z0-9]/i.test(key);
  if (event.shiftKey && !printable) parts.push('Shift');
  parts.push(key.length === 1 ? key.toUpperCase() : key);
  return parts.join('+');
}

/**
 * The desktop menu's commands as the page's actions: each menu item runs the same registered
 * action (app/actions.ts) as its keyboard shortcut. Files and history commands arrive through
 * the host and run directly (files/host-commands.ts); view, run, group and export commands
 * arrive as the `wiregrad:command` DOM event, handled here. The Edit menu's Cut, Copy and Paste
 * are Electron roles, which fire the DOM `cut`/`copy`/`paste` events: outside text fields those
 * copy and paste canvas nodes with the event's clipboard data.
 *
 * One key press runs its action once. The page's keydown handler owns every key of a menu
 * item: the menu shows the keys without registering them (electron/menu.ts). Should a menu
 * command still arrive while its own key is held (a platform that delivers the key to the menu
 * as well), it is that key's echo and is dropped here: the keydown already ran the action, or
 * declined it (typing in a text field, nothing selected). The clipboard roles keep their keys
 * (text fields need them), so for them only a duplicate is dropped: a `copy`/`cut`/`paste`
 * event during a key press whose keydown the page already handled (its default prevented).
 * Commands from a click, or from the menu's own keyboard navigation, never match a held key.
 */

import { type ActionContext, getAction } from '../app/actions.js';
import { HOST_COMMAND_EVENT } from '../files/host-commands.js';
import { HOST_COMMANDS, type HostCommand } from '../host/host.js';
import { canvasClipboard } from './system-clipboard.js';

/** The action each menu command runs. */
export const MENU_ACTIONS: Readonly<Record<HostCommand, string>> = {
  new: 'new',
  open: 'open',
  save: 'save',
  saveAs: 'saveAs',
  export: 'export',
  undo: 'undo',
  redo: 'redo',
  zoomIn: 'zoomIn',
  zoomOut: 'zoomOut',
  fitView: 'fit',
  run: 'run',
  stop: 'stop',
  group: 'group',
  ungroup: 'ungroup',
  autoLayout: 'tidy',
  shortcuts: 'help',
};

function isHostCommand(value: unknown): value is HostCommand {
  return typeof value === 'string' && (HOST_COMMANDS as readonly string[]).includes(value);
}

/** Runs the action of a menu command if it applies now; returns whether it ran. */
export function performMenuCommand(command: HostCommand, ctx: ActionContext): boolean {
  const action = getAction(MENU_ACTIONS[command]);
  if (action.enabled && !action.enabled(ctx)) return false;
  action.perform(ctx);
  return true;
}

function inTextField(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  return (
    !!el &&
    typeof el.tagName === 'string' &&
    (el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName))
  );
}

/** The action a clipboard event stands for, as the keydown that would run it. */
const CLIPBOARD_ACTIONS = { copy: 'copy', cut: 'cut', paste: 'paste' } as const;

/**
 * Listens for menu commands announced on `events` and for clipboard events on `doc`; returns
 * the function that stops listening.
 */
export function listenForMenuCommands(
  ctx: ActionContext,
  events: EventTarget = window,
  doc: EventTarget = document,
): () => void {
  // The keydown of the key held now (seen first, in the capture phase; whether the page's
  // handler prevented its default is read later, when a command or clipboard event arrives).
  let pressed: KeyboardEvent | null = null;
  const onKeyDown = (event: Event): void => {
    pressed = event as KeyboardEvent;
  };
  const onKeyUp = (): void => {
    pressed = null;
  };
  /**
   * Whether the key held now is `actionName`'s own key, so its keydown has decided already;
   * with `handled`, only when the page's handler also prevented its default (it ran the action).
   */
  const echoOfKey = (actionName: string, handled: boolean): boolean => {
    const key = pressed;
    if (!key || (handled && !key.defaultPrevented)) return false;
    const matches = getAction(actionName).matches;
    if (!matches?.(key, key.ctrlKey || key.metaKey)) return false;
    pressed = null; // one key press, one echo at most
    return true;
  };
  const onCommand = (event: Event): void => {
    const command = (event as CustomEvent<unknown>).detail;
    if (!isHostCommand(command) || echoOfKey(MENU_ACTIONS[command], false)) return;
    performMenuCommand(command, ctx);
  };
  const clipboard = canvasClipboard(ctx.editor);
  const duplicate = (event: Event): boolean => {
    const action = CLIPBOARD_ACTIONS[event.type as keyof typeof CLIPBOARD_ACTIONS];
    if (!echoOfKey(action, true)) return false;
    event.preventDefault();
    return true;
  };
  const onCopy = (event: Event): void => {
    if (inTextField(event.target) || duplicate(event)) return;
    clipboard.copyToEvent(event as ClipboardEvent);
  };
  const onCut = (event: Event): void => {
    if (inTextField(event.target) || duplicate(event)) return;
    if (clipboard.copyToEvent(event as ClipboardEvent)) ctx.editor.deleteSelection();
  };
  const onPaste = (event: Event): void => {
    if (inTextField(event.target) || duplicate(event)) return;
    const text = (event as ClipboardEvent).clipboardData?.getData('text/plain') ?? '';
    event.preventDefault();
    // An empty or foreign clipboard: the window's own copy, if there is one.
    if (text === '' && ctx.editor.paste()) return;
    clipboard.pasteText(text);
  };
  events.addEventListener('keydown', onKeyDown, true);
  events.addEventListener('keyup', onKeyUp, true);
  events.addEventListener('blur', onKeyUp);
  events.addEventListener(HOST_COMMAND_EVENT, onCommand);
  doc.addEventListener('copy', onCopy);
  doc.addEventListener('cut', onCut);
  doc.addEventListener('paste', onPaste);
  return () => {
    events.removeEventListener('keydown', onKeyDown, true);
    events.removeEventListener('keyup', onKeyUp, true);
    events.removeEventListener('blur', onKeyUp);
    events.removeEventListener(HOST_COMMAND_EVENT, onCommand);
    doc.removeEventListener('copy', onCopy);
    doc.removeEventListener('cut', onCut);
    doc.removeEventListener('paste', onPaste);
  };
}

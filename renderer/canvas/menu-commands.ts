/**
 * The desktop menu's commands as the page's actions: each menu item runs the same registered
 * action (app/actions.ts) as its keyboard shortcut. Files and history commands arrive through
 * the host and run directly (files/host-commands.ts); view, run and export commands arrive as
 * the `wiregrad:command` DOM event, handled here. The Edit menu's Cut, Copy and Paste are
 * Electron roles, which fire the DOM `cut`/`copy`/`paste` events: outside text fields those
 * copy and paste canvas nodes with the event's clipboard data.
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

/**
 * Listens for menu commands announced on `events` and for clipboard events on `doc`; returns
 * the function that stops listening.
 */
export function listenForMenuCommands(
  ctx: ActionContext,
  events: EventTarget = window,
  doc: EventTarget = document,
): () => void {
  const onCommand = (event: Event): void => {
    const command = (event as CustomEvent<unknown>).detail;
    if (isHostCommand(command)) performMenuCommand(command, ctx);
  };
  const clipboard = canvasClipboard(ctx.editor);
  const onCopy = (event: Event): void => {
    if (inTextField(event.target)) return;
    clipboard.copyToEvent(event as ClipboardEvent);
  };
  const onCut = (event: Event): void => {
    if (inTextField(event.target)) return;
    if (clipboard.copyToEvent(event as ClipboardEvent)) ctx.editor.deleteSelection();
  };
  const onPaste = (event: Event): void => {
    if (inTextField(event.target)) return;
    const text = (event as ClipboardEvent).clipboardData?.getData('text/plain') ?? '';
    event.preventDefault();
    // An empty or foreign clipboard: the window's own copy, if there is one.
    if (text === '' && ctx.editor.paste()) return;
    clipboard.pasteText(text);
  };
  events.addEventListener(HOST_COMMAND_EVENT, onCommand);
  doc.addEventListener('copy', onCopy);
  doc.addEventListener('cut', onCut);
  doc.addEventListener('paste', onPaste);
  return () => {
    events.removeEventListener(HOST_COMMAND_EVENT, onCommand);
    doc.removeEventListener('copy', onCopy);
    doc.removeEventListener('cut', onCut);
    doc.removeEventListener('paste', onPaste);
  };
}

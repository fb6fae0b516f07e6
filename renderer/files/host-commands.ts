/**
 * What the page does with a command from the desktop app's menu (the host's `onCommand`). File
 * and history commands act on the editor and files directly; view and run commands belong to
 * the canvas and the run controls, which listen for the `wiregrad:command` DOM event this
 * dispatches (a CustomEvent whose `detail` is the command), so the menu does not need to know
 * the components.
 */

import type { Files } from '../app/files.js';
import type { HostCommand } from '../host/host.js';
import type { Editor } from '../state/editor.js';

export const HOST_COMMAND_EVENT = 'wiregrad:command';

export interface HostCommandTargets {
  readonly editor: Editor;
  readonly files: Files;
  /** Where view/run commands are announced; the window by default. */
  readonly events?: EventTarget;
}

export function performHostCommand(command: HostCommand, targets: HostCommandTargets): void {
  const { editor, files } = targets;
  switch (command) {
    case 'new':
      return files.newDocument();
    case 'open':
      return void files.open();
    case 'save':
      return void files.save();
    case 'saveAs':
      return void files.save(true);
    case 'undo':
      return void editor.undo();
    case 'redo':
      return void editor.redo();
    case 'export':
    case 'zoomIn':
    case 'zoomOut':
    case 'fitView':
    case 'run':
    case 'stop':
    case 'group':
    case 'ungroup':
    case 'autoLayout':
    case 'shortcuts':
      (targets.events ?? window).dispatchEvent(
        new CustomEvent(HOST_COMMAND_EVENT, { detail: command }),
      );
      return;
    default:
      return command satisfies never;
  }
}

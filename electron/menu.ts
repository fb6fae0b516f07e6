/**
 * The application menu as data: File, Edit, View and Run, whose items send menu commands to the
 * renderer (ipc-contract.ts's `menu:command`), plus Open Recent. Built by a pure function from
 * the platform, the recent files and two callbacks, so a test checks every item without Electron.
 *
 * Keys: every command item's key is also the page's own shortcut for the same action (renderer/
 * app/actions.ts; electron/renderer-agreement.test.ts checks each one), so command items show
 * their key but do not register it (`registerAccelerator: false`): the page's keydown handler is
 * the one owner of these keys, and one key press runs its action once. Registered, a key would
 * have two owners: Chromium gives a focused page the keydown first and performs a menu
 * accelerator only for a keydown the page left unhandled, so a key the page declines (Undo while
 * typing in a text field, Group with nothing selected) would run the menu's command instead,
 * and a key without a modifier (Shift+L) would fire while typing a capital L. Should a platform
 * still deliver one of these keys to the menu as well, the page drops the command that arrives
 * while its own key is held (renderer/canvas/menu-commands.ts). The cost: the keys do nothing
 * while focus is outside the page (in the developer tools), where they have nothing to act on.
 *
 * Cut, Copy, Paste and Select All use Electron's roles instead of commands, with their keys
 * registered: the role makes Chromium fire the DOM `cut`/`copy`/`paste` events on whatever has
 * focus, which text fields handle natively and the canvas handles with a listener (a command
 * would take copy and paste away from text fields, whose keys on macOS come from this menu). On
 * the canvas the page's keydown handles those keys first and prevents their default, so the
 * menu does not see them; and the page drops a clipboard event that arrives for a key press it
 * already handled.
 */

import { basename } from 'node:path';
import type { MenuCommand } from './ipc-contract.js';

/** The subset of Electron's MenuItemConstructorOptions used here. */
export interface MenuItemTemplate {
  label?: string;
  role?:
    | 'appMenu'
    | 'cut'
    | 'copy'
    | 'paste'
    | 'selectAll'
    | 'togglefullscreen'
    | 'toggleDevTools'
    | 'quit'
    | 'close'
    | 'windowMenu';
  type?: 'separator' | 'submenu';
  accelerator?: string;
  registerAccelerator?: boolean;
  enabled?: boolean;
  click?: () => void;
  submenu?: MenuItemTemplate[];
}

export interface MenuInput {
  readonly platform: string;
  readonly recentFiles: readonly string[];
  readonly isDevelopment: boolean;
  readonly sendCommand: (command: MenuCommand) => void;
  readonly openRecent: (path: string) => void;
  readonly clearRecent: () => void;
}

export function buildMenuTemplate(input: MenuInput): MenuItemTemplate[] {
  const { platform, recentFiles, sendCommand } = input;
  // The key is shown, and left to the page's own shortcut (see the file comment).
  const command = (label: string, name: MenuCommand, accelerator?: string): MenuItemTemplate => ({
    label,
    click: () => sendCommand(name),
    ...(accelerator !== undefined ? { accelerator, registerAccelerator: false } : {}),
  });
  const separator: MenuItemTemplate = { type: 'separator' };
  const recent: MenuItemTemplate[] =
    recentFiles.length === 0
      ? [{ label: 'No recent files', enabled: false }]
      : [
          ...recentFiles.map((path) => ({
            label: basename(path),
            click: () => input.openRecent(path),
          })),
          separator,
          { label: 'Clear Recent', click: input.clearRecent },
        ];

  const file: MenuItemTemplate = {
    label: '&File',
    submenu: [
      command('New', 'new', 'CmdOrCtrl+N'),
      command('Open…', 'open', 'CmdOrCtrl+O'),
      { label: 'Open Recent', submenu: recent },
      separator,
      command('Save', 'save', 'CmdOrCtrl+S'),
      command('Save As…', 'saveAs', 'CmdOrCtrl+Shift+S'),
      command('Export…', 'export', 'CmdOrCtrl+E'),
      separator,
      platform === 'darwin' ? { role: 'close' } : { role: 'quit', label: 'Exit' },
    ],
  };
  const edit: MenuItemTemplate = {
    label: '&Edit',
    submenu: [
      command('Undo', 'undo', 'CmdOrCtrl+Z'),
      command('Redo', 'redo', platform === 'win32' ? 'Ctrl+Y' : 'Shift+CmdOrCtrl+Z'),
      separator,
      { role: 'cut' },
      { role: 'copy' },
      { role: 'paste' },
      { role: 'selectAll' },
      separator,
      command('Group', 'group', 'CmdOrCtrl+G'),
      command('Ungroup', 'ungroup', 'Shift+CmdOrCtrl+G'),
    ],
  };
  const view: MenuItemTemplate = {
    label: '&View',
    submenu: [
      command('Zoom In', 'zoomIn', 'CmdOrCtrl+='),
      command('Zoom Out', 'zoomOut', 'CmdOrCtrl+-'),
      command('Fit Model in View', 'fitView', 'CmdOrCtrl+0'),
      command('Auto Layout', 'autoLayout', 'Shift+L'),
      separator,
      command('Keyboard Shortcuts', 'shortcuts', 'F1'),
      separator,
      { role: 'togglefullscreen' },
      ...(input.isDevelopment ? [{ role: 'toggleDevTools' as const }] : []),
    ],
  };
  const run: MenuItemTemplate = {
    label: '&Run',
    submenu: [command('Run', 'run', 'F5'), command('Stop', 'stop', 'Shift+F5')],
  };
  return [
    ...(platform === 'darwin' ? [{ role: 'appMenu' as const }] : []),
    file,
    edit,
    view,
    run,
    ...(platform === 'darwin' ? [{ role: 'windowMenu' as const }] : []),
  ];
}

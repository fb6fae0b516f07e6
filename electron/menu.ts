/**
 * The application menu as data: File, Edit, View and Run, whose items send menu commands to the
 * renderer (ipc-contract.ts's `menu:command`), plus Open Recent. Built by a pure function from
 * the platform, the recent files and two callbacks, so a test checks every item without Electron.
 *
 * Shortcuts the page already handles itself (Undo, Redo, Save, Open, New: renderer/app/
 * actions.ts) are shown but not registered (`registerAccelerator: false`), so one key press is
 * not performed twice. Cut, Copy, Paste and Select All use Electron's roles instead of commands:
 * the role makes Chromium fire the DOM `cut`/`copy`/`paste` events on whatever has focus, which
 * text fields handle natively and the canvas handles with a listener, whereas a command would
 * take copy and paste away from text fields.
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
  const command = (
    label: string,
    name: MenuCommand,
    accelerator?: string,
    pageHandlesKey = false,
  ): MenuItemTemplate => ({
    label,
    click: () => sendCommand(name),
    ...(accelerator !== undefined ? { accelerator } : {}),
    ...(pageHandlesKey ? { registerAccelerator: false } : {}),
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
      command('New', 'new', 'CmdOrCtrl+N', true),
      command('Open…', 'open', 'CmdOrCtrl+O', true),
      { label: 'Open Recent', submenu: recent },
      separator,
      command('Save', 'save', 'CmdOrCtrl+S', true),
      command('Save As…', 'saveAs', 'CmdOrCtrl+Shift+S'),
      command('Export…', 'export', 'CmdOrCtrl+E'),
      separator,
      platform === 'darwin' ? { role: 'close' } : { role: 'quit', label: 'Exit' },
    ],
  };
  const edit: MenuItemTemplate = {
    label: '&Edit',
    submenu: [
      command('Undo', 'undo', 'CmdOrCtrl+Z', true),
      command('Redo', 'redo', platform === 'win32' ? 'Ctrl+Y' : 'Shift+CmdOrCtrl+Z', true),
      separator,
      { role: 'cut' },
      { role: 'copy' },
      { role: 'paste' },
      { role: 'selectAll' },
    ],
  };
  const view: MenuItemTemplate = {
    label: '&View',
    submenu: [
      command('Zoom In', 'zoomIn', 'CmdOrCtrl+='),
      command('Zoom Out', 'zoomOut', 'CmdOrCtrl+-'),
      command('Fit Model in View', 'fitView', 'CmdOrCtrl+0'),
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

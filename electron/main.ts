/**
 * Electron main process: opens the window and nothing else yet. It stays thin (window, menus,
 * dialogs, file I/O, IPC with sender checks); all model work happens in the renderer's engine
 * worker. Built by scripts/build.mjs into out/app/main.mjs, next to preload.cjs and renderer/.
 */

import { app, BrowserWindow, shell } from 'electron';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mainWindowOptions } from './window-options.js';

const here = fileURLToPath(new URL('.', import.meta.url));

function createMainWindow(): void {
  const window = new BrowserWindow(mainWindowOptions(join(here, 'preload.cjs'), app.getVersion()));
  window.once('ready-to-show', () => window.show());
  // The app never navigates away from its own page, and links open in the user's browser.
  window.webContents.on('will-navigate', (event) => event.preventDefault());
  window.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https:')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  void window.loadFile(join(here, 'renderer', 'index.html'));
}

app.enableSandbox();
void app.whenReady().then(() => {
  createMainWindow();
  // macOS: clicking the dock icon with no window open opens one.
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createMainWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

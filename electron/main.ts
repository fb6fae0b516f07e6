/**
 * Electron main process: wires Electron to the pure modules beside it and holds no logic of its
 * own worth testing apart. One window (single-instance lock: a second launch focuses it and
 * opens its file), the application menu (menu.ts), dialogs and atomic file I/O (file-service.ts),
 * recent files, autosave to a recovery folder with a restore offer at start (recovery.ts), and
 * the security guards (security.ts): every IPC handler checks its sender and its arguments,
 * navigation and new windows are blocked, permission requests denied. All model work happens in
 * the renderer's engine worker. Built by scripts/build.mjs into out/app/main.mjs, next to
 * preload.cjs and renderer/.
 */

import {
  BrowserWindow,
  Menu,
  type MenuItemConstructorOptions,
  app,
  dialog,
  ipcMain,
  session,
  shell,
} from 'electron';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { writeFileAtomic } from './atomic-write.js';
import { FileService, notebookFromArgv } from './file-service.js';
import type { EventChannels, FileKindData, MenuCommand, OpenedFileData } from './ipc-contract.js';
import { buildMenuTemplate } from './menu.js';
import { RecentFiles, readTextOrNull } from './recent-files.js';
import { RecoveryStore, recoveredDocument, recoveryQuestion } from './recovery.js';
import {
  allowPermission,
  handleWindowOpen,
  registerHandlers,
  shouldBlockNavigation,
} from './security.js';
import { mainWindowOptions } from './window-options.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const pagePath = join(here, 'renderer', 'index.html');
const appPageUrl = pathToFileURL(pagePath).href;

const NOTEBOOK_FILTERS = [
  { name: 'Wiregrad notebook', extensions: ['ipynb'] },
  { name: 'Wiregrad graph (earlier builds)', extensions: ['json'] },
];

/** Dialog filters for an export or import kind (extensions without their dot). */
function kindFilters(kind: FileKindData): { name: string; extensions: string[] }[] {
  return [{ name: kind.description, extensions: kind.extensions.map((e) => e.slice(1)) }];
}

let mainWindow: BrowserWindow | null = null;
/** Documents for the renderer once it says it is ready (a recovery, a file from argv). */
const waiting: OpenedFileData[] = [];
let rendererReady = false;

const dataFolder = (): string => app.getPath('userData');
const readText = (path: string): Promise<string | null> => readTextOrNull(readFile, path);

const recent = new RecentFiles(join(dataFolder(), 'recent-files.json'), {
  read: readText,
  write: writeFileAtomic,
});
const recovery = new RecoveryStore(join(dataFolder(), 'recovery'), {
  read: readText,
  readBytes: async (path) => {
    try {
      return new Uint8Array(await readFile(path));
    } catch (error) {
      if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return null;
      throw error;
    }
  },
  write: writeFileAtomic,
  remove: (path) => rm(path, { force: true }),
  mkdir: async (path) => void (await mkdir(path, { recursive: true })),
});

const files = new FileService({
  async showOpenDialog() {
    const options = { properties: ['openFile' as const], filters: NOTEBOOK_FILTERS };
    const result = mainWindow
      ? await dialog.showOpenDialog(mainWindow, options)
      : await dialog.showOpenDialog(options);
    return result.canceled ? null : (result.filePaths[0] ?? null);
  },
  async showSaveDialog(suggestedName) {
    const options = { defaultPath: suggestedName, filters: NOTEBOOK_FILTERS.slice(0, 1) };
    const result = mainWindow
      ? await dialog.showSaveDialog(mainWindow, options)
      : await dialog.showSaveDialog(options);
    return result.canceled || !result.filePath ? null : result.filePath;
  },
  async showExportDialog(suggestedName, kind) {
    const options = { defaultPath: suggestedName, filters: kindFilters(kind) };
    const result = mainWindow
      ? await dialog.showSaveDialog(mainWindow, options)
      : await dialog.showSaveDialog(options);
    return result.canceled || !result.filePath ? null : result.filePath;
  },
  async showImportDialog(kind) {
    const options = { properties: ['openFile' as const], filters: kindFilters(kind) };
    const result = mainWindow
      ? await dialog.showOpenDialog(mainWindow, options)
      : await dialog.showOpenDialog(options);
    return result.canceled ? null : (result.filePaths[0] ?? null);
  },
  readFile: (path) => readFile(path, 'utf8'),
  readBytes: async (path) => new Uint8Array(await readFile(path)),
  fileSize: async (path) => (await stat(path)).size,
  writeFile: writeFileAtomic,
  recent,
  recovery,
  recentChanged: () => {
    for (const path of recent.paths.slice(0, 1)) app.addRecentDocument(path);
    updateMenu();
  },
});

function send<C extends keyof EventChannels>(channel: C, payload: EventChannels[C]): void {
  mainWindow?.webContents.send(channel, payload);
}

/** Hands a document to the renderer now, or when it is ready. */
function deliver(file: OpenedFileData): void {
  if (rendererReady) send('file:opened', file);
  else waiting.push(file);
}

async function openFromOutside(path: string): Promise<void> {
  try {
    deliver(await files.openPath(path));
  } catch (error) {
    dialog.showErrorBox('Could not open the file', messageOf(error));
  }
}

function updateMenu(): void {
  const template = buildMenuTemplate({
    platform: process.platform,
    recentFiles: recent.paths,
    isDevelopment: !app.isPackaged,
    sendCommand: (command: MenuCommand) => send('menu:command', command),
    openRecent: (path) => void openFromOutside(path),
    clearRecent: () => {
      void Promise.all(recent.paths.map((path) => recent.remove(path))).then(updateMenu);
    },
  });
  Menu.setApplicationMenu(Menu.buildFromTemplate(template as MenuItemConstructorOptions[]));
}

function createMainWindow(): void {
  const window = new BrowserWindow(mainWindowOptions(join(here, 'preload.cjs'), app.getVersion()));
  mainWindow = window;
  rendererReady = false;
  window.once('ready-to-show', () => window.show());
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = null;
  });
  const contents = window.webContents;
  // One page, no navigation, no new windows; https links open in the user's browser.
  const blockNavigation = (event: { preventDefault(): void }, url: string): void => {
    if (shouldBlockNavigation(url, appPageUrl)) event.preventDefault();
  };
  contents.on('will-navigate', blockNavigation);
  contents.on('will-redirect', blockNavigation);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) =>
    handleWindowOpen(url, (href) => void shell.openExternal(href)),
  );
  void window.loadFile(pagePath);
}

function guardSession(): void {
  const defaultSession = session.defaultSession;
  defaultSession.setPermissionRequestHandler((_contents, permission, callback) =>
    callback(allowPermission(permission)),
  );
  defaultSession.setPermissionCheckHandler((_contents, permission) => allowPermission(permission));
}

/** Offers the unsaved work of an earlier session, before the window shows. */
async function offerRecovery(): Promise<void> {
  const entry = await recovery.pending().catch(() => null);
  if (!entry) return;
  const { response } = await dialog.showMessageBox(recoveryQuestion(entry));
  if (response === 0) waiting.push(recoveredDocument(entry));
  else await recovery.clear();
}

function start(): void {
  registerHandlers(
    ipcMain,
    {
      'file:open': () => files.openWithDialog(),
      'file:save': (request) => files.save(request),
      'file:export': (request) => files.exportBytes(request),
      'file:import': (kind) => files.importBytes(kind),
      'recovery:autosave': (request) => files.autosave(request),
      'recovery:clear': () => files.discardRecovery(),
      'app:ready': () => {
        rendererReady = true;
        return waiting.splice(0);
      },
    },
    appPageUrl,
  );

  // A second launch (double-clicking a notebook) focuses this window and opens its file.
  app.on('second-instance', (_event, argv) => {
    if (mainWindow) {
      if (mainWindow.isMinimized()) mainWindow.restore();
      mainWindow.focus();
    }
    const path = notebookFromArgv(argv);
    if (path) void openFromOutside(path);
  });
  // macOS opens files through an event, also before the app is ready.
  app.on('open-file', (event, path) => {
    event.preventDefault();
    void openFromOutside(path);
  });

  void app.whenReady().then(async () => {
    guardSession();
    await recent.load().catch(() => []);
    updateMenu();
    await offerRecovery();
    const path = notebookFromArgv(process.argv);
    if (path) await openFromOutside(path);
    createMainWindow();
    // macOS: clicking the dock icon with no window open opens one.
    app.on('activate', () => {
      if (BrowserWindow.getAllWindows().length === 0) createMainWindow();
    });
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

app.enableSandbox();
if (app.requestSingleInstanceLock()) start();
else app.quit();

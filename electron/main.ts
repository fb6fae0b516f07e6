/**
 * Electron main process: wires Electron to the pure modules beside it and holds no logic of its
 * own worth testing apart. One window (single-instance lock: a second launch focuses it and
 * opens its file), the application menu (menu.ts), dialogs and atomic file I/O (file-service.ts),
 * recent files, autosave to a recovery folder with a restore offer at start (recovery.ts), and
 * the security guards (security.ts): every IPC handler checks its sender and its arguments,
 * navigation and new windows are blocked, permission requests denied. All model work happens in
 * the renderer's engine worker. The page is served from the `wiregrad://app/` scheme
 * (app-protocol.ts) with the headers that make it cross-origin isolated, so the engine's CPU
 * lanes get shared memory. Built by scripts/build.mjs into out/app/main.mjs, next to
 * preload.cjs and renderer/.
 */

import {
  BrowserWindow,
  Menu,
  type MenuItemConstructorOptions,
  app,
  dialog,
  ipcMain,
  protocol,
  session,
  shell,
} from 'electron';
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  APP_PAGE_URL,
  APP_SCHEME,
  APP_SCHEME_REGISTRATION,
  type AppFileReader,
  serveAppRequest,
} from './app-protocol.js';
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
/** The folder the app scheme serves: the built renderer. */
const rendererFolder = join(here, 'renderer');
const appPageUrl = APP_PAGE_URL;

const rendererFiles: AppFileReader = {
  isFile: (path) =>
    stat(path).then(
      (info) => info.isFile(),
      () => false,
    ),
  readFile: (path) => readFile(path),
};

/** Answers the page's requests to the app scheme from the renderer folder. */
async function serveApp(request: Request): Promise<Response> {
  const { status, headers, body } = await serveAppRequest(request, rendererFolder, rendererFiles);
  return new Response(body, { status, headers });
}

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
  void window.loadURL(appPageUrl);
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
    protocol.handle(APP_SCHEME, serveApp);
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

// Both must happen before the app is ready. The scheme's headers isolate the page; the switch
// keeps SharedArrayBuffer available should an Electron build not isolate it (the engine tests
// that shared memory works rather than reading `crossOriginIsolated`).
protocol.registerSchemesAsPrivileged([APP_SCHEME_REGISTRATION]);
app.commandLine.appendSwitch('enable-features', 'SharedArrayBuffer');
app.enableSandbox();
if (app.requestSingleInstanceLock()) start();
else app.quit();

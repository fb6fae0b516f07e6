/**
 * The few Electron APIs that electron/*.ts uses, for checkouts where the optional `electron`
 * package is absent (its install script downloads a binary, which fails offline, and npm then
 * drops the package). electron/tsconfig.json maps 'electron' to the real electron.d.ts first and
 * to this file only when that does not exist. Keep it a subset of the real declarations.
 */

export interface WebPreferences {
  preload?: string;
  contextIsolation?: boolean;
  nodeIntegration?: boolean;
  sandbox?: boolean;
  webSecurity?: boolean;
  webviewTag?: boolean;
  spellcheck?: boolean;
  additionalArguments?: string[];
}

export interface BrowserWindowConstructorOptions {
  width?: number;
  height?: number;
  minWidth?: number;
  minHeight?: number;
  title?: string;
  show?: boolean;
  backgroundColor?: string;
  webPreferences?: WebPreferences;
}

export interface Event {
  preventDefault(): void;
}

export interface HandlerDetails {
  url: string;
}

export interface WebContents {
  on(event: 'will-navigate' | 'will-redirect', listener: (event: Event, url: string) => void): this;
  on(event: 'will-attach-webview', listener: (event: Event) => void): this;
  setWindowOpenHandler(handler: (details: HandlerDetails) => { action: 'allow' | 'deny' }): void;
  send(channel: string, ...args: unknown[]): void;
}

export declare class BrowserWindow {
  constructor(options?: BrowserWindowConstructorOptions);
  static getAllWindows(): BrowserWindow[];
  readonly webContents: WebContents;
  loadFile(filePath: string): Promise<void>;
  loadURL(url: string): Promise<void>;
  once(event: 'ready-to-show', listener: () => void): this;
  on(event: 'closed', listener: () => void): this;
  show(): void;
  focus(): void;
  isMinimized(): boolean;
  restore(): void;
}

export interface CommandLine {
  appendSwitch(the_switch: string, value?: string): void;
}

export interface App {
  readonly commandLine: CommandLine;
  readonly isPackaged: boolean;
  enableSandbox(): void;
  getVersion(): string;
  getPath(name: 'userData'): string;
  addRecentDocument(path: string): void;
  requestSingleInstanceLock(): boolean;
  whenReady(): Promise<void>;
  on(event: 'activate' | 'window-all-closed', listener: () => void): this;
  on(
    event: 'second-instance',
    listener: (event: Event, argv: string[], workingDirectory: string) => void,
  ): this;
  on(event: 'open-file', listener: (event: Event, path: string) => void): this;
  quit(): void;
}
export declare const app: App;

export interface FileFilter {
  name: string;
  extensions: string[];
}
export interface OpenDialogOptions {
  defaultPath?: string;
  filters?: FileFilter[];
  properties?: Array<'openFile' | 'openDirectory' | 'multiSelections'>;
}
export interface SaveDialogOptions {
  defaultPath?: string;
  filters?: FileFilter[];
}
export interface MessageBoxOptions {
  message: string;
  type?: 'none' | 'info' | 'error' | 'question' | 'warning';
  buttons?: string[];
  defaultId?: number;
  cancelId?: number;
  title?: string;
  detail?: string;
}
export interface Dialog {
  showOpenDialog(
    window: BrowserWindow,
    options: OpenDialogOptions,
  ): Promise<{ canceled: boolean; filePaths: string[] }>;
  showOpenDialog(options: OpenDialogOptions): Promise<{ canceled: boolean; filePaths: string[] }>;
  showSaveDialog(
    window: BrowserWindow,
    options: SaveDialogOptions,
  ): Promise<{ canceled: boolean; filePath: string }>;
  showSaveDialog(options: SaveDialogOptions): Promise<{ canceled: boolean; filePath: string }>;
  showMessageBox(options: MessageBoxOptions): Promise<{ response: number }>;
  showErrorBox(title: string, content: string): void;
}
export declare const dialog: Dialog;

export interface MenuItemConstructorOptions {
  label?: string;
  role?: string;
  type?: 'normal' | 'separator' | 'submenu' | 'checkbox' | 'radio';
  accelerator?: string;
  registerAccelerator?: boolean;
  enabled?: boolean;
  click?: () => void;
  submenu?: MenuItemConstructorOptions[];
}
export declare class Menu {
  static buildFromTemplate(template: MenuItemConstructorOptions[]): Menu;
  static setApplicationMenu(menu: Menu | null): void;
}

export interface WebFrameMain {
  readonly url: string;
  readonly parent: WebFrameMain | null;
}
export interface IpcMainInvokeEvent {
  readonly senderFrame: WebFrameMain | null;
}
export interface IpcMain {
  handle(
    channel: string,
    listener: (event: IpcMainInvokeEvent, ...args: unknown[]) => unknown,
  ): void;
}
export declare const ipcMain: IpcMain;

export interface IpcRenderer {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): this;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): this;
}
export declare const ipcRenderer: IpcRenderer;

export interface Session {
  setPermissionRequestHandler(
    handler: (
      webContents: WebContents,
      permission: string,
      callback: (permissionGranted: boolean) => void,
    ) => void,
  ): void;
  setPermissionCheckHandler(
    handler: (webContents: WebContents | null, permission: string) => boolean,
  ): void;
}
export declare const session: { readonly defaultSession: Session };

/** The fetch API's Request and Response, as the real declarations name them. */
type GlobalRequest = Request;
type GlobalResponse = Response;

export interface CustomScheme {
  scheme: string;
  privileges?: {
    standard?: boolean;
    secure?: boolean;
    bypassCSP?: boolean;
    allowServiceWorkers?: boolean;
    supportFetchAPI?: boolean;
    corsEnabled?: boolean;
    stream?: boolean;
    codeCache?: boolean;
  };
}
export interface Protocol {
  registerSchemesAsPrivileged(customSchemes: CustomScheme[]): void;
  handle(
    scheme: string,
    handler: (request: GlobalRequest) => GlobalResponse | Promise<GlobalResponse>,
  ): void;
}
export declare const protocol: Protocol;

export interface Shell {
  openExternal(url: string): Promise<void>;
}
export declare const shell: Shell;

export interface ContextBridge {
  exposeInMainWorld(apiKey: string, api: unknown): void;
}
export declare const contextBridge: ContextBridge;

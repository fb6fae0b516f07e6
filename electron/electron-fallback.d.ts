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
  on(event: 'will-navigate', listener: (event: Event, url: string) => void): this;
  setWindowOpenHandler(handler: (details: HandlerDetails) => { action: 'allow' | 'deny' }): void;
}

export declare class BrowserWindow {
  constructor(options?: BrowserWindowConstructorOptions);
  static getAllWindows(): BrowserWindow[];
  readonly webContents: WebContents;
  loadFile(filePath: string): Promise<void>;
  once(event: 'ready-to-show', listener: () => void): this;
  show(): void;
}

export interface App {
  enableSandbox(): void;
  getVersion(): string;
  whenReady(): Promise<void>;
  on(event: 'activate' | 'window-all-closed', listener: () => void): this;
  quit(): void;
}
export declare const app: App;

export interface Shell {
  openExternal(url: string): Promise<void>;
}
export declare const shell: Shell;

export interface ContextBridge {
  exposeInMainWorld(apiKey: string, api: unknown): void;
}
export declare const contextBridge: ContextBridge;

/**
 * The main window's options and the renderer's Content Security Policy, as plain data so that a
 * unit test can check them without Electron. The renderer is untrusted: it gets no Node
 * (`nodeIntegration: false`), runs in a separate JS world from the preload
 * (`contextIsolation: true`) and in Chromium's OS sandbox (`sandbox: true`); it reaches the main
 * process only through what the preload exposes.
 */

/**
 * Where the renderer may load from: its own files only, no remote content, no inline scripts, no
 * eval. `'wasm-unsafe-eval'` lets the engine compile WebAssembly; `blob:` workers let it spawn
 * CPU lanes. The same string is in renderer/index.html's meta tag (a test keeps them equal), so
 * it applies wherever the page is served from: the desktop app's `wiregrad://app/` scheme and
 * web mode alike.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "worker-src 'self' blob:",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
].join('; ');

/** The subset of Electron's BrowserWindowConstructorOptions that Wiregrad sets. */
export interface MainWindowOptions {
  width: number;
  height: number;
  minWidth: number;
  minHeight: number;
  title: string;
  show: boolean;
  backgroundColor: string;
  webPreferences: {
    preload: string;
    contextIsolation: true;
    nodeIntegration: false;
    sandbox: true;
    webSecurity: true;
    webviewTag: false;
    spellcheck: boolean;
    additionalArguments: string[];
  };
}

/** Passed to the preload on its command line; the sandboxed preload cannot read package.json. */
export const VERSION_ARGUMENT = '--wiregrad-version=';

export function mainWindowOptions(preloadPath: string, appVersion: string): MainWindowOptions {
  return {
    width: 1280,
    height: 800,
    minWidth: 720,
    minHeight: 480,
    title: 'Wiregrad',
    // Shown on 'ready-to-show', so the user never sees an empty white frame.
    show: false,
    backgroundColor: '#1e1e1e',
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      nodeIntegration: false,
      sandbox: true,
      webSecurity: true,
      webviewTag: false,
      spellcheck: false,
      additionalArguments: [`${VERSION_ARGUMENT}${appVersion}`],
    },
  };
}

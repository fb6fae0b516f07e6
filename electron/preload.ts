/**
 * Preload: runs sandboxed before the page, and is the renderer's only door to the main process.
 * It exposes a frozen `window.wiregrad` object through contextBridge; for now that holds the app
 * version, later the typed IPC calls (file open/save, dialogs). Built as CommonJS
 * (out/app/preload.cjs) because sandboxed preloads cannot be ES modules.
 */

import { contextBridge } from 'electron';
import { VERSION_ARGUMENT } from './window-options.js';

const versionArgument = process.argv.find((arg) => arg.startsWith(VERSION_ARGUMENT));

contextBridge.exposeInMainWorld('wiregrad', {
  version: versionArgument?.slice(VERSION_ARGUMENT.length) ?? 'unknown',
});

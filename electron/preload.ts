/**
 * Preload: runs sandboxed before the page, and is the renderer's only door to the main process.
 * It exposes a frozen `window.wiregrad` object through contextBridge (bridge.ts): the app
 * version and platform, and typed asynchronous calls over the channels of ipc-contract.ts.
 * Built as CommonJS (out/app/preload.cjs) because sandboxed preloads cannot be ES modules.
 */

import { contextBridge, ipcRenderer } from 'electron';
import { createBridge } from './bridge.js';
import { VERSION_ARGUMENT } from './window-options.js';

const versionArgument = process.argv.find((arg) => arg.startsWith(VERSION_ARGUMENT));

contextBridge.exposeInMainWorld(
  'wiregrad',
  createBridge(
    ipcRenderer,
    versionArgument?.slice(VERSION_ARGUMENT.length) ?? 'unknown',
    process.platform,
  ),
);

/**
 * What the preload exposes to the page as `window.wiregrad`, built from an injected
 * `ipcRenderer` so a unit test can drive it without Electron. The page gets functions, never
 * `ipcRenderer` itself: `invoke` and `on` accept only the channels of ipc-contract.ts, and event
 * listeners receive the payload without Electron's event object (which would leak `sender`).
 */

import {
  EVENT_CHANNELS,
  INVOKE_CHANNELS,
  type EventChannel,
  type WiregradBridge,
} from './ipc-contract.js';

/** The parts of Electron's ipcRenderer the bridge uses. */
export interface IpcRendererLike {
  invoke(channel: string, ...args: unknown[]): Promise<unknown>;
  on(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
  removeListener(channel: string, listener: (event: unknown, ...args: unknown[]) => void): unknown;
}

export function createBridge(
  ipc: IpcRendererLike,
  version: string,
  platform: string,
): WiregradBridge {
  const invokeChannels = new Set<string>(INVOKE_CHANNELS);
  const eventChannels = new Set<string>(EVENT_CHANNELS);
  const bridge = {
    version,
    platform,
    invoke(channel: string, ...args: unknown[]): Promise<unknown> {
      if (!invokeChannels.has(channel))
        return Promise.reject(new Error(`unknown IPC channel '${channel}'`));
      return ipc.invoke(channel, ...args);
    },
    on(channel: EventChannel, listener: (payload: unknown) => void): () => void {
      if (!eventChannels.has(channel)) throw new Error(`unknown IPC event '${channel}'`);
      const wrapped = (_event: unknown, payload: unknown): void => listener(payload);
      ipc.on(channel, wrapped);
      return () => void ipc.removeListener(channel, wrapped);
    },
  };
  return Object.freeze(bridge) as unknown as WiregradBridge;
}

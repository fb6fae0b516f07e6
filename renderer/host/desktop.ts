/**
 * The host in the Electron app: files, dialogs, recent files and crash recovery through the
 * preload's `window.wiregrad` bridge (the page never sees Electron). A file's handle is its path,
 * which main only accepts back for files it opened or saved this session. Autosaves go to main's
 * recovery folder rather than localStorage, so they survive a crash and are offered at the next
 * start (through `ready`), not restored silently.
 *
 * The bridge's shape is electron/ipc-contract.ts's `WiregradBridge`, restated here because the
 * renderer may not import electron/; the channel names below are checked against it by a test.
 */

import {
  type FileKind,
  HOST_COMMANDS,
  type Host,
  type HostCommand,
  type HostFile,
  type OpenedFile,
  type WeightsToSave,
} from './host.js';

/** A file as main hands it over (`path` null for recovered work, which has no file yet). */
interface BridgeFile {
  readonly path: string | null;
  readonly name: string;
  readonly text: string;
  readonly weights?: { readonly name: string; readonly bytes: Uint8Array };
}

/** A file kind as the export and import dialogs take it. */
interface BridgeKind {
  readonly description: string;
  readonly extensions: readonly string[];
}

/** The calls the desktop host makes: the invoke and event channels of the IPC contract. */
export interface DesktopBridge {
  readonly version: string;
  readonly platform: string;
  invoke(channel: 'file:open'): Promise<BridgeFile | null>;
  invoke(
    channel: 'file:save',
    request: {
      text: string;
      suggestedName: string;
      path?: string;
      weights?: { bytes: Uint8Array; text: string };
    },
  ): Promise<{ path: string; name: string; weightsName?: string } | null>;
  invoke(
    channel: 'file:export',
    request: { bytes: Uint8Array; suggestedName: string; kind: BridgeKind },
  ): Promise<{ path: string; name: string } | null>;
  invoke(
    channel: 'file:import',
    kind: BridgeKind,
  ): Promise<{ name: string; bytes: Uint8Array } | null>;
  invoke(
    channel: 'recovery:autosave',
    request: { text: string; name: string; weights?: Uint8Array | null },
  ): Promise<void>;
  invoke(channel: 'recovery:clear'): Promise<void>;
  invoke(channel: 'app:ready'): Promise<readonly BridgeFile[]>;
  on(channel: 'menu:command', listener: (command: HostCommand) => void): () => void;
  on(channel: 'file:opened', listener: (file: BridgeFile) => void): () => void;
}

declare global {
  interface Window {
    /** Set by electron/preload.ts; absent in web mode. */
    readonly wiregrad?: DesktopBridge;
  }
}

const UNTITLED = 'Untitled model.ipynb';

function toOpened(file: BridgeFile): OpenedFile {
  const weights = file.weights ? { weights: file.weights } : {};
  return file.path === null
    ? { name: file.name, text: file.text, recovered: true, ...weights }
    : { name: file.name, text: file.text, handle: file.path, ...weights };
}

export function createDesktopHost(bridge: DesktopBridge): Host {
  /** The name of the document's file, for the recovery prompt. */
  let currentName = UNTITLED;
  const commands = new Set<string>(HOST_COMMANDS);
  return {
    kind: 'desktop',
    async openFile() {
      const file = await bridge.invoke('file:open');
      if (!file) return null;
      currentName = file.name;
      return toOpened(file);
    },
    async saveFile(
      text: string,
      suggestedName: string,
      target?: HostFile,
      weights?: WeightsToSave,
    ) {
      const path = typeof target?.handle === 'string' ? target.handle : undefined;
      const saved = await bridge.invoke('file:save', {
        text,
        suggestedName,
        ...(path !== undefined ? { path } : {}),
        ...(weights ? { weights: { bytes: weights.bytes, text: weights.text } } : {}),
      });
      if (!saved) return null;
      currentName = saved.name;
      return {
        name: saved.name,
        handle: saved.path,
        ...(saved.weightsName !== undefined ? { weightsName: saved.weightsName } : {}),
      };
    },
    async saveBytes(bytes: Uint8Array, suggestedName: string, kind: FileKind) {
      const saved = await bridge.invoke('file:export', {
        bytes,
        suggestedName,
        kind: { description: kind.description, extensions: kind.extensions },
      });
      return saved ? { name: saved.name, handle: saved.path } : null;
    },
    async openBytes(kind: FileKind) {
      return bridge.invoke('file:import', {
        description: kind.description,
        extensions: kind.extensions,
      });
    },
    // Recovery is offered by main at start and arrives through `ready`.
    loadAutosave: () => null,
    autosave(text: string, unsaved = true, weights?: Uint8Array | null) {
      // Best effort, as in the browser: a failed autosave must not interrupt editing. Work that
      // matches its file needs no recovery copy (and an old one would be offered wrongly).
      const done = unsaved
        ? bridge.invoke('recovery:autosave', {
            text,
            name: currentName,
            ...(weights !== undefined ? { weights } : {}),
          })
        : bridge.invoke('recovery:clear');
      done.catch((error: unknown) => {
        console.warn('Autosave failed:', error);
      });
    },
    async ready() {
      return (await bridge.invoke('app:ready')).map(toOpened);
    },
    onCommand(listener) {
      return bridge.on('menu:command', (command) => {
        if (commands.has(command)) listener(command);
      });
    },
    onOpenFile(listener) {
      return bridge.on('file:opened', (file) => {
        currentName = file.name;
        listener(toOpened(file));
      });
    },
  };
}

/** The host for where the page runs: the desktop bridge when the preload set it, else none. */
export function desktopBridge(win: Window = window): DesktopBridge | null {
  const bridge = win.wiregrad;
  return bridge && typeof bridge.invoke === 'function' ? bridge : null;
}

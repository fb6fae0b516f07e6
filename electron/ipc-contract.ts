/**
 * The one map of IPC channels between the main process and the preload (VS Code's and GitHub
 * Desktop's pattern): every channel's direction, argument and result types, and a validator that
 * main runs on every argument before a handler sees it, since the renderer is untrusted. All
 * calls are asynchronous (`invoke`/`handle`, `send`/`on`); there is no synchronous IPC.
 *
 * Plain TypeScript with no Electron or Node imports, so main, the preload and unit tests share it.
 * The renderer cannot import electron/ (the layer rules); renderer/host/desktop.ts declares the
 * same bridge shape, and a test checks the two agree.
 */

/** A file the main process read for the renderer. `path` is the handle Save writes back to. */
export interface OpenedFileData {
  readonly path: string | null;
  readonly name: string;
  readonly text: string;
  /** The trained weights found beside the notebook (`model.safetensors` for `model.ipynb`). */
  readonly weights?: WeightsFileData;
}

/** A weights file's name and bytes (safetensors). */
export interface WeightsFileData {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** Where a save went (and the weights file written beside it, if any). */
export interface SavedFileData {
  readonly path: string;
  readonly name: string;
  readonly weightsName?: string;
}

export interface SaveRequest {
  readonly text: string;
  readonly suggestedName: string;
  /** Write over this file without asking; it must be a file this session opened or saved. */
  readonly path?: string;
  /**
   * Trained weights to write beside the notebook (`<name>.safetensors`, first), and the
   * notebook text to write with them (it refers to them) instead of `text`.
   */
  readonly weights?: { readonly bytes: Uint8Array; readonly text: string };
}

/** What export and import dialogs filter on (renderer/host/host.ts FileKind, without mime). */
export interface FileKindData {
  readonly description: string;
  /** With the dot: `.onnx`. */
  readonly extensions: readonly string[];
}

/** An export's bytes and where the dialog should start. */
export interface ExportRequest {
  readonly bytes: Uint8Array;
  readonly suggestedName: string;
  readonly kind: FileKindData;
}

/** A binary file the user chose to import. */
export interface ImportedFileData {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface AutosaveRequest {
  readonly text: string;
  /** The file the document came from, so a recovery can say which work it holds. */
  readonly name: string;
  /** Trained weights to keep with it (safetensors); null drops kept ones; absent keeps them. */
  readonly weights?: Uint8Array | null;
}

/**
 * What the application menu asks the renderer to do. Cut, Copy and Paste are not here: the menu
 * uses Electron's roles for them (menu.ts says why).
 */
export const MENU_COMMANDS = [
  'new',
  'open',
  'save',
  'saveAs',
  'export',
  'undo',
  'redo',
  'zoomIn',
  'zoomOut',
  'fitView',
  'run',
  'stop',
  'group',
  'ungroup',
  'autoLayout',
  'shortcuts',
] as const;
export type MenuCommand = (typeof MENU_COMMANDS)[number];

/** Renderer-to-main calls (`ipcRenderer.invoke` / `ipcMain.handle`): argument and result. */
export interface InvokeChannels {
  /** Shows the open dialog; null when the user cancels. */
  'file:open': { args: void; result: OpenedFileData | null };
  /** Saves over `path` (a granted file) or where the user chooses; null when they cancel. */
  'file:save': { args: SaveRequest; result: SavedFileData | null };
  /** Saves an export (ONNX, a zip) where the user chooses; null when they cancel. */
  'file:export': { args: ExportRequest; result: SavedFileData | null };
  /** Reads a binary file the user chooses (an ONNX model); null when they cancel. */
  'file:import': { args: FileKindData; result: ImportedFileData | null };
  /** Keeps the document in the recovery folder (best effort). */
  'recovery:autosave': { args: AutosaveRequest; result: void };
  /** The document matches its file again: drop the recovery copy. */
  'recovery:clear': { args: void; result: void };
  /** The renderer is ready for documents: returns those waiting (a recovery, a file from argv). */
  'app:ready': { args: void; result: readonly OpenedFileData[] };
}

/** Main-to-renderer events (`webContents.send` / `ipcRenderer.on`). */
export interface EventChannels {
  'menu:command': MenuCommand;
  /** A file opened from outside the page: recent files, the OS, a second instance. */
  'file:opened': OpenedFileData;
}

export type InvokeChannel = keyof InvokeChannels;
export type EventChannel = keyof EventChannels;
export type InvokeArgs<C extends InvokeChannel> = InvokeChannels[C]['args'];
export type InvokeResult<C extends InvokeChannel> = InvokeChannels[C]['result'];

/** The largest document text the renderer may send (a model graph, not its weights). */
export const MAX_TEXT_BYTES = 64 * 1024 * 1024;
const MAX_NAME_LENGTH = 255;
const MAX_PATH_LENGTH = 4096;

/** Thrown when an IPC argument does not fit its channel; the renderer sees the message. */
export class IpcArgumentError extends Error {
  constructor(channel: string, problem: string) {
    super(`IPC '${channel}': ${problem}`);
    this.name = 'IpcArgumentError';
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(channel: string, value: Record<string, unknown>, allowed: string[]): void {
  const extra = Object.keys(value).find((key) => !allowed.includes(key));
  if (extra !== undefined) throw new IpcArgumentError(channel, `unexpected field '${extra}'`);
}

function checkText(channel: string, value: unknown, field: string): string {
  if (typeof value !== 'string') throw new IpcArgumentError(channel, `'${field}' must be a string`);
  // Length in UTF-16 units bounds the UTF-8 size to at most 3x; the cap only stops abuse.
  if (value.length > MAX_TEXT_BYTES)
    throw new IpcArgumentError(channel, `'${field}' is larger than ${MAX_TEXT_BYTES} bytes`);
  return value;
}

function checkName(channel: string, value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_NAME_LENGTH)
    throw new IpcArgumentError(channel, `'${field}' must be a name of 1-${MAX_NAME_LENGTH} chars`);
  // A name is a suggestion for a dialog, never a path: no separators, no NUL.
  if (/[/\\\0]/.test(value))
    throw new IpcArgumentError(channel, `'${field}' must be a file name, not a path`);
  return value;
}

function checkNoArgs(channel: string, args: readonly unknown[]): void {
  if (args.length > 0 && args.some((a) => a !== undefined))
    throw new IpcArgumentError(channel, 'takes no arguments');
}

function checkOneRecord(channel: string, args: readonly unknown[]): Record<string, unknown> {
  const [value, ...rest] = args;
  if (rest.length > 0) throw new IpcArgumentError(channel, 'takes one argument');
  if (!isRecord(value)) throw new IpcArgumentError(channel, 'expects an object');
  return value;
}

/** The largest export main writes (ONNX files with their weights can be large). */
export const MAX_EXPORT_BYTES = 2 * 2 ** 30;

const EXTENSION = /^\.[A-Za-z0-9]{1,10}$/;

function checkKind(channel: string, value: unknown): FileKindData {
  if (!isRecord(value)) throw new IpcArgumentError(channel, "'kind' must be an object");
  checkKeys(channel, value, ['description', 'extensions']);
  const description = checkName(channel, value.description, 'description');
  const extensions = value.extensions;
  if (
    !Array.isArray(extensions) ||
    extensions.length === 0 ||
    extensions.length > 8 ||
    !extensions.every((e): e is string => typeof e === 'string' && EXTENSION.test(e))
  )
    throw new IpcArgumentError(channel, "'extensions' must be 1 to 8 names like '.onnx'");
  return { description, extensions: [...extensions] };
}

/**
 * Validators, one per invoke channel: they take the raw argument list and return the typed
 * argument or throw IpcArgumentError. Main runs them before every handler.
 */
export const VALIDATE_ARGS: {
  readonly [C in InvokeChannel]: (args: readonly unknown[]) => InvokeArgs<C>;
} = {
  'file:open': (args) => checkNoArgs('file:open', args),
  'file:save': (args) => {
    const channel = 'file:save';
    const value = checkOneRecord(channel, args);
    checkKeys(channel, value, ['text', 'suggestedName', 'path', 'weights']);
    const text = checkText(channel, value.text, 'text');
    const suggestedName = checkName(channel, value.suggestedName, 'suggestedName');
    let weights: SaveRequest['weights'];
    if (value.weights !== undefined) {
      const w = value.weights;
      if (!isRecord(w)) throw new IpcArgumentError(channel, "'weights' must be an object");
      checkKeys(channel, w, ['bytes', 'text']);
      if (!(w.bytes instanceof Uint8Array) || w.bytes.byteLength > MAX_EXPORT_BYTES)
        throw new IpcArgumentError(
          channel,
          `'weights.bytes' must be a Uint8Array of at most 2 GiB`,
        );
      weights = { bytes: w.bytes, text: checkText(channel, w.text, 'weights.text') };
    }
    const withWeights = weights ? { weights } : {};
    if (value.path === undefined) return { text, suggestedName, ...withWeights };
    if (
      typeof value.path !== 'string' ||
      value.path === '' ||
      value.path.length > MAX_PATH_LENGTH ||
      value.path.includes('\0')
    )
      throw new IpcArgumentError(channel, "'path' must be a file path");
    return { text, suggestedName, path: value.path, ...withWeights };
  },
  'file:export': (args) => {
    const channel = 'file:export';
    const value = checkOneRecord(channel, args);
    checkKeys(channel, value, ['bytes', 'suggestedName', 'kind']);
    if (!(value.bytes instanceof Uint8Array) || value.bytes.byteLength > MAX_EXPORT_BYTES)
      throw new IpcArgumentError(channel, `'bytes' must be a Uint8Array of at most 2 GiB`);
    return {
      bytes: value.bytes,
      suggestedName: checkName(channel, value.suggestedName, 'suggestedName'),
      kind: checkKind(channel, value.kind),
    };
  },
  'file:import': (args) => checkKind('file:import', checkOneRecord('file:import', args)),
  'recovery:autosave': (args) => {
    const channel = 'recovery:autosave';
    const value = checkOneRecord(channel, args);
    checkKeys(channel, value, ['text', 'name', 'weights']);
    const request = {
      text: checkText(channel, value.text, 'text'),
      name: checkName(channel, value.name, 'name'),
    };
    const weights = value.weights;
    if (weights === undefined) return request;
    if (
      weights !== null &&
      (!(weights instanceof Uint8Array) || weights.byteLength > MAX_EXPORT_BYTES)
    )
      throw new IpcArgumentError(
        channel,
        `'weights' must be null or a Uint8Array of at most 2 GiB`,
      );
    return { ...request, weights };
  },
  'recovery:clear': (args) => checkNoArgs('recovery:clear', args),
  'app:ready': (args) => checkNoArgs('app:ready', args),
};

export const INVOKE_CHANNELS = Object.keys(VALIDATE_ARGS) as InvokeChannel[];
export const EVENT_CHANNELS: readonly EventChannel[] = ['menu:command', 'file:opened'];

/** The API the preload exposes as `window.wiregrad`. */
export interface WiregradBridge {
  readonly version: string;
  readonly platform: string;
  invoke<C extends InvokeChannel>(
    channel: C,
    ...args: InvokeArgs<C> extends void ? [] : [InvokeArgs<C>]
  ): Promise<InvokeResult<C>>;
  /** Subscribes to a main-to-renderer event; returns the unsubscribe function. */
  on<C extends EventChannel>(channel: C, listener: (payload: EventChannels[C]) => void): () => void;
}

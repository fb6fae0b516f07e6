/**
 * The main process's guards, as functions of plain values so unit tests check each without
 * Electron: which frames may call IPC (the app's own page only), where the window may navigate
 * (nowhere), what `window.open` does (nothing; https links go to the user's browser), which
 * permissions the page gets (none), and the wrapper that registers every IPC handler behind the
 * sender check and its channel's argument validator. main.ts wires them to Electron.
 */

import {
  INVOKE_CHANNELS,
  type InvokeArgs,
  type InvokeChannel,
  type InvokeResult,
  VALIDATE_ARGS,
} from './ipc-contract.js';

/**
 * Whether `url` is the app's own page: same protocol, host and path as `appPageUrl` (query and
 * hash may differ). The app loads from its own scheme (`wiregrad://app/index.html`, see
 * app-protocol.ts); anything else (remote pages, data:, blob:, about:blank, local files, other
 * files or hosts of the scheme) is not the app.
 */
export function isAppPage(url: string, appPageUrl: string): boolean {
  let page: URL;
  let app: URL;
  try {
    page = new URL(url);
    app = new URL(appPageUrl);
  } catch {
    return false;
  }
  return (
    page.protocol === app.protocol &&
    page.host === app.host &&
    page.username === app.username &&
    page.password === app.password &&
    decodeURIComponent(page.pathname) === decodeURIComponent(app.pathname)
  );
}

/** The part of an IPC event the sender check reads (Electron's `senderFrame` may be null). */
export interface SenderEvent {
  readonly senderFrame?: { readonly url: string; readonly parent?: unknown } | null;
}

/**
 * Whether an IPC message comes from the app's own page: the top frame (no parent; the page
 * embeds no frames, so a child frame is never ours) showing the app's URL.
 */
export function isTrustedSender(event: SenderEvent, appPageUrl: string): boolean {
  const frame = event.senderFrame;
  if (!frame || (frame.parent !== undefined && frame.parent !== null)) return false;
  return typeof frame.url === 'string' && isAppPage(frame.url, appPageUrl);
}

/** `will-navigate`/`will-redirect`: the app is one page and never navigates. */
export function shouldBlockNavigation(url: string, appPageUrl: string): boolean {
  // Reloading the app page itself (View > Reload in development) is the one navigation allowed.
  return !isAppPage(url, appPageUrl);
}

/**
 * `setWindowOpenHandler`: no new windows. Plain https links open in the user's browser (through
 * `openExternal`), anything else (http, file:, javascript:, custom schemes) is dropped.
 */
export function handleWindowOpen(
  url: string,
  openExternal: (url: string) => void,
): { action: 'deny' } {
  let parsed: URL | null = null;
  try {
    parsed = new URL(url);
  } catch {
    parsed = null;
  }
  if (parsed?.protocol === 'https:' && parsed.username === '' && parsed.password === '')
    openExternal(parsed.href);
  return { action: 'deny' };
}

/** Permission requests (camera, geolocation, notifications …): the app needs none. */
export function allowPermission(_permission: string): false {
  return false;
}

/** The part of Electron's ipcMain the handlers are registered on. */
export interface IpcMainLike {
  handle(channel: string, listener: (event: SenderEvent, ...args: unknown[]) => unknown): void;
}

export type InvokeHandlers = {
  readonly [C in InvokeChannel]: (
    args: InvokeArgs<C>,
    event: SenderEvent,
  ) => Promise<InvokeResult<C>> | InvokeResult<C>;
};

/** Thrown to the renderer when a call comes from a frame that is not the app. */
export class UntrustedSenderError extends Error {
  constructor(channel: string, url: string | undefined) {
    super(`IPC '${channel}' refused: the sender (${url ?? 'no frame'}) is not the Wiregrad page`);
    this.name = 'UntrustedSenderError';
  }
}

/**
 * Registers one handler per invoke channel of the contract, each behind the sender check and
 * its argument validator, so no handler can be added without both.
 */
export function registerHandlers(
  ipc: IpcMainLike,
  handlers: InvokeHandlers,
  appPageUrl: string,
): void {
  for (const channel of INVOKE_CHANNELS) {
    const handler = handlers[channel] as (args: unknown, event: SenderEvent) => unknown;
    const validate = VALIDATE_ARGS[channel] as (args: readonly unknown[]) => unknown;
    ipc.handle(channel, (event, ...args) => {
      if (!isTrustedSender(event, appPageUrl))
        throw new UntrustedSenderError(channel, event.senderFrame?.url);
      return handler(validate(args), event);
    });
  }
}

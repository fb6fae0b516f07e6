import { describe, expect, it, vi } from 'vitest';
import { APP_PAGE_URL } from './app-protocol.js';
import { INVOKE_CHANNELS } from './ipc-contract.js';
import {
  type IpcMainLike,
  type InvokeHandlers,
  type SenderEvent,
  allowPermission,
  handleWindowOpen,
  isAppPage,
  isTrustedSender,
  registerHandlers,
  shouldBlockNavigation,
} from './security.js';

const APP = APP_PAGE_URL;
/** Where the page was loaded from before it had its own scheme; now a stranger like any file. */
const FILE_PAGE = 'file:///opt/Wiregrad/resources/app/out/app/renderer/index.html';

describe('the app page', () => {
  it("is the app scheme's index page, whatever its query or hash", () => {
    expect(APP).toBe('wiregrad://app/index.html');
    expect(isAppPage(APP, APP)).toBe(true);
    expect(isAppPage(`${APP}#/model`, APP)).toBe(true);
    expect(isAppPage(`${APP}?x=1`, APP)).toBe(true);
  });

  it('is not another file or host of the scheme', () => {
    expect(isAppPage('wiregrad://app/other.html', APP)).toBe(false);
    expect(isAppPage('wiregrad://app/main.js', APP)).toBe(false);
    expect(isAppPage('wiregrad://app/', APP)).toBe(false);
    expect(isAppPage('wiregrad://evil/index.html', APP)).toBe(false);
    expect(isAppPage('wiregrad://app.evil/index.html', APP)).toBe(false);
    expect(isAppPage('wiregrad://user@app/index.html', APP)).toBe(false);
    expect(isAppPage('wiregrad://app:8080/index.html', APP)).toBe(false);
  });

  it('is not a local file, a remote page or a synthetic URL', () => {
    expect(isAppPage(FILE_PAGE, APP)).toBe(false);
    expect(isAppPage('file:///home/user/evil.html', APP)).toBe(false);
    expect(isAppPage('file:///opt/Wiregrad/resources/app/out/app/renderer/other.html', APP)).toBe(
      false,
    );
    expect(isAppPage('https://example.com/index.html', APP)).toBe(false);
    expect(isAppPage('https://app/index.html', APP)).toBe(false);
    expect(
      isAppPage('file://attacker/opt/Wiregrad/resources/app/out/app/renderer/index.html', APP),
    ).toBe(false);
    expect(isAppPage('about:blank', APP)).toBe(false);
    expect(isAppPage('data:text/html,<script>1</script>', APP)).toBe(false);
    expect(isAppPage('not a url', APP)).toBe(false);
  });
});

describe('the IPC sender check', () => {
  it("accepts the app's frame", () => {
    expect(isTrustedSender({ senderFrame: { url: APP } }, APP)).toBe(true);
  });

  it('rejects other frames, and events without a frame', () => {
    expect(isTrustedSender({ senderFrame: { url: 'https://example.com/' } }, APP)).toBe(false);
    expect(isTrustedSender({ senderFrame: { url: 'file:///tmp/x.html' } }, APP)).toBe(false);
    expect(isTrustedSender({ senderFrame: { url: FILE_PAGE } }, APP)).toBe(false);
    expect(isTrustedSender({ senderFrame: { url: 'wiregrad://app/other.html' } }, APP)).toBe(false);
    expect(isTrustedSender({ senderFrame: null }, APP)).toBe(false);
    // A child frame, even one showing the app's URL, is not the app's page.
    expect(isTrustedSender({ senderFrame: { url: APP, parent: { url: APP } } }, APP)).toBe(false);
    expect(isTrustedSender({ senderFrame: { url: APP, parent: null } }, APP)).toBe(true);
    expect(isTrustedSender({}, APP)).toBe(false);
  });
});

describe('navigation, new windows and permissions', () => {
  it('blocks navigation anywhere but the app page', () => {
    expect(shouldBlockNavigation('https://example.com/', APP)).toBe(true);
    expect(shouldBlockNavigation('file:///etc/passwd', APP)).toBe(true);
    expect(shouldBlockNavigation(FILE_PAGE, APP)).toBe(true);
    expect(shouldBlockNavigation('wiregrad://app/other.html', APP)).toBe(true);
    expect(shouldBlockNavigation(`${APP}#/train`, APP)).toBe(false);
    expect(shouldBlockNavigation('javascript:alert(1)', APP)).toBe(true);
    expect(shouldBlockNavigation(APP, APP)).toBe(false);
  });

  it('denies every window.open, sending only plain https links to the browser', () => {
    const opened: string[] = [];
    const open = (url: string): void => void opened.push(url);
    expect(handleWindowOpen('https://pytorch.org/docs', open)).toEqual({ action: 'deny' });
    expect(handleWindowOpen('http://example.com/', open)).toEqual({ action: 'deny' });
    expect(handleWindowOpen('file:///etc/passwd', open)).toEqual({ action: 'deny' });
    expect(handleWindowOpen('javascript:alert(1)', open)).toEqual({ action: 'deny' });
    expect(handleWindowOpen('https://user:pw@example.com/', open)).toEqual({ action: 'deny' });
    expect(handleWindowOpen('::::', open)).toEqual({ action: 'deny' });
    expect(opened).toEqual(['https://pytorch.org/docs']);
  });

  it('denies every permission request', () => {
    for (const permission of ['media', 'geolocation', 'notifications', 'clipboard-read', 'hid'])
      expect(allowPermission(permission)).toBe(false);
  });
});

describe('registered IPC handlers', () => {
  function setUp(): {
    call: (channel: string, event: SenderEvent, ...args: unknown[]) => unknown;
    handlers: InvokeHandlers;
  } {
    const listeners = new Map<string, (event: SenderEvent, ...args: unknown[]) => unknown>();
    const ipc: IpcMainLike = {
      handle: (channel, listener) => void listeners.set(channel, listener),
    };
    const handlers: InvokeHandlers = {
      'file:open': vi.fn(() => null),
      'file:save': vi.fn((request) => ({ path: '/x.ipynb', name: request.suggestedName })),
      'file:export': vi.fn(() => null),
      'file:import': vi.fn(() => null),
      'recovery:autosave': vi.fn(() => undefined),
      'recovery:clear': vi.fn(() => undefined),
      'app:ready': vi.fn(() => []),
    };
    registerHandlers(ipc, handlers, APP);
    expect([...listeners.keys()].sort()).toEqual([...INVOKE_CHANNELS].sort());
    return {
      handlers,
      call: (channel, event, ...args) => listeners.get(channel)!(event, ...args),
    };
  }
  const app: SenderEvent = { senderFrame: { url: APP } };
  const stranger: SenderEvent = { senderFrame: { url: 'https://example.com/' } };

  it('run for the app page with valid arguments', () => {
    const { call, handlers } = setUp();
    const request = { text: '{}', suggestedName: 'model.ipynb' };
    expect(call('file:save', app, request)).toEqual({ path: '/x.ipynb', name: 'model.ipynb' });
    expect(handlers['file:save']).toHaveBeenCalledWith(request, app);
  });

  it('refuse every channel to any other sender before the handler runs', () => {
    const { call, handlers } = setUp();
    for (const channel of INVOKE_CHANNELS)
      expect(() => call(channel, stranger), channel).toThrow(/refused: the sender/);
    for (const handler of Object.values(handlers)) expect(handler).not.toHaveBeenCalled();
  });

  it('refuse bad arguments before the handler runs', () => {
    const { call, handlers } = setUp();
    expect(() => call('file:save', app, { text: 1, suggestedName: 'a' })).toThrow(/'text'/);
    expect(() => call('file:open', app, 'extra')).toThrow(/takes no arguments/);
    expect(handlers['file:save']).not.toHaveBeenCalled();
    expect(handlers['file:open']).not.toHaveBeenCalled();
  });
});

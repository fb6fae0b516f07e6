import { afterEach, describe, expect, it, vi } from 'vitest';
import { createInProcessEngineClient } from '../../engine/worker/in-process.js';
import { type ActionContext, getAction, handleShortcut } from '../app/actions.js';
import type { Files } from '../app/files.js';
import { OPEN_EXPORT_EVENT } from '../files/export-dialog-events.js';
import { performHostCommand } from '../files/host-commands.js';
import { HOST_COMMANDS, type HostCommand } from '../host/host.js';
import { serializeFragment } from '../state/clipboard.js';
import { copyFragment } from '../state/commands.js';
import { type Editor, createEditor } from '../state/editor.js';
import type { Training } from '../state/training.js';
import { MENU_ACTIONS, listenForMenuCommands, performMenuCommand } from './menu-commands.js';

const editors: Editor[] = [];
afterEach(() => {
  for (const e of editors.splice(0)) e.dispose();
  vi.unstubAllGlobals();
});

/** An action context whose files, view and training record what they are asked to do. */
async function recordingContext(): Promise<{ ctx: ActionContext; calls: string[] }> {
  const calls: string[] = [];
  // The export dialog listens on the window for its open request.
  const win = new EventTarget();
  win.addEventListener(OPEN_EXPORT_EVENT, () => calls.push('export'));
  vi.stubGlobal('window', win);
  const real = createEditor({ client: createInProcessEngineClient() });
  editors.push(real);
  await real.whenReady();
  real.loadTemplate('mlp');
  // Something to undo and something to redo.
  real.moveNodes({ x: { x: 1, y: 1 } });
  real.undo();
  // Something to group.
  real.select(['fc1', 'relu1']);
  const recorded: Record<string, string> = {
    group: 'group',
    ungroupSelection: 'ungroup',
    toggleShortcutsHelp: 'shortcuts',
    moveNodes: 'layout',
  };
  const editor = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'undo' || prop === 'redo') return () => calls.push(prop) > 0;
      if (typeof prop === 'string' && prop in recorded)
        return (...args: unknown[]) => {
          calls.push(recorded[prop]!);
          return (target[prop as keyof Editor] as (...a: unknown[]) => unknown).apply(target, args);
        };
      if (prop === 'notify') return (text: string) => calls.push(`notify:${text.slice(0, 6)}`);
      const value: unknown = Reflect.get(target, prop, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const files = {
    newDocument: () => void calls.push('new'),
    open: () => Promise.resolve(void calls.push('open')),
    save: (as?: boolean) => Promise.resolve(void calls.push(as ? 'saveAs' : 'save')),
  } as unknown as Files;
  const training = {
    store: { getState: () => ({ progress: null }) },
    start: () => Promise.resolve(void calls.push('train:start')),
    resume: () => Promise.resolve(void calls.push('train:resume')),
    stop: () => Promise.resolve(void calls.push('train:stop')),
  } as unknown as Training;
  const ctx: ActionContext = {
    editor,
    files,
    training,
    fitView: () => void calls.push('fitView'),
    zoom: (direction) => void calls.push(`zoom:${direction}`),
  };
  return { ctx, calls };
}

describe('menu commands', () => {
  it('each run a registered action', () => {
    expect(Object.keys(MENU_ACTIONS).sort()).toEqual([...HOST_COMMANDS].sort());
    for (const command of HOST_COMMANDS)
      expect(() => getAction(MENU_ACTIONS[command])).not.toThrow();
  });

  it('do what the shortcut of their action does', async () => {
    const expected: Record<HostCommand, string[]> = {
      new: ['new'],
      open: ['open'],
      save: ['save'],
      saveAs: ['saveAs'],
      export: ['export'],
      undo: ['undo'],
      redo: ['redo'],
      zoomIn: ['zoom:in'],
      zoomOut: ['zoom:out'],
      fitView: ['fitView'],
      run: ['train:start'],
      stop: ['train:stop'],
      group: ['group'],
      ungroup: ['ungroup'],
      // The layout is computed asynchronously, then moves the nodes in one step and fits them.
      autoLayout: ['layout', 'fitView'],
      shortcuts: ['shortcuts'],
    };
    for (const command of HOST_COMMANDS) {
      const { ctx, calls } = await recordingContext();
      expect(performMenuCommand(command, ctx)).toBe(true);
      await vi.waitFor(() => expect(calls, command).toEqual(expected[command]));
    }
  });

  it('from the desktop menu reach the action the same way, directly or by event', async () => {
    for (const command of HOST_COMMANDS) {
      const viaMenu = await recordingContext();
      const events = new EventTarget();
      const stop = listenForMenuCommands(viaMenu.ctx, events, new EventTarget());
      performHostCommand(command, { editor: viaMenu.ctx.editor, files: viaMenu.ctx.files, events });
      stop();
      const viaKey = await recordingContext();
      getAction(MENU_ACTIONS[command]).perform(viaKey.ctx);
      // Auto layout finishes asynchronously: wait for both to fit the view.
      if (command === 'autoLayout')
        for (const calls of [viaMenu.calls, viaKey.calls])
          await vi.waitFor(() => expect(calls).toContain('fitView'));
      expect(viaMenu.calls, command).toEqual(viaKey.calls);
    }
  });

  it("paste nodes from the Edit menu's paste event, and say so when the clipboard has none", async () => {
    const { ctx, calls } = await recordingContext();
    const doc = new EventTarget();
    const stop = listenForMenuCommands(ctx, new EventTarget(), doc);
    const paste = (text: string): void => {
      const event = new Event('paste');
      Object.defineProperty(event, 'clipboardData', { value: { getData: () => text } });
      doc.dispatchEvent(event);
    };
    const before = ctx.editor.doc.graph.nodes.length;
    paste(serializeFragment(copyFragment(ctx.editor.doc, ['fc1', 'relu1'])));
    expect(ctx.editor.doc.graph.nodes.length).toBe(before + 4);
    expect(ctx.editor.selection.getState().nodes).toEqual(['fc1_1', 'relu1_1']);
    paste('hello');
    expect(ctx.editor.doc.graph.nodes.length).toBe(before + 4);
    // The message (recorded by the context's notify) starts "The clipboard does not hold …".
    expect(calls).toEqual(['notify:The cl']);
    stop();
  });
});

/** A keydown as the browser sends it (the test environment has no KeyboardEvent). */
function keydown(key: string, mods: { ctrl?: boolean; shift?: boolean } = {}): Event {
  return Object.assign(new Event('keydown', { cancelable: true }), {
    key,
    code: /^[a-z]$/i.test(key) ? `Key${key.toUpperCase()}` : key,
    ctrlKey: mods.ctrl ?? false,
    metaKey: false,
    shiftKey: mods.shift ?? false,
    altKey: false,
  });
}

/**
 * A window where the page's own key handler runs (as App.tsx installs it) and the menu's
 * commands and clipboard events arrive, with what each did recorded.
 */
async function desktopWindow(options: { pageKeys?: boolean } = {}): Promise<{
  ctx: ActionContext;
  calls: string[];
  press: (event: Event) => void;
  release: () => void;
  menu: (command: HostCommand) => void;
  clipboard: (type: 'copy' | 'cut' | 'paste', text?: string) => void;
  stop: () => void;
}> {
  const { ctx, calls } = await recordingContext();
  const win = new EventTarget();
  const doc = new EventTarget();
  if (options.pageKeys ?? true)
    win.addEventListener('keydown', (e) => void handleShortcut(e as KeyboardEvent, ctx, false));
  const stop = listenForMenuCommands(ctx, win, doc);
  return {
    ctx,
    calls,
    press: (event) => void win.dispatchEvent(event),
    release: () => void win.dispatchEvent(new Event('keyup')),
    menu: (command) =>
      performHostCommand(command, { editor: ctx.editor, files: ctx.files, events: win }),
    clipboard: (type, text = '') => {
      const event = new Event(type, { cancelable: true });
      const data = { getData: () => text, setData: () => undefined };
      Object.defineProperty(event, 'clipboardData', { value: data });
      doc.dispatchEvent(event);
    },
    stop,
  };
}

describe('one key press, one action', () => {
  it('drops a menu command that arrives while its own key is held: the keydown ran it', async () => {
    const w = await desktopWindow();
    const key = keydown('g', { ctrl: true });
    w.press(key);
    expect(key.defaultPrevented).toBe(true);
    expect(w.calls).toEqual(['group']);
    // The menu's accelerator for the same key press.
    w.menu('group');
    expect(w.calls).toEqual(['group']);
    w.release();
    // A click on the menu item, no key held: it runs.
    w.menu('group');
    expect(w.calls).toEqual(['group', 'group']);
    w.stop();
  });

  it('drops the echo of a key the page declined, and runs commands under other keys', async () => {
    const w = await desktopWindow();
    w.ctx.editor.select([]);
    // Ungroup with nothing selected: the page declines it; the menu must not run it instead.
    w.press(keydown('G', { ctrl: true, shift: true }));
    w.menu('ungroup');
    expect(w.calls).toEqual([]);
    w.release();
    // Enter (the menu's own keyboard navigation) is not the key of Keyboard Shortcuts.
    w.press(keydown('Enter'));
    w.menu('shortcuts');
    expect(w.calls).toEqual(['shortcuts']);
    // Only one echo per key press: a second command with the key still held runs.
    w.press(keydown('F1'));
    expect(w.calls).toEqual(['shortcuts', 'shortcuts']);
    w.menu('shortcuts');
    w.menu('shortcuts');
    expect(w.calls).toEqual(['shortcuts', 'shortcuts', 'shortcuts']);
    w.stop();
  });

  it('pastes once when the Paste role fires after the page handled Ctrl+V', async () => {
    const w = await desktopWindow();
    const editor = w.ctx.editor;
    const copied = serializeFragment(copyFragment(editor.doc, ['fc1', 'relu1']));
    editor.copy();
    const before = editor.doc.graph.nodes.length;
    const key = keydown('v', { ctrl: true });
    w.press(key);
    expect(key.defaultPrevented).toBe(true);
    await vi.waitFor(() => expect(editor.doc.graph.nodes.length).toBe(before + 4));
    // The role's paste event for the same key press: dropped.
    w.clipboard('paste', copied);
    expect(editor.doc.graph.nodes.length).toBe(before + 4);
    w.release();
    // Edit → Paste clicked: pastes.
    w.clipboard('paste', copied);
    expect(editor.doc.graph.nodes.length).toBe(before + 8);
    w.stop();
    // A Ctrl+V whose keydown the page did not handle (no key handler here): the role's paste
    // event is the only paste, and it pastes.
    const w2 = await desktopWindow({ pageKeys: false });
    const start = w2.ctx.editor.doc.graph.nodes.length;
    const unhandled = keydown('v', { ctrl: true });
    w2.press(unhandled);
    expect(unhandled.defaultPrevented).toBe(false);
    w2.clipboard('paste', copied);
    expect(w2.ctx.editor.doc.graph.nodes.length).toBe(start + 4);
    w2.stop();
  });
});

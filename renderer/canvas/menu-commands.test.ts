import { afterEach, describe, expect, it, vi } from 'vitest';
import { createInProcessEngineClient } from '../../engine/worker/in-process.js';
import { type ActionContext, getAction } from '../app/actions.js';
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
  const editor = new Proxy(real, {
    get(target, prop, receiver) {
      if (prop === 'undo' || prop === 'redo') return () => calls.push(prop) > 0;
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
    };
    for (const command of HOST_COMMANDS) {
      const { ctx, calls } = await recordingContext();
      expect(performMenuCommand(command, ctx)).toBe(true);
      expect(calls, command).toEqual(expected[command]);
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

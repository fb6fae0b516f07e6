import { afterEach, describe, expect, it } from 'vitest';
import { createInProcessEngineClient } from '../../engine/worker/in-process.js';
import { FRAGMENT_FORMAT } from '../state/clipboard.js';
import { type Editor, createEditor } from '../state/editor.js';
import { CanvasClipboard, type TextClipboard } from './system-clipboard.js';

const editors: Editor[] = [];
afterEach(() => {
  for (const e of editors.splice(0)) e.dispose();
});

async function mlpEditor(): Promise<Editor> {
  const editor = createEditor({ client: createInProcessEngineClient() });
  editors.push(editor);
  await editor.whenReady();
  editor.loadTemplate('mlp');
  return editor;
}

/** A system clipboard shared by windows, optionally refusing access. */
function systemClipboard(refuse = false): TextClipboard & { text: string } {
  const board = {
    text: '',
    writeText(text: string) {
      if (refuse) return Promise.reject(new DOMException('denied', 'NotAllowedError'));
      board.text = text;
      return Promise.resolve();
    },
    readText() {
      return refuse
        ? Promise.reject(new DOMException('denied', 'NotAllowedError'))
        : Promise.resolve(board.text);
    },
  };
  return board;
}

const ids = (editor: Editor): string[] => editor.doc.graph.nodes.map((n) => n.id);

describe('copy and paste through the system clipboard', () => {
  it('moves nodes from one window to another as a fragment', async () => {
    const board = systemClipboard();
    const a = await mlpEditor();
    const b = await mlpEditor();
    a.select(['fc2', 'relu2']);
    expect(await new CanvasClipboard(a, board).copy()).toBe(true);
    expect(JSON.parse(board.text)).toMatchObject({ format: FRAGMENT_FORMAT });
    expect(await new CanvasClipboard(b, board).paste()).toBe(true);
    expect(ids(b)).toContain('fc2_1');
    expect(b.doc.graph.nodes.find((n) => n.id === 'relu2_1')!.inputs).toEqual(['fc2_1']);
    expect(b.selection.getState().nodes).toEqual(['fc2_1', 'relu2_1']);
  });

  it("falls back to the window's own copy when the clipboard is refused", async () => {
    const editor = await mlpEditor();
    const clipboard = new CanvasClipboard(editor, systemClipboard(true));
    editor.select(['relu1']);
    expect(await clipboard.copy()).toBe(true);
    expect(await clipboard.paste()).toBe(true);
    expect(ids(editor)).toContain('relu1_1');
  });

  it('says so, without throwing, when the clipboard holds something else', async () => {
    const editor = await mlpEditor();
    const board = systemClipboard();
    board.text = 'some text from another program';
    const before = editor.doc;
    expect(await new CanvasClipboard(editor, board).paste()).toBe(false);
    expect(editor.doc).toBe(before);
    expect(editor.ui.getState().notice?.text).toMatch(/does not hold Wiregrad nodes/);
    board.text = `{"format":"${FRAGMENT_FORMAT}","version":1,"nodes":[{"id":"x"}]}`;
    expect(await new CanvasClipboard(editor, board).paste()).toBe(false);
    expect(editor.ui.getState().notice?.text).toMatch(/damaged/);
  });

  it('says there is nothing to paste when neither clipboard has nodes', async () => {
    const editor = await mlpEditor();
    expect(await new CanvasClipboard(editor, systemClipboard(true)).paste()).toBe(false);
    expect(editor.ui.getState().notice?.text).toMatch(/Nothing to paste/);
  });

  it('cuts: copies, then deletes the selection as one undoable edit', async () => {
    const editor = await mlpEditor();
    const board = systemClipboard();
    editor.select(['relu1']);
    expect(await new CanvasClipboard(editor, board).cut()).toBe(true);
    expect(ids(editor)).not.toContain('relu1');
    expect(await new CanvasClipboard(editor, board).paste()).toBe(true);
    expect(ids(editor)).toContain('relu1_1');
    editor.undo();
    editor.undo();
    expect(ids(editor)).toContain('relu1');
  });

  it('copies a collapsed group and pastes it as a group, in another window too', async () => {
    const board = systemClipboard();
    const a = await mlpEditor();
    a.select(['fc2', 'relu2']);
    a.group();
    a.select(['group_1']);
    await new CanvasClipboard(a, board).copy();
    const b = await mlpEditor();
    expect(await new CanvasClipboard(b, board).paste()).toBe(true);
    expect(ids(b)).toEqual(expect.arrayContaining(['fc2_1', 'relu2_1']));
    const card = b.view.byId.get('group_1')!;
    expect(card.kind).toBe('group');
    expect(card.group).toMatchObject({ name: 'Group 1', memberCount: 2 });
    expect(b.selection.getState().nodes).toEqual(['group_1']);
    expect(b.doc.layout.group_1).toEqual({
      x: a.doc.layout.group_1!.x + 40,
      y: a.doc.layout.group_1!.y + 40,
    });
    // One undo removes the nodes and the group.
    b.undo();
    expect(b.view.byId.has('group_1')).toBe(false);
    expect(ids(b)).not.toContain('fc2_1');
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { createInProcessEngineClient } from '../../engine/worker/in-process.js';
import { fixesFor, problemsByViewNode } from './diagnostics.js';
import type { EditorDocument } from './document.js';
import { type Editor, createEditor } from './editor.js';
import { readLayer } from './layers.js';

const editors: Editor[] = [];

async function makeEditor(): Promise<Editor> {
  const editor = createEditor({ client: createInProcessEngineClient() });
  editors.push(editor);
  await editor.whenReady();
  return editor;
}

afterEach(() => {
  for (const editor of editors.splice(0)) editor.dispose();
});

/** A deep copy, so later edits cannot change a snapshot (they never should). */
const snapshot = (doc: EditorDocument): EditorDocument => structuredClone(doc);

describe('Editor undo and redo', () => {
  it('restores every state exactly over a sequence of ten edits, both ways', async () => {
    const editor = await makeEditor();
    const states = [snapshot(editor.doc)];
    const refs = [editor.doc];
    const edits: (() => unknown)[] = [
      () => editor.addItem('input', { x: 0, y: 0 }),
      () => editor.addItem('linear', { x: 300, y: 0 }),
      () => editor.connect('input_1', 'linear_1', 0),
      () => editor.addItem('relu', { x: 600, y: 0 }),
      () => editor.connect('linear_1', 'relu_1', 0),
      () => editor.moveNodes({ relu_1: { x: 620, y: 40 } }),
      () => editor.run('setAttr', { node: 'input_1', name: 'shape', value: [-1, 5] }),
      () => {
        editor.select(['relu_1']);
        editor.copy();
        return editor.paste();
      },
      () => editor.disconnect(['linear_1->relu_1:0']),
      () => {
        editor.select(['linear_1']);
        return editor.deleteSelection();
      },
    ];
    for (const edit of edits) {
      expect(edit()).toBeTruthy();
      await editor.whenAnalysed(); // let shape-driven adaptation see the latest shapes
      states.push(snapshot(editor.doc));
      refs.push(editor.doc);
    }
    expect(editor.document.getState().past).toHaveLength(10);
    expect(new Set(states.map((s) => JSON.stringify(s))).size).toBe(11);

    for (let i = 9; i >= 0; i--) {
      expect(editor.undo()).toBe(true);
      expect(editor.doc).toEqual(states[i]);
      expect(editor.doc).toBe(refs[i]);
    }
    expect(editor.undo()).toBe(false);
    for (let i = 1; i <= 10; i++) {
      expect(editor.redo()).toBe(true);
      expect(editor.doc).toEqual(states[i]);
    }
    expect(editor.redo()).toBe(false);
  });

  it('drops the redo stack on a new edit, and ignores edits that change nothing', async () => {
    const editor = await makeEditor();
    editor.addItem('input', { x: 0, y: 0 });
    editor.addItem('relu', { x: 0, y: 0 });
    editor.undo();
    expect(editor.canRedo).toBe(true);
    expect(editor.moveNodes({ input_1: { x: 0, y: 0 } })).toBe(false);
    expect(editor.canRedo).toBe(true);
    editor.addItem('tanh', { x: 0, y: 0 });
    expect(editor.canRedo).toBe(false);
    expect(editor.document.getState().past.map((e) => e.label)).toEqual(['Add Input', 'Add Tanh']);
  });

  it('forgets selected nodes that an undo removes', async () => {
    const editor = await makeEditor();
    const id = editor.addItem('relu', { x: 0, y: 0 });
    expect(editor.selection.getState().nodes).toEqual([id]);
    editor.undo();
    expect(editor.selection.getState().nodes).toEqual([]);
  });
});

describe('Editor with the engine', () => {
  it('shows the shape on every edge of an MLP built by hand, with N for the batch', async () => {
    const editor = await makeEditor();
    editor.addItem('input', { x: 0, y: 0 });
    editor.addItem('linear', { x: 300, y: 0 });
    editor.addItem('relu', { x: 600, y: 0 });
    editor.addItem('linear', { x: 900, y: 0 });
    await editor.whenAnalysed();
    expect(editor.connect('input_1', 'linear_1', 0)).toBe(true);
    await editor.whenAnalysed();
    expect(editor.connect('linear_1', 'relu_1', 0)).toBe(true);
    await editor.whenAnalysed();
    expect(editor.connect('relu_1', 'linear_2', 0)).toBe(true);
    const check = await editor.whenAnalysed();
    expect(check.diagnostics).toEqual([]);
    const shapes = editor.view.edges.map((e) => [e.id, check.shapes[e.sourceNode]?.shape]);
    expect(shapes).toEqual([
      ['input_1->linear_1:0', ['N', 2]],
      ['linear_1->relu_1:0', ['N', 64]],
      ['relu_1->linear_2:0', ['N', 64]],
    ]);
    expect(readLayer(editor.doc, 'linear_1')!.config).toMatchObject({ inFeatures: 2 });
  });

  it('reports an image fed to a Linear on that node, and the suggested Flatten fixes it', async () => {
    const editor = await makeEditor();
    editor.addItem('input', { x: 0, y: 0 });
    editor.addItem('linear', { x: 300, y: 0 });
    editor.run('setAttr', { node: 'input_1', name: 'shape', value: [-1, 1, 28, 28] });
    await editor.whenAnalysed();
    editor.connect('input_1', 'linear_1', 0);
    const check = await editor.whenAnalysed();
    const problems = problemsByViewNode(check, editor.view);
    expect(problems.get('linear_1')?.[0]?.message).toMatch(/inner dimensions differ/);
    const fixes = fixesFor(editor.view.byId.get('linear_1')!, editor.doc, check);
    expect(fixes.map((f) => f.label)).toEqual(['Insert Flatten']);
    expect(editor.applyFix(fixes[0]!)).toBe(true);
    // The Flatten takes the Linear's place and the Linear moves down to make room.
    expect(editor.doc.layout.flatten_1).toEqual({ x: 300, y: 0 });
    expect(editor.doc.layout.linear_1).toEqual({ x: 300, y: 140 });
    const fixed = await editor.whenAnalysed();
    expect(fixed.diagnostics).toEqual([]);
    expect(fixed.shapes.flatten_1?.shape).toEqual(['N', 784]);
    expect(fixed.shapes.linear_1?.shape).toEqual(['N', 64]);
    // One undo takes the whole fix back.
    editor.undo();
    expect((await editor.whenAnalysed()).diagnostics).toHaveLength(1);
  });

  it('names an unconnected port in its diagnostic', async () => {
    const editor = await makeEditor();
    editor.addItem('add', { x: 0, y: 0 });
    const check = await editor.whenAnalysed();
    expect(problemsByViewNode(check, editor.view).get('add_1')).toEqual([
      { message: "op 'add': input 'a' is not connected", severity: 'incomplete', port: 0 },
      { message: "op 'add': input 'b' is not connected", severity: 'incomplete', port: 1 },
    ]);
  });

  it('loads a template undoably, with no diagnostics', async () => {
    const editor = await makeEditor();
    expect(editor.loadTemplate('cnn')).toBe(true);
    const check = await editor.whenAnalysed();
    expect(check.diagnostics).toEqual([]);
    expect(check.shapes.flatten?.shape).toEqual(['N', 256]);
    editor.undo();
    expect(editor.doc.graph.nodes).toEqual([]);
  });

  it('answers only the latest of rapid edits', async () => {
    const editor = await makeEditor();
    for (let i = 0; i < 20; i++) editor.addItem('relu', { x: i, y: 0 });
    const check = await editor.whenAnalysed();
    expect(editor.analysis.getState().revision).toBe(editor.document.getState().revision);
    expect(check.diagnostics).toHaveLength(20);
  });
});

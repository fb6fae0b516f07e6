import { describe, expect, it } from 'vitest';
import { describeOps } from '../../engine/worker/op-catalog.js';
import {
  type CommandContext,
  type CommandName,
  type CommandArgs,
  COMMANDS,
  addNode,
  connect,
  copyFragment,
  disconnect,
  insertFlatten,
  paste,
  removeNodes,
  setAttr,
} from './commands.js';
import {
  type EditorDocument,
  type NodeJSON,
  documentFromFile,
  documentToFile,
  emptyDocument,
  parseDocument,
  serializeDocument,
} from './document.js';
import { createInProcessEngineClient } from '../../engine/worker/in-process.js';
import { createEditor } from './editor.js';
import { readLayer } from './layers.js';

const ctx: CommandContext = { ops: new Map(describeOps().map((o) => [o.name, o])) };

function must<T>(value: T | null | undefined): T {
  if (value === null || value === undefined) throw new Error('expected a result');
  return value;
}

/** Input x [N, 2] at (0, 0), a Linear at (300, 0) and a ReLU at (600, 0), unconnected. */
function base(): EditorDocument {
  let doc = emptyDocument('test');
  doc = must(addNode(doc, { item: 'input', position: { x: 0, y: 0 } }, ctx)).doc;
  doc = must(addNode(doc, { item: 'linear', position: { x: 300, y: 0 } }, ctx)).doc;
  doc = must(addNode(doc, { item: 'relu', position: { x: 600, y: 0 } }, ctx)).doc;
  return doc;
}

const node = (doc: EditorDocument, id: string): NodeJSON =>
  doc.graph.nodes.find((n) => n.id === id)!;

describe('commands', () => {
  it('addNode inserts a Linear layer as a group with PyTorch-initialised weight and bias', () => {
    const doc = base();
    expect(doc.graph.nodes.map((n) => [n.id, n.op, n.group])).toEqual([
      ['input_1', 'input', undefined],
      ['linear_1.weight', 'parameter', 'linear_1'],
      ['linear_1.bias', 'parameter', 'linear_1'],
      ['linear_1', 'linear', 'linear_1'],
      ['relu_1', 'relu', undefined],
    ]);
    expect(node(doc, 'linear_1.weight').attrs).toEqual({
      shape: [64, 64],
      dtype: 'f32',
      seed: 1,
      init: 'kaimingUniform',
      fanIn: 64,
    });
    expect(node(doc, 'linear_1.bias').attrs.seed).toBe(2);
    expect(node(doc, 'linear_1').inputs).toEqual(['', 'linear_1.weight', 'linear_1.bias']);
    expect(doc.layout).toEqual({
      input_1: { x: 0, y: 0 },
      linear_1: { x: 300, y: 0 },
      relu_1: { x: 600, y: 0 },
    });
  });

  it('connect adapts a Linear to the features of a [N, F] input, in the same edit', () => {
    const doc = must(
      connect(base(), { source: 'input_1', target: 'linear_1', index: 0, sourceShape: ['N', 2] }),
    ).doc;
    expect(node(doc, 'linear_1').inputs[0]).toBe('input_1');
    expect(readLayer(doc, 'linear_1')!.config).toEqual({
      kind: 'linear',
      inFeatures: 2,
      outFeatures: 64,
    });
    expect(node(doc, 'linear_1.weight').attrs).toMatchObject({ shape: [64, 2], fanIn: 2, seed: 1 });
  });

  it('connect leaves a Linear alone for an image input (the error then suggests Flatten)', () => {
    const doc = must(
      connect(base(), {
        source: 'input_1',
        target: 'linear_1',
        index: 0,
        sourceShape: ['N', 1, 28, 28],
      }),
    ).doc;
    expect(readLayer(doc, 'linear_1')!.config).toMatchObject({ inFeatures: 64 });
  });

  it('connect refuses self-loops and cycles', () => {
    let doc = must(connect(base(), { source: 'linear_1', target: 'relu_1', index: 0 })).doc;
    expect(connect(doc, { source: 'relu_1', target: 'linear_1', index: 0 })).toBeNull();
    expect(connect(doc, { source: 'relu_1', target: 'relu_1', index: 0 })).toBeNull();
    doc = must(connect(doc, { source: 'input_1', target: 'linear_1', index: 0 })).doc;
    expect(connect(doc, { source: 'input_1', target: 'linear_1', index: 0 })).toBeNull();
  });

  it('removeNodes removes a whole layer and empties the inputs it fed', () => {
    let doc = must(connect(base(), { source: 'linear_1', target: 'relu_1', index: 0 })).doc;
    doc = must(removeNodes(doc, { ids: ['linear_1'] }, ctx)).doc;
    expect(doc.graph.nodes.map((n) => n.id)).toEqual(['input_1', 'relu_1']);
    expect(node(doc, 'relu_1').inputs).toEqual(['']);
    expect(doc.layout.linear_1).toBeUndefined();
  });

  it('concat keeps a gap-free list of inputs when one is removed or disconnected', () => {
    let doc = must(addNode(base(), { item: 'concat', position: { x: 0, y: 200 } }, ctx)).doc;
    for (const [i, source] of ['input_1', 'relu_1', 'linear_1'].entries())
      doc = must(connect(doc, { source, target: 'concat_1', index: i })).doc;
    expect(node(doc, 'concat_1').inputs).toEqual(['input_1', 'relu_1', 'linear_1']);
    doc = must(disconnect(doc, { ports: [{ target: 'concat_1', index: 1 }] }, ctx)).doc;
    expect(node(doc, 'concat_1').inputs).toEqual(['input_1', 'linear_1']);
    doc = must(removeNodes(doc, { ids: ['input_1'] }, ctx)).doc;
    expect(node(doc, 'concat_1').inputs).toEqual(['linear_1']);
  });

  it('setAttr sets and removes an attribute, and is a no-op for the same value', () => {
    let doc = must(setAttr(base(), { node: 'input_1', name: 'shape', value: [-1, 1, 28, 28] })).doc;
    expect(node(doc, 'input_1').attrs.shape).toEqual([-1, 1, 28, 28]);
    expect(setAttr(doc, { node: 'input_1', name: 'shape', value: [-1, 1, 28, 28] })).toBeNull();
    doc = must(addNode(doc, { item: 'leakyRelu', position: { x: 0, y: 0 } }, ctx)).doc;
    doc = must(setAttr(doc, { node: 'leakyrelu_1', name: 'alpha', value: undefined })).doc;
    expect(node(doc, 'leakyrelu_1').attrs).toEqual({});
  });

  it('paste gives fresh ids, keeps inner edges, drops outer ones and draws new seeds', () => {
    const doc = must(connect(base(), { source: 'linear_1', target: 'relu_1', index: 0 })).doc;
    const wired = must(connect(doc, { source: 'input_1', target: 'linear_1', index: 0 })).doc;
    const fragment = copyFragment(wired, ['linear_1', 'relu_1']);
    const result = must(paste(wired, { fragment, offset: { x: 10, y: 20 } }));
    const pasted = result.doc.graph.nodes.slice(wired.graph.nodes.length);
    expect(pasted.map((n) => [n.id, n.inputs, n.group])).toEqual([
      ['linear_2.weight', [], 'linear_2'],
      ['linear_2.bias', [], 'linear_2'],
      ['linear_2', ['', 'linear_2.weight', 'linear_2.bias'], 'linear_2'],
      ['relu_2', ['linear_2'], undefined],
    ]);
    expect(pasted.map((n) => n.attrs.seed).filter((s) => s !== undefined)).toEqual([3, 4]);
    expect(result.select).toEqual(['linear_2', 'relu_2']);
    expect(result.doc.layout.linear_2).toEqual({ x: 310, y: 20 });
  });

  it('insertFlatten reshapes an image to [-1, 784] and adapts the Linear after it', () => {
    const doc = must(connect(base(), { source: 'input_1', target: 'linear_1', index: 0 })).doc;
    const fixed = must(
      insertFlatten(doc, {
        target: 'linear_1',
        index: 0,
        sourceShape: ['N', 1, 28, 28],
        position: { x: 150, y: 60 },
      }),
    ).doc;
    expect(node(fixed, 'flatten_1')).toEqual({
      id: 'flatten_1',
      op: 'reshape',
      inputs: ['input_1'],
      attrs: { shape: [-1, 784] },
      name: 'Flatten',
    });
    expect(node(fixed, 'linear_1').inputs[0]).toBe('flatten_1');
    expect(readLayer(fixed, 'linear_1')!.config).toMatchObject({ inFeatures: 784 });
  });
});

/** One run of each command, from `base()`. */
const ONE_OF_EACH: { [N in CommandName]: CommandArgs<N> } = {
  addNode: { item: 'conv2d', position: { x: 5, y: 5 } },
  removeNodes: { ids: ['linear_1', 'relu_1'] },
  connect: { source: 'input_1', target: 'linear_1', index: 0, sourceShape: ['N', 2] },
  disconnect: { ports: [{ target: 'relu_1', index: 0 }] },
  setAttr: { node: 'input_1', name: 'shape', value: [-1, 3] },
  setLayerConfig: { group: 'linear_1', config: { kind: 'linear', inFeatures: 8, outFeatures: 4 } },
  moveNodes: { positions: { relu_1: { x: 1, y: 2 } } },
  paste: { fragment: { nodes: [], layout: {} }, offset: { x: 0, y: 0 } },
  insertFlatten: {
    target: 'relu_1',
    index: 0,
    sourceShape: ['N', 64],
    position: { x: 0, y: 0 },
  },
  replaceDocument: { doc: emptyDocument('other'), label: 'New' },
  setDevice: { nodes: ['relu_1'], device: 'webgpu', label: 'relu_1' },
  groupNodes: { ids: ['linear_1', 'relu_1'] },
  ungroup: { ids: ['group_9'] },
  setGroupCollapsed: { id: 'group_9', collapsed: true },
  renameGroup: { id: 'group_9', name: 'Inputs' },
};

/** `doc` with an open group around the input (for the group commands). */
function withOpenGroup(doc: EditorDocument): EditorDocument {
  const groups = { group_9: { name: 'Group 9', members: ['input_1'], collapsed: false } };
  return { ...doc, graph: { ...doc.graph, meta: { groups } } };
}

describe('every command', () => {
  const start = withOpenGroup(
    must(connect(base(), { source: 'linear_1', target: 'relu_1', index: 0 })).doc,
  );
  ONE_OF_EACH.paste = { fragment: copyFragment(start, ['relu_1']), offset: { x: 9, y: 9 } };

  it.each(Object.keys(COMMANDS) as CommandName[])(
    '%s changes the document without mutating it, and its result survives save and load',
    (name) => {
      const before = structuredClone(start);
      const run = COMMANDS[name] as (
        doc: EditorDocument,
        args: unknown,
        ctx: CommandContext,
      ) => { doc: EditorDocument; label: string } | null;
      const result = must(run(start, ONE_OF_EACH[name], ctx));
      expect(start).toEqual(before); // the input document is untouched
      expect(result.doc).not.toEqual(start);
      expect(result.label).not.toBe('');
      expect(documentFromFile(JSON.parse(JSON.stringify(documentToFile(result.doc))))).toEqual(
        result.doc,
      );
      expect(parseDocument(serializeDocument(result.doc))).toEqual(result.doc);
    },
  );
});

describe('every command through the editor', () => {
  const start = withOpenGroup(
    must(connect(base(), { source: 'linear_1', target: 'relu_1', index: 0 })).doc,
  );

  it.each(Object.keys(COMMANDS) as CommandName[])(
    '%s is undone to the exact document before it and redone to the one after',
    async (name) => {
      const editor = createEditor({ client: createInProcessEngineClient(), document: start });
      await editor.whenReady();
      const args =
        name === 'paste'
          ? { fragment: copyFragment(start, ['relu_1']), offset: { x: 9, y: 9 } }
          : ONE_OF_EACH[name];
      const result = must(editor.run(name, args as never));
      const after = editor.doc;
      expect(after).toBe(result.doc);
      expect(editor.undo()).toBe(true);
      expect(editor.doc).toBe(start);
      expect(editor.redo()).toBe(true);
      expect(editor.doc).toBe(after);
      expect(editor.document.getState().past.map((e) => e.label)).toEqual([result.label]);
      editor.dispose();
    },
  );
});

describe('documents on disk', () => {
  it('keep the layout in meta.layout and other meta beside it', () => {
    const doc: EditorDocument = {
      graph: { ...base().graph, meta: { training: { epochs: 3 } } },
      layout: { input_1: { x: 1, y: 2 } },
    };
    const file = documentToFile(doc);
    expect(file.meta).toEqual({ training: { epochs: 3 }, layout: { input_1: { x: 1, y: 2 } } });
    expect(documentFromFile(file)).toEqual(doc);
  });

  it('refuse files that are not graph documents, saying why', () => {
    expect(() => parseDocument('{')).toThrow(/not JSON/);
    expect(() => parseDocument('{"format":"other"}')).toThrow(/not a Wiregrad graph/);
    expect(() => parseDocument('{"format":"wiregrad.graph","version":9,"nodes":[]}')).toThrow(
      /version 9/,
    );
  });
});

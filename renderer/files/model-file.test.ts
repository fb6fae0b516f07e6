import { describe, expect, it } from 'vitest';
import { createInProcessEngineClient } from '../../engine/worker/in-process.js';
import { describeOps } from '../../engine/worker/op-catalog.js';
import { createEditor } from '../state/editor.js';
import { type EditorDocument, emptyDocument, serializeDocument } from '../state/document.js';
import {
  modelFileName,
  notModelText,
  notebookNameFor,
  parseModel,
  placeholderNotice,
  serializeModel,
} from './model-file.js';

const doc: EditorDocument = {
  graph: {
    ...emptyDocument('My Net').graph,
    nodes: [
      { id: 'x', op: 'input', inputs: [], attrs: { shape: [-1, 2], dtype: 'f32', role: 'data' } },
      { id: 'r', op: 'relu', inputs: ['x'], attrs: {} },
    ],
    outputs: [{ name: 'y', node: 'r' }],
  },
  layout: { x: { x: 10, y: 20 }, r: { x: 200, y: 20 } },
};

const known = new Set(describeOps().map((op) => op.name));

describe('model files', () => {
  it('save as a Jupyter notebook and open back to the same document, layout included', () => {
    const text = serializeModel(doc);
    const json = JSON.parse(text) as { nbformat: number };
    expect(json.nbformat).toBe(4);
    expect(parseModel(text, (op) => known.has(op))).toEqual({ doc, placeholders: [] });
  });

  it('open the .json graph documents of earlier builds', () => {
    expect(parseModel(serializeDocument(doc)).doc).toEqual(doc);
  });

  it('open unknown ops as placeholders and say so', () => {
    const future = { ...doc, graph: { ...doc.graph, nodes: [...doc.graph.nodes] } };
    future.graph.nodes.push({ id: 'q', op: 'quantumGate', inputs: ['r'], attrs: {} });
    const opened = parseModel(serializeModel(future), (op) => known.has(op));
    expect(opened.placeholders).toEqual(['q']);
    expect(opened.doc.graph.nodes.find((n) => n.id === 'q')?.op).toBe('placeholder');
    expect(placeholderNotice(opened.placeholders)).toBe(
      "node 'q' uses an op this Wiregrad does not know: replace it",
    );
    expect(placeholderNotice([])).toBeNull();
  });

  it('show a placeholder on the canvas with an error saying to replace it', async () => {
    const future = { ...doc, graph: { ...doc.graph, nodes: [...doc.graph.nodes] } };
    future.graph.nodes.push({ id: 'q', op: 'quantumGate', inputs: ['r'], attrs: { qubits: 2 } });
    const editor = createEditor({ client: createInProcessEngineClient() });
    await editor.whenReady();
    const known = editor.catalog.getState().byName;
    editor.load(parseModel(serializeModel(future), (op) => known.has(op)).doc, 'Open');
    const check = await editor.whenAnalysed();
    expect(check.diagnostics).toEqual([
      expect.objectContaining({
        node: 'q',
        severity: 'error',
        message: expect.stringMatching(/unknown op 'quantumGate': replace this node/) as unknown,
      }),
    ]);
    expect(editor.view.nodes.map((n) => n.id)).toContain('q');
    expect(check.shapes.r).toBeDefined();
  });

  it('refuse broken files with a message', () => {
    expect(() => parseModel('{"nbformat": 4, "cells": [')).toThrow(/cut short/);
    expect(() => parseModel('nonsense')).toThrow(/not JSON/);
  });

  it('are named after the model, as notebooks', () => {
    expect(modelFileName('My Net v2')).toBe('my-net-v2.ipynb');
    expect(modelFileName(undefined)).toBe('model.ipynb');
    expect(notebookNameFor('mlp.json')).toBe('mlp.ipynb');
    expect(notebookNameFor('mlp.ipynb')).toBe('mlp.ipynb');
  });
});

describe('files that are not JSON text', () => {
  const notJson = 'is not a Wiregrad notebook or model (it is not JSON text)';

  it('are told apart by their bytes, never quoted, and an ONNX file is sent to Import ONNX', () => {
    // What an ONNX protobuf looks like once read as UTF-8: control bytes and U+FFFD.
    const onnx = '\u0008\u0007\u0012\u0007pytorch\u001a\u0003\ufffd\ufffd8H_Y';
    expect(notModelText('random.onnx', onnx)).toBe(
      `random.onnx ${notJson}; to bring in an ONNX model, use File → Import ONNX…`,
    );
    expect(notModelText('photo.png', '\ufffdPNG\r\n\u001a\n\u0000\u0000')).toBe(
      `photo.png ${notJson}`,
    );
    expect(notModelText('nul.ipynb', '{"cells": [\u0000]}')).toBe(`nul.ipynb ${notJson}`);
    expect(notModelText('points.csv', 'x,y\n1,2\n')).toBe(`points.csv ${notJson}`);
    expect(notModelText('empty.ipynb', ' \n')).toBe(
      'empty.ipynb is empty: it holds no notebook or model',
    );
  });

  it('leave JSON (whole, truncated or wrong) to the file reader, which says which', () => {
    const text = serializeModel(doc);
    expect(notModelText('m.ipynb', text)).toBeNull();
    expect(notModelText('m.ipynb', `\ufeff${text}`)).toBeNull();
    expect(notModelText('list.json', '[1, 2]')).toBeNull();
    // A replacement character quoted inside valid JSON is text, not a sign of binary.
    expect(notModelText('m.ipynb', '{"cells": [], "note": "\ufffd"}')).toBeNull();
    const cut = text.slice(0, text.length / 2);
    expect(notModelText('m.ipynb', cut)).toBeNull();
    expect(() => parseModel(cut)).toThrow(/cut short/);
  });
});

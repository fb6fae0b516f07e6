import { afterEach, describe, expect, it, vi } from 'vitest';
import { createInProcessEngineClient } from '../../engine/worker/in-process.js';
import { Files } from '../app/files.js';
import type { Host, HostFile } from '../host/host.js';
import { Notebook } from '../notebook/notebook.js';
import { type Editor, createEditor } from '../state/editor.js';
import { serializeModel } from './model-file.js';

const editors: Editor[] = [];

afterEach(() => {
  for (const editor of editors.splice(0)) editor.dispose();
});

/** Files on a host that records saves, with the notebook attached; info messages last `ms`. */
async function harness(ms = 60_000) {
  const saves: { text: string; name: string; target: HostFile | undefined }[] = [];
  const host: Host = {
    kind: 'web',
    openFile: () => Promise.resolve(null),
    saveFile: (text, name, target) => {
      saves.push({ text, name, target });
      return Promise.resolve({ name, handle: `/${name}` });
    },
    loadAutosave: () => null,
    autosave: () => undefined,
  };
  const editor = createEditor({ client: createInProcessEngineClient() });
  editors.push(editor);
  await editor.whenReady();
  const files = new Files(editor, host, ms);
  const notebook = new Notebook({ startKernel: createInProcessEngineClient, autosaveMs: 0 });
  files.attachNotebook(notebook);
  const state = () => files.state.getState();
  const dirty = () => editor.document.getState().revision !== state().savedRevision;
  return { files, editor, notebook, saves, state, dirty };
}

const plainJupyter = JSON.stringify({
  nbformat: 4,
  nbformat_minor: 5,
  metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
  cells: [
    { cell_type: 'markdown', metadata: {}, source: ['# Notes'] },
    { cell_type: 'code', metadata: {}, source: ['1+1'], outputs: [], execution_count: null },
  ],
});

describe('opening files that are not Wiregrad notebooks', () => {
  it('refuses a binary file in words, quoting none of its bytes, and keeps the document', async () => {
    const h = await harness();
    expect(h.editor.loadTemplate('mlp')).toBe(true);
    const before = h.editor.doc;
    h.files.load({ name: 'random.onnx', handle: 'r', text: '\u0008\u0012\ufffd\ufffd8H_Y' });
    expect(h.state()).toMatchObject({
      message:
        'random.onnx is not a Wiregrad notebook or model (it is not JSON text); to bring in an ' +
        'ONNX model, use File → Import ONNX…',
      messageKind: 'error',
      file: null,
    });
    expect(h.editor.doc).toBe(before);
  });

  it('opens a plain Jupyter notebook as a new, unsaved Wiregrad notebook that Save never writes over', async () => {
    const h = await harness();
    h.files.load({ name: 'analysis.ipynb', handle: 'original', text: plainJupyter });
    expect(h.state().message).toBe(
      'Opened analysis.ipynb as a new Wiregrad notebook with an empty model: 1 markdown cell, ' +
        '1 Python code cell shown as text (Wiregrad runs TypeScript). Save writes it as a ' +
        'Wiregrad notebook and asks where',
    );
    expect(h.state()).toMatchObject({ messageKind: 'info', file: null });
    expect(h.dirty()).toBe(true);
    expect(h.editor.doc.graph.nodes).toEqual([]);
    expect(h.editor.doc.graph.name).toBe('analysis');
    expect(h.notebook.cells.map((c) => [c.kind, c.source])).toEqual([
      ['markdown', '# Notes'],
      ['markdown', '```python\n1+1\n```'],
      ['graph', ''],
    ]);
    await h.files.save();
    expect(h.saves).toHaveLength(1);
    expect(h.saves[0]).toMatchObject({ name: 'analysis.ipynb', target: undefined });
    const saved = JSON.parse(h.saves[0]!.text) as { metadata: Record<string, unknown> };
    expect(saved.metadata.wiregrad).toBeDefined();
    expect(h.dirty()).toBe(false);
  });
});

describe('file messages', () => {
  it('clear an info message after a while, but keep an error until dismissed or replaced', async () => {
    const h = await harness(40);
    h.files.load({ name: 'm.ipynb', handle: 'm', text: serializeModel(h.editor.doc) });
    expect(h.state()).toMatchObject({ message: 'Opened m.ipynb', messageKind: 'info' });
    await vi.waitFor(() => expect(h.state().message).toBeNull(), { timeout: 2000, interval: 5 });

    h.files.load({ name: 'cut.ipynb', handle: 'c', text: '{"nbformat": 4, "cells": [' });
    expect(h.state().messageKind).toBe('error');
    expect(h.state().message).toMatch(/^Could not open the file: the file is cut short/);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(h.state().message).toMatch(/cut short/);
    h.files.dismissMessage();
    expect(h.state().message).toBeNull();

    h.files.load({ name: 'x.png', handle: 'x', text: '\ufffdPNG\u0000' });
    expect(h.state().messageKind).toBe('error');
    // The next successful action replaces the error.
    h.files.newDocument();
    expect(h.state()).toMatchObject({ message: null, messageKind: 'info' });
    h.files.load({ name: 'y.png', handle: 'y', text: '\ufffdPNG\u0000' });
    await h.files.save();
    expect(h.state()).toMatchObject({ messageKind: 'info' });
    expect(h.state().message).toMatch(/^Saved /);
  });
});

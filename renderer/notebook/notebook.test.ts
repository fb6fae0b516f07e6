import { describe, expect, it } from 'vitest';
import { notebookText } from '../../engine/protocol/notebook.js';
import { createInProcessEngineClient } from '../../engine/worker/in-process.js';
import { readModelFile } from '../../engine/protocol/notebook.js';
import { documentToFile, emptyDocument } from '../state/document.js';
import { addCell, editSource, isStale, makeCell, moveCell, removeCell } from './cells.js';
import { type KeyValueStore, Notebook } from './notebook.js';
import { readNotebookCells, writeNotebookCells } from './notebook-file.js';

function memoryStorage(): KeyValueStore & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
  };
}

function notebook(storage: KeyValueStore | null = null): Notebook {
  return new Notebook({ startKernel: createInProcessEngineClient, storage, autosaveMs: 0 });
}

const graphText = () => notebookText(documentToFile(emptyDocument('cells test')));

describe('cell commands', () => {
  it('add, move, edit and remove cells as new lists, leaving the old one unchanged', () => {
    const graph = makeCell('graph');
    const start = [graph];
    const code = makeCell('code', 'const a = 1');
    const added = addCell(start, code, 0);
    expect(added.cells.map((c) => c.kind)).toEqual(['code', 'graph']);
    expect(start).toEqual([graph]);
    const moved = moveCell(added.cells, code.id, 1);
    expect(moved.cells.map((c) => c.kind)).toEqual(['graph', 'code']);
    expect(moved.label).toBe('Move code cell down');
    const edited = editSource(moved.cells, code.id, 'const a = 2');
    expect(edited.cells[1]!.source).toBe('const a = 2');
    expect(removeCell(edited.cells, code.id).cells).toEqual([graph]);
    expect(() => removeCell(edited.cells, graph.id)).toThrow(/graph cell holds the model/);
  });
});

describe('Notebook: undo and redo of cell edits', () => {
  it('undoes and redoes adds, moves, deletes and merged typing exactly', () => {
    const nb = notebook();
    const states = [nb.cells];
    const md = nb.add('markdown', null, '# Title');
    states.push(nb.cells);
    nb.edit(md, '# Title!');
    nb.edit(md, '# Title!!'); // typing in the same cell merges into one entry
    states.push(nb.cells);
    nb.move(md, -2);
    states.push(nb.cells);
    const code = nb.cells.find((c) => c.kind === 'code')!.id;
    nb.remove(code);
    states.push(nb.cells);
    expect(nb.state.getState().past).toHaveLength(4);
    for (let i = states.length - 2; i >= 0; i--) {
      nb.undo();
      expect(nb.cells).toEqual(states[i]);
    }
    for (let i = 1; i < states.length; i++) {
      nb.redo();
      expect(nb.cells).toEqual(states[i]);
    }
  });

  it('refuses to delete the graph cell with a message and no undo entry', () => {
    const nb = notebook();
    nb.remove(nb.cells[0]!.id);
    expect(nb.cells[0]!.kind).toBe('graph');
    expect(nb.state.getState().message).toMatch(/cannot be removed/);
    expect(nb.state.getState().past).toHaveLength(0);
  });
});

describe('Notebook: running cells', () => {
  it('runs cells in one scope, numbers runs, and marks downstream outputs stale', async () => {
    const nb = notebook();
    const first = nb.cells[1]!.id;
    nb.edit(first, 'const w = wg.ones([2, 2]);\nw');
    const second = nb.add('code', first, 'w.sum().item()');
    const out1 = await nb.run(first);
    const out2 = await nb.run(second);
    expect(out1).toMatchObject({ count: 1, value: { kind: 'tensor', shape: [2, 2] } });
    expect(out2).toMatchObject({ count: 2, value: { kind: 'text', text: '4' } });
    expect(isStale(nb.cells, second, out2!)).toBe(false);
    nb.edit(first, 'const w = wg.ones([3, 3]);\nw');
    expect(isStale(nb.cells, second, out2!)).toBe(true);
    expect(isStale(nb.cells, first, out1!)).toBe(true);
  });

  it('keeps what an interrupted cell printed and gives the interrupted run its own number', async () => {
    const nb = notebook();
    const a = nb.cells[1]!.id;
    nb.edit(a, '1 + 1');
    expect((await nb.run(a))?.count).toBe(1);
    const b = nb.add(
      'code',
      a,
      "console.log('epoch 1');\nawait new Promise((r) => setTimeout(r, 60_000));",
    );
    void nb.run(b);
    await expect.poll(() => nb.state.getState().live[b]?.length ?? 0).toBeGreaterThan(0);
    nb.interrupt();
    const out = nb.state.getState().outputs[b];
    expect(out?.error?.name).toBe('Interrupted');
    expect(out?.logs.map((l) => l.values)).toEqual([[{ kind: 'text', text: 'epoch 1' }]]);
    expect(out?.count).toBe(2);
    expect(nb.state.getState().counter).toBe(2);
    expect((await nb.run(a))?.count).toBe(3);
  });

  it('runs all cells in order and stops at the first error', async () => {
    const nb = notebook();
    const a = nb.cells[1]!.id;
    nb.edit(a, 'let total = 1');
    const b = nb.add('code', a, 'total = total + undefinedName');
    const c = nb.add('code', b, 'total');
    await nb.runAll();
    const outputs = nb.state.getState().outputs;
    expect(outputs[b]?.error).toMatchObject({ name: 'ReferenceError', line: 1 });
    expect(outputs[c]).toBeUndefined();
  });

  it('runs the code cells above the selected one, not the cell itself', async () => {
    const nb = notebook();
    const a = nb.cells[1]!.id;
    nb.edit(a, 'const base = 20');
    const md = nb.add('markdown', a, 'text between');
    const b = nb.add('code', md, 'const more = base + 1');
    const c = nb.add('code', b, 'more * 2');
    await nb.runAbove(c);
    const outputs = nb.state.getState().outputs;
    expect(outputs[a]?.error).toBeNull();
    expect(outputs[b]?.error).toBeNull();
    expect(outputs[c]).toBeUndefined();
    expect((await nb.run(c))?.value).toEqual({ kind: 'text', text: '42' });
    await nb.runAbove(nb.cells[0]!.id);
    expect(nb.state.getState().message).toMatch(/no code cells above/);
  });

  it('saves chart, image and graph outputs and reads them back the same', async () => {
    const nb = notebook();
    const a = nb.cells[1]!.id;
    nb.edit(a, 'console.log(image([[0, 1]]))\nplot({ loss: [1, NaN, 0.5] }, { title: "t" })');
    const b = nb.add('code', a, 'wg.trace((x: wg.Tensor) => x.exp(), [wg.ones([2])])');
    await nb.run(a);
    await nb.run(b);
    const before = nb.state.getState().outputs;
    expect(before[a]?.value).toMatchObject({ kind: 'chart', title: 't' });
    expect(before[b]?.value?.kind).toBe('graph');
    const text = nb.write(graphText());
    const json = JSON.parse(text) as { cells: { outputs?: { data?: unknown }[] }[] };
    expect(JSON.stringify(json.cells[1]!.outputs)).toContain('Chart \\"t\\": loss (3 points)');
    const back = readNotebookCells(text).outputs;
    expect(back[a]?.value).toEqual(before[a]?.value);
    expect(back[a]?.logs).toEqual(before[a]?.logs);
    expect(back[b]?.value).toEqual(before[b]?.value);
  });

  it('saves progress outputs with their exact value and a one-line text, and reads them back', async () => {
    const nb = notebook();
    const a = nb.cells[1]!.id;
    nb.edit(
      a,
      'for (let s = 0; s <= 120; s += 60) display(progress(s, 600, { title: "train", ' +
        'metrics: { loss: 0.41, gap: NaN } }), "train")\nprogress(600, 600)',
    );
    await nb.run(a);
    const before = nb.state.getState().outputs[a]!;
    expect(before.logs[0]?.values[0]).toMatchObject({ kind: 'progress', done: 120, total: 600 });
    expect(before.value).toMatchObject({ kind: 'progress', done: 600, etaMs: 0 });
    const text = nb.write(graphText());
    const json = JSON.parse(text) as { cells: { outputs?: unknown[] }[] };
    const saved = JSON.stringify(json.cells[1]!.outputs);
    expect(saved).toContain('train: 120/600 (20%) loss=0.41 gap=NaN');
    expect(saved).toContain('progress: 600/600 (100%)');
    const back = readNotebookCells(text).outputs[a]!;
    expect(back.logs).toEqual(before.logs);
    expect(back.value).toEqual(before.value);
    const metrics = back.logs[0]?.values[0]?.kind === 'progress' && back.logs[0].values[0].metrics;
    expect(metrics && metrics.gap).toBeNaN();
  });

  it('shows the lines a running cell printed so far, then its output', async () => {
    const nb = notebook();
    const a = nb.cells[1]!.id;
    nb.edit(
      a,
      'console.log("one")\nawait new Promise((r) => setTimeout(r, 300))\nconsole.log("two")\n3',
    );
    const seen: string[][] = [];
    const stop = nb.state.subscribe((s) => {
      const live = s.live[a];
      if (live) seen.push(live.map((l) => (l.values[0]?.kind === 'text' ? l.values[0].text : '')));
    });
    const output = await nb.run(a);
    stop();
    expect(seen[0]).toEqual(['one']);
    expect(nb.state.getState().live[a]).toBeUndefined();
    expect(output?.logs).toHaveLength(2);
    expect(output?.value).toEqual({ kind: 'text', text: '3' });
  });

  it('restart empties the scope', async () => {
    const nb = notebook();
    const a = nb.cells[1]!.id;
    nb.edit(a, 'const kept = 3');
    await nb.run(a);
    nb.restart();
    const b = nb.add('code', a, 'kept');
    expect((await nb.run(b))?.error?.name).toBe('ReferenceError');
  });
});

describe('notebook files and trust', () => {
  it('saves cells and outputs into the notebook and reads them back in order', async () => {
    const nb = notebook();
    const code = nb.cells[1]!.id;
    nb.edit(code, 'const t = wg.tensor([1, 2, 3])\nconsole.log("hi")\nt');
    const md = nb.add('markdown', null, '# Notes\nSome *text*.');
    nb.move(md, -5);
    await nb.run(code);
    const text = nb.write(graphText());
    // Still a model file the graph reader accepts, and a Jupyter notebook with the cells.
    expect(readModelFile(text).graph.name).toBe('cells test');
    const json = JSON.parse(text) as { cells: { cell_type: string; outputs?: unknown[] }[] };
    expect(json.cells.map((c) => c.cell_type)).toEqual(['markdown', 'markdown', 'code']);
    expect(json.cells[2]!.outputs).toEqual([
      { output_type: 'stream', name: 'stdout', text: ['hi\n'] },
      {
        output_type: 'execute_result',
        execution_count: 1,
        data: { 'text/plain': ['Tensor([3], f32) [1, 2, 3]'] },
        metadata: {},
      },
    ]);
    const read = readNotebookCells(text);
    expect(read.cells).toEqual(nb.cells);
    expect(read.outputs).toEqual(nb.state.getState().outputs);
  });

  it('opens an older file without cells as one graph cell', () => {
    const read = readNotebookCells(graphText());
    expect(read.cells.map((c) => c.kind)).toEqual(['graph']);
    const plain = JSON.stringify(documentToFile(emptyDocument()));
    expect(readNotebookCells(plain).cells.map((c) => c.kind)).toEqual(['graph']);
    // A graph cell written back keeps the graph the reader found.
    expect(readModelFile(writeNotebookCells(graphText(), read)).graph.name).toBe('cells test');
  });

  it('runs nothing from an opened file until trusted, and remembers trust by content', async () => {
    const storage = memoryStorage();
    const author = notebook(storage);
    const code = author.cells[1]!.id;
    author.edit(code, '1 + 1');
    await author.run(code);
    const text = author.write(graphText());

    const reader = notebook(memoryStorage());
    reader.opened(text);
    expect(reader.state.getState().trusted).toBe(false);
    expect(reader.state.getState().outputs[code]?.value).toEqual({ kind: 'text', text: '2' });
    expect(await reader.run(code)).toBeNull();
    expect(reader.state.getState().message).toMatch(/trust it to run/);
    reader.trustNotebook();
    expect((await reader.run(code))?.value).toEqual({ kind: 'text', text: '2' });

    // The author saved it, so opening it again where it was saved is trusted.
    author.saved(text);
    author.opened(text);
    expect(author.state.getState().trusted).toBe(true);
  });

  it('needs no trust for an opened file without code cells, which has nothing to run', () => {
    const author = notebook(memoryStorage());
    const code = author.cells.find((c) => c.kind === 'code')!.id;
    author.setKind(code, 'markdown');
    const text = author.write(graphText());
    const reader = notebook(memoryStorage());
    reader.opened(text);
    expect(reader.cells.some((c) => c.kind === 'code')).toBe(false);
    expect(reader.state.getState().trusted).toBe(true);
  });

  it('restores cells, outputs and trust from the autosave', async () => {
    const storage = memoryStorage();
    const first = notebook(storage);
    const code = first.cells[1]!.id;
    first.edit(code, '"kept"');
    await first.run(code);
    first.opened(first.write(graphText())); // an opened file: untrusted
    const second = notebook(storage);
    expect(second.cells).toEqual(first.cells);
    expect(second.state.getState().outputs[code]?.value).toEqual({ kind: 'text', text: 'kept' });
    expect(second.state.getState().trusted).toBe(false);
  });
});

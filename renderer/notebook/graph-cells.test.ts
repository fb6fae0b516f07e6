import { describe, expect, it } from 'vitest';
import type { GraphJSON, NodeJSON } from '../../engine/graph/ir.js';
import {
  GRAPH_CELL_ID,
  fromNotebook,
  notebookText,
  readModelFile,
  toNotebook,
} from '../../engine/protocol/notebook.js';
import { createInProcessEngineClient } from '../../engine/worker/in-process.js';
import { emptyDocument } from '../state/document.js';
import { boxCount } from './GraphPreview.js';
import { type CanvasLink, type KeyValueStore, Notebook } from './notebook.js';
import { readNotebookCells } from './notebook-file.js';

/** A graph named `name` with one input and `extra` more nodes, laid out. */
function model(name: string, extra = 0): GraphJSON {
  const nodes: NodeJSON[] = [
    { id: 'x', op: 'input', inputs: [], attrs: { shape: [-1, 2], dtype: 'f32', role: 'data' } },
  ];
  for (let i = 0; i < extra; i++)
    nodes.push({ id: `r${i}`, op: 'relu', inputs: [i === 0 ? 'x' : `r${i - 1}`], attrs: {} });
  const layout = Object.fromEntries(nodes.map((n, i) => [n.id, { x: 0, y: 100 * i }]));
  return { format: 'wiregrad.graph', version: 1, name, nodes, outputs: [], meta: { layout } };
}

/** A canvas that holds one graph and counts what was shown on it. */
function fakeCanvas(start: GraphJSON): CanvasLink & { doc: GraphJSON; shown: string[] } {
  const canvas = {
    doc: start,
    shown: [] as string[],
    current: () => canvas.doc,
    show(graph: GraphJSON, label: string) {
      canvas.doc = graph;
      canvas.shown.push(label);
    },
  };
  return canvas;
}

function memoryStorage(): KeyValueStore {
  const data = new Map<string, string>();
  return {
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
  };
}

function notebook(canvas: CanvasLink, storage: KeyValueStore | null = null): Notebook {
  const nb = new Notebook({ startKernel: createInProcessEngineClient, storage, autosaveMs: 0 });
  nb.attachCanvas(canvas);
  return nb;
}

/** What Save writes: the canvas's graph through the graph writer, the cells around it. */
const save = (nb: Notebook, canvas: CanvasLink): string => nb.write(notebookText(canvas.current()));

const graphCells = (nb: Notebook) => nb.cells.filter((c) => c.kind === 'graph').map((c) => c.id);

interface SavedCell {
  id: string;
  cell_type: string;
  metadata: { wiregrad?: { graph?: GraphJSON } };
}

describe('graph cells', () => {
  it('round-trip three graphs through a file, keeping which one is active', () => {
    const canvas = fakeCanvas(model('Alpha', 1));
    const nb = notebook(canvas);
    const first = nb.state.getState().active;
    expect(first).toBe(GRAPH_CELL_ID);
    const second = nb.addGraph(first);
    const third = nb.addGraph(null, model('Gamma', 3));
    expect(graphCells(nb)).toEqual([first, second, third]);
    // Adding does not change what the canvas shows.
    expect(nb.state.getState().active).toBe(first);
    expect(canvas.shown).toEqual([]);

    expect(nb.activate(second)).toBe(true);
    expect(canvas.doc.name).toBe('Model 2');
    expect(canvas.doc.nodes.map((n) => n.op)).toEqual(['input']);
    canvas.doc = model('Beta, edited', 2); // edits on the canvas
    const text = save(nb, canvas);

    const json = JSON.parse(text) as { metadata: { wiregrad: unknown }; cells: SavedCell[] };
    expect(json.metadata.wiregrad).toEqual({ version: 2, active: second });
    const saved = json.cells.filter((c) => c.metadata.wiregrad?.graph);
    expect(saved.map((c) => [c.id, c.cell_type, c.metadata.wiregrad?.graph?.name])).toEqual([
      [first, 'markdown', 'Alpha'],
      [second, 'markdown', 'Beta, edited'],
      [third, 'markdown', 'Gamma'],
    ]);
    // The graph reader opens the active graph on the canvas.
    expect(readModelFile(text).graph).toEqual(model('Beta, edited', 2));

    const reader = notebook(fakeCanvas(fromNotebook(text).graph));
    reader.opened(text);
    const s = reader.state.getState();
    expect(reader.cells).toEqual(nb.cells);
    expect(s.active).toBe(second);
    expect(s.graphs[first]).toEqual({ graph: model('Alpha', 1) });
    expect(s.graphs[third]).toEqual({ graph: model('Gamma', 3) });
    expect(s.message).toBeNull();
    // Saved again unchanged, the file is the same.
    expect(save(reader, fakeCanvas(fromNotebook(text).graph))).toBe(text);
  });

  it('write the canvas back into its cell when another cell goes on the canvas', () => {
    const canvas = fakeCanvas(model('Alpha'));
    const nb = notebook(canvas);
    const first = nb.state.getState().active;
    const second = nb.addGraph(null, model('Beta'));
    nb.activate(second);
    canvas.doc = model('Beta', 4); // edited on the canvas
    expect(nb.state.getState().message).toMatch(/undo history starts afresh/);
    nb.activate(first);
    expect(canvas.doc).toEqual(model('Alpha'));
    expect(nb.state.getState().graphs[second]).toEqual({ graph: model('Beta', 4) });
    expect(nb.graphOf(second)).toEqual({ graph: model('Beta', 4) });
    expect(nb.graphOf(first)).toEqual({ graph: model('Alpha') });
    // The active cell again: only the view changes.
    nb.setMode('notebook');
    expect(nb.activate(first)).toBe(true);
    expect(canvas.shown).toEqual(['Edit Beta', 'Edit Alpha']);
    expect(nb.state.getState().mode).toBe('canvas');
  });

  it('refuse to delete the active graph cell; others delete and come back with undo', () => {
    const canvas = fakeCanvas(model('Alpha'));
    const nb = notebook(canvas);
    const first = nb.state.getState().active;
    const second = nb.addGraph(null, model('Beta', 1));
    const before = nb.cells;
    nb.remove(first);
    expect(nb.cells).toBe(before);
    expect(nb.state.getState().message).toMatch(/model on the canvas and cannot be removed/);

    nb.remove(second);
    expect(graphCells(nb)).toEqual([first]);
    nb.undo();
    expect(graphCells(nb)).toEqual([first, second]);
    expect(nb.graphOf(second)).toEqual({ graph: model('Beta', 1) });
    // Cell moves are undone without touching any graph.
    nb.move(second, -5);
    nb.activate(second);
    canvas.doc = model('Beta', 3);
    nb.undo();
    expect(graphCells(nb)).toEqual([first, second]);
    expect(nb.graphOf(second)).toEqual({ graph: model('Beta', 3) });
  });

  it('refuse an undo that would remove the graph on the canvas', () => {
    const canvas = fakeCanvas(model('Alpha'));
    const nb = notebook(canvas);
    // "Open as graph": a new cell, on the canvas at once.
    const traced = nb.addGraph(null, model('Traced', 2), true);
    expect(nb.state.getState().active).toBe(traced);
    expect(canvas.doc.name).toBe('Traced');
    const cells = nb.cells;
    nb.undo();
    expect(nb.cells).toBe(cells);
    expect(nb.state.getState().message).toMatch(/Undo Add graph cell would remove the graph/);
    // With another cell on the canvas, the undo goes through.
    nb.activate(GRAPH_CELL_ID);
    nb.undo();
    expect(graphCells(nb)).toEqual([GRAPH_CELL_ID]);
    nb.redo();
    expect(graphCells(nb)).toEqual([GRAPH_CELL_ID, traced]);
    expect(nb.graphOf(traced)).toEqual({ graph: model('Traced', 2) });
  });

  it('open a malformed graph in another cell as a cell that says why, and keep it as it was', () => {
    const canvas = fakeCanvas(model('Alpha'));
    const nb = notebook(canvas);
    const second = nb.addGraph(null, model('Beta'));
    const third = nb.addGraph(null, model('Gamma'));
    const json = JSON.parse(save(nb, canvas)) as { cells: SavedCell[] };
    const broken = { format: 'wiregrad.graph', version: 1, nodes: 'oops' };
    json.cells[3] = { ...json.cells[3]!, metadata: { wiregrad: { graph: broken as never } } };
    const text = `${JSON.stringify(json, null, 1)}\n`;

    // The active graph still opens; the notebook names the bad cell and keeps the others.
    expect(fromNotebook(text).graph.name).toBe('Alpha');
    const reader = notebook(fakeCanvas(model('Alpha')));
    reader.opened(text);
    const s = reader.state.getState();
    expect(graphCells(reader)).toEqual([GRAPH_CELL_ID, second, third]);
    expect(s.graphs[second]).toEqual({ graph: model('Beta') });
    expect(s.message).toMatch(
      new RegExp(
        `Graph cell 3 \\(cell 4, id '${third}'\\) cannot be read: its graph has no "nodes"`,
      ),
    );
    expect(reader.activate(third)).toBe(false);
    expect(s.active).toBe(GRAPH_CELL_ID);
    expect(reader.state.getState().message).toMatch(/cannot go on the canvas/);
    // Saved again, the bad cell is written back exactly as it was read.
    const again = JSON.parse(save(reader, fakeCanvas(model('Alpha')))) as { cells: SavedCell[] };
    expect(again.cells[3]).toEqual(json.cells[3]);
  });

  it('open an older notebook (one graph, version 1) unchanged and save it byte for byte', () => {
    // As earlier builds wrote it: one graph cell between a markdown and a code cell.
    const text = `${JSON.stringify(
      {
        nbformat: 4,
        nbformat_minor: 5,
        metadata: { wiregrad: { version: 1 }, language_info: { name: 'typescript' } },
        cells: [
          { id: 'intro', cell_type: 'markdown', metadata: {}, source: ['# Notes'] },
          toNotebook(model('Old', 2)).cells[0],
          {
            id: 'run',
            cell_type: 'code',
            metadata: {},
            source: ['1 + 1'],
            execution_count: null,
            outputs: [],
          },
        ],
      },
      null,
      1,
    )}\n`;
    const read = readNotebookCells(text);
    expect(read.cells.filter((c) => c.kind === 'graph').map((c) => c.id)).toEqual([GRAPH_CELL_ID]);
    expect(read.active).toBe(GRAPH_CELL_ID);
    const canvas = fakeCanvas(fromNotebook(text).graph);
    const nb = notebook(canvas);
    nb.opened(text);
    expect(nb.state.getState().active).toBe(GRAPH_CELL_ID);
    expect(save(nb, canvas)).toBe(text);
  });

  it('come back from the autosave with their graphs and the active cell', () => {
    const storage = memoryStorage();
    const canvas = fakeCanvas(model('Alpha'));
    const nb = notebook(canvas, storage);
    const second = nb.addGraph(null, model('Beta', 1));
    nb.activate(second);
    const restored = notebook(canvas, storage);
    const s = restored.state.getState();
    expect(restored.cells).toEqual(nb.cells);
    expect(s.active).toBe(second);
    expect(s.graphs[GRAPH_CELL_ID]).toEqual({ graph: model('Alpha') });
    // The active cell's graph is the canvas's (autosaved with the canvas), not a stub.
    expect(s.graphs[second]).toBeUndefined();
  });
});

describe('a graph cell’s size', () => {
  it('counts a layer as one node, as the canvas draws it', () => {
    const node = (id: string, op: string, inputs: string[], group?: string): NodeJSON => ({
      id,
      op,
      inputs,
      attrs: {},
      ...(group !== undefined ? { group } : {}),
    });
    const base = emptyDocument('layers');
    const doc = {
      ...base,
      graph: {
        ...base.graph,
        nodes: [
          node('x', 'input', []),
          node('fc1.weight', 'parameter', [], 'fc1'),
          node('fc1.bias', 'parameter', [], 'fc1'),
          node('fc1.mm', 'matmul', ['x', 'fc1.weight'], 'fc1'),
          node('fc1', 'add', ['fc1.mm', 'fc1.bias'], 'fc1'),
          node('y', 'relu', ['fc1']),
        ],
      },
    };
    expect(doc.graph.nodes).toHaveLength(6);
    expect(boxCount(doc)).toBe(3);
  });
});

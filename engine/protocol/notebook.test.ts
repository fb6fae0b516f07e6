import { describe, expect, it } from 'vitest';
import { GRAPH_VERSION, type GraphJSON } from '../graph/ir.js';
import { checkDraftGraph as checkGraph } from '../worker/check-graph.js';
import {
  GRAPH_CELL_ID,
  MULTI_GRAPH_VERSION,
  NOTEBOOK_VERSION,
  SINGLE_GRAPH_VERSION,
  type Notebook,
  NotebookError,
  PLACEHOLDER_OP,
  READABLE_GRAPH_VERSION,
  activeGraphIndex,
  fromNotebook,
  graphCell,
  looksTruncated,
  notebookText,
  readModelFile,
  toNotebook,
  wiregradMetadata,
} from './notebook.js';

const graph: GraphJSON = {
  format: 'wiregrad.graph',
  version: 1,
  name: 'Tiny MLP',
  nodes: [
    { id: 'x', op: 'input', inputs: [], attrs: { shape: [-1, 2], dtype: 'f32', role: 'data' } },
    {
      id: 'w',
      op: 'parameter',
      inputs: [],
      attrs: { shape: [2, 3], dtype: 'f32', init: 'zeros', seed: 1 },
    },
    {
      id: 'y',
      op: 'matmul',
      inputs: ['x', 'w'],
      attrs: { transposeA: false, transposeB: false },
    },
  ],
  outputs: [{ name: 'out', node: 'y' }],
  meta: { layout: { x: { x: 0, y: 0 }, w: { x: 0, y: 100 }, y: { x: 200, y: 50 } } },
};

/** Which kind of NotebookError `read` throws (fails the test if it throws something else). */
function errorKind(read: () => unknown): string {
  try {
    read();
  } catch (error) {
    expect(error).toBeInstanceOf(NotebookError);
    return (error as NotebookError).kind;
  }
  throw new Error('expected a NotebookError');
}

/**
 * The required fields of nbformat 4.5's JSON schema (nbformat.v4.5.schema.json), checked by
 * hand: the top-level object, and markdown cells (the only kind Wiregrad writes).
 */
function nbformatProblems(nb: unknown): string[] {
  const problems: string[] = [];
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  const isMultiline = (v: unknown): boolean =>
    typeof v === 'string' || (Array.isArray(v) && v.every((s) => typeof s === 'string'));
  if (!isObject(nb)) return ['not an object'];
  for (const key of ['metadata', 'nbformat_minor', 'nbformat', 'cells'])
    if (!(key in nb)) problems.push(`missing ${key}`);
  if (nb.nbformat !== 4) problems.push('nbformat must be 4');
  if (!Number.isInteger(nb.nbformat_minor) || (nb.nbformat_minor as number) < 5)
    problems.push('nbformat_minor must be an integer >= 5 for cell ids');
  if (!isObject(nb.metadata)) problems.push('metadata must be an object');
  else {
    const info = nb.metadata.language_info;
    if (info !== undefined && !(isObject(info) && typeof info.name === 'string'))
      problems.push('metadata.language_info needs a name');
    const spec = nb.metadata.kernelspec;
    if (spec !== undefined && !(isObject(spec) && 'name' in spec && 'display_name' in spec))
      problems.push('metadata.kernelspec needs name and display_name');
  }
  if (!Array.isArray(nb.cells)) return [...problems, 'cells must be a list'];
  const ids = new Set<string>();
  nb.cells.forEach((cell: unknown, i) => {
    if (!isObject(cell)) return problems.push(`cell ${i} is not an object`);
    for (const key of ['id', 'cell_type', 'metadata', 'source'])
      if (!(key in cell)) problems.push(`cell ${i} misses ${key}`);
    if (typeof cell.id !== 'string' || !/^[a-zA-Z0-9-_]{1,64}$/.test(cell.id))
      problems.push(`cell ${i} id must match ^[a-zA-Z0-9-_]+$ (1-64 characters)`);
    else if (ids.has(cell.id)) problems.push(`cell ${i} id is not unique`);
    else ids.add(cell.id);
    if (cell.cell_type !== 'markdown') problems.push(`cell ${i} is not a markdown cell`);
    if (!isObject(cell.metadata)) problems.push(`cell ${i} metadata must be an object`);
    if (!isMultiline(cell.source)) problems.push(`cell ${i} source must be a multiline string`);
    // Markdown cells allow no other properties (additionalProperties: false).
    for (const key of Object.keys(cell))
      if (!['id', 'cell_type', 'metadata', 'attachments', 'source'].includes(key))
        problems.push(`cell ${i} has a property markdown cells do not allow: ${key}`);
    return undefined;
  });
  return problems;
}

describe('writing a notebook', () => {
  it('meets nbformat 4.5 required fields', () => {
    expect(nbformatProblems(JSON.parse(notebookText(graph)))).toEqual([]);
    // The checker itself catches what it should.
    expect(nbformatProblems({ nbformat: 4, cells: [{ cell_type: 'markdown' }] })).toContain(
      'missing metadata',
    );
  });

  it('keeps the graph and layout in the cell metadata and the version at the top', () => {
    const nb = JSON.parse(notebookText(graph)) as Notebook;
    // One graph cell: written as version 1, which every earlier build reads.
    expect(nb.metadata.wiregrad).toEqual({ version: SINGLE_GRAPH_VERSION });
    expect(nb.cells[0]?.id).toBe(GRAPH_CELL_ID);
    expect(nb.cells[0]?.metadata).toEqual({ wiregrad: { graph } });
  });

  it('describes the model in markdown for GitHub readers', () => {
    const source = toNotebook(graph).cells[0]?.source;
    expect(Array.isArray(source)).toBe(true);
    const text = (source as string[]).join('');
    expect(text.startsWith('# Tiny MLP\n')).toBe(true);
    expect(text).toContain('- **Inputs:** `x`');
    expect(text).toContain('- **Parameters:** `w`');
    expect(text).toContain('- **Outputs:** `out`');
    expect(text).toContain('matmul × 1');
    // Lines keep their newline except the last, as nbformat's multiline strings do.
    expect((source as string[]).slice(0, -1).every((line) => line.endsWith('\n'))).toBe(true);
  });

  it('reads back what it wrote', () => {
    expect(fromNotebook(notebookText(graph))).toEqual({ graph, placeholders: [] });
  });
});

describe('reading a notebook', () => {
  const good = notebookText(graph);

  it('names each kind of bad file', () => {
    expect(errorKind(() => fromNotebook('hello'))).toBe('not-json');
    expect(errorKind(() => fromNotebook(good.slice(0, good.length / 2)))).toBe('truncated');
    expect(errorKind(() => fromNotebook(''))).toBe('truncated');
    expect(errorKind(() => fromNotebook('{"cells": []}'))).toBe('not-notebook');
    expect(errorKind(() => fromNotebook('{"nbformat": 3, "cells": [], "metadata": {}}'))).toBe(
      'not-notebook',
    );
    expect(errorKind(() => fromNotebook('{"nbformat": 5, "cells": [], "metadata": {}}'))).toBe(
      'newer-version',
    );
    const plainJupyter = '{"nbformat": 4, "nbformat_minor": 5, "cells": [], "metadata": {}}';
    expect(errorKind(() => fromNotebook(plainJupyter))).toBe('no-graph');
  });

  it('refuses a newer Wiregrad notebook or graph version with a message saying to update', () => {
    const nb = JSON.parse(good) as Notebook;
    const newer = { ...nb, metadata: { wiregrad: { version: NOTEBOOK_VERSION + 1 } } };
    expect(() => fromNotebook(JSON.stringify(newer))).toThrow(/newer Wiregrad.*update Wiregrad/);
    const newerGraph = toNotebook({ ...graph, version: READABLE_GRAPH_VERSION + 1 });
    expect(() => fromNotebook(JSON.stringify(newerGraph))).toThrow(
      /graph version 2, newer than this Wiregrad reads \(1\); update Wiregrad/,
    );
  });

  it('reads the graph version the engine writes', () => {
    expect(READABLE_GRAPH_VERSION).toBe(GRAPH_VERSION);
  });

  it('runs migrations in order from the file version to the current one', () => {
    const v1 = JSON.parse(good) as Notebook;
    const order: number[] = [];
    const rename =
      (from: number): ((nb: Notebook) => Notebook) =>
      (nb) => {
        order.push(from);
        const cell = nb.cells[0]!;
        const held = cell.metadata.wiregrad as { graph: GraphJSON };
        return {
          ...nb,
          cells: [
            {
              ...cell,
              metadata: { wiregrad: { graph: { ...held.graph, name: `${held.graph.name}+` } } },
            },
          ],
        };
      };
    const read = fromNotebook(JSON.stringify(v1), {
      currentVersion: 3,
      migrations: { 1: rename(1), 2: rename(2) },
    });
    expect(order).toEqual([1, 2]);
    expect(read.graph.name).toBe('Tiny MLP++');
    expect(() => fromNotebook(good, { currentVersion: 2, migrations: {} })).toThrow(
      /no migration from notebook version 1 to 2/,
    );
  });

  it('rejects a malformed graph in the cell', () => {
    const nb = JSON.parse(good) as Notebook;
    const broken = {
      ...nb,
      cells: [{ ...nb.cells[0], metadata: { wiregrad: { graph: { format: 'wiregrad.graph' } } } }],
    };
    expect(errorKind(() => fromNotebook(JSON.stringify(broken)))).toBe('invalid');
  });

  it('opens plain .json graph documents too', () => {
    expect(readModelFile(JSON.stringify(graph)).graph).toEqual(graph);
    expect(readModelFile(good).graph).toEqual(graph);
  });

  it('tells truncation from other syntax errors', () => {
    expect(looksTruncated('{"a": [1, 2')).toBe(true);
    expect(looksTruncated('{"a": "unfinished')).toBe(true);
    expect(looksTruncated('{"a": 1}}')).toBe(false);
    expect(looksTruncated('{"a": "}"')).toBe(true);
  });
});

describe('unknown ops', () => {
  const withUnknown: GraphJSON = {
    ...graph,
    nodes: [
      ...graph.nodes,
      { id: 'z', op: 'fancyAttention', inputs: ['y'], attrs: { heads: 4, scale: [0.5] } },
    ],
  };
  const known = new Set(['input', 'parameter', 'matmul']);

  it('load as placeholder nodes keeping the op and attributes', () => {
    const read = fromNotebook(notebookText(withUnknown), { isKnownOp: (op) => known.has(op) });
    expect(read.placeholders).toEqual(['z']);
    const z = read.graph.nodes.find((n) => n.id === 'z');
    expect(z?.op).toBe(PLACEHOLDER_OP);
    expect(z?.inputs).toEqual(['y']);
    expect(z?.attrs.op).toBe('fancyAttention');
    expect(JSON.parse(z?.attrs.attrs as string)).toEqual({ heads: 4, scale: [0.5] });
  });

  it('are written back as the original op, so a round trip loses nothing', () => {
    const read = fromNotebook(notebookText(withUnknown), { isKnownOp: (op) => known.has(op) });
    expect(fromNotebook(notebookText(read.graph)).graph).toEqual(withUnknown);
  });

  it('are reported by the graph check as a node to replace', () => {
    const read = fromNotebook(notebookText(withUnknown), { isKnownOp: (op) => known.has(op) });
    const { diagnostics } = checkGraph(read.graph);
    const z = diagnostics.filter((d) => d.node === 'z');
    expect(z).toHaveLength(1);
    expect(z[0]?.severity).toBe('error');
    expect(z[0]?.message).toMatch(/unknown op 'fancyAttention': replace this node/);
    // The rest of the graph still checks.
    expect(diagnostics.filter((d) => d.node !== 'z')).toEqual([]);
  });
});

describe('several graph cells', () => {
  const second: GraphJSON = { ...graph, name: 'Second', nodes: graph.nodes.slice(0, 1) };
  const third: GraphJSON = { ...graph, name: 'Third', nodes: graph.nodes.slice(0, 2) };
  /** A notebook with three graph cells and a code cell, `active` naming the canvas's one. */
  const threeGraphs = (active: string): Notebook => ({
    ...toNotebook(graph),
    metadata: { wiregrad: wiregradMetadata(3, active) },
    cells: [
      graphCell(graph, 'g1'),
      { id: 'code', cell_type: 'code', metadata: {}, source: ['1 + 1'], outputs: [] },
      graphCell(second, 'g2'),
      graphCell(third, 'g3'),
    ],
  });

  it('are written as version 2 with the active cell named; one graph stays version 1', () => {
    expect(wiregradMetadata(3, 'g2')).toEqual({ version: MULTI_GRAPH_VERSION, active: 'g2' });
    expect(wiregradMetadata(1, 'g2')).toEqual({ version: SINGLE_GRAPH_VERSION });
    expect(NOTEBOOK_VERSION).toBe(MULTI_GRAPH_VERSION);
  });

  it('open on the active graph, whichever cell holds it', () => {
    for (const [active, name] of [
      ['g1', 'Tiny MLP'],
      ['g2', 'Second'],
      ['g3', 'Third'],
    ] as const) {
      const text = JSON.stringify(threeGraphs(active));
      expect(fromNotebook(text).graph.name).toBe(name);
      expect(readModelFile(text).graph.name).toBe(name);
    }
  });

  it('fall back to the first graph cell when `active` is missing or names no graph cell', () => {
    const nb = threeGraphs('g3');
    expect(activeGraphIndex(nb)).toBe(3);
    expect(activeGraphIndex({ ...nb, metadata: { wiregrad: { version: 2 } } })).toBe(0);
    expect(activeGraphIndex(threeGraphs('code'))).toBe(0);
    expect(activeGraphIndex(threeGraphs('nowhere'))).toBe(0);
    expect(activeGraphIndex({ ...nb, cells: nb.cells.slice(1, 2) })).toBe(-1);
  });

  it('are refused by a build that reads only version 1, with a message to update', () => {
    const text = JSON.stringify(threeGraphs('g2'));
    expect(() => fromNotebook(text, { currentVersion: 1 })).toThrow(/newer Wiregrad.*update/);
  });

  it('name the cell when the active graph is malformed', () => {
    const nb = threeGraphs('g2');
    const cells = [...nb.cells];
    cells[2] = { ...cells[2]!, metadata: { wiregrad: { graph: { format: 'other' } } } };
    expect(() => fromNotebook(JSON.stringify({ ...nb, cells }))).toThrow(
      /cell 3's graph is not a Wiregrad graph/,
    );
  });
});

import { describe, expect, it } from 'vitest';
import { describeOps } from '../../engine/worker/op-catalog.js';
import type { EditorDocument, NodeJSON } from './document.js';
import { TEMPLATES } from './templates.js';
import { buildView } from './view.js';

const ops = new Map(describeOps().map((o) => [o.name, o]));
const doc = (nodes: NodeJSON[]): EditorDocument => ({
  graph: { format: 'wiregrad.graph', version: 1, nodes, outputs: [] },
  layout: {},
});

describe('buildView', () => {
  it('collapses a layer into one node with its parameters and only its outside input', () => {
    const view = buildView(TEMPLATES.find((t) => t.name === 'cnn')!.build(), ops);
    const conv = view.byId.get('conv1')!;
    expect(conv).toMatchObject({ kind: 'layer', title: 'Conv2d', output: 'conv1' });
    expect(conv.members).toEqual([
      'conv1.weight',
      'conv1.bias',
      'conv1.conv',
      'conv1.bias_view',
      'conv1',
    ]);
    expect(conv.params).toEqual([
      { id: 'conv1.weight', label: 'weight', shape: [8, 1, 5, 5] },
      { id: 'conv1.bias', label: 'bias', shape: [8] },
    ]);
    expect(conv.ports).toEqual([
      { name: 'x', node: 'conv1.conv', index: 0, source: 'standardised', optional: false },
    ]);
    expect(view.byId.has('conv1.weight')).toBe(false);
    expect(view.owner.get('conv1.bias_view')).toBe('conv1');
    expect(view.edges.find((e) => e.target === 'conv1')).toEqual({
      id: 'standardised->conv1:0',
      source: 'standardised',
      target: 'conv1',
      port: 0,
      sourceNode: 'standardised',
    });
    expect(view.edges.find((e) => e.source === 'conv1')?.target).toBe('relu1');
  });

  it('gives concat one empty port more than it has connected, named x1, x2 …', () => {
    const view = buildView(
      doc([
        { id: 'a', op: 'input', inputs: [], attrs: { shape: [2], dtype: 'f32', role: 'data' } },
        { id: 'c', op: 'concat', inputs: ['a', 'a'], attrs: { axis: 0 } },
      ]),
      ops,
    );
    expect(view.byId.get('c')!.ports.map((p) => [p.name, p.source, p.optional])).toEqual([
      ['x1', 'a', false],
      ['x2', 'a', true],
      ['x3', '', true],
    ]);
  });

  it('reuses unchanged view nodes, so memoised components skip them', () => {
    const first = buildView(TEMPLATES[0]!.build(), ops);
    const second = buildView(TEMPLATES[0]!.build(), ops, first);
    expect(second.byId.get('fc1')).toBe(first.byId.get('fc1'));
    expect(second.edges[0]).toBe(first.edges[0]);
  });
});

describe('freeSpot', () => {
  it('moves a new card down until it covers no other', async () => {
    const { freeSpot } = await import('./auto-layout.js');
    const layout = { a: { x: 0, y: 0 }, b: { x: 10, y: 170 } };
    expect(freeSpot(layout, { x: 0, y: 0 })).toEqual({ x: 0, y: 340 });
    expect(freeSpot(layout, { x: 400, y: 0 })).toEqual({ x: 400, y: 0 });
  });
});

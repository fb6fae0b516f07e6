import { describe, expect, it } from 'vitest';
import { GraphBuilder } from './builder.js';
import { canonicalForm, canonicalHash, hashString } from './canonical.js';
import type { GraphJSON, NodeJSON } from './ir.js';

/** (a*b + c).tanh() with scalar inputs. */
function neuron(): GraphJSON {
  const b = new GraphBuilder('neuron');
  const a = b.input('a', [], 'f32', 'data');
  const w = b.input('b', [], 'f32', 'data');
  const c = b.input('c', [], 'f32', 'data');
  const out = b.op('tanh', [b.op('add', [b.op('mul', [a, w], {}, 'ab'), c], {}, 's')], {}, 'out');
  b.output('out', out);
  return b.toJSON();
}

/** Renames every node id through `rename`, edges and outputs included. */
function renamed(graph: GraphJSON, rename: (id: string) => string): GraphJSON {
  return {
    ...graph,
    nodes: graph.nodes.map((n) => ({ ...n, id: rename(n.id), inputs: n.inputs.map(rename) })),
    outputs: graph.outputs.map((o) => ({ ...o, node: rename(o.node) })),
  };
}

const withNodes = (graph: GraphJSON, nodes: readonly NodeJSON[]): GraphJSON => ({
  ...graph,
  nodes,
});

describe('canonical graph hash', () => {
  it('does not depend on node ids, names, groups, metadata or node order', () => {
    const g = neuron();
    const h = canonicalHash(g);
    expect(h).toMatch(/^[0-9a-f]{16}$/);
    expect(canonicalHash(renamed(g, (id) => `node_${id}`))).toBe(h);
    expect(canonicalHash(withNodes(g, [...g.nodes].reverse()))).toBe(h);
    expect(
      canonicalHash({
        ...withNodes(
          g,
          g.nodes.map((n) => ({ ...n, name: `shown ${n.id}`, group: 'g' })),
        ),
        name: 'other',
        meta: { layout: { a: { x: 1, y: 2 } } },
      }),
    ).toBe(h);
    // Attribute key order does not matter either.
    const reordered = withNodes(
      g,
      g.nodes.map((n) =>
        n.op === 'input' ? { ...n, attrs: { role: 'data', dtype: 'f32', shape: [] } } : n,
      ),
    );
    expect(canonicalHash(reordered)).toBe(h);
  });

  it('changes with an op, an attribute, an edge, argument order or an output name', () => {
    const g = neuron();
    const h = canonicalHash(g);
    const edit = (f: (n: NodeJSON) => NodeJSON) => canonicalHash(withNodes(g, g.nodes.map(f)));
    expect(edit((n) => (n.id === 'out' ? { ...n, op: 'sigmoid' } : n))).not.toBe(h);
    expect(edit((n) => (n.id === 'a' ? { ...n, attrs: { ...n.attrs, shape: [2] } } : n))).not.toBe(
      h,
    );
    // add(mul, c) → add(mul, a): a different edge.
    expect(edit((n) => (n.id === 's' ? { ...n, inputs: ['ab', 'a'] } : n))).not.toBe(h);
    // add(c, mul): the same op on swapped arguments is a different graph.
    expect(edit((n) => (n.id === 's' ? { ...n, inputs: ['c', 'ab'] } : n))).not.toBe(h);
    expect(canonicalHash({ ...g, outputs: [{ name: 'y', node: 'out' }] })).not.toBe(h);
  });

  it('tells a shared value from two copies of it', () => {
    const shared = new GraphBuilder('shared');
    const x = shared.input('x', [3], 'f32', 'data');
    const r = shared.op('relu', [x], {}, 'r');
    shared.output('y', shared.op('add', [r, r], {}, 'y'));
    const copies = new GraphBuilder('copies');
    const x2 = copies.input('x', [3], 'f32', 'data');
    const r1 = copies.op('relu', [x2], {}, 'r1');
    const r2 = copies.op('relu', [x2], {}, 'r2');
    copies.output('y', copies.op('add', [r1, r2], {}, 'y'));
    expect(canonicalHash(shared.toJSON())).not.toBe(canonicalHash(copies.toJSON()));
  });

  it('writes a readable form and refuses a dangling edge with the node named', () => {
    expect(canonicalForm(neuron()).split('\n')).toEqual([
      expect.stringMatching(/^#0 input /),
      expect.stringMatching(/^#1 input /),
      expect.stringMatching(/^#2 /),
      expect.stringMatching(/^#3 /),
      expect.stringMatching(/^#4 add \{\} <- #\d #\d$/),
      '#5 tanh {} <- #4',
      '=> "out" #5',
    ]);
    const g = neuron();
    expect(() =>
      canonicalHash(
        withNodes(
          g,
          g.nodes.filter((n) => n.id !== 'c'),
        ),
      ),
    ).toThrow(/node 's' reads 'c'/);
    expect(hashString('')).toBe('cbf29ce484222325');
  });
});

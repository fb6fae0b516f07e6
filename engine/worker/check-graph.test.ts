import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../graph/builder.js';
import type { GraphJSON, NodeJSON } from '../graph/ir.js';
import { checkDraftGraph } from './check-graph.js';
import { describeOps } from './op-catalog.js';

function doc(nodes: NodeJSON[]): GraphJSON {
  return { format: 'wiregrad.graph', version: 1, nodes, outputs: [] };
}

const input = (id: string, shape: number[]): NodeJSON => ({
  id,
  op: 'input',
  inputs: [],
  attrs: { shape, dtype: 'f32', role: 'data' },
});

describe('checkDraftGraph', () => {
  it('gives symbolic shapes of a complete MLP and no diagnostics', () => {
    const b = new GraphBuilder('mlp');
    const x = b.input('x', [-1, 2], 'f32', 'data');
    const y = b.input('y', [-1], 'i32', 'label');
    const h = b.op('relu', [b.linear(x, 2, 16, 'fc1')], {}, 'relu1');
    const logits = b.linear(h, 16, 3, 'fc2');
    b.op('crossEntropy', [logits, y], {}, 'loss');
    const { shapes, diagnostics } = checkDraftGraph(b.toJSON());
    expect(diagnostics).toEqual([]);
    expect(shapes.x).toEqual({ shape: ['N', 2], dtype: 'f32' });
    expect(shapes['fc1.weight']).toEqual({ shape: [16, 2], dtype: 'f32' });
    expect(shapes.relu1).toEqual({ shape: ['N', 16], dtype: 'f32' });
    expect(shapes.fc2).toEqual({ shape: ['N', 3], dtype: 'f32' });
    expect(shapes.loss).toEqual({ shape: [], dtype: 'f32' });
  });

  it('reports an unconnected port by name and skips what depends on it', () => {
    const result = checkDraftGraph(
      doc([
        input('x', [-1, 4]),
        { id: 'sum', op: 'add', inputs: ['x', ''], attrs: {} },
        { id: 'act', op: 'relu', inputs: ['sum'], attrs: {} },
      ]),
    );
    expect(result.diagnostics).toEqual([
      {
        node: 'sum',
        port: 1,
        severity: 'incomplete',
        message: "node 'sum', op 'add': input 'b' is not connected",
      },
    ]);
    expect(Object.keys(result.shapes)).toEqual(['x']);
  });

  it('reports a shape mismatch on the node, keeping the shapes of the rest', () => {
    const result = checkDraftGraph(
      doc([
        input('x', [-1, 1, 28, 28]),
        input('w', [16, 784]),
        {
          id: 'mm',
          op: 'matmul',
          inputs: ['x', 'w'],
          attrs: { transposeA: false, transposeB: true },
        },
        { id: 'other', op: 'relu', inputs: ['x'], attrs: {} },
      ]),
    );
    expect(result.diagnostics).toHaveLength(1);
    expect(result.diagnostics[0]!.node).toBe('mm');
    expect(result.diagnostics[0]!.message).toMatch(/inner dimensions differ/);
    // Batch dimensions read N, not the batch size the check ran at.
    expect(result.diagnostics[0]!.message).toMatch(/a \[N, 1, 28, 28\] has 28 along its last axis/);
    expect(result.shapes.other).toEqual({ shape: ['N', 1, 28, 28], dtype: 'f32' });
    expect(result.shapes.mm).toBeUndefined();
  });

  it('reports bad attributes, unknown ops, dangling inputs and cycles, each on its node', () => {
    const result = checkDraftGraph(
      doc([
        input('x', [-1, 4]),
        { id: 'r', op: 'reshape', inputs: ['x'], attrs: { shape: 'wide' } },
        { id: 'u', op: 'frobnicate', inputs: [], attrs: {} },
        { id: 'd', op: 'relu', inputs: ['ghost'], attrs: {} },
        { id: 'a', op: 'relu', inputs: ['b'], attrs: {} },
        { id: 'b', op: 'relu', inputs: ['a'], attrs: {} },
      ]),
    );
    const byNode = new Map(result.diagnostics.map((d) => [d.node, d.message]));
    expect(byNode.get('r')).toMatch(/attribute 'shape' must be a list of integers/);
    expect(byNode.get('u')).toMatch(/unknown op 'frobnicate'/);
    expect(byNode.get('d')).toMatch(/refers to node 'ghost', which does not exist/);
    expect(byNode.get('a')).toMatch(/part of a cycle/);
    expect(byNode.get('b')).toMatch(/part of a cycle/);
    expect(Object.keys(result.shapes)).toEqual(['x']);
  });

  it('flags a reshape that hard-codes batch size 1', () => {
    const result = checkDraftGraph(
      doc([
        input('x', [-1, 2, 2]),
        { id: 'r', op: 'reshape', inputs: ['x'], attrs: { shape: [1, 4] } },
      ]),
    );
    expect(result.diagnostics).toEqual([
      {
        node: 'r',
        severity: 'error',
        message: expect.stringMatching(/fits only when the batch size is 1/) as unknown as string,
      },
    ]);
  });

  it('refuses something that is not a graph document with one document-level diagnostic', () => {
    expect(checkDraftGraph({ nodes: 3 }).diagnostics).toEqual([
      {
        node: null,
        severity: 'error',
        message: expect.stringMatching(/not a Wiregrad graph document/) as unknown as string,
      },
    ]);
  });
});

describe('describeOps', () => {
  it('names ports, counts variadic inputs and categorises every op', () => {
    const ops = new Map(describeOps().map((o) => [o.name, o]));
    expect(ops.get('matmul')).toMatchObject({
      ports: ['a', 'b'],
      minInputs: 2,
      maxInputs: 2,
      category: 'nn',
    });
    expect(ops.get('concat')).toMatchObject({ ports: ['x'], minInputs: 1, maxInputs: null });
    expect(ops.get('linear')).toMatchObject({
      ports: ['x', 'weight', 'bias'],
      minInputs: 2,
      maxInputs: 3,
    });
    expect(ops.get('input')!.attrs.role!.choices).toEqual(['data', 'label']);
    expect(ops.get('relu')!.category).toBe('activation');
    expect([...ops.values()].filter((o) => o.category === 'other').map((o) => o.name)).toEqual([]);
  });
});

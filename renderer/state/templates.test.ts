import { describe, expect, it } from 'vitest';
import { checkDraftGraph } from '../../engine/worker/check-graph.js';
import { TEMPLATES } from './templates.js';
import { buildView } from './view.js';
import cnnMnist from '../../examples/cnn-mnist.json';
import mlpSpiral from '../../examples/mlp-spiral.json';

const FILES: Record<string, unknown> = { 'mlp-spiral.json': mlpSpiral, 'cnn-mnist.json': cnnMnist };
const example = (file: string) => FILES[file] as Record<string, unknown>;

const template = (name: string) => TEMPLATES.find((t) => t.name === name)!.build();

describe('templates', () => {
  it('the MLP template is the document examples/make-graphs.ts writes with GraphBuilder', () => {
    const file = example('mlp-spiral.json');
    const { graph } = template('mlp');
    expect(graph.nodes).toEqual(file.nodes);
    expect(graph.outputs).toEqual(file.outputs);
    expect(graph.meta).toEqual(file.meta);
    expect(graph.name).toEqual(file.name);
  });

  it('the CNN template is the document of examples/cnn-mnist.json', () => {
    const file = example('cnn-mnist.json');
    const { graph } = template('cnn');
    expect(graph.nodes).toEqual(file.nodes);
    expect(graph.outputs).toEqual(file.outputs);
  });

  it.each(TEMPLATES.map((t) => t.name))(
    '%s checks clean, every node has a shape and a position',
    (name) => {
      const doc = template(name);
      const { shapes, diagnostics } = checkDraftGraph(doc.graph);
      expect(diagnostics).toEqual([]);
      for (const node of doc.graph.nodes) expect(shapes[node.id], node.id).toBeDefined();
      const view = buildView(doc, new Map());
      for (const node of view.nodes) expect(doc.layout[node.id], node.id).toBeDefined();
      // The loss is a scalar, the logits [N, classes].
      expect(shapes.loss?.shape).toEqual([]);
    },
  );

  it('lays a template out top to bottom: every edge goes to a lower row', () => {
    const doc = template('residual');
    const view = buildView(doc, new Map());
    for (const edge of view.edges)
      expect(doc.layout[edge.target]!.y, edge.id).toBeGreaterThan(doc.layout[edge.source]!.y);
  });
});

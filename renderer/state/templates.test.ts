import { describe, expect, it } from 'vitest';
import { checkDraftGraph } from '../../engine/worker/check-graph.js';
import { TEMPLATES } from './templates.js';
import { datasetForModel } from './training.js';
import { buildView } from './view.js';
import cnnMnist from '../../examples/cnn-mnist.json';
import mlpMnist from '../../examples/mlp-mnist.json';
import mlpSpiral from '../../examples/mlp-spiral.json';

const FILES: Record<string, unknown> = {
  'mlp-spiral.json': mlpSpiral,
  'cnn-mnist.json': cnnMnist,
  'mlp-mnist.json': mlpMnist,
};
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

  it('the MNIST MLP template is examples/mlp-mnist.json with a 128-wide hidden layer', () => {
    const file = example('mlp-mnist.json') as { nodes: { id: string; op: string }[] };
    const { graph } = template('mnist-mlp');
    expect(graph.nodes.map((n) => [n.id, n.op])).toEqual(file.nodes.map((n) => [n.id, n.op]));
    expect(graph.nodes.find((n) => n.id === 'fc1.weight')?.attrs['shape']).toEqual([128, 784]);
    expect(graph.nodes.find((n) => n.id === 'fc2.weight')?.attrs['shape']).toEqual([10, 128]);
    const { shapes } = checkDraftGraph(graph);
    expect(shapes.flatten?.shape).toEqual(['N', 784]);
    expect(shapes.fc2?.shape).toEqual(['N', 10]);
  });

  it('the Train panel switches to a data set that fits the template it is given', () => {
    expect(datasetForModel(template('mnist-mlp'), 'spiral')).toBe('mnist');
    expect(datasetForModel(template('cnn'), 'moons')).toBe('mnist');
    expect(datasetForModel(template('mnist-mlp'), 'mnist')).toBeNull();
    expect(datasetForModel(template('mlp'), 'mnist')).toBe('spiral');
    // A 2-D set the user chose stays; so does anything for a model neither set fits.
    expect(datasetForModel(template('mlp'), 'moons')).toBeNull();
    expect(datasetForModel(template('residual'), 'spiral')).toBeNull();
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

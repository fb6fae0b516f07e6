import { afterEach, describe, expect, it } from 'vitest';
import * as wg from '../../engine/index.js';
import { createInProcessEngineClient } from '../../engine/worker/in-process.js';
import { fixesFor } from './diagnostics.js';
import { type Editor, createEditor } from './editor.js';
import { buildLayer, readLayer, reconfigureLayer } from './layers.js';
import { paletteItems } from './palette-items.js';

const editors: Editor[] = [];

async function makeEditor(): Promise<Editor> {
  const editor = createEditor({ client: createInProcessEngineClient() });
  editors.push(editor);
  await editor.whenReady();
  return editor;
}

afterEach(() => {
  for (const editor of editors.splice(0)) editor.dispose();
});

describe('BatchNorm layers on the canvas', () => {
  it('the palette offers BatchNorm2d and BatchNorm1d as layers', () => {
    const items = paletteItems([]);
    for (const label of ['BatchNorm2d', 'BatchNorm1d'])
      expect(items.find((i) => i.label === label)).toMatchObject({
        section: 'Layers',
        tone: 'layer',
      });
  });

  it('builds PyTorch-named parameters with the running statistics kept out of training', () => {
    const nodes = buildLayer('bn', 'x', { kind: 'batchNorm', dims: 2, features: 8 }, [3, 4]);
    expect(nodes.map((n) => n.id)).toEqual([
      'bn.weight',
      'bn.bias',
      'bn.running_mean',
      'bn.running_var',
      'bn',
    ]);
    const byId = new Map(nodes.map((n) => [n.id, n]));
    expect(byId.get('bn.running_mean')!.attrs).toMatchObject({ init: 'zeros', trainable: false });
    expect(byId.get('bn.running_var')!.attrs).toMatchObject({ init: 'ones', trainable: false });
    expect(byId.get('bn.weight')!.attrs.trainable).toBeUndefined();
    expect(byId.get('bn')).toMatchObject({
      op: 'batchNorm',
      name: 'BatchNorm2d',
      inputs: ['x', 'bn.weight', 'bn.bias', 'bn.running_mean', 'bn.running_var'],
      attrs: { training: true, momentum: 0.1, eps: 1e-5 },
    });
    // The nodes form a document the engine accepts and runs.
    const graph = wg.Graph.fromJSON({
      format: 'wiregrad.graph',
      version: 1,
      name: 'bn',
      nodes: [
        {
          id: 'x',
          op: 'input',
          inputs: [],
          attrs: { shape: [-1, 8, 4, 4], dtype: 'f32', role: 'data' },
        },
        ...nodes,
      ],
      outputs: [{ name: 'y', node: 'bn' }],
    });
    expect(graph.symbolicShapes().get('bn')?.shape).toEqual(['N', 8, 4, 4]);
  });

  it('shows shapes through a BatchNorm2d and adapts its channels to the input', async () => {
    const editor = await makeEditor();
    editor.addItem('input', { x: 0, y: 0 });
    editor.addItem('batchNorm2d', { x: 300, y: 0 });
    editor.addItem('relu', { x: 600, y: 0 });
    editor.run('setAttr', { node: 'input_1', name: 'shape', value: [-1, 3, 8, 8] });
    await editor.whenAnalysed();
    expect(editor.connect('input_1', 'batchnorm_1', 0)).toBe(true);
    await editor.whenAnalysed();
    expect(editor.connect('batchnorm_1', 'relu_1', 0)).toBe(true);
    const check = await editor.whenAnalysed();
    expect(check.diagnostics).toEqual([]);
    expect(readLayer(editor.doc, 'batchnorm_1')!.config).toEqual({
      kind: 'batchNorm',
      dims: 2,
      features: 3,
    });
    expect(check.shapes.batchnorm_1?.shape).toEqual(['N', 3, 8, 8]);
    expect(check.shapes.relu_1?.shape).toEqual(['N', 3, 8, 8]);
    const node = editor.view.byId.get('batchnorm_1');
    expect(node?.kind).toBe('layer');
    expect(node?.title).toBe('BatchNorm2d');
  });

  it('a BatchNorm1d after a Linear takes its features; a wrong channel count is reported', async () => {
    const editor = await makeEditor();
    editor.addItem('input', { x: 0, y: 0 });
    editor.addItem('linear', { x: 300, y: 0 });
    editor.addItem('batchNorm1d', { x: 600, y: 0 });
    await editor.whenAnalysed();
    editor.connect('input_1', 'linear_1', 0);
    await editor.whenAnalysed();
    editor.connect('linear_1', 'batchnorm_1', 0);
    const check = await editor.whenAnalysed();
    expect(check.diagnostics).toEqual([]);
    expect(check.shapes.batchnorm_1?.shape).toEqual(['N', 64]);
    expect(editor.view.byId.get('batchnorm_1')?.title).toBe('BatchNorm1d');
    // Set the channels by hand to a wrong count: the layer's node shows the error.
    const doc = reconfigureLayer(editor.doc, 'batchnorm_1', {
      kind: 'batchNorm',
      dims: 1,
      features: 5,
    })!;
    expect(readLayer(doc, 'batchnorm_1')!.config).toMatchObject({ dims: 1, features: 5 });
    editor.run('setLayerConfig', {
      group: 'batchnorm_1',
      config: { kind: 'batchNorm', dims: 1, features: 5 },
    });
    const bad = await editor.whenAnalysed();
    expect(bad.diagnostics.map((d) => d.message).join('\n')).toMatch(
      /weight \[5\] does not match x \[N, 64\]; it must be \[64\]/,
    );
    // The suggested fix sets the channels back to the input's.
    const fixes = fixesFor(editor.view.byId.get('batchnorm_1')!, editor.doc, bad);
    expect(fixes.map((f) => f.label)).toContain('Set channels to 64');
    expect(editor.applyFix(fixes.find((f) => f.label === 'Set channels to 64')!)).toBe(true);
    expect((await editor.whenAnalysed()).diagnostics).toEqual([]);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import * as wg from '../../engine/index.js';
import { createInProcessEngineClient } from '../../engine/worker/in-process.js';
import { emptyDocument } from './document.js';
import { type Editor, createEditor } from './editor.js';
import { buildLayer, readLayer, reconfigureLayer } from './layers.js';
import { paletteItems } from './palette-items.js';

const editors: Editor[] = [];
afterEach(() => {
  for (const editor of editors.splice(0)) editor.dispose();
});

const config = { kind: 'embedding', numEmbeddings: 7, embeddingDim: 3 } as const;

describe('the Embedding layer', () => {
  it('is offered by the palette as a layer', () => {
    expect(paletteItems([]).find((i) => i.label === 'Embedding')).toMatchObject({
      section: 'Layers',
      tone: 'layer',
    });
  });

  it('looks up a row of its table for each index, as nn.Embedding', async () => {
    const nodes = buildLayer('emb', 'tokens', config, [5, 6]);
    expect(nodes.map((n) => [n.id, n.op])).toEqual([
      ['emb.weight', 'parameter'],
      ['emb', 'gather'],
    ]);
    const graph = wg.Graph.fromJSON({
      format: 'wiregrad.graph',
      version: 1,
      name: 'emb',
      nodes: [
        {
          id: 'tokens',
          op: 'input',
          inputs: [],
          attrs: { shape: [-1, 4], dtype: 'i32', role: 'data' },
        },
        ...nodes,
      ],
      outputs: [{ name: 'y', node: 'emb' }],
    });
    expect(graph.symbolicShapes().get('emb')?.shape).toEqual(['N', 4, 3]);
    const params = graph.initParameters();
    const table = Array.from(params.get('emb.weight')!.dataSync());
    const ids = [6, 0, 3, 3, 1, 2, 5, 4];
    const tokens = wg.tensor(Int32Array.from(ids), { shape: [2, 4] });
    const y = graph.run({ tokens }, { params })['y']!;
    expect(y.shape).toEqual([2, 4, 3]);
    expect(Array.from(y.dataSync())).toEqual(ids.flatMap((i) => table.slice(3 * i, 3 * i + 3)));
    // Initialised N(0, 1), as PyTorch: not all equal, of unit scale.
    const rms = Math.sqrt(table.reduce((a, v) => a + v * v, 0) / table.length);
    expect(rms).toBeGreaterThan(0.3);
    expect(rms).toBeLessThan(3);
  });

  it('reads back its configuration and rebuilds for a new one, keeping the input', () => {
    const empty = emptyDocument('m');
    const doc = {
      ...empty,
      graph: { ...empty.graph, nodes: buildLayer('emb', 'tokens', config, [5, 6]) },
    };
    const layer = readLayer(doc, 'emb');
    expect(layer).toMatchObject({ config, entry: { node: 'emb', index: 1 }, x: 'tokens' });
    const wider = reconfigureLayer(doc, 'emb', { ...config, embeddingDim: 8 });
    expect(wider?.graph.nodes.find((n) => n.id === 'emb.weight')?.attrs.shape).toEqual([7, 8]);
    expect(wider?.graph.nodes.find((n) => n.id === 'emb')?.inputs).toEqual([
      'emb.weight',
      'tokens',
    ]);
  });

  it('shows [N, L, dim] on the canvas after an i32 input', async () => {
    const editor = createEditor({ client: createInProcessEngineClient() });
    editors.push(editor);
    await editor.whenReady();
    editor.addItem('input', { x: 0, y: 0 });
    editor.addItem('embedding', { x: 300, y: 0 });
    editor.run('setAttr', { node: 'input_1', name: 'shape', value: [-1, 12] });
    editor.run('setAttr', { node: 'input_1', name: 'dtype', value: 'i32' });
    await editor.whenAnalysed();
    expect(editor.connect('input_1', 'embedding_1', 0)).toBe(true);
    const check = await editor.whenAnalysed();
    expect(check?.shapes['embedding_1']?.shape).toEqual(['N', 12, 64]);
  });
});

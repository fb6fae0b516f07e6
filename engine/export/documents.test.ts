/**
 * Export, import and data previews over the worker protocol, as the app uses them (the
 * in-process client: same server code, messages structured-cloned): an ONNX export of a
 * document decodes to a model with the document's inputs, and importing it gives the same
 * nodes back; a PyTorch export holds the module, the weights and the training script; an op a
 * target lacks and bytes that are not ONNX are refused with messages for people (no stack);
 * a CSV's loader errors arrive as they are. Exports free the parameter values they make. With
 * the training session's weights, the exported ONNX model (run by onnxruntime-node) classifies
 * the spiral far better than the initial one; weights of another graph are refused.
 */

import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { spiral } from '../data/synthetic.js';
import { templateGraphs, zooGraphs } from '../../test/export/graphs.js';
import { createInProcessEngineClient } from '../worker/in-process.js';
import { dispose, memory } from '../runtime/scope.js';
import { decodeWeights, encodeWeightsSync } from '../train/weights-file.js';
import { exportDocument } from './documents.js';
import { decodeModel } from './onnx-proto.js';

const client = createInProcessEngineClient();
afterAll(() => client.close());

const [, mlp] = templateGraphs().find(([name]) => name === 'mlp')!;

describe('export and import over the worker protocol', () => {
  it('exports a document as ONNX and imports it back to the same nodes', async () => {
    const doc = mlp.toJSON();
    const { files, warnings } = await client.exportGraph(doc, 'onnx');
    expect(warnings).toEqual([]);
    expect(files.map((f) => f.name)).toEqual(['model.onnx']);
    const bytes = files[0]!.contents as Uint8Array;
    const model = decodeModel(bytes);
    expect(model.graph!.input!.map((i) => i.name).sort()).toEqual(
      mlp.inputs.map((n) => n.name ?? n.id).sort(),
    );
    const { graph, report } = await client.importOnnx(bytes, 'mlp.onnx');
    expect(report.placeholders).toEqual([]);
    expect(graph.nodes.map((n) => `${n.id}:${n.op}`).sort()).toEqual(
      doc.nodes.map((n) => `${n.id}:${n.op}`).sort(),
    );
  });

  it('brings the ONNX model’s weights as a weights file that fits the imported graph', async () => {
    const doc = mlp.toJSON();
    const { files } = await client.exportGraph(doc, 'onnx');
    const { graph, weights } = await client.importOnnx(files[0]!.contents as Uint8Array, 'm.onnx');
    expect(weights).toBeInstanceOf(Uint8Array);
    const { values, info } = decodeWeights(graph, weights!);
    expect(info.step).toBe(0);
    const seeded = mlp.initParameters();
    expect([...values.keys()].sort()).toEqual([...seeded.keys()].sort());
    for (const [id, t] of seeded)
      expect(Array.from(values.get(id)!.dataSync()), id).toEqual(Array.from(t.dataSync()));
    dispose([...values.values()]);
  });

  it('exports with the weights of a weights file given as bytes', async () => {
    const doc = mlp.toJSON();
    const shifted = new Map([...mlp.initParameters()].map(([id, t]) => [id, t.add(0.5)]));
    const bytes = encodeWeightsSync(doc, shifted, { step: 7 });
    const { files } = await client.exportGraph(doc, 'onnx', bytes);
    const back = await client.importOnnx(files[0]!.contents as Uint8Array, 'm.onnx');
    const { values } = decodeWeights(back.graph, back.weights!);
    for (const [id, t] of shifted)
      expect(Array.from(values.get(id)!.dataSync()), id).toEqual(Array.from(t.dataSync()));
    dispose([...values.values(), ...shifted.values()]);
    // A file for another model is refused with the parameter it lacks.
    const other = templateGraphs()
      .find(([name]) => name === 'two-tower')![1]
      .toJSON();
    await expect(client.exportGraph(other, 'onnx', bytes)).rejects.toThrow(/do not fit this model/);
  });

  it('exports a PyTorch project', async () => {
    const { files } = await client.exportGraph(mlp.toJSON(), 'pytorch');
    expect(files.map((f) => f.name).sort()).toEqual([
      'README.md',
      'model.py',
      'train.py',
      'weights.safetensors',
    ]);
    expect(files.find((f) => f.name === 'model.py')!.contents).toMatch(/nn\.Linear/);
  });

  it('refuses an op the target lacks, naming the node and the op', async () => {
    const [, grads] = zooGraphs().find(([name]) => name === 'conv-grads')!;
    const failed = client.exportGraph(grads.toJSON(), 'onnx');
    await expect(failed).rejects.toThrow(/node '\w+', op 'conv2dBackprop\w+'/);
    await expect(failed).rejects.not.toThrow(/ at \w+ \(/); // a message, not a stack
  });

  it('says when the bytes are not an ONNX model', async () => {
    await expect(
      client.importOnnx(new TextEncoder().encode('hello'), 'notes.onnx'),
    ).rejects.toThrow(/ONNX: the (file is not an ONNX model|model has no graph)/);
  });

  it('previews built-in sets and CSV files, passing on the loader’s errors', async () => {
    const spiral = await client.previewDataset('spiral');
    expect(spiral.classCounts.reduce((a, b) => a + b, 0)).toBe(spiral.examples);
    const csv = await client.previewCsv('t.csv', 'a,b,y\n1,2,p\n3,4,q\n', 'y');
    expect(csv.columns).toEqual(['a', 'b', 'y']);
    expect(csv.classCounts).toEqual([1, 1]);
    await expect(client.previewCsv('bad.csv', 'a,y\n1,p\n2\n')).rejects.toThrow(
      /bad\.csv, line 3: the row has 1 fields/,
    );
  });
});

describe('exporting from a long-lived worker', () => {
  it('frees the parameter values it makes', async () => {
    const doc = mlp.toJSON();
    await exportDocument(doc, 'onnx');
    await exportDocument(doc, 'pytorch');
    const before = memory().tensors;
    for (let i = 0; i < 3; i++) {
      await exportDocument(doc, 'onnx');
      await exportDocument(doc, 'pytorch');
    }
    expect(memory().tensors).toBe(before);
  });
});

type Ort = typeof import('onnxruntime-node');
const ort = createRequire(import.meta.url)('onnxruntime-node') as Ort;

/** The accuracy of an exported ONNX model's logits on points x [n, 2] with labels y. */
async function onnxAccuracy(bytes: Uint8Array, x: Float32Array, y: Int32Array): Promise<number> {
  const session = await ort.InferenceSession.create(bytes);
  const n = y.length;
  const feeds: Record<string, InstanceType<Ort['Tensor']>> = {};
  for (const input of mlp.inputs) {
    const name = input.name ?? input.id;
    feeds[name] =
      input.op === 'input' && (input.attrs as { dtype?: string }).dtype === 'i32'
        ? new ort.Tensor('int32', y, [n])
        : new ort.Tensor('float32', x, [n, 2]);
  }
  const out = await session.run(feeds);
  const logits = out['logits']!.data as Float32Array;
  const classes = logits.length / n;
  let right = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < classes; c++)
      if (logits[i * classes + c]! > logits[i * classes + best]!) best = c;
    if (best === y[i]) right++;
  }
  return right / n;
}

describe('exporting trained weights', () => {
  it('refuses before any training', async () => {
    const fresh = createInProcessEngineClient();
    await expect(fresh.exportGraph(mlp.toJSON(), 'onnx', 'trained')).rejects.toThrow(
      /no trained weights yet: train the model in the Train tab first/,
    );
    fresh.close();
  });

  it('exports the training session’s weights, which classify the spiral', async () => {
    const doc = mlp.toJSON();
    const done = new Promise<void>((resolve) => {
      const stop = client.onTrainProgress((progress) => {
        if (progress.status === 'done') {
          stop();
          resolve();
        }
      });
    });
    await client.startTraining(doc, 'spiral', {
      optimizer: 'adam',
      lr: 0.02,
      batchSize: 32,
      epochs: 40,
      seed: 0,
    });
    await done;
    const set = spiral(300, { seed: 0 });
    const x = set.x.dataSync() as Float32Array;
    const y = set.y.dataSync() as Int32Array;
    const initial = (await client.exportGraph(doc, 'onnx')).files[0]!.contents as Uint8Array;
    const trained = (await client.exportGraph(doc, 'onnx', 'trained')).files[0]!
      .contents as Uint8Array;
    const before = await onnxAccuracy(initial, x, y);
    const after = await onnxAccuracy(trained, x, y);
    set.x.dispose();
    set.y.dispose();
    expect(after).toBeGreaterThan(0.8);
    expect(after).toBeGreaterThan(before + 0.3);

    const [, cnn] = templateGraphs().find(([name]) => name === 'cnn')!;
    await expect(client.exportGraph(cnn.toJSON(), 'pytorch', 'trained')).rejects.toThrow(
      /the trained weights are for another graph: parameter '[\w.]+'/,
    );
  }, 60_000);
});

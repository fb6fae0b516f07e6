/**
 * File → Export… and File → Import ONNX… end to end in web mode (built, served and driven in
 * Debian's headless Chromium as in canvas.test.ts), with the download/upload fallback of
 * browsers without the File System Access API. The MLP template exported as ONNX from the app
 * (Ctrl+E) loads in onnxruntime-node and gives the engine's outputs for the same input and
 * seeded weights; importing that file back opens the same nodes on the canvas. Weights trained
 * in the Train tab export too, and the exported model classifies the spiral. A PyTorch
 * export arrives as a ZIP that Python's zipfile reads, holding the module, the weights and the
 * training script. An ONNX model with an op Wiregrad lacks imports with a report naming it.
 *
 * Chromium is required, as for test/browser/engine-worker.test.ts.
 */

import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { type Download, type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import * as wg from '../../engine/index.js';
import { encodeModel } from '../../engine/export/onnx-proto.js';
import { Graph } from '../../engine/graph/graph.js';
import { readModelFile } from '../../engine/protocol/notebook.js';
import {
  documentText,
  loadTemplate,
  openTrainPanel,
  screenshot,
  useAppSession,
  withoutFilePickers,
} from '../helpers/app-browser.js';
import { inputsFor } from '../export/graphs.js';

type Ort = typeof import('onnxruntime-node');
const ort = createRequire(import.meta.url)('onnxruntime-node') as Ort;

const TEST_TIMEOUT = 45_000;

let page: Page;
const session = useAppSession({
  prefix: 'wiregrad-export-',
  acceptDownloads: true,
  // The download/upload fallback, as in browsers without showSaveFilePicker.
  init: withoutFilePickers,
  onOpen: (opened) => {
    page = opened.page;
  },
});

/** The canvas document's graph, as the app would save it. */
async function documentGraph(): Promise<Graph> {
  const text = await documentText(page);
  return Graph.fromJSON(readModelFile(text).graph);
}

/** Node ids and ops of a graph, sorted. */
function nodesOf(graph: Graph): string[] {
  return graph.nodes.map((n) => `${n.id}:${n.op}`).sort();
}

/** Runs ONNX bytes in onnxruntime-node on engine tensors. */
async function runOrt(bytes: Uint8Array, inputs: Record<string, wg.Tensor>) {
  const session = await ort.InferenceSession.create(bytes);
  const feeds: Record<string, InstanceType<Ort['Tensor']>> = {};
  for (const [name, t] of Object.entries(inputs))
    feeds[name] =
      t.dtype === 'i32'
        ? new ort.Tensor('int32', Int32Array.from(t.dataSync()), [...t.shape])
        : new ort.Tensor('float32', Float32Array.from(t.dataSync()), [...t.shape]);
  const out = await session.run(feeds);
  const result: Record<string, { dims: number[]; data: number[] }> = {};
  for (const [k, v] of Object.entries(out))
    result[k] = { dims: [...v.dims], data: Array.from(v.data as Float32Array, Number) };
  return result;
}

describe('File → Export and Import ONNX', { timeout: TEST_TIMEOUT }, () => {
  it('exports the MLP template as ONNX that onnxruntime runs with the engine’s outputs, and imports it back', async () => {
    await loadTemplate(page, 'mlp', 'loss');
    const graph = await documentGraph();

    await page.keyboard.press('Control+e');
    await page.getByTestId('export-dialog').waitFor();
    await page.getByTestId('export-target-onnx').click();
    await screenshot(page, 'export-dialog');
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('export-run').click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/\.onnx$/);
    const path = join(session.app.dir, 'model.onnx');
    await download.saveAs(path);
    await page.getByTestId('export-status').filter({ hasText: 'Exported' }).waitFor();
    await screenshot(page, 'export-done');
    await page.keyboard.press('Escape');
    await page.getByTestId('export-dialog').waitFor({ state: 'detached' });

    // onnxruntime against the engine, on the same input and the graph's seeded weights.
    const bytes = new Uint8Array(await readFile(path));
    const inputs = inputsFor(graph, 5, 7);
    const theirs = await runOrt(bytes, inputs);
    const ours = wg.noGrad(() =>
      wg.tidy(() => {
        const outs = graph.run(inputs);
        const result: Record<string, { dims: number[]; data: number[] }> = {};
        for (const [k, t] of Object.entries(outs))
          result[k] = { dims: [...t.shape], data: Array.from(t.dataSync()) };
        return result;
      }),
    );
    wg.dispose(Object.values(inputs));
    expect(Object.keys(theirs).sort()).toEqual(Object.keys(ours).sort());
    expect(Object.keys(ours)).toContain('logits');
    for (const [k, v] of Object.entries(ours)) {
      expect(theirs[k]!.dims, k).toEqual(v.dims);
      for (let i = 0; i < v.data.length; i++)
        expect(Math.abs(theirs[k]!.data[i]! - v.data[i]!), `${k}[${i}]`).toBeLessThanOrEqual(
          1e-4 * Math.max(1, Math.abs(v.data[i]!)),
        );
    }

    // Import the downloaded file into a new document: the same nodes come back.
    await page.getByTestId('file-new').click();
    await page.getByTestId('node-loss').waitFor({ state: 'detached' });
    const [chooser] = await Promise.all([
      page.waitForEvent('filechooser'),
      page.getByTestId('file-import-onnx').click(),
    ]);
    await chooser.setFiles(path);
    await page.getByTestId('node-loss').waitFor();
    await page
      .getByTestId('status')
      .filter({ hasText: /Imported model\.onnx/ })
      .waitFor();
    expect(await page.getByTestId('import-report').count()).toBe(0);
    await screenshot(page, 'import-onnx');
    expect(nodesOf(await documentGraph())).toEqual(nodesOf(graph));

    // The file's weights came with it: Save writes them beside the notebook, value for value.
    await page.getByTestId('status').filter({ hasText: 'with its weights' }).waitFor();
    await page.getByTestId('tab-train').click();
    await page.getByTestId('weights-source').filter({ hasText: 'model.onnx' }).waitFor();
    const saved: Download[] = [];
    const both = new Promise<void>((resolve) =>
      page.on('download', (d) => {
        if (saved.push(d) === 2) resolve();
      }),
    );
    await page.getByTestId('file-save').click();
    await both;
    const weights = saved.find((d) => d.suggestedFilename().endsWith('.safetensors'))!;
    const weightsPath = join(session.app.dir, 'imported.safetensors');
    await weights.saveAs(weightsPath);
    const loaded = wg.nn.loadSafetensors(new Uint8Array(await readFile(weightsPath)));
    const seeded = graph.initParameters();
    expect([...loaded.keys()].sort()).toEqual([...seeded.keys()].sort());
    for (const [id, t] of seeded)
      expect(Array.from(loaded.get(id)!.dataSync()), id).toEqual(Array.from(t.dataSync()));
    wg.dispose([...loaded.values()]);
  });

  it('exports the weights trained in the Train tab, which classify the spiral', async () => {
    await loadTemplate(page, 'mlp', 'loss');
    await openTrainPanel(page, 'spiral');
    for (const [field, value] of [
      ['train-epochs', '40'],
      ['train-lr', '0.02'],
    ] as const) {
      await page.getByTestId(field).fill(value);
      await page.getByTestId(field).press('Enter');
    }
    await page.getByTestId('train-start').click();
    await page.getByTestId('train-status').filter({ hasText: 'Done' }).waitFor();

    await page.keyboard.press('Control+e');
    const trained = page.getByTestId('export-trained');
    await trained.waitFor();
    expect(await trained.isChecked()).toBe(true);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('export-run').click(),
    ]);
    const path = join(session.app.dir, 'trained.onnx');
    await download.saveAs(path);

    // The exported model classifies the training points as the trained model does (≥ 80%).
    const set = wg.data.spiral(300, { seed: 0 });
    const x = set.x.dataSync() as Float32Array;
    const y = set.y.dataSync() as Int32Array;
    const n = y.length;
    const out = await runOrt(new Uint8Array(await readFile(path)), {
      x: set.x,
      y: set.y,
    });
    wg.dispose([set.x, set.y]);
    const logits = out['logits']!.data;
    const classes = logits.length / n;
    let right = 0;
    for (let i = 0; i < n; i++) {
      let best = 0;
      for (let c = 1; c < classes; c++)
        if (logits[i * classes + c]! > logits[i * classes + best]!) best = c;
      if (best === y[i]) right++;
    }
    expect(x.length).toBe(2 * n);
    expect(right / n).toBeGreaterThan(0.8);
  });

  it('exports a PyTorch project as a ZIP with the module, weights and training script', async () => {
    await loadTemplate(page, 'mlp', 'loss');
    await page.getByTestId('file-export').click();
    await page.getByTestId('export-target-pytorch').click();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('export-run').click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/-pytorch\.zip$/);
    const path = join(session.app.dir, 'pytorch.zip');
    await download.saveAs(path);
    const list = spawnSync(
      'python3',
      [
        '-c',
        'import json,sys,zipfile\nz=zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\n' +
          'print(json.dumps({n: len(z.read(n)) for n in z.namelist()}))',
        path,
      ],
      { encoding: 'utf8' },
    );
    expect(list.stderr).toBe('');
    const sizes = JSON.parse(list.stdout) as Record<string, number>;
    const names = Object.keys(sizes).map((n) => n.replace(/^[^/]+\//, ''));
    expect(names.sort()).toEqual(['README.md', 'model.py', 'train.py', 'weights.safetensors']);
    for (const [name, size] of Object.entries(sizes)) expect(size, name).toBeGreaterThan(100);
  });

  it('imports an ONNX model with an op Wiregrad lacks, naming it in a report', async () => {
    const float = (name: string) => ({
      name,
      type: { tensorType: { elemType: 1, shape: { dim: [{ dimValue: 2 }, { dimValue: 3 }] } } },
    });
    const bytes = encodeModel({
      irVersion: 8,
      producerName: 'hand-made',
      opsetImport: [{ domain: '', version: 17 }],
      graph: {
        name: 'odd',
        node: [
          { opType: 'Relu', input: ['x'], output: ['r'], name: 'relu1' },
          { opType: 'FancyWarp', input: ['r'], output: ['y'], name: 'warp1' },
        ],
        input: [float('x')],
        output: [float('y')],
      },
    });
    const path = join(session.app.dir, 'odd.onnx');
    await writeFile(path, bytes);
    const [chooser] = await Promise.all([
      page.waitForEvent('filechooser'),
      page.getByTestId('file-import-onnx').click(),
    ]);
    await chooser.setFiles(path);
    const report = page.getByTestId('import-unsupported');
    await report.waitFor();
    expect(await report.textContent()).toContain("'FancyWarp'");
    expect(await page.getByTestId('status').textContent()).toContain('FancyWarp');
    await screenshot(page, 'import-unsupported');
    await page.getByTestId('import-report-close').click();
    await page.getByTestId('import-report').waitFor({ state: 'detached' });
  });

  it('says why a file is not an ONNX model, leaving the document as it was', async () => {
    await loadTemplate(page, 'mlp', 'loss');
    const path = join(session.app.dir, 'notes.onnx');
    await writeFile(path, 'these are not protobuf bytes at all');
    const [chooser] = await Promise.all([
      page.waitForEvent('filechooser'),
      page.getByTestId('file-import-onnx').click(),
    ]);
    await chooser.setFiles(path);
    await page
      .getByTestId('status')
      .filter({
        hasText:
          /Could not import the ONNX file: ONNX: the (file is not an ONNX model|model has no graph)/,
      })
      .waitFor();
    await page.getByTestId('node-loss').waitFor();
  });
});

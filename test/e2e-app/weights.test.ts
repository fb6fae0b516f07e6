/**
 * Trained weights persist with the notebook, end to end in web mode (download/upload, as in
 * browsers without the File System Access API): train the MLP on the spiral, save, and the
 * notebook comes with `<name>.safetensors`; open both in a fresh page and the model is the
 * trained one at once (held-out accuracy, "Weights:" line); the notebook alone opens with a
 * message saying its weights were not found; weights that do not fit a model are refused with
 * the reason and change nothing.
 */

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Download, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { safetensorsMetadata } from '../../engine/nn/safetensors.js';
import {
  loadTemplate,
  openTrainPanel,
  screenshot,
  setField,
  stopTraining,
  textOf,
  useAppSession,
  waitForNumber,
  withoutFilePickers,
} from '../helpers/app-browser.js';

const TEST_TIMEOUT = 120_000;
/** The MLP template ('MLP for 2-D points') saves as this notebook, with these weights. */
const NOTEBOOK = 'mlp-for-2-d-points.ipynb';
const WEIGHTS = 'mlp-for-2-d-points.safetensors';

let page: Page;
const session = useAppSession({
  prefix: 'wiregrad-weights-',
  init: withoutFilePickers,
  onOpen: (opened) => {
    page = opened.page;
  },
});

/** Saves with `file-save` and keeps every download it makes, by suggested name. */
async function saveAll(count: number): Promise<Map<string, string>> {
  const downloads: Download[] = [];
  const seen = new Promise<void>((resolve) => {
    page.on('download', (d) => {
      downloads.push(d);
      if (downloads.length === count) resolve();
    });
  });
  await page.getByTestId('file-save').click();
  await seen;
  const paths = new Map<string, string>();
  for (const d of downloads) {
    const path = join(session.app.dir, d.suggestedFilename());
    await d.saveAs(path);
    paths.set(d.suggestedFilename(), path);
  }
  return paths;
}

/** In the page: whether the weights autosaved in IndexedDB are those of `step`. */
function autosavedWeightsStep(step: number): Promise<boolean> {
  interface Request<T> {
    onsuccess: (() => void) | null;
    onerror: (() => void) | null;
    readonly result: T;
  }
  interface Db {
    readonly objectStoreNames: { contains(name: string): boolean };
    transaction(store: string): {
      objectStore(name: string): { get(key: string): Request<unknown> };
    };
    close(): void;
  }
  const g = globalThis as unknown as {
    indexedDB: { open(name: string): Request<Db> };
    TextDecoder: new () => { decode(bytes: Uint8Array): string };
  };
  return new Promise((resolve) => {
    const open = g.indexedDB.open('wiregrad');
    open.onerror = () => resolve(false);
    open.onsuccess = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains('autosave')) {
        db.close();
        return resolve(false);
      }
      const get = db.transaction('autosave').objectStore('autosave').get('weights');
      get.onerror = () => resolve(false);
      get.onsuccess = () => {
        db.close();
        const bytes = get.result;
        if (!(bytes instanceof Uint8Array)) return resolve(false);
        // safetensors: an 8-byte little-endian header length, then the JSON header.
        const length = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
        const header = new g.TextDecoder().decode(bytes.subarray(8, 8 + length));
        resolve(header.includes(`"step":"${step}"`));
      };
    };
  });
}

async function openFiles(paths: readonly string[]): Promise<void> {
  const [chooser] = await Promise.all([
    page.waitForEvent('filechooser'),
    page.getByTestId('file-open').click(),
  ]);
  await chooser.setFiles([...paths]);
}

describe('trained weights beside the notebook', { timeout: TEST_TIMEOUT }, () => {
  it('are saved with it and come back when both are opened', async () => {
    await loadTemplate(page, 'mlp');
    await openTrainPanel(page, 'spiral');
    await setField(page, 'train-epochs', '150');
    await page.getByTestId('train-start').click();
    await waitForNumber(page, '[data-testid="metric-val-accuracy"]', {
      atLeast: 0.9,
      timeout: 90_000,
    });
    await stopTraining(page);
    const trainedStep = Number(await textOf(page, 'train-step-count'));
    expect(await textOf(page, 'weights-source')).toBe('trained in this session');

    const files = await saveAll(2);
    expect([...files.keys()].sort()).toEqual([NOTEBOOK, WEIGHTS]);
    await page.getByTestId('status-message').filter({ hasText: WEIGHTS }).waitFor();
    const notebookPath = files.get(NOTEBOOK)!;
    const weightsPath = files.get(WEIGHTS)!;
    const notebook = JSON.parse(await readFile(notebookPath, 'utf8')) as {
      metadata: { wiregrad: { weights: { step: number; file: string; bytes: number } } };
    };
    const weightsBytes = new Uint8Array(await readFile(weightsPath));
    expect(notebook.metadata.wiregrad.weights).toMatchObject({
      file: WEIGHTS,
      step: trainedStep,
      bytes: weightsBytes.byteLength,
    });
    expect(safetensorsMetadata(weightsBytes)).toMatchObject({
      format: 'wiregrad.weights',
      step: String(trainedStep),
      dataset: 'spiral',
    });

    // A fresh page (a new engine): the notebook with its weights is the trained model at once.
    await session.current.context.close();
    await session.open({ init: withoutFilePickers });
    await openFiles([notebookPath, weightsPath]);
    await page
      .getByTestId('status-message')
      .filter({ hasText: `with its trained weights (${WEIGHTS})` })
      .waitFor();
    await page.getByTestId('tab-train').click();
    await page.getByTestId('weights-source').filter({ hasText: WEIGHTS }).waitFor();
    expect(await textOf(page, 'weights-source')).toContain(
      `step ${trainedStep.toLocaleString('en-US')}`,
    );
    // Evaluated at once on the held-out set: the trained model (a fresh one scores about 1/3).
    await waitForNumber(page, '[data-testid="metric-val-accuracy"]', { atLeast: 0.88 });
    expect(Number(await textOf(page, 'train-step-count'))).toBe(0);
    // Nothing trained here yet: ready, with Train (not Resume) to go on from those weights.
    expect(await textOf(page, 'train-status')).toMatch(/^Ready · epoch 1\//);
    expect(await textOf(page, 'train-pause')).toBe('Train');
    await screenshot(page, 'weights-loaded');
    // Export offers those weights.
    await page.keyboard.press('Control+e');
    await page.getByTestId('export-dialog').waitFor();
    expect(await page.getByTestId('export-trained').isChecked()).toBe(true);
    expect(await page.getByTestId('export-dialog').textContent()).toContain(
      `Use the weights from ${WEIGHTS}`,
    );
    await page.keyboard.press('Escape');
    await page.getByTestId('export-dialog').waitFor({ state: 'detached' });

    // Reset goes back to the seeded values: nothing is written beside the notebook then.
    await page.getByTestId('train-reset').click();
    await page.getByTestId('weights-source').filter({ hasText: 'seeded' }).waitFor();
  });

  it('opens the notebook alone with a message that its weights were not found', async () => {
    await loadTemplate(page, 'mlp');
    await openTrainPanel(page, 'spiral');
    await page.getByTestId('train-step').click();
    await waitForNumber(page, '[data-testid="train-step-count"]', { atLeast: 1 });
    const files = await saveAll(2);
    await page.getByTestId('file-new').click();
    await openFiles([files.get(NOTEBOOK)!]);
    await page.getByTestId('status-message').filter({ hasText: 'were not found' }).waitFor();
    expect(await textOf(page, 'status-message')).toMatch(
      new RegExp(
        `its trained weights \\(${WEIGHTS.replace(/\./g, '\\.')}, step 1\\) were not found beside it`,
      ),
    );
    await page.getByTestId('node-loss').waitFor();
  });

  it('are autosaved with the document and come back after a reload', async () => {
    await loadTemplate(page, 'mlp');
    await openTrainPanel(page, 'spiral');
    for (let k = 1; k <= 3; k++) {
      await page.getByTestId('train-step').click();
      await waitForNumber(page, '[data-testid="train-step-count"]', { atLeast: k });
    }
    // Paused at a new step: the weights of step 3 are autosaved (IndexedDB) with the document.
    await page.waitForFunction(autosavedWeightsStep, 3);
    await page.reload();
    await page.getByTestId('node-loss').waitFor();
    await page
      .getByTestId('status-message')
      .filter({ hasText: 'Restored the trained weights' })
      .waitFor();
    await page.getByTestId('tab-train').click();
    await page.getByTestId('weights-source').filter({ hasText: 'autosaved weights' }).waitFor();
    expect(await textOf(page, 'weights-source')).toContain('step 3');

    // New drops them: a reload then restores the empty model alone.
    await page.getByTestId('file-new').click();
    await page.getByTestId('node-loss').waitFor({ state: 'detached' });
    await page.reload();
    await page.getByTestId('tab-train').click();
    expect(await textOf(page, 'weights-source')).toBe('seeded initial values');
  });

  it('refuses weights that do not fit the model, saying which parameter', async () => {
    await loadTemplate(page, 'mlp');
    await openTrainPanel(page, 'spiral');
    await page.getByTestId('train-step').click();
    await waitForNumber(page, '[data-testid="train-step-count"]', { atLeast: 1 });
    const files = await saveAll(2);

    await loadTemplate(page, 'two-tower');
    const [chooser] = await Promise.all([
      page.waitForEvent('filechooser'),
      page.getByTestId('weights-load').click(),
    ]);
    await chooser.setFiles(files.get(WEIGHTS)!);
    await page.getByTestId('weights-note').filter({ hasText: 'was not loaded' }).waitFor();
    expect(await textOf(page, 'weights-note')).toMatch(
      /was not loaded: the weights do not fit this model: (parameter|none of its)/,
    );
    expect(await textOf(page, 'weights-source')).not.toContain(WEIGHTS);
  });
});

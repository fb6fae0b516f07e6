/**
 * Training what is not a classifier in the app, end to end in web mode (Debian's headless
 * Chromium, as in training.test.ts): the Autoencoder template trains on the MNIST digits without
 * labels (its loss falls; no accuracy anywhere; a drawn digit comes back reconstructed), and a
 * regressor trains on an uploaded CSV whose target holds numbers (validation RMSE and R²). Every
 * wait polls the DOM for the state it expects; nothing sleeps.
 */

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../engine/graph/builder.js';
import {
  loadTemplate,
  screenshot,
  setField,
  textOf,
  useAppSession,
  waitForEngine,
  waitForNumber,
} from '../helpers/app-browser.js';

/** Where the app in a browser autosaves its document (renderer/host/browser-host.ts). */
const AUTOSAVE_KEY = 'wiregrad.autosave.v1';

let page: Page;
const session = useAppSession({
  prefix: 'wiregrad-train-tasks-',
  onOpen: (opened) => {
    page = opened.page;
  },
});

/** The Train panel's metric `testId` as a number (NaN for a dash). */
async function metric(testId: string): Promise<number> {
  return Number(await textOf(page, testId));
}

/** Waits until the Train panel's step count reaches `step`. */
function waitForStep(step: number): Promise<void> {
  return waitForNumber(page, '[data-testid="train-step-count"]', { atLeast: step });
}

/** Expects no accuracy and no class views in the Train panel. */
async function expectNoAccuracy(): Promise<void> {
  expect(await page.getByTestId('metric-accuracy').count()).toBe(0);
  expect(await page.getByTestId('metric-val-accuracy').count()).toBe(0);
  expect(await page.getByTestId('confusion-matrix').count()).toBe(0);
  expect(await textOf(page, 'chart-key')).not.toContain('accuracy');
  expect(await textOf(page, 'train-panel')).not.toMatch(/accuracy\s*\d/);
  await page.getByTestId('task-views-note').waitFor();
}

describe('training other tasks than classification', { timeout: 120_000 }, () => {
  it('trains the Autoencoder template on the digits: its loss falls, no accuracy shown', async () => {
    await loadTemplate(page, 'autoencoder');
    await page.getByTestId('tab-train').click();
    // Nothing stands in the way, and the model reads 784 values: the digits are chosen for it.
    expect(await page.getByTestId('train-problem').count()).toBe(0);
    expect(await page.getByTestId('dataset-select').inputValue()).toBe('mnist');
    await setField(page, 'train-epochs', '5');
    await setField(page, 'train-lr', '0.003');
    // One step first, to read the loss of the untrained model.
    await page.getByTestId('train-step').click();
    await waitForStep(1);
    const first = await metric('metric-loss');
    expect(first).toBeGreaterThan(0);
    await page.getByTestId('train-pause').click(); // Resume
    // Five epochs of 63 batches: a few hundred steps.
    await page.getByTestId('train-status').filter({ hasText: 'Done' }).waitFor({ timeout: 90_000 });
    expect(await metric('train-step-count')).toBe(315);
    const loss = await metric('metric-loss');
    const validation = await metric('metric-val-loss');
    console.log(`autoencoder: loss ${first} → ${loss}, validation loss ${validation}`);
    expect(loss).toBeLessThan(first * 0.5);
    expect(validation).toBeLessThan(first * 0.5);
    await expectNoAccuracy();
    // Edge gradients follow training as for a classifier.
    expect(await page.locator('.react-flow__edge-path[data-grad-norm]').count()).toBeGreaterThan(0);

    // Try the model: a drawn digit comes back reconstructed.
    const pad = page.getByTestId('digit-pad');
    await pad.scrollIntoViewIfNeeded();
    const box = (await pad.boundingBox())!;
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.8, { steps: 8 });
    await page.mouse.up();
    await page.locator('[data-testid="digit-reconstruction"][data-ready="true"]').waitFor();
    expect(await page.getByTestId('try-result').count()).toBe(0);
    await screenshot(page, 'train-autoencoder');
    await page.getByTestId('histograms').scrollIntoViewIfNeeded();
    await screenshot(page, 'train-autoencoder-views');
  });

  it('trains a regressor on a CSV of numbers: validation RMSE and R², no accuracy', async () => {
    // A regressor (f32 label [N, 1], MSE loss) as the autosaved document, then a reload.
    const b = new GraphBuilder('House prices');
    const x = b.input('x', [-1, 3], 'f32', 'data');
    const y = b.input('y', [-1, 1], 'f32', 'label');
    const h = b.op('relu', [b.linear(x, 3, 16, 'fc1')], {}, 'relu1');
    const out = b.linear(h, 16, 1, 'head');
    b.output('output', out);
    b.output('loss', b.op('mseLoss', [out, y], {}, 'loss'));
    const text = JSON.stringify(b.toJSON());
    await page.evaluate(
      ([key, value]) =>
        (
          globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }
        ).localStorage.setItem(key!, value!),
      [AUTOSAVE_KEY, text],
    );
    await page.reload();
    await waitForEngine(page);
    await page.getByTestId('node-loss').waitFor();
    // The document has no layout: tidy it up, as a user would.
    await page.getByTestId('layout-tidy').click();
    await page.getByTestId('view-fit').click();

    // price = 120·rooms + 3·area − 2·age + 50, thousands, with a little noise.
    const lines = ['rooms,area,age,price'];
    for (let i = 0; i < 300; i++) {
      const rooms = 1 + (i % 6);
      const area = 40 + ((i * 37) % 160);
      const age = (i * 13) % 60;
      const noise = (((i * 7919) % 101) / 101 - 0.5) * 10;
      lines.push(
        `${rooms},${area},${age},${(120 * rooms + 3 * area - 2 * age + 50 + noise).toFixed(1)}`,
      );
    }
    const csvPath = join(session.app.dir, 'prices.csv');
    await writeFile(csvPath, lines.join('\n') + '\n');
    await page.getByTestId('tab-data').click();
    await page.getByTestId('csv-upload').setInputFiles(csvPath);
    await page.getByTestId('csv-training-tip').waitFor();
    await page.getByTestId('tab-train').click();
    expect(await page.getByTestId('dataset-select').inputValue()).toBe('csv');
    await setField(page, 'train-epochs', '40');
    await page.getByTestId('train-start').click();
    await page.getByTestId('train-status').filter({ hasText: 'Done' }).waitFor({ timeout: 60_000 });
    const r2 = await metric('metric-val-r2');
    const rmse = await metric('metric-val-rmse');
    console.log(`regression: validation R² ${r2}, RMSE ${rmse} (prices in the hundreds)`);
    expect(r2).toBeGreaterThan(0.9);
    // In the target's own units: a typical price is several hundred, the error a few tens.
    expect(rmse).toBeGreaterThan(0.5);
    expect(rmse).toBeLessThan(60);
    await expectNoAccuracy();
    await screenshot(page, 'train-regression');
    await page.getByTestId('histograms').scrollIntoViewIfNeeded();
    await screenshot(page, 'train-regression-views');
  });
});

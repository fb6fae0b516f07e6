/**
 * The Data tab end to end in web mode (built, served and driven in Debian's headless Chromium
 * as in canvas.test.ts): the Train form's data set previewed as a table with class counts and
 * shapes, the MNIST digits as an image grid, and a CSV the user uploads parsed in the engine
 * worker, with its target column chosen in the panel and the loader's own error (file, line,
 * reason) shown for a malformed file. Every wait polls the DOM for the state it expects.
 *
 * Chromium is required, as for test/browser/engine-worker.test.ts.
 */

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  loadTemplate,
  screenshot,
  setField,
  stopTraining,
  textOf,
  useAppSession,
  waitForNumber,
} from '../helpers/app-browser.js';

const TEST_TIMEOUT = 45_000;

let page: Page;
const session = useAppSession({
  prefix: 'wiregrad-data-',
  async onOpen(opened) {
    page = opened.page;
    await page.getByTestId('tab-data').click();
    await page.getByTestId('data-panel').waitFor();
  },
});

/** Each bar of the class-count chart: class name and count. */
async function classCounts(): Promise<{ name: string; count: number }[]> {
  const bars = page.getByTestId('class-counts').locator('li');
  const out: { name: string; count: number }[] = [];
  for (let i = 0; i < (await bars.count()); i++) {
    const bar = bars.nth(i);
    out.push({
      name: (await bar.getAttribute('data-class')) ?? '',
      count: Number(await bar.getAttribute('data-count')),
    });
  }
  return out;
}

async function headers(): Promise<string[]> {
  return page.getByTestId('data-preview').locator('th').allTextContents();
}

describe('the Data panel', { timeout: TEST_TIMEOUT }, () => {
  it('previews the Train form’s data set: rows, class counts, shapes; then the MNIST digits', async () => {
    const preview = page.getByTestId('data-preview');
    await preview.locator('tbody tr').first().waitFor();
    expect(await preview.getAttribute('data-kind')).toBe('tabular');
    expect(await headers()).toEqual(['#', 'x0', 'x1', 'label']);
    expect(await preview.locator('tbody tr').count()).toBe(20);
    const counts = await classCounts();
    expect(counts.length).toBeGreaterThanOrEqual(2);
    expect(counts.reduce((a, c) => a + c.count, 0)).toBe(300);
    expect(await page.getByTestId('data-shapes').textContent()).toContain('[N, 2] · f32');
    await screenshot(page, 'data-spiral');

    // The selection is the Train form's: choosing here changes it there too.
    await page.getByTestId('data-dataset').selectOption('mnist');
    await preview.locator('canvas').first().waitFor();
    expect(await preview.getAttribute('data-kind')).toBe('images');
    expect(await preview.locator('canvas').count()).toBe(32);
    const digits = await classCounts();
    expect(digits.map((d) => d.name)).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(digits.every((d) => d.count > 0)).toBe(true);
    expect(await page.getByTestId('data-shapes').textContent()).toContain('[N, 1, 28, 28] · f32');
    // The digits are drawn: some pixels are bright, some dark.
    const spread = await preview
      .locator('canvas')
      .first()
      .evaluate((el) => {
        const c = el as unknown as {
          width: number;
          height: number;
          getContext(kind: '2d'): {
            getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
          };
        };
        const data = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let min = 255;
        let max = 0;
        for (let i = 0; i < data.length; i += 4) {
          min = Math.min(min, data[i]!);
          max = Math.max(max, data[i]!);
        }
        return max - min;
      });
    expect(spread).toBeGreaterThan(200);
    await screenshot(page, 'data-mnist');
    await page.getByTestId('tab-train').click();
    expect(await page.getByTestId('dataset-select').inputValue()).toBe('mnist');
  });

  it('previews an uploaded CSV, lets the user pick the target, and names the line of a bad row', async () => {
    const lines = ['sepal,petal,colour,species'];
    for (let i = 0; i < 40; i++)
      lines.push(
        `${(4 + i / 10).toFixed(1)},${(1 + (i % 7) / 5).toFixed(1)},${i % 2 ? 'red' : 'blue'},` +
          `${i < 25 ? 'setosa' : 'virginica'}`,
      );
    const good = join(session.app.dir, 'flowers.csv');
    await writeFile(good, lines.join('\n') + '\n');
    await page.getByTestId('csv-upload').setInputFiles(good);
    const preview = page.getByTestId('data-preview');
    await preview.locator('th', { hasText: 'species' }).waitFor();
    expect(await headers()).toEqual([
      '#',
      'sepal',
      'petal',
      'colour=blue',
      'colour=red',
      'species',
    ]);
    expect(await preview.locator('tbody tr').first().locator('td').allTextContents()).toEqual([
      '1',
      '4',
      '1',
      '1',
      '0',
      'setosa',
    ]);
    expect(await classCounts()).toEqual([
      { name: 'setosa', count: 25 },
      { name: 'virginica', count: 15 },
    ]);
    await screenshot(page, 'data-csv');

    // Another target column: colour becomes the label, species a one-hot feature.
    await page.getByTestId('csv-target').selectOption('colour');
    await page.waitForFunction(() => {
      const g = globalThis as unknown as {
        document: { querySelector(s: string): { textContent: string | null } | null };
      };
      return g.document
        .querySelector('[data-testid="class-counts"] li')
        ?.textContent?.includes('blue');
    });
    expect(await classCounts()).toEqual([
      { name: 'blue', count: 20 },
      { name: 'red', count: 20 },
    ]);
    expect((await headers()).at(-1)).toBe('colour');

    const bad = join(session.app.dir, 'ragged.csv');
    await writeFile(bad, 'a,b,label\n1,2,x\n3,4,5,y\n');
    await page.getByTestId('csv-upload').setInputFiles(bad);
    const error = page.getByTestId('data-error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(
      /^ragged\.csv, line 3: the row has 4 fields but the header has 3/,
    );
    expect(await page.getByTestId('data-preview').count()).toBe(0);
    await screenshot(page, 'data-csv-error');

    const letters = join(session.app.dir, 'letters.csv');
    await writeFile(letters, 'x,y\n1,2\nseven,3\n');
    await page.getByTestId('csv-upload').setInputFiles(letters);
    await page.getByTestId('data-error').filter({ hasText: 'letters.csv' }).waitFor();
    expect(await page.getByTestId('data-error').textContent()).toMatch(/line 3.*'x'/);
  });

  it('trains the MLP on an uploaded CSV from the Train tab, and says what to change when it does not fit', async () => {
    // Three blobs in 2-D: the MLP template's input ([N, 2]) and classes (3) fit as they are.
    const centres: [number, number, string][] = [
      [-3, 0, 'north'],
      [3, 0, 'south'],
      [0, 4, 'east'],
    ];
    const lines = ['width,height,kind'];
    for (let i = 0; i < 150; i++) {
      const [cx, cy, kind] = centres[i % 3]!;
      const jitter = ((i * 37) % 17) / 17 - 0.5;
      lines.push(`${(cx + jitter).toFixed(3)},${(cy - jitter).toFixed(3)},${kind}`);
    }
    const blobs = join(session.app.dir, 'blobs.csv');
    await writeFile(blobs, lines.join('\n') + '\n');
    await loadTemplate(page, 'mlp');
    await page.getByTestId('tab-data').click();
    await page.getByTestId('csv-upload').setInputFiles(blobs);
    await page.getByTestId('csv-training-tip').waitFor();
    await page.getByTestId('tab-train').click();
    expect(await page.getByTestId('dataset-select').inputValue()).toBe('csv');
    expect(await page.getByTestId('dataset-select').locator('option:checked').textContent()).toBe(
      'blobs.csv',
    );
    await setField(page, 'train-epochs', '20');
    await page.getByTestId('train-start').click();
    await waitForNumber(page, '[data-testid="metric-val-accuracy"]', {
      atLeast: 0.9,
      timeout: 30_000,
    });
    await screenshot(page, 'train-csv');
    await stopTraining(page);

    // Four features for a model that reads two: the message names the fix.
    const wide = join(session.app.dir, 'wide.csv');
    await writeFile(
      wide,
      'a,b,c,d,kind\n' + Array.from({ length: 40 }, (_, i) => `${i},1,2,3,k${i % 3}`).join('\n'),
    );
    await page.getByTestId('tab-data').click();
    await page.getByTestId('csv-upload').setInputFiles(wide);
    await page.getByTestId('data-preview').locator('th', { hasText: 'kind' }).waitFor();
    await page.getByTestId('tab-train').click();
    await page.getByTestId('train-start').click();
    await page.getByTestId('train-error').filter({ hasText: 'wide.csv' }).waitFor();
    expect(await textOf(page, 'train-error')).toContain(
      "wide.csv has 4 features per row (a, b, c, d) but the model's input 'x' takes 2: set its shape to [N, 4]",
    );
    // Back to a built-in set: the CSV stays on offer.
    await page.getByTestId('dataset-select').selectOption('spiral');
    expect(await page.getByTestId('dataset-select').locator('option[value="csv"]').count()).toBe(1);
  });
});

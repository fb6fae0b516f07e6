/**
 * What a model learned, end to end in web mode (built and served as in training.test.ts, driven
 * in Debian's headless Chromium): the decision boundary of the MLP template on a 2-D data set
 * changes as it trains, clicking it asks the model about that point, and the confusion matrix
 * counts the validation split; the CNN template trains on the MNIST digits the app ships and
 * reads a digit drawn on the pad. Every wait polls the page for the state it expects.
 *
 * Chromium is required, as for test/browser/engine-worker.test.ts.
 */

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  type AppGlobals,
  type ElementLike,
  loadTemplate,
  openTrainPanel,
  screenshot,
  setField,
  useAppSession,
  waitForNumber,
} from '../helpers/app-browser.js';

let page: Page;
const session = useAppSession({
  prefix: 'wiregrad-views-',
  viewport: { width: 1440, height: 1000 },
  onOpen: (opened) => {
    page = opened.page;
  },
});

interface CanvasLike extends ElementLike {
  toDataURL(): string;
}

/** Loads a template, waits for its analysis and opens the Train panel on a data set. */
async function openTraining(template: string, dataset: string): Promise<void> {
  await loadTemplate(page, template);
  await openTrainPanel(page, dataset);
}

/** The boundary canvas's pixels (as a data URL) and the weights' version they show. */
function boundaryImage(): Promise<{ pixels: string; version: number }> {
  return page.evaluate(() => {
    const canvas = (globalThis as unknown as AppGlobals).document.querySelector(
      '[data-testid="decision-boundary"]',
    ) as CanvasLike;
    return {
      pixels: canvas.toDataURL(),
      version: Number(canvas.getAttribute('data-version')),
    };
  });
}

/** The probabilities the try-the-model result lists, by class. */
function probabilities(): Promise<number[]> {
  return page.evaluate(() =>
    Array.from(
      (globalThis as unknown as AppGlobals).document.querySelectorAll(
        '[data-testid="try-result"] [data-probability]',
      ),
    ).map((e) => Number(e.getAttribute('data-probability'))),
  );
}

/** The confusion matrix's cells' counts and its stated total. */
function confusion(): Promise<{ cells: number; sum: number; total: number }> {
  return page.evaluate(() => {
    const doc = (globalThis as unknown as AppGlobals).document;
    const cells = Array.from(
      doc.querySelectorAll('[data-testid="confusion-matrix"] [data-row][data-col]'),
    );
    return {
      cells: cells.length,
      sum: cells.reduce((a, e) => a + Number(e.textContent), 0),
      total: Number(
        doc.querySelector('[data-testid="confusion-matrix"]')?.getAttribute('data-total'),
      ),
    };
  });
}

const sum = (values: readonly number[]): number => values.reduce((a, b) => a + b, 0);

describe('what the model learned', { timeout: 60_000 }, () => {
  it('draws a decision boundary that follows training, and answers a clicked point', async () => {
    await openTraining('mlp', 'moons');
    await setField(page, 'train-epochs', '300');
    await page.getByTestId('decision-boundary-empty').waitFor();
    await page.getByTestId('train-start').click();

    // The boundary arrives, then a later one (newer weights) looks different.
    await page.locator('[data-testid="decision-boundary"][data-version]').waitFor();
    const first = await boundaryImage();
    await waitForNumber(page, '[data-testid="decision-boundary"]', {
      above: first.version + 20,
      attribute: 'data-version',
    });
    const later = await boundaryImage();
    expect(later.version).toBeGreaterThan(first.version);
    expect(later.pixels).not.toBe(first.pixels);

    // Click a point while it trains: three class probabilities that sum to 1.
    const canvas = page.getByTestId('decision-boundary');
    await canvas.click({ position: { x: 60, y: 80 } });
    await page.getByTestId('try-result').waitFor();
    const running = await probabilities();
    expect(running).toHaveLength(3);
    expect(sum(running)).toBeCloseTo(1, 4);
    expect(running.every((p) => p >= 0 && p <= 1)).toBe(true);
    const predicted = Number(await page.getByTestId('try-result').getAttribute('data-predicted'));
    expect(running[predicted]).toBe(Math.max(...running));

    // The confusion matrix counts every validation point (a quarter of the 300 training ones).
    await page.getByTestId('confusion-matrix').waitFor();
    const m = await confusion();
    expect(m.cells).toBe(9);
    expect(m.total).toBe(75);
    expect(m.sum).toBe(m.total);
    await screenshot(page, 'views-moons-running');

    // Stopped, the model still answers, with its final weights.
    await page.getByTestId('train-stop').click();
    await page.getByTestId('train-status').filter({ hasText: 'Stopped' }).waitFor();
    const subject = page.locator('[data-testid="try-result"] .wg-try__subject');
    const before = await subject.textContent();
    await canvas.click({ position: { x: 200, y: 200 } });
    await page.waitForFunction(
      (text) =>
        (globalThis as unknown as AppGlobals).document.querySelector(
          '[data-testid="try-result"] .wg-try__subject',
        )?.textContent !== text,
      before,
    );
    expect(sum(await probabilities())).toBeCloseTo(1, 4);
    await screenshot(page, 'views-moons-panel', 'learned-views');
  });

  it('trains the CNN on the MNIST digits and reads a digit drawn on the pad', async () => {
    await openTraining('cnn', 'mnist');
    await setField(page, 'train-epochs', '1');
    // A few single steps: each trains on one batch of the shipped digits.
    for (let i = 1; i <= 3; i++) {
      await page.getByTestId('train-step').click();
      await page
        .getByTestId('train-step-count')
        .filter({ hasText: String(i) })
        .waitFor();
    }
    expect(Number(await page.getByTestId('metric-loss').textContent())).toBeGreaterThan(0);

    // The matrix has a row and column per digit and counts the 500 validation digits.
    await page.locator('[data-testid="confusion-matrix"][data-classes="10"]').waitFor();
    const m = await confusion();
    expect(m.cells).toBe(100);
    expect(m.total).toBe(500);
    expect(m.sum).toBe(500);

    // Draw a "7": a bar across the top and a stroke down to the bottom left.
    const pad = page.getByTestId('digit-pad');
    // The Train panel scrolls: the mouse draws only on what is in view.
    await pad.scrollIntoViewIfNeeded();
    const box = (await pad.boundingBox())!;
    const at = (fx: number, fy: number): [number, number] => [
      box.x + fx * box.width,
      box.y + fy * box.height,
    ];
    await page.mouse.move(...at(0.25, 0.2));
    await page.mouse.down();
    for (const [fx, fy] of [
      [0.5, 0.2],
      [0.75, 0.2],
      [0.65, 0.45],
      [0.55, 0.65],
      [0.45, 0.85],
    ] as const)
      await page.mouse.move(...at(fx, fy), { steps: 4 });
    await page.mouse.up();
    await page.getByTestId('try-result').waitFor();
    const p = await probabilities();
    expect(p).toHaveLength(10);
    expect(sum(p)).toBeCloseTo(1, 4);
    // The model's input is the drawing, downsampled: the preview is not blank.
    const lit = await page.evaluate(() => {
      const c = (globalThis as unknown as AppGlobals).document.querySelector(
        '[data-testid="digit-preview"]',
      ) as unknown as {
        getContext(kind: '2d'): {
          getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
        };
      };
      const data = c.getContext('2d').getImageData(0, 0, 28, 28).data;
      let n = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i]! > 128) n++;
      return n;
    });
    expect(lit).toBeGreaterThan(20);
    await screenshot(page, 'views-mnist-panel', 'learned-views');

    await page.getByTestId('digit-pad-clear').click();
    await page.getByTestId('try-result').waitFor({ state: 'detached' });
  });

  it('says what is wrong when the digits file is missing', async () => {
    await rm(join(session.app.dir, 'mnist-digits.bin'));
    await openTraining('cnn', 'mnist');
    await page.getByTestId('train-start').click();
    await page
      .getByTestId('train-error')
      .filter({ hasText: 'mnist-digits.bin' })
      .filter({ hasText: 'scripts/build.mjs' })
      .waitFor();
    await screenshot(page, 'views-mnist-missing', 'train-error');
    // The browser logs the failed fetch itself; nothing else went wrong.
    session.current.errors = session.current.errors.filter((e) => !/404/.test(e));
  });
});

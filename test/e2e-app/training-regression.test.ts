/**
 * Fitting a curve in the app, end to end in web mode (Debian's headless Chromium, as in
 * training-tasks.test.ts): the "Regression: fit a curve" template opens the Train panel on the
 * built-in `sine` set with its own settings, the Data tab previews that set as a regression,
 * stepping and then training raise the validation R² past 0.9, and "What it learned" draws the
 * fitted curve over the data, refreshed as training goes; pointing at it reads a prediction.
 * A regression of several features (an uploaded CSV) shows predicted against actual instead.
 * Every wait polls the DOM for the state it expects; nothing sleeps.
 */

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { GraphBuilder } from '../../engine/graph/builder.js';
import {
  type AppGlobals,
  loadTemplate,
  screenshot,
  textOf,
  useAppSession,
  waitForEngine,
  waitForNumber,
} from '../helpers/app-browser.js';

/** Where the app in a browser autosaves its document (renderer/host/browser-host.ts). */
const AUTOSAVE_KEY = 'wiregrad.autosave.v1';

let page: Page;
const session = useAppSession({
  prefix: 'wiregrad-train-regression-',
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

/** Pixels of the curve canvas close to `rgb` (the model's line, or the data's dots). */
function pixelsOf(rgb: readonly [number, number, number]): Promise<number> {
  return page.evaluate((colour) => {
    type Canvas = {
      width: number;
      height: number;
      getContext(kind: '2d'): {
        getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
      } | null;
    };
    const canvas = (globalThis as unknown as AppGlobals).document.querySelector(
      '[data-testid="regression-curve"]',
    ) as unknown as Canvas | null;
    const ctx = canvas?.getContext('2d');
    if (!canvas || !ctx) return 0;
    const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
    let count = 0;
    for (let i = 0; i < data.length; i += 4) {
      const d =
        Math.abs(data[i]! - colour[0]) +
        Math.abs(data[i + 1]! - colour[1]) +
        Math.abs(data[i + 2]! - colour[2]);
      if (d < 40 && data[i + 3]! > 200) count++;
    }
    return count;
  }, rgb);
}

describe('fitting a curve', { timeout: 120_000 }, () => {
  it('the Regression template fits sin(x): R² rises past 0.9 and the curve is drawn', async () => {
    await loadTemplate(page, 'regression');

    // The Data tab: the sine set as a regression of one number on one number.
    await page.getByTestId('tab-data').click();
    await page.getByTestId('data-shapes').waitFor();
    const shapes = await textOf(page, 'data-shapes');
    expect(shapes).toMatch(/Features\s*\[N, 1\] · f32/);
    expect(shapes).toMatch(/Labels\s*\[N, 1\] · f32/);
    expect(shapes).toContain('regression');
    expect(await page.getByTestId('data-dataset').inputValue()).toBe('sine');

    await page.getByTestId('tab-train').click();
    expect(await page.getByTestId('train-problem').count()).toBe(0);
    expect(await page.getByTestId('dataset-select').inputValue()).toBe('sine');
    expect(await page.getByTestId('optimizer-select').inputValue()).toBe('adam');
    expect(Number(await page.getByTestId('train-epochs').inputValue())).toBe(100);
    expect(Number(await page.getByTestId('train-lr').inputValue())).toBe(0.01);
    await page.getByTestId('regression-curve-empty').waitFor();

    // One epoch (10 batches) step by step: the first validation, and the first curves.
    for (let step = 1; step <= 10; step++) {
      await page.getByTestId('train-step').click();
      await waitForStep(step);
    }
    await waitForNumber(page, '[data-testid="regression-curve"]', {
      atLeast: 10,
      attribute: 'data-step',
    });
    const early = await metric('metric-val-r2');
    expect(Number.isFinite(early)).toBe(true);
    expect(Number(await page.getByTestId('regression-curve').getAttribute('data-points'))).toBe(
      300,
    );
    expect(await page.getByTestId('metric-accuracy').count()).toBe(0);
    expect(await page.getByTestId('decision-boundary').count()).toBe(0);
    const earlyVersion = Number(
      await page.getByTestId('regression-curve').getAttribute('data-version'),
    );

    // The rest of the run: 100 epochs in a few seconds; the curve follows.
    await page.getByTestId('train-pause').click(); // Resume
    await waitForNumber(page, '[data-testid="regression-curve"]', {
      above: earlyVersion,
      attribute: 'data-version',
    });
    await page.getByTestId('train-status').filter({ hasText: 'Done' }).waitFor({ timeout: 90_000 });
    expect(await textOf(page, 'train-step-count')).toBe('1000');
    const r2 = await metric('metric-val-r2');
    const rmse = await metric('metric-val-rmse');
    console.log(`sine: validation R² ${early} after an epoch → ${r2}; RMSE ${rmse}`);
    expect(r2).toBeGreaterThan(0.9);
    expect(r2).toBeGreaterThan(early);
    // The noise's std is 0.1: a good fit's typical error is about that.
    expect(rmse).toBeLessThan(0.25);
    await waitForNumber(page, '[data-testid="regression-curve"]', {
      atLeast: 1000,
      attribute: 'data-step',
    });

    // Drawn: the model's coral line and the data's blue dots.
    const curve = page.getByTestId('regression-curve');
    await curve.scrollIntoViewIfNeeded();
    expect(await pixelsOf([0xff, 0x7b, 0x5c])).toBeGreaterThan(300);
    expect(await pixelsOf([0x5b, 0x8c, 0xff])).toBeGreaterThan(300);

    // Pointing at x ≈ π/2 reads a prediction near sin(π/2) = 1.
    const box = (await curve.boundingBox())!;
    const left = 30;
    const right = box.width - 8;
    expect(await curve.getAttribute('aria-label')).toContain('after step 1000');
    await curve.press('Enter');
    const reading = await textOf(page, 'regression-curve-reading');
    expect(reading).toMatch(/^x = -?[\d.]+(e-?\d+)? → model -?[\d.]+/);
    // The middle of the plot is x ≈ 0, where the fit is ≈ sin(0) = 0.
    const [, x0, y0] = /x = (\S+) → model (\S+)/.exec(reading)!;
    expect(Math.abs(Number(x0))).toBeLessThan(0.2);
    expect(Math.abs(Number(y0) - Math.sin(Number(x0)))).toBeLessThan(0.2);
    await page.mouse.move(box.x + left + (right - left) * 0.75, box.y + box.height / 2);
    const pointed = await textOf(page, 'regression-curve-reading');
    const [, x1, y1] = /x = (\S+) → model (\S+)/.exec(pointed)!;
    expect(Number(x1)).toBeGreaterThan(1);
    expect(Math.abs(Number(y1) - Math.sin(Number(x1)))).toBeLessThan(0.2);

    // Out of the plot and without focus, as a user leaves it, for the pictures.
    await page.mouse.move(0, 0);
    await curve.evaluate((el) => (el as unknown as { blur(): void }).blur());
    expect(await textOf(page, 'regression-curve-reading')).toMatch(/^Point at the plot/);
    await page.getByTestId('learned-views').scrollIntoViewIfNeeded();
    await screenshot(page, 'regression-curve');
    await screenshot(page, 'regression-curve-views', 'learned-views');
  });

  it('a regression of two features on a CSV shows predicted against actual', async () => {
    const b = new GraphBuilder('Two-feature regressor');
    const x = b.input('x', [-1, 2], 'f32', 'data');
    const y = b.input('y', [-1, 1], 'f32', 'label');
    const h = b.op('tanh', [b.linear(x, 2, 16, 'fc1')], {}, 'tanh1');
    const out = b.linear(h, 16, 1, 'head');
    b.output('output', out);
    b.output('loss', b.op('mseLoss', [out, y], {}, 'loss'));
    await page.evaluate(
      ([key, value]) =>
        (
          globalThis as unknown as { localStorage: { setItem(k: string, v: string): void } }
        ).localStorage.setItem(key!, value!),
      [AUTOSAVE_KEY, JSON.stringify(b.toJSON())],
    );
    await page.reload();
    await waitForEngine(page);
    await page.getByTestId('node-loss').waitFor();
    await page.getByTestId('layout-tidy').click();

    // speed = 3·slope + 0.5·load + 20, with a little noise.
    const lines = ['slope,load,speed'];
    for (let i = 0; i < 200; i++) {
      const slope = (i % 11) - 5;
      const load = (i * 7) % 23;
      const noise = (((i * 7919) % 101) / 101 - 0.5) * 0.5;
      lines.push(`${slope},${load},${(3 * slope + 0.5 * load + 20 + noise).toFixed(2)}`);
    }
    const csvPath = join(session.app.dir, 'speeds.csv');
    await writeFile(csvPath, lines.join('\n') + '\n');
    await page.getByTestId('tab-data').click();
    await page.getByTestId('csv-upload').setInputFiles(csvPath);
    await page.getByTestId('csv-training-tip').waitFor();
    await page.getByTestId('tab-train').click();
    expect(await page.getByTestId('dataset-select').inputValue()).toBe('csv');
    await page.getByTestId('regression-curve-empty').waitFor();
    await page.getByTestId('train-start').click();
    await page.getByTestId('train-status').filter({ hasText: 'Done' }).waitFor({ timeout: 60_000 });
    expect(await metric('metric-val-r2')).toBeGreaterThan(0.9);
    const view = page.getByTestId('regression-curve');
    expect(await view.getAttribute('data-kind')).toBe('scatter');
    // 20% of 200 rows validate: one dot each.
    expect(Number(await view.getAttribute('data-points'))).toBe(40);
    expect(await textOf(page, 'learned-views')).toContain('Predicted vs actual');
    await page.getByTestId('task-views-note').waitFor();
    await view.scrollIntoViewIfNeeded();
    expect(await pixelsOf([0x5b, 0x8c, 0xff])).toBeGreaterThan(30);
    await page.getByTestId('learned-views').scrollIntoViewIfNeeded();
    await screenshot(page, 'regression-scatter');
    await screenshot(page, 'regression-scatter-views', 'learned-views');
  });
});

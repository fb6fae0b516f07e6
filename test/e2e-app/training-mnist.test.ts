/**
 * The "MLP for MNIST" template trained in the app, end to end in web mode (Debian's headless
 * Chromium): loading it switches the Train panel to the MNIST digits (the model reads 28×28
 * images), and one epoch over the app's 2,000 training digits on the CPU reaches a validation
 * accuracy far above chance (10%) on the 500 held-out digits. Every wait polls the DOM for the
 * state it expects; nothing sleeps.
 *
 * Chromium is required, as for the other app tests.
 */

import { type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  documentText,
  screenshot,
  setField,
  textOf,
  useAppSession,
  waitForAnalysis,
} from '../helpers/app-browser.js';

let page: Page;
useAppSession({
  prefix: 'wiregrad-train-mnist-',
  onOpen: (opened) => {
    page = opened.page;
  },
});

describe('the MLP for MNIST template', { timeout: 90_000 }, () => {
  it('picks the MNIST digits and trains one epoch to well above chance', async () => {
    await page.getByTestId('templates-menu').click();
    await page.getByTestId('template-mnist-mlp').waitFor();
    await screenshot(page, 'templates-menu-mnist-mlp');
    await page.getByTestId('template-mnist-mlp').click();
    await page.getByTestId('node-loss').waitFor();
    await waitForAnalysis(page);
    expect(await documentText(page)).toContain('MLP for MNIST digits');
    await page.getByTestId('tab-train').click();
    // The model reads digit images: the panel chose the digits for it.
    expect(await page.getByTestId('dataset-select').inputValue()).toBe('mnist');
    await setField(page, 'train-epochs', '1');
    await setField(page, 'train-lr', '0.002');
    await page.getByTestId('train-start').click();
    await page.getByTestId('train-status').filter({ hasText: 'Done' }).waitFor({ timeout: 60_000 });
    const steps = Number(await textOf(page, 'train-step-count'));
    expect(steps).toBe(Math.ceil(2000 / 32));
    const accuracy = Number(await textOf(page, 'metric-val-accuracy'));
    // Chance is 0.1; one epoch of this MLP gets most held-out digits right.
    expect(accuracy).toBeGreaterThan(0.75);
    console.log(`MLP for MNIST: validation accuracy ${accuracy} after ${steps} steps`);
    await screenshot(page, 'training-mnist-mlp');
  });
});

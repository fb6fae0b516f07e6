/**
 * The Train panel's controls, end to end in web mode: a field with a bad value says what is
 * wrong and holds Start until it is fixed (or Escape puts the last good value back); while a
 * run is live the highlighted button is Pause/Resume, and Restart asks for a second click
 * before it throws the steps away.
 */

import { type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  type AppGlobals,
  loadTemplate,
  openTrainPanel,
  screenshot,
  setField,
  stopTraining,
  textOf,
  useAppSession,
  waitForNumber,
} from '../helpers/app-browser.js';

let page: Page;
useAppSession({
  prefix: 'wiregrad-train-controls-',
  onOpen: (opened) => {
    page = opened.page;
  },
});

const stepCount = async (): Promise<number> => Number(await textOf(page, 'train-step-count'));
const isPrimary = async (testId: string): Promise<boolean> =>
  /\bis-primary\b/.test((await page.getByTestId(testId).getAttribute('class')) ?? '');

describe('the Train panel controls', { timeout: 45_000 }, () => {
  it('says what is wrong with a field, holds Start, and Escape restores the value', async () => {
    await loadTemplate(page, 'mlp');
    await openTrainPanel(page, 'spiral');
    // The message follows the field on the next render: each check waits for what it expects.
    const problem = (text: string) =>
      page.getByTestId('train-form-problem').filter({ hasText: text }).waitFor();
    const noProblem = () => page.getByTestId('train-form-problem').waitFor({ state: 'detached' });
    const lr = await page.getByTestId('train-lr').inputValue();
    await setField(page, 'train-lr', 'abc');
    await problem('Learning rate must be a number > 0 (it is "abc")');
    expect(await page.getByTestId('train-start').isDisabled()).toBe(true);
    await page.getByTestId('train-lr').press('Escape');
    expect(await page.getByTestId('train-lr').inputValue()).toBe(lr);
    await noProblem();

    await setField(page, 'train-batch-size', '2.5');
    await setField(page, 'train-epochs', '-3');
    // The first problem is said; each bad field is marked.
    await problem('Batch size must be a whole number ≥ 1 (it is "2.5")');
    expect(await page.getByTestId('train-epochs').getAttribute('aria-invalid')).toBe('true');
    await screenshot(page, 'train-field-problem');
    await setField(page, 'train-batch-size', '64');
    await problem('Epochs must be a whole number ≥ 1 (it is "-3")');
    await setField(page, 'train-epochs', '500');
    await noProblem();
    expect(await page.getByTestId('train-start').isEnabled()).toBe(true);
  });

  it('highlights Pause while training and asks before Restart discards the steps', async () => {
    await loadTemplate(page, 'mlp');
    await openTrainPanel(page, 'spiral');
    await setField(page, 'train-epochs', '5000');
    expect(await isPrimary('train-start')).toBe(true);
    await page.getByTestId('train-start').click();
    await waitForNumber(page, '[data-testid="train-step-count"]', { above: 50 });
    expect(await isPrimary('train-pause')).toBe(true);
    expect(await isPrimary('train-start')).toBe(false);

    await page.getByTestId('train-pause').click();
    await page.getByTestId('train-status').filter({ hasText: 'Paused' }).waitFor();
    const paused = await stepCount();
    expect(await textOf(page, 'train-pause')).toBe('Resume');
    expect(await isPrimary('train-pause')).toBe(true);

    // The first click only asks; nothing is thrown away.
    await page.getByTestId('train-start').click();
    await page.getByTestId('train-start').filter({ hasText: 'Restart?' }).waitFor();
    expect(await page.getByTestId('train-start').getAttribute('title')).toContain(
      `discard the ${paused} steps`,
    );
    await screenshot(page, 'train-restart-confirm');
    expect(await stepCount()).toBe(paused);
    expect(await textOf(page, 'train-status')).toContain('Paused');
    // Unanswered, the question goes away.
    await page
      .getByTestId('train-start')
      .filter({ hasText: /^Restart$/ })
      .waitFor();
    expect(await stepCount()).toBe(paused);

    // Asked and confirmed: a new run from step 0.
    await page.getByTestId('train-start').click();
    await page.getByTestId('train-start').click();
    await page.getByTestId('train-status').filter({ hasText: 'Training' }).waitFor();
    await page.waitForFunction(
      (before) =>
        Number(
          (globalThis as unknown as AppGlobals).document.querySelector(
            '[data-testid="train-step-count"]',
          )?.textContent,
        ) < before,
      paused,
    );
    await stopTraining(page);
  });

  it('holds Start while the model has a problem, naming it', async () => {
    await loadTemplate(page, 'mlp');
    await page.getByTestId('node-x').click();
    await setField(page, 'inspector-attr-shape', 'N, 3'); // fc1 takes 2 features
    await page.getByTestId('tab-train').click();
    await page
      .getByTestId('train-problem')
      .filter({ hasText: "Fix the model first: 'fc1'" })
      .waitFor();
    expect(await page.getByTestId('train-start').isDisabled()).toBe(true);
    await page.getByTestId('tab-inspector').click();
    await page.getByTestId('node-x').click();
    await setField(page, 'inspector-attr-shape', 'N, 2');
    await page.getByTestId('tab-train').click();
    await page.getByTestId('train-problem').waitFor({ state: 'detached' });
    expect(await page.getByTestId('train-start').isEnabled()).toBe(true);
  });
});

/**
 * How the autodiff teacher shows a matrix, end to end in web mode (built, served and driven in
 * Debian's headless Chromium as in teacher.test.ts): in the convolution lesson the 4×4 input
 * fits the Learn panel without scrolling, its columns line up row to row, and stepping the
 * lesson to its end and back leaves the same card; a label cut short by the panel's width is
 * named in full on hover. Every wait polls the page; nothing sleeps.
 */

import { type Locator, type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { screenshot, useAppSession } from '../helpers/app-browser.js';

let page: Page;
useAppSession({
  prefix: 'wiregrad-teach-ux-',
  onOpen: (opened) => {
    page = opened.page;
  },
});

async function progressIs(expected: string): Promise<void> {
  await page.getByTestId('teach-progress').filter({ hasText: expected }).waitFor();
}

/** The right edges of each row's numbers, row by row. */
function rightEdges(grid: Locator): Promise<number[][]> {
  return grid.evaluate((el) =>
    [...el.querySelectorAll('.wg-learn__row')].map((row) =>
      [...row.querySelectorAll('.wg-learn__cell')].map((c) =>
        Math.round(c.getBoundingClientRect().right),
      ),
    ),
  );
}

describe('the teacher’s matrices', { timeout: 60_000 }, () => {
  it('shows the convolution lesson’s 4×4 input whole, in aligned columns', async () => {
    await page.getByTestId('tab-learn').click();
    await page.getByTestId('lesson-conv').click();
    await progressIs('forward 0 of 7');
    await page.getByTestId('teach-forward').click();
    await progressIs('forward 1 of 7');
    const grid = page.getByTestId('teach-output-grid');
    await grid.waitFor();
    expect(await page.getByTestId('teach-current').textContent()).toBe('x');
    const size = await grid.evaluate((el) => ({ scroll: el.scrollWidth, client: el.clientWidth }));
    expect(size.scroll).toBeLessThanOrEqual(size.client);
    const edges = await rightEdges(grid);
    expect(edges).toHaveLength(4);
    for (const row of edges) expect(row).toEqual(edges[0]);
    expect(new Set(edges[0]).size).toBe(4);
    await screenshot(page, 'teach-matrix', 'teach-panel');

    // To the end of the backward pass and all the way back with ←: the same card again.
    const total = 13;
    for (let i = 1; i < total; i++) await page.keyboard.press('ArrowRight');
    await progressIs('backward 6 of 6');
    for (let i = total; i > 1; i--) await page.keyboard.press('ArrowLeft');
    await progressIs('forward 1 of 7');
    expect(await page.getByTestId('teach-current').textContent()).toBe('x');
    expect(await rightEdges(grid)).toEqual(edges);
  });

  it('names a cut-off label in full when hovered', async () => {
    await page.getByTestId('tab-learn').click();
    await page.getByTestId('lesson-neuron').click();
    await progressIs('forward 0 of 6');
    // Backward from the start runs the forward pass, then seeds the loss's gradient.
    await page.getByTestId('teach-backward').click();
    await progressIs('backward 1 of 6');
    const seed = page.getByTestId('teach-gradients').locator('.wg-learn__label').first();
    expect(await seed.getAttribute('title')).toBe('∂L/∂o (seed: 1)');
    expect(await seed.textContent()).toBe('∂L/∂o (seed: 1)');
  });
});

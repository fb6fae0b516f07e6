/**
 * Rich cell outputs, end to end in web mode (Debian's headless Chromium): a cell whose value is
 * a traced graph shows it drawn small, and "Open as graph" makes it the model on the canvas; a
 * `plot(...)` cell shows an SVG line chart and an `image(...)` cell a picture; "Run above" runs
 * the cells above the selected one; a cell streams a live chart while it trains, and a live
 * progress bar that reaches its total; an example
 * notebook from notebooks/ opens, is trusted and runs to its chart. Every wait polls the DOM for the state it expects.
 *
 * Monaco's blocked inline styles are reported on the console (see notebook.test.ts); those
 * reports, and only those, are not counted as page errors.
 */

import { fileURLToPath } from 'node:url';
import type { Locator, Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { screenshot, useAppSession } from '../helpers/app-browser.js';

const CSP_STYLE_REPORT = /^Applying inline style violates the following Content Security Policy/;

let page: Page;
useAppSession({
  prefix: 'wiregrad-notebook-outputs-',
  startTimeout: 120_000,
  ignoreConsole: CSP_STYLE_REPORT,
  async onOpen(opened) {
    page = opened.page;
    await page.getByTestId('view-notebook').click();
    await page.getByTestId('notebook').waitFor();
  },
});

/** Puts the cursor in a cell's Monaco editor (once loaded) and types `code`. */
async function typeInto(cell: Locator, code: string): Promise<void> {
  const editor = cell.locator('[data-testid="cell-editor"][data-ready="true"] .monaco-editor');
  await editor.waitFor({ timeout: 30_000 });
  await editor.locator('.view-lines').click();
  await page.keyboard.type(code);
}

const TEST_TIMEOUT = 90_000;

describe('rich notebook outputs', { timeout: TEST_TIMEOUT }, () => {
  it('shows a traced graph, and "Open as graph" puts it on the canvas', async () => {
    const cell = page.getByTestId('cell-1');
    await typeInto(cell, 'wg.trace((x: wg.Tensor) => x.mul(x).relu(), [wg.ones([2, 3])])');
    await page.keyboard.press('Shift+Enter');

    const graph = cell.getByTestId('graph-output');
    await graph.waitFor({ timeout: 30_000 });
    // input, mul, relu: three boxes with their ops, and the edges between them.
    await expect.poll(() => graph.locator('.wg-graphcell__node').count()).toBe(3);
    expect(await graph.locator('.wg-graphcell__op').allTextContents()).toEqual(
      expect.arrayContaining(['input', 'mul', 'relu']),
    );
    expect(await graph.locator('.wg-graphcell__edge').count()).toBe(2);
    await screenshot(page, 'notebook-graph-output');

    await graph.getByTestId('open-as-graph').click();
    const canvas = page.getByTestId('canvas');
    await canvas.waitFor();
    await expect.poll(() => canvas.locator('[data-op="relu"]').count()).toBe(1);
    expect(await canvas.locator('[data-op="mul"]').count()).toBe(1);
    expect(await page.getByTestId('notebook').count()).toBe(0);
    await screenshot(page, 'notebook-graph-opened');

    // The traced model is a new graph cell below the code cell, marked as the canvas's; the
    // model that was on the canvas stays in the first graph cell.
    await page.getByTestId('view-notebook').click();
    const graphCell = page.getByTestId('cell-2');
    expect(await graphCell.getAttribute('data-kind')).toBe('graph');
    expect(await graphCell.getAttribute('data-active')).toBe('true');
    await expect.poll(() => graphCell.locator('.wg-graphcell__node').count()).toBe(3);
    expect(await page.getByTestId('cell-0').getAttribute('data-active')).toBe('false');
  });

  it('shows plot(...) as an SVG line chart and image(...) as a picture', async () => {
    const cell = page.getByTestId('cell-1');
    await typeInto(
      cell,
      'console.log(image([[0, 1], [1, 0]], { title: "checks" }))\n' +
        'plot({ up: [1, 4, 9, 16], down: [16, 9, 4, 1] }, { title: "squares", xLabel: "step" })',
    );
    await cell.getByTestId('cell-run').click();

    const chart = cell.getByTestId('chart-output');
    await chart.waitFor({ timeout: 30_000 });
    expect(await chart.getAttribute('data-series')).toBe('2');
    expect(await chart.getAttribute('data-points')).toBe('8');
    expect(await chart.locator('.wg-chart__title').textContent()).toBe('squares');
    const lines = chart.getByTestId('chart-line');
    expect(await lines.count()).toBe(2);
    // Four points per line: one move and three line segments, rising then falling.
    const d = (await lines.first().getAttribute('d')) ?? '';
    expect(d.match(/[ML]/g)).toEqual(['M', 'L', 'L', 'L']);
    const ys = [...d.matchAll(/,(-?[\d.]+)/g)].map((m) => Number(m[1]));
    expect(ys[0]).toBeGreaterThan(ys[3]!); // SVG y grows downwards: the line goes up
    expect(await chart.locator('.wg-chart__legend').textContent()).toContain('down');

    const picture = cell.getByTestId('image-output');
    expect(await picture.getAttribute('data-width')).toBe('2');
    const pixels = await picture.locator('canvas').evaluate((el) => {
      const c = el as unknown as {
        getContext(kind: '2d'): { getImageData(...a: number[]): { data: ArrayLike<number> } };
      };
      return Array.from(c.getContext('2d').getImageData(0, 0, 2, 1).data);
    });
    expect(pixels).toEqual([0, 0, 0, 255, 255, 255, 255, 255]);
    await screenshot(page, 'notebook-chart-output');
  });

  it('runs the cells above the selected one with Ctrl+Shift+Enter', async () => {
    const first = page.getByTestId('cell-1');
    await typeInto(first, 'const base = 40');
    await page.getByTestId('add-code-cell').click();
    const second = page.getByTestId('cell-2');
    await typeInto(second, 'base + 2');
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+Shift+Enter');
    await first.getByTestId('cell-output').waitFor({ timeout: 30_000 });
    await expect.poll(() => first.locator('.wg-cell__count').textContent()).toBe('[1]');
    expect(await second.getByTestId('cell-output').count()).toBe(0);
    await second.getByTestId('cell-run').click();
    await expect.poll(() => second.getByTestId('cell-output').textContent()).toContain('42');
  });

  it('streams a live return chart while REINFORCE trains on CartPole', async () => {
    const cell = page.getByTestId('cell-1');
    await typeInto(
      cell,
      'const live: number[] = []; wg.rl.reinforce(() => new wg.rl.CartPole(), { seed: 0, ' +
        'maxEpisodes: 480, onBatch: (s) => { live.push(s.meanReturn); ' +
        'display(plot(live, { title: "mean return" }), "returns"); } }).returns.length',
    );
    await cell.getByTestId('cell-run').click();
    const chart = cell.getByTestId('chart-output');
    const status = page.getByTestId('kernel-status');
    // The chart shows while the cell still runs, and grows.
    await chart.waitFor({ timeout: 30_000 });
    const firstPoints = Number(await chart.getAttribute('data-points'));
    expect(await status.getAttribute('data-status')).toBe('busy');
    await screenshot(page, 'notebook-live-chart');
    await expect.poll(() => status.getAttribute('data-status'), { timeout: 60_000 }).toBe('idle');
    // One point per batch of 8 episodes (training stops early once solved); the final output
    // keeps the last chart and shows the value.
    const episodes = Number(await cell.locator('.wg-output__value').textContent());
    expect(episodes).toBeGreaterThan(0);
    expect(Number(await chart.getAttribute('data-points'))).toBe(Math.ceil(episodes / 8));
    expect(firstPoints).toBeLessThan(Math.ceil(episodes / 8));
  });

  it('shows a live progress bar that a training loop updates up to its total', async () => {
    const cell = page.getByTestId('cell-1');
    await typeInto(
      cell,
      'for (let s = 1; s <= 30; s++) { await new Promise((r) => setTimeout(r, 50)); ' +
        'display(progress(s, 30, { title: "train", metrics: { loss: 1 / s } }), "train"); }',
    );
    await cell.getByTestId('cell-run').click();
    const bar = cell.getByTestId('progress-output');
    const status = page.getByTestId('kernel-status');
    // The bar shows while the cell still runs, part way.
    await bar.waitFor({ timeout: 30_000 });
    expect(await bar.getAttribute('data-total')).toBe('30');
    const firstDone = Number(await bar.getAttribute('data-done'));
    expect(firstDone).toBeLessThan(30);
    expect(await status.getAttribute('data-status')).toBe('busy');
    // It moves on as the loop goes.
    await expect
      .poll(async () => Number(await bar.getAttribute('data-done')))
      .toBeGreaterThan(firstDone);
    await screenshot(page, 'notebook-progress-live');
    await expect.poll(() => status.getAttribute('data-status'), { timeout: 60_000 }).toBe('idle');
    // One bar (each display replaced the last), finished, with the last loss and the time taken.
    expect(await cell.getByTestId('progress-output').count()).toBe(1);
    expect(await bar.getAttribute('data-done')).toBe('30');
    expect(await bar.getAttribute('data-total')).toBe('30');
    expect(await bar.locator('.wg-progress__percent').textContent()).toBe('100%');
    expect(await bar.locator('.wg-progress__title').textContent()).toBe('train');
    expect(await bar.locator('[data-metric="loss"]').textContent()).toBe('loss = 0.03333');
    expect(await bar.locator('.wg-progress__time').textContent()).toMatch(/elapsed$/);
    expect(await bar.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('30');
    await screenshot(page, 'notebook-progress-done');
  });

  it('opens an example notebook, and once trusted it runs to its chart', async () => {
    // The browser host's upload path (a file input), as in notebook.test.ts.
    await page.addInitScript(() => {
      const w = globalThis as unknown as Record<string, unknown>;
      delete w.showOpenFilePicker;
    });
    await page.reload();
    await page.getByTestId('engine-status').filter({ hasText: 'Engine ready' }).waitFor();
    await page.getByTestId('view-notebook').click();
    const file = fileURLToPath(
      new URL('../../notebooks/lesson-vanishing-gradients.ipynb', import.meta.url),
    );
    const [chooser] = await Promise.all([
      page.waitForEvent('filechooser'),
      page.getByTestId('file-open').click(),
    ]);
    await chooser.setFiles(file);
    await page.getByTestId('trust-banner').waitFor();
    expect(await page.getByTestId('cell-0').locator('h1').textContent()).toBe(
      'Why gradients vanish',
    );
    // The graph cell holds the lesson's deep sigmoid stack.
    const graphCell = page.getByTestId('cell-1');
    expect(await graphCell.getAttribute('data-kind')).toBe('graph');
    expect(await graphCell.locator('.wg-graphcell__node').count()).toBeGreaterThan(3);

    await page.getByTestId('trust-notebook').click();
    await page.getByTestId('run-all').click();
    const chart = page.getByTestId('cell-2').getByTestId('chart-output');
    await chart.waitFor({ timeout: 30_000 });
    expect(await chart.getAttribute('data-series')).toBe('3');
    await expect
      .poll(() => page.getByTestId('cell-4').getByTestId('cell-output').textContent())
      .toContain('sigmoid');
    expect(await page.getByTestId('cell-error').count()).toBe(0);
    await chart.scrollIntoViewIfNeeded();
    await screenshot(page, 'notebook-example-vanishing');
  });
});

/**
 * BatchNorm layers on the canvas, in web mode against Debian's headless Chromium: dragged from
 * the palette, wired after an image input and before a ReLU, they take the input's channels,
 * show the shape on every edge, count only weight and bias as parameters (the running
 * statistics are state) and report a wrong channel count on the node with a fix that clears it.
 */

import { type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { screenshot, setField, useAppSession, waitForAnalysis } from '../helpers/app-browser.js';

let page: Page;
useAppSession({
  prefix: 'wiregrad-bn-',
  onOpen: (opened) => {
    page = opened.page;
  },
});

async function dropFromPalette(key: string, dy: number): Promise<void> {
  const canvas = (await page.getByTestId('canvas').boundingBox())!;
  await page
    .getByTestId(`palette-item-${key}`)
    .dragTo(page.getByTestId('canvas'), { targetPosition: { x: canvas.width / 2, y: dy } });
}

async function centreOf(selector: string): Promise<{ x: number; y: number }> {
  const box = await page.locator(selector).boundingBox();
  if (!box) throw new Error(`${selector} is not visible`);
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

async function connect(source: string, target: string, port = 0): Promise<void> {
  const from = await centreOf(`[data-testid="node-${source}"] [data-handleid="out"]`);
  const to = await centreOf(`[data-testid="node-${target}"] [data-handleid="in-${port}"]`);
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 5 });
  await page.mouse.move(to.x, to.y, { steps: 5 });
  await page.mouse.up();
}

async function expectEdge(source: string, target: string, text: string): Promise<void> {
  const label = page.getByTestId(`edge-label-${source}-${target}`);
  await label.and(page.locator(':not([data-error])')).filter({ hasText: text }).waitFor();
  expect(await label.textContent()).toBe(text);
}

describe('BatchNorm layers on the canvas', { timeout: 30_000 }, () => {
  it('a BatchNorm2d takes the image channels and shows shapes; a wrong count shows its fix', async () => {
    await page.getByTestId('palette-search').fill('batchnorm');
    await page.getByTestId('palette-item-batchNorm2d').waitFor();
    await page.getByTestId('palette-item-batchNorm1d').waitFor();
    await page.getByTestId('palette-search').fill('');
    await dropFromPalette('input', 70);
    await dropFromPalette('batchNorm2d', 250);
    await dropFromPalette('relu', 430);
    for (const id of ['input_1', 'batchnorm_1', 'relu_1'])
      await page.getByTestId(`node-${id}`).waitFor();
    await page.getByTestId('node-input_1').click();
    await setField(page, 'inspector-attr-shape', 'N, 3, 16, 16');
    await page.getByTestId('shape-input_1').filter({ hasText: '[N, 3, 16, 16]' }).waitFor();
    await waitForAnalysis(page);

    await connect('input_1', 'batchnorm_1');
    await expectEdge('input_1', 'batchnorm_1', '[N, 3, 16, 16]');
    await connect('batchnorm_1', 'relu_1');
    await expectEdge('batchnorm_1', 'relu_1', '[N, 3, 16, 16]');
    expect(await page.getByTestId('node-batchnorm_1').textContent()).toContain('BatchNorm2d');

    await page.getByTestId('node-batchnorm_1').click();
    await page.getByTestId('inspector-layer-features').and(page.locator('[value="3"]')).waitFor();
    // weight and bias: 2 × 3; the running mean and variance are state, not parameters.
    expect(await page.getByTestId('inspector-params').textContent()).toBe('6');
    expect(await page.locator('[data-error]').count()).toBe(0);
    await screenshot(page, 'batchnorm2d-canvas');

    await setField(page, 'inspector-layer-features', '5');
    const node = page.getByTestId('node-batchnorm_1');
    await node.and(page.locator('[data-error]')).waitFor();
    expect(await node.getAttribute('data-error')).toMatch(/weight \[5\] does not match x/);
    await screenshot(page, 'batchnorm2d-error');
    await page.getByRole('button', { name: 'Set channels to 3' }).first().click();
    await page.locator('[data-testid="node-batchnorm_1"]:not([data-error])').waitFor();
    await expectEdge('batchnorm_1', 'relu_1', '[N, 3, 16, 16]');
  });
});

/**
 * How the canvas and its toolbar behave for a person using them, end to end in web mode (as
 * canvas.test.ts): nodes land where they are dropped, tall models open readable, menus close
 * the usual ways, Shift+click adds to the selection, a group's card fits where its members
 * were, and the Learn tab's step buttons say which way they go. Driven in Debian's headless
 * Chromium through playwright-core; every assertion waits for the state it expects.
 */

import { type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  type AppGlobals,
  type ElementLike,
  loadTemplate,
  screenshot,
  useAppSession,
} from '../helpers/app-browser.js';

let page: Page;
useAppSession({
  prefix: 'wiregrad-canvas-ux-',
  onOpen: (opened) => {
    page = opened.page;
  },
});

/** The page's globals this file's callbacks reach beyond the app's. */
interface FocusGlobals {
  readonly document: { readonly activeElement: ElementLike | null };
}

interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

async function boxOf(testId: string): Promise<Box> {
  const box = await page.getByTestId(testId).boundingBox();
  if (!box) throw new Error(`${testId} is not visible`);
  return box;
}

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

function contains(outer: Box, inner: Box): boolean {
  return (
    inner.x >= outer.x &&
    inner.y >= outer.y &&
    inner.x + inner.width <= outer.x + outer.width &&
    inner.y + inner.height <= outer.y + outer.height
  );
}

/** The canvas's zoom, once it has stopped changing (a fit glides for 200 ms). */
async function settledZoom(): Promise<number> {
  const read = (): Promise<string> =>
    page
      .locator('.react-flow__viewport')
      .evaluate((e: ElementLike) => e.getAttribute('style') ?? '');
  let last = await read();
  for (;;) {
    await page.waitForTimeout(120);
    const now = await read();
    if (now === last) break;
    last = now;
  }
  const scale = /scale\(([\d.]+)\)/.exec(last);
  if (!scale) throw new Error(`no zoom in the viewport's style: ${last}`);
  return Number(scale[1]);
}

/** Drags palette entry `key` onto the canvas at (x, y) from the canvas's top-left corner. */
async function dropAt(key: string, x: number, y: number): Promise<void> {
  await page
    .getByTestId(`palette-item-${key}`)
    .dragTo(page.getByTestId('canvas'), { targetPosition: { x, y } });
}

/** Expects the card `testId` to sit under the screen point (x, y): centred across it, with its
 * header under it. */
async function expectUnder(testId: string, x: number, y: number): Promise<Box> {
  await page.getByTestId(testId).waitFor();
  const box = await boxOf(testId);
  expect(Math.abs(box.x + box.width / 2 - x)).toBeLessThanOrEqual(3);
  expect(y).toBeGreaterThan(box.y);
  expect(y).toBeLessThan(box.y + 40);
  return box;
}

const TEST_TIMEOUT = 25_000;

describe('the canvas as a person uses it, in web mode', { timeout: TEST_TIMEOUT }, () => {
  it('puts nodes on a new canvas where they are dropped, at zoom 1', async () => {
    // A tall model first, shown below zoom 1; New then starts again at zoom 1.
    await loadTemplate(page, 'cnn');
    expect(await settledZoom()).toBeLessThan(1);
    await page.getByTestId('file-new').click();
    await page.locator('.wg-canvas__empty').waitFor();
    expect(await settledZoom()).toBe(1);

    const canvas = await boxOf('canvas');
    await dropAt('input', 300, 90);
    const input = await expectUnder('node-input_1', canvas.x + 300, canvas.y + 90);
    await dropAt('linear', 560, 90);
    const linear = await expectUnder('node-linear_1', canvas.x + 560, canvas.y + 90);
    expect(overlaps(input, linear)).toBe(false);
    // The first node stayed put, and so did the view.
    expect(await boxOf('node-input_1')).toEqual(input);
    expect(await settledZoom()).toBe(1);

    // The quick-insert box puts its node under the double-click too.
    await page.mouse.dblclick(canvas.x + 300, canvas.y + 330);
    await page.getByTestId('quick-insert-input').fill('relu');
    await page.getByTestId('quick-insert-input').press('Enter');
    const relu = await expectUnder('node-relu_1', canvas.x + 300, canvas.y + 330);
    expect(overlaps(relu, input)).toBe(false);
    expect(await boxOf('node-input_1')).toEqual(input);
    await screenshot(page, 'canvas-ux-dropped');
  });

  it('shows a tall template readably from its top, and fits one that fits', async () => {
    await loadTemplate(page, 'cnn');
    expect(await settledZoom()).toBeGreaterThanOrEqual(0.6);
    const canvas = await boxOf('canvas');
    // The first node is in view; the last is below it, reached by scrolling.
    expect(contains(canvas, await boxOf('node-x'))).toBe(true);
    expect((await boxOf('node-loss')).y).toBeGreaterThan(canvas.y + canvas.height);
    await screenshot(page, 'canvas-ux-cnn');

    // Zoomed out and back with the fit button: the same readable view.
    await page.locator('.react-flow__controls-zoomout').click();
    await page.locator('.react-flow__controls-zoomout').click();
    expect(await settledZoom()).toBeLessThan(0.6);
    await page.getByTestId('canvas-fit').click();
    expect(await settledZoom()).toBeGreaterThanOrEqual(0.6);
    expect(contains(canvas, await boxOf('node-x'))).toBe(true);

    // The MLP fits at a readable zoom: every card is in view.
    await loadTemplate(page, 'mlp');
    expect(await settledZoom()).toBeGreaterThanOrEqual(0.6);
    for (const id of ['x', 'fc1', 'loss'])
      expect(contains(canvas, await boxOf(`node-${id}`))).toBe(true);
  });

  it('closes the Templates and Code menus on Escape and on a click on the canvas', async () => {
    for (const [button, item] of [
      ['templates-menu', 'template-mlp'],
      ['code-menu', 'export-to-code'],
    ] as const) {
      await page.getByTestId(button).click();
      await page.getByTestId(item).waitFor();
      await page.keyboard.press('Escape');
      await page.getByTestId(item).waitFor({ state: 'detached' });
      expect(await page.getByTestId(button).getAttribute('aria-expanded')).toBe('false');
      // Focus is back on the button that opened it.
      expect(
        await page.evaluate(() =>
          (globalThis as unknown as FocusGlobals).document.activeElement?.getAttribute(
            'data-testid',
          ),
        ),
      ).toBe(button);

      await page.getByTestId(button).click();
      await page.getByTestId(item).waitFor();
      const canvas = await boxOf('canvas');
      await page.mouse.click(canvas.x + 120, canvas.y + canvas.height - 160);
      await page.getByTestId(item).waitFor({ state: 'detached' });
    }
  });

  it('adds a Shift+clicked node to the selection and lists Shift+click among the shortcuts', async () => {
    await loadTemplate(page, 'mlp');
    const selected = (): Promise<string[]> =>
      page.$$eval('.react-flow__node.selected', (els) =>
        els.map((e) => e.getAttribute('data-id') ?? ''),
      );
    await page.locator('[data-testid="node-fc1"] .wg-node__header').click();
    await page.locator('[data-testid="node-fc2"] .wg-node__header').click({ modifiers: ['Shift'] });
    await page.waitForFunction(
      () =>
        (globalThis as unknown as AppGlobals).document.querySelectorAll(
          '.react-flow__node.selected',
        ).length === 2,
    );
    expect((await selected()).sort()).toEqual(['fc1', 'fc2']);
    // Shift+click on a selected node takes it out again.
    await page.locator('[data-testid="node-fc1"] .wg-node__header').click({ modifiers: ['Shift'] });
    await page.waitForFunction(
      () =>
        (globalThis as unknown as AppGlobals).document.querySelectorAll(
          '.react-flow__node.selected',
        ).length === 1,
    );
    expect(await selected()).toEqual(['fc2']);

    await page.keyboard.press('F1');
    const row = page.getByTestId('gesture-add-to-selection');
    expect(await row.textContent()).toContain('Shift+click');
    await screenshot(page, 'canvas-ux-shortcuts');
  });

  it('says "1 node" on a group card no taller than the node it folds', async () => {
    await loadTemplate(page, 'mlp');
    const fc2 = await boxOf('node-fc2');
    const below = await boxOf('node-relu2');
    await page.locator('[data-testid="node-fc2"] .wg-node__header').click();
    await page.keyboard.press('Control+g');
    await page.getByTestId('node-group_1').waitFor();
    await page.getByTestId('group-output-fc2').filter({ hasText: '[N, 64]' }).waitFor();
    expect(await page.getByTestId('group-facts-group_1').textContent()).toBe(
      '1 node · 4,160 params',
    );
    const card = await boxOf('node-group_1');
    expect(card.height).toBeLessThanOrEqual(fc2.height + 2);
    expect(overlaps(card, await boxOf('node-relu2'))).toBe(false);
    expect(await boxOf('node-relu2')).toEqual(below);
    await screenshot(page, 'canvas-ux-group');
  });

  it('names the Learn tab step buttons by the way they go', async () => {
    await page.getByTestId('tab-learn').click();
    await page.getByTestId('lesson-neuron').click();
    await page.getByTestId('teach-forward').waitFor();
    expect(await page.getByTestId('teach-back').textContent()).toBe('◀ Undo step');
    expect(await page.getByTestId('teach-forward').textContent()).toBe('Forward step ▶');
    expect(await page.getByTestId('teach-backward').textContent()).toBe('Backward step ▶');
    // ← undoes the last step, as the button does.
    await page.getByTestId('teach-forward').click();
    await page.getByTestId('teach-progress').filter({ hasText: 'forward 1 of' }).waitFor();
    await page.keyboard.press('ArrowLeft');
    await page.getByTestId('teach-progress').filter({ hasText: 'forward 0 of' }).waitFor();
  });
});

/**
 * More of the graph editor end to end, in web mode (as canvas.test.ts): groups that collapse
 * and open again, copy and paste through the system clipboard (and without it), ELK auto-layout
 * from the toolbar, and the keyboard shortcuts panel. Driven in Debian's headless Chromium
 * through playwright-core; every assertion waits for the state it expects.
 */

import { type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  type AppGlobals,
  documentText,
  loadTemplate,
  screenshot,
  useAppSession,
} from '../helpers/app-browser.js';

let page: Page;
const session = useAppSession({
  prefix: 'wiregrad-canvas-more-',
  openEach: false,
  onOpen: (opened) => {
    page = opened.page;
  },
});

/** The page's globals this file's callbacks reach beyond the app's. */
interface PageGlobals extends AppGlobals {
  readonly navigator: { clipboard: { writeText(text: string): Promise<void> } };
}

interface SavedGraph {
  nodes: { id: string; inputs: string[] }[];
  meta?: { layout?: Record<string, { x: number; y: number }>; groups?: Record<string, unknown> };
}

/** A fresh context (empty storage), with clipboard access when `clipboard` is set. */
async function openApp(clipboard = false): Promise<void> {
  await session.open(clipboard ? { permissions: ['clipboard-read', 'clipboard-write'] } : {});
}

async function saved(p: Page = page): Promise<SavedGraph> {
  return JSON.parse(await documentText(p)) as SavedGraph;
}

/** Clicks nodes' headers, the later ones with Ctrl held (multi-select). */
async function selectNodes(ids: readonly string[], p: Page = page): Promise<void> {
  for (const [i, id] of ids.entries())
    await p
      .locator(`[data-testid="node-${id}"] .wg-node__header`)
      .click({ modifiers: i === 0 ? [] : ['Control'] });
}

async function expectEdge(source: string, target: string, text: string, p = page): Promise<void> {
  const label = p.getByTestId(`edge-label-${source}-${target}`);
  await label.and(p.locator(':not([data-error])')).filter({ hasText: text }).waitFor();
}

const TEST_TIMEOUT = 25_000;

describe('groups, clipboard, layout and shortcuts in web mode', { timeout: TEST_TIMEOUT }, () => {
  it('groups nodes into one card with its shapes and opens it again', async () => {
    await openApp();
    await loadTemplate(page, 'mlp');
    await selectNodes(['fc2', 'relu2']);
    await page.keyboard.press('Control+g');
    const card = page.getByTestId('node-group_1');
    await card.waitFor();
    expect(await card.getAttribute('data-op')).toBe('group');
    expect(await page.getByTestId('node-fc2').count()).toBe(0);
    await page.getByTestId('group-output-relu2').filter({ hasText: '[N, 64]' }).waitFor();
    expect(await page.getByTestId('group-facts-group_1').textContent()).toBe(
      '2 nodes · 4,160 params',
    );
    // Shapes flow through the group: in from relu1, out to fc3.
    await expectEdge('relu1', 'group_1', '[N, 64]');
    await expectEdge('group_1', 'fc3', '[N, 64]');
    expect(await page.locator('[data-error]').count()).toBe(0);
    await screenshot(page, 'group-collapsed');

    // Double-click opens it: the members are back, inside a frame.
    await card.locator('.wg-node__title').dblclick();
    await page.getByTestId('node-fc2').waitFor();
    await page.getByTestId('group-frame-group_1').waitFor();
    expect(await page.getByTestId('node-group_1').count()).toBe(0);
    await expectEdge('fc2', 'relu2', '[N, 64]');
    await screenshot(page, 'group-open');

    // Rename it in the frame's header, collapse it again: the card has the new name.
    await page.getByTestId('group-name-group_1').click();
    await page.getByTestId('group-name-input-group_1').fill('Hidden block');
    await page.getByTestId('group-name-input-group_1').press('Enter');
    await page.getByTestId('group-name-group_1').filter({ hasText: 'Hidden block' }).waitFor();
    await page.getByTestId('group-collapse-group_1').click();
    await card.waitFor();
    expect(await card.locator('.wg-node__title').textContent()).toBe('Hidden block');

    // Ungroup with the shortcut; undo brings it back.
    await card.locator('.wg-node__header').click();
    await page.keyboard.press('Control+Shift+g');
    await page.getByTestId('node-fc2').waitFor();
    expect((await saved()).meta?.groups).toBeUndefined();
    await page.getByTestId('undo').click();
    await card.waitFor();
    expect((await saved()).meta?.groups).toEqual({
      group_1: { name: 'Hidden block', members: ['fc2', 'relu2'], collapsed: true },
    });
  });

  it('copies and pastes nodes with the edges between them, also into another window', async () => {
    await openApp(true);
    await loadTemplate(page, 'mlp');
    await selectNodes(['x', 'fc1', 'relu1']);
    await page.keyboard.press('Control+c');
    await page.keyboard.press('Control+v');
    await page.getByTestId('node-fc1_1').waitFor();
    await page.getByTestId('node-relu1_1').waitFor();
    // The edges inside the copy come along, and shapes are inferred on them.
    await expectEdge('x_1', 'fc1_1', '[N, 2]');
    await expectEdge('fc1_1', 'relu1_1', '[N, 64]');
    const graph = await saved();
    expect(graph.nodes.find((n) => n.id === 'relu1_1')!.inputs).toEqual(['fc1_1']);
    const layout = graph.meta!.layout!;
    expect(layout.fc1_1).toEqual({ x: layout.fc1!.x + 40, y: layout.fc1!.y + 40 });
    expect(await page.locator('.wg-node.is-selected').count()).toBe(3);
    await screenshot(page, 'pasted');

    // A second window of the app pastes the same nodes from the system clipboard.
    const other = await session.openTab();
    await loadTemplate(other, 'cnn');
    await other.getByTestId('canvas').click({ position: { x: 30, y: 30 } });
    await other.keyboard.press('Control+v');
    await other.getByTestId('node-relu1_1').waitFor();
    expect((await saved(other)).nodes.map((n) => n.id)).toEqual(
      expect.arrayContaining(['fc1_1.weight', 'fc1_1', 'relu1_1']),
    );

    // Text that is not a fragment: a message, nothing pasted, no error.
    await page.evaluate(() =>
      (globalThis as unknown as PageGlobals).navigator.clipboard.writeText('just some text'),
    );
    const before = (await saved()).nodes.length;
    await page.getByTestId('canvas').click({ position: { x: 30, y: 30 } });
    await page.keyboard.press('Control+v');
    await page.getByTestId('toast').filter({ hasText: 'does not hold Wiregrad nodes' }).waitFor();
    expect((await saved()).nodes.length).toBe(before);
    await screenshot(page, 'paste-refused');
  });

  it('copies and pastes without clipboard permission, from its own buffer', async () => {
    await openApp(false);
    await loadTemplate(page, 'mlp');
    await selectNodes(['relu1']);
    await page.keyboard.press('Control+c');
    await page.keyboard.press('Control+v');
    await page.getByTestId('node-relu1_1').waitFor();
  });

  it('lays the model out with ELK from the toolbar, as one undoable edit', async () => {
    await openApp();
    await loadTemplate(page, 'two-tower');
    const before = await saved();
    await page.getByTestId('layout-tidy').click();
    await page.waitForFunction(
      (text) => (globalThis as unknown as PageGlobals).wiregradDebug!.documentText() !== text,
      JSON.stringify(before, null, 2) + '\n',
    );
    const after = await saved();
    const layout = after.meta!.layout!;
    expect(layout).not.toEqual(before.meta!.layout);
    // Every edge points down the canvas.
    const groupOf = (id: string): string => id.split('.')[0]!;
    for (const node of after.nodes)
      for (const input of node.inputs)
        if (layout[groupOf(input)] && layout[node.id] && groupOf(input) !== node.id)
          expect(layout[node.id]!.y, `${input} → ${node.id}`).toBeGreaterThan(
            layout[groupOf(input)]!.y,
          );
    await screenshot(page, 'elk-layout');
    await page.getByTestId('undo').click();
    expect((await saved()).meta!.layout).toEqual(before.meta!.layout);
  });

  it('shows the keyboard shortcuts on F1 and ?, and closes on Escape', async () => {
    await openApp();
    await page.getByTestId('canvas').click({ position: { x: 30, y: 30 } });
    await page.keyboard.press('F1');
    const help = page.getByTestId('shortcuts-help');
    await help.waitFor();
    expect(await page.getByTestId('shortcut-group').textContent()).toContain('Ctrl+G');
    expect(await page.getByTestId('shortcut-tidy').textContent()).toContain('Shift+L');
    expect(await page.getByTestId('shortcut-paste').textContent()).toContain('Ctrl+V');
    await screenshot(page, 'shortcuts-help');
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'detached' });
    await page.keyboard.press('?');
    await help.waitFor();
    await page.getByTestId('shortcuts-help-close').click();
    await help.waitFor({ state: 'detached' });
  });
});

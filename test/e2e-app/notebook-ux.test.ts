/**
 * The notebook's keyboard flow, end to end in web mode (built, served and driven in Debian's
 * headless Chromium as in notebook.test.ts): Shift+Enter in a markdown cell renders it and moves
 * on, Escape renders it and leaves the arrow keys and Enter working on the cells, Ctrl+Enter
 * runs a cell and stays in it, a large tensor draws only the rows that arrived, and Ctrl+S
 * saves the notebook while the cursor is in a cell. Every wait polls the DOM; nothing sleeps.
 */

import { readFile } from 'node:fs/promises';
import { type Locator, type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { screenshot, useAppSession, withoutFilePickers } from '../helpers/app-browser.js';

/** Monaco's blocked inline styles, re-applied through CSSOM (see notebook.test.ts). */
const CSP_STYLE_REPORT = /^Applying inline style violates the following Content Security Policy/;

let page: Page;
useAppSession({
  prefix: 'wiregrad-notebook-ux-',
  startTimeout: 120_000,
  ignoreConsole: CSP_STYLE_REPORT,
  acceptDownloads: true,
  // The download fallback, as in browsers without showSaveFilePicker.
  init: withoutFilePickers,
  async onOpen(opened) {
    page = opened.page;
    await page.getByTestId('view-notebook').click();
    await page.getByTestId('notebook').waitFor();
  },
});

async function editorOf(cell: Locator): Promise<Locator> {
  const editor = cell.locator('[data-testid="cell-editor"][data-ready="true"] .monaco-editor');
  await editor.waitFor({ timeout: 30_000 });
  return editor;
}

/** The test id of the cell that holds the focus, if any. */
async function focusedCell(): Promise<string | null> {
  const cell = page.locator('[data-cell-id]:focus-within');
  return (await cell.count()) === 1 ? cell.getAttribute('data-testid') : null;
}

describe('the notebook from the keyboard', { timeout: 90_000 }, () => {
  it('renders markdown with Shift+Enter and moves on; Escape keeps the keys on the cells', async () => {
    await page.getByTestId('add-markdown-cell').click();
    const notes = page.getByTestId('cell-2');
    expect(await notes.getAttribute('data-kind')).toBe('markdown');
    await editorOf(notes);
    await page.keyboard.type('## Plan');
    await page.keyboard.press('Shift+Enter');
    await notes.locator('h2').waitFor();
    // Past the last cell, Shift+Enter added a code cell with the cursor in it.
    const next = page.getByTestId('cell-3');
    expect(await next.getAttribute('data-kind')).toBe('code');
    await expect.poll(() => next.locator('.monaco-editor.focused').count()).toBe(1);
    await page.keyboard.type('1 + 2');

    // Back to the markdown cell from the keyboard: Escape, ↑, Enter edits it again.
    await page.keyboard.press('Escape');
    await expect.poll(focusedCell).toBe('cell-3');
    await page.keyboard.press('ArrowUp');
    await expect.poll(focusedCell).toBe('cell-2');
    await page.keyboard.press('Enter');
    await expect.poll(() => notes.locator('.monaco-editor.focused').count()).toBe(1);
    await page.keyboard.press('End');
    await page.keyboard.type(' and notes');
    // Escape renders it and the notebook, not the page, still has the keys.
    await page.keyboard.press('Escape');
    await expect.poll(() => notes.locator('h2').textContent()).toBe('Plan and notes');
    await expect.poll(focusedCell).toBe('cell-2');
    await page.keyboard.press('ArrowDown');
    await expect.poll(focusedCell).toBe('cell-3');
    await page.keyboard.press('Shift+Enter');
    await expect.poll(() => next.getByTestId('cell-output').textContent()).toContain('3');
    await screenshot(page, 'notebook-keyboard');
  });

  it('runs a cell in place with Ctrl+Enter, in the editor and from the cell', async () => {
    const cell = page.getByTestId('cell-1');
    await (await editorOf(cell)).locator('.view-lines').click();
    await page.keyboard.type('6 * 7');
    await page.keyboard.press('Control+Enter');
    await expect.poll(() => cell.getByTestId('cell-output').textContent()).toContain('42');
    // It stayed: no cell was added, the cursor is still in this one and no line was inserted.
    expect(await page.getByTestId('cell-2').count()).toBe(0);
    await expect.poll(() => cell.locator('.monaco-editor.focused').count()).toBe(1);
    expect(await cell.locator('.view-line').count()).toBe(1);
    await expect.poll(() => cell.locator('.wg-cell__count').textContent()).toBe('[1]');
    // From the selected cell (outside its editor) it runs again.
    await page.keyboard.press('Escape');
    await expect.poll(focusedCell).toBe('cell-1');
    await page.keyboard.press('Control+Enter');
    await expect.poll(() => cell.locator('.wg-cell__count').textContent()).toBe('[2]');
    expect(await page.getByTestId('cell-2').count()).toBe(0);
  });

  it('draws only the rows of a large tensor that arrived, and counts the rest', async () => {
    const cell = page.getByTestId('cell-1');
    await (await editorOf(cell)).locator('.view-lines').click();
    await page.keyboard.type('wg.randn([500, 500])');
    await page.keyboard.press('Shift+Enter');
    const table = cell.getByTestId('cell-output').locator('.wg-tensor__table');
    await table.waitFor({ timeout: 30_000 });
    // 4096 values of 250 000: 8 whole rows and part of a ninth, then one line for the rest.
    const rows = table.locator('tr');
    await expect.poll(() => rows.count()).toBe(10);
    expect(await rows.last().textContent()).toBe('… 491 more rows');
    // It reads from the left edge, not past the table's scrolled-off right end.
    const offset = await rows
      .last()
      .locator('span')
      .evaluate(
        (el) =>
          el.getBoundingClientRect().left -
          (el.closest('table')?.getBoundingClientRect().left ?? 0),
      );
    expect(offset).toBeLessThan(40);
    expect(await rows.nth(8).locator('td').first().textContent()).not.toBe('');
    await expect
      .poll(() => cell.getByTestId('cell-output').textContent())
      .toContain('values cut to the first 4096');
  });

  it('saves with Ctrl+S while the cursor is in a cell', async () => {
    const cell = page.getByTestId('cell-1');
    await (await editorOf(cell)).locator('.view-lines').click();
    await page.keyboard.type('const saved = 1;');
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 15_000 }),
      page.keyboard.press('Control+s'),
    ]);
    expect(download.suggestedFilename()).toBe('untitled-model.ipynb');
    const path = await download.path();
    expect(await readFile(path, 'utf8')).toContain('const saved = 1;');
    // Undo in the editor is still the editor's own (it takes back the last word typed).
    await page.keyboard.press('Control+z');
    await expect.poll(() => cell.locator('.view-lines').textContent()).not.toContain('1;');
    expect(await cell.locator('.view-lines').textContent()).toContain('saved');
  });
});

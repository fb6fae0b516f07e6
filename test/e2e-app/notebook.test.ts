/**
 * The notebook, end to end in web mode (built and served as in canvas.test.ts, driven in
 * Debian's headless Chromium): code typed into Monaco cells runs in the engine worker's kernel
 * and shows a tensor; a later cell uses an earlier cell's variable; type errors show inline
 * before anything runs; a notebook opened from a file shows its code and outputs but runs
 * nothing until trusted. Every wait polls the DOM for the state it expects; nothing sleeps.
 *
 * Monaco writes some inline styles that the page's policy blocks and renderer/notebook/
 * monaco-csp.ts re-applies through CSSOM; Chromium still reports each blocked attempt on the
 * console, so those reports (and only those) are not counted as page errors.
 */

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Locator, type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { toNotebook } from '../../engine/protocol/notebook.js';
import { screenshot, useAppSession } from '../helpers/app-browser.js';

const CSP_STYLE_REPORT = /^Applying inline style violates the following Content Security Policy/;

let page: Page;
const session = useAppSession({
  prefix: 'wiregrad-notebook-',
  startTimeout: 120_000,
  ignoreConsole: CSP_STYLE_REPORT,
  async onOpen(opened) {
    page = opened.page;
    await page.getByTestId('view-notebook').click();
    await page.getByTestId('notebook').waitFor();
  },
});

/** The Monaco editor of a cell, once it has loaded. */
async function editorOf(cell: Locator): Promise<Locator> {
  const editor = cell.locator('[data-testid="cell-editor"][data-ready="true"] .monaco-editor');
  await editor.waitFor({ timeout: 30_000 });
  return editor;
}

/** Puts the cursor in a cell's editor and types `code` as keystrokes. */
async function typeInto(cell: Locator, code: string): Promise<void> {
  const editor = await editorOf(cell);
  await editor.locator('.view-lines').click();
  await page.keyboard.type(code);
}

const TEST_TIMEOUT = 90_000;

describe('the notebook', { timeout: TEST_TIMEOUT }, () => {
  it('runs a typed cell to a tensor output, and a second cell uses its variable', async () => {
    const first = page.getByTestId('cell-1');
    expect(await first.getAttribute('data-kind')).toBe('code');
    expect(await page.getByTestId('cell-0').getAttribute('data-kind')).toBe('graph');
    await typeInto(first, 'const x = wg.tensor([[1, 2], [3, 4]]); x');
    await page.keyboard.press('Shift+Enter');

    const tensor = first.getByTestId('cell-output').locator('.wg-tensor');
    await tensor.waitFor({ timeout: 30_000 });
    expect(await tensor.getAttribute('data-shape')).toBe('[2,2]');
    expect(await tensor.getAttribute('data-dtype')).toBe('f32');
    expect(await tensor.locator('td').allTextContents()).toEqual(['1', '2', '3', '4']);
    await expect.poll(() => first.locator('.wg-cell__count').textContent()).toBe('[1]');

    // Shift+Enter on the last cell added a code cell and put the cursor in it.
    const second = page.getByTestId('cell-2');
    expect(await second.getAttribute('data-kind')).toBe('code');
    await editorOf(second);
    await page.keyboard.type('x.sum().item() * 10');
    await second.getByTestId('cell-run').click();
    const output = second.getByTestId('cell-output');
    await output.waitFor();
    await expect.poll(() => output.textContent()).toContain('100');
    await screenshot(page, 'notebook-run');

    // Editing the first cell marks the second cell's output stale.
    await (await editorOf(first)).locator('.view-lines').click();
    await page.keyboard.press('End');
    await page.keyboard.type('.mul(2)');
    await expect.poll(() => output.getAttribute('data-stale')).toBe('true');

    // A runtime error names the cell and the line of the TypeScript source. The new cell goes
    // below the selected (first) one, with the cursor in it.
    await page.getByTestId('add-code-cell').click();
    const third = page.getByTestId('cell-2');
    await expect.poll(() => page.getByTestId('cell-3').getAttribute('data-kind')).toBe('code');
    await editorOf(third);
    await expect.poll(() => third.locator('.monaco-editor.focused').count()).toBe(1);
    await page.keyboard.type('const a: number = 1;');
    await page.keyboard.press('Enter');
    await page.keyboard.type('wg.ones([2, 3]).matmul(wg.ones([2, 3]));');
    await page.keyboard.press('Shift+Enter');
    const error = third.getByTestId('cell-error');
    await error.waitFor();
    expect(await error.textContent()).toMatch(/matmul[\s\S]*cell 3, line 2/);
    await screenshot(page, 'notebook-error');
  });

  it('shows a type error inline before the cell runs', async () => {
    const cell = page.getByTestId('cell-1');
    await typeInto(cell, 'const n: number = wg.tensor([1]).sum().itemm();');
    const editor = cell.getByTestId('cell-editor');
    // The engine's own declarations are loaded: the error names the misspelt method.
    await expect
      .poll(() => editor.getAttribute('title'), { timeout: 45_000 })
      .toMatch(/itemm.*does not exist.*Tensor/);
    expect(await editor.getAttribute('data-type-errors')).toBe('1');
    await cell.locator('.squiggly-error').first().waitFor();
    expect(await cell.getByTestId('cell-output').count()).toBe(0);
    await screenshot(page, 'notebook-type-error');
  });

  it('renders markdown cells, and interrupts a runaway cell by restarting the kernel', async () => {
    await page.getByTestId('add-markdown-cell').click();
    const notes = page.getByTestId('cell-2');
    expect(await notes.getAttribute('data-kind')).toBe('markdown');
    await editorOf(notes);
    await page.keyboard.type('## Notes with *emphasis*');
    await page.keyboard.press('Escape');
    await notes.locator('h2').waitFor();
    expect(await notes.locator('h2 em').textContent()).toBe('emphasis');

    const cell = page.getByTestId('cell-1');
    await typeInto(cell, 'let spins = 0; while (true) { spins++ }');
    await cell.getByTestId('cell-run').click();
    await expect
      .poll(() => page.getByTestId('kernel-status').getAttribute('data-status'))
      .toBe('busy');
    await page.getByTestId('kernel-interrupt').click();
    await expect.poll(() => cell.getByTestId('cell-error').textContent()).toContain('Interrupted');
    await expect
      .poll(() => page.getByTestId('kernel-status').getAttribute('data-status'))
      .toBe('idle');
    await screenshot(page, 'notebook-interrupted');
    // A fresh kernel answers, and the runaway cell's names are gone.
    await page.getByTestId('add-code-cell').click();
    const next = page.getByTestId('cell-2');
    await editorOf(next);
    await page.keyboard.type('typeof spins');
    await page.keyboard.press('Shift+Enter');
    await expect.poll(() => next.getByTestId('cell-output').textContent()).toContain('undefined');
  });

  it('runs nothing from an opened notebook until it is trusted', async () => {
    // A notebook as another Wiregrad would save it: markdown, the graph, and a code cell with a
    // saved output (nbformat's form for Jupyter, Wiregrad's exact form in its metadata).
    const notebook = toNotebook({
      format: 'wiregrad.graph',
      version: 1,
      name: 'Shared',
      nodes: [],
      outputs: [],
    });
    const text = JSON.stringify({
      ...notebook,
      cells: [
        {
          id: 'notes',
          cell_type: 'markdown',
          metadata: {},
          source: ['# A shared notebook\n', 'Runs *only* when trusted.'],
        },
        notebook.cells[0],
        {
          id: 'code',
          cell_type: 'code',
          metadata: {
            wiregrad: {
              output: {
                logs: [],
                value: { kind: 'text', text: 'saved output' },
                error: null,
                count: 7,
                ms: 1,
                signature: '',
              },
            },
          },
          source: ['const shared = wg.tensor([5, 6]);\n', 'shared.add(1)'],
          execution_count: 7,
          outputs: [
            {
              output_type: 'execute_result',
              execution_count: 7,
              data: { 'text/plain': ['saved output'] },
              metadata: {},
            },
          ],
        },
      ],
    });
    const path = join(session.app.dir, 'shared.ipynb');
    // Open through the browser host's upload path (a file input): headless Chromium's File
    // System Access picker does not report a file chooser to the test.
    await page.addInitScript(() => {
      const w = globalThis as unknown as Record<string, unknown>;
      delete w.showOpenFilePicker;
    });
    await page.reload();
    await page.getByTestId('engine-status').filter({ hasText: 'Engine ready' }).waitFor();
    await page.getByTestId('view-notebook').click();
    await writeFile(path, text);
    const [chooser] = await Promise.all([
      page.waitForEvent('filechooser'),
      page.getByTestId('file-open').click(),
    ]);
    await chooser.setFiles(path);

    const banner = page.getByTestId('trust-banner');
    await banner.waitFor();
    expect(await page.getByTestId('cell-0').locator('h1').textContent()).toBe('A shared notebook');
    const cell = page.getByTestId('cell-2');
    await editorOf(cell);
    expect(await cell.locator('.view-lines').textContent()).toContain('shared.add(1)');
    const output = cell.getByTestId('cell-output');
    expect(await output.textContent()).toContain('saved output');
    expect(await cell.getByTestId('cell-run').isDisabled()).toBe(true);
    expect(await page.getByTestId('run-all').isDisabled()).toBe(true);
    // Shift+Enter from the keyboard is refused too, with a reason, and changes nothing.
    await cell.locator('.wg-cell__count').click();
    await expect
      .poll(() => cell.evaluate((el) => el === el.ownerDocument.activeElement))
      .toBe(true);
    await page.keyboard.press('Shift+Enter');
    await expect
      .poll(() => page.getByTestId('notebook-message').textContent())
      .toContain('trust it to run');
    expect(await output.textContent()).toContain('saved output');
    await screenshot(page, 'notebook-untrusted');

    await page.getByTestId('trust-notebook').click();
    await banner.waitFor({ state: 'detached' });
    await cell.getByTestId('cell-run').click();
    await output.locator('.wg-tensor').waitFor();
    expect(await output.locator('td').allTextContents()).toEqual(['6', '7']);
    expect(await output.textContent()).not.toContain('saved output');
    await expect.poll(() => cell.locator('.wg-cell__count').textContent()).toBe('[8]');
  });
});

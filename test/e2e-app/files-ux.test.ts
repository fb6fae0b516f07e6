/**
 * Opening files Wiregrad did not write, and the messages about files, end to end in web mode: a
 * binary file is refused in words (a notice with the whole text, the status bar one line), a
 * plain Jupyter notebook opens as a new Wiregrad notebook, and fields and diagnostics stop
 * shapes and sizes that cannot work before training does. Every wait is for the state expected.
 */

import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  loadTemplate,
  screenshot,
  setField,
  textOf,
  useAppSession,
  waitForAnalysis,
  withoutFilePickers,
} from '../helpers/app-browser.js';

let page: Page;
const session = useAppSession({
  prefix: 'wiregrad-files-ux-',
  init: withoutFilePickers,
  onOpen: (opened) => {
    page = opened.page;
  },
});

/** Opens `name` with `content` through File → Open (the upload path). */
async function openFile(name: string, content: string | Uint8Array): Promise<void> {
  const path = join(session.app.dir, name);
  await writeFile(path, content);
  const [chooser] = await Promise.all([
    page.waitForEvent('filechooser'),
    page.getByTestId('file-open').click(),
  ]);
  await chooser.setFiles(path);
}

/** The height of element `testId` in CSS pixels. */
async function heightOf(testId: string): Promise<number> {
  return (await page.getByTestId(testId).boundingBox())?.height ?? Number.NaN;
}

describe('opening files that are not Wiregrad notebooks', () => {
  it('refuses a binary file in words, in one status line and a notice the user dismisses', async () => {
    await loadTemplate(page, 'mlp');
    // The first bytes of an ONNX protobuf, then bytes that are not UTF-8.
    const onnx = new Uint8Array([0x08, 0x07, 0x12, 0x07, 0x70, 0x79, 0x74, 0x6f, 0x72, 0x63, 0x68]);
    await openFile('random.onnx', new Uint8Array([...onnx, 0xff, 0xfe, 0x00, 0x9c, 0x38, 0x48]));
    const expected =
      'random.onnx is not a Wiregrad notebook or model (it is not JSON text); to bring in an ' +
      'ONNX model, use File → Import ONNX…';
    const notice = page.getByTestId('file-notice');
    await notice.waitFor();
    expect(await notice.textContent()).toContain(expected);
    const status = page.getByTestId('status-message');
    expect(await status.textContent()).toBe(expected);
    expect(await status.getAttribute('title')).toBe(expected);
    // The document stays as it was.
    await page.getByTestId('node-fc2').waitFor();
    await screenshot(page, 'ux-files-1-binary-open');

    // A long message stays on one line and leaves the items on the left whole.
    await page.setViewportSize({ width: 1000, height: 700 });
    expect(await heightOf('status-message')).toBeLessThan(20);
    expect(await heightOf('engine-status')).toBeLessThan(20);
    expect(await textOf(page, 'engine-status')).toMatch(/^Engine ready · \d+ ops$/);
    const cut = await status.evaluate((el) => el.scrollWidth > el.clientWidth);
    expect(cut).toBe(true);
    await screenshot(page, 'ux-files-1-binary-narrow');

    await page.getByTestId('file-notice-dismiss').click();
    await notice.waitFor({ state: 'detached' });
    await status.waitFor({ state: 'detached' });
  });

  it('keeps "cut short" for a notebook that ends early, and a new document clears the error', async () => {
    await openFile(
      'cut.ipynb',
      '{"nbformat": 4, "nbformat_minor": 5, "cells": [{"cell_type": "mark',
    );
    const notice = page.getByTestId('file-notice');
    await notice.waitFor();
    expect(await notice.textContent()).toMatch(/the file is cut short/);
    await page.getByTestId('file-new').click();
    await notice.waitFor({ state: 'detached' });
    expect(await page.getByTestId('status-message').count()).toBe(0);
  });

  it('opens a plain Jupyter notebook as a new Wiregrad notebook, Python shown as code', async () => {
    await openFile(
      'analysis.ipynb',
      JSON.stringify({
        nbformat: 4,
        nbformat_minor: 5,
        metadata: { kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' } },
        cells: [
          { cell_type: 'markdown', metadata: {}, source: ['# Analysis\n', 'Plain *Jupyter*.'] },
          {
            cell_type: 'code',
            metadata: {},
            source: ['import numpy as np\n', 'np.arange(3)'],
            execution_count: 1,
            outputs: [
              {
                output_type: 'execute_result',
                execution_count: 1,
                data: { 'text/plain': ['array([0, 1, 2])'] },
                metadata: {},
              },
            ],
          },
        ],
      }),
    );
    const status = page.getByTestId('status-message');
    await expect
      .poll(() => status.textContent())
      .toBe(
        'Opened analysis.ipynb as a new Wiregrad notebook with an empty model: 1 markdown cell, ' +
          '1 Python code cell shown as text (Wiregrad runs TypeScript). Save writes it as a ' +
          'Wiregrad notebook and asks where',
      );
    expect(await page.getByTestId('file-notice').count()).toBe(0);
    await page.getByTestId('view-notebook').click();
    const first = page.getByTestId('cell-0');
    await first.locator('h1').waitFor();
    expect(await first.locator('h1').textContent()).toBe('Analysis');
    const code = page.getByTestId('cell-1');
    expect(await code.getAttribute('data-kind')).toBe('markdown');
    expect(await code.locator('pre').first().textContent()).toContain('import numpy as np');
    expect(await code.textContent()).toContain('array([0, 1, 2])');
    expect(await page.getByTestId('cell-2').getAttribute('data-kind')).toBe('graph');
    // Nothing in it runs, so it asks for no trust.
    expect(await page.getByTestId('trust-banner').count()).toBe(0);
    await screenshot(page, 'ux-files-2-plain-jupyter');
  });
});

describe('sizes that cannot work', () => {
  it("refuses an input shape with a size below 1, or none, in the field's own words", async () => {
    await loadTemplate(page, 'mlp');
    await page.getByTestId('node-x').click();
    const field = page.getByTestId('inspector-attr-shape');
    await setField(page, 'inspector-attr-shape', 'N, -2');
    const error = page.locator('.wg-field.has-error .wg-field__error');
    await error.waitFor();
    expect(await error.textContent()).toBe(
      "'-2' is not a size: each size is a whole number ≥ 1, or N for the batch",
    );
    await screenshot(page, 'ux-files-3-input-shape');
    await setField(page, 'inspector-attr-shape', '');
    await expect
      .poll(() => error.textContent())
      .toBe('give a shape, e.g. N, 2 (or [] for a scalar)');
    // Nothing reached the document: the input still declares [N, 2].
    await page.keyboard.press('Escape');
    expect(await field.inputValue()).toBe('N, 2');
    await waitForAnalysis(page);
    expect(await page.getByTestId('node-x').getAttribute('data-error')).toBeNull();
  });

  it('flags a Linear too large to train on its node and in the problem count', async () => {
    await loadTemplate(page, 'mlp');
    await page.getByTestId('node-fc2').click();
    await setField(page, 'inspector-layer-outFeatures', '1000000000');
    const node = page.getByTestId('node-fc2');
    await expect
      .poll(() => node.getAttribute('data-error'))
      .toContain(
        "fc2's weight has 64,000,000,000 values (about 260 GB as f32); the CPU device holds " +
          'about 4 GB: reduce out features',
      );
    expect(await page.getByTestId('status').textContent()).toMatch(/\d+ problems?/);
    await screenshot(page, 'ux-files-4-huge-linear');
    await setField(page, 'inspector-layer-outFeatures', '64');
    await expect.poll(() => node.getAttribute('data-error')).toBeNull();
  });
});

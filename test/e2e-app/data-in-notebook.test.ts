/**
 * The CSV uploaded in the Data tab is part of the document, end to end in web mode (downloads
 * and uploads, as in browsers without the File System Access API): uploading it is an unsaved
 * edit, Save writes it into the notebook (`metadata.wiregrad.data`, with its target column and
 * whether Train uses it), a reload brings it back from the autosave, and opening the saved
 * notebook in a fresh page (empty storage) shows it in the Data tab and trains on it in the
 * Train tab. New clears it.
 */

import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { notebookText } from '../../engine/protocol/notebook.js';
import { screenshot, useAppSession, withoutFilePickers } from '../helpers/app-browser.js';

const TEST_TIMEOUT = 90_000;

let page: Page;
const session = useAppSession({
  prefix: 'wiregrad-data-notebook-',
  init: withoutFilePickers,
  onOpen: (opened) => {
    page = opened.page;
  },
});

const CSV = [
  'length,width,colour,kind',
  '4.9,3.0,red,short',
  '6.1,2.8,blue,long',
  '5.0,3.4,red,short',
  '6.7,3.1,blue,long',
  '5.4,3.9,red,short',
  '6.3,2.5,blue,long',
].join('\n');

async function headers(): Promise<string[]> {
  return page.getByTestId('data-preview').locator('th').allTextContents();
}

/** Waits until the Data tab previews the uploaded CSV (a column no built-in set has). */
async function waitForCsvPreview(): Promise<void> {
  await page.getByTestId('tab-data').click();
  await page.getByTestId('data-preview').locator('th', { hasText: 'length' }).waitFor();
}

describe('the uploaded CSV in the notebook', { timeout: TEST_TIMEOUT }, () => {
  it('is saved in the notebook, restored by a reload and by opening the notebook', async () => {
    const csvPath = join(session.app.dir, 'shapes.csv');
    await writeFile(csvPath, `${CSV}\n`);
    await page.getByTestId('tab-data').click();
    await page.getByTestId('data-panel').waitFor();
    expect(await page.locator('.wg-dirty').count()).toBe(0);
    await page.getByTestId('csv-upload').setInputFiles(csvPath);
    await waitForCsvPreview();
    await page.getByTestId('csv-target').selectOption('colour');
    await page.getByTestId('class-counts').locator('li[data-class="red"]').waitFor();
    // Uploading (and choosing the target) are edits: the document shows unsaved changes.
    await page.locator('.wg-dirty').waitFor();

    // Save downloads the notebook with the CSV in its metadata.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('file-save').click(),
    ]);
    const notebookPath = join(session.app.dir, download.suggestedFilename());
    await download.saveAs(notebookPath);
    await page.getByTestId('status-message').filter({ hasText: 'Saved' }).waitFor();
    expect(await page.locator('.wg-dirty').count()).toBe(0);
    const notebook = JSON.parse(await readFile(notebookPath, 'utf8')) as {
      metadata: { wiregrad: { data: { source: string; csv: Record<string, unknown> } } };
    };
    expect(notebook.metadata.wiregrad.data.source).toBe('csv');
    expect(notebook.metadata.wiregrad.data.csv).toMatchObject({
      name: 'shapes.csv',
      target: 'colour',
      text: `${CSV}\n`,
      bytes: CSV.length + 1,
    });

    // A reload restores the autosaved document with its CSV.
    await page.waitForFunction(() =>
      (
        globalThis as unknown as { localStorage: { getItem(k: string): string | null } }
      ).localStorage
        .getItem('wiregrad.autosave.v1')
        ?.includes('shapes.csv'),
    );
    await page.reload();
    await page.getByTestId('engine-status').filter({ hasText: 'Engine ready' }).waitFor();
    await waitForCsvPreview();
    expect(await page.getByTestId('csv-target').inputValue()).toBe('colour');

    // A fresh page with empty storage: opening the notebook brings the CSV back.
    await session.current.context.close();
    await session.open({ init: withoutFilePickers });
    await page.getByTestId('tab-data').click();
    await page.getByTestId('data-preview').locator('th', { hasText: 'x0' }).waitFor();
    const [chooser] = await Promise.all([
      page.waitForEvent('filechooser'),
      page.getByTestId('file-open').click(),
    ]);
    await chooser.setFiles(notebookPath);
    await page
      .getByTestId('status-message')
      .filter({ hasText: 'with its data (shapes.csv)' })
      .waitFor();
    await waitForCsvPreview();
    expect(await headers()).toEqual(['#', 'length', 'width', 'kind=long', 'kind=short', 'colour']);
    expect(await page.getByTestId('csv-target').inputValue()).toBe('colour');
    expect(await page.getByTestId('data-dataset').inputValue()).toBe('csv');
    // Opening is not an edit.
    expect(await page.locator('.wg-dirty').count()).toBe(0);
    await screenshot(page, 'data-restored-from-notebook');
    await page.getByTestId('tab-train').click();
    expect(await page.getByTestId('dataset-select').inputValue()).toBe('csv');

    // New: the CSV belonged to the last document.
    await page.getByTestId('file-new').click();
    await page.getByTestId('tab-data').click();
    await page.getByTestId('data-preview').locator('th', { hasText: 'x0' }).waitFor();
    expect(await page.getByTestId('data-dataset').locator('option[value="csv"]').count()).toBe(0);
  });

  it('opens a notebook whose CSV was changed outside Wiregrad, and names the problem', async () => {
    // The entry as documented, its text edited after the checksum was taken.
    const notebook = JSON.parse(
      notebookText({
        format: 'wiregrad.graph',
        version: 1,
        name: 'Edited elsewhere',
        nodes: [],
        outputs: [],
      }),
    ) as { metadata: { wiregrad: Record<string, unknown> } };
    notebook.metadata.wiregrad.data = {
      source: 'csv',
      csv: {
        name: 'shapes.csv',
        bytes: Buffer.byteLength(CSV),
        sha256: createHash('sha256').update(CSV).digest('hex'),
        text: CSV.replace('4.9', '9.4'),
      },
    };
    const damaged = JSON.stringify(notebook, null, 1);
    const path = join(session.app.dir, 'edited.ipynb');
    await writeFile(path, damaged);
    const [chooser] = await Promise.all([
      page.waitForEvent('filechooser'),
      page.getByTestId('file-open').click(),
    ]);
    await chooser.setFiles(path);
    const message = page.getByTestId('status-message').filter({ hasText: 'was not restored' });
    await message.waitFor();
    expect(await message.textContent()).toBe(
      'Opened edited.ipynb; its CSV was not restored: shapes.csv does not match its saved size ' +
        'and SHA-256 (changed outside Wiregrad); upload it again in the Data tab',
    );
    expect(await page.locator('.wg-docname').textContent()).toContain('Edited elsewhere');
    await page.getByTestId('tab-data').click();
    expect(await page.getByTestId('data-dataset').locator('option[value="csv"]').count()).toBe(0);
    await screenshot(page, 'data-damaged-entry');
  });
});

/**
 * Several graph cells in one notebook, end to end in web mode (Debian's headless Chromium): a
 * second graph cell is added, put on the canvas with "Edit on canvas", edited there, and the
 * first one put back; both graphs and which one is on the canvas survive saving (a download)
 * and opening (an upload). Every wait polls the DOM for the state it expects; nothing sleeps.
 *
 * Monaco's blocked inline styles are reported on the console (see notebook.test.ts); those
 * reports, and only those, are not counted as page errors.
 */

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import type { GraphJSON } from '../../engine/graph/ir.js';
import { graphCell, toNotebook, wiregradMetadata } from '../../engine/protocol/notebook.js';
import {
  loadTemplate,
  screenshot,
  useAppSession,
  withoutFilePickers,
} from '../helpers/app-browser.js';

const CSP_STYLE_REPORT = /^Applying inline style violates the following Content Security Policy/;

let page: Page;
const session = useAppSession({
  prefix: 'wiregrad-graph-cells-',
  startTimeout: 120_000,
  ignoreConsole: CSP_STYLE_REPORT,
  acceptDownloads: true,
  // Saves as a download and opens from an upload, as browsers without the file pickers do.
  init: withoutFilePickers,
  onOpen(opened) {
    page = opened.page;
  },
});

const TEST_TIMEOUT = 120_000;

/** The ops on the canvas, sorted. */
async function canvasOps(): Promise<string[]> {
  const ops = await page
    .getByTestId('canvas')
    .locator('[data-op]')
    .evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-op') ?? ''));
  return ops.sort();
}

interface SavedNotebook {
  metadata: { wiregrad: Record<string, unknown> };
  cells: { id: string; metadata: { wiregrad?: { graph?: GraphJSON } } }[];
}

describe('graph cells', { timeout: TEST_TIMEOUT }, () => {
  it('edits a second graph on the canvas, switches back, and saves and opens both', async () => {
    await loadTemplate(page, 'residual', 'skip');
    const residualOps = await canvasOps();
    expect(residualOps).toContain('relu');

    await page.getByTestId('view-notebook').click();
    await page.getByTestId('notebook').waitFor();
    const first = page.getByTestId('cell-0');
    expect(await first.getAttribute('data-active')).toBe('true');
    await first.getByTestId('graph-cell-active').waitFor();

    // A second graph cell: a new model with an Input node, not on the canvas.
    await page.getByTestId('add-graph-cell').click();
    const second = page.getByTestId('cell-2');
    expect(await second.getAttribute('data-kind')).toBe('graph');
    expect(await second.getAttribute('data-active')).toBe('false');
    expect(await second.locator('.wg-graphcell__name').textContent()).toBe('Model 2');
    expect(await second.locator('.wg-graphcell__meta').textContent()).toContain('1 node ·');
    expect(await second.getByTestId('graph-cell-active').count()).toBe(0);
    await screenshot(page, 'notebook-graph-cells');

    // Deleting the graph on the canvas is refused, with a reason.
    await first.click();
    await first.getByTestId('cell-delete').click();
    await expect
      .poll(() => page.getByTestId('notebook-message').textContent())
      .toContain('cannot be removed');
    expect(await page.locator('.wg-cell.is-graph').count()).toBe(2);

    // "Edit on canvas" puts the second graph on the canvas; the residual block leaves it.
    await second.getByTestId('graph-cell-edit').click();
    await page.getByTestId('notebook').waitFor({ state: 'detached' });
    await page.getByTestId('node-x').waitFor();
    await page.getByTestId('node-skip').waitFor({ state: 'detached' });
    expect(await canvasOps()).toEqual(['input']);

    // An edit on the canvas: a ReLU from the palette.
    await page.getByTestId('palette-item-relu').click();
    await expect.poll(canvasOps).toEqual(['input', 'relu']);

    // Back in the notebook, the second cell is the canvas's and shows the edit; the first one
    // still holds the residual block.
    await page.getByTestId('view-notebook').click();
    expect(await second.getAttribute('data-active')).toBe('true');
    await expect.poll(() => second.locator('.wg-graphcell__node').count()).toBe(2);
    expect(await first.getAttribute('data-active')).toBe('false');
    expect(await first.locator('.wg-graphcell__name').textContent()).toBe('Residual block');
    await screenshot(page, 'notebook-graph-cells-switched');

    // Switching back (from the keyboard: the cell selected, Enter) writes the edited graph into
    // its cell first.
    await first.locator('.wg-cell__gutter').click();
    await expect
      .poll(() => first.evaluate((el) => el === el.ownerDocument.activeElement))
      .toBe(true);
    await page.keyboard.press('Enter');
    await page.getByTestId('node-skip').waitFor();
    await expect.poll(canvasOps).toEqual(residualOps);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('file-save').click(),
    ]);
    const path = join(session.app.dir, 'two-graphs.ipynb');
    await download.saveAs(path);
    const text = await readFile(path, 'utf8');
    const saved = JSON.parse(text) as SavedNotebook;
    const graphs = saved.cells.filter((c) => c.metadata.wiregrad?.graph);
    expect(graphs.map((c) => c.metadata.wiregrad?.graph?.name)).toEqual([
      'Residual block',
      'Model 2',
    ]);
    expect(saved.metadata.wiregrad).toMatchObject({ version: 2, active: graphs[0]!.id });
    const model2 = graphs[1]!.metadata.wiregrad!.graph!;
    expect(model2.nodes.map((n) => n.op).sort()).toEqual(['input', 'relu']);

    // A new notebook, then the saved one opened: both graphs, the residual block on the canvas.
    await page.getByTestId('file-new').click();
    await page.getByTestId('node-skip').waitFor({ state: 'detached' });
    const [chooser] = await Promise.all([
      page.waitForEvent('filechooser'),
      page.getByTestId('file-open').click(),
    ]);
    await chooser.setFiles(path);
    await page.getByTestId('node-skip').waitFor();
    await expect.poll(canvasOps).toEqual(residualOps);
    await page.getByTestId('view-notebook').click();
    const reopened = page.getByTestId('cell-2');
    expect(await page.getByTestId('cell-0').getAttribute('data-active')).toBe('true');
    expect(await reopened.getAttribute('data-active')).toBe('false');
    expect(await reopened.locator('.wg-graphcell__name').textContent()).toBe('Model 2');
    await reopened.getByTestId('graph-cell-edit').click();
    await page.getByTestId('node-x').waitFor();
    await expect.poll(canvasOps).toEqual(['input', 'relu']);
  });

  it('opens a notebook whose other graph cell is malformed, naming that cell', async () => {
    const good: GraphJSON = {
      format: 'wiregrad.graph',
      version: 1,
      name: 'Good model',
      nodes: [{ id: 'img', op: 'input', inputs: [], attrs: { shape: [-1, 4], dtype: 'f32' } }],
      outputs: [],
    };
    const text = JSON.stringify({
      ...toNotebook(good),
      metadata: { wiregrad: wiregradMetadata(2, 'wiregrad-model') },
      cells: [
        graphCell(good),
        { ...graphCell(good, 'broken'), metadata: { wiregrad: { graph: { format: 'x' } } } },
      ],
    });
    const path = join(session.app.dir, 'broken-cell.ipynb');
    await writeFile(path, text);
    const [chooser] = await Promise.all([
      page.waitForEvent('filechooser'),
      page.getByTestId('file-open').click(),
    ]);
    await chooser.setFiles(path);
    await page.getByTestId('node-img').waitFor();

    await page.getByTestId('view-notebook').click();
    const broken = page.getByTestId('cell-1');
    const error = broken.getByTestId('graph-cell-error');
    await error.waitFor();
    expect(await error.textContent()).toContain(
      "Graph cell 2 (cell 2, id 'broken') cannot be read",
    );
    expect(await page.getByTestId('notebook-message').textContent()).toContain(
      'The other cells opened as saved',
    );
    expect(await broken.getByTestId('graph-cell-edit').count()).toBe(0);
    expect(await page.getByTestId('cell-0').getAttribute('data-active')).toBe('true');
    await screenshot(page, 'notebook-graph-cell-broken');
  });
});

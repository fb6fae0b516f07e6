/**
 * The graph editor end to end, in web mode: the renderer and the engine worker are built with
 * scripts/build.mjs (as `npm start` builds them), served by scripts/serve.mjs (cross-origin
 * isolated) and driven in Debian's headless Chromium through playwright-core, as a user would:
 * drag from the palette, drag between handles, type in the inspector, click undo. Shapes and
 * errors come from the real engine worker. Every assertion waits for the state it expects
 * (Playwright's auto-retrying `expect` equivalents are built here from `waitForFunction` and
 * `locator.waitFor`), never for a fixed time.
 *
 * Chromium is required, as for test/browser/engine-worker.test.ts.
 */

import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Page } from 'playwright-core';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  type AppGlobals,
  documentText,
  screenshot,
  setField,
  useAppSession,
  waitForAnalysis,
  withoutFilePickers,
} from '../helpers/app-browser.js';

/** A fresh page (empty localStorage) with the engine ready before each test. */
let page: Page;
const session = useAppSession({
  prefix: 'wiregrad-app-',
  acceptDownloads: true,
  onOpen: (opened) => {
    page = opened.page;
  },
});

/** The page's globals this file's callbacks reach beyond the app's. */
interface PageGlobals extends AppGlobals {
  readonly localStorage: { getItem(key: string): string | null };
}

/** Drags palette entry `key` onto the canvas, `dy` pixels below the top, centred across. */
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

/** Drags from `source`'s output handle to input `port` of `target`, as a user connects. */
async function connect(source: string, target: string, port = 0): Promise<void> {
  const from = await centreOf(`[data-testid="node-${source}"] [data-handleid="out"]`);
  const to = await centreOf(`[data-testid="node-${target}"] [data-handleid="in-${port}"]`);
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  await page.mouse.move((from.x + to.x) / 2, (from.y + to.y) / 2, { steps: 5 });
  await page.mouse.move(to.x, to.y, { steps: 5 });
  await page.mouse.up();
}

function edgeLabel(source: string, target: string) {
  return page.getByTestId(`edge-label-${source}-${target}`);
}

/** Waits for an edge label to read `text` with no error on it. */
async function expectEdge(source: string, target: string, text: string): Promise<void> {
  const label = edgeLabel(source, target);
  await label.and(page.locator(':not([data-error])')).filter({ hasText: text }).waitFor();
  expect(await label.textContent()).toBe(text);
}

/** Generous for a loaded CI machine; each test takes 1-4 s here. */
const TEST_TIMEOUT = 20_000;

describe('the graph editor in web mode', { timeout: TEST_TIMEOUT }, () => {
  it('builds an MLP for 2-D inputs by drag and drop, with the shape on every edge', async () => {
    await dropFromPalette('input', 70);
    await dropFromPalette('linear', 230);
    await dropFromPalette('relu', 400);
    await dropFromPalette('linear', 540);
    for (const id of ['input_1', 'linear_1', 'relu_1', 'linear_2'])
      await page.getByTestId(`node-${id}`).waitFor();
    expect(await page.getByTestId('node-linear_1').getAttribute('data-op')).toBe('linear');
    await waitForAnalysis(page);

    await connect('input_1', 'linear_1');
    await expectEdge('input_1', 'linear_1', '[N, 2]');
    await connect('linear_1', 'relu_1');
    await expectEdge('linear_1', 'relu_1', '[N, 64]');
    await connect('relu_1', 'linear_2');
    await expectEdge('relu_1', 'linear_2', '[N, 64]');

    // The first Linear took its input size from the [N, 2] input; nothing is in error.
    await page.getByTestId('shape-linear_2').filter({ hasText: '[N, 64]' }).waitFor();
    await page.getByTestId('node-linear_1').click();
    await page.getByTestId('inspector-layer-inFeatures').and(page.locator('[value="2"]')).waitFor();
    expect(await page.getByTestId('inspector-params').textContent()).toBe('192');
    expect(await page.locator('[data-error]').count()).toBe(0);
    await screenshot(page, 'mlp-by-hand');
  });

  it('shows a wrong connection on its edge and node, and the suggested Flatten clears it', async () => {
    await dropFromPalette('input', 70);
    await dropFromPalette('linear', 300);
    await page.getByTestId('node-input_1').click();
    await setField(page, 'inspector-attr-shape', 'N, 1, 28, 28');
    await page.getByTestId('shape-input_1').filter({ hasText: '[N, 1, 28, 28]' }).waitFor();

    await connect('input_1', 'linear_1');
    const label = edgeLabel('input_1', 'linear_1');
    await label.and(page.locator('[data-error]')).waitFor();
    expect(await label.getAttribute('data-error')).toMatch(/inner dimensions differ/);
    expect(await label.textContent()).toContain('[N, 1, 28, 28]');
    expect(await page.getByTestId('node-linear_1').getAttribute('data-error')).toMatch(
      /op 'matmul': inner dimensions differ/,
    );
    await screenshot(page, 'wrong-connection');

    await page.getByTestId('fix-linear_1').filter({ hasText: 'Insert Flatten' }).click();
    await expectEdge('input_1', 'flatten_1', '[N, 1, 28, 28]');
    await expectEdge('flatten_1', 'linear_1', '[N, 784]');
    await page.getByTestId('shape-linear_1').filter({ hasText: '[N, 64]' }).waitFor();
    expect(await page.locator('[data-error]').count()).toBe(0);
    await screenshot(page, 'wrong-connection-fixed');

    // Undo brings the error back; changing the input to [N, 64] instead also clears it.
    await page.getByTestId('undo').click();
    await edgeLabel('input_1', 'linear_1').and(page.locator('[data-error]')).waitFor();
    await page.getByTestId('node-input_1').click();
    await setField(page, 'inspector-attr-shape', 'N, 64');
    await expectEdge('input_1', 'linear_1', '[N, 64]');
    expect(await page.locator('[data-error]').count()).toBe(0);
  });

  it('undoes and redoes ten edits made in the UI, restoring each document exactly', async () => {
    const states = [await documentText(page)];
    const edits: (() => Promise<void>)[] = [
      () => page.getByTestId('palette-item-input').click(),
      () => page.getByTestId('palette-item-linear').click(),
      () => page.getByTestId('palette-item-relu').click(),
      () => connect('input_1', 'linear_1'),
      () => connect('linear_1', 'relu_1'),
      async () => {
        await page.getByTestId('node-input_1').click();
        await setField(page, 'inspector-attr-shape', 'N, 5');
      },
      async () => {
        const node = await centreOf('[data-testid="node-relu_1"] .wg-node__header');
        await page.mouse.move(node.x, node.y);
        await page.mouse.down();
        await page.mouse.move(node.x + 120, node.y + 40, { steps: 6 });
        await page.mouse.up();
      },
      async () => {
        await page.getByTestId('palette-search').fill('tanh');
        await page.getByTestId('palette-search').press('Enter');
      },
      async () => {
        await page.getByTestId('node-linear_1').click();
        await setField(page, 'inspector-layer-outFeatures', '32');
      },
      async () => {
        await page.getByTestId('node-tanh_1').click();
        await page.keyboard.press('Delete');
      },
    ];
    for (const edit of edits) {
      const before = states[states.length - 1];
      await edit();
      await page.waitForFunction(
        (text) => (globalThis as unknown as PageGlobals).wiregradDebug!.documentText() !== text,
        before,
      );
      await waitForAnalysis(page);
      states.push(await documentText(page));
    }
    expect(new Set(states).size).toBe(11);
    expect(JSON.parse(states[10]!).nodes.map((n: { id: string }) => n.id)).toEqual([
      'input_1',
      'linear_1.weight',
      'linear_1.bias',
      'linear_1',
      'relu_1',
    ]);
    await screenshot(page, 'ten-edits');

    for (let i = 9; i >= 0; i--) {
      await page.getByTestId('undo').click();
      expect(await documentText(page)).toBe(states[i]);
    }
    expect(await page.getByTestId('undo').isDisabled()).toBe(true);
    for (let i = 1; i <= 10; i++) {
      await page.getByTestId('redo').click();
      expect(await documentText(page)).toBe(states[i]);
    }
    expect(await page.getByTestId('redo').isDisabled()).toBe(true);
    // Keyboard undo goes through the same action.
    await page.getByTestId('canvas').click({ position: { x: 20, y: 20 } });
    await page.keyboard.press('Control+z');
    expect(await documentText(page)).toBe(states[9]);
  });

  it('loads the MLP template with a shape on every edge and no problems', async () => {
    await page.getByTestId('templates-menu').click();
    await page.getByTestId('template-mlp').click();
    await page.getByTestId('node-loss').waitFor();
    await waitForAnalysis(page);
    const labels = page.locator('[data-testid^="edge-label-"]');
    await labels.first().waitFor();
    const texts = await labels.allTextContents();
    expect(texts).toHaveLength(7);
    for (const text of texts) expect(text).toMatch(/^\[(N(, \d+)*)?\]$/);
    expect(await edgeLabel('fc3', 'loss').textContent()).toBe('[N, 3]');
    expect(await edgeLabel('y', 'loss').textContent()).toBe('[N]');
    expect(await page.getByTestId('shape-loss').textContent()).toBe('[]');
    expect(await page.locator('[data-error]').count()).toBe(0);
    await screenshot(page, 'template-mlp');
  });

  it('restores the autosaved document after a reload', async () => {
    await page.getByTestId('templates-menu').click();
    await page.getByTestId('template-cnn').click();
    await page.getByTestId('node-conv1').waitFor();
    await waitForAnalysis(page);
    const saved = await documentText(page);
    // Autosave runs a moment after the last change.
    await page.waitForFunction(
      (text) =>
        (globalThis as unknown as PageGlobals).localStorage.getItem('wiregrad.autosave.v1') ===
        text,
      saved,
    );
    await page.reload();
    await page.getByTestId('node-conv1').waitFor();
    expect(await documentText(page)).toBe(saved);
    await expectEdge('pool2', 'flatten', '[N, 16, 4, 4]');
    await screenshot(page, 'template-cnn');
  });

  it('inserts from the quick-insert box that a double-click on the canvas opens', async () => {
    const canvas = (await page.getByTestId('canvas').boundingBox())!;
    await page.mouse.dblclick(canvas.x + canvas.width / 2, canvas.y + 200);
    await page.getByTestId('quick-insert-input').fill('gelu');
    await screenshot(page, 'quick-insert');
    await page.getByTestId('quick-insert-input').press('Enter');
    await page.getByTestId('node-gelu_1').waitFor();
    expect(await page.getByTestId('quick-insert').count()).toBe(0);
  });
});

describe('files in web mode without the File System Access API', { timeout: TEST_TIMEOUT }, () => {
  beforeEach(async () => {
    await session.current.context.close();
    // The download/upload fallback, as in browsers without showSaveFilePicker.
    await session.open({ init: withoutFilePickers });
  });

  it('saves the graph as a download and opens it again from an upload', async () => {
    await page.getByTestId('templates-menu').click();
    await page.getByTestId('template-residual').click();
    await page.getByTestId('node-skip').waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByTestId('file-save').click(),
    ]);
    expect(download.suggestedFilename()).toBe('residual-block.ipynb');
    const path = join(session.app.dir, 'saved.ipynb');
    await download.saveAs(path);
    // A Jupyter notebook whose first cell holds the graph (engine/protocol/notebook.ts).
    const notebook = JSON.parse(await readFile(path, 'utf8')) as {
      nbformat: number;
      cells: { metadata: { wiregrad: { graph: Record<string, unknown> } } }[];
    };
    expect(notebook.nbformat).toBe(4);
    const saved = notebook.cells[0]!.metadata.wiregrad.graph;
    expect(saved).toMatchObject({ format: 'wiregrad.graph', version: 1, name: 'Residual block' });
    expect((saved.meta as { layout: Record<string, unknown> }).layout.skip).toBeDefined();

    await page.getByTestId('file-new').click();
    await page.getByTestId('node-skip').waitFor({ state: 'detached' });
    await writeFile(path, JSON.stringify(notebook));
    const [chooser] = await Promise.all([
      page.waitForEvent('filechooser'),
      page.getByTestId('file-open').click(),
    ]);
    await chooser.setFiles(path);
    await page.getByTestId('node-skip').waitFor();
    await expectEdge('relu1', 'fc2', '[N, 64]');
  });
});

/**
 * Training on WebGPU in the app, end to end in web mode (built and served as in
 * training.test.ts, driven in Debian's headless Chromium with --enable-unsafe-webgpu, whose
 * WebGPU runs on SwiftShader here): under the WebGPU device policy the MLP template trains on
 * the spiral in the engine worker, every node says it ran on `webgpu`, and the loss falls; with
 * one node pinned to the CPU from the inspector, the placement is mixed and the canvas draws the
 * cross-device edges as transfers, with the bytes they move. A second Chromium without WebGPU
 * shows the other side: the policy offers only the CPU and says why, and a node pinned to
 * WebGPU trains on the CPU with a note that explains it, at once. Sizes stay small:
 * SwiftShader is a CPU. Every wait polls the DOM for the state it expects; nothing sleeps.
 *
 * Chromium is required, as for the other app tests.
 */

import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AppBrowser, startAppBrowser } from '../helpers/app-browser.js';

/** Where screenshots go when WIREGRAD_SCREENSHOTS names a folder (for looking at the UI). */
const SCREENSHOTS = process.env.WIREGRAD_SCREENSHOTS;

let app: AppBrowser | undefined;
let context: BrowserContext | undefined;
let page: Page;
let pageErrors: string[] = [];

interface PageGlobals {
  readonly wiregradDebug?: { revisions(): { document: number; analysis: number } };
}
interface ElementLike {
  readonly textContent: string | null;
  getAttribute(name: string): string | null;
}
interface DocumentLike {
  querySelector(selector: string): ElementLike | null;
  querySelectorAll(selector: string): ArrayLike<ElementLike>;
}
/** The page's document, as page callbacks (which cannot close over this file) reach it. */
interface Win {
  readonly document: DocumentLike;
}

beforeAll(async () => {
  app = await startAppBrowser({
    prefix: 'wiregrad-train-gpu-',
    extraArgs: ['--enable-unsafe-webgpu'],
  });
}, 60_000);

afterAll(() => app?.close());

beforeEach(async () => {
  context = await app!.browser.newContext({ viewport: { width: 1440, height: 900 } });
  page = await context.newPage();
  pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  await page.goto(app!.url);
  await page.getByTestId('engine-status').filter({ hasText: 'Engine ready' }).waitFor();
});

afterEach(async () => {
  expect(pageErrors).toEqual([]);
  await context?.close();
}, 30_000);

async function screenshot(name: string): Promise<void> {
  if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

async function loadMlp(): Promise<void> {
  await page.getByTestId('templates-menu').click();
  await page.getByTestId('template-mlp').click();
  await page.getByTestId('node-loss').waitFor();
  await page.waitForFunction(() => {
    const r = (globalThis as unknown as PageGlobals).wiregradDebug?.revisions();
    return r !== undefined && r.document === r.analysis;
  });
}

/** Opens the Train panel on the spiral with the WebGPU policy, once the browser offers it. */
async function chooseWebGPU(epochs: number): Promise<void> {
  await page.getByTestId('tab-train').click();
  await page.getByTestId('dataset-select').selectOption('spiral');
  const policy = page.getByTestId('device-policy');
  await policy.locator('option[value="webgpu"]:not([disabled])').waitFor({ state: 'attached' });
  await policy.selectOption('webgpu');
  await setField('train-epochs', String(epochs));
  await setField('train-lr', '0.02');
}

async function setField(testId: string, value: string): Promise<void> {
  const field = page.getByTestId(testId);
  await field.fill(value);
  await field.press('Enter');
}

async function text(testId: string): Promise<string> {
  return (await page.getByTestId(testId).textContent()) ?? '';
}

/** Waits until the step counter reaches `n`. */
async function stepsReach(n: number): Promise<void> {
  await page.waitForFunction(
    (min) =>
      Number(
        (globalThis as unknown as Win).document.querySelector('[data-testid="train-step-count"]')
          ?.textContent,
      ) >= min,
    n,
    { timeout: 40_000 },
  );
}

describe('training on webgpu in the app', { timeout: 90_000 }, () => {
  it('trains the MLP on the spiral under the WebGPU policy: nodes on webgpu, the loss falls', async () => {
    await loadMlp();
    await chooseWebGPU(6);
    expect(await text('device-policy-note')).toMatch(/WebGPU/);
    await page.getByTestId('train-start').click();
    await stepsReach(1);
    const early = Number(await text('metric-loss'));
    const earlyStep = Number(await text('train-step-count'));
    expect(Number.isFinite(early)).toBe(true);
    await page.getByTestId('train-status').filter({ hasText: 'Done' }).waitFor({ timeout: 60_000 });
    const late = Number(await text('metric-loss'));
    expect(Number(await text('train-step-count'))).toBeGreaterThan(earlyStep);
    expect(late).toBeLessThan(early);
    // Every node of the model ran on WebGPU, and there is nothing to transfer.
    const devices = await page.evaluate(() =>
      Array.from(
        (globalThis as unknown as Win).document.querySelectorAll('.react-flow__node [data-device]'),
      ).map((e) => e.getAttribute('data-device')),
    );
    expect(devices.length).toBeGreaterThanOrEqual(6);
    expect(new Set(devices)).toEqual(new Set(['webgpu']));
    expect(await page.getByTestId('node-fc1').getAttribute('data-device')).toBe('webgpu');
    expect(await page.locator('[data-transfer="true"]').count()).toBe(0);
    // The gradients along the edges were measured on the GPU too.
    const norms = await page.evaluate(() =>
      Array.from(
        (globalThis as unknown as Win).document.querySelectorAll(
          '.react-flow__edge-path[data-grad-norm]',
        ),
      ).map((e) => Number(e.getAttribute('data-grad-norm'))),
    );
    expect(norms.length).toBeGreaterThan(0);
    expect(norms.every((n) => Number.isFinite(n) && n > 0)).toBe(true);
    expect(await page.getByTestId('device-note').count()).toBe(0);
    expect(Number(await text('metric-val-accuracy'))).toBeGreaterThan(0.4);
    await screenshot('training-webgpu');
  });

  it('a node pinned to the CPU makes a mixed graph with transfer edges and their bytes', async () => {
    await loadMlp();
    await page.getByTestId('node-relu1').click();
    const runOn = page.getByTestId('inspector-device');
    expect(await runOn.inputValue()).toBe('auto');
    await runOn.selectOption('cpu');
    await page.getByTestId('device-relu1').filter({ hasText: 'cpu' }).waitFor();
    await screenshot('training-webgpu-pin');

    await chooseWebGPU(2);
    await page.getByTestId('train-start').click();
    await page
      .locator('.react-flow__edge-path[data-transfer="true"]')
      .first()
      .waitFor({ state: 'attached' });
    await stepsReach(1);
    expect(await page.getByTestId('node-relu1').getAttribute('data-device')).toBe('cpu');
    expect(await page.getByTestId('node-fc1').getAttribute('data-device')).toBe('webgpu');
    expect(await page.getByTestId('node-fc2').getAttribute('data-device')).toBe('webgpu');
    // fc1 → relu1 and relu1 → fc2 cross devices, each a [32, 64] f32 activation per step.
    const transfers = await page.evaluate(() =>
      Array.from(
        (globalThis as unknown as Win).document.querySelectorAll(
          '.wg-edge-label[data-transfer="true"]',
        ),
      ).map((e) => [e.getAttribute('data-testid'), e.getAttribute('data-bytes'), e.textContent]),
    );
    expect(transfers.map(([id, bytes]) => [id, bytes]).sort()).toEqual([
      ['edge-label-fc1-relu1', String(32 * 64 * 4)],
      ['edge-label-relu1-fc2', String(32 * 64 * 4)],
    ]);
    expect(transfers.every(([, , label]) => /8\.0 KB/.test(label ?? ''))).toBe(true);
    await page.getByTestId('device-transfers').filter({ hasText: '2 transfer edges' }).waitFor();
    await stepsReach(5);
    expect(Number.isFinite(Number(await text('metric-loss')))).toBe(true);
    await screenshot('training-webgpu-mixed');
    await page.getByTestId('train-stop').click();
    await page
      .getByTestId('train-status')
      .filter({ hasText: /Stopped|Done/ })
      .waitFor();
  });
});

describe('training where WebGPU is missing', { timeout: 90_000 }, () => {
  it('offers only the CPU, and a node pinned to WebGPU trains on the CPU with a note', async () => {
    // The same build, in a Chromium without --enable-unsafe-webgpu: no adapter.
    const plain = await startAppBrowser({
      prefix: 'wiregrad-train-nogpu-',
      populate: (dir) => cp(app!.dir, dir, { recursive: true }),
    });
    const previous = page;
    const noGpu = await plain.browser.newContext({ viewport: { width: 1440, height: 900 } });
    try {
      page = await noGpu.newPage();
      page.on('pageerror', (error) => pageErrors.push(error.message));
      await page.goto(plain.url);
      await page.getByTestId('engine-status').filter({ hasText: 'Engine ready' }).waitFor();
      await loadMlp();
      await page.getByTestId('node-relu1').click();
      await page.getByTestId('inspector-device').selectOption('webgpu');
      await page.getByTestId('tab-train').click();
      const policy = page.getByTestId('device-policy');
      await policy.locator('option[value="webgpu"]', { hasText: 'unavailable' }).waitFor({
        state: 'attached',
      });
      expect(await policy.locator('option[value="webgpu"]').isDisabled()).toBe(true);
      expect(await policy.locator('option[value="auto"]').isDisabled()).toBe(true);
      await page
        .getByTestId('device-policy-note')
        .filter({ hasText: 'WebGPU is unavailable: no WebGPU adapter' })
        .waitFor();
      await setField('train-epochs', '2');
      await page.getByTestId('train-start').click();
      await page
        .getByTestId('device-note')
        .filter({
          hasText: /^WebGPU is not available, so training runs on the CPU\. No WebGPU adapter/,
        })
        .waitFor();
      await stepsReach(3);
      expect(await page.getByTestId('node-relu1').getAttribute('data-device')).toBe('cpu');
      expect(await page.getByTestId('node-fc1').getAttribute('data-device')).toBe('cpu');
      expect(await page.locator('[data-transfer="true"]').count()).toBe(0);
      await screenshot('training-webgpu-missing');
    } finally {
      page = previous;
      await noGpu.close();
      await plain.close();
    }
  });
});

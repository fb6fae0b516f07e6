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
import { type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  APP_VIEWPORT,
  type AppGlobals,
  edgeGradNorms,
  loadTemplate,
  openTrainPanel,
  screenshot,
  setField,
  startAppBrowser,
  stopTraining,
  textOf,
  useAppSession,
  waitForEngine,
  waitForNumber,
} from '../helpers/app-browser.js';

let page: Page;
const session = useAppSession({
  prefix: 'wiregrad-train-gpu-',
  extraArgs: ['--enable-unsafe-webgpu'],
  closeTimeout: 30_000,
  onOpen: (opened) => {
    page = opened.page;
  },
});

/** Opens the Train panel on the spiral with the WebGPU policy, once the browser offers it. */
async function chooseWebGPU(epochs: number): Promise<void> {
  await openTrainPanel(page, 'spiral');
  const policy = page.getByTestId('device-policy');
  await policy.locator('option[value="webgpu"]:not([disabled])').waitFor({ state: 'attached' });
  await policy.selectOption('webgpu');
  await setField(page, 'train-epochs', String(epochs));
  await setField(page, 'train-lr', '0.02');
}

/** Waits until the step counter reaches `n`. */
async function stepsReach(n: number): Promise<void> {
  await waitForNumber(page, '[data-testid="train-step-count"]', { atLeast: n, timeout: 40_000 });
}

describe('training on webgpu in the app', { timeout: 90_000 }, () => {
  it('trains the MLP on the spiral under the WebGPU policy: nodes on webgpu, the loss falls', async () => {
    await loadTemplate(page, 'mlp');
    await chooseWebGPU(6);
    expect(await textOf(page, 'device-policy-note')).toMatch(/WebGPU/);
    await page.getByTestId('train-start').click();
    await stepsReach(1);
    const early = Number(await textOf(page, 'metric-loss'));
    const earlyStep = Number(await textOf(page, 'train-step-count'));
    expect(Number.isFinite(early)).toBe(true);
    await page.getByTestId('train-status').filter({ hasText: 'Done' }).waitFor({ timeout: 60_000 });
    const late = Number(await textOf(page, 'metric-loss'));
    expect(Number(await textOf(page, 'train-step-count'))).toBeGreaterThan(earlyStep);
    expect(late).toBeLessThan(early);
    // Every node of the model ran on WebGPU, and there is nothing to transfer.
    const devices = await page.evaluate(() =>
      Array.from(
        (globalThis as unknown as AppGlobals).document.querySelectorAll(
          '.react-flow__node [data-device]',
        ),
      ).map((e) => e.getAttribute('data-device')),
    );
    expect(devices.length).toBeGreaterThanOrEqual(6);
    expect(new Set(devices)).toEqual(new Set(['webgpu']));
    expect(await page.getByTestId('node-fc1').getAttribute('data-device')).toBe('webgpu');
    expect(await page.locator('[data-transfer="true"]').count()).toBe(0);
    // The gradients along the edges were measured on the GPU too.
    const norms = await edgeGradNorms(page);
    expect(norms.length).toBeGreaterThan(0);
    expect(norms.every((n) => Number.isFinite(n) && n > 0)).toBe(true);
    expect(await page.getByTestId('device-note').count()).toBe(0);
    expect(Number(await textOf(page, 'metric-val-accuracy'))).toBeGreaterThan(0.4);
    await screenshot(page, 'training-webgpu');
  });

  it('a node pinned to the CPU makes a mixed graph with transfer edges and their bytes', async () => {
    await loadTemplate(page, 'mlp');
    await page.getByTestId('node-relu1').click();
    const runOn = page.getByTestId('inspector-device');
    expect(await runOn.inputValue()).toBe('auto');
    await runOn.selectOption('cpu');
    await page.getByTestId('device-relu1').filter({ hasText: 'cpu' }).waitFor();
    await screenshot(page, 'training-webgpu-pin');

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
        (globalThis as unknown as AppGlobals).document.querySelectorAll(
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
    expect(Number.isFinite(Number(await textOf(page, 'metric-loss')))).toBe(true);
    await screenshot(page, 'training-webgpu-mixed');
    await stopTraining(page);
  });
});

describe('training where WebGPU is missing', { timeout: 90_000 }, () => {
  it('offers only the CPU, and a node pinned to WebGPU trains on the CPU with a note', async () => {
    // The same build, in a Chromium without --enable-unsafe-webgpu: no adapter.
    const plain = await startAppBrowser({
      prefix: 'wiregrad-train-nogpu-',
      populate: (dir) => cp(session.app.dir, dir, { recursive: true }),
    });
    const previous = page;
    const errors = session.current.errors;
    const noGpu = await plain.browser.newContext({ viewport: APP_VIEWPORT });
    try {
      page = await noGpu.newPage();
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(plain.url);
      await waitForEngine(page);
      await loadTemplate(page, 'mlp');
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
      await setField(page, 'train-epochs', '2');
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
      await screenshot(page, 'training-webgpu-missing');
    } finally {
      page = previous;
      await noGpu.close();
      await plain.close();
    }
  });
});

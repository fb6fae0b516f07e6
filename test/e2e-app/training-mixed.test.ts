/**
 * Training on a mixed placement in the app, end to end in web mode (Debian's headless Chromium
 * with --enable-unsafe-webgpu, whose WebGPU runs on SwiftShader here): with one node of the MLP
 * pinned to the CPU under the WebGPU policy, the edges get their gradient norms and the lanes
 * timeline shows the step's ops on both devices: the CPU's on lane 0, the GPU queue's on its
 * own lane, and the transfers between them. Every wait polls the DOM for the state it expects;
 * nothing sleeps.
 *
 * Chromium is required, as for the other app tests.
 */

import { type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  type AppGlobals,
  edgeGradNorms,
  loadTemplate,
  openTrainPanel,
  screenshot,
  setField,
  stopTraining,
  useAppSession,
  waitForNumber,
} from '../helpers/app-browser.js';

let page: Page;
useAppSession({
  prefix: 'wiregrad-train-mixed-',
  extraArgs: ['--enable-unsafe-webgpu'],
  closeTimeout: 30_000,
  onOpen: (opened) => {
    page = opened.page;
  },
});

/** Every timeline bar's node, lane and phase. */
function bars(): Promise<{ node: string; lane: string; phase: string }[]> {
  return page.evaluate(() =>
    Array.from(
      (globalThis as unknown as AppGlobals).document.querySelectorAll(
        '[data-testid="lanes-timeline"] [data-node][data-lane]',
      ),
    ).map((e) => ({
      node: e.getAttribute('data-node') ?? '',
      lane: e.getAttribute('data-lane') ?? '',
      phase: e.getAttribute('data-phase') ?? '',
    })),
  );
}

describe('training on a mixed placement in the app', { timeout: 90_000 }, () => {
  it('pinned to the CPU under WebGPU: gradient norms on the edges, both devices in the timeline', async () => {
    await loadTemplate(page, 'mlp');
    await page.getByTestId('node-relu1').click();
    await page.getByTestId('inspector-device').selectOption('cpu');
    await page.getByTestId('device-relu1').filter({ hasText: 'cpu' }).waitFor();

    await openTrainPanel(page, 'spiral');
    const policy = page.getByTestId('device-policy');
    await policy.locator('option[value="webgpu"]:not([disabled])').waitFor({ state: 'attached' });
    await policy.selectOption('webgpu');
    await setField(page, 'train-epochs', '4');
    await page.getByTestId('train-start').click();
    await waitForNumber(page, '[data-testid="train-step-count"]', {
      atLeast: 3,
      timeout: 40_000,
    });
    // The placement is mixed: relu1 on the CPU, the layers on WebGPU.
    await page
      .locator('.react-flow__edge-path[data-transfer="true"]')
      .first()
      .waitFor({ state: 'attached' });
    expect(await page.getByTestId('node-relu1').getAttribute('data-device')).toBe('cpu');
    expect(await page.getByTestId('node-fc1').getAttribute('data-device')).toBe('webgpu');

    // Gradient norms on the edges, measured on the placed step.
    await page
      .locator('.react-flow__edge-path[data-grad-norm]')
      .first()
      .waitFor({ state: 'attached', timeout: 30_000 });
    const norms = await edgeGradNorms(page);
    expect(norms.length).toBeGreaterThanOrEqual(4);
    expect(norms.every((n) => Number.isFinite(n) && n > 0)).toBe(true);

    // The timeline: relu1's forward op on the CPU's lane 0, fc1's on the GPU queue's lane
    // (backward nodes follow the policy, so relu1's gradient runs on the GPU too).
    await page
      .locator('[data-testid="lanes-timeline"] [data-node="fc1"]')
      .first()
      .waitFor({ state: 'attached', timeout: 30_000 });
    const seen = await bars();
    const lanesOf = (node: string): Set<string> =>
      new Set(seen.filter((b) => b.node === node && b.phase === 'forward').map((b) => b.lane));
    expect(lanesOf('relu1')).toEqual(new Set(['0']));
    expect(lanesOf('fc1')).toEqual(new Set(['1']));
    expect(new Set(seen.map((b) => b.lane))).toEqual(new Set(['0', '1']));
    // The activations cross as transfers, drawn as bars of their own.
    expect(seen.some((b) => b.node === 'fc1@cpu')).toBe(true);
    await screenshot(page, 'training-mixed');
    await page.getByTestId('lanes-timeline').scrollIntoViewIfNeeded();
    await screenshot(page, 'training-mixed-lanes', 'lanes-timeline');
    await stopTraining(page);
  });
});

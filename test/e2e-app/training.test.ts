/**
 * Training in the app, end to end in web mode (built and served as in canvas.test.ts, driven in
 * Debian's headless Chromium): load the MLP template, train it on the spiral from the Train
 * panel, and watch the live views follow the engine worker's progress: the metrics, the loss
 * chart, gradient norms on the edges, devices on the nodes, the lanes timeline. Pause, one
 * step, stop. A long-task observer checks that the main thread stays responsive (no task over
 * 50 ms) while the worker trains. Every wait polls the DOM for the state it expects; nothing
 * sleeps.
 *
 * Chromium is required, as for test/browser/engine-worker.test.ts.
 */

import { type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  type AppGlobals,
  edgeGradNorms,
  type ElementLike,
  loadTemplate,
  openTrainPanel,
  screenshot,
  setField,
  stopTraining,
  textOf,
  useAppSession,
  waitForNumber,
} from '../helpers/app-browser.js';

let page: Page;
useAppSession({
  prefix: 'wiregrad-train-',
  init: observeLongTasks,
  onOpen: (opened) => {
    page = opened.page;
  },
});

/** The page's globals this file's callbacks reach beyond the app's. */
interface PageGlobals extends AppGlobals {
  /** Long tasks seen by the observer the init script installs: start and duration, in ms. */
  readonly wiregradLongTasks: { start: number; duration: number }[];
  readonly performance: { now(): number };
}

/** Installed before the page's scripts: records every main-thread task over 50 ms. */
function observeLongTasks(): void {
  interface Entry {
    readonly startTime: number;
    readonly duration: number;
  }
  interface Observer {
    observe(options: { type: string; buffered: boolean }): void;
  }
  const g = globalThis as unknown as {
    wiregradLongTasks: { start: number; duration: number }[];
    PerformanceObserver: new (
      callback: (list: { getEntries(): readonly Entry[] }) => void,
    ) => Observer;
  };
  g.wiregradLongTasks = [];
  new g.PerformanceObserver((list) => {
    for (const e of list.getEntries())
      g.wiregradLongTasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
}

/** Loads the MLP template, waits for its analysis and opens the Train panel. */
async function openMlpTraining(): Promise<void> {
  await loadTemplate(page, 'mlp');
  await openTrainPanel(page, 'spiral');
}

/** The first trained edge's gradient norm attribute, or null before any. */
function firstGradNorm(): Promise<string | null> {
  return page.evaluate(
    () =>
      (globalThis as unknown as AppGlobals).document
        .querySelector('.react-flow__edge-path[data-grad-norm]')
        ?.getAttribute('data-grad-norm') ?? null,
  );
}

const TEST_TIMEOUT = 45_000;

describe('training in the app', { timeout: TEST_TIMEOUT }, () => {
  it('trains the MLP template on the spiral to 95% accuracy with live views', async () => {
    await openMlpTraining();
    expect(await page.getByTestId('device-policy').inputValue()).toBe('cpu');
    expect(
      await page.getByTestId('device-policy').locator('option[value="webgpu"]').isDisabled(),
    ).toBe(true);
    await setField(page, 'train-epochs', '150');
    await setField(page, 'train-lr', '0.01');
    expect(await page.getByTestId('loss-chart').getAttribute('data-points')).toBe('0');

    await page.getByTestId('train-start').click();
    // While it trains: the chart grows and an edge's gradient norm changes from frame to frame.
    await page.waitForFunction(
      () =>
        (globalThis as unknown as AppGlobals).document.querySelector(
          '.react-flow__edge-path[data-grad-norm]',
        ) !== null,
    );
    const firstNorm = await firstGradNorm();
    const firstPoints = Number(await page.getByTestId('loss-chart').getAttribute('data-points'));
    const firstPath = await page.locator('.wg-chart__line.is-loss').first().getAttribute('d');
    await page.waitForFunction(
      (before) =>
        (globalThis as unknown as AppGlobals).document
          .querySelector('.react-flow__edge-path[data-grad-norm]')
          ?.getAttribute('data-grad-norm') !== before,
      firstNorm,
    );
    await waitForNumber(page, '[data-testid="loss-chart"]', {
      above: firstPoints,
      attribute: 'data-points',
    });
    expect(await page.locator('.wg-chart__line.is-loss').first().getAttribute('d')).not.toBe(
      firstPath,
    );

    // Long tasks are counted once the views have drawn a few updates, over the next 300 steps
    // (or to the end). The first updates after Start mount the views and run cold code: with
    // React's development build, which scripts/build.mjs bundles, each of the first few took
    // 50-75 ms here on some runs; with the production build none did.
    await waitForNumber(page, '[data-testid="loss-chart"]', {
      atLeast: 5,
      attribute: 'data-points',
    });
    const since = await page.evaluate(() =>
      (globalThis as unknown as PageGlobals).performance.now(),
    );
    const fromStep = Number(await textOf(page, 'train-step-count'));
    await page.waitForFunction(
      (from) =>
        Number(
          (globalThis as unknown as AppGlobals).document.querySelector(
            '[data-testid="train-step-count"]',
          )?.textContent,
        ) >=
          from + 300 ||
        /Done/.test(
          (globalThis as unknown as AppGlobals).document.querySelector(
            '[data-testid="train-status"]',
          )?.textContent ?? '',
        ),
      fromStep,
    );
    const until = await page.evaluate(() =>
      (globalThis as unknown as PageGlobals).performance.now(),
    );

    await waitForNumber(page, '[data-testid="metric-accuracy"]', {
      atLeast: 0.95,
      timeout: 30_000,
    });
    expect(Number(await textOf(page, 'metric-loss'))).toBeGreaterThan(0);
    // Every trained edge carries a norm; the nodes name their device; the timeline has bars.
    const norms = await edgeGradNorms(page);
    expect(norms.length).toBeGreaterThan(0);
    expect(norms.every((n) => Number.isFinite(n) && n > 0)).toBe(true);
    expect(await page.getByTestId('node-fc1').getAttribute('data-device')).toBe('cpu');
    await page.getByTestId('grad-legend').waitFor();
    const bars = page.locator('[data-testid="lanes-timeline"] [data-node][data-lane]');
    expect(await bars.count()).toBeGreaterThan(10);
    const phases = await bars.evaluateAll((els) =>
      [...new Set(els.map((e) => (e as unknown as ElementLike).getAttribute('data-phase')))].sort(),
    );
    expect(phases).toEqual(['backward', 'forward', 'optimizer']);
    await screenshot(page, 'training-spiral');

    // The main thread stayed responsive: the worker trains, the UI renders once per frame.
    const longTasks = await page.evaluate(
      ([t0, t1]) =>
        (globalThis as unknown as PageGlobals).wiregradLongTasks.filter(
          (e) => e.start >= t0! && e.start <= t1!,
        ),
      [since, until],
    );
    expect({ since, longTasks }).toEqual({ since, longTasks: [] });

    // Hovering a bar highlights its node on the canvas.
    // (A bar can be a pixel wide under its neighbours, so the pointer event is sent to it.)
    await page
      .locator('[data-testid="lanes-timeline"] [data-node="fc2"]')
      .first()
      .dispatchEvent('mouseover');
    await page.locator('[data-testid="node-fc2"].is-highlighted').waitFor();
    await screenshot(page, 'training-hover');
    await stopTraining(page);
  });

  it('pauses, takes exactly one step, and stops', async () => {
    await openMlpTraining();
    await setField(page, 'train-epochs', '400');
    await page.getByTestId('train-start').click();
    await waitForNumber(page, '[data-testid="train-step-count"]', { atLeast: 20 });
    await page.getByTestId('train-pause').click();
    await page.getByTestId('train-status').filter({ hasText: 'Paused' }).waitFor();
    await page.getByTestId('train-pause').filter({ hasText: 'Resume' }).waitFor();
    const step = Number(await textOf(page, 'train-step-count'));
    const loss = await textOf(page, 'metric-loss');

    await page.getByTestId('train-step').click();
    await page.waitForFunction(
      (before) =>
        Number(
          (globalThis as unknown as AppGlobals).document.querySelector(
            '[data-testid="train-step-count"]',
          )?.textContent,
        ) !== before,
      step,
    );
    expect(Number(await textOf(page, 'train-step-count'))).toBe(step + 1);
    expect(await textOf(page, 'metric-loss')).not.toBe(loss);
    expect(Number.isFinite(Number(await textOf(page, 'metric-loss')))).toBe(true);
    expect(await textOf(page, 'train-status')).toMatch(/^Paused/);
    await screenshot(page, 'training-paused');

    await page.getByTestId('train-stop').click();
    await page.getByTestId('train-status').filter({ hasText: 'Stopped' }).waitFor();
    expect(Number(await textOf(page, 'train-step-count'))).toBe(step + 1);
    expect(await page.getByTestId('train-pause').isDisabled()).toBe(true);
  });

  it('says what is missing when the document is not a training graph', async () => {
    await page.getByTestId('tab-train').click();
    await page.getByTestId('train-problem').filter({ hasText: "output named 'loss'" }).waitFor();
    expect(await page.getByTestId('train-start').isDisabled()).toBe(true);
  });
});

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

/** What page callbacks see of the page's globals (this file is checked without DOM types). */
interface PageGlobals {
  readonly wiregradDebug?: { revisions(): { document: number; analysis: number } };
  /** Long tasks seen by the observer the init script installs: start and duration, in ms. */
  readonly wiregradLongTasks: { start: number; duration: number }[];
  readonly performance: { now(): number };
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
  app = await startAppBrowser({ prefix: 'wiregrad-train-' });
}, 60_000);

afterAll(() => app?.close());

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

beforeEach(async () => {
  context = await app!.browser.newContext({ viewport: { width: 1440, height: 900 } });
  page = await context.newPage();
  pageErrors = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  await page.addInitScript(observeLongTasks);
  await page.goto(app!.url);
  await page.getByTestId('engine-status').filter({ hasText: 'Engine ready' }).waitFor();
});

afterEach(async () => {
  expect(pageErrors).toEqual([]);
  await context?.close();
});

async function screenshot(name: string): Promise<void> {
  if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

/** Loads the MLP template, waits for its analysis and opens the Train panel. */
async function openMlpTraining(): Promise<void> {
  await page.getByTestId('templates-menu').click();
  await page.getByTestId('template-mlp').click();
  await page.getByTestId('node-loss').waitFor();
  await page.waitForFunction(() => {
    const r = (globalThis as unknown as PageGlobals).wiregradDebug?.revisions();
    return r !== undefined && r.document === r.analysis;
  });
  await page.getByTestId('tab-train').click();
  await page.getByTestId('dataset-select').selectOption('spiral');
}

async function setField(testId: string, value: string): Promise<void> {
  const field = page.getByTestId(testId);
  await field.fill(value);
  await field.press('Enter');
}

async function text(testId: string): Promise<string> {
  return (await page.getByTestId(testId).textContent()) ?? '';
}

/** The first trained edge's gradient norm attribute, or null before any. */
function firstGradNorm(): Promise<string | null> {
  return page.evaluate(
    () =>
      (globalThis as unknown as Win).document
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
    await setField('train-epochs', '150');
    await setField('train-lr', '0.01');
    expect(await page.getByTestId('loss-chart').getAttribute('data-points')).toBe('0');

    await page.getByTestId('train-start').click();
    // While it trains: the chart grows and an edge's gradient norm changes from frame to frame.
    await page.waitForFunction(
      () =>
        (globalThis as unknown as Win).document.querySelector(
          '.react-flow__edge-path[data-grad-norm]',
        ) !== null,
    );
    const firstNorm = await firstGradNorm();
    const firstPoints = Number(await page.getByTestId('loss-chart').getAttribute('data-points'));
    const firstPath = await page.locator('.wg-chart__line.is-loss').first().getAttribute('d');
    await page.waitForFunction(
      (before) =>
        (globalThis as unknown as Win).document
          .querySelector('.react-flow__edge-path[data-grad-norm]')
          ?.getAttribute('data-grad-norm') !== before,
      firstNorm,
    );
    await page.waitForFunction(
      (before) =>
        Number(
          (globalThis as unknown as Win).document
            .querySelector('[data-testid="loss-chart"]')
            ?.getAttribute('data-points'),
        ) > before,
      firstPoints,
    );
    expect(await page.locator('.wg-chart__line.is-loss').first().getAttribute('d')).not.toBe(
      firstPath,
    );

    // Long tasks are counted once the views have drawn a few updates, over the next 300 steps
    // (or to the end). The first updates after Start mount the views and run cold code: with
    // React's development build, which scripts/build.mjs bundles, each of the first few took
    // 50-75 ms here on some runs; with the production build none did.
    await page.waitForFunction(
      () =>
        Number(
          (globalThis as unknown as Win).document
            .querySelector('[data-testid="loss-chart"]')
            ?.getAttribute('data-points'),
        ) >= 5,
    );
    const since = await page.evaluate(() =>
      (globalThis as unknown as PageGlobals).performance.now(),
    );
    const fromStep = Number(await text('train-step-count'));
    await page.waitForFunction(
      (from) =>
        Number(
          (globalThis as unknown as Win).document.querySelector('[data-testid="train-step-count"]')
            ?.textContent,
        ) >=
          from + 300 ||
        /Done/.test(
          (globalThis as unknown as Win).document.querySelector('[data-testid="train-status"]')
            ?.textContent ?? '',
        ),
      fromStep,
    );
    const until = await page.evaluate(() =>
      (globalThis as unknown as PageGlobals).performance.now(),
    );

    await page.waitForFunction(
      () =>
        Number(
          (globalThis as unknown as Win).document.querySelector('[data-testid="metric-accuracy"]')
            ?.textContent,
        ) >= 0.95,
      undefined,
      { timeout: 30_000 },
    );
    expect(Number(await text('metric-loss'))).toBeGreaterThan(0);
    // Every trained edge carries a norm; the nodes name their device; the timeline has bars.
    const norms = await page.evaluate(() =>
      Array.from(
        (globalThis as unknown as Win).document.querySelectorAll(
          '.react-flow__edge-path[data-grad-norm]',
        ),
      ).map((e) => Number(e.getAttribute('data-grad-norm'))),
    );
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
    await screenshot('training-spiral');

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
    await screenshot('training-hover');
    await page.getByTestId('train-stop').click();
    await page
      .getByTestId('train-status')
      .filter({ hasText: /Stopped|Done/ })
      .waitFor();
  });

  it('pauses, takes exactly one step, and stops', async () => {
    await openMlpTraining();
    await setField('train-epochs', '400');
    await page.getByTestId('train-start').click();
    await page.waitForFunction(
      () =>
        Number(
          (globalThis as unknown as Win).document.querySelector('[data-testid="train-step-count"]')
            ?.textContent,
        ) >= 20,
    );
    await page.getByTestId('train-pause').click();
    await page.getByTestId('train-status').filter({ hasText: 'Paused' }).waitFor();
    await page.getByTestId('train-pause').filter({ hasText: 'Resume' }).waitFor();
    const step = Number(await text('train-step-count'));
    const loss = await text('metric-loss');

    await page.getByTestId('train-step').click();
    await page.waitForFunction(
      (before) =>
        Number(
          (globalThis as unknown as Win).document.querySelector('[data-testid="train-step-count"]')
            ?.textContent,
        ) !== before,
      step,
    );
    expect(Number(await text('train-step-count'))).toBe(step + 1);
    expect(await text('metric-loss')).not.toBe(loss);
    expect(Number.isFinite(Number(await text('metric-loss')))).toBe(true);
    expect(await text('train-status')).toMatch(/^Paused/);
    await screenshot('training-paused');

    await page.getByTestId('train-stop').click();
    await page.getByTestId('train-status').filter({ hasText: 'Stopped' }).waitFor();
    expect(Number(await text('train-step-count'))).toBe(step + 1);
    expect(await page.getByTestId('train-pause').isDisabled()).toBe(true);
  });

  it('says what is missing when the document is not a training graph', async () => {
    await page.getByTestId('tab-train').click();
    await page.getByTestId('train-problem').filter({ hasText: "output named 'loss'" }).waitFor();
    expect(await page.getByTestId('train-start').isDisabled()).toBe(true);
  });
});

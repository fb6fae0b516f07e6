/**
 * Training on CPU lanes in the app (web mode, headless Debian Chromium, a cross-origin isolated
 * page): the two-towers template trains with the Train panel's "CPU lanes" set to 2, and the
 * lanes timeline of the last step shows a bar of the left tower and a bar of the right tower on
 * different lanes whose [start, end] intervals intersect: the towers ran at the same time.
 * Backward bars from the lanes carry the node they differentiate. With one lane, every bar is
 * on the engine worker's own thread (lane 0).
 * Every wait polls the DOM for the state it expects; nothing sleeps.
 */

import { join } from 'node:path';
import { type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  type AppGlobals,
  type ElementLike,
  loadTemplate,
  openTrainPanel,
  setField,
  useAppSession,
} from '../helpers/app-browser.js';

/** Where screenshots go when WIREGRAD_SCREENSHOTS names a folder (for looking at the UI). */
const SCREENSHOTS = process.env.WIREGRAD_SCREENSHOTS;

let page: Page;
useAppSession({
  prefix: 'wiregrad-train-lanes-',
  onOpen: (opened) => {
    page = opened.page;
  },
});

interface Bar {
  readonly node: string;
  readonly lane: number;
  readonly phase: string;
  readonly start: number;
  readonly end: number;
}

/** The lanes timeline's bars. */
function timelineBars(): Promise<Bar[]> {
  return page.locator('[data-testid="lanes-timeline"] [data-node][data-lane]').evaluateAll((els) =>
    els.map((e) => {
      const el = e as unknown as ElementLike;
      return {
        node: el.getAttribute('data-node')!,
        lane: Number(el.getAttribute('data-lane')),
        phase: el.getAttribute('data-phase')!,
        start: Number(el.getAttribute('data-start')),
        end: Number(el.getAttribute('data-end')),
      };
    }),
  );
}

/**
 * Trains the two-towers template with `lanes`: to the end, or (`pauseAt`) until that many steps
 * have run, then pauses. Returns the timeline's bars.
 */
async function trainTwoTowers(lanes: string, pauseAt?: number): Promise<Bar[]> {
  await loadTemplate(page, 'two-towers', 'loss');
  await openTrainPanel(page, 'spiral');
  await page.getByTestId('lanes-select').selectOption(lanes);
  // The whole set in each batch: each tower's ops take long enough to be seen side by side.
  await setField(page, 'train-batch-size', '300');
  await setField(page, 'train-epochs', pauseAt === undefined ? '150' : '5000');
  await page.getByTestId('train-start').click();
  if (pauseAt === undefined)
    await page.getByTestId('train-status').filter({ hasText: 'Done' }).waitFor({ timeout: 60_000 });
  else {
    await page.waitForFunction(
      (n) =>
        Number(
          (globalThis as unknown as AppGlobals).document.querySelector(
            '[data-testid="train-step-count"]',
          )?.textContent,
        ) >= n,
      pauseAt,
      { timeout: 60_000 },
    );
    await page.getByTestId('train-pause').click();
    await page.getByTestId('train-status').filter({ hasText: 'Paused' }).waitFor();
  }
  const bars = await timelineBars();
  for (const b of bars) {
    expect(Number.isFinite(b.start) && Number.isFinite(b.end)).toBe(true);
    expect(b.end).toBeGreaterThanOrEqual(b.start);
  }
  return bars;
}

/** Whether a left-tower bar and a right-tower bar on different lanes intersect in time. */
function towersOverlap(bars: readonly Bar[]): boolean {
  const tower = (side: string) => bars.filter((b) => b.node.startsWith(`${side}_`));
  return tower('left').some((l) =>
    tower('right').some((r) => l.lane !== r.lane && l.start <= r.end && r.start <= l.end),
  );
}

/** Steps the towers' ops can take to meet on a loaded machine (each is an observed step). */
const MAX_STEPS = 20;

describe('training on CPU lanes', { timeout: 120_000 }, () => {
  it('runs the two towers side by side on different lanes', async () => {
    const isolated = await page.evaluate(
      () => (globalThis as unknown as { crossOriginIsolated?: boolean }).crossOriginIsolated,
    );
    expect(isolated).toBe(true);
    // Auto keeps a model this small on one thread (its ops are too small to share): ask for 2.
    let bars = await trainTwoTowers('2', 150);
    expect(Number(await page.getByTestId('metric-val-accuracy').textContent())).toBeGreaterThan(
      0.6,
    );
    const sides = (side: string) => bars.filter((b) => b.node.startsWith(`${side}_`));
    expect(sides('left').length).toBeGreaterThan(0);
    expect(sides('right').length).toBeGreaterThan(0);
    expect(new Set(bars.map((b) => b.lane)).size).toBeGreaterThan(1);
    // Backward bars from the lanes belong to the node they differentiate (a node of the
    // document, as its forward bars do), not to a node of the gradient graph (matmul_3).
    const forwardNodes = new Set(bars.filter((b) => b.phase === 'forward').map((b) => b.node));
    const backward = bars.filter((b) => b.lane > 0 && b.phase === 'backward');
    expect(backward.length).toBeGreaterThan(0);
    for (const b of backward) expect(forwardNodes.has(b.node), b.node).toBe(true);
    expect(new Set(backward.map((b) => b.node))).toContain('left_fc1');
    // The timeline shows one step. Each op lasts tens of microseconds, so on a busy machine the
    // lanes' threads may not both hold a core during that step: single steps (each observed)
    // show further ones until the towers meet.
    let steps = 0;
    while (!towersOverlap(bars) && steps < MAX_STEPS) {
      const before = await page.getByTestId('train-step-count').textContent();
      await page.getByTestId('train-step').click();
      await page
        .getByTestId('train-step-count')
        .filter({ hasNotText: new RegExp(`^${before}$`) })
        .waitFor();
      bars = await timelineBars();
      steps++;
    }
    expect(towersOverlap(bars), JSON.stringify(bars.filter((b) => b.lane > 0).slice(0, 24))).toBe(
      true,
    );
    await page.getByTestId('lanes-timeline').scrollIntoViewIfNeeded();
    // Hovering a backward bar of a lane names its gradient and highlights the node it belongs
    // to. (A bar can be a pixel wide under its neighbours, so the pointer event is sent to it.)
    await page
      .locator(
        '[data-testid="lanes-timeline"] [data-node="left_fc1"][data-phase="backward"]:not([data-lane="0"])',
      )
      .first()
      .dispatchEvent('mouseover');
    await page
      .getByTestId('lanes-hover')
      .filter({ hasText: /^grad:left_fc1 · / })
      .waitFor();
    await page.locator('[data-testid="node-left_fc1"].is-highlighted').waitFor();
    if (SCREENSHOTS) await page.screenshot({ path: join(SCREENSHOTS, 'train-lanes-backward.png') });
    if (SCREENSHOTS) {
      await page.screenshot({ path: join(SCREENSHOTS, 'train-lanes.png') });
      await page.getByTestId('lanes-select').scrollIntoViewIfNeeded();
      await page.screenshot({ path: join(SCREENSHOTS, 'train-lanes-form.png') });
    }
  });

  it('keeps every bar on the engine worker’s thread with one lane', async () => {
    const bars = await trainTwoTowers('1');
    expect(bars.length).toBeGreaterThan(0);
    expect(new Set(bars.map((b) => b.lane))).toEqual(new Set([0]));
  });
});

/**
 * The training inspection views and two must-show flows, end to end in web mode (built and
 * served as in training.test.ts, driven in Debian's headless Chromium):
 * - after training, hovering an edge shows its gradient and activation statistics and a
 *   sparkline of its gradient norm; the Gradients / Activations toggle recolours the edges and
 *   changes the legend; the step scrubber shows an earlier step's edges, metrics and
 *   histograms, and Live returns; the histograms switch between parameters;
 * - the deep sigmoid template flags vanishing gradients on its early edges, not its late ones;
 * - the two-towers template trains, and the lanes timeline times both towers' bars.
 * Every wait polls the DOM for the state it expects; nothing sleeps.
 */

import { type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import {
  type AppGlobals,
  type ElementLike,
  loadTemplate,
  openTrainPanel,
  screenshot,
  setField,
  useAppSession,
  waitForNumber,
} from '../helpers/app-browser.js';

let page: Page;
useAppSession({
  prefix: 'wiregrad-train-flows-',
  onOpen: (opened) => {
    page = opened.page;
  },
});

/** Loads a template, waits for its analysis and opens the Train panel on the spiral. */
async function openTemplate(name: string, lastNode: string): Promise<void> {
  await loadTemplate(page, name, lastNode);
  await openTrainPanel(page, 'spiral');
}

/** An attribute of the first element matching `selector`, or null. */
function attr(selector: string, name: string): Promise<string | null> {
  return page.evaluate(
    ([s, n]) =>
      (globalThis as unknown as AppGlobals).document.querySelector(s!)?.getAttribute(n!) ?? null,
    [selector, name],
  );
}

const EDGE = (key: string): string => `.react-flow__edge-path[data-edge-key="${key}"]`;

describe('training inspection views', { timeout: 60_000 }, () => {
  it('shows an edge’s numbers and history, activations, earlier steps and histograms', async () => {
    await openTemplate('mlp', 'loss');
    await setField(page, 'train-epochs', '400');
    // The views are empty before training.
    await page.getByTestId('histograms').filter({ hasText: 'appear here' }).waitFor();
    expect(await page.getByTestId('step-scrubber').isDisabled()).toBe(true);

    await page.getByTestId('train-start').click();
    // A few measured steps recorded, and two histogram snapshots.
    await waitForNumber(page, '[data-testid="step-scrubber"]', { atLeast: 6, attribute: 'max' });
    await waitForNumber(page, '[data-testid="histogram-weights"]', {
      atLeast: 2,
      attribute: 'data-rows',
    });
    await page.getByTestId('train-pause').click();
    await page.getByTestId('train-status').filter({ hasText: 'Paused' }).waitFor();

    // Hover: the edge into relu1 (fc1's output) shows its gradient and value statistics.
    const key = 'relu1:0';
    const norm = Number(await attr(EDGE(key), 'data-grad-norm'));
    expect(norm).toBeGreaterThan(0);
    await page.getByTestId('edge-label-fc1-relu1').hover();
    const inspect = page.getByTestId('edge-inspect');
    await inspect.waitFor();
    expect(await inspect.getAttribute('data-edge')).toBe(key);
    const rows = inspect.locator('tbody tr');
    expect(await rows.locator('th').allTextContents()).toEqual(['grad', 'value']);
    // The norm shown is the edge's (to the 3 significant digits shown).
    const shown = Number(await rows.first().locator('td').first().textContent());
    expect(Math.abs(shown - norm) / norm).toBeLessThan(0.01);
    const points = Number(await page.getByTestId('edge-sparkline').getAttribute('data-points'));
    expect(points).toBeGreaterThanOrEqual(6);
    expect(
      await page.getByTestId('edge-sparkline').locator('polyline').getAttribute('points'),
    ).toMatch(/^[\d.]+,[\d.]+( [\d.]+,[\d.]+){5,}/);
    await screenshot(page, 'inspect-edge-hover');
    await page.mouse.move(5, 5);
    await inspect.waitFor({ state: 'detached' });

    // Activations: the legend says so, and edges are coloured by the value's norm.
    const gradStroke = await page.locator(EDGE(key)).getAttribute('style');
    expect(await page.getByTestId('edge-legend').getAttribute('data-mode')).toBe('gradients');
    await page.getByTestId('grad-legend').waitFor();
    await page.getByTestId('edge-view-activations').click();
    await page.getByTestId('activation-legend').waitFor();
    expect(await page.getByTestId('edge-view-toggle').getAttribute('data-mode')).toBe(
      'activations',
    );
    expect(await page.getByTestId('grad-legend').count()).toBe(0);
    expect(Number(await attr(EDGE(key), 'data-act-norm'))).toBeGreaterThan(0);
    // The data edge carries no gradient, so it is coloured only in this view.
    expect(await page.locator(EDGE('fc1:0')).getAttribute('style')).toMatch(/stroke:/);
    expect(await page.locator(EDGE(key)).getAttribute('style')).not.toBe(gradStroke);
    await screenshot(page, 'inspect-activations');
    await page.getByTestId('edge-view-gradients').click();
    await page.getByTestId('grad-legend').waitFor();
    expect(await page.locator(EDGE(key)).getAttribute('style')).toBe(gradStroke);

    // Scrub back to the first recorded step: the edges, metrics and histograms of then.
    const scrubber = page.getByTestId('step-scrubber');
    const liveStep = Number(await scrubber.getAttribute('data-step'));
    const liveLoss = await page.getByTestId('metric-loss').textContent();
    const liveNorm = await attr(EDGE(key), 'data-grad-norm');
    await scrubber.fill('0');
    await page.locator('[data-testid="step-scrubber"][data-live="false"]').waitFor();
    const pastStep = Number(await scrubber.getAttribute('data-step'));
    expect(pastStep).toBeLessThan(liveStep);
    expect(await page.getByTestId('scrub-step').textContent()).toBe(`step ${pastStep}`);
    expect(await attr(EDGE(key), 'data-grad-norm')).not.toBe(liveNorm);
    expect(await page.getByTestId('metric-loss').textContent()).not.toBe(liveLoss);
    expect(Number(await page.getByTestId('histogram-weights').getAttribute('data-step'))).toBe(
      pastStep,
    );
    // Hovering now shows the scrubbed step, marked on the sparkline.
    await page.getByTestId('edge-label-fc1-relu1').hover();
    await page
      .getByTestId('edge-inspect')
      .filter({ hasText: `step ${pastStep} (scrubbed)` })
      .waitFor();
    // The mark stands at the first point (a vertical line: attached, with an empty box).
    const mark = page.getByTestId('edge-sparkline').locator('line');
    await mark.waitFor({ state: 'attached' });
    const firstPoint = (await page
      .getByTestId('edge-sparkline')
      .locator('polyline')
      .getAttribute('points'))!.split(/[ ,]/)[0];
    expect(Number(await mark.getAttribute('x1'))).toBeCloseTo(Number(firstPoint), 0);
    await screenshot(page, 'inspect-scrubbed');
    await page.mouse.move(5, 5);

    // Keyboard: the arrow moves one recorded step; Escape returns to live.
    await scrubber.focus();
    await page.keyboard.press('ArrowRight');
    await waitForNumber(page, '[data-testid="step-scrubber"]', {
      above: pastStep,
      attribute: 'data-step',
    });
    await page.keyboard.press('Escape');
    await page.locator('[data-testid="step-scrubber"][data-live="true"]').waitFor();
    await page.getByTestId('scrub-live').filter({ hasText: 'Live' }).waitFor();
    expect(await attr(EDGE(key), 'data-grad-norm')).toBe(liveNorm);
    expect(await page.getByTestId('metric-loss').textContent()).toBe(liveLoss);

    // Histograms: another parameter, rows over time for its weights and gradients.
    await page.getByTestId('histogram-param').selectOption('fc2.weight');
    await page.locator('[data-testid="histograms"][data-param="fc2.weight"]').waitFor();
    expect(
      Number(await page.getByTestId('histogram-gradients').getAttribute('data-rows')),
    ).toBeGreaterThanOrEqual(2);
    await page.getByTestId('histograms').scrollIntoViewIfNeeded();
    await screenshot(page, 'inspect-histograms');
    await page.getByTestId('train-stop').click();
  });

  it('flags vanishing gradients on the early edges of the deep sigmoid stack', async () => {
    await openTemplate('deep-sigmoid', 'loss');
    for (let k = 1; k <= 3; k++) {
      await page.getByTestId('train-step').click();
      await page
        .getByTestId('train-step-count')
        .filter({ hasText: String(k) })
        .waitFor();
    }
    // (A vertical edge's path has an empty bounding box, so wait for it to exist, not show.)
    await page
      .locator('.react-flow__edge-path[data-grad-norm]')
      .first()
      .waitFor({ state: 'attached' });
    const flag = (source: string, target: string) =>
      page.getByTestId(`edge-label-${source}-${target}`).getAttribute('data-grad-flag');
    // The first layers' gradients are below 1e-7; the last layers' are not.
    expect(await flag('fc1', 'sigmoid1')).toBe('vanishing');
    expect(await flag('sigmoid1', 'fc2')).toBe('vanishing');
    expect(await flag('sigmoid8', 'head')).toBeNull();
    expect(await flag('head', 'loss')).toBeNull();
    const early = Number(await attr(EDGE('sigmoid1:0'), 'data-grad-norm'));
    const late = Number(await attr(EDGE('loss:0'), 'data-grad-norm'));
    expect(early).toBeLessThan(1e-7);
    expect(late).toBeGreaterThan(1e-3);
    expect(await page.locator(`${EDGE('sigmoid1:0')}[data-grad-flag="vanishing"]`).count()).toBe(1);
    await page.getByTestId('edge-label-fc1-sigmoid1').getByText('∇≈0').waitFor();
    // Zoomed in on the first layers, hovering the first flagged edge.
    const first = page.getByTestId('node-sigmoid1');
    const box = (await first.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    for (let i = 0; i < 4; i++) await page.mouse.wheel(0, -240);
    await page.getByTestId('edge-label-fc1-sigmoid1').hover();
    await page.getByTestId('edge-inspect').waitFor();
    await screenshot(page, 'inspect-deep-sigmoid');
  });

  it('trains the two-towers template and times both towers’ bars on the timeline', async () => {
    await openTemplate('two-towers', 'loss');
    await setField(page, 'train-epochs', '20');
    await page.getByTestId('train-start').click();
    await page.getByTestId('train-status').filter({ hasText: 'Done' }).waitFor({ timeout: 45_000 });
    expect(Number(await page.getByTestId('metric-val-accuracy').textContent())).toBeGreaterThan(
      0.6,
    );
    const bars = await page
      .locator('[data-testid="lanes-timeline"] [data-node][data-lane]')
      .evaluateAll((els) =>
        els.map((e) => {
          const el = e as unknown as ElementLike;
          return {
            node: el.getAttribute('data-node')!,
            lane: Number(el.getAttribute('data-lane')),
            start: Number(el.getAttribute('data-start')),
            end: Number(el.getAttribute('data-end')),
          };
        }),
      );
    const tower = (side: string) => bars.filter((b) => b.node.startsWith(`${side}_`));
    expect(tower('left').length).toBeGreaterThan(0);
    expect(tower('right').length).toBeGreaterThan(0);
    for (const b of bars) {
      expect(Number.isFinite(b.start) && Number.isFinite(b.end)).toBe(true);
      expect(b.end).toBeGreaterThanOrEqual(b.start);
    }
    await page.getByTestId('lanes-timeline').scrollIntoViewIfNeeded();
    await screenshot(page, 'inspect-two-towers');
  });
});

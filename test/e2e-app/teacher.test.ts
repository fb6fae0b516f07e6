/**
 * The autodiff teacher and graph ⇄ code in the app, end to end in web mode (built and served as
 * in canvas.test.ts, driven in Debian's headless Chromium). The single-neuron lesson,
 * tanh(a·b + c), is stepped forward through every node and then backward; at each backward
 * step the panel's numbers are those `backward()` computes in Node for the inputs the app's
 * document holds, written the way the panel writes numbers. Then: play, step back, jump to a
 * clicked node, the keyboard, and the "too large" message; Export to TypeScript shows the
 * code, and that code, edited, opens as a graph. Every wait polls the page; nothing sleeps.
 */

import { type Page } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import * as wg from '../../engine/index.js';
import { documentText, screenshot, textOf, useAppSession } from '../helpers/app-browser.js';

/** The panel's number format (renderer/teach/format.ts), loaded by a computed path because
 * the renderer's sources are type-checked by their own project, not this one. */
const { formatNumber } = (await import(
  new URL('../../renderer/teach/format.ts', import.meta.url).href
)) as { formatNumber: (v: number) => string };

let page: Page;
useAppSession({
  prefix: 'wiregrad-teach-',
  onOpen: (opened) => {
    page = opened.page;
  },
});

/** Waits until the progress line reads `expected`. */
async function progressIs(expected: string): Promise<void> {
  await page.getByTestId('teach-progress').filter({ hasText: expected }).waitFor();
}

/** The lesson document's input values, as the app holds them. */
async function lessonInputs(): Promise<Record<string, number>> {
  const doc = JSON.parse(await documentText(page)) as {
    meta: { lesson: { inputs: Record<string, { values: number[] }> } };
  };
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(doc.meta.lesson.inputs)) out[k] = v.values[0]!;
  return out;
}

async function openNeuron(): Promise<void> {
  await page.getByTestId('tab-learn').click();
  await page.getByTestId('lesson-neuron').click();
  await page.getByTestId('node-o').waitFor();
  await progressIs('forward 0 of 6');
}

const TEST_TIMEOUT = 60_000;

describe('the autodiff teacher in the app', { timeout: TEST_TIMEOUT }, () => {
  it('steps tanh(a·b + c) forward, then backward, showing backward()’s numbers', async () => {
    await openNeuron();
    const inputs = await lessonInputs();
    // The reference, in Node: the same inputs (f32, as the lesson declares), through autodiff.
    const [a, b, c] = ['a', 'b', 'c'].map((k) => wg.tensor(inputs[k]!, { requiresGrad: true })) as [
      wg.Tensor,
      wg.Tensor,
      wg.Tensor,
    ];
    const ab = a.mul(b);
    const n = ab.add(c);
    const o = n.tanh();
    const [dn] = wg.gradients(o, [n]);
    const [dab] = wg.gradients(o, [ab]);
    o.backward();
    const num = (t: wg.Tensor): string => formatNumber(t.dataSync()[0]!);
    const forwardValues: Record<string, string> = {
      a: num(a),
      b: num(b),
      c: num(c),
      ab: num(ab),
      n: num(n),
      o: num(o),
    };
    const gradients: Record<string, string> = {
      o: '1',
      n: num(dn!),
      ab: num(dab!),
      a: num(a.grad!),
      b: num(b.grad!),
      c: num(c.grad!),
    };

    // Forward, one node at a time: the panel and the canvas node show its value.
    const order: string[] = [];
    for (let k = 1; k <= 6; k++) {
      await page.getByTestId('teach-forward').click();
      await progressIs(`forward ${k} of 6`);
      const label = await textOf(page, 'teach-current');
      order.push(label);
      expect(await textOf(page, 'teach-output')).toBe(forwardValues[label]);
      expect(await page.getByTestId(`node-${label}`).getAttribute('class')).toContain(
        'is-teach-current',
      );
      expect(await textOf(page, `teach-mark-${label}`)).toContain(forwardValues[label]);
    }
    expect(order).toEqual(['a', 'b', 'c', 'ab', 'n', 'o']);
    expect(await page.getByTestId('teach-forward').isDisabled()).toBe(true);
    await screenshot(page, 'teacher-forward-done');

    // Backward, in reverse topological order, each with backward()'s numbers.
    const walked: string[] = [];
    for (let k = 1; k <= 6; k++) {
      await page.getByTestId('teach-backward').click();
      await page
        .getByTestId('teach-progress')
        .filter({ hasText: k === 6 ? 'Done' : `backward ${k} of 6` })
        .waitFor();
      const label = await textOf(page, 'teach-current');
      walked.push(label);
      const panel = await textOf(page, 'teach-panel');
      expect(panel).toContain(`∂L/∂${label}`);
      expect(await textOf(page, 'teach-upstream'), label).toBe(gradients[label]);
      if (label === 'ab') {
        await screenshot(page, 'teacher-backward-mul');
        expect(await textOf(page, 'teach-input-grad-0')).toBe(gradients['a']);
        expect(await textOf(page, 'teach-input-grad-1')).toBe(gradients['b']);
        expect(panel).toContain('∂L/∂a = ∂L/∂y · b');
        // … and with the numbers put in: ∂L/∂y · b = ∂L/∂a.
        expect(await textOf(page, 'teach-numbers-0')).toBe(
          `= ${gradients['ab']} · (${forwardValues['b']!.replace('-', '−')}) = ${gradients['a']!.replace('-', '−')}`,
        );
      }
      if (label === 'o') expect(await textOf(page, 'teach-input-grad-0')).toBe(gradients['n']);
    }
    expect(walked[0]).toBe('o');
    expect(new Set(walked)).toEqual(new Set(Object.keys(gradients)));
    // The canvas shows every node's gradient at the end.
    expect(await textOf(page, 'teach-mark-a')).toContain(`∂L = ${gradients['a']}`);
    // … and colours each edge by the norm of the gradient of the value it carries.
    expect(await page.getByTestId('edge-label-a-ab').getAttribute('data-grad-norm')).toBe(
      String(Math.abs(a.grad!.dataSync()[0]!)),
    );
    await screenshot(page, 'teacher-backward-done');
  });

  it('plays, steps back, jumps to a clicked node and follows the keyboard', async () => {
    await openNeuron();
    await page.getByTestId('teach-play').click();
    await progressIs('Done');
    await page.getByTestId('teach-play').filter({ hasText: 'Play' }).waitFor();
    await page.getByTestId('teach-back').click();
    await page.getByTestId('teach-progress').filter({ hasText: 'backward 5 of 6' }).waitFor();

    // Clicking a canvas node jumps to its backward step.
    await page.getByTestId('node-ab').click();
    await page.getByTestId('teach-current').filter({ hasText: /^ab$/ }).waitFor();
    expect(await textOf(page, 'teach-panel')).toContain('Input gradients it produces');

    // ← goes back one step, → on again; Space plays to the end. The selected node stays put.
    const layout = async () =>
      (
        JSON.parse(await documentText(page)) as {
          meta: { layout: Record<string, { x: number; y: number }> };
        }
      ).meta.layout['ab'];
    const at = await layout();
    const before = await textOf(page, 'teach-progress');
    await page.keyboard.press('ArrowLeft');
    await page.getByTestId('teach-progress').filter({ hasNotText: before }).waitFor();
    await page.keyboard.press('ArrowRight');
    await page.getByTestId('teach-progress').filter({ hasText: before }).waitFor();
    await page.keyboard.press('Space');
    await progressIs('Done');
    expect(await layout()).toEqual(at);
  });

  it('says a graph is too large to teach', async () => {
    await page.getByTestId('templates-menu').click();
    await page.getByTestId('template-mlp').click();
    await page.getByTestId('node-loss').waitFor();
    await page.getByTestId('tab-learn').click();
    await page.getByTestId('teach-start').click();
    const problem = await page.getByTestId('teach-problem').textContent();
    expect(problem).toMatch(/too large for the teacher: .* holds \d+ numbers/);
    await screenshot(page, 'teacher-too-large');
  });

  it('exports the graph as TypeScript and opens edited code as a graph', async () => {
    await openNeuron();
    await page.getByTestId('code-menu').click();
    await page.getByTestId('export-to-code').click();
    const code = page.getByTestId('code-text');
    await code.waitFor();
    const exported = await code.inputValue();
    expect(exported).toContain("const ab = builder.op('mul', [a, b], {}, 'ab');");
    expect(exported).toContain("const o = builder.op('tanh', [n], {}, 'o');");
    await screenshot(page, 'code-export');
    await page.getByTestId('code-copy').click();

    // Edit: tanh becomes sigmoid, then open the code as a graph.
    await page.getByTestId('code-edit').click();
    await code.fill(exported.replace("op('tanh', [n], {}, 'o')", "op('sigmoid', [n], {}, 'o')"));
    await page.getByTestId('code-open').click();
    await page.getByTestId('code-dialog').waitFor({ state: 'detached' });
    await page.getByTestId('node-o').waitFor();
    expect(await page.getByTestId('node-o').getAttribute('data-op')).toBe('sigmoid');

    // Code outside the builder language: the error names the line, the canvas is kept.
    await page.getByTestId('code-menu').click();
    await page.getByTestId('open-as-graph').click();
    await code.fill("const b = new GraphBuilder('g');\nfetch('https://example.com');");
    await page.getByTestId('code-open').click();
    expect(await page.getByTestId('code-error').textContent()).toBe(
      "line 2: 'fetch' is not defined above",
    );
    await screenshot(page, 'code-open-error');
    await page.getByTestId('code-close').click();
    expect(await page.getByTestId('node-o').getAttribute('data-op')).toBe('sigmoid');
  });
});

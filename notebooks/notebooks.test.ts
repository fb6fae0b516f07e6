import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Graph } from '../engine/graph/graph.js';
import { readModelFile } from '../engine/protocol/notebook.js';
import { Kernel } from '../engine/worker/kernel.js';
import { readNotebookCells } from '../renderer/notebook/notebook-file.js';
import { documentFromFile } from '../renderer/state/document.js';
import { lessonMeta } from '../renderer/state/lessons.js';
import { EXAMPLE_NOTEBOOKS, notebookFileText } from './notebook-sources.js';

const folder = new URL('./', import.meta.url);
const files = readdirSync(folder)
  .filter((f) => f.endsWith('.ipynb'))
  .sort();
const read = (file: string) => readFileSync(new URL(file, folder), 'utf8');

/**
 * Each notebook runs well under 5 s on a developer machine; the bound here is looser because CI
 * machines are shared and slower.
 */
const RUN_LIMIT_MS = 15_000;

describe('the example notebooks', () => {
  it('are the files make-notebooks.ts writes, one per example', () => {
    expect(files).toEqual(EXAMPLE_NOTEBOOKS.map((nb) => `${nb.file}.ipynb`).sort());
    for (const nb of EXAMPLE_NOTEBOOKS)
      expect(
        read(`${nb.file}.ipynb`),
        `${nb.file}.ipynb is out of date: run make-notebooks.ts`,
      ).toBe(notebookFileText(nb));
  });

  it.each(files)('%s opens with the app’s readers', (file) => {
    const text = read(file);
    const { graph } = readModelFile(text);
    const doc = documentFromFile(graph);
    // A graph the engine accepts (an empty model is fine).
    if (graph.nodes.length > 0) expect(() => Graph.fromJSON(graph)).not.toThrow();
    const { cells } = readNotebookCells(text);
    expect(cells.filter((c) => c.kind === 'graph')).toHaveLength(1);
    expect(cells.some((c) => c.kind === 'markdown')).toBe(true);
    expect(cells.some((c) => c.kind === 'code')).toBe(true);
    if (file.startsWith('lesson-')) expect(lessonMeta(doc)).not.toBeNull();
  });

  it.each(files)(
    '%s runs every code cell in the kernel without an error',
    async (file) => {
      const { cells } = readNotebookCells(read(file));
      const kernel = new Kernel();
      const started = performance.now();
      for (const [i, cell] of cells.entries()) {
        if (cell.kind !== 'code') continue;
        const run = await kernel.run(i + 1, cell.source);
        expect(run.error, `${file}, cell ${i + 1}: ${run.error?.message}`).toBeNull();
        for (const log of run.logs) expect(log.level).not.toBe('error');
      }
      expect(performance.now() - started).toBeLessThan(RUN_LIMIT_MS);
      kernel.reset();
    },
    RUN_LIMIT_MS * 2,
  );

  it('the CartPole notebook returns its return curve as a chart, and xor is learned', async () => {
    const cartpole = readNotebookCells(read('reinforce-cartpole.ipynb')).cells;
    const kernel = new Kernel();
    const [training, chartCell] = cartpole.filter((c) => c.kind === 'code');
    // Training shows its progress as one chart that each batch replaces.
    const trained = await kernel.run(1, training!.source);
    const displays = trained.logs.filter((l) => l.display === 'training');
    expect(displays).toHaveLength(1);
    expect(displays[0]!.values[0]).toMatchObject({ kind: 'chart' });
    const run = await kernel.run(2, chartCell!.source);
    expect(run.value?.kind).toBe('chart');
    if (run.value?.kind !== 'chart') return;
    const [returns, average] = run.value.series;
    expect(returns?.name).toBe('episode return');
    expect(returns?.y.length).toBeGreaterThanOrEqual(120);
    expect(Math.min(...returns!.y)).toBeGreaterThanOrEqual(1);
    expect(average?.y.length).toBe(returns?.y.length);

    const xor = readNotebookCells(read('lesson-mlp-xor.ipynb')).cells.filter(
      (c) => c.kind === 'code',
    );
    const k2 = new Kernel();
    const xorRuns = [];
    for (const [i, cell] of xor.entries()) xorRuns.push(await k2.run(i + 1, cell.source));
    // Training keeps one progress bar under the cell, finished, with the last loss.
    const bars = xorRuns[0]!.logs.filter((l) => l.display === 'train');
    expect(bars).toHaveLength(1);
    expect(bars[0]!.values[0]).toMatchObject({ kind: 'progress', done: 200, total: 200, etaMs: 0 });
    const probs = await k2.run(
      9,
      'JSON.stringify(wg.noGrad(() => wg.ops.softmax(model.forward(X))).arraySync())',
    );
    expect(probs.error).toBeNull();
    const rows = JSON.parse(probs.value?.kind === 'text' ? probs.value.text : '[]') as number[][];
    expect(rows.map((r) => (r[1]! > 0.5 ? 1 : 0))).toEqual([0, 1, 1, 0]);
  });
});

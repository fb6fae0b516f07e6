import { afterEach, describe, expect, it } from 'vitest';
import { createInProcessEngineClient } from '../../engine/worker/in-process.js';
import { MAX_PARAMETER_VALUES, problemsByViewNode, sizeProblems } from './diagnostics.js';
import { type Editor, createEditor } from './editor.js';

const editors: Editor[] = [];

async function mlpEditor(): Promise<Editor> {
  const editor = createEditor({ client: createInProcessEngineClient() });
  editors.push(editor);
  await editor.whenReady();
  expect(editor.loadTemplate('mlp')).toBe(true);
  return editor;
}

afterEach(() => {
  for (const editor of editors.splice(0)) editor.dispose();
});

const linear = (inFeatures: number, outFeatures: number) =>
  ({ kind: 'linear', inFeatures, outFeatures }) as const;

describe('parameters too large to train', () => {
  it('says nothing about a model of ordinary size', async () => {
    const editor = await mlpEditor();
    expect(sizeProblems(editor.doc, editor.view).size).toBe(0);
  });

  it('names the layer whose weight is too large, its size in bytes, and what to reduce', async () => {
    const editor = await mlpEditor();
    editor.run('setLayerConfig', { group: 'fc2', config: linear(64, 4_000_000) });
    const problems = sizeProblems(editor.doc, editor.view);
    expect([...problems.keys()]).toEqual(['fc2']);
    expect(problems.get('fc2')).toEqual([
      {
        message:
          "fc2's weight has 256,000,000 values (about 1 GB as f32); the CPU device holds " +
          'about 4 GB: reduce out features',
        severity: 'error',
      },
    ]);
    editor.run('setLayerConfig', { group: 'fc2', config: linear(1_000_000_000, 64) });
    expect(sizeProblems(editor.doc, editor.view).get('fc2')?.[0]?.message).toBe(
      "fc2's weight has 64,000,000,000 values (about 260 GB as f32); the CPU device holds " +
        'about 4 GB: reduce in features',
    );
  });

  it('flags parameters that fit one by one but not together, on the document', async () => {
    const editor = await mlpEditor();
    // fc1's weight is 200,000,000 values, its bias 100,000,000: neither alone is over the limit.
    // With fc2 and fc3 (64·64 + 64 + 64·3 + 3 = 4,355) that is 300,004,355 values.
    editor.run('setLayerConfig', { group: 'fc1', config: linear(2, 100_000_000) });
    expect(2 * 100_000_000).toBeLessThanOrEqual(MAX_PARAMETER_VALUES);
    const problems = sizeProblems(editor.doc, editor.view);
    expect([...problems.keys()]).toEqual(['']);
    expect(problems.get('')?.[0]?.message).toMatch(
      /^the model's parameters have 300,004,355 values \(about 1\.2 GB as f32, .*make the largest layers smaller$/,
    );
  });

  it('reaches the analysis, so the node and the problem count show it', async () => {
    const editor = await mlpEditor();
    await editor.whenAnalysed();
    expect(editor.analysis.getState().problems.get('fc2')).toBeUndefined();
    editor.run('setLayerConfig', { group: 'fc2', config: linear(64, 1_000_000_000) });
    const check = await editor.whenAnalysed();
    const fc2 = editor.analysis.getState().problems.get('fc2') ?? [];
    // The bias (1,000,000,000 values) is too large as well; the weight, the larger, is named.
    expect(fc2.map((p) => p.message)).toContainEqual(
      expect.stringMatching(/^fc2's weight has 64,000,000,000 values \(about 260 GB as f32\)/),
    );
    expect(fc2.filter((p) => p.message.includes('values (about'))).toHaveLength(1);
    // Without the document, only the worker's diagnostics are placed.
    expect(problemsByViewNode(check, editor.view).get('fc2')).toBeUndefined();
  });
});

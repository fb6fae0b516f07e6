import { describe, expect, it } from 'vitest';
import { parseModel } from '../files/model-file.js';
import { importJupyter, jupyterImportMessage } from './jupyter-import.js';
import { readNotebookCells } from './notebook-file.js';

/** A notebook as Jupyter writes one, in `language` (no metadata: none named). */
function jupyter(cells: unknown[], language?: string): string {
  const metadata = language
    ? {
        kernelspec: { name: `${language}-kernel`, display_name: language, language },
        language_info: { name: language },
      }
    : {};
  return JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata, cells });
}

const markdown = (source: string | string[]) => ({ cell_type: 'markdown', metadata: {}, source });
const code = (source: string | string[], outputs: unknown[] = []) => ({
  cell_type: 'code',
  metadata: {},
  source,
  outputs,
  execution_count: outputs.length > 0 ? 1 : null,
});

describe('opening a plain Jupyter notebook', () => {
  it('keeps markdown, shows Python as fenced code with its text outputs, and adds an empty model', () => {
    const text = jupyter(
      [
        markdown(['# Analysis\n', 'Some *notes*.']),
        code(
          ['import numpy as np\n', 'np.arange(3)'],
          [
            { output_type: 'stream', name: 'stdout', text: ['loading\n'] },
            {
              output_type: 'execute_result',
              execution_count: 1,
              data: { 'text/plain': ['array([0, 1, 2])'], 'image/png': 'iVBORw0KGgo=' },
              metadata: {},
            },
          ],
        ),
        code('print("no output")'),
        code('   '),
        { cell_type: 'raw', metadata: {}, source: 'raw text' },
      ],
      'python',
    );
    const imported = importJupyter(text, 'analysis')!;
    expect(imported).toMatchObject({
      language: 'python',
      markdownCells: 2,
      codeCells: 0,
      quotedCells: 2,
    });
    const { cells, active } = readNotebookCells(imported.text);
    expect(cells.map((c) => [c.kind, c.source])).toEqual([
      ['markdown', '# Analysis\nSome *notes*.'],
      [
        'markdown',
        '```python\nimport numpy as np\nnp.arange(3)\n```\n\nOutput:\n\n```text\nloading\narray([0, 1, 2])\n```',
      ],
      ['markdown', '```python\nprint("no output")\n```'],
      ['markdown', '```\nraw text\n```'],
      ['graph', ''],
    ]);
    expect(active).toBe(cells[4]!.id);
    // The model is empty and named after the file; the file now reads as a Wiregrad notebook.
    const model = parseModel(imported.text);
    expect(model.doc.graph.nodes).toEqual([]);
    expect(model.doc.graph.name).toBe('analysis');
    expect(JSON.parse(imported.text).metadata.wiregrad).toBeDefined();
    expect(imported.text).not.toContain('image/png');
  });

  it('keeps TypeScript and JavaScript code as code cells, to run', () => {
    for (const language of ['typescript', 'JavaScript']) {
      const imported = importJupyter(jupyter([code('const a = 1 + 1;\na')], language), 'ts')!;
      expect(imported.codeCells).toBe(1);
      expect(readNotebookCells(imported.text).cells.map((c) => [c.kind, c.source])).toEqual([
        ['code', 'const a = 1 + 1;\na'],
        ['graph', ''],
      ]);
    }
  });

  it('fences code that holds fences with a longer fence, and says nothing of a language not named', () => {
    const imported = importJupyter(jupyter([code('s = """\n```\n"""')]), 'n')!;
    expect(imported.language).toBeNull();
    expect(readNotebookCells(imported.text).cells[0]!.source).toBe('````\ns = """\n```\n"""\n````');
  });

  it('leaves Wiregrad notebooks and other files to the ordinary readers', () => {
    const wiregrad = importJupyter(jupyter([markdown('x')]), 'a')!.text;
    expect(importJupyter(wiregrad, 'a')).toBeNull();
    expect(importJupyter('{"graph": {}}', 'a')).toBeNull();
    expect(importJupyter('{"cells": [', 'a')).toBeNull();
    expect(importJupyter('[1]', 'a')).toBeNull();
  });

  it('says what it opened, and that Save asks where', () => {
    const python = importJupyter(
      jupyter([markdown('a'), code('1+1'), code('2+2')], 'python'),
      'analysis',
    )!;
    expect(jupyterImportMessage('analysis.ipynb', python)).toBe(
      'Opened analysis.ipynb as a new Wiregrad notebook with an empty model: 1 markdown cell, ' +
        '2 Python code cells shown as text (Wiregrad runs TypeScript). Save writes it as a ' +
        'Wiregrad notebook and asks where',
    );
    const unnamed = importJupyter(jupyter([code('1+1')]), 'plain')!;
    expect(jupyterImportMessage('plain.ipynb', unnamed)).toBe(
      'Opened plain.ipynb as a new Wiregrad notebook with an empty model: 1 code cell shown as ' +
        'text (Wiregrad runs TypeScript). Save writes it as a Wiregrad notebook and asks where',
    );
    const empty = importJupyter(jupyter([]), 'empty')!;
    expect(jupyterImportMessage('empty.ipynb', empty)).toBe(
      'Opened empty.ipynb as a new Wiregrad notebook with an empty model. Save writes it as a ' +
        'Wiregrad notebook and asks where',
    );
  });
});

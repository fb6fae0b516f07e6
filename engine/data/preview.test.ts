/**
 * Data previews: a CSV table shows its first rows with the file's column names (categories by
 * name), counts every class over the whole file, and states shapes and dtypes; a synthetic set
 * shows rows from every class and counts that add up; image previews carry 8-bit pixels.
 */

import { describe, expect, it } from 'vitest';
import { parseCsv } from './csv-table.js';
import {
  PREVIEW_ROWS,
  previewClassificationSet,
  previewCsvTable,
  previewImageSet,
} from './preview.js';
import { spiral } from './synthetic.js';

describe('data previews', () => {
  it('previews a CSV table: columns, first rows, class counts, shapes', () => {
    const lines = ['height,colour,kind'];
    for (let i = 0; i < 30; i++)
      lines.push(`${1.5 + i / 10},${i % 3 === 0 ? 'red' : 'blue'},${i < 10 ? 'cat' : 'dog'}`);
    const table = parseCsv(lines.join('\n'), { source: 'pets.csv' });
    const p = previewCsvTable(table);
    expect(p.name).toBe('pets.csv');
    expect(p.task).toBe('classification');
    expect(p.examples).toBe(30);
    expect(p.columns.at(-1)).toBe('kind');
    expect(p.columns[0]).toBe('height');
    expect(p.rows).toHaveLength(PREVIEW_ROWS);
    expect(p.rows[0]![0]).toBe(1.5);
    expect(p.rows[0]!.at(-1)).toBe('cat');
    expect(p.rows[15]!.at(-1)).toBe('dog');
    expect(p.classes).toEqual(['cat', 'dog']);
    expect(p.classCounts).toEqual([10, 20]);
    expect(p.features).toEqual({ shape: [p.columns.length - 1], dtype: 'f32' });
    expect(p.labels.dtype).toBe('i32');
    expect(p.notes.join(' ')).toMatch(/one-hot encoded: colour/);
  });

  it('previews a regression table without class counts', () => {
    const table = parseCsv('x,y\n1,2.5\n2,4.75\n3,7\n', { source: 'line.csv' });
    const p = previewCsvTable(table);
    expect(p.task).toBe('regression');
    expect(p.classCounts).toEqual([]);
    expect(p.rows).toEqual([
      [1, 2.5],
      [2, 4.75],
      [3, 7],
    ]);
  });

  it('previews a synthetic set with rows from every class', () => {
    const set = spiral(300, { seed: 0 });
    const p = previewClassificationSet('spiral', set);
    set.x.dispose();
    set.y.dispose();
    expect(p.examples).toBe(300);
    expect(p.classCounts.reduce((a, b) => a + b, 0)).toBe(300);
    expect(p.classCounts).toHaveLength(p.classes.length);
    expect(new Set(p.rows.map((r) => r.at(-1))).size).toBe(p.classes.length);
    expect(p.columns).toEqual(['x0', 'x1', 'label']);
  });

  it('previews images as 8-bit pixels with labels', () => {
    const pixels = Float32Array.from({ length: 3 * 4 }, (_, i) => i / 11);
    const p = previewImageSet({
      name: 'tiny',
      width: 2,
      height: 2,
      channels: 1,
      count: 3,
      pixels,
      labels: [1, 0, 1],
      classes: ['a', 'b'],
      exampleShape: [1, 2, 2],
    });
    expect(p.kind).toBe('images');
    expect(p.images!.count).toBe(3);
    expect(Array.from(p.images!.pixels.slice(0, 3))).toEqual([0, 23, 46]);
    expect(p.images!.pixels[11]).toBe(255);
    expect(p.classCounts).toEqual([1, 2]);
  });
});

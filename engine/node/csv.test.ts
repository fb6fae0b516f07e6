import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CsvError } from '../data/csv.js';
import { parseCsv } from '../data/csv-table.js';
import { loadCsv, loadCsvDataset, type CsvLoadProgress } from './csv.js';

const dir = mkdtempSync(join(tmpdir(), 'wiregrad-csv-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

async function csvError(promise: Promise<unknown>): Promise<CsvError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof CsvError) return e;
    throw e;
  }
  throw new Error('expected a CsvError');
}

describe('loadCsv', () => {
  it('streams in small chunks to the same table, UTF-8 split across chunks included', async () => {
    const text =
      'größe,"note, quoted",kind\r\n' +
      '1.5,"a ""b""",café\r\n' +
      '2.5,"multi\nline",thé\r\n' +
      '3.5,x,café\r\n';
    const path = file('utf8.csv', text);
    const progress: CsvLoadProgress[] = [];
    const streamed = await loadCsv(path, {
      chunkSize: 7,
      features: [0],
      onProgress: (p) => progress.push(p),
    });
    const whole = parseCsv(text, { source: path, features: [0] });
    expect(streamed).toEqual(whole);
    expect(streamed.classNames).toEqual(['café', 'thé']);
    const bytes = Buffer.byteLength(text);
    expect(progress.length).toBe(Math.ceil(bytes / 7));
    expect(progress.at(-1)).toEqual({ bytesRead: bytes, totalBytes: bytes, rows: 0 });
    expect(progress.every((p, i) => i === 0 || p.bytesRead > progress[i - 1]!.bytesRead)).toBe(
      true,
    );
  });

  it('takes rows while it reads: a large file is never held whole', async () => {
    const lines = ['x1,x2,y'];
    for (let i = 0; i < 20000; i++) lines.push(`${i % 97},${(i * 31) % 101},${i % 4}`);
    const path = file('large.csv', lines.join('\n'));
    const progress: CsvLoadProgress[] = [];
    const table = await loadCsv(path, {
      chunkSize: 16384,
      classes: 4,
      onProgress: (p) => progress.push(p),
    });
    expect([table.rows, table.classes, table.featureNames]).toEqual([20000, 4, ['x1', 'x2']]);
    // Rows were counted before the last chunk: the builder consumed them as they streamed.
    expect(progress.some((p) => p.rows > 1000 && p.bytesRead < p.totalBytes)).toBe(true);
    expect(table.x[2 * 12345]).toBe(12345 % 97);
    expect(table.y[12345]).toBe(12345 % 4);
  });

  it('reads tab-separated .tsv files and splits with a seed', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => `${i}\t${i * 2}\t${i % 2 ? 'odd' : 'even'}`);
    const path = file('t.tsv', `a\tb\tparity\n${rows.join('\n')}\n`);
    const d = await loadCsvDataset(path, { testFraction: 0.25, validationFraction: 0.25, seed: 2 });
    expect(d.table.classNames).toEqual(['even', 'odd']);
    expect([d.train.x.shape, d.validation!.x.shape, d.test.x.shape]).toEqual([
      [20, 2],
      [10, 2],
      [10, 2],
    ]);
    const labels = Array.from(d.test.y.dataSync());
    expect(labels).toEqual(d.rows.test.map((r) => r % 2));
  });

  it('names the file in every error, with line and column where there is one', async () => {
    const missing = await csvError(loadCsv(join(dir, 'nope.csv')));
    expect(missing.kind).toBe('unreadable');
    expect(missing.message).toMatch(/nope\.csv: cannot read the file: .*ENOENT/);

    const folder = await csvError(loadCsv(dir));
    expect(folder.message).toMatch(/it is a folder/);

    const binary = await csvError(loadCsv(file('bin.csv', new Uint8Array([31, 139, 8, 0, 1]))));
    expect(binary.kind).toBe('unreadable');
    expect(binary.message).toMatch(/bin\.csv: this is not a text file \(a zero byte at offset 3\)/);

    const empty = await csvError(loadCsv(file('empty.csv', '')));
    expect([empty.kind, empty.message]).toEqual([
      'empty-file',
      `${join(dir, 'empty.csv')}: the file is empty (no rows); expected comma-separated ` +
        'values, one row per line',
    ]);

    const ragged = await csvError(loadCsv(file('ragged.csv', 'a,b\n1,2\n3,4\n5\n')));
    expect([ragged.kind, ragged.line]).toEqual(['ragged-row', 4]);
    expect(ragged.message).toContain('ragged.csv, line 4: the row has 1 fields');

    const text = await csvError(loadCsv(file('nan.csv', 'a,b\n1,2\n3,4\nfive,6\n')));
    expect([text.kind, text.line, text.column]).toEqual(['non-numeric', 4, 'a']);
    expect(text.message).toContain("nan.csv, line 4, column 'a': 'five' is not a number");

    const target = await csvError(loadCsv(file('t.csv', 'a,b\n1,2\n'), { target: 'label' }));
    expect(target.kind).toBe('missing-target');
    expect(target.message).toContain("t.csv: the target column 'label' is not in the file");

    const range = await csvError(loadCsv(file('r.csv', 'a,y\n1,0\n2,1\n3,7\n'), { classes: 2 }));
    expect([range.kind, range.line, range.column]).toEqual(['label-out-of-range', 4, 'y']);
    expect(range.message).toContain("r.csv, line 4, column 'y': label 7 is not a class index");

    const quote = await csvError(loadCsv(file('q.csv', 'a,b\n1,"2\n3,4\n')));
    expect([quote.kind, quote.line]).toEqual(['unterminated-quote', 2]);
  });
});

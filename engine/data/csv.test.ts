import { describe, expect, it } from 'vitest';
import { CsvError, CsvRecordParser, parseCsvRecords, type CsvRecord } from './csv.js';
import { normalizationStats, parseCsv, parseNumber, splitTable } from './csv-table.js';

const fields = (records: CsvRecord[]) => records.map((r) => r.fields);

/** The CsvError a function throws (fails the test when it throws something else or nothing). */
function csvError(fn: () => unknown): CsvError {
  try {
    fn();
  } catch (e) {
    if (e instanceof CsvError) return e;
    throw e;
  }
  throw new Error('expected a CsvError');
}

describe('CsvRecordParser (RFC 4180)', () => {
  const text =
    '\ufeffname,note,n\r\n' +
    '"Smith, J.","said ""hi""",1\r\n' +
    '\r\n' +
    '"multi\nline",plain,2\n' +
    'a,,3\r' +
    'x,"",4';

  it('reads quoted delimiters, doubled quotes, line breaks in quotes, CRLF/LF/CR, BOM', () => {
    const records = parseCsvRecords(text);
    expect(fields(records)).toEqual([
      ['name', 'note', 'n'],
      ['Smith, J.', 'said "hi"', '1'],
      ['multi\nline', 'plain', '2'],
      ['a', '', '3'],
      ['x', '', '4'],
    ]);
    // Lines as an editor numbers them: the blank line 3 is skipped, the quoted break counts.
    expect(records.map((r) => r.line)).toEqual([1, 2, 4, 6, 7]);
  });

  it('gives the same records however the text is cut into chunks', () => {
    const whole = parseCsvRecords(text);
    for (let cut = 0; cut <= text.length; cut++) {
      const p = new CsvRecordParser();
      const got = [...p.push(text.slice(0, cut)), ...p.push(text.slice(cut)), ...p.end()];
      expect(got, `cut at ${cut}`).toEqual(whole);
    }
    const p = new CsvRecordParser();
    const byChar = [...text].flatMap((c) => p.push(c));
    expect([...byChar, ...p.end()]).toEqual(whole);
  });

  it('keeps a trailing empty field and a quoted empty line, and honours the delimiter', () => {
    expect(fields(parseCsvRecords('a,b,\n""\n'))).toEqual([['a', 'b', ''], ['']]);
    expect(fields(parseCsvRecords('a;"b;c"\n1;2', { delimiter: ';' }))).toEqual([
      ['a', 'b;c'],
      ['1', '2'],
    ]);
    expect(() => new CsvRecordParser({ delimiter: '"' })).toThrow(/delimiter must be one/);
  });

  it('names the line of a quote that is never closed', () => {
    const e = csvError(() => parseCsvRecords('a,b\n1,"open\n2,3\n', { source: 'f.csv' }));
    expect(e.kind).toBe('unterminated-quote');
    expect(e.message).toMatch(/^f\.csv, line 2: a quoted field .* never closed/);
  });
});

describe('parseNumber', () => {
  it('reads decimal numbers as CSV files write them, and nothing else', () => {
    expect([' 2.5 ', '-3', '1e3', '+.5', '0', '007'].map(parseNumber)).toEqual([
      2.5, -3, 1000, 0.5, 0, 7,
    ]);
    for (const text of ['', '  ', 'abc', '0x1f', '0b1', '0o7', 'Infinity', 'NaN', '1,5', '1_000'])
      expect(parseNumber(text), text).toBeNaN();
  });
});

describe('CSV tables', () => {
  const iris =
    'sepal,petal,colour,species\n' +
    '5.1,1.4,red,setosa\n' +
    '7.0,4.7,blue,versicolor\n' +
    '6.3,6.0,red,virginica\n' +
    '4.9,1.4,green,setosa\n';

  it('detects the header, infers types, one-hot encodes text features, sorts classes', () => {
    const t = parseCsv(iris);
    expect(t.hasHeader).toBe(true);
    expect(t.columns.map((c) => [c.name, c.type])).toEqual([
      ['sepal', 'numeric'],
      ['petal', 'numeric'],
      ['colour', 'categorical'],
      ['species', 'categorical'],
    ]);
    expect(t.task).toBe('classification');
    expect(t.classNames).toEqual(['setosa', 'versicolor', 'virginica']);
    expect(t.featureNames).toEqual(['sepal', 'petal', 'colour=blue', 'colour=green', 'colour=red']);
    expect(t.numericFeatures).toEqual([true, true, false, false, false]);
    expect(Array.from(t.x.subarray(0, 10))).toEqual([
      5.099999904632568, 1.399999976158142, 0, 0, 1, 7, 4.699999809265137, 1, 0, 0,
    ]);
    expect(Array.from(t.y)).toEqual([0, 1, 2, 0]);
  });

  it('reads a file without header, names columns by position, and picks features/target', () => {
    const t = parseCsv('1,2,3\n4,5,6\n', { target: 0, features: ['col2'] });
    expect(t.hasHeader).toBe(false);
    expect(t.columns.map((c) => c.name)).toEqual(['col0', 'col1', 'col2']);
    expect([t.task, t.featureNames, Array.from(t.x), Array.from(t.y)]).toEqual([
      'regression',
      ['col2'],
      [3, 6],
      [1, 4],
    ]);
    expect(t.y).toBeInstanceOf(Float32Array);
    // A text table whose first row repeats in its column has no header.
    expect(parseCsv('a,x\nb,y\na,x\n').hasHeader).toBe(false);
    expect(parseCsv('k,v\nb,y\na,x\n').hasHeader).toBe(true);
  });

  it('numeric labels with declared classes make a classification table', () => {
    const t = parseCsv('x,label\n0.5,0\n0.1,2\n', { classes: 3 });
    expect([t.task, t.classes, Array.from(t.y)]).toEqual(['classification', 3, [0, 2]]);
    expect(t.y).toBeInstanceOf(Int32Array);
    const inferred = parseCsv('x,label\n0.5,0\n0.1,4\n', { task: 'classification' });
    expect(inferred.classes).toBe(5);
  });

  it('names the file, line, column and reason of each kind of bad data', () => {
    const src = { source: 'data.csv' };
    const cases: [string, object, string, RegExp][] = [
      ['', {}, 'empty-file', /^data\.csv: the file is empty/],
      ['\n\n', {}, 'empty-file', /the file is empty/],
      ['a,b,c\n', {}, 'empty-file', /header \(a, b, c\) but no data rows/],
      [
        'a,b\n1,2\n3,4,5\n',
        {},
        'ragged-row',
        /^data\.csv, line 3: the row has 3 fields but the header has 2; .* must be quoted/,
      ],
      ['a,b\n1,2\n3\n', {}, 'ragged-row', /line 3: the row has 1 fields but the header has 2$/],
      [
        'a,b\n1,2\n2,3\n1.5x,4\n',
        {},
        'non-numeric',
        /^data\.csv, line 4, column 'a': '1\.5x' is not a number, but the column is numeric/,
      ],
      ['a,b\n1,2\n,3\n5,6\n', {}, 'non-numeric', /line 3, column 'a': the value is empty/],
      [
        'a,b\n1,2\n',
        { target: 'price' },
        'missing-target',
        /target column 'price' is not in the file; its columns are 'a', 'b'/,
      ],
      ['a,b\n1,2\n', { features: ['z'] }, 'missing-column', /a feature column 'z' is not/],
      [
        'x,y\n1,0\n2,1\n3,3\n',
        { classes: 3 },
        'label-out-of-range',
        /line 4, column 'y': label 3 is not a class index in \[0, 3\) for the 3 declared/,
      ],
      [
        'x,y\n1,0\n2,-1\n',
        { task: 'classification' },
        'label-out-of-range',
        /line 3, column 'y': label -1 is not a class index \(a whole number >= 0\)/,
      ],
      [
        'x,y\n1,cat\n2,dog\n3,eel\n',
        { classes: 2 },
        'label-out-of-range',
        /line 4, column 'y': label 'eel' is class number 3, but 2 classes were declared/,
      ],
      [
        'id,y\na,1\nb,2\nc,3\n',
        { maxCategories: 2 },
        'too-many-categories',
        /line 4, column 'id': .* more than 2 distinct values/,
      ],
      [
        'x,y\n1,cat\n',
        { task: 'regression' },
        'non-numeric',
        /column 'y': regression needs a numeric target/,
      ],
    ];
    for (const [text, options, kind, message] of cases) {
      const e = csvError(() => parseCsv(text, { ...src, ...options }));
      expect(e.kind, text).toBe(kind);
      expect(e.message, text).toMatch(message);
    }
  });

  it('finds a bad value past the rows used for type inference', () => {
    const rows = Array.from({ length: 50 }, (_, i) => `${i},${i % 2}`);
    const text = `x,y\n${rows.join('\n')}\noops,1\n`;
    const e = csvError(() => parseCsv(text, { inferRows: 10, classes: 2 }));
    expect([e.kind, e.line, e.column]).toEqual(['non-numeric', 52, 'x']);
    expect(e.message).toMatch(/most of its first 10 values are numbers/);
  });
});

describe('splitTable', () => {
  const rows = Array.from({ length: 100 }, (_, i) => `${i},${(i * 7) % 13},${i % 3}`);
  const table = parseCsv(`a,b,label\n${rows.join('\n')}\n`, { classes: 3 });

  it('makes disjoint seeded splits covering every row', () => {
    const s = splitTable(table, { validationFraction: 0.1, testFraction: 0.2, seed: 3 });
    expect([s.rows.train.length, s.rows.validation.length, s.rows.test.length]).toEqual([
      70, 10, 20,
    ]);
    const all = [...s.rows.train, ...s.rows.validation, ...s.rows.test].sort((p, q) => p - q);
    expect(all).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(splitTable(table, { validationFraction: 0.1, seed: 3 }).rows).toEqual(s.rows);
    expect(splitTable(table, { validationFraction: 0.1, seed: 4 }).rows.test).not.toEqual(
      s.rows.test,
    );
    expect([s.train.x.shape, s.train.y.shape, s.train.y.dtype]).toEqual([[70, 2], [70], 'i32']);
    // Labels follow their rows: row r has label r mod 3.
    expect(Array.from(s.test.y.dataSync())).toEqual(s.rows.test.map((r) => r % 3));
  });

  it('standardises with the training rows’ mean and deviation only', () => {
    const s = splitTable(table, { testFraction: 0.3, seed: 1 });
    const a = s.rows.train.map((r) => r);
    const mean = a.reduce((p, q) => p + q, 0) / a.length;
    const std = Math.sqrt(a.reduce((p, q) => p + (q - mean) ** 2, 0) / a.length);
    expect(s.stats.shift[0]).toBeCloseTo(mean, 4);
    expect(s.stats.scale[0]).toBeCloseTo(std, 4);
    const r0 = s.rows.test[0]!;
    expect(s.test.x.dataSync()[0]).toBeCloseTo((r0 - mean) / std, 5);
    const mm = normalizationStats(table, [0, 5, 9], 'minmax');
    expect([mm.shift[0], mm.scale[0]]).toEqual([0, 9]);
  });

  it('gives regression targets as [n, 1] f32', () => {
    const t = parseCsv('x,y\n1,0.5\n2,1.5\n3,2.5\n4,3.5\n');
    const s = splitTable(t, { testFraction: 0.25 });
    expect([s.train.y.shape, s.train.y.dtype]).toEqual([[3, 1], 'f32']);
    expect(() => splitTable(t, { testFraction: 0.6, validationFraction: 0.4 })).toThrow(
      /leave rows for training/,
    );
  });
});

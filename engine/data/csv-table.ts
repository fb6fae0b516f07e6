/**
 * CSV records to a training table, pure and incremental: `CsvTableBuilder` takes records one at
 * a time (from csv.ts's parser), detects a header, infers each column's type from the first
 * `inferRows` rows (numeric when most non-empty values are numbers, else categorical), picks the
 * target and feature columns, and stores only their values (as numbers, categories as codes),
 * never the text. `finish()` returns a `CsvTable`: features x [rows, f] with categorical columns
 * one-hot encoded, labels y (class indices, or numbers for regression), and the column facts.
 * `splitTable` makes seeded train/validation/test tensors, normalised with statistics of the
 * training rows only. Bad data is a `CsvError` naming the line, the column and the reason.
 */

import { WiregradError } from '../core/errors.js';
import { tensor } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';
import { CsvError, parseCsvRecords, type CsvParseOptions, type CsvRecord } from './csv.js';
import { HostRandom } from './host-random.js';

export type ColumnType = 'numeric' | 'categorical';
export type CsvTask = 'classification' | 'regression';

export interface CsvTableOptions {
  /** The name used in error messages (a file name). */
  readonly source?: string;
  /** Whether the first row names the columns; 'auto' (default) decides from the data. */
  readonly header?: boolean | 'auto';
  /** The target column: a name, or a 0-based position (default: the last column). */
  readonly target?: string | number;
  /** The feature columns, by name or position (default: every column but the target). */
  readonly features?: readonly (string | number)[];
  /** Column types that override inference, by column name. */
  readonly columnTypes?: Readonly<Record<string, ColumnType>>;
  /**
   * 'auto' (default): a categorical target means classification, a numeric one regression
   * unless `classes` is given. Classification with a numeric target needs class indices.
   */
  readonly task?: CsvTask | 'auto';
  /** The number of classes: numeric labels must lie in [0, classes). */
  readonly classes?: number;
  /** Rows read before the header and column types are decided (default 1000). */
  readonly inferRows?: number;
  /** Categorical features with more distinct values than this are refused (default 256). */
  readonly maxCategories?: number;
}

export interface CsvColumn {
  readonly name: string;
  /** Position in the file, 0-based. */
  readonly index: number;
  readonly type: ColumnType;
  /** A categorical column's values, sorted; its codes index this list. Empty for numeric. */
  readonly categories: readonly string[];
}

export interface CsvTable {
  readonly source: string;
  readonly hasHeader: boolean;
  /** Every column of the file, in order. */
  readonly columns: readonly CsvColumn[];
  readonly features: readonly CsvColumn[];
  readonly target: CsvColumn;
  readonly task: CsvTask;
  /** The number of classes (0 for regression). */
  readonly classes: number;
  /** Class names, index by label (for a numeric target: '0', '1', …). */
  readonly classNames: readonly string[];
  readonly rows: number;
  /** Names of the columns of x: a numeric feature's name, or `name=value` for a one-hot bit. */
  readonly featureNames: readonly string[];
  /** Per column of x: true for a numeric feature's values, false for a one-hot bit. */
  readonly numericFeatures: readonly boolean[];
  /** Features [rows, featureNames.length], row-major, not yet normalised. */
  readonly x: Float32Array;
  /** Labels [rows]: class indices (Int32Array) or regression targets (Float32Array). */
  readonly y: Int32Array | Float32Array;
}

const ROWS_PER_CHUNK = 16384;

/** A number as CSV files write them (decimal, exponent, sign), or NaN. */
export function parseNumber(text: string): number {
  // Number() trims whitespace itself; it also reads '' as 0 and radix literals (0x1f, 0b1,
  // 0o7), which are not CSV numbers. This runs once per cell, so it avoids regular expressions.
  const v = Number(text);
  if (!Number.isFinite(v)) return NaN;
  const s = text.charCodeAt(0) <= 32 || text.charCodeAt(text.length - 1) <= 32 ? text.trim() : text;
  if (s === '') return NaN;
  if (s.length > 2 && s.charCodeAt(0) === 48) {
    const radix = s.charCodeAt(1) | 32; // lower case
    if (radix === 120 || radix === 98 || radix === 111) return NaN; // x, b, o
  }
  return v;
}

/** Grows in fixed-size chunks, so a large table is never copied to grow. */
class ChunkedFloats {
  private readonly chunks: Float32Array[] = [];
  private used = ROWS_PER_CHUNK;
  constructor(private readonly width: number) {}

  push(row: ArrayLike<number>): void {
    if (this.used === ROWS_PER_CHUNK) {
      this.chunks.push(new Float32Array(ROWS_PER_CHUNK * this.width));
      this.used = 0;
    }
    this.chunks[this.chunks.length - 1]!.set(row, this.used * this.width);
    this.used++;
  }

  /** Calls `fn(row, values, offset)` for each stored row in order. */
  forEach(fn: (row: number, values: Float32Array, offset: number) => void): void {
    let r = 0;
    this.chunks.forEach((chunk, c) => {
      const count = c === this.chunks.length - 1 ? this.used : ROWS_PER_CHUNK;
      for (let k = 0; k < count; k++) fn(r++, chunk, k * this.width);
    });
  }
}

interface Selected {
  readonly index: number;
  readonly name: string;
  readonly type: ColumnType;
  /** Category → code in order of first appearance (categorical columns). */
  readonly codes: Map<string, number>;
}

export class CsvTableBuilder {
  private readonly options: CsvTableOptions;
  readonly source: string;
  private readonly inferRows: number;
  /** Records read before the layout is decided. */
  private pending: CsvRecord[] | null = [];
  private names: string[] = [];
  private hasHeader = false;
  private columnTypes: ColumnType[] = [];
  private features: Selected[] = [];
  private target: Selected | null = null;
  private task: CsvTask = 'regression';
  private values: ChunkedFloats | null = null;
  private row = new Float32Array(0);
  private maxLabel = -1;
  private count = 0;

  constructor(options: CsvTableOptions = {}) {
    this.options = options;
    this.source = options.source ?? 'CSV data';
    this.inferRows = options.inferRows ?? 1000;
    if (!Number.isInteger(this.inferRows) || this.inferRows < 1)
      throw new WiregradError(`inferRows must be a positive integer, got ${this.inferRows}`);
    const classes = options.classes;
    if (classes !== undefined && !(Number.isInteger(classes) && classes >= 1))
      throw new WiregradError(`classes must be a positive integer, got ${classes}`);
  }

  /** Data rows taken so far (after the layout is decided). */
  get rows(): number {
    return this.count;
  }

  add(record: CsvRecord): void {
    if (this.pending === null) {
      this.ingest(record);
      return;
    }
    this.pending.push(record);
    // One extra record: the first may be the header.
    if (this.pending.length > this.inferRows) this.decideLayout();
  }

  finish(): CsvTable {
    if (this.pending !== null) {
      if (this.pending.length === 0)
        throw new CsvError(
          'empty-file',
          { source: this.source },
          'the file is empty (no rows); expected comma-separated values, one row per line',
        );
      this.decideLayout();
    }
    if (this.count === 0)
      throw new CsvError(
        'empty-file',
        { source: this.source },
        `there is a header (${this.names.join(', ')}) but no data rows`,
      );
    return this.assemble();
  }

  // ---- layout: header, types, columns --------------------------------------------------

  private decideLayout(): void {
    const records = this.pending!;
    this.pending = null;
    const first = records[0]!;
    const width = first.fields.length;
    this.hasHeader =
      this.options.header === 'auto' || this.options.header === undefined
        ? looksLikeHeader(records)
        : this.options.header;
    this.names = this.hasHeader
      ? first.fields.map((f, i) => f.trim() || `col${i}`)
      : first.fields.map((_, i) => `col${i}`);
    const data = this.hasHeader ? records.slice(1) : records;
    for (const r of data) this.checkWidth(r, width);
    this.columnTypes = this.names.map((name, i) => {
      const declared = this.options.columnTypes?.[name];
      return declared ?? inferType(data.map((r) => r.fields[i]!));
    });
    for (const name of Object.keys(this.options.columnTypes ?? {}))
      if (!this.names.includes(name))
        throw this.unknownColumn('missing-column', name, 'columnTypes names');

    const targetIndex = this.resolveColumn(
      this.options.target ?? width - 1,
      'missing-target',
      'the target',
    );
    const featureIndices = this.options.features
      ? this.options.features.map((f) => this.resolveColumn(f, 'missing-column', 'a feature'))
      : this.names.map((_, i) => i).filter((i) => i !== targetIndex);
    if (featureIndices.includes(targetIndex))
      throw new CsvError(
        'missing-column',
        { source: this.source, column: this.names[targetIndex]! },
        'the target column is also listed as a feature; leave it out of the features',
      );
    if (featureIndices.length === 0)
      throw new CsvError(
        'missing-column',
        { source: this.source },
        `no feature columns: the file has only the target column '${this.names[targetIndex]}'`,
      );
    const select = (index: number): Selected => ({
      index,
      name: this.names[index]!,
      type: this.columnTypes[index]!,
      codes: new Map(),
    });
    this.features = featureIndices.map(select);
    this.target = select(targetIndex);
    this.task = this.decideTask(this.target);
    this.values = new ChunkedFloats(this.features.length + 1);
    this.row = new Float32Array(this.features.length + 1);
    for (const r of data) this.ingest(r);
  }

  private decideTask(target: Selected): CsvTask {
    const task = this.options.task ?? 'auto';
    if (task === 'regression' && target.type === 'categorical')
      throw new CsvError(
        'non-numeric',
        { source: this.source, column: target.name },
        'regression needs a numeric target, but this column holds text; choose a numeric ' +
          "target, or train a classifier (task 'classification')",
      );
    if (task !== 'auto') return task;
    return target.type === 'categorical' || this.options.classes !== undefined
      ? 'classification'
      : 'regression';
  }

  private resolveColumn(
    ref: string | number,
    kind: 'missing-target' | 'missing-column',
    what: string,
  ): number {
    if (typeof ref === 'number') {
      if (Number.isInteger(ref) && ref >= 0 && ref < this.names.length) return ref;
    } else {
      const byName = this.names.indexOf(ref);
      if (byName >= 0) return byName;
      // A number given as text (a command line) names a position when no column has that name.
      if (/^\d+$/.test(ref) && Number(ref) < this.names.length) return Number(ref);
    }
    throw this.unknownColumn(kind, String(ref), what);
  }

  private unknownColumn(kind: 'missing-target' | 'missing-column', ref: string, what: string) {
    return new CsvError(
      kind,
      { source: this.source },
      `${what} column '${ref}' is not in the file; its columns are ` +
        `${this.names.map((n) => `'${n}'`).join(', ')}` +
        (this.hasHeader ? '' : ' (no header was detected: name columns by position, from 0)'),
    );
  }

  private checkWidth(record: CsvRecord, width: number): void {
    const n = record.fields.length;
    if (n === width) return;
    throw new CsvError(
      'ragged-row',
      { source: this.source, line: record.line },
      `the row has ${n} fields but ${this.hasHeader ? 'the header has' : 'the first row has'} ` +
        `${width}` +
        (n > width ? '; a value that contains the delimiter must be quoted ("a,b")' : ''),
    );
  }

  // ---- rows -----------------------------------------------------------------------------

  private ingest(record: CsvRecord): void {
    this.checkWidth(record, this.names.length);
    const row = this.row;
    this.features.forEach((col, k) => (row[k] = this.cell(col, record, false)));
    row[this.features.length] = this.cell(this.target!, record, true);
    this.values!.push(row);
    this.count++;
  }

  private cell(col: Selected, record: CsvRecord, isTarget: boolean): number {
    const text = record.fields[col.index]!;
    const site = { source: this.source, line: record.line, column: col.name };
    if (col.type === 'categorical') {
      let code = col.codes.get(text);
      if (code === undefined) {
        code = col.codes.size;
        const limit = isTarget ? this.options.classes : (this.options.maxCategories ?? 256);
        if (limit !== undefined && code >= limit)
          throw isTarget
            ? new CsvError(
                'label-out-of-range',
                site,
                `label '${text}' is class number ${code + 1}, but ${limit} classes were ` +
                  `declared (${[...col.codes.keys()].map((c) => `'${c}'`).join(', ')}); ` +
                  'fix the label or declare more classes',
              )
            : new CsvError(
                'too-many-categories',
                site,
                `the column holds text with more than ${limit} distinct values; one-hot ` +
                  'encoding it would add that many features: leave it out of the features ' +
                  '(an id or a name), or raise maxCategories',
              );
        col.codes.set(text, code);
      }
      return code;
    }
    const v = parseNumber(text);
    if (Number.isNaN(v))
      throw new CsvError(
        'non-numeric',
        site,
        `${text.trim() === '' ? 'the value is empty' : `'${text}' is not a number`}, but the ` +
          `column is numeric (most of its first ${this.inferRows} values are numbers); fix the ` +
          `value, or declare the column categorical (columnTypes)`,
      );
    if (isTarget && this.task === 'classification') {
      const classes = this.options.classes;
      if (!Number.isInteger(v) || v < 0 || (classes !== undefined && v >= classes))
        throw new CsvError(
          'label-out-of-range',
          site,
          `label ${text.trim()} is not a class index ` +
            (classes !== undefined
              ? `in [0, ${classes}) for the ${classes} declared classes`
              : '(a whole number >= 0)') +
            '; fix the label, or declare the number of classes',
        );
      this.maxLabel = Math.max(this.maxLabel, v);
    }
    return v;
  }

  // ---- the table --------------------------------------------------------------------------

  private assemble(): CsvTable {
    const target = this.target!;
    // Codes were given in order of first appearance; number the categories in sorted order so
    // class indices do not depend on the order of the rows.
    const sorted = (col: Selected) => [...col.codes.keys()].sort((a, b) => (a < b ? -1 : 1));
    const remap = (col: Selected, cats: readonly string[]) => {
      const m = new Int32Array(col.codes.size);
      cats.forEach((c, i) => (m[col.codes.get(c)!] = i));
      return m;
    };
    const featureCats = this.features.map((c) => (c.type === 'categorical' ? sorted(c) : []));
    const featureMaps = this.features.map((c, k) => remap(c, featureCats[k]!));
    const featureNames: string[] = [];
    const numericFeatures: boolean[] = [];
    const offsets: number[] = [];
    this.features.forEach((c, k) => {
      offsets.push(featureNames.length);
      if (c.type === 'numeric') {
        featureNames.push(c.name);
        numericFeatures.push(true);
      } else
        for (const cat of featureCats[k]!) {
          featureNames.push(`${c.name}=${cat}`);
          numericFeatures.push(false);
        }
    });
    const width = featureNames.length;
    const rows = this.count;
    const x = new Float32Array(rows * width);
    const classification = this.task === 'classification';
    const y = classification ? new Int32Array(rows) : new Float32Array(rows);
    const targetCats = target.type === 'categorical' ? sorted(target) : [];
    const targetMap = remap(target, targetCats);
    const nf = this.features.length;
    this.values!.forEach((r, values, o) => {
      const base = r * width;
      for (let k = 0; k < nf; k++) {
        const v = values[o + k]!;
        if (this.features[k]!.type === 'numeric') x[base + offsets[k]!] = v;
        else x[base + offsets[k]! + featureMaps[k]![v]!] = 1;
      }
      const t = values[o + nf]!;
      y[r] = target.type === 'categorical' ? targetMap[t]! : t;
    });
    const classes = !classification
      ? 0
      : target.type === 'categorical'
        ? (this.options.classes ?? targetCats.length)
        : (this.options.classes ?? this.maxLabel + 1);
    const classNames = !classification
      ? []
      : target.type === 'categorical'
        ? targetCats
        : Array.from({ length: classes }, (_, i) => String(i));
    const column = (i: number): CsvColumn => {
      const sel = [...this.features, target].find((c) => c.index === i);
      const cats =
        sel === undefined
          ? []
          : sel === target
            ? targetCats
            : featureCats[this.features.indexOf(sel)]!;
      return { name: this.names[i]!, index: i, type: this.columnTypes[i]!, categories: cats };
    };
    const columns = this.names.map((_, i) => column(i));
    return {
      source: this.source,
      hasHeader: this.hasHeader,
      columns,
      features: this.features.map((c) => columns[c.index]!),
      target: columns[target.index]!,
      task: this.task,
      classes,
      classNames,
      rows,
      featureNames,
      numericFeatures,
      x,
      y,
    };
  }
}

/** Most non-empty values are numbers: numeric (the others are then errors); else categorical. */
function inferType(values: readonly string[]): ColumnType {
  let numbers = 0;
  let texts = 0;
  for (const v of values) {
    if (v.trim() === '') continue;
    if (Number.isNaN(parseNumber(v))) texts++;
    else numbers++;
  }
  return numbers > 0 && numbers >= texts ? 'numeric' : 'categorical';
}

/**
 * The first record names the columns when some column is numeric below it but not in it, or,
 * in an all-text table, when none of its values appears again in its column (as the sniffer
 * of Python's csv module reasons).
 */
function looksLikeHeader(records: readonly CsvRecord[]): boolean {
  const [first, ...rest] = records;
  if (!first || rest.length === 0)
    return !!first && first.fields.every((f) => Number.isNaN(parseNumber(f)));
  const columns = first.fields.map((_, i) => rest.map((r) => r.fields[i] ?? ''));
  let textOverNumbers = false;
  let allText = true;
  first.fields.forEach((f, i) => {
    const isNumber = !Number.isNaN(parseNumber(f));
    if (isNumber) allText = false;
    if (!isNumber && f.trim() !== '' && inferType(columns[i]!) === 'numeric')
      textOverNumbers = true;
  });
  if (textOverNumbers) return true;
  return allText && first.fields.every((f, i) => f.trim() !== '' && !columns[i]!.includes(f));
}

// ---- normalisation and splits ------------------------------------------------------------

export type Normalization = 'standard' | 'minmax' | 'none';

/** Per column of x: x' = (x − shift) / scale. One-hot columns keep shift 0 and scale 1. */
export interface NormalizationStats {
  readonly method: Normalization;
  readonly shift: Float32Array;
  readonly scale: Float32Array;
}

/**
 * Statistics of the numeric feature columns over `rows` of the table (the training rows, so
 * nothing of the test rows leaks into training): mean and standard deviation ('standard') or
 * minimum and range ('minmax'). A constant column gets scale 1.
 */
export function normalizationStats(
  table: CsvTable,
  rows: readonly number[],
  method: Normalization = 'standard',
): NormalizationStats {
  const width = table.featureNames.length;
  const shift = new Float32Array(width);
  const scale = new Float32Array(width).fill(1);
  if (method === 'none' || rows.length === 0) return { method, shift, scale };
  for (let j = 0; j < width; j++) {
    if (!table.numericFeatures[j]) continue;
    let a = 0;
    let b = 0;
    if (method === 'standard') {
      for (const r of rows) a += table.x[r * width + j]!;
      const mean = a / rows.length;
      for (const r of rows) b += (table.x[r * width + j]! - mean) ** 2;
      shift[j] = mean;
      scale[j] = Math.sqrt(b / rows.length) || 1;
    } else {
      a = Infinity;
      b = -Infinity;
      for (const r of rows) {
        const v = table.x[r * width + j]!;
        a = Math.min(a, v);
        b = Math.max(b, v);
      }
      shift[j] = a;
      scale[j] = b - a || 1;
    }
  }
  return { method, shift, scale };
}

export interface TableSplit {
  /** Features [n, f] f32, normalised. */
  readonly x: Tensor;
  /** Labels [n] i32 (classification) or targets [n, 1] f32 (regression). */
  readonly y: Tensor;
}

/** The rows of `table` at `rows` as tensors, normalised by `stats`. */
export function tableRows(
  table: CsvTable,
  rows: readonly number[],
  stats?: NormalizationStats,
): TableSplit {
  const width = table.featureNames.length;
  const x = new Float32Array(rows.length * width);
  rows.forEach((r, i) => {
    for (let j = 0; j < width; j++) {
      const v = table.x[r * width + j]!;
      x[i * width + j] = stats ? (v - stats.shift[j]!) / stats.scale[j]! : v;
    }
  });
  const n = rows.length;
  const y =
    table.task === 'classification'
      ? tensor(
          Int32Array.from(rows, (r) => table.y[r]!),
          { shape: [n], dtype: 'i32' },
        )
      : tensor(
          Float32Array.from(rows, (r) => table.y[r]!),
          { shape: [n, 1], dtype: 'f32' },
        );
  return { x: tensor(x, { shape: [n, width], dtype: 'f32' }), y };
}

export interface TableSplitOptions {
  /** Share of rows held out for validation (default 0). */
  readonly validationFraction?: number;
  /** Share of rows held out for testing (default 0.2). */
  readonly testFraction?: number;
  /** Seed of the shuffle that assigns rows to the splits (default 0). */
  readonly seed?: number;
  /** How numeric features are scaled, with training-row statistics (default 'standard'). */
  readonly normalize?: Normalization;
}

export interface TableSplits {
  readonly train: TableSplit;
  readonly validation: TableSplit | null;
  readonly test: TableSplit;
  /** The scaling applied to every split; apply it to new data the same way. */
  readonly stats: NormalizationStats;
  /** Which table rows went where. */
  readonly rows: {
    readonly train: readonly number[];
    readonly validation: readonly number[];
    readonly test: readonly number[];
  };
}

/**
 * A seeded split of the table's rows into train, validation and test sets (a permutation seeded
 * by `seed`: the first rows go to test, the next to validation, the rest to train), normalised
 * with the training rows' statistics.
 */
export function splitTable(table: CsvTable, options: TableSplitOptions = {}): TableSplits {
  const { validationFraction = 0, testFraction = 0.2, seed = 0, normalize = 'standard' } = options;
  const fractionsOk =
    validationFraction >= 0 && testFraction >= 0 && validationFraction + testFraction < 1;
  if (!fractionsOk)
    throw new WiregradError(
      `splitTable: validationFraction (${validationFraction}) and testFraction ` +
        `(${testFraction}) must be >= 0 and leave rows for training (sum < 1)`,
    );
  const order = new HostRandom(seed).permutation(table.rows);
  const nTest = Math.round(table.rows * testFraction);
  const nVal = Math.round(table.rows * validationFraction);
  const rows = {
    test: order.slice(0, nTest),
    validation: order.slice(nTest, nTest + nVal),
    train: order.slice(nTest + nVal),
  };
  if (rows.train.length === 0)
    throw new WiregradError(
      `splitTable: ${table.source} has ${table.rows} rows, too few to leave any for training`,
    );
  const stats = normalizationStats(table, rows.train, normalize);
  return {
    train: tableRows(table, rows.train, stats),
    validation: nVal > 0 ? tableRows(table, rows.validation, stats) : null,
    test: tableRows(table, rows.test, stats),
    stats,
    rows,
  };
}

/** A whole CSV text as a table (small data, tests); files stream through engine/node/csv.ts. */
export function parseCsv(text: string, options: CsvTableOptions & CsvParseOptions = {}): CsvTable {
  const builder = new CsvTableBuilder(options);
  for (const r of parseCsvRecords(text, options)) builder.add(r);
  return builder.finish();
}

/**
 * CSV files for Node: `loadCsv` streams a file through the incremental parser and table builder
 * of engine/data (chunk by chunk, decoding UTF-8 across chunk boundaries), so a 1 GB file is
 * never held as text: only the chosen columns' numbers are kept. `onProgress` hears bytes read
 * of the total after each chunk. `loadCsvDataset` adds a seeded, normalised train/validation/
 * test split. Every failure is a `CsvError` naming the file (and line and column where there
 * is one): unreadable or binary files, empty files, ragged rows, non-numeric values, a missing
 * target, labels out of range.
 */

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { CsvError, CsvRecordParser, type CsvParseOptions } from '../data/csv.js';
import {
  CsvTableBuilder,
  splitTable,
  type CsvTable,
  type CsvTableOptions,
  type TableSplitOptions,
  type TableSplits,
} from '../data/csv-table.js';

export interface CsvLoadProgress {
  readonly bytesRead: number;
  readonly totalBytes: number;
  /** Data rows taken so far (0 while the first rows are read to decide the column types). */
  readonly rows: number;
}

export interface LoadCsvOptions extends Omit<CsvTableOptions, 'source'> {
  /** One character between fields (default: a tab for .tsv files, else ','). */
  readonly delimiter?: CsvParseOptions['delimiter'];
  /** Called after each chunk read. */
  readonly onProgress?: (progress: CsvLoadProgress) => void;
  /** Bytes read at a time (default 1 MiB). */
  readonly chunkSize?: number;
}

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** Reads the CSV file at `path` into a table, streaming it. */
export async function loadCsv(path: string, options: LoadCsvOptions = {}): Promise<CsvTable> {
  let totalBytes: number;
  try {
    const info = await stat(path);
    if (info.isDirectory())
      throw new Error('it is a folder; give the path of a .csv file (or use folder: for images)');
    totalBytes = info.size;
  } catch (e) {
    throw new CsvError('unreadable', { source: path }, `cannot read the file: ${reason(e)}`);
  }
  const delimiter = options.delimiter ?? (/\.tsv$/i.test(path) ? '\t' : ',');
  const parser = new CsvRecordParser({ delimiter, source: path });
  const builder = new CsvTableBuilder({ ...options, source: path });
  // Invalid UTF-8 becomes U+FFFD (fatal: false): such a value then fails as non-numeric, with
  // its line, instead of failing the whole file.
  const decoder = new TextDecoder('utf-8');
  const stream = createReadStream(path, { highWaterMark: options.chunkSize ?? 1 << 20 });
  let bytesRead = 0;
  try {
    for await (const raw of stream) {
      const chunk = raw as Buffer;
      if (bytesRead === 0) {
        const nul = chunk.indexOf(0);
        if (nul >= 0)
          throw new CsvError(
            'unreadable',
            { source: path },
            `this is not a text file (a zero byte at offset ${nul}); expected comma-separated ` +
              'values (decompress .gz files first)',
          );
      }
      bytesRead += chunk.length;
      for (const record of parser.push(decoder.decode(chunk, { stream: true })))
        builder.add(record);
      options.onProgress?.({ bytesRead, totalBytes, rows: builder.rows });
    }
  } catch (e) {
    if (e instanceof CsvError) throw e;
    throw new CsvError('unreadable', { source: path }, `reading failed: ${reason(e)}`);
  } finally {
    stream.destroy();
  }
  for (const record of [...parser.push(decoder.decode()), ...parser.end()]) builder.add(record);
  return builder.finish();
}

export interface CsvDataset extends TableSplits {
  readonly table: CsvTable;
}

/** A CSV file as normalised train/validation/test tensors (see `splitTable`). */
export async function loadCsvDataset(
  path: string,
  options: LoadCsvOptions & TableSplitOptions = {},
): Promise<CsvDataset> {
  const table = await loadCsv(path, options);
  return { table, ...splitTable(table, options) };
}

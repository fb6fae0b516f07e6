/**
 * CSV records, pure (no file access): `CsvRecordParser` is an incremental RFC 4180 parser that
 * takes text in chunks of any size and returns the records completed so far, so a loader never
 * holds a whole file (engine/node/csv.ts streams files through it). Quoted fields may hold the
 * delimiter, doubled quotes ("") and line breaks; CRLF, LF and lone CR end records; a leading
 * byte-order mark and blank lines are skipped. Every record carries the line it starts on, and
 * every problem in the data is a `CsvError` naming the source, line, column and reason, with a
 * `kind` that programs can test. Tables (header, types, features, target) are csv-table.ts's.
 */

import { WiregradError } from '../core/errors.js';

/** What went wrong, for programs; the message says it for people. */
export type CsvErrorKind =
  | 'empty-file'
  | 'ragged-row'
  | 'non-numeric'
  | 'missing-target'
  | 'missing-column'
  | 'label-out-of-range'
  | 'unterminated-quote'
  | 'too-many-categories'
  | 'unreadable';

/** Where a problem sits: the source (a file name), a 1-based line and a column. */
export interface CsvSite {
  readonly source: string;
  readonly line?: number;
  /** The column's name, or its 0-based position when the file has no header. */
  readonly column?: string;
}

export class CsvError extends WiregradError {
  readonly kind: CsvErrorKind;
  readonly source: string;
  readonly line: number | undefined;
  readonly column: string | undefined;

  constructor(kind: CsvErrorKind, site: CsvSite, reason: string) {
    const where = [
      site.source,
      site.line !== undefined ? `line ${site.line}` : '',
      site.column !== undefined ? `column '${site.column}'` : '',
    ]
      .filter((s) => s !== '')
      .join(', ');
    super(`${where}: ${reason}`);
    this.kind = kind;
    this.source = site.source;
    this.line = site.line;
    this.column = site.column;
  }
}

/** One row of fields, as text, and the line it starts on (1-based). */
export interface CsvRecord {
  readonly fields: string[];
  readonly line: number;
}

export interface CsvParseOptions {
  /** One character between fields (default ','). */
  readonly delimiter?: string;
  /** The name used in error messages (default 'CSV data'). */
  readonly source?: string;
}

const QUOTE = 0x22;
const LF = 0x0a;
const CR = 0x0d;
const BOM = 0xfeff;

// Parser states.
const FIELD_START = 0;
const UNQUOTED = 1;
const QUOTED = 2;
/** A quote seen inside a quoted field: either the first of "" or the closing quote. */
const QUOTE_IN_QUOTED = 3;

export class CsvRecordParser {
  readonly source: string;
  private readonly delimiter: number;
  private state = FIELD_START;
  private fields: string[] = [];
  private field = '';
  /** Whether the current record had a quoted field (so `""` alone is not a blank line). */
  private quoted = false;
  private line = 1;
  private recordLine = 1;
  /** The last chunk ended in CR: a LF starting the next one belongs to the same line break. */
  private pendingCR = false;
  private started = false;

  constructor(options: CsvParseOptions = {}) {
    const delimiter = options.delimiter ?? ',';
    this.source = options.source ?? 'CSV data';
    if (delimiter.length !== 1 || delimiter === '"' || delimiter === '\n' || delimiter === '\r')
      throw new WiregradError(
        `CSV delimiter must be one character other than a quote or a line break, got ` +
          `'${delimiter}'`,
      );
    this.delimiter = delimiter.charCodeAt(0);
  }

  /** Parses the next piece of text; returns the records it completed, in order. */
  push(chunk: string): CsvRecord[] {
    const out: CsvRecord[] = [];
    const n = chunk.length;
    const delim = this.delimiter;
    let i = 0;
    if (!this.started && n > 0) {
      this.started = true;
      if (chunk.charCodeAt(0) === BOM) i = 1;
    }
    while (i < n) {
      const c = chunk.charCodeAt(i);
      if (this.pendingCR) {
        this.pendingCR = false;
        if (c === LF) {
          i++;
          continue;
        }
      }
      switch (this.state) {
        case FIELD_START:
        case UNQUOTED: {
          if (this.state === FIELD_START && c === QUOTE) {
            this.state = QUOTED;
            this.quoted = true;
            i++;
            break;
          }
          // Take the whole unquoted run at once: slicing beats appending char by char.
          let j = i;
          for (; j < n; j++) {
            const d = chunk.charCodeAt(j);
            if (d === delim || d === LF || d === CR) break;
          }
          this.field += chunk.slice(i, j);
          this.state = UNQUOTED;
          if (j === n) {
            i = n;
            break;
          }
          this.endOfField(chunk.charCodeAt(j), out);
          i = j + 1;
          break;
        }
        case QUOTED: {
          const q = chunk.indexOf('"', i);
          const end = q === -1 ? n : q;
          const text = chunk.slice(i, end);
          this.field += text;
          // Line breaks inside quotes still move the line count, so messages match editors.
          for (let k = text.indexOf('\n'); k !== -1; k = text.indexOf('\n', k + 1)) this.line++;
          if (q === -1) i = n;
          else {
            this.state = QUOTE_IN_QUOTED;
            i = q + 1;
          }
          break;
        }
        case QUOTE_IN_QUOTED: {
          if (c === QUOTE) {
            this.field += '"';
            this.state = QUOTED;
          } else if (c === delim || c === LF || c === CR) this.endOfField(c, out);
          else {
            // Text after a closing quote ("a"b): kept, as Python's csv module does.
            this.field += chunk[i]!;
            this.state = UNQUOTED;
          }
          i++;
          break;
        }
      }
    }
    return out;
  }

  /** Ends the text: returns the last record, if any. A quote left open is an error. */
  end(): CsvRecord[] {
    if (this.state === QUOTED)
      throw new CsvError(
        'unterminated-quote',
        { source: this.source, line: this.recordLine },
        `a quoted field that starts in this record is never closed; add the closing '"' ` +
          `(a quote inside a quoted field is written "")`,
      );
    const out: CsvRecord[] = [];
    if (this.state !== FIELD_START || this.fields.length > 0) this.endRecord(out);
    return out;
  }

  /** The field ends at `c` (a delimiter or a line break). */
  private endOfField(c: number, out: CsvRecord[]): void {
    if (c === this.delimiter) {
      this.fields.push(this.field);
      this.field = '';
      this.state = FIELD_START;
      return;
    }
    this.endRecord(out);
    this.line++;
    this.recordLine = this.line;
    this.pendingCR = c === CR;
  }

  private endRecord(out: CsvRecord[]): void {
    this.fields.push(this.field);
    const blank = this.fields.length === 1 && this.fields[0] === '' && !this.quoted;
    if (!blank) out.push({ fields: this.fields, line: this.recordLine });
    this.fields = [];
    this.field = '';
    this.quoted = false;
    this.state = FIELD_START;
  }
}

/** Parses a whole text at once (small files, tests); large files go through `push` in chunks. */
export function parseCsvRecords(text: string, options: CsvParseOptions = {}): CsvRecord[] {
  const parser = new CsvRecordParser(options);
  return [...parser.push(text), ...parser.end()];
}

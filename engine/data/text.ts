/**
 * Plain text for character-level models, pure: `CharVocab` numbers the distinct characters
 * (Unicode code points, in code-point order, so the same text always gives the same ids), and
 * `charSequences` cuts ids into windows: inputs x [n, seqLength] i32 with, as targets, either
 * the one character after each window (y [n], for a classifier over the vocabulary) or the
 * window shifted by one (y [n, seqLength], for a model that predicts at every position).
 * engine/node/text.ts reads files.
 */

import { WiregradError } from '../core/errors.js';
import { tensor } from '../ops/creation.js';
import type { Tensor } from '../tensor.js';

export class CharVocab {
  /** The characters, id by id. */
  readonly chars: readonly string[];
  private readonly ids: ReadonlyMap<string, number>;

  constructor(chars: Iterable<string>) {
    const unique = [...new Set(chars)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    for (const c of unique)
      if ([...c].length !== 1)
        throw new WiregradError(`CharVocab: '${c}' is not a single character`);
    this.chars = unique;
    this.ids = new Map(unique.map((c, i) => [c, i]));
  }

  /** The vocabulary of every character in `text`. */
  static fromText(text: string): CharVocab {
    return new CharVocab(text);
  }

  get size(): number {
    return this.chars.length;
  }

  /** The id of each character; a character outside the vocabulary is an error. */
  encode(text: string): Int32Array {
    const out: number[] = [];
    for (const c of text) {
      const id = this.ids.get(c);
      if (id === undefined)
        throw new WiregradError(
          `CharVocab.encode: character ${JSON.stringify(c)} (U+${c
            .codePointAt(0)!
            .toString(16)
            .toUpperCase()
            .padStart(4, '0')}) at position ${out.length} is not in the vocabulary of ` +
            `${this.size} characters; build the vocabulary from all the text`,
        );
      out.push(id);
    }
    return Int32Array.from(out);
  }

  decode(ids: ArrayLike<number>): string {
    let s = '';
    for (let i = 0; i < ids.length; i++) {
      const c = this.chars[ids[i]!];
      if (c === undefined)
        throw new WiregradError(
          `CharVocab.decode: id ${ids[i]} at position ${i} is outside [0, ${this.size})`,
        );
      s += c;
    }
    return s;
  }
}

export interface SequenceOptions {
  /** Characters per input window. */
  readonly seqLength: number;
  /** Characters between the starts of consecutive windows (default: seqLength, no overlap). */
  readonly stride?: number;
  /** 'next' (default): y [n] is the character after each window; 'shifted': y [n, seqLength]. */
  readonly target?: 'next' | 'shifted';
}

export interface CharSequences {
  /** Windows [n, seqLength] of character ids, i32. */
  readonly x: Tensor;
  /** Next-character ids: [n] ('next') or [n, seqLength] ('shifted'), i32. */
  readonly y: Tensor;
}

/** Cuts `ids` into (input window, next characters) pairs; see `SequenceOptions`. */
export function charSequences(ids: ArrayLike<number>, options: SequenceOptions): CharSequences {
  const { seqLength, stride = seqLength, target = 'next' } = options;
  if (!Number.isInteger(seqLength) || seqLength < 1 || !Number.isInteger(stride) || stride < 1)
    throw new WiregradError(
      `charSequences: seqLength and stride must be positive integers, got ${seqLength} and ` +
        `${stride}`,
    );
  // A window and its targets span seqLength + 1 characters.
  const n = ids.length > seqLength ? Math.floor((ids.length - seqLength - 1) / stride) + 1 : 0;
  if (n === 0)
    throw new WiregradError(
      `charSequences: the text has ${ids.length} characters, too few for one window of ` +
        `${seqLength} plus the character after it; use a shorter seqLength or more text`,
    );
  const x = new Int32Array(n * seqLength);
  const shifted = target === 'shifted';
  const y = new Int32Array(shifted ? n * seqLength : n);
  for (let i = 0; i < n; i++) {
    const s = i * stride;
    for (let k = 0; k < seqLength; k++) {
      x[i * seqLength + k] = ids[s + k]!;
      if (shifted) y[i * seqLength + k] = ids[s + k + 1]!;
    }
    if (!shifted) y[i] = ids[s + seqLength]!;
  }
  return {
    x: tensor(x, { shape: [n, seqLength], dtype: 'i32' }),
    y: tensor(y, { shape: shifted ? [n, seqLength] : [n], dtype: 'i32' }),
  };
}

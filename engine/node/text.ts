/**
 * Plain-text files for Node: `loadText` streams a UTF-8 file (progress in bytes read of the
 * total; a zero byte means a binary file, which is refused), and `loadTextDataset` turns it into
 * a character vocabulary and (window, next character) pairs, split without overlap: the first
 * part of the text trains, the last `testFraction` tests, so no test window repeats training
 * text. Errors name the file.
 */

import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { WiregradError } from '../core/errors.js';
import {
  CharVocab,
  charSequences,
  type CharSequences,
  type SequenceOptions,
} from '../data/text.js';

export interface TextLoadProgress {
  readonly bytesRead: number;
  readonly totalBytes: number;
}

export interface LoadTextOptions {
  readonly onProgress?: (progress: TextLoadProgress) => void;
}

function reason(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The text of the UTF-8 file at `path` (invalid bytes become U+FFFD). */
export async function loadText(path: string, options: LoadTextOptions = {}): Promise<string> {
  let totalBytes: number;
  try {
    totalBytes = (await stat(path)).size;
  } catch (e) {
    throw new WiregradError(`cannot read ${path}: ${reason(e)}`);
  }
  const decoder = new TextDecoder('utf-8');
  const parts: string[] = [];
  let bytesRead = 0;
  const stream = createReadStream(path);
  try {
    for await (const raw of stream) {
      const chunk = raw as Buffer;
      const nul = chunk.indexOf(0);
      if (nul >= 0)
        throw new WiregradError(
          `${path}: this is not a text file (a zero byte at offset ${bytesRead + nul}); ` +
            'give a plain UTF-8 text file',
        );
      bytesRead += chunk.length;
      parts.push(decoder.decode(chunk, { stream: true }));
      options.onProgress?.({ bytesRead, totalBytes });
    }
  } catch (e) {
    if (e instanceof WiregradError) throw e;
    throw new WiregradError(`cannot read ${path}: ${reason(e)}`);
  } finally {
    stream.destroy();
  }
  parts.push(decoder.decode());
  const text = parts.join('');
  if (text.length === 0) throw new WiregradError(`${path}: the file is empty`);
  return text;
}

export interface TextDataset {
  readonly vocab: CharVocab;
  readonly train: CharSequences;
  readonly test: CharSequences | null;
}

/** A text file as a vocabulary and train/test windows (see `charSequences`). */
export async function loadTextDataset(
  path: string,
  options: LoadTextOptions & SequenceOptions & { readonly testFraction?: number },
): Promise<TextDataset> {
  const { testFraction = 0.1 } = options;
  if (!(testFraction >= 0 && testFraction < 1))
    throw new WiregradError(`testFraction must be in [0, 1), got ${testFraction}`);
  const text = await loadText(path, options);
  const vocab = CharVocab.fromText(text);
  const ids = vocab.encode(text);
  const cut = Math.round(ids.length * (1 - testFraction));
  const windows = (part: Int32Array, which: string): CharSequences => {
    try {
      return charSequences(part, options);
    } catch (e) {
      throw new WiregradError(`${path} (${which} part): ${reason(e)}`);
    }
  };
  const train = windows(ids.subarray(0, cut), 'training');
  let test: CharSequences | null = null;
  try {
    if (testFraction > 0) test = windows(ids.subarray(cut), 'test');
  } catch (e) {
    train.x.dispose();
    train.y.dispose();
    throw e;
  }
  return { vocab, train, test };
}

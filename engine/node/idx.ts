/**
 * Reading IDX files (MNIST, Fashion-MNIST) from disk, gzipped or not (gzip is recognised by its
 * magic bytes, not the file name), for Node. Parsing is engine/data/idx.ts's.
 */

import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { WiregradError } from '../core/errors.js';
import { type IdxArray, parseIdx } from '../data/idx.js';

/** Reads and parses the IDX file at `path` (.gz or raw); errors name the file. */
export async function loadIdx(path: string): Promise<IdxArray> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new WiregradError(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes);
    } catch (e) {
      throw new WiregradError(
        `${path}: corrupt gzip data (${e instanceof Error ? e.message : String(e)})`,
      );
    }
  }
  return parseIdx(bytes, path);
}

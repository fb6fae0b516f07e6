/**
 * Saving and loading weights as .safetensors files, for Node. Writes are atomic: the bytes go
 * to a temporary file in the same folder, which is flushed to disk (fsync) and then renamed over
 * the target, so a crash leaves either the old file or the new one, never a torn mix. Errors
 * name the file.
 */

import { randomBytes } from 'node:crypto';
import { open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { WiregradError } from '../core/errors.js';
import { Module, type LoadStateDictOptions, type LoadStateDictResult } from '../nn/module.js';
import { loadSafetensors, saveSafetensorsAsync } from '../nn/safetensors.js';
import { dispose } from '../runtime/scope.js';
import type { Tensor } from '../tensor.js';

/** Writes `bytes` to `path` atomically (temporary file, fsync, rename, fsync of the folder). */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const folder = dirname(path);
  const temp = join(folder, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (e) {
    await unlink(temp).catch(() => undefined);
    throw new WiregradError(`cannot write ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  // Make the rename itself durable. Some platforms cannot open folders; the data is safe anyway.
  try {
    const dir = await open(folder, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch {
    // best effort
  }
}

/**
 * Saves a module's state dict (parameters and buffers) or a map of tensors to `path` as
 * safetensors, atomically. `metadata` is stored in the file's `__metadata__`.
 */
export async function saveWeights(
  path: string,
  weights: Module | ReadonlyMap<string, Tensor>,
  metadata?: Readonly<Record<string, string>>,
): Promise<void> {
  const map = weights instanceof Module ? weights.stateDict() : weights;
  const bytes = await saveSafetensorsAsync(map, metadata);
  await writeFileAtomic(path, bytes);
}

/** Reads the tensors of a safetensors file. They belong to the caller (or enclosing `tidy`). */
export async function loadWeights(path: string): Promise<Map<string, Tensor>> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new WiregradError(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    return loadSafetensors(bytes);
  } catch (e) {
    throw new WiregradError(`${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Loads a safetensors file into `module` (see `Module.loadStateDict`), freeing the file's tensors. */
export async function loadWeightsInto(
  module: Module,
  path: string,
  options: LoadStateDictOptions = {},
): Promise<LoadStateDictResult> {
  const map = await loadWeights(path);
  try {
    return module.loadStateDict(map, options);
  } catch (e) {
    throw new WiregradError(`${path}: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    dispose(map);
  }
}

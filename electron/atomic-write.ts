/**
 * Atomic file writes: the text goes to a temporary file in the same folder (so the final rename
 * stays on one file system, where rename is atomic), is flushed to disk with fsync, and only then
 * renamed over the target. A crash or a full disk midway leaves the old file as it was and at
 * most a stray `.<name>.<random>.tmp`, which the failure path removes. The file system is
 * injected so a test can make a step fail.
 */

import { randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** The parts of node:fs/promises an atomic write uses. */
export interface AtomicWriteFs {
  open(path: string, flags: string, mode?: number): Promise<WritableHandle>;
  rename(from: string, to: string): Promise<void>;
  rm(path: string, options: { force: boolean }): Promise<void>;
}
export interface WritableHandle {
  writeFile(data: string | Uint8Array, encoding?: 'utf8'): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

export const nodeAtomicFs: AtomicWriteFs = nodeFs;

/** The temporary file's path: hidden, beside the target, unique per write. */
export function temporaryPathFor(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Writes `text` (or bytes) to `target` atomically (see the file comment). */
export async function writeFileAtomic(
  target: string,
  text: string | Uint8Array,
  fs: AtomicWriteFs = nodeAtomicFs,
): Promise<void> {
  const temporary = temporaryPathFor(target);
  let renamed = false;
  try {
    // 'wx': never follow or reuse an existing file at the temporary path.
    const handle = await fs.open(temporary, 'wx', 0o644);
    try {
      await (typeof text === 'string' ? handle.writeFile(text, 'utf8') : handle.writeFile(text));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(temporary, target);
    renamed = true;
  } finally {
    if (!renamed) await fs.rm(temporary, { force: true }).catch(() => undefined);
  }
}

import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type AtomicWriteFs, temporaryPathFor, writeFileAtomic } from './atomic-write.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wiregrad-atomic-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The real file system, with one step made to fail. */
function failing(step: 'write' | 'sync' | 'rename'): AtomicWriteFs {
  return {
    async open(path, flags, mode) {
      const handle = await fs.open(path, flags, mode);
      return {
        async writeFile(data, encoding) {
          if (step === 'write') {
            // Half the data reaches the disk before the failure, as when the disk fills up.
            await handle.writeFile(data.slice(0, data.length / 2), encoding);
            throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
          }
          await handle.writeFile(data, encoding);
        },
        async sync() {
          if (step === 'sync') throw new Error('EIO: i/o error');
          await handle.sync();
        },
        close: () => handle.close(),
      };
    },
    async rename(from, to) {
      if (step === 'rename') throw new Error('EXDEV: cross-device link');
      await fs.rename(from, to);
    },
    rm: (path, options) => fs.rm(path, options),
  };
}

describe('atomic writes', () => {
  it('write a new file and replace an old one', async () => {
    const target = join(dir, 'model.ipynb');
    await writeFileAtomic(target, 'first');
    expect(await readFile(target, 'utf8')).toBe('first');
    await writeFileAtomic(target, 'second');
    expect(await readFile(target, 'utf8')).toBe('second');
    expect(await readdir(dir)).toEqual(['model.ipynb']);
  });

  it.each(['write', 'sync', 'rename'] as const)(
    'leave the old file intact and no temp file when the %s step fails',
    async (step) => {
      const target = join(dir, 'model.ipynb');
      await writeFile(target, 'the old, good notebook');
      await expect(writeFileAtomic(target, 'x'.repeat(10_000), failing(step))).rejects.toThrow();
      expect(await readFile(target, 'utf8')).toBe('the old, good notebook');
      expect(await readdir(dir)).toEqual(['model.ipynb']);
    },
  );

  it('put the temp file beside the target, hidden, so the rename stays on one file system', () => {
    const path = temporaryPathFor('/home/u/models/mlp.ipynb');
    expect(path).toMatch(/^\/home\/u\/models\/\.mlp\.ipynb\.[0-9a-f]{12}\.tmp$/);
    expect(temporaryPathFor('/a/b.ipynb')).not.toBe(temporaryPathFor('/a/b.ipynb'));
  });
});

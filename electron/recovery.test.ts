import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from './atomic-write.js';
import { readTextOrNull } from './recent-files.js';
import { RecoveryStore, parseRecovery, recoveredDocument, recoveryQuestion } from './recovery.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wiregrad-recovery-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function store(now = 1_700_000_000_000): RecoveryStore {
  return new RecoveryStore(
    join(dir, 'recovery'),
    {
      read: (path) => readTextOrNull(readFile, path),
      readBytes: (path) =>
        readFile(path).then(
          (b) => new Uint8Array(b),
          () => null,
        ),
      write: writeFileAtomic,
      remove: (path) => rm(path, { force: true }),
      mkdir: async (path) => void (await mkdir(path, { recursive: true })),
    },
    () => now,
  );
}

describe('crash recovery', () => {
  it('keeps trained weights with the work, replaced or dropped on request, and clears both', async () => {
    const weights = new Uint8Array([1, 2, 3]);
    await store().save('spiral.ipynb', '{"doc": 1}', weights);
    // Edits autosave the text alone: the weights stay.
    await store().save('spiral.ipynb', '{"doc": 2}');
    const entry = await store().pending();
    expect(entry).toMatchObject({ text: '{"doc": 2}', weights });
    expect(recoveredDocument(entry!)).toEqual({
      path: null,
      name: 'spiral.ipynb',
      text: '{"doc": 2}',
      weights: { name: 'recovered weights', bytes: weights },
    });
    await store().save('other.ipynb', '{"doc": 3}', null);
    expect((await store().pending())?.weights).toBeUndefined();
    await store().save('spiral.ipynb', '{"doc": 4}', weights);
    await store().clear();
    expect(await store().pending()).toBeNull();
    await store().save('spiral.ipynb', '{"doc": 5}');
    expect((await store().pending())?.weights).toBeUndefined();
  });

  it('has nothing to offer on a first start', async () => {
    expect(await store().pending()).toBeNull();
  });

  it('offers the last autosave at the next start, as a document without a path', async () => {
    await store().save('mlp.ipynb', '{"first": 1}');
    await store().save('mlp.ipynb', '{"second": 2}');
    // A new process: a fresh store over the same folder.
    const entry = await store().pending();
    expect(entry).toEqual({ name: 'mlp.ipynb', savedAt: 1_700_000_000_000, text: '{"second": 2}' });
    expect(recoveredDocument(entry!)).toEqual({
      path: null,
      name: 'mlp.ipynb',
      text: '{"second": 2}',
    });
    const question = recoveryQuestion(entry!);
    expect(question.message).toContain('mlp.ipynb');
    expect(question.buttons[question.defaultId]).toBe('Restore');
    expect(question.buttons[question.cancelId]).toBe('Discard');
  });

  it('offers nothing once the work was saved or discarded', async () => {
    await store().save('mlp.ipynb', 'x');
    await store().clear();
    expect(await store().pending()).toBeNull();
    await store().clear(); // clearing twice is fine
  });

  it('ignores a damaged recovery file', () => {
    expect(parseRecovery('{"version": 1, "name": "a"')).toBeNull();
    expect(parseRecovery('{"version": 2, "name": "a", "savedAt": 1, "text": "x"}')).toBeNull();
    expect(parseRecovery('{"version": 1, "name": "a", "savedAt": "now", "text": "x"}')).toBeNull();
    expect(parseRecovery('null')).toBeNull();
  });
});

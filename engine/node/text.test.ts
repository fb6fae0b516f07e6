import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadText, loadTextDataset } from './text.js';

const dir = mkdtempSync(join(tmpdir(), 'wiregrad-text-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('text files', () => {
  it('loads a file into a vocabulary and train/test windows split without overlap', async () => {
    const path = join(dir, 'abc.txt');
    writeFileSync(path, 'abcabcabcabcabcabcabcabcabcabc'); // 30 characters
    const seen: number[] = [];
    const d = await loadTextDataset(path, {
      seqLength: 2,
      testFraction: 0.2,
      onProgress: (p) => seen.push(p.bytesRead / p.totalBytes),
    });
    expect(d.vocab.chars).toEqual(['a', 'b', 'c']);
    // 24 training characters give 11 windows of 2 (+1 target); the last 6 give 2.
    expect([d.train.x.shape, d.test!.x.shape]).toEqual([
      [11, 2],
      [2, 2],
    ]);
    expect(d.train.x.arraySync()).toContainEqual([0, 1]);
    expect(d.train.y.arraySync()).toEqual([2, 1, 0, 2, 1, 0, 2, 1, 0, 2, 1]);
    expect(seen.at(-1)).toBe(1);
  });

  it('names the file that is missing, empty, binary or too short', async () => {
    await expect(loadText(join(dir, 'none.txt'))).rejects.toThrow(/cannot read .*none\.txt/);
    writeFileSync(join(dir, 'empty.txt'), '');
    await expect(loadText(join(dir, 'empty.txt'))).rejects.toThrow(/empty\.txt: the file is empty/);
    writeFileSync(join(dir, 'bin.txt'), new Uint8Array([104, 105, 0, 1]));
    await expect(loadText(join(dir, 'bin.txt'))).rejects.toThrow(
      /bin\.txt: this is not a text file \(a zero byte at offset 2\)/,
    );
    writeFileSync(join(dir, 'short.txt'), 'abcdefghij');
    await expect(loadTextDataset(join(dir, 'short.txt'), { seqLength: 4 })).rejects.toThrow(
      /short\.txt \(test part\): .*the text has 1 characters/,
    );
  });
});

/**
 * The app's ZIP writer (renderer/files/zip.ts, for PyTorch exports) against independent readers: Python's zipfile reads every entry back byte for
 * byte (names in UTF-8, binary contents) and its CRC check passes; the CRC-32 matches the
 * standard check value.
 */

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { crc32, zipStore } from '../../renderer/files/zip.js';

const dir = mkdtempSync(join(tmpdir(), 'wiregrad-zip-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const READ = `
import json, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    assert z.testzip() is None
    print(json.dumps([[i.filename, i.compress_type, list(z.read(i))] for i in z.infolist()]))
`;

describe('zipStore', () => {
  it('computes the standard CRC-32', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  it('writes an archive that Python reads back exactly', () => {
    const binary = Uint8Array.from({ length: 1000 }, (_, i) => (i * 37) & 0xff);
    const entries = [
      { name: 'model.py', contents: 'import torch\n' },
      { name: 'weights.safetensors', contents: binary },
      { name: 'modèle/é.md', contents: '' },
    ];
    const path = join(dir, 'export.zip');
    writeFileSync(path, zipStore(entries));
    const run = spawnSync('python3', ['-c', READ, path], { encoding: 'utf8' });
    expect(run.stderr).toBe('');
    const read = JSON.parse(run.stdout) as [string, number, number[]][];
    expect(read.map(([name, method]) => [name, method])).toEqual([
      ['model.py', 0],
      ['weights.safetensors', 0],
      ['modèle/é.md', 0],
    ]);
    expect(read[0]![2]).toEqual([...new TextEncoder().encode('import torch\n')]);
    expect(read[1]![2]).toEqual([...binary]);
    expect(read[2]![2]).toEqual([]);
  });

  it('gives the same bytes for the same files', () => {
    const entries = [{ name: 'a.txt', contents: 'a' }];
    expect(zipStore(entries)).toEqual(zipStore(entries));
  });
});

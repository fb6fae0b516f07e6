import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as wg from '../index.js';
import { loadWeights, loadWeightsInto, saveWeights, writeFileAtomic } from './weights.js';

const dir = mkdtempSync(join(tmpdir(), 'wiregrad-weights-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const makeModel = (seed: number) =>
  new wg.nn.Sequential(
    new wg.nn.Linear(3, 4, { seed }),
    new wg.nn.BatchNorm1d(4),
    new wg.nn.Linear(4, 2, { seed: seed + 1 }),
  );

describe('weights files', () => {
  it('saves a module and loads it into another, values and buffers included', async () => {
    const a = makeModel(1);
    a.forward(wg.rand([5, 3], { seed: 2 })); // moves the running statistics
    const path = join(dir, 'model.safetensors');
    await saveWeights(path, a, { epoch: '3' });
    const b = makeModel(10);
    expect(await loadWeightsInto(b, path)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    for (const [k, t] of a.stateDict())
      expect(Array.from(b.stateDict().get(k)!.dataSync()), k).toEqual(Array.from(t.dataSync()));
    expect(wg.nn.safetensorsMetadata(readFileSync(path))).toEqual({ epoch: '3' });
  });

  it('saves a map of tensors and reads it back', async () => {
    const path = join(dir, 'map.safetensors');
    await saveWeights(path, new Map([['t', wg.tensor([1, 2, 3], { dtype: 'i32' })]]));
    const map = await loadWeights(path);
    expect([map.get('t')!.dtype, Array.from(map.get('t')!.dataSync())]).toEqual(['i32', [1, 2, 3]]);
  });

  it('replaces a file atomically and leaves no temporary files', async () => {
    const path = join(dir, 'atomic.bin');
    writeFileSync(path, 'old contents');
    await writeFileAtomic(path, new Uint8Array([1, 2, 3]));
    expect(Array.from(readFileSync(path))).toEqual([1, 2, 3]);
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await expect(
      writeFileAtomic(join(dir, 'missing-folder', 'x.bin'), new Uint8Array(1)),
    ).rejects.toThrow(/cannot write .*missing-folder\/x\.bin: ENOENT/);
  });

  it('errors name the file', async () => {
    const bad = join(dir, 'bad.safetensors');
    writeFileSync(bad, new Uint8Array([1, 0, 0]));
    await expect(loadWeights(bad)).rejects.toThrow(
      /bad\.safetensors: safetensors: the data is 3 bytes, too short/,
    );
    await expect(loadWeights(join(dir, 'nope.safetensors'))).rejects.toThrow(
      /cannot read .*nope\.safetensors: ENOENT/,
    );
    const path = join(dir, 'small.safetensors');
    await saveWeights(path, new Map([['0.weight', wg.zeros([4, 3])]]));
    await expect(loadWeightsInto(makeModel(1), path)).rejects.toThrow(
      /small\.safetensors: Sequential\.loadStateDict: missing keys: 0\.bias/,
    );
  });
});

import { describe, expect, it } from 'vitest';
import {
  isWeightsFileName,
  readWeightsRef,
  sha256Hex,
  weightsFileName,
  withWeightsRef,
} from './weights-ref.js';

const notebook = `${JSON.stringify(
  { cells: [], metadata: { wiregrad: { version: 2, active: 'model' } }, nbformat: 4 },
  null,
  1,
)}\n`;

describe('the weights record of a notebook', () => {
  it('names the weights file after the notebook', () => {
    expect(weightsFileName('spiral.ipynb')).toBe('spiral.safetensors');
    expect(weightsFileName('my.model.v2.ipynb')).toBe('my.model.v2.safetensors');
    expect(weightsFileName('noext')).toBe('noext.safetensors');
    expect(isWeightsFileName('A.SafeTensors')).toBe(true);
    expect(isWeightsFileName('a.ipynb')).toBe(false);
  });

  it('is written into metadata.wiregrad, read back, and removed, keeping the rest', () => {
    const ref = { file: 'm.safetensors', step: 1200, bytes: 4096, sha256: 'ab'.repeat(32) };
    const text = withWeightsRef(notebook, ref);
    expect(readWeightsRef(text)).toEqual(ref);
    const parsed = JSON.parse(text) as { metadata: { wiregrad: Record<string, unknown> } };
    expect(parsed.metadata.wiregrad['active']).toBe('model');
    const removed = withWeightsRef(text, null);
    expect(readWeightsRef(removed)).toBeNull();
    expect(removed).toBe(notebook);
    // Nothing to remove, or not a notebook: the text is untouched.
    expect(withWeightsRef(notebook, null)).toBe(notebook);
    const graph = '{"format":"wiregrad.graph","version":1,"nodes":[]}';
    expect(withWeightsRef(graph, ref)).toBe(graph);
    expect(readWeightsRef('not json')).toBeNull();
  });

  it('hashes the file with SHA-256', async () => {
    // The SHA-256 of "abc" (FIPS 180-2's example).
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
  });
});

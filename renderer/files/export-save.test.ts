/**
 * What an export saves: one `.onnx` or `.ts` file named after the model, or the PyTorch
 * project's files in one ZIP under a folder of the model's name; a host that can save binary
 * files itself is used, and one that cannot gets nothing it cannot take.
 */

import { describe, expect, it } from 'vitest';
import type { Host } from '../host/host.js';
import { exportStem, packageExport, saveBytes, targetInfo } from './export-save.js';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe('packaging an export', () => {
  it('names files after the model', () => {
    expect(exportStem('MLP for 2-D points')).toBe('mlp-for-2-d-points');
    expect(exportStem(undefined)).toBe('model');
    expect(exportStem('***')).toBe('model');
  });

  it('saves ONNX and TypeScript as one file with their extension', () => {
    const onnx = packageExport('onnx', 'mlp', [
      { name: 'model.onnx', contents: new Uint8Array([8, 1]) },
    ]);
    expect(onnx.name).toBe('mlp.onnx');
    expect([...onnx.bytes]).toEqual([8, 1]);
    const ts = packageExport('typescript', 'mlp', [{ name: 'model.ts', contents: 'export {}' }]);
    expect(ts.name).toBe('mlp.ts');
    expect(text(ts.bytes)).toBe('export {}');
  });

  it('zips a PyTorch project into a folder named after the model', () => {
    const zip = packageExport('pytorch', 'mlp', [
      { name: 'model.py', contents: 'import torch' },
      { name: 'weights.safetensors', contents: new Uint8Array([1, 2, 3]) },
    ]);
    expect(zip.name).toBe('mlp-pytorch.zip');
    const raw = text(zip.bytes);
    expect(raw.startsWith('PK\u0003\u0004')).toBe(true);
    expect(raw).toContain('mlp/model.py');
    expect(raw).toContain('mlp/weights.safetensors');
  });

  it('refuses an export that made an unexpected number of files', () => {
    expect(() => packageExport('onnx', 'm', [])).toThrow(/made 0 files where one was expected/);
  });

  it('saves through the host when it can save binary files', async () => {
    const saved: [number, string, string][] = [];
    const host = {
      saveBytes: (bytes: Uint8Array, name: string, kind: { description: string }) => {
        saved.push([bytes.length, name, kind.description]);
        return Promise.resolve({ name });
      },
    } as unknown as Host;
    await expect(
      saveBytes(host, new Uint8Array(4), 'm.onnx', targetInfo('onnx').kind),
    ).resolves.toEqual({ name: 'm.onnx' });
    expect(saved).toEqual([[4, 'm.onnx', 'ONNX model']]);
  });
});

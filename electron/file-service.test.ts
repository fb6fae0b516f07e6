import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { writeFileAtomic } from './atomic-write.js';
import { FileService, MAX_OPEN_BYTES, notebookFromArgv, weightsPathFor } from './file-service.js';
import { RecentFiles, readTextOrNull } from './recent-files.js';
import { RecoveryStore } from './recovery.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wiregrad-files-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

function setUp(
  dialogs: { open?: string | null; save?: string | null; exported?: string | null } = {},
): {
  service: FileService;
  recent: RecentFiles;
  recovery: RecoveryStore;
  menuUpdates: () => number;
} {
  const read = (path: string): Promise<string | null> => readTextOrNull(readFile, path);
  const recent = new RecentFiles(join(dir, 'recent.json'), { read, write: writeFileAtomic });
  const recovery = new RecoveryStore(join(dir, 'recovery'), {
    read,
    readBytes: (path) =>
      readFile(path).then(
        (b) => new Uint8Array(b),
        () => null,
      ),
    write: writeFileAtomic,
    remove: (path) => rm(path, { force: true }),
    mkdir: async (path) => void (await mkdir(path, { recursive: true })),
  });
  let updates = 0;
  const service = new FileService({
    showOpenDialog: () => Promise.resolve(dialogs.open ?? null),
    showSaveDialog: () => Promise.resolve(dialogs.save ?? null),
    showExportDialog: () => Promise.resolve(dialogs.exported ?? null),
    showImportDialog: () => Promise.resolve(dialogs.open ?? null),
    readFile: (path) => readFile(path, 'utf8'),
    readBytes: async (path) => new Uint8Array(await readFile(path)),
    fileSize: async (path) => (await stat(path)).size,
    writeFile: writeFileAtomic,
    recent,
    recovery,
    recentChanged: () => void updates++,
  });
  return { service, recent, recovery, menuUpdates: () => updates };
}

describe('trained weights beside a notebook', () => {
  it('are written first, beside it, with the notebook text that refers to them', async () => {
    const path = join(dir, 'spiral.ipynb');
    const order: string[] = [];
    const { service } = setUp({ save: path });
    const write = (service as unknown as { deps: { writeFile: typeof writeFileAtomic } }).deps;
    const atomic = write.writeFile;
    write.writeFile = async (p, data) => {
      order.push(p);
      await atomic(p, data);
    };
    const bytes = new Uint8Array([1, 2, 3, 250]);
    const saved = await service.save({
      text: 'without weights',
      suggestedName: 'spiral.ipynb',
      weights: { bytes, text: 'with weights' },
    });
    const weightsPath = join(dir, 'spiral.safetensors');
    expect(saved).toEqual({ path, name: 'spiral.ipynb', weightsName: 'spiral.safetensors' });
    expect(order).toEqual([weightsPath, path]);
    expect(await readFile(path, 'utf8')).toBe('with weights');
    expect(new Uint8Array(await readFile(weightsPath))).toEqual(bytes);
    expect(weightsPathFor('/a/b.c/model.ipynb')).toBe('/a/b.c/model.safetensors');
  });

  it('come back when the notebook opens, and are absent when there are none', async () => {
    const path = join(dir, 'mlp.ipynb');
    await writeFile(path, 'notebook');
    const { service } = setUp({ open: path });
    expect((await service.openWithDialog())?.weights).toBeUndefined();
    await writeFile(join(dir, 'mlp.safetensors'), new Uint8Array([9, 8, 7]));
    expect((await service.openWithDialog())?.weights).toEqual({
      name: 'mlp.safetensors',
      bytes: new Uint8Array([9, 8, 7]),
    });
    // Only notebooks have weights beside them.
    const graph = join(dir, 'old.json');
    await writeFile(graph, '{}');
    await writeFile(join(dir, 'old.safetensors'), new Uint8Array([1]));
    expect((await service.openPath(graph)).weights).toBeUndefined();
  });
});

describe('files in the desktop app', () => {
  it('open through the dialog, becoming recent and writable', async () => {
    const path = join(dir, 'mlp.ipynb');
    await writeFile(path, 'notebook text');
    const { service, recent, menuUpdates } = setUp({ open: path });
    expect(await service.openWithDialog()).toEqual({
      path,
      name: 'mlp.ipynb',
      text: 'notebook text',
    });
    expect(recent.paths).toEqual([path]);
    expect(service.isGranted(path)).toBe(true);
    expect(menuUpdates()).toBe(1);
    expect(await setUp({ open: null }).service.openWithDialog()).toBeNull();
  });

  it('save over an opened file, and clear the recovery', async () => {
    const path = join(dir, 'mlp.ipynb');
    await writeFile(path, 'old');
    const { service, recovery } = setUp({ open: path });
    await service.openWithDialog();
    await service.autosave({ name: 'mlp.ipynb', text: 'unsaved' });
    expect(await recovery.pending()).not.toBeNull();
    expect(await service.save({ text: 'new', suggestedName: 'mlp.ipynb', path })).toEqual({
      path,
      name: 'mlp.ipynb',
    });
    expect(await readFile(path, 'utf8')).toBe('new');
    expect(await recovery.pending()).toBeNull();
    await service.autosave({ name: 'mlp.ipynb', text: 'unsaved again' });
    await service.discardRecovery();
    expect(await recovery.pending()).toBeNull();
  });

  it('refuse to write a path the user never chose', async () => {
    const target = join(dir, 'victim.txt');
    await writeFile(target, 'keep me');
    const { service } = setUp();
    await expect(
      service.save({ text: 'evil', suggestedName: 'a.ipynb', path: target }),
    ).rejects.toThrow(/not opened or saved in this session; use Save As/);
    expect(await readFile(target, 'utf8')).toBe('keep me');
  });

  it('save as where the dialog says, adding .ipynb when the name has no extension', async () => {
    const { service } = setUp({ save: join(dir, 'new-model') });
    const saved = await service.save({ text: 'nb', suggestedName: 'model.ipynb' });
    expect(saved).toEqual({ path: join(dir, 'new-model.ipynb'), name: 'new-model.ipynb' });
    expect(await readFile(join(dir, 'new-model.ipynb'), 'utf8')).toBe('nb');
    expect(service.isGranted(join(dir, 'new-model.ipynb'))).toBe(true);
    expect(await setUp({ save: null }).service.save({ text: 'x', suggestedName: 'a' })).toBeNull();
  });

  it('drop a recent file that no longer exists, saying so', async () => {
    const gone = join(dir, 'gone.ipynb');
    const { service, recent } = setUp();
    await recent.add(gone);
    await expect(service.openPath(gone)).rejects.toThrow(/no longer exists/);
    expect(recent.paths).toEqual([]);
  });

  it('refuse files far too large to be a notebook', async () => {
    const { service } = setUp();
    const big = join(dir, 'weights.json');
    await writeFile(big, '');
    await (await import('node:fs/promises')).truncate(big, MAX_OPEN_BYTES + 1);
    await expect(service.openPath(big)).rejects.toThrow(/Is it the right file/);
  });
});

describe('exports and imports in the desktop app', () => {
  const onnx = { description: 'ONNX model', extensions: ['.onnx'] };

  it('write export bytes atomically where the dialog says, adding the kind’s extension', async () => {
    const { service, recent } = setUp({ exported: join(dir, 'mlp') });
    const bytes = Uint8Array.from([8, 7, 0, 255, 1]);
    const saved = await service.exportBytes({ bytes, suggestedName: 'mlp.onnx', kind: onnx });
    expect(saved).toEqual({ path: join(dir, 'mlp.onnx'), name: 'mlp.onnx' });
    expect(Array.from(await readFile(join(dir, 'mlp.onnx')))).toEqual([8, 7, 0, 255, 1]);
    // An export is not a notebook: not recent, and Save may not write over it.
    expect(recent.paths).toEqual([]);
    expect(service.isGranted(join(dir, 'mlp.onnx'))).toBe(false);
    const cancelled = setUp({ exported: null }).service;
    expect(await cancelled.exportBytes({ bytes, suggestedName: 'a.onnx', kind: onnx })).toBeNull();
  });

  it('read the bytes of the model the user picks, or nothing when they cancel', async () => {
    const path = join(dir, 'model.onnx');
    await writeFile(path, Uint8Array.from([1, 2, 3]));
    const picked = await setUp({ open: path }).service.importBytes(onnx);
    expect(picked?.name).toBe('model.onnx');
    expect(Array.from(picked!.bytes)).toEqual([1, 2, 3]);
    expect(await setUp({ open: null }).service.importBytes(onnx)).toBeNull();
  });
});

describe('files from the command line', () => {
  it('are the first notebook or graph argument after the executable', () => {
    expect(notebookFromArgv(['/opt/wiregrad', '/home/u/a.ipynb'])).toBe('/home/u/a.ipynb');
    expect(notebookFromArgv(['/opt/wiregrad', '--flag', 'b.JSON'])).toBe('b.JSON');
    expect(notebookFromArgv(['/opt/wiregrad', '.', 'x.txt'])).toBeNull();
    expect(notebookFromArgv(['/opt/wiregrad.ipynb'])).toBeNull();
  });
});

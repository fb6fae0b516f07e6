import { afterEach, describe, expect, it, vi } from 'vitest';
import { createInProcessEngineClient } from '../../engine/worker/in-process.js';
import { Files } from '../app/files.js';
import type { Host, OpenedFile } from '../host/host.js';
import { emptyDocument } from '../state/document.js';
import { createEditor } from '../state/editor.js';
import { Training } from '../state/training.js';
import { dataEntryFor, readDataEntry, trainingDataKeeper, withDataEntry } from './data-entry.js';
import { serializeModel } from './model-file.js';

afterEach(() => {
  vi.useRealTimers();
});

const csv = { name: 'points.csv', text: 'x,y,label\n0.1,0.2,a\n0.3,0.1,b\n0.5,0.9,a\n' };

/** Files on a host that records saves and autosaves, with the Train form as the data keeper. */
async function harness(kind: Host['kind'] = 'desktop') {
  const saved: string[] = [];
  const autosaves: { text: string; unsaved: boolean | undefined }[] = [];
  const host: Host = {
    kind,
    openFile: () => Promise.resolve(null),
    saveFile: (text, name) => {
      saved.push(text);
      return Promise.resolve({ name, handle: `/${name}` });
    },
    loadAutosave: () => null,
    autosave: (text, unsaved) => void autosaves.push({ text, unsaved }),
  };
  const client = createInProcessEngineClient();
  const editor = createEditor({ client });
  await editor.whenReady();
  const training = new Training({ client, document: () => editor.doc });
  editor.onLoad(() => training.detach());
  const files = new Files(editor, host);
  files.attachData(trainingDataKeeper(training));
  const form = () => training.store.getState().form;
  const dirty = () => editor.document.getState().revision !== files.state.getState().savedRevision;
  return { files, editor, training, host, saved, autosaves, form, dirty };
}

/** Waits until `check` holds (the checksums are computed asynchronously). */
async function until(check: () => boolean): Promise<void> {
  await vi.waitFor(() => expect(check()).toBe(true), { timeout: 5000, interval: 5 });
}

describe('the uploaded CSV as part of the document', () => {
  it('is an unsaved edit, autosaved with the document, and saved in the notebook', async () => {
    const h = await harness();
    h.files.startAutosave(10);
    expect(h.dirty()).toBe(false);
    h.training.setForm({ csv, source: 'csv' });
    expect(h.dirty()).toBe(true);
    await until(() => h.autosaves.some((a) => a.text.includes('points.csv')));
    const autosaved = h.autosaves.at(-1)!;
    expect(autosaved.unsaved).toBe(true);
    expect(await readDataEntry(autosaved.text)).toEqual({
      kind: 'restored',
      data: { csv, source: 'csv' },
    });

    await h.files.save();
    expect(h.dirty()).toBe(false);
    expect(await readDataEntry(h.saved[0]!)).toEqual({
      kind: 'restored',
      data: { csv, source: 'csv' },
    });

    // Choosing the target column is an edit too.
    h.training.setForm({ csv: { ...csv, target: 'x' } });
    expect(h.dirty()).toBe(true);
    await h.files.save();
    const again = await readDataEntry(h.saved[1]!);
    expect(again.kind === 'restored' && again.data.csv?.target).toBe('x');
  });

  it('comes back when the notebook is opened, without counting as an edit', async () => {
    const h = await harness();
    const text = withDataEntry(
      serializeModel(emptyDocument('M')),
      await dataEntryFor({ csv, source: 'csv' }),
    );
    h.files.load({ name: 'm.ipynb', text, handle: '/m.ipynb' });
    await until(() => h.form().csv !== undefined);
    expect(h.form().csv).toEqual(csv);
    expect(h.form().source).toBe('csv');
    expect(h.dirty()).toBe(false);
    await until(() => /with its data \(points\.csv\)/.test(h.files.state.getState().message!));
    expect(h.files.state.getState().message).toBe('Opened m.ipynb with its data (points.csv)');
  });

  it('comes back beside the trained weights opened with the notebook', async () => {
    const h = await harness();
    h.files.attachWeights({
      weightsForSave: () => Promise.resolve(null),
      loadWeights: () => Promise.resolve(null),
      forgetWeights: () => {},
      watchSteps: () => () => {},
    });
    const text = withDataEntry(
      serializeModel(emptyDocument('M')),
      await dataEntryFor({ csv, source: 'csv' }),
    );
    h.files.load({
      name: 'm.ipynb',
      text,
      weights: { name: 'm.safetensors', bytes: new Uint8Array([1]) },
    });
    await until(() => /Data tab/.test(h.files.state.getState().message ?? ''));
    expect(h.files.state.getState().message).toBe(
      'Opened m.ipynb with its trained weights (m.safetensors); its data (points.csv) is back ' +
        'in the Data tab',
    );
    expect(h.form().csv).toEqual(csv);
  });

  it('is cleared by New and by opening a notebook without data; kept by a template', async () => {
    const h = await harness();
    h.training.setForm({ csv, source: 'csv' });
    h.editor.loadTemplate('mlp');
    expect(h.form().csv).toEqual(csv);

    h.files.newDocument();
    expect(h.form().csv).toBeUndefined();
    expect(h.form().source).toBe('builtin');
    expect(h.dirty()).toBe(false);

    h.training.setForm({ csv, source: 'csv' });
    h.files.load({ name: 'plain.ipynb', text: serializeModel(emptyDocument('P')) });
    await until(() => h.form().csv === undefined);
    expect(h.dirty()).toBe(false);
    expect(h.files.state.getState().message).toBe('Opened plain.ipynb');
  });

  it('opens a notebook with a damaged entry and names the problem', async () => {
    const h = await harness();
    const entry = (await dataEntryFor({ csv, source: 'csv' }))!;
    const text = withDataEntry(serializeModel(emptyDocument('Damaged')), {
      ...entry,
      csv: { ...entry.csv, text: `${csv.text}0.7,0.7,b\n` },
    });
    const opened: OpenedFile = { name: 'd.ipynb', text };
    h.files.load(opened);
    expect(h.editor.doc.graph.name).toBe('Damaged');
    await until(() => /was not restored/.test(h.files.state.getState().message ?? ''));
    expect(h.files.state.getState().message).toMatch(
      /^Opened d\.ipynb; its CSV was not restored: points\.csv does not match its saved size/,
    );
    expect(h.form().csv).toBeUndefined();
    // Also said where it is seen at once: the canvas's notice.
    expect(h.editor.ui.getState().notice?.text).toMatch(/^d\.ipynb: its CSV was not restored/);
  });

  it('says a CSV too large to keep must be uploaded again, on save and on open', async () => {
    const h = await harness();
    // 20 MB and a bit: over the cap, so only name, size and checksum are kept.
    const big = { name: 'big.csv', text: `a,b\n${'1,2\n'.repeat(5_300_000)}` };
    h.training.setForm({ csv: big, source: 'csv' });
    await h.files.save();
    expect(h.files.state.getState().message).toMatch(
      /^Saved [\w.-]+; its CSV big\.csv \(20\.2 MB\) is too large to keep in the notebook, so it must be uploaded again/,
    );
    const text = h.saved[0]!;
    expect(text.length).toBeLessThan(10_000);
    const h2 = await harness();
    h2.files.load({ name: 'big.ipynb', text });
    await until(() => /too large/.test(h2.files.state.getState().message ?? ''));
    expect(h2.files.state.getState().message).toBe(
      'Opened big.ipynb; its CSV big.csv (20.2 MB) was too large to keep in the notebook: ' +
        'upload it again in the Data tab',
    );
    expect(h2.form().csv).toBeUndefined();
  });

  it('keeps a large CSV out of the browser autosave (localStorage), but not out of the file', async () => {
    const h = await harness('web');
    h.files.startAutosave(10);
    const large = { name: 'large.csv', text: `a,b\n${'1,2\n'.repeat(300_000)}` };
    h.training.setForm({ csv: large, source: 'csv' });
    await until(() => h.autosaves.some((a) => a.text.includes('large.csv')));
    const autosaved = h.autosaves.at(-1)!.text;
    expect(autosaved.length).toBeLessThan(10_000);
    expect((await readDataEntry(autosaved)).kind).toBe('too-large');
    await h.files.save();
    expect(await readDataEntry(h.saved[0]!)).toEqual({
      kind: 'restored',
      data: { csv: large, source: 'csv' },
    });
  });

  it('restores the data of recovered work (a graph document) without it entering the graph', async () => {
    const h = await harness();
    h.training.setForm({ csv, source: 'builtin' });
    h.files.startAutosave(10);
    await until(() => h.autosaves.some((a) => a.text.includes('points.csv')));
    const recovery = h.autosaves.at(-1)!.text;

    const h2 = await harness();
    h2.files.load({ name: 'm.ipynb', text: recovery, recovered: true });
    await until(() => h2.form().csv !== undefined);
    expect(h2.form().csv).toEqual(csv);
    expect(h2.form().source).toBe('builtin');
    expect(h2.editor.doc.graph.meta?.data).toBeUndefined();
    await until(() => /Data tab/.test(h2.files.state.getState().message ?? ''));
    expect(h2.files.state.getState().message).toBe(
      'Recovered unsaved work of m.ipynb; save it to keep it; its data (points.csv) is back in ' +
        'the Data tab',
    );
    // Recovered work stays unsaved until it is saved.
    expect(h2.dirty()).toBe(true);
  });
});

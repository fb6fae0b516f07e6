import { afterEach, describe, expect, it, vi } from 'vitest';
import { createInProcessEngineClient } from '../../engine/worker/in-process.js';
import { Files, WEIGHTS_AUTOSAVE_MS, type WeightsKeeper } from '../app/files.js';
import type { Host } from '../host/host.js';
import { createEditor } from '../state/editor.js';
import { emptyDocument } from '../state/document.js';
import { serializeModel } from './model-file.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('autosave', () => {
  it('says whether the document differs from the file it was opened from or saved to', async () => {
    const autosaves: [string, boolean | undefined, (Uint8Array | null)?][] = [];
    const saved: string[] = [];
    const host: Host = {
      kind: 'desktop',
      openFile: () => Promise.resolve(null),
      saveFile: (text, name) => {
        saved.push(text);
        return Promise.resolve({ name });
      },
      loadAutosave: () => null,
      autosave: (text, unsaved, weights) =>
        void autosaves.push(weights === undefined ? [text, unsaved] : [text, unsaved, weights]),
    };
    const editor = createEditor({ client: createInProcessEngineClient() });
    await editor.whenReady();
    const files = new Files(editor, host);
    vi.useFakeTimers();
    files.startAutosave(100);

    const doc = {
      ...emptyDocument('M'),
      graph: {
        ...emptyDocument('M').graph,
        nodes: [{ id: 'a', op: 'relu', inputs: [''], attrs: {} }],
      },
      layout: { a: { x: 0, y: 0 } },
    };
    files.load({ name: 'm.ipynb', text: serializeModel(doc), handle: '/m.ipynb' });
    // Opening drops weights kept for the document before (null), then autosaves the new one.
    expect(autosaves.map(([, unsaved, weights]) => [unsaved, weights])).toEqual([[false, null]]);
    vi.advanceTimersByTime(150);
    expect(autosaves.map(([, unsaved]) => unsaved)).toEqual([false, false]);

    editor.moveNodes({ a: { x: 50, y: 0 } });
    vi.advanceTimersByTime(150);
    expect(autosaves.map(([, unsaved]) => unsaved)).toEqual([false, false, true]);

    await files.save();
    expect(saved).toHaveLength(1);
    editor.moveNodes({ a: { x: 60, y: 0 } });
    vi.advanceTimersByTime(150);
    expect(autosaves.at(-1)?.[1]).toBe(true);
  });

  it('keeps recovered work unsaved, with its recovery copy, until it is saved', async () => {
    const autosaves: [boolean | undefined, (Uint8Array | null)?][] = [];
    const host: Host = {
      kind: 'desktop',
      openFile: () => Promise.resolve(null),
      saveFile: (_text, name) => Promise.resolve({ name }),
      loadAutosave: () => null,
      autosave: (_text, unsaved, weights) =>
        void autosaves.push(weights === undefined ? [unsaved] : [unsaved, weights]),
    };
    const editor = createEditor({ client: createInProcessEngineClient() });
    await editor.whenReady();
    const files = new Files(editor, host);
    vi.useFakeTimers();
    files.startAutosave(100);
    files.load({ name: 'm.ipynb', text: serializeModel(emptyDocument('M')), recovered: true });
    expect(files.state.getState().message).toMatch(/^Recovered unsaved work of m\.ipynb/);
    vi.advanceTimersByTime(150);
    // No clearing autosave (which would drop the recovery copy); the work autosaves as unsaved.
    expect(autosaves).toEqual([[true]]);
    await files.save();
    expect(files.state.getState().savedRevision).toBe(editor.document.getState().revision);
  });

  it('keeps the trained weights with the work: when training pauses, and every 30 s while it runs', async () => {
    const autosaves: { unsaved: boolean | undefined; weights: Uint8Array | null | undefined }[] =
      [];
    const host: Host = {
      kind: 'desktop',
      openFile: () => Promise.resolve(null),
      saveFile: (_text, name, _target, weights) =>
        Promise.resolve({ name, ...(weights ? { weightsName: 'm.safetensors' } : {}) }),
      loadAutosave: () => null,
      autosave: (_text, unsaved, weights) => void autosaves.push({ unsaved, weights }),
    };
    let listener: ((step: number, running: boolean) => void) | null = null;
    let step = 0;
    const keeper: WeightsKeeper = {
      weightsForSave: () =>
        Promise.resolve(step > 0 ? { bytes: new Uint8Array([step]), step } : null),
      loadWeights: () => Promise.resolve(null),
      forgetWeights: () => {},
      watchSteps: (l) => {
        listener = l;
        return () => (listener = null);
      },
    };
    const editor = createEditor({ client: createInProcessEngineClient() });
    await editor.whenReady();
    const files = new Files(editor, host);
    files.attachWeights(keeper);
    vi.useFakeTimers();
    files.startAutosave(100);
    const reach = async (s: number, running: boolean): Promise<void> => {
      step = s;
      listener!(s, running);
      await vi.advanceTimersByTimeAsync(0);
    };

    await reach(1, true); // the first step while running: autosaved at once
    await reach(2, true); // within 30 s: not yet
    expect(autosaves.map((a) => a.weights)).toEqual([new Uint8Array([1])]);
    await vi.advanceTimersByTimeAsync(WEIGHTS_AUTOSAVE_MS);
    await reach(3, true);
    await reach(4, false); // paused: at once
    expect(autosaves.map((a) => a.weights)).toEqual([
      new Uint8Array([1]),
      new Uint8Array([3]),
      new Uint8Array([4]),
    ]);
    expect(autosaves.every((a) => a.unsaved)).toBe(true);
  });
});

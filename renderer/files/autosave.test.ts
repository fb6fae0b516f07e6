import { afterEach, describe, expect, it, vi } from 'vitest';
import { createInProcessEngineClient } from '../../engine/worker/in-process.js';
import { Files } from '../app/files.js';
import type { Host } from '../host/host.js';
import { createEditor } from '../state/editor.js';
import { emptyDocument } from '../state/document.js';
import { serializeModel } from './model-file.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('autosave', () => {
  it('says whether the document differs from the file it was opened from or saved to', async () => {
    const autosaves: [string, boolean | undefined][] = [];
    const saved: string[] = [];
    const host: Host = {
      kind: 'desktop',
      openFile: () => Promise.resolve(null),
      saveFile: (text, name) => {
        saved.push(text);
        return Promise.resolve({ name });
      },
      loadAutosave: () => null,
      autosave: (text, unsaved) => void autosaves.push([text, unsaved]),
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
    vi.advanceTimersByTime(150);
    expect(autosaves.map(([, unsaved]) => unsaved)).toEqual([false]);

    editor.moveNodes({ a: { x: 50, y: 0 } });
    vi.advanceTimersByTime(150);
    expect(autosaves.map(([, unsaved]) => unsaved)).toEqual([false, true]);

    await files.save();
    expect(saved).toHaveLength(1);
    editor.moveNodes({ a: { x: 60, y: 0 } });
    vi.advanceTimersByTime(150);
    expect(autosaves.at(-1)?.[1]).toBe(true);
  });
});

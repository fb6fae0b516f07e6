import { describe, expect, it } from 'vitest';
import { type DesktopBridge, createDesktopHost, desktopBridge } from './desktop.js';
import type { HostCommand } from './host.js';

interface Call {
  channel: string;
  args: unknown[];
}

/** A bridge that records calls and answers from a table, as main would. */
function fakeBridge(answers: Record<string, unknown> = {}): {
  bridge: DesktopBridge;
  calls: Call[];
  emit: (channel: string, payload: unknown) => void;
} {
  const calls: Call[] = [];
  const listeners = new Map<string, Set<(payload: unknown) => void>>();
  const bridge = {
    version: '1.0.0',
    platform: 'linux',
    invoke: (channel: string, ...args: unknown[]) => {
      calls.push({ channel, args });
      return Promise.resolve(answers[channel] ?? null);
    },
    on: (channel: string, listener: (payload: unknown) => void) => {
      if (!listeners.has(channel)) listeners.set(channel, new Set());
      listeners.get(channel)!.add(listener);
      return () => void listeners.get(channel)!.delete(listener);
    },
  } as unknown as DesktopBridge;
  const emit = (channel: string, payload: unknown): void => {
    for (const listener of listeners.get(channel) ?? []) listener(payload);
  };
  return { bridge, calls, emit };
}

describe('the desktop host', () => {
  it('opens through main, keeping the path as the handle', async () => {
    const { bridge } = fakeBridge({
      'file:open': { path: '/m/a.ipynb', name: 'a.ipynb', text: 'nb' },
    });
    const host = createDesktopHost(bridge);
    expect(host.kind).toBe('desktop');
    expect(await host.openFile()).toEqual({ name: 'a.ipynb', text: 'nb', handle: '/m/a.ipynb' });
  });

  it('saves over the file it came from, or asks main for a dialog', async () => {
    const { bridge, calls } = fakeBridge({ 'file:save': { path: '/m/b.ipynb', name: 'b.ipynb' } });
    const host = createDesktopHost(bridge);
    expect(await host.saveFile('nb', 'b.ipynb', { name: 'b.ipynb', handle: '/m/b.ipynb' })).toEqual(
      { name: 'b.ipynb', handle: '/m/b.ipynb' },
    );
    await host.saveFile('nb', 'c.ipynb');
    expect(calls.map((c) => c.args[0])).toEqual([
      { text: 'nb', suggestedName: 'b.ipynb', path: '/m/b.ipynb' },
      { text: 'nb', suggestedName: 'c.ipynb' },
    ]);
  });

  it('passes trained weights both ways: beside the notebook on save, with it on open', async () => {
    const bytes = new Uint8Array([7, 7]);
    const { bridge, calls } = fakeBridge({
      'file:save': { path: '/m/d.ipynb', name: 'd.ipynb', weightsName: 'd.safetensors' },
      'file:open': {
        path: '/m/d.ipynb',
        name: 'd.ipynb',
        text: 'nb',
        weights: { name: 'd.safetensors', bytes },
      },
    });
    const host = createDesktopHost(bridge);
    expect(await host.saveFile('plain', 'd.ipynb', undefined, { bytes, text: 'ref' })).toEqual({
      name: 'd.ipynb',
      handle: '/m/d.ipynb',
      weightsName: 'd.safetensors',
    });
    expect(calls[0]!.args[0]).toEqual({
      text: 'plain',
      suggestedName: 'd.ipynb',
      weights: { bytes, text: 'ref' },
    });
    expect((await host.openFile())?.weights).toEqual({ name: 'd.safetensors', bytes });
  });

  it('autosaves to main under the current file name and restores nothing itself', async () => {
    const { bridge, calls } = fakeBridge({
      'file:open': { path: '/m/a.ipynb', name: 'a.ipynb', text: 'nb' },
    });
    const host = createDesktopHost(bridge);
    expect(host.loadAutosave()).toBeNull();
    host.autosave('draft 1');
    await host.openFile();
    host.autosave('as opened', false);
    host.autosave('draft 2', true);
    const recovery = calls.filter((c) => c.channel.startsWith('recovery:'));
    expect(recovery).toEqual([
      { channel: 'recovery:autosave', args: [{ text: 'draft 1', name: 'Untitled model.ipynb' }] },
      { channel: 'recovery:clear', args: [] },
      { channel: 'recovery:autosave', args: [{ text: 'draft 2', name: 'a.ipynb' }] },
    ]);
  });

  it('takes waiting documents when ready; recovered work has no handle and says so', async () => {
    const { bridge } = fakeBridge({
      'app:ready': [
        { path: null, name: 'a.ipynb', text: 'recovered' },
        { path: '/m/b.ipynb', name: 'b.ipynb', text: 'from argv' },
      ],
    });
    expect(await createDesktopHost(bridge).ready!()).toEqual([
      { name: 'a.ipynb', text: 'recovered', recovered: true },
      { name: 'b.ipynb', text: 'from argv', handle: '/m/b.ipynb' },
    ]);
  });

  it('passes on menu commands it knows and files opened from outside', () => {
    const { bridge, emit } = fakeBridge();
    const host = createDesktopHost(bridge);
    const commands: HostCommand[] = [];
    const files: unknown[] = [];
    const stop = host.onCommand!((command) => commands.push(command));
    host.onOpenFile!((file) => files.push(file));
    emit('menu:command', 'save');
    emit('menu:command', 'formatDisk');
    emit('file:opened', { path: '/m/r.ipynb', name: 'r.ipynb', text: 't' });
    stop();
    emit('menu:command', 'undo');
    expect(commands).toEqual(['save']);
    expect(files).toEqual([{ name: 'r.ipynb', text: 't', handle: '/m/r.ipynb' }]);
  });

  it('is chosen only where the preload set the bridge', () => {
    const { bridge } = fakeBridge();
    expect(desktopBridge({ wiregrad: bridge } as unknown as Window)).toBe(bridge);
    expect(desktopBridge({} as unknown as Window)).toBeNull();
  });
});

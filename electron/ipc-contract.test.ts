import { describe, expect, it, vi } from 'vitest';
import { type IpcRendererLike, createBridge } from './bridge.js';
import { EVENT_CHANNELS, INVOKE_CHANNELS, MAX_TEXT_BYTES, VALIDATE_ARGS } from './ipc-contract.js';

describe('IPC argument validation', () => {
  const save = VALIDATE_ARGS['file:save'];
  const autosave = VALIDATE_ARGS['recovery:autosave'];

  it('passes well-formed arguments through', () => {
    expect(save([{ text: 'x', suggestedName: 'm.ipynb' }])).toEqual({
      text: 'x',
      suggestedName: 'm.ipynb',
    });
    expect(save([{ text: 'x', suggestedName: 'm.ipynb', path: '/home/u/m.ipynb' }])).toEqual({
      text: 'x',
      suggestedName: 'm.ipynb',
      path: '/home/u/m.ipynb',
    });
    const bytes = new Uint8Array([1, 2]);
    expect(save([{ text: 'x', suggestedName: 'm.ipynb', weights: { bytes, text: 'y' } }])).toEqual({
      text: 'x',
      suggestedName: 'm.ipynb',
      weights: { bytes, text: 'y' },
    });
    expect(autosave([{ text: 'x', name: 'Untitled' }])).toEqual({ text: 'x', name: 'Untitled' });
    expect(autosave([{ text: 'x', name: 'U', weights: null }])).toEqual({
      text: 'x',
      name: 'U',
      weights: null,
    });
    expect(() => autosave([{ text: 'x', name: 'U', weights: [1] }])).toThrow(
      /'weights' must be null/,
    );
    expect(VALIDATE_ARGS['file:open']([])).toBeUndefined();
    expect(VALIDATE_ARGS['app:ready']([])).toBeUndefined();
  });

  it('rejects wrong shapes, types, extra fields and extra arguments', () => {
    expect(() => save([])).toThrow(/expects an object/);
    expect(() => save(['text'])).toThrow(/expects an object/);
    expect(() => save([{ text: 'x', suggestedName: 'm' }, 2])).toThrow(/takes one argument/);
    expect(() => save([{ text: 3, suggestedName: 'm' }])).toThrow(/'text' must be a string/);
    expect(() => save([{ text: 'x', suggestedName: 'm', mode: 0o777 }])).toThrow(
      /unexpected field 'mode'/,
    );
    expect(() => save([{ text: 'x', suggestedName: 'm', path: 7 }])).toThrow(/'path'/);
    expect(() => save([{ text: 'x', suggestedName: 'm', path: '/a\0b' }])).toThrow(/'path'/);
    expect(() => VALIDATE_ARGS['file:open'](['x'])).toThrow(/takes no arguments/);
    expect(() => save([{ text: 'x', suggestedName: 'm', weights: [1, 2] }])).toThrow(
      /'weights' must be an object/,
    );
    expect(() =>
      save([{ text: 'x', suggestedName: 'm', weights: { bytes: 'AAEC', text: 'y' } }]),
    ).toThrow(/'weights.bytes' must be a Uint8Array/);
    expect(() =>
      save([
        {
          text: 'x',
          suggestedName: 'm',
          weights: { bytes: new Uint8Array(1), text: 'y', path: '/x' },
        },
      ]),
    ).toThrow(/unexpected field 'path'/);
  });

  it('takes suggested names as names, never paths', () => {
    expect(() => save([{ text: 'x', suggestedName: '../../.bashrc' }])).toThrow(/not a path/);
    expect(() => save([{ text: 'x', suggestedName: 'C:\\x' }])).toThrow(/not a path/);
    expect(() => save([{ text: 'x', suggestedName: '' }])).toThrow(/1-255/);
    expect(() => autosave([{ text: 'x', name: 'a'.repeat(256) }])).toThrow(/1-255/);
  });

  it('checks exports and imports: bytes, a name, and a kind of file', () => {
    const exp = VALIDATE_ARGS['file:export'];
    const imp = VALIDATE_ARGS['file:import'];
    const kind = { description: 'ONNX model', extensions: ['.onnx'] };
    const bytes = Uint8Array.from([1, 2]);
    expect(exp([{ bytes, suggestedName: 'm.onnx', kind }])).toEqual({
      bytes,
      suggestedName: 'm.onnx',
      kind,
    });
    expect(imp([kind])).toEqual(kind);
    expect(() => exp([{ bytes: [1, 2], suggestedName: 'm.onnx', kind }])).toThrow(/Uint8Array/);
    expect(() => exp([{ bytes, suggestedName: '../m.onnx', kind }])).toThrow(/not a path/);
    expect(() => imp([{ description: 'x', extensions: ['onnx'] }])).toThrow(/like '.onnx'/);
    expect(() => imp([{ description: 'x', extensions: ['.onnx/../a'] }])).toThrow(/like '.onnx'/);
    expect(() => imp([{ description: 'x', extensions: [] }])).toThrow(/1 to 8/);
    expect(() => imp([{ description: 'x', extensions: ['.a'], run: true }])).toThrow(
      /unexpected field 'run'/,
    );
  });

  it('caps the document size', () => {
    const huge = { length: MAX_TEXT_BYTES + 1 } as unknown as string;
    expect(() => autosave([{ text: huge, name: 'a' }])).toThrow(/'text'/);
  });
});

describe('the preload bridge', () => {
  function fakeIpc(): IpcRendererLike & {
    listeners: Map<string, Set<(event: unknown, ...args: unknown[]) => void>>;
  } {
    const listeners = new Map<string, Set<(event: unknown, ...args: unknown[]) => void>>();
    return {
      listeners,
      invoke: vi.fn((channel: string) => Promise.resolve(`answer from ${channel}`)),
      on: (channel, listener) => {
        if (!listeners.has(channel)) listeners.set(channel, new Set());
        listeners.get(channel)!.add(listener);
      },
      removeListener: (channel, listener) => void listeners.get(channel)?.delete(listener),
    };
  }

  it('is frozen and carries the version and platform', () => {
    const bridge = createBridge(fakeIpc(), '1.2.3', 'linux');
    expect(Object.isFrozen(bridge)).toBe(true);
    expect(bridge.version).toBe('1.2.3');
    expect(bridge.platform).toBe('linux');
  });

  it('invokes only contract channels', async () => {
    const ipc = fakeIpc();
    const bridge = createBridge(ipc, '1', 'linux');
    for (const channel of INVOKE_CHANNELS) expect(typeof channel).toBe('string');
    await expect(bridge.invoke('file:open')).resolves.toBe('answer from file:open');
    const loose = bridge.invoke as unknown as (channel: string) => Promise<unknown>;
    await expect(loose('shell:exec')).rejects.toThrow(/unknown IPC channel 'shell:exec'/);
    expect(ipc.invoke).toHaveBeenCalledTimes(1);
  });

  it('passes event payloads without the Electron event, and unsubscribes', () => {
    const ipc = fakeIpc();
    const bridge = createBridge(ipc, '1', 'linux');
    const seen: unknown[] = [];
    const stop = bridge.on('menu:command', (command) => seen.push(command));
    const sender = { sender: 'secret' };
    for (const listener of ipc.listeners.get('menu:command')!) listener(sender, 'save');
    expect(seen).toEqual(['save']);
    stop();
    expect(ipc.listeners.get('menu:command')!.size).toBe(0);
    const loose = bridge.on as unknown as (channel: string, listener: () => void) => void;
    expect(() => loose('ipc:anything', () => undefined)).toThrow(/unknown IPC event/);
    expect(EVENT_CHANNELS).toContain('file:opened');
  });
});

/**
 * The renderer may not import electron/ (the layer rules), so renderer/host restates the IPC
 * contract's menu commands and channel names; these tests keep the two copies equal.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EVENT_CHANNELS, INVOKE_CHANNELS, MENU_COMMANDS } from './ipc-contract.js';

const read = (path: string): string => readFileSync(new URL(path, import.meta.url), 'utf8');

describe('the renderer and the IPC contract', () => {
  it('name the same menu commands', () => {
    const block = /HOST_COMMANDS = \[([^\]]*)\]/.exec(read('../renderer/host/host.ts'))?.[1] ?? '';
    const hostCommands = [...block.matchAll(/'([^']+)'/g)].map((m) => m[1]);
    expect(hostCommands).toEqual([...MENU_COMMANDS]);
  });

  it('use the same channels', () => {
    const desktop = read('../renderer/host/desktop.ts');
    const used = new Set([...desktop.matchAll(/channel: '([^']+)'/g)].map((m) => m[1]));
    expect(used).toEqual(new Set([...INVOKE_CHANNELS, ...EVENT_CHANNELS]));
  });
});

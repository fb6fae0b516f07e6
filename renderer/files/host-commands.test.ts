import { describe, expect, it } from 'vitest';
import type { Files } from '../app/files.js';
import { HOST_COMMANDS, type HostCommand } from '../host/host.js';
import type { Editor } from '../state/editor.js';
import { HOST_COMMAND_EVENT, performHostCommand } from './host-commands.js';

describe('menu commands in the page', () => {
  function run(command: HostCommand): { calls: string[]; announced: unknown[] } {
    const calls: string[] = [];
    const editor = {
      undo: () => calls.push('undo') > 0,
      redo: () => calls.push('redo') > 0,
    } as unknown as Editor;
    const files = {
      newDocument: () => void calls.push('new'),
      open: () => Promise.resolve(void calls.push('open')),
      save: (as?: boolean) => Promise.resolve(void calls.push(as ? 'saveAs' : 'save')),
    } as unknown as Files;
    const events = new EventTarget();
    const announced: unknown[] = [];
    events.addEventListener(HOST_COMMAND_EVENT, (e) => announced.push((e as CustomEvent).detail));
    performHostCommand(command, { editor, files, events });
    return { calls, announced };
  }

  it('act on files and history directly', () => {
    for (const command of ['new', 'open', 'save', 'saveAs', 'undo', 'redo'] as const)
      expect(run(command)).toEqual({ calls: [command], announced: [] });
  });

  it('announce view, run and export commands to the components', () => {
    for (const command of HOST_COMMANDS.filter(
      (c) => !['new', 'open', 'save', 'saveAs', 'undo', 'redo'].includes(c),
    ))
      expect(run(command)).toEqual({ calls: [], announced: [command] });
  });
});

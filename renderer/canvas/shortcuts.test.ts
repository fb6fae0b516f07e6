import { describe, expect, it } from 'vitest';
import { ACTIONS } from '../app/actions.js';
import {
  BOX_SELECT_KEY,
  MULTI_SELECT_KEYS,
  POINTER_GESTURES,
  describeKey,
  pointerGestureEntries,
  shortcutEntries,
} from './shortcuts.js';

interface Probe {
  readonly key: string;
  readonly code: string;
  readonly ctrlKey: boolean;
  readonly metaKey: boolean;
  readonly shiftKey: boolean;
  readonly altKey: boolean;
  readonly target: null;
}

/** What a US keyboard types for a key with and without Shift. */
const KEYS: readonly (readonly [code: string, plain: string, shifted: string])[] = [
  ...'abcdefghijklmnopqrstuvwxyz'
    .split('')
    .map((c) => [`Key${c.toUpperCase()}`, c, c.toUpperCase()] as const),
  ...'0123456789'.split('').map((d, i) => [`Digit${d}`, d, ')!@#$%^&*('[i]!] as const),
  ['Equal', '=', '+'],
  ['Minus', '-', '_'],
  ['Slash', '/', '?'],
  ['Delete', 'Delete', 'Delete'],
  ['Backspace', 'Backspace', 'Backspace'],
  ['Escape', 'Escape', 'Escape'],
  ['Enter', 'Enter', 'Enter'],
  ['Space', ' ', ' '],
  ...Array.from({ length: 12 }, (_, i) => [`F${i + 1}`, `F${i + 1}`, `F${i + 1}`] as const),
];

function probes(): Probe[] {
  const out: Probe[] = [];
  for (const [code, plain, shifted] of KEYS)
    for (const ctrlKey of [false, true])
      for (const shiftKey of [false, true])
        out.push({
          key: shiftKey ? shifted : plain,
          code,
          ctrlKey,
          metaKey: false,
          shiftKey,
          altKey: false,
          target: null,
        });
  return out;
}

/** The action the key handler would run for an event (the first whose matcher accepts it). */
function handlerFor(probe: Probe): string | undefined {
  const event = probe as unknown as KeyboardEvent;
  return ACTIONS.find((a) => a.matches?.(event, probe.ctrlKey))?.name;
}

/** A key event for a listed shortcut such as "Ctrl+Shift+Z", "Shift+1", "?" or "F1". */
function eventFor(shortcut: string): Probe {
  const parts = shortcut === 'Ctrl++' ? ['Ctrl', '+'] : shortcut.split('+');
  const name = parts[parts.length - 1]!;
  const ctrlKey = parts.includes('Ctrl');
  const entry = KEYS.find(([, plain, shifted]) =>
    [plain.toUpperCase(), shifted.toUpperCase()].includes(name.toUpperCase()),
  )!;
  const shiftKey = parts.includes('Shift') || (entry[2] === name && entry[1] !== name);
  return {
    key: shiftKey ? entry[2] : entry[1],
    code: entry[0],
    ctrlKey,
    metaKey: false,
    shiftKey: shiftKey && !/^[a-z]$/.test(entry[1]) ? shiftKey : parts.includes('Shift'),
    altKey: false,
    target: null,
  };
}

describe('the keyboard shortcuts panel', () => {
  const entries = shortcutEntries();

  it('lists every action that has a key, with a label', () => {
    const keyed = ACTIONS.filter((a) => a.matches).map((a) => a.name);
    expect(entries.map((e) => e.name)).toEqual(keyed);
    for (const e of entries) {
      expect(e.label).not.toBe('');
      expect(e.keys.length).toBeGreaterThan(0);
    }
    expect(entries.map((e) => e.name)).toEqual(
      expect.arrayContaining(['group', 'ungroup', 'cut', 'copy', 'paste', 'tidy', 'help']),
    );
  });

  it('lists only keys that run the action they are listed for', () => {
    for (const e of entries)
      for (const k of e.keys) expect(handlerFor(eventFor(k)), `${k} for ${e.name}`).toBe(e.name);
  });

  it('lists every key the handler acts on (no shortcut missing from the panel)', () => {
    const listed = new Map(entries.map((e) => [e.name, new Set(e.keys)]));
    let handled = 0;
    for (const probe of probes()) {
      const action = handlerFor(probe);
      if (action === undefined) continue;
      handled++;
      expect(listed.get(action)?.has(describeKey(probe)), `${describeKey(probe)} → ${action}`).toBe(
        true,
      );
    }
    expect(handled).toBeGreaterThan(20);
  });

  it('writes keys the Mac way on a Mac', () => {
    const undo = shortcutEntries(true).find((e) => e.name === 'redo')!;
    expect(undo.keys[0]).toBe('⌘⇧Z');
  });
});

describe('pointer gestures', () => {
  it('lists every key that adds a clicked node to the selection', () => {
    const add = POINTER_GESTURES.find((g) => g.name === 'add-to-selection')!;
    expect(add.keys).toContain('Shift+click');
    // Meta is the Mac's Ctrl: listed as Ctrl and shown as ⌘ there.
    for (const k of MULTI_SELECT_KEYS)
      expect(add.keys).toContain(`${k === 'Meta' || k === 'Control' ? 'Ctrl' : k}+click`);
    const box = POINTER_GESTURES.find((g) => g.name === 'box-select')!;
    expect(box.keys).toEqual([`${BOX_SELECT_KEY}+drag`]);
  });

  it('names the keys as the platform does', () => {
    const mac = pointerGestureEntries(true).find((g) => g.name === 'add-to-selection')!;
    expect(mac.keys).toEqual(['⇧click', '⌘click']);
  });
});

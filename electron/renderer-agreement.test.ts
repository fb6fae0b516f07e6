/**
 * The renderer may not import electron/ (the layer rules), so renderer/host restates the IPC
 * contract's menu commands and channel names; these tests keep the two copies equal.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  EVENT_CHANNELS,
  INVOKE_CHANNELS,
  MENU_COMMANDS,
  type MenuCommand,
} from './ipc-contract.js';
import { type MenuItemTemplate, buildMenuTemplate } from './menu.js';

const read = (path: string): string => readFileSync(new URL(path, import.meta.url), 'utf8');

describe('the renderer and the IPC contract', () => {
  it('name the same menu commands', () => {
    const block = /HOST_COMMANDS = \[([^\]]*)\]/.exec(read('../renderer/host/host.ts'))?.[1] ?? '';
    const hostCommands = [...block.matchAll(/'([^']+)'/g)].map((m) => m[1]);
    expect(hostCommands).toEqual([...MENU_COMMANDS]);
  });

  it("show each menu item's key only where the page's action for its command has that key", () => {
    // renderer/canvas/menu-commands.ts: `command: 'action',` lines of MENU_ACTIONS.
    const menuActions =
      /MENU_ACTIONS[^{]*\{([^}]*)\}/.exec(read('../renderer/canvas/menu-commands.ts'))?.[1] ?? '';
    const actionOf = new Map(
      [...menuActions.matchAll(/(\w+): '([^']+)'/g)].map((m) => [m[1]!, m[2]!] as const),
    );
    // renderer/app/actions.ts: each action's name, shortcut and other shortcuts.
    const keysOf = new Map<string, string[]>();
    for (const m of read('../renderer/app/actions.ts').matchAll(
      /name: '([^']+)',\s*label: '[^']*',\s*shortcut: '([^']+)',(?:\s*alsoShortcuts: \[([^\]]*)\],)?/g,
    ))
      keysOf.set(m[1]!, [m[2]!, ...[...(m[3] ?? '').matchAll(/'([^']+)'/g)].map((k) => k[1]!)]);
    expect(keysOf.get('redo')).toEqual(['Ctrl+Shift+Z', 'Ctrl+Y']);

    // An accelerator in the page's notation: Ctrl, then Shift, then the key.
    const pageKey = (accelerator: string): string => {
      const parts = accelerator.split('+');
      const key = parts.pop()!;
      const mods = parts.map((p) => (p === 'CmdOrCtrl' ? 'Ctrl' : p));
      return [...['Ctrl', 'Shift'].filter((m) => mods.includes(m)), key].join('+');
    };
    const items = (menu: readonly MenuItemTemplate[]): MenuItemTemplate[] =>
      menu.flatMap((item) => [item, ...items(item.submenu ?? [])]);
    let checked = 0;
    for (const platform of ['linux', 'win32', 'darwin']) {
      let sent: MenuCommand | null = null;
      const menu = buildMenuTemplate({
        platform,
        recentFiles: [],
        isDevelopment: false,
        sendCommand: (command) => void (sent = command),
        openRecent: () => undefined,
        clearRecent: () => undefined,
      });
      for (const item of items(menu)) {
        if (item.accelerator === undefined || item.role) continue;
        sent = null;
        item.click!();
        const action = actionOf.get(sent ?? '');
        expect(action, `${item.label}`).toBeDefined();
        expect(keysOf.get(action!), `${item.label} on ${platform}`).toContain(
          pageKey(item.accelerator),
        );
        checked++;
      }
    }
    // Every keyed command item on three platforms (New … Keyboard Shortcuts).
    expect(checked).toBe(3 * 16);
  });

  it('use the same channels', () => {
    const desktop = read('../renderer/host/desktop.ts');
    const used = new Set([...desktop.matchAll(/channel: '([^']+)'/g)].map((m) => m[1]));
    expect(used).toEqual(new Set([...INVOKE_CHANNELS, ...EVENT_CHANNELS]));
  });
});

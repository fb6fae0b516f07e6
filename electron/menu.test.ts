import { describe, expect, it } from 'vitest';
import { MENU_COMMANDS, type MenuCommand } from './ipc-contract.js';
import { type MenuInput, type MenuItemTemplate, buildMenuTemplate } from './menu.js';

function setUp(overrides: Partial<MenuInput> = {}): {
  menu: MenuItemTemplate[];
  sent: MenuCommand[];
  opened: string[];
} {
  const sent: MenuCommand[] = [];
  const opened: string[] = [];
  const menu = buildMenuTemplate({
    platform: 'linux',
    recentFiles: [],
    isDevelopment: false,
    sendCommand: (command) => void sent.push(command),
    openRecent: (path) => void opened.push(path),
    clearRecent: () => undefined,
    ...overrides,
  });
  return { menu, sent, opened };
}

function items(menu: readonly MenuItemTemplate[]): MenuItemTemplate[] {
  return menu.flatMap((item) => [item, ...items(item.submenu ?? [])]);
}

function find(menu: readonly MenuItemTemplate[], label: string): MenuItemTemplate {
  const item = items(menu).find((i) => i.label === label);
  if (!item) throw new Error(`no menu item '${label}'`);
  return item;
}

describe('the application menu', () => {
  it('has File, Edit, View and Run', () => {
    expect(setUp().menu.map((m) => m.label)).toEqual(['&File', '&Edit', '&View', '&Run']);
    const mac = setUp({ platform: 'darwin' }).menu;
    expect(mac[0]?.role).toBe('appMenu');
    expect(mac.at(-1)?.role).toBe('windowMenu');
  });

  it('sends each command to the renderer, and every command has an item', () => {
    const { menu, sent } = setUp();
    for (const item of items(menu)) if (item.label !== 'Open Recent') item.click?.();
    expect(new Set(sent)).toEqual(new Set(MENU_COMMANDS));
    sent.length = 0;
    find(menu, 'Save As…').click!();
    find(menu, 'Undo').click!();
    expect(sent).toEqual(['saveAs', 'undo']);
  });

  it('leaves keys the page handles itself to the page', () => {
    const { menu } = setUp();
    for (const label of ['New', 'Open…', 'Save', 'Undo', 'Redo'])
      expect(find(menu, label).registerAccelerator, label).toBe(false);
    expect(find(menu, 'Save As…').registerAccelerator).toBeUndefined();
    expect(find(menu, 'Run').accelerator).toBe('F5');
  });

  it('uses roles for cut, copy and paste, so text fields keep them', () => {
    const roles = items(setUp().menu).map((i) => i.role);
    expect(roles).toEqual(expect.arrayContaining(['cut', 'copy', 'paste', 'selectAll']));
  });

  it('lists recent files by name and opens them by path', () => {
    const { menu, opened } = setUp({ recentFiles: ['/m/a.ipynb', '/n/b.ipynb'] });
    const recent = find(menu, 'Open Recent').submenu!;
    expect(recent.map((i) => i.label)).toEqual(['a.ipynb', 'b.ipynb', undefined, 'Clear Recent']);
    recent[1]!.click!();
    expect(opened).toEqual(['/n/b.ipynb']);
    const empty = find(setUp().menu, 'Open Recent').submenu!;
    expect(empty).toEqual([{ label: 'No recent files', enabled: false }]);
  });

  it('offers developer tools only in development', () => {
    expect(items(setUp().menu).some((i) => i.role === 'toggleDevTools')).toBe(false);
    expect(
      items(setUp({ isDevelopment: true }).menu).some((i) => i.role === 'toggleDevTools'),
    ).toBe(true);
  });
});

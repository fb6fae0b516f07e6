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

  it('shows the keys of command items but leaves them to the page', () => {
    for (const platform of ['linux', 'win32', 'darwin']) {
      const recent = ['/m/a.ipynb'];
      const commands = items(setUp({ platform, recentFiles: recent }).menu).filter(
        (i) => i.click && !i.role,
      );
      const keyed = commands.filter((i) => i.accelerator !== undefined);
      // Recent files and Clear Recent have no key; the commands do.
      expect(keyed.map((i) => i.label)).toEqual(
        expect.arrayContaining(['New', 'Undo', 'Group', 'Auto Layout', 'Run']),
      );
      for (const item of keyed) expect(item.registerAccelerator, item.label).toBe(false);
    }
    const { menu } = setUp();
    expect(find(menu, 'Save As…')).toMatchObject({
      accelerator: 'CmdOrCtrl+Shift+S',
      registerAccelerator: false,
    });
    expect(find(menu, 'Run').accelerator).toBe('F5');
    // The clipboard roles keep their own registered keys (text fields need them).
    for (const item of items(menu).filter((i) => i.role))
      expect(item.registerAccelerator, item.role).toBeUndefined();
  });

  it('offers Group and Ungroup in Edit, Auto Layout and Keyboard Shortcuts in View', () => {
    const { menu, sent } = setUp();
    const submenu = (label: string) => menu.find((m) => m.label === label)!.submenu!;
    const edit = submenu('&Edit');
    expect(edit.map((i) => i.label ?? i.role ?? i.type).slice(-3)).toEqual([
      'separator',
      'Group',
      'Ungroup',
    ]);
    expect(find(edit, 'Group').accelerator).toBe('CmdOrCtrl+G');
    expect(find(edit, 'Ungroup').accelerator).toBe('Shift+CmdOrCtrl+G');
    const view = submenu('&View');
    expect(find(view, 'Auto Layout').accelerator).toBe('Shift+L');
    expect(find(view, 'Keyboard Shortcuts').accelerator).toBe('F1');
    for (const label of ['Group', 'Ungroup', 'Auto Layout', 'Keyboard Shortcuts'])
      find(menu, label).click!();
    expect(sent).toEqual(['group', 'ungroup', 'autoLayout', 'shortcuts']);
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

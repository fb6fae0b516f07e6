import { describe, expect, it } from 'vitest';
import { MAX_RECENT, RecentFiles, addRecent, parseRecent, removeRecent } from './recent-files.js';

describe('the recent-files list', () => {
  it('puts the latest first without duplicates and keeps at most ten', () => {
    expect(addRecent(['/a', '/b', '/c'], '/b')).toEqual(['/b', '/a', '/c']);
    expect(addRecent([], '/a')).toEqual(['/a']);
    const many = Array.from({ length: 12 }, (_, i) => `/f${i}`);
    const list = many.reduce<string[]>((l, p) => addRecent(l, p), []);
    expect(list).toHaveLength(MAX_RECENT);
    expect(list[0]).toBe('/f11');
    expect(list.at(-1)).toBe('/f2');
    expect(removeRecent(['/a', '/b'], '/a')).toEqual(['/b']);
  });

  it('reads a damaged or missing store as empty, keeping only paths', () => {
    expect(parseRecent(null)).toEqual([]);
    expect(parseRecent('{oops')).toEqual([]);
    expect(parseRecent('{"a": 1}')).toEqual([]);
    expect(parseRecent('["/a", 3, "", "/a", "/b"]')).toEqual(['/a', '/b']);
  });

  it('persists through its store', async () => {
    const disk = new Map<string, string>();
    const io = {
      read: (path: string) => Promise.resolve(disk.get(path) ?? null),
      write: (path: string, text: string) => Promise.resolve(void disk.set(path, text)),
    };
    const recent = new RecentFiles('/data/recent.json', io);
    expect(await recent.load()).toEqual([]);
    await recent.add('/m/a.ipynb');
    await recent.add('/m/b.ipynb');
    await recent.remove('/m/a.ipynb');
    await recent.add('/m/c.ipynb');
    const again = new RecentFiles('/data/recent.json', io);
    expect(await again.load()).toEqual(['/m/c.ipynb', '/m/b.ipynb']);
  });
});

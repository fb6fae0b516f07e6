/**
 * The recent-files list: most recent first, no duplicates, at most `MAX_RECENT` entries, kept
 * as JSON in the app's data folder. The list logic is pure; the store reads and writes through
 * an injected file system and tolerates a missing or damaged file (it starts empty).
 */

import { writeFileAtomic } from './atomic-write.js';

export const MAX_RECENT = 10;

/** `path` moved to the front of `list`, duplicates removed, trimmed to `max`. */
export function addRecent(list: readonly string[], path: string, max = MAX_RECENT): string[] {
  return [path, ...list.filter((p) => p !== path)].slice(0, max);
}

export function removeRecent(list: readonly string[], path: string): string[] {
  return list.filter((p) => p !== path);
}

/** Reads the stored list, keeping only strings; a missing or damaged file gives []. */
export function parseRecent(text: string | null, max = MAX_RECENT): string[] {
  if (text === null) return [];
  try {
    const json: unknown = JSON.parse(text);
    if (!Array.isArray(json)) return [];
    return [...new Set(json.filter((p): p is string => typeof p === 'string' && p !== ''))].slice(
      0,
      max,
    );
  } catch {
    return [];
  }
}

export interface RecentFilesIo {
  read(path: string): Promise<string | null>;
  write(path: string, text: string): Promise<void>;
}

/** The list, loaded from and saved to `storePath`. */
export class RecentFiles {
  private list: string[] = [];

  constructor(
    private readonly storePath: string,
    private readonly io: RecentFilesIo,
  ) {}

  get paths(): readonly string[] {
    return this.list;
  }

  async load(): Promise<readonly string[]> {
    this.list = parseRecent(await this.io.read(this.storePath));
    return this.list;
  }

  async add(path: string): Promise<readonly string[]> {
    this.list = addRecent(this.list, path);
    await this.io.write(this.storePath, `${JSON.stringify(this.list, null, 2)}\n`);
    return this.list;
  }

  async remove(path: string): Promise<readonly string[]> {
    this.list = removeRecent(this.list, path);
    await this.io.write(this.storePath, `${JSON.stringify(this.list, null, 2)}\n`);
    return this.list;
  }
}

/** Reads a file as text, or null when it does not exist. */
export async function readTextOrNull(
  readFile: (path: string, encoding: 'utf8') => Promise<string>,
  path: string,
): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (error instanceof Error && 'code' in error && error.code === 'ENOENT') return null;
    throw error;
  }
}

export const atomicTextWriter = (path: string, text: string): Promise<void> =>
  writeFileAtomic(path, text);

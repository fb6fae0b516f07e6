import { describe, expect, it } from 'vitest';
import { fuzzyFilter, fuzzyScore } from './fuzzy.js';

const item = (label: string, keywords: string[] = []) => ({ label, key: label, keywords });

describe('fuzzy search', () => {
  it('matches characters in order, case-insensitively, and nothing else', () => {
    expect(fuzzyScore('lnr', 'Linear')).not.toBeNull();
    expect(fuzzyScore('LIN', 'linear')).not.toBeNull();
    expect(fuzzyScore('rnl', 'Linear')).toBeNull();
    expect(fuzzyScore('', 'anything')).toBe(0);
  });

  it('ranks prefixes and word starts above scattered matches', () => {
    const items = [
      item('slice'),
      item('Linear'),
      item('layerNorm'),
      item('MaxPool2d'),
      item('matmul'),
    ];
    expect(fuzzyFilter(items, 'lin')[0]!.label).toBe('Linear');
    expect(fuzzyFilter(items, 'mp')[0]!.label).toBe('MaxPool2d');
    expect(fuzzyFilter(items, 'ln')[0]!.label).toBe('layerNorm');
  });

  it('finds items by a word of their keywords, never by scattered letters of one', () => {
    const items = [
      item('Linear', ['dense', 'fully connected']),
      item('Dropout'),
      item('where', ['comparison']),
    ];
    expect(fuzzyFilter(items, 'dense').map((i) => i.label)).toEqual(['Linear']);
    expect(fuzzyFilter(items, 'conn').map((i) => i.label)).toEqual(['Linear']);
    expect(fuzzyFilter(items, 'com').map((i) => i.label)).toEqual(['where']);
    expect(fuzzyFilter(items, 'cn').map((i) => i.label)).toEqual([]);
    expect(fuzzyFilter(items, 'd').map((i) => i.label)).toEqual(['Dropout', 'Linear']);
  });

  it('keeps every item, in order, for an empty query', () => {
    const items = [item('b'), item('a')];
    expect(fuzzyFilter(items, '  ')).toEqual(items);
  });
});

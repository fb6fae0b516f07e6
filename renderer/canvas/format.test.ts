import { describe, expect, it } from 'vitest';
import { formatCountOf, groupFacts } from './format.js';

describe('formatCountOf', () => {
  it('uses the singular for exactly one and the plural otherwise', () => {
    expect(formatCountOf(1, 'node')).toBe('1 node');
    expect(formatCountOf(0, 'node')).toBe('0 nodes');
    expect(formatCountOf(2, 'node')).toBe('2 nodes');
    expect(formatCountOf(1234, 'param')).toBe('1,234 params');
    expect(formatCountOf(3, 'child', 'children')).toBe('3 children');
  });
});

describe('groupFacts', () => {
  it('says how many nodes a group folds and their parameters', () => {
    expect(groupFacts(1, 0)).toBe('1 node · 0 params');
    expect(groupFacts(2, 4160)).toBe('2 nodes · 4,160 params');
    expect(groupFacts(5, 1)).toBe('5 nodes · 1 param');
  });
});

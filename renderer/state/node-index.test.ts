import { describe, expect, it } from 'vitest';
import { type NodeJSON, nodeById } from './document.js';

const node = (id: string): NodeJSON => ({ id, op: 'relu', inputs: [], attrs: {} });

describe('nodeById', () => {
  it('finds nodes by id in each immutable node list, including after an edit', () => {
    const before = [node('a'), node('b')];
    expect(nodeById(before, 'b')).toBe(before[1]);
    expect(nodeById(before, 'c')).toBeUndefined();
    // An edit makes a new list: its index is its own, so the new node is found.
    const after = [...before, node('c')];
    expect(nodeById(after, 'c')).toBe(after[2]);
    expect(nodeById(before, 'c')).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { CharVocab, charSequences } from './text.js';

describe('CharVocab', () => {
  it('numbers distinct code points in code-point order and round-trips', () => {
    const v = CharVocab.fromText('hello, wörld 🙂');
    expect(v.chars).toEqual([' ', ',', 'd', 'e', 'h', 'l', 'o', 'r', 'w', 'ö', '🙂']);
    expect(Array.from(v.encode('hold'))).toEqual([4, 6, 5, 2]);
    expect(v.decode(v.encode('wörld 🙂'))).toBe('wörld 🙂');
    expect(() => v.encode('hex')).toThrow(
      /character "x" \(U\+0078\) at position 2 is not in the vocabulary of 11 characters/,
    );
    expect(() => v.decode([11])).toThrow(/id 11 at position 0 is outside \[0, 11\)/);
  });
});

describe('charSequences', () => {
  const ids = [0, 1, 2, 3, 4, 5, 6, 7];

  it('pairs each window with the character after it', () => {
    const s = charSequences(ids, { seqLength: 3 });
    expect(s.x.arraySync()).toEqual([
      [0, 1, 2],
      [3, 4, 5],
    ]);
    expect(s.y.arraySync()).toEqual([3, 6]);
    expect([s.x.dtype, s.y.dtype]).toEqual(['i32', 'i32']);
    const overlapping = charSequences(ids, { seqLength: 3, stride: 2 });
    expect(overlapping.y.arraySync()).toEqual([3, 5, 7]);
  });

  it('or with the window shifted by one', () => {
    const s = charSequences(ids, { seqLength: 4, stride: 4, target: 'shifted' });
    expect(s.x.arraySync()).toEqual([[0, 1, 2, 3]]);
    expect(s.y.arraySync()).toEqual([[1, 2, 3, 4]]);
  });

  it('says when the text is too short', () => {
    expect(() => charSequences([1, 2, 3], { seqLength: 3 })).toThrow(
      /the text has 3 characters, too few for one window of 3 plus the character after it/,
    );
  });
});

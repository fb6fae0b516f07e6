import { describe, expect, it } from 'vitest';
import { formatAttrInput, parseAttrInput } from './attr-input.js';

describe('parsing attribute fields by kind', () => {
  it('reads shapes, with N for the batch of an input', () => {
    expect(parseAttrInput({ kind: 'ints' }, 'N, 1, 28, 28', { batchAsN: true })).toEqual({
      ok: true,
      value: [-1, 1, 28, 28],
    });
    expect(parseAttrInput({ kind: 'ints' }, '[2 x 2]')).toEqual({ ok: true, value: [2, 2] });
    expect(parseAttrInput({ kind: 'ints' }, '')).toEqual({ ok: true, value: [] });
    expect(parseAttrInput({ kind: 'ints' }, '2, 2.5')).toEqual({
      ok: false,
      error: "'2.5' is not a whole number",
    });
    expect(parseAttrInput({ kind: 'ints' }, 'N, 2')).toMatchObject({ ok: false });
  });

  it('reads numbers, including the non-finite spellings of graph files', () => {
    expect(parseAttrInput({ kind: 'float' }, '0.25')).toEqual({ ok: true, value: 0.25 });
    expect(parseAttrInput({ kind: 'float' }, '-Infinity')).toEqual({
      ok: true,
      value: '-Infinity',
    });
    expect(parseAttrInput({ kind: 'float' }, 'abc')).toEqual({
      ok: false,
      error: "'abc' is not a number",
    });
    expect(parseAttrInput({ kind: 'int' }, '-3')).toEqual({ ok: true, value: -3 });
    expect(parseAttrInput({ kind: 'intOrInts' }, '3')).toEqual({ ok: true, value: 3 });
    expect(parseAttrInput({ kind: 'intOrInts' }, '3, 4')).toEqual({ ok: true, value: [3, 4] });
  });

  it('removes an optional attribute left empty and refuses an empty required one', () => {
    expect(parseAttrInput({ kind: 'float', optional: true }, ' ')).toEqual({
      ok: true,
      value: undefined,
    });
    expect(parseAttrInput({ kind: 'int' }, '')).toEqual({
      ok: false,
      error: 'a value is required',
    });
  });

  it('checks enum-like strings against their choices', () => {
    const spec = { kind: 'string', choices: ['mean', 'sum', 'none'], optional: true } as const;
    expect(parseAttrInput(spec, 'sum')).toEqual({ ok: true, value: 'sum' });
    expect(parseAttrInput(spec, 'avg')).toEqual({
      ok: false,
      error: "'avg' is not one of mean, sum, none",
    });
    expect(parseAttrInput(spec, '')).toEqual({ ok: true, value: undefined });
  });

  it('formats values back as the fields show them', () => {
    expect(formatAttrInput([-1, 784], { batchAsN: true })).toBe('N, 784');
    expect(formatAttrInput([-1, 784])).toBe('-1, 784');
    expect(formatAttrInput(0.5)).toBe('0.5');
    expect(formatAttrInput(undefined)).toBe('');
  });
});

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

  it("checks an input's shape: sizes of at least 1, N once, never empty by accident", () => {
    const shape = (text: string) => parseAttrInput({ kind: 'ints' }, text, { batchAsN: true });
    const rule = 'each size is a whole number ≥ 1, or N for the batch';
    expect(shape('N, -2')).toEqual({ ok: false, error: `'-2' is not a size: ${rule}` });
    expect(shape('N, 0')).toEqual({ ok: false, error: `'0' is not a size: ${rule}` });
    expect(shape('N, 2.5')).toEqual({ ok: false, error: `'2.5' is not a size: ${rule}` });
    expect(shape('-1, 2')).toEqual({ ok: false, error: `'-1' is not a size: ${rule}` });
    expect(shape('N, N')).toEqual({ ok: false, error: 'N (the batch) can appear only once' });
    const empty = { ok: false, error: 'give a shape, e.g. N, 2 (or [] for a scalar)' };
    expect(shape('')).toEqual(empty);
    expect(shape('  ')).toEqual(empty);
    expect(shape('[]')).toEqual({ ok: true, value: [] });
    expect(shape('[ ]')).toEqual({ ok: true, value: [] });
    expect(shape('n x 3 x 4')).toEqual({ ok: true, value: [-1, 3, 4] });
    expect(shape('[2, 3]')).toEqual({ ok: true, value: [2, 3] });
    expect(formatAttrInput([], { batchAsN: true })).toBe('[]');
    expect(shape(formatAttrInput([], { batchAsN: true }))).toEqual({ ok: true, value: [] });
    // Other integer lists keep their rules: empty is an empty list, any integer is accepted.
    expect(parseAttrInput({ kind: 'ints' }, '')).toEqual({ ok: true, value: [] });
    expect(parseAttrInput({ kind: 'ints' }, '0, -2')).toEqual({ ok: true, value: [0, -2] });
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

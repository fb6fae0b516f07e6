/**
 * Text in, attribute value out: the inspector's fields parse what the user typed by the
 * attribute's kind (from the op registry) and say exactly what is wrong when it does not fit,
 * before anything reaches the document. Shapes of inputs accept N for the batch dimension, take
 * sizes of at least 1, and are never empty by accident: a scalar input is written `[]`.
 */

import type { AttrInfo } from '../../engine/protocol/messages.js';
import type { AttrValueJSON } from '../state/document.js';

export type Parsed =
  | { readonly ok: true; readonly value: AttrValueJSON | undefined }
  | { readonly ok: false; readonly error: string };

export interface ParseOptions {
  /**
   * The field is an input's declared shape: N (or n) reads as -1, the batch dimension (at most
   * once); every other size is a whole number ≥ 1; an empty field is refused (`[]` is a scalar).
   */
  readonly batchAsN?: boolean;
}

const NON_FINITE = new Set(['Infinity', '-Infinity', 'NaN']);

type Step<T> = { readonly value: T } | { readonly error: string };

function parseInteger(text: string, options: ParseOptions): Step<number> {
  if (options.batchAsN && /^n$/i.test(text)) return { value: -1 };
  if (!/^[-+]?\d+$/.test(text)) return { error: `'${text}' is not a whole number` };
  return { value: Number(text) };
}

/** A number, or the token graph files use for a non-finite one. */
function parseNumber(text: string): Step<number | 'Infinity' | '-Infinity' | 'NaN'> {
  if (NON_FINITE.has(text)) return { value: text as 'Infinity' };
  const value = Number(text);
  if (text === '' || Number.isNaN(value)) return { error: `'${text}' is not a number` };
  return { value };
}

function splitList(text: string): string[] {
  const inner = text
    .trim()
    .replace(/^\[|\]$/g, '')
    .trim();
  return inner === '' ? [] : inner.split(/[\s,×x]+/).filter((s) => s !== '');
}

function parseList<T>(text: string, one: (s: string) => Step<T>): Step<T[]> {
  const out: T[] = [];
  for (const part of splitList(text)) {
    const step = one(part);
    if ('error' in step) return step;
    out.push(step.value);
  }
  return { value: out };
}

function parseValue(spec: AttrInfo, t: string, options: ParseOptions): Step<AttrValueJSON> {
  switch (spec.kind) {
    case 'int':
      return parseInteger(t, options);
    case 'float':
      return parseNumber(t);
    case 'ints':
      return parseList(t, (s) => parseInteger(s, options));
    case 'floats':
      return parseList(t, parseNumber);
    case 'intOrInts':
      return splitList(t).length === 1 && !t.startsWith('[')
        ? parseInteger(t, options)
        : parseList(t, (s) => parseInteger(s, options));
    case 'bool':
      return t === 'true' || t === 'false'
        ? { value: t === 'true' }
        : { error: `'${t}' is not true or false` };
    case 'dtype':
    case 'string':
      return spec.choices && !spec.choices.includes(t)
        ? { error: `'${t}' is not one of ${spec.choices.join(', ')}` }
        : { value: t };
    default:
      return spec.kind satisfies never;
  }
}

/** Lists may be empty; other kinds need text unless the attribute is optional. */
const EMPTY_ALLOWED = new Set(['ints', 'floats']);

const INPUT_SIZE_RULE = 'each size is a whole number ≥ 1, or N for the batch';

/** An input's declared shape, checked beyond what a list of integers allows. */
function parseInputShape(t: string): Parsed {
  if (t === '') return { ok: false, error: 'give a shape, e.g. N, 2 (or [] for a scalar)' };
  const parts = splitList(t);
  const sizes: number[] = [];
  for (const part of parts) {
    if (/^n$/i.test(part)) {
      if (sizes.includes(-1)) return { ok: false, error: 'N (the batch) can appear only once' };
      sizes.push(-1);
      continue;
    }
    const value = Number(part);
    if (!/^\+?\d+$/.test(part) || !Number.isSafeInteger(value) || value < 1)
      return { ok: false, error: `'${part}' is not a size: ${INPUT_SIZE_RULE}` };
    sizes.push(value);
  }
  if (sizes.length === 0 && !/^\[\s*\]$/.test(t))
    return { ok: false, error: 'give a shape, e.g. N, 2 (or [] for a scalar)' };
  return { ok: true, value: sizes };
}

/** Parses `text` for an attribute of this spec; an empty optional field removes the attribute. */
export function parseAttrInput(spec: AttrInfo, text: string, options: ParseOptions = {}): Parsed {
  const t = text.trim();
  if (options.batchAsN && spec.kind === 'ints') return parseInputShape(t);
  if (t === '' && !EMPTY_ALLOWED.has(spec.kind))
    return spec.optional
      ? { ok: true, value: undefined }
      : { ok: false, error: 'a value is required' };
  const step = parseValue(spec, t, options);
  return 'error' in step ? { ok: false, error: step.error } : { ok: true, value: step.value };
}

/** The text a field shows for a value. */
export function formatAttrInput(
  value: AttrValueJSON | undefined,
  options: ParseOptions = {},
): string {
  if (value === undefined) return '';
  // An input's scalar shape is shown as written, so the field is never empty.
  if (options.batchAsN && Array.isArray(value) && value.length === 0) return '[]';
  if (Array.isArray(value))
    return value.map((v) => (options.batchAsN && v === -1 ? 'N' : String(v))).join(', ');
  return String(value);
}

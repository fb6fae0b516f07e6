/**
 * How the teacher writes numbers and tensors: short enough to read at a glance, exact enough
 * to check against `backward()` (six significant digits; integers as they are). Tensors are
 * rows of their last axis, at most MAX_SHOWN numbers, the rest counted.
 */

import type { TensorData } from '../../engine/protocol/messages.js';

/** The most numbers one value shows before it says how many more there are. */
export const MAX_SHOWN = 64;

/** A number in six significant digits, without trailing zeros; −0 as 0. */
export function formatNumber(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (!Number.isFinite(v)) return v > 0 ? '∞' : '−∞';
  if (v === 0) return '0';
  if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
  const abs = Math.abs(v);
  if (abs < 1e-4 || abs >= 1e6) {
    const [mantissa, exponent] = v.toExponential(4).split('e') as [string, string];
    return `${mantissa.replace(/\.?0+$/, '')}e${exponent.replace('+', '')}`;
  }
  return v
    .toPrecision(6)
    .replace(/(\.\d*?)0+$/, '$1')
    .replace(/\.$/, '');
}

/** The shape as people write it: `scalar`, `[3]`, `[1, 1, 4, 4]`. */
export function formatShape(shape: readonly number[]): string {
  return shape.length === 0 ? 'scalar' : `[${shape.join(', ')}]`;
}

/** The value's numbers as rows of its last axis (a scalar is one row of one). */
export function valueRows(value: TensorData): { rows: string[][]; hidden: number } {
  const shown = value.values.slice(0, MAX_SHOWN).map(formatNumber);
  const width = value.shape.length === 0 ? 1 : Math.max(1, value.shape[value.shape.length - 1]!);
  const rows: string[][] = [];
  for (let i = 0; i < shown.length; i += width) rows.push(shown.slice(i, i + width));
  return { rows, hidden: Math.max(0, value.values.length - MAX_SHOWN) };
}

/** The whole value on one line: `0.5`, `[1, 2, 3]`, `[[1, 2], [3, 4]]` (cut after MAX_SHOWN). */
export function formatValue(value: TensorData): string {
  const { rows, hidden } = valueRows(value);
  const more = hidden > 0 ? ` … ${hidden} more` : '';
  if (value.shape.length === 0) return `${rows[0]?.[0] ?? ''}${more}`;
  if (value.shape.length === 1) return `[${rows[0]?.join(', ') ?? ''}${more}]`;
  return `[${rows.map((r) => `[${r.join(', ')}]`).join(', ')}${more}]`;
}

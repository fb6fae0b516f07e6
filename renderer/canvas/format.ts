/**
 * Text for shapes, counts and attribute values as the canvas and inspector show them: shapes
 * as PyTorch prints sizes but with N for the batch (`[N, 64]`), counts with digit grouping.
 */

import type { SymbolicShape } from '../../engine/protocol/messages.js';
import type { NodeJSON } from '../state/document.js';

export function formatShape(shape: SymbolicShape): string {
  return `[${shape.join(', ')}]`;
}

/** A declared shape where -1 marks the batch (input nodes): shown with N. */
export function formatDeclaredShape(shape: readonly number[]): string {
  return `[${shape.map((d) => (d === -1 ? 'N' : d)).join(', ')}]`;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

/** `n` and the word for it, singular for one: "1 node", "2 nodes", "1,024 params". */
export function formatCountOf(n: number, singular: string, plural = `${singular}s`): string {
  return `${formatCount(n)} ${n === 1 ? singular : plural}`;
}

/** A collapsed group's facts line: "2 nodes · 4,160 params". */
export function groupFacts(memberCount: number, paramCount: number): string {
  return `${formatCountOf(memberCount, 'node')} · ${formatCountOf(paramCount, 'param')}`;
}

/** A compact value: lists as 2×2 when square-ish pairs, else comma lists. */
export function formatValue(value: unknown): string {
  if (Array.isArray(value)) return `[${value.join(', ')}]`;
  if (typeof value === 'number')
    return Number.isInteger(value) ? String(value) : String(+value.toPrecision(4));
  return String(value);
}

/** One line of the attributes that matter most for a node, for its card on the canvas. */
export function attrSummary(node: NodeJSON): string {
  const a = node.attrs;
  switch (node.op) {
    case 'input':
      return `${Array.isArray(a.shape) ? formatDeclaredShape(a.shape as number[]) : '?'} · ${String(a.dtype)}${a.role === 'label' ? ' · label' : ''}`;
    case 'parameter':
      return `${String(a.init)} · seed ${String(a.seed)}`;
    case 'constant':
      return Array.isArray(a.data) && a.data.length <= 4
        ? `= ${formatValue(a.data)}`
        : `${String(a.dtype)}`;
    case 'maxPool2d':
    case 'avgPool2d':
      return `kernel ${formatValue(a.kernelSize)} · stride ${formatValue(a.stride)}`;
    default: {
      const entries = Object.entries(a).filter(([, v]) => v !== false);
      return entries
        .slice(0, 2)
        .map(([k, v]) => `${k} ${formatValue(v)}`)
        .join(' · ');
    }
  }
}

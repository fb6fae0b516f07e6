/**
 * How an activation's size looks on the canvas in the "Activations" edge view: the root mean
 * square of the value flowing along the edge (its L2 norm over √elements, so edges of different
 * widths and batch sizes compare), coloured and thickened on a log scale from 1e-3 to 1e2 with
 * the gradient scale's colours (grad-scale.ts). Activations are not flagged: a small or large
 * activation is not by itself a fault. The legend uses the same bounds.
 */

import type { ValueStats } from '../../engine/protocol/messages.js';

import { GRAD_STOPS } from './grad-scale.js';

export const ACTIVATION_LO = 1e-3;
export const ACTIVATION_HI = 1e2;

/** Root mean square of the finite values: L2 norm / √(finite count); 0 when none is finite. */
export function rms(stats: ValueStats): number {
  const finite = stats.count - stats.nanCount - stats.infCount;
  return finite > 0 ? stats.l2 / Math.sqrt(finite) : 0;
}

function mix(a: string, b: string, t: number): string {
  const ch = (hex: string, i: number): number => parseInt(hex.slice(1 + 2 * i, 3 + 2 * i), 16);
  const out = [0, 1, 2].map((i) => Math.round(ch(a, i) + (ch(b, i) - ch(a, i)) * t));
  return `rgb(${out.join(', ')})`;
}

/** Where a value sits between ACTIVATION_LO (0) and ACTIVATION_HI (1), log scale, clamped. */
export function activationPosition(value: number): number {
  if (!(value > 0)) return 0;
  const lo = Math.log10(ACTIVATION_LO);
  const hi = Math.log10(ACTIVATION_HI);
  return Math.min(1, Math.max(0, (Math.log10(value) - lo) / (hi - lo)));
}

/** The stroke of an edge whose value has this RMS (NaN/Inf: the scale's top). */
export function activationStyle(value: number): { colour: string; width: number } {
  const t = Number.isFinite(value) ? activationPosition(value) : 1;
  const scaled = t * (GRAD_STOPS.length - 1);
  const i = Math.min(GRAD_STOPS.length - 2, Math.floor(scaled));
  return { colour: mix(GRAD_STOPS[i]!, GRAD_STOPS[i + 1]!, scaled - i), width: 1.5 + 4.5 * t };
}

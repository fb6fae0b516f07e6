/**
 * How a gradient norm looks on the canvas: a colour and a stroke width on a log scale from
 * 1e-7 (vanishing below) to 1e3 (exploding above), with NaN/Infinity flagged apart. The Train
 * panel's legend (`grad-legend`) and the edges use the same functions, so they always agree.
 */

export const VANISHING = 1e-7;
export const EXPLODING = 1e3;
const LOG_LO = Math.log10(VANISHING);
const LOG_HI = Math.log10(EXPLODING);

export type GradClass = 'none' | 'nan' | 'vanishing' | 'exploding' | 'ok';

/** What kind of norm this is: none flowed, not finite, too small, too large, or fine. */
export function classifyGrad(norm: number | null | undefined): GradClass {
  if (norm === null || norm === undefined) return 'none';
  if (!Number.isFinite(norm)) return 'nan';
  if (norm < VANISHING) return 'vanishing';
  if (norm > EXPLODING) return 'exploding';
  return 'ok';
}

/** Where a norm sits between VANISHING (0) and EXPLODING (1), on a log scale. */
export function gradPosition(norm: number): number {
  if (!(norm > 0)) return 0;
  return Math.min(1, Math.max(0, (Math.log10(norm) - LOG_LO) / (LOG_HI - LOG_LO)));
}

/** The colour stops of the scale, low to high (the legend's gradient). */
export const GRAD_STOPS: readonly string[] = [
  '#3a5f9e',
  '#2ec4b0',
  '#8fd14f',
  '#e8b548',
  '#ff7b5c',
];

export const FLAG_COLOURS: Readonly<Record<'nan' | 'vanishing' | 'exploding', string>> = {
  nan: '#e356d8',
  vanishing: '#56606f',
  exploding: '#f2625d',
};

function mix(a: string, b: string, t: number): string {
  const ch = (hex: string, i: number): number => parseInt(hex.slice(1 + 2 * i, 3 + 2 * i), 16);
  const out = [0, 1, 2].map((i) => Math.round(ch(a, i) + (ch(b, i) - ch(a, i)) * t));
  return `rgb(${out.join(', ')})`;
}

/** The stroke of an edge carrying this norm. */
export function gradStyle(norm: number): { colour: string; width: number } {
  const kind = classifyGrad(norm);
  if (kind === 'nan' || kind === 'vanishing' || kind === 'exploding')
    return { colour: FLAG_COLOURS[kind], width: kind === 'vanishing' ? 1.5 : 6 };
  const t = gradPosition(norm);
  const scaled = t * (GRAD_STOPS.length - 1);
  const i = Math.min(GRAD_STOPS.length - 2, Math.floor(scaled));
  return { colour: mix(GRAD_STOPS[i]!, GRAD_STOPS[i + 1]!, scaled - i), width: 1.5 + 4.5 * t };
}

/** A norm as short text: `3.2e-4`, `0.0123`, `NaN`. */
export function formatNorm(norm: number): string {
  if (Number.isNaN(norm)) return 'NaN';
  if (!Number.isFinite(norm)) return norm > 0 ? '∞' : '-∞';
  if (norm === 0) return '0';
  const abs = Math.abs(norm);
  return abs >= 1e-3 && abs < 1e4 ? String(Number(norm.toPrecision(3))) : norm.toExponential(2);
}

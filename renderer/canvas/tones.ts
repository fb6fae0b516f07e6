/**
 * One glyph per node tone (op category, or layer), shown in the node's badge and the palette,
 * so kinds of node are told apart at a glance; the colours live in app/styles.css.
 */

import type { NodeTone } from '../state/palette-items.js';

export const TONE_GLYPHS: Readonly<Record<NodeTone, string>> = {
  source: '◉',
  layer: '▦',
  creation: '✦',
  activation: 'ƒ',
  math: '√',
  arithmetic: '±',
  comparison: '≷',
  tensor: '≡',
  movement: '⇄',
  reduction: 'Σ',
  nn: '⊞',
  normalization: 'μ',
  loss: '◎',
  gradient: '∇',
  other: '•',
};

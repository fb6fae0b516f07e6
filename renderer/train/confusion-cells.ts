/**
 * The confusion matrix as cells to draw: each count with its share of its row (the true
 * class), which sets the cell's colour, so classes with few examples read as clearly as large
 * ones. Pure, no DOM.
 */

import type { ConfusionMatrix } from '../../engine/protocol/messages.js';

export interface ConfusionCell {
  /** The true class. */
  readonly row: number;
  /** The predicted class. */
  readonly col: number;
  readonly count: number;
  /** count / the row's total (0 for an empty row). */
  readonly share: number;
}

export function confusionCells(m: ConfusionMatrix): ConfusionCell[] {
  const cells: ConfusionCell[] = [];
  for (let row = 0; row < m.classes; row++) {
    let total = 0;
    for (let col = 0; col < m.classes; col++) total += m.counts[row * m.classes + col] ?? 0;
    for (let col = 0; col < m.classes; col++) {
      const count = m.counts[row * m.classes + col] ?? 0;
      cells.push({ row, col, count, share: total > 0 ? count / total : 0 });
    }
  }
  return cells;
}

/** The share of examples on the diagonal (the accuracy the matrix shows). */
export function confusionAccuracy(m: ConfusionMatrix): number {
  let correct = 0;
  for (let c = 0; c < m.classes; c++) correct += m.counts[c * m.classes + c] ?? 0;
  return m.total > 0 ? correct / m.total : 0;
}

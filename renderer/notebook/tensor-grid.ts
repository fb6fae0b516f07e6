/**
 * Which part of a tensor an output table shows: the first matrix of its last two dimensions,
 * at most `maxRows` × `maxCols`, and only rows the kernel sent values for (a large tensor
 * arrives cut to its first values, so its later rows are counted, not drawn empty).
 */

export interface TensorGrid {
  /** Rows and columns of the matrix (a vector is one row). */
  readonly rows: number;
  readonly cols: number;
  readonly shownRows: number;
  readonly shownCols: number;
  /** Rows not drawn, said in a line under the table. */
  readonly hiddenRows: number;
}

export function tensorGrid(
  shape: readonly number[],
  received: number,
  maxRows: number,
  maxCols: number,
): TensorGrid {
  const rank = shape.length;
  const cols = rank === 0 ? 1 : shape[rank - 1]!;
  const rows = rank <= 1 ? 1 : shape[rank - 2]!;
  const withValues = cols > 0 ? Math.ceil(Math.min(received, rows * cols) / cols) : 0;
  const shownRows = Math.min(rows, maxRows, withValues);
  return {
    rows,
    cols,
    shownRows,
    shownCols: Math.min(cols, maxCols),
    hiddenRows: rows - shownRows,
  };
}

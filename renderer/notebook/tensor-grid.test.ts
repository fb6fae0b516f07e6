import { describe, expect, it } from 'vitest';
import { tensorGrid } from './tensor-grid.js';

describe('tensorGrid', () => {
  it('shows a small matrix whole', () => {
    expect(tensorGrid([3, 4], 12, 24, 16)).toEqual({
      rows: 3,
      cols: 4,
      shownRows: 3,
      shownCols: 4,
      hiddenRows: 0,
    });
  });

  it('caps rows and columns of a large matrix it has all the values of', () => {
    expect(tensorGrid([40, 30], 1200, 24, 16)).toMatchObject({
      shownRows: 24,
      shownCols: 16,
      hiddenRows: 16,
    });
  });

  it('draws only the rows whose values arrived when the tensor was cut', () => {
    // 4096 of 250 000 values: 8 whole rows of 500 and part of a ninth.
    expect(tensorGrid([500, 500], 4096, 24, 16)).toMatchObject({
      shownRows: 9,
      shownCols: 16,
      hiddenRows: 491,
    });
  });

  it('treats a vector as one row and higher ranks by their last two dimensions', () => {
    expect(tensorGrid([7], 7, 24, 16)).toMatchObject({ rows: 1, cols: 7, shownRows: 1 });
    expect(tensorGrid([2, 5, 3], 30, 24, 16)).toMatchObject({ rows: 5, cols: 3, shownRows: 5 });
    expect(tensorGrid([0, 3], 0, 24, 16)).toMatchObject({ shownRows: 0, hiddenRows: 0 });
  });
});

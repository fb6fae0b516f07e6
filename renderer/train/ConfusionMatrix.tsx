/**
 * The confusion matrix on the validation split: a row per true class, a column per predicted
 * class, each cell's count written in it and its colour set by its share of the row (green on
 * the diagonal, where the model is right, red off it). Cells carry `data-row`, `data-col` and
 * `data-count`; the matrix carries `data-total` (the validation size) and `data-step`.
 */

import { memo } from 'react';
import { useTraining } from './context.js';
import { confusionAccuracy, confusionCells } from './confusion-cells.js';

function ConfusionMatrixView({ labels }: { labels?: readonly string[] }) {
  const m = useTraining((s) => s.confusion);
  if (!m)
    return (
      <p className="wg-views__empty" data-testid="confusion-matrix-empty">
        The confusion matrix appears once the model has been validated.
      </p>
    );
  const name = (c: number): string => labels?.[c] ?? String(c);
  const cells = confusionCells(m);
  const columns = `max-content repeat(${m.classes}, minmax(0, 40px))`;
  return (
    <div
      className="wg-confusion"
      data-testid="confusion-matrix"
      data-total={m.total}
      data-step={m.step}
      data-classes={m.classes}
    >
      <div className="wg-confusion__axis">predicted →</div>
      <div className="wg-confusion__grid" style={{ gridTemplateColumns: columns }}>
        <span className="wg-confusion__corner">true ↓</span>
        {Array.from({ length: m.classes }, (_, c) => (
          <span key={`h${c}`} className="wg-confusion__label">
            {name(c)}
          </span>
        ))}
        {cells.map((cell) => {
          const diagonal = cell.row === cell.col;
          const tone = diagonal ? '79, 201, 139' : '242, 98, 93';
          const alpha = cell.count === 0 ? 0 : 0.12 + 0.78 * cell.share;
          return [
            cell.col === 0 ? (
              <span key={`r${cell.row}`} className="wg-confusion__label">
                {name(cell.row)}
              </span>
            ) : null,
            <span
              key={`${cell.row}:${cell.col}`}
              className={`wg-confusion__cell${diagonal ? ' is-diagonal' : ''}`}
              data-row={cell.row}
              data-col={cell.col}
              data-count={cell.count}
              title={`true ${name(cell.row)}, predicted ${name(cell.col)}: ${cell.count} (${(cell.share * 100).toFixed(0)}% of the row)`}
              style={{ background: `rgba(${tone}, ${alpha.toFixed(3)})` }}
            >
              {cell.count}
            </span>,
          ];
        })}
      </div>
      <div className="wg-confusion__foot">
        {m.total} validation examples · {(confusionAccuracy(m) * 100).toFixed(1)}% on the diagonal ·
        step {m.step}
      </div>
    </div>
  );
}

export const ConfusionMatrix = memo(ConfusionMatrixView);

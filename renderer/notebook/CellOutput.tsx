/**
 * A code cell's output: its console lines, the value of its last expression (tensors as a
 * table with shape and dtype, 2-D tensors as a heatmap too; graphs, charts and images as
 * RichOutputs.tsx draws them), and its error in red with the
 * cell and line. A stale output (the cell or one above it changed since it ran) is dimmed and
 * says so.
 */

import { memo } from 'react';
import type { CellValue } from '../../engine/protocol/messages.js';
import type { CellOutput as Output } from './cells.js';
import { ChartView, GraphOutput, ImageView, ProgressView } from './RichOutputs.js';
import { tensorGrid } from './tensor-grid.js';

type TensorValue = Extract<CellValue, { kind: 'tensor' }>;

/** Rows and columns shown of a tensor's last two dimensions. */
const MAX_ROWS = 24;
const MAX_COLS = 16;

export function formatNumber(x: number, dtype: string): string {
  if (dtype === 'bool') return x ? 'true' : 'false';
  if (dtype === 'i32' || Number.isInteger(x)) return String(x);
  if (!Number.isFinite(x)) return String(x);
  const a = Math.abs(x);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return x.toExponential(3);
  return String(Number(x.toPrecision(5)));
}

/** A heat colour for t in [0, 1]: dark blue through the accent to warm yellow. */
function heat(t: number): string {
  const clamped = Math.max(0, Math.min(1, Number.isFinite(t) ? t : 0));
  const hue = 230 - 180 * clamped;
  const light = 18 + 42 * clamped;
  return `hsl(${hue.toFixed(0)} 70% ${light.toFixed(0)}%)`;
}

function TensorTable({ value }: { value: TensorValue }) {
  const { shape, values, dtype } = value;
  const rank = shape.length;
  if (rank === 0)
    return <div className="wg-tensor__scalar">{formatNumber(values[0] ?? NaN, dtype)}</div>;
  const { rows, cols, shownRows, shownCols, hiddenRows } = tensorGrid(
    shape,
    values.length,
    MAX_ROWS,
    MAX_COLS,
  );
  // Higher dimensions: the first matrix, [0, …, 0, :, :].
  const shown = values.slice(0, rows * cols);
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of shown)
    if (Number.isFinite(x)) {
      lo = Math.min(lo, x);
      hi = Math.max(hi, x);
    }
  const heatmap = rank >= 2 && hi > lo;
  const body = [];
  for (let r = 0; r < shownRows; r++) {
    const cells = [];
    for (let c = 0; c < shownCols; c++) {
      const x = shown[r * cols + c];
      cells.push(
        <td
          key={c}
          style={
            heatmap && x !== undefined ? { background: heat((x - lo) / (hi - lo)) } : undefined
          }
        >
          {x === undefined ? '' : formatNumber(x, dtype)}
        </td>,
      );
    }
    if (shownCols < cols) cells.push(<td key="more">…</td>);
    body.push(<tr key={r}>{cells}</tr>);
  }
  if (hiddenRows > 0)
    body.push(
      <tr key="more">
        <td colSpan={shownCols + 1} className="wg-tensor__more">
          <span>… {hiddenRows} more rows</span>
        </td>
      </tr>,
    );
  return (
    <div className="wg-tensor__body">
      {rank > 2 && (
        <div className="wg-tensor__note">
          showing [
          {shape
            .slice(0, -2)
            .map(() => '0')
            .join(', ')}
          , :, :]
        </div>
      )}
      <table className={`wg-tensor__table${heatmap ? ' is-heatmap' : ''}`}>
        <tbody>{body}</tbody>
      </table>
      {value.truncated && (
        <div className="wg-tensor__note">values cut to the first {values.length}</div>
      )}
    </div>
  );
}

function TensorView({ value }: { value: TensorValue }) {
  return (
    <div className="wg-tensor" data-shape={JSON.stringify(value.shape)} data-dtype={value.dtype}>
      <div className="wg-tensor__head">
        <span className="wg-tensor__kind">Tensor</span>
        <span className="wg-tensor__shape">[{value.shape.join(', ')}]</span>
        <span className="wg-tensor__dtype">{value.dtype}</span>
        <span className="wg-tensor__device">{value.device}</span>
      </div>
      <TensorTable value={value} />
    </div>
  );
}

function Value({ value }: { value: CellValue }) {
  switch (value.kind) {
    case 'tensor':
      return <TensorView value={value} />;
    case 'graph':
      return <GraphOutput value={value} />;
    case 'chart':
      return <ChartView value={value} />;
    case 'image':
      return <ImageView value={value} />;
    case 'progress':
      return <ProgressView value={value} />;
    case 'text':
      return <span className="wg-output__text">{value.text}</span>;
    default:
      return value satisfies never;
  }
}

export const CellOutputView = memo(function CellOutputView({
  output,
  cellNumber,
  stale,
}: {
  output: Output;
  cellNumber: number;
  stale: boolean;
}) {
  return (
    <div
      className={`wg-output${stale ? ' is-stale' : ''}`}
      data-testid="cell-output"
      data-stale={stale ? 'true' : undefined}
    >
      {stale && (
        <div className="wg-output__stale">
          Stale: this cell or one above it changed since it ran
        </div>
      )}
      {output.logs.map((log, i) => (
        <div key={i} className={`wg-output__log is-${log.level}`}>
          {log.values.map((v, j) => (
            <Value key={j} value={v} />
          ))}
        </div>
      ))}
      {output.value && (
        <div className="wg-output__value">
          <Value value={output.value} />
        </div>
      )}
      {output.error && (
        <div className="wg-output__error" role="alert" data-testid="cell-error">
          <strong>{output.error.name}</strong>: {output.error.message}
          <div className="wg-output__where">
            cell {cellNumber}
            {output.error.line !== null ? `, line ${output.error.line}` : ''}
            {output.error.column !== null && output.error.line !== null
              ? `, column ${output.error.column}`
              : ''}
          </div>
        </div>
      )}
      {!output.logs.length && !output.value && !output.error && (
        <div className="wg-output__empty">Done in {output.ms} ms, no output.</div>
      )}
    </div>
  );
});

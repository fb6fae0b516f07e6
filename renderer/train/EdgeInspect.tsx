/**
 * What a hovered edge carried once training has run: the gradient's statistics (L2 norm, mean,
 * min, max, NaN and Inf counts), the activation's, at the step the canvas shows (live or
 * scrubbed), and a sparkline of the gradient norm over the recorded steps
 * (`edge-sparkline`). The canvas edge renders it beside its label while the pointer is on it.
 */

import { useStore } from '@xyflow/react';
import { memo, useMemo } from 'react';
import type { ValueStats } from '../../engine/protocol/messages.js';
import { useTraining } from './context.js';
import { formatNorm } from './grad-scale.js';
import { Sparkline } from './Sparkline.js';
import { edgeSeries } from './view-history.js';

function StatsRows({ label, stats }: { label: string; stats: ValueStats | null }) {
  if (stats === null)
    return (
      <tr>
        <th>{label}</th>
        <td colSpan={4} className="wg-edge-inspect__none">
          none
        </td>
      </tr>
    );
  const bad = stats.nanCount + stats.infCount;
  return (
    <tr>
      <th>{label}</th>
      <td>{formatNorm(stats.l2)}</td>
      <td>{formatNorm(stats.mean)}</td>
      <td>
        {formatNorm(stats.min)} … {formatNorm(stats.max)}
      </td>
      <td className={bad > 0 ? 'is-bad' : undefined}>
        {stats.nanCount}/{stats.infCount}
      </td>
    </tr>
  );
}

function EdgeInspectView({ edge }: { edge: string }) {
  const reading = useTraining((t) => t.views.shown.get(edge));
  const step = useTraining((t) => t.views.shownStep);
  const live = useTraining((t) => t.views.scrub === null);
  const records = useTraining((t) => t.views.records);
  const series = useMemo(() => edgeSeries(records, edge), [records, edge]);
  if (!reading) return null;
  return (
    <div className="wg-edge-inspect" data-testid="edge-inspect" data-edge={edge}>
      <div className="wg-edge-inspect__title">
        step {step}
        {live ? '' : ' (scrubbed)'}
      </div>
      <table>
        <thead>
          <tr>
            <th />
            <th>‖·‖</th>
            <th>mean</th>
            <th>min … max</th>
            <th>NaN/Inf</th>
          </tr>
        </thead>
        <tbody>
          <StatsRows label="grad" stats={reading.grad} />
          <StatsRows label="value" stats={reading.activation} />
        </tbody>
      </table>
      <div className="wg-edge-inspect__spark">
        <span>‖g‖ over {series.length} steps</span>
        <Sparkline points={series} mark={live ? null : step} testId="edge-sparkline" />
      </div>
    </div>
  );
}

export const EdgeInspect = memo(EdgeInspectView);

/**
 * The inspector placed beside an edge's label at (x, y) in flow coordinates, drawn at screen
 * size whatever the canvas zoom (the label layer scales with the viewport).
 */
function EdgeInspectAtView({ edge, x, y }: { edge: string; x: number; y: number }) {
  const zoom = useStore((s) => s.transform[2]);
  return (
    <div
      className="wg-edge-inspect-anchor"
      style={{ transform: `translate(${x}px, ${y}px) scale(${1 / zoom}) translate(48px, -50%)` }}
    >
      <EdgeInspect edge={edge} />
    </div>
  );
}

export const EdgeInspectAt = memo(EdgeInspectAtView);

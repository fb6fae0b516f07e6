/**
 * An edge labelled with the shape of the value it carries (`[N, 64]`), as the engine inferred
 * it. When the node it feeds has a problem the edge and its label turn red and the label
 * carries the message (`data-error`), so a bad connection shows where it was made. Once
 * training has run, its colour and width show the gradient norm that flowed along it in the
 * last step (log scale, train/grad-scale.ts), and `data-grad-norm` and the label's
 * tooltip carry it (not the label's text, whose changing width would re-lay it out each update).
 * The step shown is the training views' (the latest, or the one scrubbed to); in the Activations
 * view the colour follows the forward value's size instead (`data-act-norm`). Flagged gradients
 * carry `data-grad-flag` (vanishing, exploding, nan). Hovering the edge or its label shows
 * its numbers and history (train/EdgeInspect.tsx).
 */

import { type Edge, type EdgeProps, BaseEdge, getBezierPath } from '@xyflow/react';
import { memo, useState } from 'react';
import { useAnalysis, useDocumentState } from '../app/context.js';
import { edgeKey } from '../state/training.js';
import { useTraining } from '../train/context.js';
import { useTeachGradNorm } from '../teach/context.js';
import { classifyGrad, formatNorm, gradStyle } from '../train/grad-scale.js';
import { EdgeInspectAt } from '../train/EdgeInspect.js';
import { activationStyle, rms } from '../train/edge-style.js';
import { EdgeLabelPortal } from './edge-label-layer.js';
import { formatShape } from './format.js';
import { formatBytes, useTransfer } from './transfers.js';

/** What a flagged gradient adds to the label (the stroke's colour says it too). */
const GRAD_FLAGS: Readonly<Partial<Record<string, string>>> = {
  vanishing: '∇≈0',
  exploding: '∇ too large',
  nan: '∇ NaN',
};

export type CanvasEdgeData = {
  /** The graph node whose output flows along this edge. */
  readonly sourceNode: string;
  /** The index of the target port. */
  readonly port: number;
};
export type CanvasEdge = Edge<CanvasEdgeData, 'shape'>;

/** An edge spanning more than this many pixels down, nearly straight, is routed beside. */
const LONG_EDGE = 260;
/** How far beside the column a long edge runs (cards are 196 px wide). */
const LANE_OFFSET = 150;

/**
 * The path of a skip connection (a residual's x, an autoencoder's target) that would otherwise
 * run straight through the cards between its ends: out of the source, along a lane beside the
 * column, and into the target. Returns null for ordinary edges, which stay Bézier curves.
 */
function lanePath(
  sx: number,
  sy: number,
  tx: number,
  ty: number,
  side: -1 | 1,
): [string, number, number] | null {
  if (ty - sy < LONG_EDGE || Math.abs(tx - sx) > LANE_OFFSET) return null;
  const lane = (sx + tx) / 2 + side * LANE_OFFSET;
  const bend = 48;
  const path =
    `M ${sx},${sy} C ${sx},${sy + bend} ${lane},${sy + bend / 2} ${lane},${sy + bend * 1.5} ` +
    `L ${lane},${ty - bend * 1.5} C ${lane},${ty - bend / 2} ${tx},${ty - bend} ${tx},${ty}`;
  return [path, lane, (sy + ty) / 2];
}

function ShapeEdgeView(props: EdgeProps<CanvasEdge>) {
  const { id, source, target, data, selected, sourceX, sourceY, targetX, targetY } = props;
  const sourceNode = data?.sourceNode ?? source;
  const port = data?.port ?? 0;
  // A long edge into a left-hand port runs on the left, into a right-hand port on the right.
  const ports = useDocumentState((s) => s.view.byId.get(target)?.ports.length ?? 1);
  const side = port < (ports - 1) / 2 ? -1 : 1;
  const [path, labelX, labelY] =
    lanePath(sourceX, sourceY, targetX, targetY, side) ?? getBezierPath(props);
  const shape = useAnalysis((a) => {
    const meta = a.check?.shapes[sourceNode];
    return meta ? formatShape(meta.shape) : null;
  });
  // A problem on one port marks that edge only; a problem of the whole node marks all its inputs.
  const error = useAnalysis((a) => {
    const problems = a.problems.get(target) ?? [];
    const relevant = problems.filter(
      (p) => p.severity === 'error' && (p.port === undefined || p.port === port),
    );
    return relevant.length > 0 ? relevant.map((p) => p.message).join('\n') : null;
  });
  // The graph edge this canvas edge draws (a layer's port is an input of one of its ops), and
  // the gradient norm that flowed along it in the last training step.
  const gradKey = useDocumentState((s) => {
    const p = s.view.byId.get(target)?.ports[port];
    return p ? edgeKey(p.node, p.index) : null;
  });
  // The step the views show (the latest, or the scrubbed one), and what edges are coloured by.
  const reading = useTraining((t) => (gradKey === null ? undefined : t.views.shown.get(gradKey)));
  const mode = useTraining((t) => t.views.mode);
  const [hovered, setHovered] = useState(false);
  // A cross-device edge of the last training placement: dashed, with the bytes it moves.
  const transfer = useTransfer(target, port, sourceNode);
  // While the autodiff teacher walks backward: the completed gradient of the value carried.
  const teachSource = useDocumentState((s) => s.view.byId.get(target)?.ports[port]?.source || null);
  const teachNorm = useTeachGradNorm(teachSource);
  // A training reading wins, even a null one (no gradient flowed there).
  const norm = reading !== undefined ? reading.norm : teachNorm;
  const grad = norm === undefined ? null : norm;
  const gradKind = norm === undefined ? null : classifyGrad(norm);
  const activation = reading?.activation?.l2 ?? null;
  const activationRms = reading?.activation ? rms(reading.activation) : null;
  const stroke =
    error !== null
      ? null
      : mode === 'activations'
        ? activationRms === null
          ? null
          : activationStyle(activationRms)
        : grad === null
          ? null
          : gradStyle(grad);
  const flag = gradKind !== null && gradKind in GRAD_FLAGS ? gradKind : undefined;
  const gradText = grad === null ? null : `‖g‖ ${formatNorm(grad)}`;
  const classes = ['wg-edge'];
  if (error) classes.push('has-error');
  if (gradKind !== null) classes.push(`grad-${gradKind}`);
  if (selected) classes.push('is-selected');
  if (transfer) classes.push('is-transfer');
  return (
    <>
      <g onMouseEnter={() => setHovered(true)} onMouseLeave={() => setHovered(false)}>
        <BaseEdge
          id={id}
          path={path}
          className={classes.join(' ')}
          interactionWidth={16}
          data-grad-norm={grad === null ? undefined : String(grad)}
          data-act-norm={activation === null ? undefined : String(activation)}
          data-grad-flag={flag}
          data-edge-key={gradKey ?? undefined}
          data-transfer={transfer ? 'true' : undefined}
          data-bytes={transfer ? String(transfer.bytes) : undefined}
          style={stroke ? { stroke: stroke.colour, strokeWidth: stroke.width } : undefined}
        />
      </g>
      <EdgeLabelPortal>
        <div
          className={`wg-edge-label nodrag nopan${error ? ' has-error' : ''}${selected ? ' is-selected' : ''}`}
          data-testid={`edge-label-${source}-${target}`}
          data-error={error ?? undefined}
          data-grad-norm={grad === null ? undefined : String(grad)}
          data-grad-flag={flag}
          data-transfer={transfer ? 'true' : undefined}
          data-bytes={transfer ? String(transfer.bytes) : undefined}
          onMouseEnter={() => setHovered(true)}
          onMouseLeave={() => setHovered(false)}
          title={error ?? (gradText !== null ? `gradient ${gradText}` : undefined)}
          style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
        >
          {error ? '⚠ ' : ''}
          {gradKind !== null && gradKind in GRAD_FLAGS && (
            <span className={`wg-edge-label__grad grad-${gradKind}`}>{GRAD_FLAGS[gradKind]} </span>
          )}
          {transfer && (
            <span
              className="wg-edge-label__transfer"
              title={`${transfer.fromDevice} → ${transfer.toDevice}: ${transfer.bytes} bytes per step`}
            >
              ⇄ {formatBytes(transfer.bytes)}{' '}
            </span>
          )}
          {shape ?? '?'}
        </div>
        {hovered && reading && gradKey !== null && (
          <EdgeInspectAt edge={gradKey} x={labelX} y={labelY} />
        )}
      </EdgeLabelPortal>
    </>
  );
}

export const ShapeEdge = memo(ShapeEdgeView);

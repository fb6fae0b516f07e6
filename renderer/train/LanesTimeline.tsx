/**
 * The last training step as a lanes timeline: one row per execution lane, one bar per executed
 * op (`data-node` is the graph node, `data-lane` the lane, `data-phase` its phase,
 * `data-start`/`data-end` its times in ms from the step's start), coloured by
 * phase (forward, backward, optimizer). Hovering a bar highlights the canvas node that drew its
 * graph node (a layer's matmul highlights the layer) and names the op and its time below.
 *
 * A step runs a few hundred ops, and the bars are redrawn with every progress update, so they
 * are written straight into the SVG (one string, parsed once) instead of as React elements:
 * in React's development build each element cost enough to keep a frame busy past 50 ms.
 */

import { memo, useLayoutEffect, useMemo, useRef, useState } from 'react';
import type { TimelineEntry } from '../../engine/protocol/messages.js';
import { useDocumentState } from '../app/context.js';
import { laneLabel } from './timeline-rows.js';
import { useTraining, useTrainingController } from './context.js';

const W = 272;
/** The lane names' column: bars start to its right, so they never cover a name. */
const LABEL_W = 38;
const ROW = 18;
const AXIS = 14;
const SVG_NS = 'http://www.w3.org/2000/svg';

/** The graph node a timeline entry belongs to (backward ops are named `grad:<node>`). */
export function forwardNode(entry: TimelineEntry): string {
  return entry.node.startsWith('grad:') ? entry.node.slice(5) : entry.node;
}

const escape = (s: string): string => s.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** The SVG markup of the lanes and bars (values only from the engine's plain data). */
function markup(timeline: readonly TimelineEntry[], lanes: readonly number[], end: number): string {
  const x = (t: number): number => LABEL_W + (t / end) * (W - LABEL_W - 2);
  const rows = new Map(lanes.map((lane, row) => [lane, row]));
  let out = '';
  lanes.forEach((lane, row) => {
    out +=
      `<rect class="wg-timeline__lane" x="0" y="${row * ROW}" width="${W}" height="${ROW - 2}"/>` +
      `<text class="wg-chart__tick" x="3" y="${row * ROW + 11}">${laneLabel(timeline, lane)}</text>`;
  });
  timeline.forEach((e, i) => {
    const row = rows.get(e.lane) ?? 0;
    const x0 = 1 + x(e.start);
    const width = Math.max(1, x(e.end) - x(e.start));
    out +=
      `<rect class="wg-timeline__bar is-${escape(e.phase)}" data-i="${i}" ` +
      `data-node="${escape(forwardNode(e))}" data-lane="${e.lane}" data-phase="${escape(e.phase)}" ` +
      `data-start="${e.start.toFixed(4)}" data-end="${e.end.toFixed(4)}" ` +
      `x="${x0.toFixed(2)}" y="${row * ROW + 2}" width="${width.toFixed(2)}" height="${ROW - 6}"/>`;
  });
  return out;
}

function LanesTimelineView() {
  const timeline = useTraining((s) => s.timeline);
  const owner = useDocumentState((s) => s.view.owner);
  const training = useTrainingController();
  const bars = useRef<SVGGElement>(null);
  const [hovered, setHovered] = useState<TimelineEntry | null>(null);
  const lanes = useMemo(
    () => [...new Set(timeline.map((e) => e.lane))].sort((a, b) => a - b),
    [timeline],
  );
  const end = timeline.reduce((m, e) => Math.max(m, e.end), 0) || 1;
  const height = Math.max(1, lanes.length) * ROW + AXIS;
  useLayoutEffect(() => {
    const g = bars.current;
    if (!g) return;
    // Parsed as SVG: a fragment made in the SVG namespace keeps rect and text as SVG elements.
    const holder = document.createElementNS(SVG_NS, 'g');
    holder.innerHTML = markup(timeline, lanes, end);
    g.replaceChildren(...holder.childNodes);
  }, [timeline, lanes, end]);
  if (timeline.length === 0)
    return (
      <div className="wg-timeline is-empty" data-testid="lanes-timeline">
        The last step’s ops appear here once training has run.
      </div>
    );
  const hover = (target: EventTarget): void => {
    const el = target as Element;
    const i = el.getAttribute?.('data-i');
    const entry = i === null || i === undefined ? null : (timeline[Number(i)] ?? null);
    setHovered(entry);
    const node = entry ? forwardNode(entry) : null;
    training?.highlight(node === null ? null : (owner.get(node) ?? node));
  };
  return (
    <div className="wg-timeline-box">
      <svg
        className="wg-timeline"
        data-testid="lanes-timeline"
        width={W}
        height={height}
        viewBox={`0 0 ${W} ${height}`}
        onMouseOver={(e) => hover(e.target)}
        onMouseLeave={() => {
          setHovered(null);
          training?.highlight(null);
        }}
      >
        <g ref={bars} />
        <text className="wg-chart__tick" x={LABEL_W} y={height - 3}>
          0
        </text>
        <text className="wg-chart__tick" x={W - 2} y={height - 3} textAnchor="end">
          {end.toFixed(2)} ms
        </text>
      </svg>
      <div className="wg-timeline__hover" data-testid="lanes-hover">
        {hovered
          ? `${hovered.node} · ${hovered.op} · ${hovered.phase} · lane ${hovered.lane} · ` +
            `${(hovered.end - hovered.start).toFixed(3)} ms`
          : 'Hover a bar to find its node.'}
      </div>
    </div>
  );
}

export const LanesTimeline = memo(LanesTimelineView);

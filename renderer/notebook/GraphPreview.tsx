/**
 * A graph cell: a compact drawing of the canvas document (nodes where the canvas has them,
 * edges as curves) with its name and size, and a button that opens it in the canvas, which
 * stays the graph's editor. `GraphDrawing` draws any document the same way (a cell's traced
 * graph output uses it too).
 */

import { type ReactNode, memo } from 'react';
import { useDocumentState } from '../app/context.js';
import type { EditorDocument } from '../state/document.js';

const NODE_W = 180;
const NODE_H = 52;
/** Canvas pixels to preview pixels. */
const SCALE = 0.55;

interface Box {
  readonly id: string;
  readonly x: number;
  readonly y: number;
  readonly label: string;
  readonly op: string;
}

/**
 * The boxes the canvas shows: a layer (a group whose output node has the group's id) is one
 * box, as on the canvas; every other node is its own. `owner` maps each node to its box.
 */
function layoutBoxes(doc: EditorDocument): { boxes: Box[]; owner: Map<string, string> } {
  const nodes = doc.graph.nodes;
  const ids = new Set(nodes.map((n) => n.id));
  const owner = new Map<string, string>();
  for (const node of nodes)
    owner.set(node.id, node.group !== undefined && ids.has(node.group) ? node.group : node.id);
  const boxes: Box[] = [];
  let fallbackY = 0;
  for (const node of nodes) {
    if (owner.get(node.id) !== node.id) continue;
    const p = doc.layout[node.id];
    boxes.push({
      id: node.id,
      x: p?.x ?? 0,
      y: p?.y ?? (fallbackY += NODE_H * 1.8),
      label: node.name ?? node.id,
      op: node.group === node.id ? `layer · ${node.op}` : node.op,
    });
  }
  return { boxes, owner };
}

export const GraphPreview = memo(function GraphPreview({ onOpen }: { onOpen: () => void }) {
  const doc = useDocumentState((s) => s.doc);
  return (
    <GraphDrawing
      doc={doc}
      onOpen={onOpen}
      action={
        <button type="button" className="wg-button" data-testid="open-in-canvas" onClick={onOpen}>
          <span className="wg-button__icon" aria-hidden="true">
            ↗
          </span>
          <span>Open in canvas</span>
        </button>
      }
      empty="The model is empty: open the canvas to add layers, or pick a template."
    />
  );
});

/** A document drawn small, with its name, size and an action button in the head. */
export const GraphDrawing = memo(function GraphDrawing({
  doc,
  onOpen,
  action,
  empty,
  testId,
}: {
  doc: EditorDocument;
  onOpen: () => void;
  action: ReactNode;
  empty: string;
  testId?: string;
}) {
  const { boxes, owner } = layoutBoxes(doc);
  const byId = new Map(boxes.map((b) => [b.id, b]));
  const minX = Math.min(0, ...boxes.map((b) => b.x));
  const minY = Math.min(0, ...boxes.map((b) => b.y));
  const maxX = Math.max(NODE_W, ...boxes.map((b) => b.x + NODE_W));
  const maxY = Math.max(NODE_H, ...boxes.map((b) => b.y + NODE_H));
  const pad = 20;
  const viewBox = `${minX - pad} ${minY - pad} ${maxX - minX + 2 * pad} ${maxY - minY + 2 * pad}`;
  // Drawn at a fixed scale (labels stay legible); a large model scrolls inside the cell.
  const width = Math.round((maxX - minX + 2 * pad) * SCALE);
  const height = Math.round((maxY - minY + 2 * pad) * SCALE);
  const edges: { key: string; d: string }[] = [];
  const drawn = new Set<string>();
  for (const node of doc.graph.nodes)
    node.inputs.forEach((input) => {
      const from = byId.get(owner.get(input) ?? input);
      const to = byId.get(owner.get(node.id) ?? node.id);
      const key = `${from?.id}->${to?.id}`;
      if (!from || !to || from === to || drawn.has(key)) return;
      drawn.add(key);
      const x1 = from.x + NODE_W / 2;
      const y1 = from.y + NODE_H;
      const x2 = to.x + NODE_W / 2;
      const y2 = to.y;
      const mid = (y1 + y2) / 2;
      edges.push({
        key,
        d: `M${x1},${y1} C${x1},${mid} ${x2},${mid} ${x2},${y2}`,
      });
    });
  return (
    <div className="wg-graphcell" data-testid={testId}>
      <div className="wg-graphcell__head">
        <span className="wg-graphcell__name">{doc.graph.name ?? 'Untitled model'}</span>
        <span className="wg-graphcell__meta">
          {doc.graph.nodes.length} node{doc.graph.nodes.length === 1 ? '' : 's'} ·{' '}
          {doc.graph.outputs.length} output{doc.graph.outputs.length === 1 ? '' : 's'}
        </span>
        {action}
      </div>
      {boxes.length === 0 ? (
        <div className="wg-graphcell__empty">{empty}</div>
      ) : (
        <div className="wg-graphcell__view">
          <svg
            className="wg-graphcell__svg"
            viewBox={viewBox}
            preserveAspectRatio="xMidYMid meet"
            role="img"
            aria-label={`Graph of ${doc.graph.name ?? 'the model'}`}
            onDoubleClick={onOpen}
            width={width}
            height={height}
          >
            {edges.map((e) => (
              <path key={e.key} d={e.d} className="wg-graphcell__edge" />
            ))}
            {boxes.map((b) => (
              <g key={b.id} transform={`translate(${b.x},${b.y})`}>
                <rect width={NODE_W} height={NODE_H} rx={7} className="wg-graphcell__node" />
                <text x={12} y={22} className="wg-graphcell__label">
                  {b.label.length > 16 ? `${b.label.slice(0, 15)}…` : b.label}
                </text>
                <text x={12} y={42} className="wg-graphcell__op">
                  {b.op}
                </text>
              </g>
            ))}
          </svg>
        </div>
      )}
    </div>
  );
});

/**
 * A graph cell: a compact drawing of its graph (nodes where the canvas has them, edges as
 * curves) with its name and size, and "Edit on canvas", which makes it the active graph (the
 * canvas stays the graph's editor). The active cell draws the canvas's live document and is
 * marked; the others draw the graph they hold. `GraphDrawing` draws any document the same way (a
 * cell's traced graph output uses it too).
 */

import { type ReactNode, memo, useMemo } from 'react';
import { useDocumentState } from '../app/context.js';
import { type EditorDocument, documentFromFile } from '../state/document.js';
import { useNotebookState } from './context.js';

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

/** The boxes the canvas shows for the graph (a layer counts once), as the cell's head says. */
export function boxCount(doc: EditorDocument): number {
  return layoutBoxes(doc).boxes.length;
}

/** The number of values in the graph's parameters (those whose shape is written out). */
export function parameterCount(doc: EditorDocument): number {
  let total = 0;
  for (const node of doc.graph.nodes) {
    const shape = node.attrs.shape;
    if (node.op !== 'parameter' || !Array.isArray(shape)) continue;
    total += shape.reduce<number>((n, d) => n * (typeof d === 'number' && d > 0 ? d : 0), 1);
  }
  return total;
}

function EditButton({ onEdit, active }: { onEdit: () => void; active: boolean }) {
  return (
    <button
      type="button"
      className={`wg-button${active ? '' : ' wg-button--primary'}`}
      data-testid="graph-cell-edit"
      title={
        active
          ? 'This graph is on the canvas: go to the canvas'
          : 'Put this graph on the canvas to edit, train and export it (the graph there now ' +
            'stays in its own cell)'
      }
      onClick={onEdit}
    >
      <span className="wg-button__icon" aria-hidden="true">
        ↗
      </span>
      <span>Edit on canvas</span>
    </button>
  );
}

const ACTIVE_BADGE = (
  <span
    className="wg-graphcell__badge"
    data-testid="graph-cell-active"
    title="The canvas edits, trains and exports this graph"
  >
    On canvas
  </span>
);

/** The active graph cell: the canvas's live document. */
const ActiveGraph = memo(function ActiveGraph({ onEdit }: { onEdit: () => void }) {
  const doc = useDocumentState((s) => s.doc);
  return (
    <GraphDrawing
      doc={doc}
      onOpen={onEdit}
      badge={ACTIVE_BADGE}
      action={<EditButton onEdit={onEdit} active />}
      empty="The model is empty: open the canvas to add layers, or pick a template."
    />
  );
});

/** Another graph cell: the graph it holds, or why it cannot be read. */
const HeldGraph = memo(function HeldGraph({
  cellId,
  onEdit,
}: {
  cellId: string;
  onEdit: () => void;
}) {
  const slot = useNotebookState((s) => s.graphs[cellId]);
  const read = useMemo((): { doc: EditorDocument } | { error: string } => {
    if (!slot) return { error: 'this graph cell has no graph' };
    if ('error' in slot) return { error: slot.error };
    try {
      return { doc: documentFromFile(slot.graph) };
    } catch (error) {
      return { error: error instanceof Error ? error.message : String(error) };
    }
  }, [slot]);
  if ('error' in read)
    return (
      <div className="wg-graphcell is-broken" role="alert" data-testid="graph-cell-error">
        <div className="wg-graphcell__head">
          <span className="wg-graphcell__name">Unreadable graph</span>
        </div>
        <div className="wg-graphcell__empty">{read.error}</div>
      </div>
    );
  return (
    <GraphDrawing
      doc={read.doc}
      onOpen={onEdit}
      action={<EditButton onEdit={onEdit} active={false} />}
      empty="This model is empty: edit it on the canvas to add layers."
    />
  );
});

/** A graph cell's body: the canvas's document when it is active, else the graph it holds. */
export function GraphPreview({
  cellId,
  active,
  onEdit,
}: {
  cellId: string;
  active: boolean;
  onEdit: () => void;
}) {
  return active ? <ActiveGraph onEdit={onEdit} /> : <HeldGraph cellId={cellId} onEdit={onEdit} />;
}

/** A document drawn small, with its name, size and an action button in the head. */
export const GraphDrawing = memo(function GraphDrawing({
  doc,
  onOpen,
  action,
  empty,
  testId,
  badge,
}: {
  doc: EditorDocument;
  onOpen: () => void;
  action: ReactNode;
  empty: string;
  testId?: string;
  /** Shown after the name (the active graph cell's mark). */
  badge?: ReactNode;
}) {
  const { boxes, owner } = layoutBoxes(doc);
  const params = parameterCount(doc);
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
        {badge}
        <span className="wg-graphcell__meta">
          {boxes.length} node{boxes.length === 1 ? '' : 's'} · {params.toLocaleString('en-US')}{' '}
          parameter{params === 1 ? '' : 's'} · {doc.graph.outputs.length} output
          {doc.graph.outputs.length === 1 ? '' : 's'}
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

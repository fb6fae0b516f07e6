/**
 * A small layered layout for the canvas (Sugiyama's scheme, reduced to what model graphs need):
 * data flows down, so layers (rows) are the longest path from the inputs; sources move next to
 * their first consumer (a label input sits by its loss, not by the data input); within a row,
 * nodes are ordered by the average position of their inputs to keep edges short. Row heights
 * follow an estimate of the cards' heights. Deterministic and synchronous, so templates and
 * files without a layout open laid out, and "Tidy up" is one undoable move.
 */

import type { Point } from './document.js';
import type { DocumentView, ViewNode } from './view.js';

/** Horizontal distance between neighbours in a row (a card is 196 px wide). */
export const COLUMN_WIDTH = 236;
/** Vertical space between rows, room for an edge and its shape label. */
export const ROW_GAP = 76;

/** About how tall a node's card is (the canvas measures the real one later). */
export function estimatedHeight(node: ViewNode): number {
  const ports = node.ports.length > 1 || (node.ports[0] && node.ports[0].name !== 'x') ? 14 : 0;
  const body = node.params.length > 0 ? 11 + 17 * node.params.length : node.kind === 'op' ? 28 : 0;
  return 3 + ports + 35 + body + 30;
}

/** Positions of every view node, top to bottom in data-flow order. */
export function layeredLayout(view: DocumentView): Record<string, Point> {
  const preds = new Map<string, string[]>();
  const succs = new Map<string, string[]>();
  for (const node of view.nodes) {
    preds.set(node.id, []);
    succs.set(node.id, []);
  }
  for (const edge of view.edges) {
    if (edge.source === edge.target) continue;
    preds.get(edge.target)?.push(edge.source);
    succs.get(edge.source)?.push(edge.target);
  }

  // Longest-path rank; a cycle (only in a broken file) is cut where it is met.
  const rank = new Map<string, number>();
  const visiting = new Set<string>();
  const rankOf = (id: string): number => {
    const known = rank.get(id);
    if (known !== undefined) return known;
    if (visiting.has(id)) return 0;
    visiting.add(id);
    const r = Math.max(-1, ...(preds.get(id) ?? []).map(rankOf)) + 1;
    visiting.delete(id);
    rank.set(id, r);
    return r;
  };
  for (const node of view.nodes) rankOf(node.id);
  for (const node of view.nodes) {
    const consumers = succs.get(node.id) ?? [];
    if ((preds.get(node.id) ?? []).length === 0 && consumers.length > 0)
      rank.set(node.id, Math.max(0, Math.min(...consumers.map((c) => rank.get(c)!)) - 1));
  }

  const rows = new Map<number, ViewNode[]>();
  for (const node of view.nodes) {
    const r = rank.get(node.id)!;
    rows.set(r, [...(rows.get(r) ?? []), node]);
  }
  const column = new Map<string, number>();
  const positions: Record<string, Point> = {};
  let y = 0;
  for (const r of [...rows.keys()].sort((a, b) => a - b)) {
    const nodes = rows.get(r)!;
    const key = (id: string): number => {
      const cols = (preds.get(id) ?? []).map((p) => column.get(p)).filter((v) => v !== undefined);
      return cols.length > 0 ? cols.reduce((a, b) => a + b, 0) / cols.length : Infinity;
    };
    const order = nodes
      .map((node, i) => ({ id: node.id, key: key(node.id), i }))
      .sort((a, b) => (a.key === b.key ? a.i - b.i : a.key - b.key));
    order.forEach(({ id }, i) => {
      const x = i - (order.length - 1) / 2;
      column.set(id, x);
      positions[id] = { x: Math.round(x * COLUMN_WIDTH), y };
    });
    y += Math.max(...nodes.map(estimatedHeight)) + ROW_GAP;
  }
  return positions;
}

/** About the size a card covers, with a margin, for finding free space. */
const CARD = { width: 196 + 28, height: 170 };

/**
 * The first position at or below `desired` (data flows down) where a new card would not cover
 * an existing one, so nodes inserted by a click do not pile up on each other.
 */
export function freeSpot(layout: Readonly<Record<string, Point>>, desired: Point): Point {
  const taken = Object.values(layout);
  let spot = desired;
  for (let tries = 0; tries < 50; tries++) {
    const blocked = taken.some(
      (p) => Math.abs(p.x - spot.x) < CARD.width && Math.abs(p.y - spot.y) < CARD.height,
    );
    if (!blocked) return spot;
    spot = { x: spot.x, y: spot.y + CARD.height };
  }
  return spot;
}

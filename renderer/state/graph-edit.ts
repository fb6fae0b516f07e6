/**
 * Small pure helpers that commands share for reading and rewriting a document's node list:
 * fresh ids, the next parameter seed, and immutable node updates that keep every untouched
 * node object (so React and undo entries can rely on reference equality).
 */

import { type EditorDocument, type NodeJSON, nodeById } from './document.js';

/** `${base}_${n}` for the smallest n >= 1 free as a node id, a group id and an id prefix. */
export function freshId(
  doc: EditorDocument,
  base: string,
  taken: ReadonlySet<string> = new Set(),
): string {
  const used = new Set<string>(taken);
  for (const node of doc.graph.nodes) {
    used.add(node.id);
    if (node.group) used.add(node.group);
    const dot = node.id.indexOf('.');
    if (dot > 0) used.add(node.id.slice(0, dot));
  }
  for (let n = 1; ; n++) {
    const id = `${base}_${n}`;
    if (!used.has(id)) return id;
  }
}

/** One more than the largest parameter seed, so new parameters draw new random streams. */
export function nextSeed(nodes: readonly NodeJSON[]): number {
  let max = 0;
  for (const node of nodes)
    if (node.op === 'parameter' && typeof node.attrs.seed === 'number')
      max = Math.max(max, node.attrs.seed);
  return max + 1;
}

export function findNode(doc: EditorDocument, id: string): NodeJSON | undefined {
  return nodeById(doc.graph.nodes, id);
}

/** The document with `update` applied to the nodes it returns a different object for. */
export function mapNodes(
  doc: EditorDocument,
  update: (node: NodeJSON) => NodeJSON,
): EditorDocument {
  let changed = false;
  const nodes = doc.graph.nodes.map((node) => {
    const next = update(node);
    if (next !== node) changed = true;
    return next;
  });
  return changed ? { ...doc, graph: { ...doc.graph, nodes } } : doc;
}

/** The ids of the nodes that `ids` reach through inputs (including `ids`). */
export function upstreamOf(nodes: readonly NodeJSON[], ids: readonly string[]): Set<string> {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const seen = new Set<string>();
  const stack = [...ids];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (seen.has(id)) continue;
    seen.add(id);
    for (const input of byId.get(id)?.inputs ?? []) if (input !== '') stack.push(input);
  }
  return seen;
}

/** Element count of a shape (1 for a scalar). */
export function sizeOfShape(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

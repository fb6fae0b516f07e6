/**
 * The canvas document: the engine's graph document (GraphJSON, possibly mid-edit: an input id
 * of '' is an unconnected port) plus the canvas layout, the position of each node as the canvas
 * shows it (a collapsed layer has one position, under its group id). Documents are immutable
 * values: commands return new ones that share unchanged nodes, which is what makes undo entries
 * cheap and exact. On disk the layout travels in the graph's `meta.layout`, so a saved file is
 * a plain graph document that the engine and the CLI read as is.
 */

import type { AttrValueJSON, GraphJSON, NodeJSON, OutputJSON } from '../../engine/graph/ir.js';

export type { AttrValueJSON, GraphJSON, NodeJSON, OutputJSON };

/** A position on the canvas, in flow coordinates (pixels at zoom 1). */
export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface EditorDocument {
  /** The graph; its `meta` holds what the host keeps besides the layout (training config …). */
  readonly graph: GraphJSON;
  /** Position of each node the canvas shows, by node id (or group id, for a collapsed layer). */
  readonly layout: Readonly<Record<string, Point>>;
}

export const GRAPH_FORMAT = 'wiregrad.graph';
export const GRAPH_VERSION = 1;

export function emptyDocument(name = 'Untitled model'): EditorDocument {
  return {
    graph: { format: GRAPH_FORMAT, version: GRAPH_VERSION, name, nodes: [], outputs: [] },
    layout: {},
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isPoint(v: unknown): v is Point {
  return isRecord(v) && Number.isFinite(v.x) && Number.isFinite(v.y);
}

/** The file form: the graph with the layout in `meta.layout`. */
export function documentToFile(doc: EditorDocument): GraphJSON {
  return { ...doc.graph, meta: { ...doc.graph.meta, layout: doc.layout } };
}

/**
 * Reads a saved document. Only the envelope is checked here (a graph document of a version this
 * build knows, with a node list); problems inside nodes are the engine's to report, on the
 * canvas, so a half-finished model still opens.
 */
export function documentFromFile(json: unknown): EditorDocument {
  if (!isRecord(json) || json.format !== GRAPH_FORMAT)
    throw new Error(`not a Wiregrad graph: expected "format": "${GRAPH_FORMAT}"`);
  if (json.version !== GRAPH_VERSION)
    throw new Error(
      `graph format version ${String(json.version)}: this version of Wiregrad opens version ` +
        `${GRAPH_VERSION}; use the CLI's migration or a newer Wiregrad`,
    );
  if (!Array.isArray(json.nodes) || !json.nodes.every(isRecord))
    throw new Error('the graph has no "nodes" list of objects');
  const outputs = Array.isArray(json.outputs) ? json.outputs : [];
  const { layout: rawLayout, ...meta } = isRecord(json.meta) ? json.meta : {};
  const layout: Record<string, Point> = {};
  if (isRecord(rawLayout))
    for (const [id, p] of Object.entries(rawLayout))
      if (isPoint(p)) layout[id] = { x: p.x, y: p.y };
  const graph = {
    ...(json as unknown as GraphJSON),
    nodes: json.nodes as unknown as NodeJSON[],
    outputs: outputs as OutputJSON[],
  };
  if (Object.keys(meta).length > 0) return { graph: { ...graph, meta }, layout };
  const { meta: _dropped, ...withoutMeta } = graph;
  return { graph: withoutMeta, layout };
}

/** Parses a file's text; throws an Error that says what is wrong with it. */
export function parseDocument(text: string): EditorDocument {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new Error(`the file is not JSON: ${error instanceof Error ? error.message : ''}`);
  }
  return documentFromFile(json);
}

export function serializeDocument(doc: EditorDocument): string {
  return `${JSON.stringify(documentToFile(doc), null, 2)}\n`;
}

const nodeIndexes = new WeakMap<readonly NodeJSON[], ReadonlyMap<string, NodeJSON>>();

/**
 * The node with this id, through an index built once per (immutable) node list: canvas cards
 * look their node up on every document change, and a linear search each made opening a
 * 1,000-node model quadratic.
 */
export function nodeById(nodes: readonly NodeJSON[], id: string): NodeJSON | undefined {
  let index = nodeIndexes.get(nodes);
  if (!index) {
    index = new Map(nodes.map((n) => [n.id, n]));
    nodeIndexes.set(nodes, index);
  }
  return index.get(id);
}

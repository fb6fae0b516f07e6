/**
 * Every edit of a canvas document is one of these named commands: a pure function from the
 * document (and its arguments) to the next document and a label for the undo menu, or null
 * when it changes nothing (then nothing goes on the undo stack). They never mutate: unchanged
 * nodes keep their identity. The editor (editor.ts) runs them and keeps the undo history;
 * tests run them directly. Node ids here are graph node ids; mapping the canvas's collapsed
 * layers and ports to them is the editor's job (view.ts).
 */

import type { OpInfo, SymbolicShape } from '../../engine/protocol/messages.js';
import type { AttrValueJSON, EditorDocument, NodeJSON, Point } from './document.js';
import { findNode, freshId, mapNodes, nextSeed, upstreamOf } from './graph-edit.js';
import {
  type LayerConfig,
  FLATTEN_NAME,
  adaptedLayer,
  flattenShape,
  isFlatten,
  readLayer,
  reconfigureLayer,
} from './layers.js';
import { buildItem, paletteItems } from './palette-items.js';
import { setDevice } from './device-pins.js';
import {
  type FragmentGroup,
  addPastedGroups,
  groupNodes,
  pruneGroups,
  renameGroup,
  setGroupCollapsed,
  ungroup,
} from './groups.js';

export interface CommandContext {
  /** The engine's op catalog, by name (empty until the worker has answered). */
  readonly ops: ReadonlyMap<string, OpInfo>;
}

export interface CommandResult {
  readonly doc: EditorDocument;
  /** What the undo/redo buttons say: "Undo Connect x → linear_1". */
  readonly label: string;
  /** Canvas node ids to select afterwards (what the command created). */
  readonly select?: readonly string[];
}

/** Nodes and positions cut out of a document, for copy and paste. */
export interface Fragment {
  readonly nodes: readonly NodeJSON[];
  readonly layout: Readonly<Record<string, Point>>;
  /** Collapsed groups among the copied nodes (pasted as groups again). */
  readonly groups?: readonly FragmentGroup[];
}

// ---- helpers ------------------------------------------------------------------------------

/** The canvas id of a node: its group's id when its layer is collapsed, else its own. */
function canvasId(nodes: readonly NodeJSON[], node: NodeJSON): string {
  const group = node.group;
  return group !== undefined && nodes.some((n) => n.id === group && n.group === group)
    ? group
    : node.id;
}

/**
 * Inputs after a port was emptied: a repeating variadic op (concat) closes the gap, other
 * variadic ops drop trailing empty optional slots (linear's bias); fixed ports keep ''.
 */
function tidyInputs(inputs: readonly string[], info: OpInfo | undefined): string[] {
  if (!info || info.arity !== 'variadic') return [...inputs];
  let out = info.maxInputs === null ? inputs.filter((i) => i !== '') : [...inputs];
  while (out.length > info.minInputs && out[out.length - 1] === '') out = out.slice(0, -1);
  while (out.length < info.minInputs) out.push('');
  return out;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Adapts the layer (or Flatten) that `target`'s input `index` feeds to a new input shape. */
function adaptTarget(
  doc: EditorDocument,
  target: string,
  index: number,
  shape: SymbolicShape | undefined,
): EditorDocument {
  if (!shape) return doc;
  const node = findNode(doc, target);
  if (!node) return doc;
  if (isFlatten(node) && index === 0) {
    const flat = flattenShape(shape);
    if (!flat || sameValue(flat, node.attrs.shape)) return doc;
    return mapNodes(doc, (n) => (n === node ? { ...n, attrs: { ...n.attrs, shape: flat } } : n));
  }
  if (node.group === undefined) return doc;
  const layer = readLayer(doc, node.group);
  if (!layer || layer.entry.node !== target || layer.entry.index !== index) return doc;
  const config = adaptedLayer(layer, shape);
  return config ? (reconfigureLayer(doc, node.group, config) ?? doc) : doc;
}

// ---- commands -----------------------------------------------------------------------------

/** Inserts a palette entry (an op, or a layer with its parameters) at a canvas position. */
export function addNode(
  doc: EditorDocument,
  args: { readonly item: string; readonly position: Point },
  ctx: CommandContext,
): CommandResult | null {
  const nodes = buildItem(doc, args.item, ctx.ops);
  if (!nodes || nodes.length === 0) return null;
  const all = [...doc.graph.nodes, ...nodes];
  const id = canvasId(all, nodes[nodes.length - 1]!);
  const label = paletteItems(null).find((i) => i.key === args.item)?.label ?? args.item;
  return {
    doc: { graph: { ...doc.graph, nodes: all }, layout: { ...doc.layout, [id]: args.position } },
    label: `Add ${label}`,
    select: [id],
  };
}

/** Removes canvas nodes (a layer with all its members); inputs they fed become unconnected. */
export function removeNodes(
  doc: EditorDocument,
  args: { readonly ids: readonly string[] },
  ctx: CommandContext,
): CommandResult | null {
  const ids = new Set(args.ids);
  const removed = new Set(
    doc.graph.nodes
      .filter(
        (n) => ids.has(n.id) || (n.group !== undefined && ids.has(canvasId(doc.graph.nodes, n))),
      )
      .map((n) => n.id),
  );
  if (removed.size === 0) return null;
  const nodes = doc.graph.nodes
    .filter((n) => !removed.has(n.id))
    .map((n) => {
      if (!n.inputs.some((i) => removed.has(i))) return n;
      const inputs = n.inputs.map((i) => (removed.has(i) ? '' : i));
      return { ...n, inputs: tidyInputs(inputs, ctx.ops.get(n.op)) };
    });
  const layout = Object.fromEntries(
    Object.entries(doc.layout).filter(([id]) => !removed.has(id) && !ids.has(id)),
  );
  const outputs = doc.graph.outputs.filter((o) => !removed.has(o.node));
  const count = [...ids].length;
  return {
    doc: pruneGroups({ graph: { ...doc.graph, nodes, outputs }, layout }),
    label: count === 1 ? `Delete ${[...ids][0]}` : `Delete ${count} nodes`,
  };
}

/**
 * Connects `source`'s output to input `index` of `target` (replacing what was there; index
 * may be one past the end of a variadic op's inputs). Refuses a connection that would close a
 * cycle. Given the source's shape, a layer adapts its input size to it (see layers.ts).
 */
export function connect(
  doc: EditorDocument,
  args: {
    readonly source: string;
    readonly target: string;
    readonly index: number;
    readonly sourceShape?: SymbolicShape;
  },
): CommandResult | null {
  const { source, target, index } = args;
  const node = findNode(doc, target);
  if (!node || !findNode(doc, source) || source === target || index < 0) return null;
  if (upstreamOf(doc.graph.nodes, [source]).has(target)) return null; // would be a cycle
  if (node.inputs[index] === source) return null;
  const inputs = [...node.inputs];
  while (inputs.length < index) inputs.push('');
  inputs[index] = source;
  const connected = mapNodes(doc, (n) => (n === node ? { ...n, inputs } : n));
  return {
    doc: adaptTarget(connected, target, index, args.sourceShape),
    label: `Connect ${source} → ${target}`,
  };
}

/** Disconnects inputs (each a target node and input index), as one edit. */
export function disconnect(
  doc: EditorDocument,
  args: { readonly ports: readonly { readonly target: string; readonly index: number }[] },
  ctx: CommandContext,
): CommandResult | null {
  const emptied = new Map<string, Set<number>>();
  const names: string[] = [];
  for (const { target, index } of args.ports) {
    const source = findNode(doc, target)?.inputs[index];
    if (source === undefined || source === '') continue;
    emptied.set(target, (emptied.get(target) ?? new Set()).add(index));
    names.push(`${source} → ${target}`);
  }
  if (names.length === 0) return null;
  return {
    doc: mapNodes(doc, (n) => {
      const indices = emptied.get(n.id);
      if (!indices) return n;
      const inputs = n.inputs.map((i, k) => (indices.has(k) ? '' : i));
      return { ...n, inputs: tidyInputs(inputs, ctx.ops.get(n.op)) };
    }),
    label: names.length === 1 ? `Disconnect ${names[0]!}` : `Disconnect ${names.length} edges`,
  };
}

/** Sets (or, with undefined, removes) one attribute of a node. */
export function setAttr(
  doc: EditorDocument,
  args: { readonly node: string; readonly name: string; readonly value: AttrValueJSON | undefined },
): CommandResult | null {
  const node = findNode(doc, args.node);
  if (!node || sameValue(node.attrs[args.name], args.value)) return null;
  const { [args.name]: _old, ...rest } = node.attrs;
  const attrs = args.value === undefined ? rest : { ...node.attrs, [args.name]: args.value };
  return {
    doc: mapNodes(doc, (n) => (n === node ? { ...n, attrs } : n)),
    label: `Set ${args.node}.${args.name}`,
  };
}

/** Rebuilds a layer for a new configuration (features, channels, kernel …). */
export function setLayerConfig(
  doc: EditorDocument,
  args: { readonly group: string; readonly config: LayerConfig },
): CommandResult | null {
  const next = reconfigureLayer(doc, args.group, args.config);
  if (!next || next === doc) return null;
  return { doc: next, label: `Configure ${args.group}` };
}

/** Moves canvas nodes to new positions. */
export function moveNodes(
  doc: EditorDocument,
  args: { readonly positions: Readonly<Record<string, Point>> },
): CommandResult | null {
  const moved = Object.entries(args.positions).filter(([id, p]) => {
    const old = doc.layout[id];
    return !old || old.x !== p.x || old.y !== p.y;
  });
  if (moved.length === 0) return null;
  return {
    doc: { ...doc, layout: { ...doc.layout, ...Object.fromEntries(moved) } },
    label: moved.length === 1 ? `Move ${moved[0]![0]}` : `Move ${moved.length} nodes`,
  };
}

/** The nodes of some canvas nodes (layers with their members) and their positions. */
export function copyFragment(doc: EditorDocument, ids: readonly string[]): Fragment {
  const wanted = new Set(ids);
  const nodes = doc.graph.nodes.filter((n) => wanted.has(canvasId(doc.graph.nodes, n)));
  const layout = Object.fromEntries(Object.entries(doc.layout).filter(([id]) => wanted.has(id)));
  return { nodes, layout };
}

/**
 * Pastes a fragment with fresh ids (layers keep their member naming), fresh parameter seeds
 * (a pasted layer is a new layer, initialised anew), connections inside the fragment kept and
 * those to nodes outside it left unconnected, shifted by `offset`.
 */
export function paste(
  doc: EditorDocument,
  args: { readonly fragment: Fragment; readonly offset: Point },
): CommandResult | null {
  const { fragment, offset } = args;
  if (fragment.nodes.length === 0) return null;
  const rename = new Map<string, string>();
  const taken = new Set<string>();
  const fresh = (old: string): string => {
    const id = freshId(doc, old.replace(/_\d+$/, ''), taken);
    taken.add(id);
    return id;
  };
  for (const node of fragment.nodes) {
    const group = node.group;
    if (group !== undefined && fragment.nodes.some((n) => n.id === group)) {
      if (!rename.has(group)) rename.set(group, fresh(group));
      const prefix = `${group}.`;
      rename.set(
        node.id,
        node.id === group
          ? rename.get(group)!
          : node.id.startsWith(prefix)
            ? `${rename.get(group)!}.${node.id.slice(prefix.length)}`
            : fresh(node.id),
      );
    } else if (!rename.has(node.id)) rename.set(node.id, fresh(node.id));
  }
  let seed = nextSeed(doc.graph.nodes);
  const pasted = fragment.nodes.map((node): NodeJSON => {
    const { group, ...rest } = node;
    const newGroup = group !== undefined ? rename.get(group) : undefined;
    return {
      ...rest,
      id: rename.get(node.id)!,
      inputs: node.inputs.map((i) => rename.get(i) ?? ''),
      attrs: node.op === 'parameter' ? { ...node.attrs, seed: seed++ } : node.attrs,
      ...(newGroup !== undefined ? { group: newGroup } : {}),
    };
  });
  const layout: Record<string, Point> = { ...doc.layout };
  const select: string[] = [];
  for (const [id, p] of Object.entries(fragment.layout)) {
    const newId = rename.get(id);
    if (newId === undefined) continue;
    layout[newId] = { x: p.x + offset.x, y: p.y + offset.y };
    select.push(newId);
  }
  const grouped = addPastedGroups(
    { graph: { ...doc.graph, nodes: [...doc.graph.nodes, ...pasted] }, layout },
    { groups: fragment.groups, rename, offset, select },
  );
  return {
    doc: grouped.doc,
    label: pasted.length === 1 ? `Paste ${pasted[0]!.id}` : `Paste ${select.length} nodes`,
    select: grouped.select,
  };
}

/**
 * Puts a Flatten (reshape to [-1, F]) between input `index` of `target` and what feeds it, and
 * adapts the layer there to the flattened size: the fix for an image into a Linear. `moves`
 * shifts canvas nodes in the same edit, to make room for the new one.
 */
export function insertFlatten(
  doc: EditorDocument,
  args: {
    readonly target: string;
    readonly index: number;
    readonly sourceShape: SymbolicShape;
    readonly position: Point;
    readonly moves?: Readonly<Record<string, Point>>;
  },
): CommandResult | null {
  const node = findNode(doc, args.target);
  const source = node?.inputs[args.index];
  const shape = flattenShape(args.sourceShape);
  if (!node || !source || !shape) return null;
  const id = freshId(doc, 'flatten');
  const flatten: NodeJSON = {
    id,
    op: 'reshape',
    inputs: [source],
    attrs: { shape },
    name: FLATTEN_NAME,
  };
  const nodes = [...doc.graph.nodes, flatten].map((n) =>
    n === node ? { ...n, inputs: n.inputs.map((i, k) => (k === args.index ? id : i)) } : n,
  );
  const inserted = {
    graph: { ...doc.graph, nodes },
    layout: { ...doc.layout, ...args.moves, [id]: args.position },
  };
  return {
    doc: adaptTarget(inserted, args.target, args.index, ['N', shape[1]!]),
    label: 'Insert Flatten',
    select: [id],
  };
}

/** Replaces the whole document (New, Open, a template), undoably. */
export function replaceDocument(
  _doc: EditorDocument,
  args: { readonly doc: EditorDocument; readonly label: string },
): CommandResult | null {
  return { doc: args.doc, label: args.label };
}

/** Every command by name: what the editor can run and the undo history records. */
export const COMMANDS = {
  addNode,
  removeNodes,
  connect,
  disconnect,
  setAttr,
  setLayerConfig,
  moveNodes,
  paste,
  insertFlatten,
  replaceDocument,
  setDevice,
  groupNodes,
  ungroup,
  setGroupCollapsed,
  renameGroup,
} as const;

export type CommandName = keyof typeof COMMANDS;
export type CommandArgs<N extends CommandName> = Parameters<(typeof COMMANDS)[N]>[1];

/**
 * Groups: canvas nodes the user folded into one card (Group, Ctrl/Cmd+G). A group is a view
 * concept only: the engine always sees the flat graph, so shape inference and validation run
 * unchanged through groups, and the card shows what the engine inferred for the members.
 *
 * Groups live in the graph's `meta.groups` (by group id: a name, the member canvas ids and
 * whether the group is collapsed), so they travel with the document through every command,
 * undo entry and file without touching the nodes, and a file without groups opens as before.
 * Members are canvas ids of the plain view (node ids, or a layer's group id). A collapsed
 * group has one layout position, under its id; opening it moves the members by however far
 * the card was moved since it was collapsed.
 */

import type { CommandResult } from './commands.js';
import type { EditorDocument, Point } from './document.js';
import { freshId, sizeOfShape } from './graph-edit.js';
import type { ViewNode, ViewPort } from './view.js';

/** One group as the document stores it. */
export interface CanvasGroup {
  readonly name: string;
  /** Canvas ids of the plain view (node ids, layer group ids), in the order they were grouped. */
  readonly members: readonly string[];
  /** Drawn as one card (true) or as its members inside a frame (false). */
  readonly collapsed: boolean;
}

export type CanvasGroups = Readonly<Record<string, CanvasGroup>>;

/** What a collapsed group's card shows besides its ports. */
export interface GroupSummary {
  readonly name: string;
  /** How many canvas nodes it folds. */
  readonly memberCount: number;
  /** Scalars in its parameters. */
  readonly paramCount: number;
  /** Graph nodes whose values leave the group (or its last member's, when none do yet). */
  readonly outputs: readonly string[];
}

const NO_GROUPS: CanvasGroups = {};

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The document's groups; malformed entries (a hand-edited file) are skipped. */
export function groupsOf(doc: EditorDocument): CanvasGroups {
  const raw = doc.graph.meta?.groups;
  if (!isRecord(raw)) return NO_GROUPS;
  const out: Record<string, CanvasGroup> = {};
  for (const [id, g] of Object.entries(raw)) {
    if (!isRecord(g) || !Array.isArray(g.members)) continue;
    const members = g.members.filter((m): m is string => typeof m === 'string');
    out[id] = {
      name: typeof g.name === 'string' ? g.name : id,
      members,
      collapsed: g.collapsed !== false,
    };
  }
  return out;
}

function withGroups(doc: EditorDocument, groups: CanvasGroups): EditorDocument {
  const { groups: _old, ...meta } = doc.graph.meta ?? {};
  const nextMeta = Object.keys(groups).length > 0 ? { ...meta, groups } : meta;
  if (Object.keys(nextMeta).length > 0) return { ...doc, graph: { ...doc.graph, meta: nextMeta } };
  const { meta: _dropped, ...graph } = doc.graph;
  return { ...doc, graph };
}

/** The plain canvas id of each graph node (its layer's id when it is in a layer). */
function plainCanvasIds(doc: EditorDocument): Map<string, string> {
  const layers = new Set(
    doc.graph.nodes.filter((n) => n.group !== undefined && n.group === n.id).map((n) => n.id),
  );
  return new Map(
    doc.graph.nodes.map((n) => [
      n.id,
      n.group !== undefined && layers.has(n.group) ? n.group : n.id,
    ]),
  );
}

/** Group ids among `ids` are replaced by their members (for delete, copy, move). */
export function expandGroupIds(doc: EditorDocument, ids: readonly string[]): string[] {
  const groups = groupsOf(doc);
  const out: string[] = [];
  for (const id of ids) {
    const group = groups[id];
    if (group) out.push(...group.members.filter((m) => !out.includes(m)));
    else if (!out.includes(id)) out.push(id);
  }
  return out;
}

/** The top-left corner of some positions (or null when none is known). */
function topLeft(layout: Readonly<Record<string, Point>>, ids: readonly string[]): Point | null {
  const points = ids.flatMap((id) => (layout[id] ? [layout[id]] : []));
  if (points.length === 0) return null;
  return { x: Math.min(...points.map((p) => p.x)), y: Math.min(...points.map((p) => p.y)) };
}

/** The layout with `ids` shifted so their top-left corner lands on `to`. */
function shiftTo(
  layout: Readonly<Record<string, Point>>,
  ids: readonly string[],
  to: Point | undefined,
): Record<string, Point> {
  const from = topLeft(layout, ids);
  if (!from || !to || (from.x === to.x && from.y === to.y)) return { ...layout };
  const dx = to.x - from.x;
  const dy = to.y - from.y;
  const next = { ...layout };
  for (const id of ids) {
    const p = layout[id];
    if (p) next[id] = { x: p.x + dx, y: p.y + dy };
  }
  return next;
}

// ---- commands -----------------------------------------------------------------------------

/**
 * Folds canvas nodes into one collapsed group. A selected group is merged into the new one;
 * members of an open group leave it (a node belongs to one group at most).
 */
export function groupNodes(
  doc: EditorDocument,
  args: { readonly ids: readonly string[]; readonly name?: string },
): CommandResult | null {
  const plain = new Set(plainCanvasIds(doc).values());
  const members = expandGroupIds(doc, args.ids).filter((id) => plain.has(id));
  if (members.length === 0) return null;
  const old = groupsOf(doc);
  const taken = new Set(Object.keys(old));
  const id = freshId(doc, 'group', taken);
  const groups: Record<string, CanvasGroup> = {};
  const chosen = new Set(members);
  for (const [gid, g] of Object.entries(old)) {
    if (args.ids.includes(gid)) continue; // merged
    const left = g.members.filter((m) => !chosen.has(m));
    if (left.length > 0)
      groups[gid] = left.length === g.members.length ? g : { ...g, members: left };
  }
  const number = id.slice('group_'.length);
  groups[id] = { name: args.name ?? `Group ${number}`, members, collapsed: true };
  const layout: Record<string, Point> = { ...doc.layout };
  for (const gid of args.ids) if (old[gid]) delete layout[gid];
  const corner = topLeft(doc.layout, members) ?? { x: 0, y: 0 };
  layout[id] = corner;
  return {
    doc: { ...withGroups(doc, groups), layout },
    label: `Group ${members.length} nodes`,
    select: [id],
  };
}

/** Dissolves groups; the members of a collapsed one appear where its card was. */
export function ungroup(
  doc: EditorDocument,
  args: { readonly ids: readonly string[] },
): CommandResult | null {
  const old = groupsOf(doc);
  const ids = args.ids.filter((id) => old[id]);
  if (ids.length === 0) return null;
  let layout: Record<string, Point> = { ...doc.layout };
  const groups: Record<string, CanvasGroup> = { ...old };
  const select: string[] = [];
  for (const id of ids) {
    const g = old[id]!;
    if (g.collapsed) layout = shiftTo(layout, g.members, doc.layout[id]);
    delete layout[id];
    delete groups[id];
    select.push(...g.members);
  }
  return {
    doc: { ...withGroups(doc, groups), layout },
    label: ids.length === 1 ? `Ungroup ${old[ids[0]!]!.name}` : `Ungroup ${ids.length} groups`,
    select,
  };
}

/** Opens a collapsed group (its members drawn in a frame) or collapses an open one. */
export function setGroupCollapsed(
  doc: EditorDocument,
  args: { readonly id: string; readonly collapsed: boolean },
): CommandResult | null {
  const old = groupsOf(doc);
  const g = old[args.id];
  if (!g || g.collapsed === args.collapsed) return null;
  let layout: Record<string, Point>;
  if (args.collapsed) {
    layout = { ...doc.layout, [args.id]: topLeft(doc.layout, g.members) ?? { x: 0, y: 0 } };
  } else {
    layout = shiftTo(doc.layout, g.members, doc.layout[args.id]);
    delete layout[args.id];
  }
  const groups = { ...old, [args.id]: { ...g, collapsed: args.collapsed } };
  return {
    doc: { ...withGroups(doc, groups), layout },
    label: `${args.collapsed ? 'Collapse' : 'Open'} ${g.name}`,
    select: args.collapsed ? [args.id] : g.members,
  };
}

/** Renames a group. */
export function renameGroup(
  doc: EditorDocument,
  args: { readonly id: string; readonly name: string },
): CommandResult | null {
  const old = groupsOf(doc);
  const g = old[args.id];
  const name = args.name.trim();
  if (!g || name === '' || name === g.name) return null;
  return {
    doc: withGroups(doc, { ...old, [args.id]: { ...g, name } }),
    label: `Rename ${g.name} to ${name}`,
  };
}

// ---- the view -----------------------------------------------------------------------------

/** A group's canvas id for each plain canvas id in an open group (for drawing frames). */
export function openGroupMembers(doc: EditorDocument): Map<string, readonly string[]> {
  const out = new Map<string, readonly string[]>();
  for (const [id, g] of Object.entries(groupsOf(doc))) if (!g.collapsed) out.set(id, g.members);
  return out;
}

/**
 * Replaces the members of each collapsed group in a plain view node list with one group node,
 * and points `owner` (graph node → canvas node) at it. Ports are the members' ports fed from
 * outside the group (or not connected yet); the output is what leaves the group.
 */
export function collapseGroups(
  doc: EditorDocument,
  plain: readonly ViewNode[],
  owner: Map<string, string>,
): ViewNode[] {
  const groups = groupsOf(doc);
  const byId = new Map(plain.map((v) => [v.id, v]));
  const replaced = new Map<string, string>(); // plain canvas id -> group id
  for (const [id, g] of Object.entries(groups)) {
    if (!g.collapsed || byId.has(id)) continue;
    for (const m of g.members) if (byId.has(m) && !replaced.has(m)) replaced.set(m, id);
  }
  if (replaced.size === 0) return [...plain];

  const nodesById = new Map(doc.graph.nodes.map((n) => [n.id, n]));
  const out: ViewNode[] = [];
  const emitted = new Set<string>();
  for (const v of plain) {
    const gid = replaced.get(v.id);
    if (gid === undefined) {
      out.push(v);
      continue;
    }
    if (emitted.has(gid)) continue;
    emitted.add(gid);
    const memberViews = groups[gid]!.members.flatMap((m) =>
      replaced.get(m) === gid ? [byId.get(m)!] : [],
    );
    const inside = new Set(memberViews.flatMap((m) => m.members));
    const ports: ViewPort[] = memberViews.flatMap((m) =>
      m.ports
        .filter((p) => p.source === '' || !inside.has(p.source))
        .map((p) => ({ ...p, name: p.name === 'x' ? m.id : `${m.id}.${p.name}` })),
    );
    // Values read outside the group: by other nodes or as graph outputs.
    const leaving = new Set<string>();
    for (const n of doc.graph.nodes)
      if (!inside.has(n.id)) for (const i of n.inputs) if (inside.has(i)) leaving.add(i);
    for (const o of doc.graph.outputs) if (inside.has(o.node)) leaving.add(o.node);
    const outputs = [...inside].filter((id) => leaving.has(id));
    const last = memberViews[memberViews.length - 1]!;
    let paramCount = 0;
    for (const id of inside) {
      const n = nodesById.get(id);
      if (n?.op === 'parameter' && n.attrs.trainable !== false && Array.isArray(n.attrs.shape))
        paramCount += sizeOfShape(n.attrs.shape as number[]);
    }
    for (const id of inside) owner.set(id, gid);
    out.push({
      id: gid,
      kind: 'group',
      op: 'group',
      title: groups[gid]!.name,
      tone: 'layer',
      output: outputs[0] ?? last.output,
      members: [...inside],
      ports,
      params: [],
      group: {
        name: groups[gid]!.name,
        memberCount: memberViews.length,
        paramCount,
        outputs: outputs.length > 0 ? outputs : [last.output],
      },
    });
  }
  return out;
}

/** The document without group members that no longer exist, nor groups left empty. */
export function pruneGroups(doc: EditorDocument): EditorDocument {
  const old = groupsOf(doc);
  if (Object.keys(old).length === 0) return doc;
  const live = new Set(plainCanvasIds(doc).values());
  let changed = false;
  const groups: Record<string, CanvasGroup> = {};
  for (const [id, g] of Object.entries(old)) {
    const members = g.members.filter((m) => live.has(m));
    if (members.length !== g.members.length) changed = true;
    if (members.length > 0) groups[id] = { ...g, members };
  }
  if (!changed) return doc;
  const layout = Object.fromEntries(
    Object.entries(doc.layout).filter(([id]) => !(id in old) || id in groups),
  );
  return { ...withGroups(doc, groups), layout };
}

// ---- copy and paste ----------------------------------------------------------------------

/** A collapsed group in copied nodes: its name, member canvas ids and card position. */
export interface FragmentGroup {
  readonly name: string;
  readonly members: readonly string[];
  readonly position?: Point;
}

/** The collapsed groups among `ids` (selected canvas ids), for a copy. */
export function groupsToCopy(doc: EditorDocument, ids: readonly string[]): FragmentGroup[] {
  const groups = groupsOf(doc);
  return ids.flatMap((id) => {
    const g = groups[id];
    if (!g || !g.collapsed) return [];
    const position = doc.layout[id];
    return [{ name: g.name, members: g.members, ...(position ? { position } : {}) }];
  });
}

/**
 * After a paste: folds the pasted members of each copied group into a new collapsed group
 * (`rename` maps copied ids to pasted ones), and selects the groups instead of their members.
 */
export function addPastedGroups(
  doc: EditorDocument,
  args: {
    readonly groups: readonly FragmentGroup[] | undefined;
    readonly rename: ReadonlyMap<string, string>;
    readonly offset: Point;
    readonly select: readonly string[];
  },
): { doc: EditorDocument; select: readonly string[] } {
  if (!args.groups || args.groups.length === 0) return { doc, select: args.select };
  const groups: Record<string, CanvasGroup> = { ...groupsOf(doc) };
  const layout: Record<string, Point> = { ...doc.layout };
  let select = [...args.select];
  for (const g of args.groups) {
    const members = g.members.flatMap((m) => {
      const id = args.rename.get(m);
      return id !== undefined ? [id] : [];
    });
    if (members.length === 0) continue;
    const id = freshId(doc, 'group', new Set(Object.keys(groups)));
    groups[id] = { name: g.name, members, collapsed: true };
    layout[id] = g.position
      ? { x: g.position.x + args.offset.x, y: g.position.y + args.offset.y }
      : (topLeft(layout, members) ?? { x: 0, y: 0 });
    select = [...select.filter((s) => !members.includes(s)), id];
  }
  return { doc: { ...withGroups(doc, groups), layout }, select };
}

/**
 * Copied nodes as text, for the system clipboard: a JSON object whose `format` header says it
 * is a Wiregrad fragment (so a paste into another window, or another Wiregrad, recognises it
 * and ignores anything else on the clipboard), with the nodes and their positions. Parsing
 * checks the envelope and every node's basic fields and says what is wrong; it never trusts
 * clipboard text further than that (the engine reports problems inside nodes on the canvas).
 */

import type { Fragment } from './commands.js';
import type { NodeJSON, Point } from './document.js';
import type { FragmentGroup } from './groups.js';

export const FRAGMENT_FORMAT = 'wiregrad.fragment';
export const FRAGMENT_VERSION = 1;

/** Why clipboard text is not something Wiregrad can paste. */
export class ClipboardError extends Error {
  override readonly name = 'ClipboardError';
}

export function serializeFragment(fragment: Fragment): string {
  return JSON.stringify({
    format: FRAGMENT_FORMAT,
    version: FRAGMENT_VERSION,
    nodes: fragment.nodes,
    layout: fragment.layout,
    ...(fragment.groups && fragment.groups.length > 0 ? { groups: fragment.groups } : {}),
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNode(v: unknown): v is NodeJSON {
  return (
    isRecord(v) &&
    typeof v.id === 'string' &&
    v.id !== '' &&
    typeof v.op === 'string' &&
    Array.isArray(v.inputs) &&
    v.inputs.every((i) => typeof i === 'string') &&
    isRecord(v.attrs) &&
    (v.group === undefined || typeof v.group === 'string') &&
    (v.name === undefined || typeof v.name === 'string')
  );
}

/** Whether `text` looks like a fragment at all (its header), before a full parse. */
export function looksLikeFragment(text: string): boolean {
  return text.includes(`"format":"${FRAGMENT_FORMAT}"`);
}

/** Reads clipboard text; throws a ClipboardError that says why it cannot be pasted. */
export function parseFragment(text: string): Fragment {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ClipboardError('The clipboard does not hold Wiregrad nodes (it is not JSON).');
  }
  if (!isRecord(json) || json.format !== FRAGMENT_FORMAT)
    throw new ClipboardError('The clipboard does not hold Wiregrad nodes.');
  if (json.version !== FRAGMENT_VERSION)
    throw new ClipboardError(
      `The copied nodes come from a newer Wiregrad (fragment version ${String(json.version)}); ` +
        'update Wiregrad to paste them.',
    );
  if (!Array.isArray(json.nodes) || json.nodes.length === 0)
    throw new ClipboardError('The copied Wiregrad fragment has no nodes.');
  const bad = json.nodes.findIndex((n) => !isNode(n));
  if (bad >= 0)
    throw new ClipboardError(
      `The copied Wiregrad fragment is damaged: node ${bad + 1} lacks an id, op, inputs or attrs.`,
    );
  const nodes = json.nodes as NodeJSON[];
  const ids = new Set<string>();
  for (const n of nodes) {
    if (ids.has(n.id))
      throw new ClipboardError(`The copied Wiregrad fragment repeats the node id '${n.id}'.`);
    ids.add(n.id);
  }
  const layout: Record<string, Point> = {};
  if (isRecord(json.layout))
    for (const [id, p] of Object.entries(json.layout))
      if (isRecord(p) && Number.isFinite(p.x) && Number.isFinite(p.y))
        layout[id] = { x: p.x as number, y: p.y as number };
  // Groups are an extra: a malformed one is dropped, its nodes still paste.
  const groups: FragmentGroup[] = [];
  if (Array.isArray(json.groups))
    for (const g of json.groups) {
      if (!isRecord(g) || typeof g.name !== 'string' || !Array.isArray(g.members)) continue;
      const members = g.members.filter((m): m is string => typeof m === 'string' && ids.has(m));
      if (members.length === 0) continue;
      const p = g.position;
      const position =
        isRecord(p) && Number.isFinite(p.x) && Number.isFinite(p.y)
          ? { x: p.x as number, y: p.y as number }
          : undefined;
      groups.push({ name: g.name, members, ...(position ? { position } : {}) });
    }
  return groups.length > 0 ? { nodes, layout, groups } : { nodes, layout };
}

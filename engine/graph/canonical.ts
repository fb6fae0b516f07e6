/**
 * A canonical form and hash of a graph document: what the graph computes (each node's op and
 * attributes, the edges between nodes in argument order, and the named outputs), independent of
 * node ids, display names, groups, layout, metadata and the order nodes are listed in. Two
 * documents that differ only in how they are written (a graph exported as code and rebuilt, a
 * renamed node) get the same hash.
 *
 * Nodes are keyed in two passes: upward, a Merkle hash of the op, attributes and the keys of
 * the inputs (so a key stands for the node's whole computation); downward, the keys of its
 * consumers with the port they read it at and the outputs that name it (so duplicate nodes that
 * feed different places are told apart). The nodes sorted by those keys give each node a
 * position; the form lists every node as op, attributes and the positions of its inputs. Nodes
 * that still tie compute the same value for the same consumers, so their order does not matter.
 * Input ids are ids too (independent), but an input's shape, dtype and role are attributes.
 */

import type { GraphJSON, NodeJSON } from './ir.js';

/** JSON with object keys sorted, so equal values always print the same. */
function stableJSON(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJSON).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJSON(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * A 64-bit FNV-1a hash of a string's UTF-16 code units, as 16 hex digits. Not cryptographic:
 * it names a structure, it does not protect one.
 */
export function hashString(text: string): string {
  let h = 0xcbf29ce484222325n;
  const prime = 0x100000001b3n;
  const mask = 0xffffffffffffffffn;
  for (let i = 0; i < text.length; i++) {
    h ^= BigInt(text.charCodeAt(i));
    h = (h * prime) & mask;
  }
  return h.toString(16).padStart(16, '0');
}

/** The node's own part of its key: op and attributes. */
const ownKey = (node: NodeJSON): string => `${node.op}${stableJSON(node.attrs)}`;

/** Nodes with every input before its consumers (document order kept where it already is). */
function topological(graph: GraphJSON): NodeJSON[] {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const done = new Set<string>();
  const order: NodeJSON[] = [];
  const visiting = new Set<string>();
  const visit = (node: NodeJSON): void => {
    if (done.has(node.id)) return;
    if (visiting.has(node.id))
      throw new Error(`canonical form: the graph has a cycle through '${node.id}'`);
    visiting.add(node.id);
    for (const id of node.inputs) {
      const input = byId.get(id);
      if (!input)
        throw new Error(
          `canonical form: node '${node.id}' reads '${id}', which is not in the graph`,
        );
      visit(input);
    }
    visiting.delete(node.id);
    done.add(node.id);
    order.push(node);
  };
  for (const node of graph.nodes) visit(node);
  return order;
}

/**
 * The canonical text of `graph`: one line per node (`#position op attrs <- inputs`) in
 * canonical order, then one line per output (`=> name #position`), sorted by name.
 */
export function canonicalForm(graph: GraphJSON): string {
  const order = topological(graph);
  const up = new Map<string, string>();
  for (const node of order)
    up.set(node.id, hashString(`${ownKey(node)}(${node.inputs.map((i) => up.get(i)!).join(',')})`));

  // Downward keys, consumers first: reverse topological order.
  const readers = new Map<string, string[]>();
  for (const node of order)
    node.inputs.forEach((id, port) => {
      const list = readers.get(id) ?? [];
      list.push(`${node.id}\u0000${port}`);
      readers.set(id, list);
    });
  const outputsOf = new Map<string, string[]>();
  for (const o of graph.outputs) outputsOf.set(o.node, [...(outputsOf.get(o.node) ?? []), o.name]);
  const down = new Map<string, string>();
  for (const node of [...order].reverse()) {
    const uses = (readers.get(node.id) ?? []).map((r) => {
      const [consumer, port] = r.split('\u0000') as [string, string];
      return `${up.get(consumer)!}/${down.get(consumer)!}@${port}`;
    });
    const outs = (outputsOf.get(node.id) ?? []).map((name) => `out:${JSON.stringify(name)}`);
    down.set(node.id, hashString([...uses, ...outs].sort().join(',')));
  }

  const key = (n: NodeJSON): string => `${up.get(n.id)!}${down.get(n.id)!}`;
  // Sorting by key alone would put a node before its inputs; keep inputs first by sorting
  // within the topological order: repeatedly take the smallest key among ready nodes.
  const position = new Map<string, number>();
  const waiting = new Map(order.map((n) => [n.id, new Set(n.inputs).size]));
  const consumers = new Map<string, NodeJSON[]>();
  for (const n of order)
    for (const id of new Set(n.inputs)) consumers.set(id, [...(consumers.get(id) ?? []), n]);
  const ready = order.filter((n) => waiting.get(n.id) === 0);
  const lines: string[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
    const node = ready.shift()!;
    position.set(node.id, position.size);
    const inputs = node.inputs.map((id) => `#${position.get(id)!}`).join(' ');
    lines.push(
      `#${position.get(node.id)!} ${node.op} ${stableJSON(node.attrs)}${inputs ? ` <- ${inputs}` : ''}`,
    );
    for (const c of consumers.get(node.id) ?? []) {
      const left = waiting.get(c.id)! - 1;
      waiting.set(c.id, left);
      if (left === 0) ready.push(c);
    }
  }
  const outputs = [...graph.outputs]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((o) => `=> ${JSON.stringify(o.name)} #${position.get(o.node) ?? '?'}`);
  return [...lines, ...outputs].join('\n');
}

/** The hash of `canonicalForm(graph)`: 16 hex digits, equal for graphs that compute alike. */
export function canonicalHash(graph: GraphJSON): string {
  return hashString(canonicalForm(graph));
}

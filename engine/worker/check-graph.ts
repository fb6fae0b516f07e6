/**
 * Checks a document that may be mid-edit, as the canvas needs after every edit: unlike
 * `Graph.fromJSON`, which stops at the first problem, it reports every problem it can find
 * (one diagnostic per failing node, naming the port when one input is at fault) and still gives
 * the shapes of everything that does fit. Nodes that are themselves fine but depend on a broken
 * or unconnected one get no shape and no diagnostic, so one mistake shows once.
 *
 * Steps: each node alone (op known, attributes valid, every port connected); edges (no dangling
 * ids, no cycles); then the usable nodes become a `Graph`, whose `check()` gives the shape
 * diagnostics and whose op shape rules, run at two batch sizes, give symbolic shapes ('N' where
 * a dimension follows the batch), as `Graph.symbolicShapes` does.
 */

import { GraphError, WiregradError } from '../core/errors.js';
import { Graph, parseAttrs } from '../graph/graph.js';
import { GRAPH_FORMAT, GRAPH_VERSION, type NodeJSON, atNode as errorAtNode } from '../graph/ir.js';
import { type TensorMeta, getOp, hasOp } from '../ops/registry.js';
import type { GraphCheck, GraphDiagnostic, NodeMeta, SymbolicShape } from '../protocol/messages.js';
import { PLACEHOLDER_OP } from '../protocol/notebook.js';
import { describeOp } from './op-catalog.js';

const NODE_FIELDS = new Set(['id', 'op', 'inputs', 'attrs', 'name', 'device', 'group']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A message in the engine's own format (`node 'x', op 'y': …`), so all diagnostics read alike. */
function atNode(node: string, op: string | undefined, message: string): string {
  return new GraphError(message, { node, ...(op !== undefined ? { op } : {}) }).message;
}

interface Entry {
  readonly id: string;
  readonly op: string;
  readonly raw: Record<string, unknown>;
  readonly inputs: readonly string[];
  /** No problem of its own. */
  ok: boolean;
}

/** Checks one node on its own; records its problems and returns its entry (null: no id). */
function readEntry(
  raw: unknown,
  index: number,
  report: (d: GraphDiagnostic) => void,
): Entry | null {
  if (!isRecord(raw) || typeof raw.id !== 'string' || raw.id === '') {
    report({
      node: null,
      severity: 'error',
      message: `nodes[${index}] has no id (a non-empty string)`,
    });
    return null;
  }
  const id = raw.id;
  const op = typeof raw.op === 'string' ? raw.op : '';
  const inputs = Array.isArray(raw.inputs)
    ? raw.inputs.map((i) => (typeof i === 'string' ? i : ''))
    : [];
  const entry: Entry = { id, op, raw, inputs, ok: true };
  const fail = (
    message: string,
    port?: number,
    severity: 'error' | 'incomplete' = 'error',
  ): void => {
    entry.ok = false;
    report({
      node: id,
      ...(port !== undefined ? { port } : {}),
      severity,
      message: atNode(id, op, message),
    });
  };
  const unknownField = Object.keys(raw).find((key) => !NODE_FIELDS.has(key));
  if (unknownField !== undefined) fail(`unknown field '${unknownField}'`);
  if (op === PLACEHOLDER_OP) {
    // A node whose op this build does not know, kept by the notebook reader (protocol/notebook).
    const original = isRecord(raw.attrs) && typeof raw.attrs.op === 'string' ? raw.attrs.op : '?';
    fail(
      `unknown op '${original}': replace this node (this version of Wiregrad does not have ` +
        `the op; a newer one may)`,
    );
    return entry;
  }
  if (!hasOp(op)) {
    fail(`unknown op '${op}': check its spelling, or load the module that defines it`);
    return entry;
  }
  const def = getOp(op);
  try {
    parseAttrs(def, raw.attrs ?? {}, id, true);
  } catch (error) {
    entry.ok = false;
    report({ node: id, severity: 'error', message: messageOf(error) });
  }
  const info = describeOp(def);
  const portName = (i: number): string =>
    info.ports[Math.min(i, info.ports.length - 1)] ?? `input ${i}`;
  inputs.forEach((input, i) => {
    if (input === '') fail(`input '${portName(i)}' is not connected`, i, 'incomplete');
  });
  if (info.maxInputs !== null && inputs.length > info.maxInputs)
    fail(`takes at most ${info.maxInputs} inputs, but ${inputs.length} are connected`);
  if (inputs.length < info.minInputs) {
    for (let i = inputs.length; i < info.minInputs; i++)
      fail(`input '${portName(i)}' is not connected`, i, 'incomplete');
  }
  return entry;
}

/** Marks nodes on a cycle or downstream of a broken node as unusable; reports each cycle once. */
function usableNodes(
  entries: ReadonlyMap<string, Entry>,
  report: (d: GraphDiagnostic) => void,
): Set<string> {
  const usable = new Set<string>();
  const state = new Map<string, 'open' | 'done'>();
  for (const start of entries.values()) {
    if (state.has(start.id)) continue;
    // Iterative depth-first post-order, so long chains cannot overflow the stack.
    const stack: [Entry, number][] = [[start, 0]];
    state.set(start.id, 'open');
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [entry, i] = top;
      if (i < entry.inputs.length) {
        top[1] = i + 1;
        const child = entries.get(entry.inputs[i]!);
        if (!child) continue;
        const seen = state.get(child.id);
        if (seen === 'open') {
          const path = stack.map(([e]) => e.id);
          const cycle = [...path.slice(path.indexOf(child.id)), child.id];
          for (const id of new Set(cycle)) {
            const member = entries.get(id)!;
            member.ok = false;
            report({
              node: id,
              severity: 'error',
              message: atNode(id, member.op, `is part of a cycle: ${cycle.join(' -> ')}`),
            });
          }
        } else if (!seen) {
          state.set(child.id, 'open');
          stack.push([child, 0]);
        }
      } else {
        stack.pop();
        state.set(entry.id, 'done');
        if (entry.ok && entry.inputs.every((input) => usable.has(input))) usable.add(entry.id);
      }
    }
  }
  return usable;
}

interface Inference {
  /** Shape and dtype of every node that infers at this batch size. */
  readonly metas: Map<string, TensorMeta>;
  /** What the nodes whose inputs inferred but which failed themselves threw. */
  readonly errors: Map<string, unknown>;
}

function inferAt(graph: Graph, batch: number): Inference {
  const metas = new Map<string, TensorMeta>();
  const errors = new Map<string, unknown>();
  for (const node of graph.nodes) {
    const inputs = node.inputs.map((id) => metas.get(id));
    if (inputs.some((m) => m === undefined)) continue;
    const attrs = node.op === 'input' ? { ...node.attrs, batch } : node.attrs;
    try {
      metas.set(node.id, getOp(node.op).inferShape(inputs as TensorMeta[], attrs));
    } catch (error) {
      errors.set(node.id, error);
    }
  }
  return { metas, errors };
}

/**
 * The batch size whose error messages are shown: a prime no model hard-codes, so that it can be
 * written back as N ("a [N, 1, 28, 28] has 28 along its last axis"), where batch size 1, which
 * `check()` uses, would print as a confusing 1.
 */
const MESSAGE_BATCH = 7919;

function withBatchAsN(message: string): string {
  return message.replace(new RegExp(`\\b${MESSAGE_BATCH}\\b`, 'g'), 'N');
}

function symbolic(a: TensorMeta, b: TensorMeta): SymbolicShape {
  if (a.shape.length !== b.shape.length) return a.shape.map(() => 'N');
  return a.shape.map((d, i) => (d === b.shape[i] ? d : 'N'));
}

/** Checks a draft graph document: every problem, and the shape of everything that fits. */
export function checkDraftGraph(doc: unknown): GraphCheck {
  const diagnostics: GraphDiagnostic[] = [];
  const report = (d: GraphDiagnostic): void => void diagnostics.push(d);
  if (!isRecord(doc) || doc.format !== GRAPH_FORMAT || !Array.isArray(doc.nodes))
    return {
      shapes: {},
      diagnostics: [
        {
          node: null,
          severity: 'error',
          message: `not a Wiregrad graph document (format '${GRAPH_FORMAT}')`,
        },
      ],
    };
  if (doc.version !== GRAPH_VERSION)
    return {
      shapes: {},
      diagnostics: [
        {
          node: null,
          severity: 'error',
          message: `graph format version ${String(doc.version)} is not ${GRAPH_VERSION}; open the file with Wiregrad to migrate it`,
        },
      ],
    };

  const entries = new Map<string, Entry>();
  doc.nodes.forEach((raw, index) => {
    const entry = readEntry(raw, index, report);
    if (!entry) return;
    const first = entries.get(entry.id);
    if (first) {
      first.ok = false;
      report({
        node: entry.id,
        severity: 'error',
        message: atNode(entry.id, entry.op, 'two nodes have this id; give each node its own id'),
      });
      return;
    }
    entries.set(entry.id, entry);
  });
  for (const entry of entries.values())
    entry.inputs.forEach((input, port) => {
      if (input !== '' && !entries.has(input)) {
        entry.ok = false;
        report({
          node: entry.id,
          port,
          severity: 'error',
          message: atNode(
            entry.id,
            entry.op,
            `input ${port} refers to node '${input}', which does not exist`,
          ),
        });
      }
    });
  const usable = usableNodes(entries, report);

  const nodes = [...entries.values()]
    .filter((e) => usable.has(e.id))
    .map((e) => e.raw as unknown as NodeJSON);
  let graph: Graph;
  try {
    graph = Graph.fromJSON({ format: GRAPH_FORMAT, version: GRAPH_VERSION, nodes, outputs: [] });
  } catch (error) {
    // Every structural rule was checked above, so this is a rule this file does not know yet.
    const node = error instanceof WiregradError ? (error.node ?? null) : null;
    report({ node, severity: 'error', message: messageOf(error) });
    return { shapes: {}, diagnostics };
  }

  // check() decides what fails (at batch size 1, as everywhere in the engine); the message
  // comes from the same failure at MESSAGE_BATCH where there is one, to show N.
  const named = inferAt(graph, MESSAGE_BATCH).errors;
  const failing = new Set<string>();
  for (const d of graph.check()) {
    failing.add(d.node);
    const error = named.get(d.node);
    const message =
      error === undefined
        ? d.message
        : withBatchAsN(errorAtNode(error, graph.node(d.node)).message);
    report({ node: d.node, severity: 'error', message });
  }
  const at2 = inferAt(graph, 2).metas;
  const at3 = inferAt(graph, 3).metas;
  const shapes: Record<string, NodeMeta> = {};
  for (const node of graph.nodes) {
    const a = at2.get(node.id);
    const b = at3.get(node.id);
    if (a && b) shapes[node.id] = { shape: symbolic(a, b), dtype: a.dtype };
    else if (!failing.has(node.id) && node.inputs.every((i) => at2.has(i) && at3.has(i))) {
      // Fits at batch size 1 only: some attribute hard-codes the batch (a reshape to [1, …]).
      report({
        node: node.id,
        severity: 'error',
        message: atNode(
          node.id,
          node.op,
          'fits only when the batch size is 1; use -1 for the batch dimension (in reshape shapes …)',
        ),
      });
    }
  }
  return { shapes, diagnostics };
}

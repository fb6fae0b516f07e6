/**
 * The elementwise fusion pass: Graph in, Graph out. It finds maximal groups of elementwise
 * nodes (unary, binary with broadcasting, where, cast) on f32 and bool values whose
 * intermediate results nothing outside the group reads, and replaces each group by one
 * `fusedElementwise` node that keeps the id (and name, device, group) of the group's last
 * node, so graph outputs and error messages still point at it. Scalar f32 `fill` nodes (the
 * numbers in `x.mul(2)`) become constants inside the program.
 *
 * Grouping walks the nodes from the outputs back: a node joins the group of its consumers when
 * it has consumers, all of them are in one group, and it is not a graph output; otherwise it
 * starts a group. Only a group's first node (its root, the last in topological order) is read
 * from outside, so the fused graph has no cycles. Groups of one kernel op are left as they are:
 * fusing them would only trade one kernel for another.
 */

import { GraphError } from '../core/errors.js';
import { Graph, type GraphNode } from '../graph/graph.js';
import type { NodeJSON } from '../graph/ir.js';
import type { TensorMeta } from '../ops/registry.js';
import { type Instruction, type Operand, formatProgram, isFusableOp } from './program.js';

export interface FusionOptions {
  /** The fewest kernel ops (identity does not count) worth one fused node (default 2). */
  readonly minOps?: number;
}

/** One fused group: the node that replaced it, the ops it holds, and their node ids. */
export interface FusedGroup {
  readonly id: string;
  readonly ops: readonly string[];
  readonly nodes: readonly string[];
  readonly program: string;
}

export interface FusionResult {
  readonly graph: Graph;
  readonly groups: readonly FusedGroup[];
}

const fusableDType = (m: TensorMeta | undefined): boolean =>
  m !== undefined && (m.dtype === 'f32' || m.dtype === 'bool');

/**
 * A scalar f32 fill: inlined into programs as a constant. Where it was made (a traced
 * `x.mul(2)` on the GPU makes its 2 there) does not matter: a constant in the program is on
 * whatever device runs it, so no kernel makes the number on each call.
 */
function isScalarFill(node: GraphNode): boolean {
  const shape = node.attrs.shape;
  return (
    node.op === 'fill' && Array.isArray(shape) && shape.length === 0 && node.attrs.dtype === 'f32'
  );
}

/** Fuses the elementwise chains of `graph` (which must have concrete input shapes). */
export function fuseElementwise(graph: Graph, options: FusionOptions = {}): FusionResult {
  const minOps = options.minOps ?? 2;
  const metas = graph.inferShapes();
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const consumers = new Map<string, string[]>();
  for (const n of graph.nodes)
    for (const input of n.inputs) {
      const list = consumers.get(input);
      if (list) list.push(n.id);
      else consumers.set(input, [n.id]);
    }
  const outputs = new Set(graph.outputs.map((o) => o.node));

  const candidate = (n: GraphNode): boolean =>
    isFusableOp(n.op) &&
    fusableDType(metas.get(n.id)) &&
    n.inputs.every((id) => fusableDType(metas.get(id)));

  // Assign groups from the outputs back (reverse topological order).
  const groupOf = new Map<string, number>();
  const members: string[][] = [];
  for (let i = graph.nodes.length - 1; i >= 0; i--) {
    const n = graph.nodes[i]!;
    if (!candidate(n)) continue;
    const users = consumers.get(n.id) ?? [];
    let g: number | undefined;
    if (!outputs.has(n.id) && users.length > 0) {
      const groups = new Set(users.map((u) => groupOf.get(u)));
      const only = groups.size === 1 ? [...groups][0] : undefined;
      if (only !== undefined && byId.get(members[only]![0]!)!.device === n.device) g = only;
    }
    if (g === undefined) {
      g = members.length;
      members.push([]);
    }
    groupOf.set(n.id, g);
    members[g]!.push(n.id);
  }

  const replaced = new Map<string, NodeJSON>();
  const dropped = new Set<string>();
  const groups: FusedGroup[] = [];
  for (const reversed of members) {
    const ids = [...reversed].reverse(); // topological order; the root is last
    const kernelOps = ids.filter((id) => byId.get(id)!.op !== 'identity').length;
    if (kernelOps < minOps) continue;
    const temps = new Map(ids.map((id, j) => [id, j]));
    const inputs: string[] = [];
    const instructions: Instruction[] = ids.map((id) => {
      const node = byId.get(id)!;
      const args = node.inputs.map((input): Operand => {
        const t = temps.get(input);
        if (t !== undefined) return { kind: 'temp', index: t };
        const source = byId.get(input)!;
        if (isScalarFill(source)) return { kind: 'const', value: source.attrs.value as number };
        let index = inputs.indexOf(input);
        if (index < 0) index = inputs.push(input) - 1;
        return { kind: 'input', index };
      });
      if (!isFusableOp(node.op)) throw new GraphError('not fusable', { node: id, op: node.op });
      return {
        op: node.op,
        args,
        ...(node.op === 'leakyRelu'
          ? { alpha: (node.attrs.alpha as number | undefined) ?? 0.01 }
          : {}),
        ...(node.op === 'cast' ? { dtype: node.attrs.dtype as Instruction['dtype'] } : {}),
      };
    });
    const root = byId.get(ids[ids.length - 1]!)!;
    const program = formatProgram(instructions);
    replaced.set(root.id, {
      id: root.id,
      op: 'fusedElementwise',
      inputs,
      attrs: { program },
      ...(root.name !== undefined ? { name: root.name } : {}),
      ...(root.device !== undefined ? { device: root.device } : {}),
      ...(root.group !== undefined ? { group: root.group } : {}),
    });
    for (const id of ids) if (id !== root.id) dropped.add(id);
    groups.push({ id: root.id, ops: ids.map((id) => byId.get(id)!.op), nodes: ids, program });
  }
  if (groups.length === 0) return { graph, groups };

  const json = graph.toJSON();
  const kept = json.nodes.filter((n) => !dropped.has(n.id)).map((n) => replaced.get(n.id) ?? n);
  // Drop what only the fused nodes' members read (inlined scalar fills); inputs always stay.
  const live = new Set<string>(json.outputs.map((o) => o.node));
  for (let i = kept.length - 1; i >= 0; i--) {
    const n = kept[i]!;
    if (live.has(n.id) || n.op === 'input') {
      live.add(n.id);
      for (const input of n.inputs) live.add(input);
    }
  }
  const fused = Graph.fromJSON({ ...json, nodes: kept.filter((n) => live.has(n.id)) });
  const params = graph.parameters.length > 0 ? graph.initParameters() : new Map();
  fused.adoptParameters(new Map([...params].filter(([id]) => fused.hasNode(id))));

  // The fused node must compute what its root did; a mismatch is a bug in this pass.
  const after = fused.inferShapes();
  for (const g of groups) {
    const a = metas.get(g.id)!;
    const b = after.get(g.id)!;
    if (a.dtype !== b.dtype || a.shape.join() !== b.shape.join())
      throw new GraphError(
        `fusion changed the node's type from ${a.dtype}[${a.shape.join(', ')}] to ` +
          `${b.dtype}[${b.shape.join(', ')}] (program '${g.program}'); please report this`,
        { node: g.id, op: 'fusedElementwise' },
      );
  }
  return { graph: fused, groups };
}

/**
 * What the canvas draws for a document: one view node per graph node, except that a layer
 * group (a group whose id is also the id of its output node, as GraphBuilder and the palette
 * make them) collapses into one node that lists its parameters and exposes only the inputs
 * that come from outside the group. Ports are named from the op catalog; a variadic op gets
 * one empty port more than it has connected (concat's growing list). Pure and cheap: it is
 * recomputed after every edit, reusing the previous objects that did not change so memoised
 * components skip re-rendering.
 */

import type { OpInfo } from '../../engine/protocol/messages.js';
import type { EditorDocument, NodeJSON } from './document.js';
import { type GroupSummary, collapseGroups } from './groups.js';
import type { NodeTone } from './palette-items.js';

export interface ViewPort {
  /** Display name: the op's argument name (`x`, `weight`), numbered for repeating ports. */
  readonly name: string;
  /** The graph node whose input this port is, and the input's index there. */
  readonly node: string;
  readonly index: number;
  /** The connected node id, or '' when unconnected. */
  readonly source: string;
  /** May stay unconnected (a variadic op's next slot, linear's bias). */
  readonly optional: boolean;
}

export interface ViewParam {
  readonly id: string;
  /** `weight`, `bias` …: the part of the id after the group's. */
  readonly label: string;
  readonly shape: readonly number[];
}

export interface ViewNode {
  /** The node id, or for a collapsed layer its group id (also its output node's id). */
  readonly id: string;
  /** 'group': canvas nodes the user folded into one card (groups.ts). */
  readonly kind: 'op' | 'layer' | 'group';
  /** The op of the node whose output this view node shows. */
  readonly op: string;
  readonly title: string;
  readonly tone: NodeTone;
  /** The graph node whose output (shape) this view node shows. */
  readonly output: string;
  /** Every graph node drawn as this view node. */
  readonly members: readonly string[];
  readonly ports: readonly ViewPort[];
  readonly params: readonly ViewParam[];
  /** For a collapsed group: its name, size, parameter count and outputs. */
  readonly group?: GroupSummary;
}

export interface ViewEdge {
  /** `${source}->${target}:${port}`. */
  readonly id: string;
  /** View node ids. */
  readonly source: string;
  readonly target: string;
  /** Index into the target's ports. */
  readonly port: number;
  /** The graph node whose value flows along the edge (its shape is the edge's label). */
  readonly sourceNode: string;
}

export interface DocumentView {
  readonly nodes: readonly ViewNode[];
  readonly edges: readonly ViewEdge[];
  readonly byId: ReadonlyMap<string, ViewNode>;
  /** The view node that draws each graph node. */
  readonly owner: ReadonlyMap<string, string>;
}

const TITLES: Readonly<Record<string, string>> = {
  relu: 'ReLU',
  leakyRelu: 'LeakyReLU',
  gelu: 'GELU',
  tanh: 'Tanh',
  sigmoid: 'Sigmoid',
  softmax: 'Softmax',
  logSoftmax: 'LogSoftmax',
  maxPool2d: 'MaxPool2d',
  avgPool2d: 'AvgPool2d',
  dropout: 'Dropout',
  add: 'Add',
  concat: 'Concat',
  crossEntropy: 'CrossEntropy',
  mseLoss: 'MSELoss',
  parameter: 'Parameter',
  constant: 'Constant',
  matmul: 'MatMul',
  reshape: 'Reshape',
};

const LAYER_TITLES: Readonly<Record<string, string>> = {
  linear: 'Linear',
  layerNorm: 'LayerNorm',
};

function layerTitle(members: readonly NodeJSON[], out: NodeJSON): string {
  if (members.some((m) => m.op === 'conv2d')) return 'Conv2d';
  // BatchNorm1d or BatchNorm2d, Embedding: the layer's op node carries the name.
  if ((out.op === 'batchNorm' || out.op === 'gather') && out.name) return out.name;
  return LAYER_TITLES[out.op] ?? out.group ?? out.op;
}

export function nodeTitle(node: NodeJSON): string {
  if (node.name) return node.name;
  if (node.op === 'input') return node.attrs.role === 'label' ? 'Label' : 'Input';
  return TITLES[node.op] ?? node.op;
}

/** Port names of `node`: its op's argument names, numbered where the last one repeats. */
function portName(info: OpInfo | undefined, index: number): string {
  if (!info || info.ports.length === 0) return `in${index + 1}`;
  if (info.maxInputs === null && index >= info.ports.length - 1) {
    const last = info.ports[info.ports.length - 1]!;
    return `${last}${index - info.ports.length + 2}`;
  }
  return info.ports[index] ?? `in${index + 1}`;
}

function portsOf(
  node: NodeJSON,
  info: OpInfo | undefined,
  external: (id: string) => boolean,
  extraSlot: boolean,
): ViewPort[] {
  const ports: ViewPort[] = [];
  node.inputs.forEach((source, index) => {
    if (source !== '' && !external(source)) return;
    ports.push({
      name: portName(info, index),
      node: node.id,
      index,
      source,
      optional: info !== undefined && index >= info.minInputs,
    });
  });
  // One more slot where the op takes more inputs than are connected.
  if (extraSlot && info && (info.maxInputs === null || node.inputs.length < info.maxInputs))
    ports.push({
      name: portName(info, node.inputs.length),
      node: node.id,
      index: node.inputs.length,
      source: '',
      optional: node.inputs.length >= info.minInputs,
    });
  return ports;
}

function toneOf(node: NodeJSON, ops: ReadonlyMap<string, OpInfo>): NodeTone {
  if (node.op === 'reshape' && node.name) return 'movement';
  return ops.get(node.op)?.category ?? 'other';
}

/** Keeps `prev` when it equals `next` (so memoised consumers see the same object). */
function reuse<T>(prev: T | undefined, next: T): T {
  return prev !== undefined && JSON.stringify(prev) === JSON.stringify(next) ? prev : next;
}

export function buildView(
  doc: EditorDocument,
  ops: ReadonlyMap<string, OpInfo>,
  previous?: DocumentView,
): DocumentView {
  const nodes = doc.graph.nodes;
  const groups = new Map<string, NodeJSON[]>();
  for (const node of nodes)
    if (node.group !== undefined) {
      const list = groups.get(node.group) ?? [];
      list.push(node);
      groups.set(node.group, list);
    }
  // Only groups whose output node carries the group's id collapse (layers); others stay open.
  const owner = new Map<string, string>();
  for (const [group, members] of groups)
    if (members.some((m) => m.id === group)) for (const m of members) owner.set(m.id, group);
  for (const node of nodes) if (!owner.has(node.id)) owner.set(node.id, node.id);

  const plainNodes: ViewNode[] = [];
  const add = (view: ViewNode): void => {
    plainNodes.push(reuse(previous?.byId.get(view.id), view));
  };
  const emitted = new Set<string>();
  for (const node of nodes) {
    const id = owner.get(node.id)!;
    if (emitted.has(id)) continue;
    emitted.add(id);
    if (id === node.id && node.group !== id) {
      add({
        id,
        kind: 'op',
        op: node.op,
        title: nodeTitle(node),
        tone: toneOf(node, ops),
        output: id,
        members: [id],
        ports: portsOf(node, ops.get(node.op), () => true, true),
        params: [],
      });
      continue;
    }
    const members = groups.get(id)!;
    const memberIds = new Set(members.map((m) => m.id));
    const out = members.find((m) => m.id === id)!;
    add({
      id,
      kind: 'layer',
      op: out.op,
      title: layerTitle(members, out),
      tone: 'layer',
      output: id,
      members: members.map((m) => m.id),
      ports: members.flatMap((m) =>
        m.op === 'parameter'
          ? []
          : portsOf(m, ops.get(m.op), (source) => !memberIds.has(source), false),
      ),
      params: members
        .filter((m) => m.op === 'parameter')
        .map((m) => ({
          id: m.id,
          label: m.id.startsWith(`${id}.`) ? m.id.slice(id.length + 1) : m.id,
          shape: Array.isArray(m.attrs.shape) ? (m.attrs.shape as number[]) : [],
        })),
    });
  }

  // Collapsed groups replace their members (and take over `owner`) before edges are drawn.
  const viewNodes = collapseGroups(doc, plainNodes, owner).map((v) =>
    v.kind === 'group' ? reuse(previous?.byId.get(v.id), v) : v,
  );
  const byId = new Map(viewNodes.map((v) => [v.id, v]));
  const edges: ViewEdge[] = [];
  const previousEdges = new Map(previous?.edges.map((e) => [e.id, e]));
  for (const view of viewNodes)
    view.ports.forEach((port, i) => {
      if (port.source === '') return;
      const source = owner.get(port.source);
      if (source === undefined) return; // dangling: the diagnostics say so
      const id = `${source}->${view.id}:${i}`;
      edges.push(
        reuse(previousEdges.get(id), {
          id,
          source,
          target: view.id,
          port: i,
          sourceNode: port.source,
        }),
      );
    });
  return { nodes: viewNodes, edges, byId, owner };
}

/**
 * Finds the layers in a graph that PyTorch has modules for, so that the exported module reads
 * like hand-written code (`self.fc1 = nn.Linear(2, 64)`) and its state dict has PyTorch's
 * names (`fc1.weight`). A layer is a pattern of nodes whose parameters nothing else reads:
 *
 *   linear(x, W, b?)                                  → nn.Linear
 *   add(conv2d(x, W), reshape(b, [1, C, 1, 1]))       → nn.Conv2d (GraphBuilder.conv2d's shape)
 *   conv2d(x, W)                                      → nn.Conv2d(bias=False)
 *   layerNorm(x, gamma, beta) or layerNorm(x)         → nn.LayerNorm
 *   gather(W, indices) on axis 0                      → nn.Embedding
 *   batchNorm(x, weight, bias, mean, var)             → nn.BatchNorm1d / nn.BatchNorm2d
 *
 * The module is named after the group when the group holds exactly the layer's nodes (as
 * GraphBuilder and the canvas make them), else after the layer's output node.
 */

import type { GraphNode } from '../graph/graph.js';
import type { ParameterAttrs } from '../graph/ir.js';
import type { GraphAnalysis } from './analysis.js';

interface LayerBase {
  /** The group or node id the module is named after. */
  readonly name: string;
  /** The node whose value the layer produces. */
  readonly output: string;
  /** The node feeding the layer. */
  readonly input: string;
  /** Every node the layer stands for (parameters included). */
  readonly members: readonly string[];
  /** Parameter node ids by PyTorch's parameter name (`weight`, `bias`). */
  readonly params: Readonly<Record<string, string>>;
}

export type Layer =
  | (LayerBase & {
      readonly kind: 'linear';
      readonly inFeatures: number;
      readonly outFeatures: number;
    })
  | (LayerBase & {
      readonly kind: 'conv2d';
      readonly inChannels: number;
      readonly outChannels: number;
      readonly kernel: readonly number[];
      readonly stride: readonly number[];
      /** [padH, padW] (symmetric padding only). */
      readonly padding: readonly number[];
      readonly dilation: readonly number[];
      readonly groups: number;
    })
  | (LayerBase & {
      readonly kind: 'layerNorm';
      readonly normalizedShape: readonly number[];
      readonly eps: number;
    })
  | (LayerBase & { readonly kind: 'embedding'; readonly count: number; readonly dim: number })
  | (LayerBase & {
      readonly kind: 'batchNorm';
      /** 1: nn.BatchNorm1d (x [N, C] or [N, C, L]); 2: nn.BatchNorm2d (x [N, C, H, W]). */
      readonly dims: 1 | 2;
      readonly features: number;
      readonly eps: number;
      readonly momentum: number;
      /** The node's own mode (the module follows train()/eval() instead). */
      readonly training: boolean;
    });

/** A float parameter that only `user` reads (so a module may own it). */
function ownedParam(a: GraphAnalysis, id: string | undefined, user: GraphNode): GraphNode | null {
  if (id === undefined) return null;
  const node = a.graph.node(id);
  if (node.op !== 'parameter' || a.isOutput(id)) return null;
  if ((node.attrs as unknown as ParameterAttrs).dtype !== 'f32') return null;
  const readers = a.graph.nodes.filter((n) => n.inputs.includes(id));
  return readers.length === 1 &&
    readers[0] === user &&
    user.inputs.filter((i) => i === id).length === 1
    ? node
    : null;
}

/** Only read by `user` (an intermediate value inside a layer). */
function onlyFeeds(a: GraphAnalysis, id: string, user: GraphNode): boolean {
  if (a.isOutput(id)) return false;
  const readers = a.graph.nodes.filter((n) => n.inputs.includes(id));
  return readers.length === 1 && readers[0] === user;
}

function shapeOf(node: GraphNode): readonly number[] {
  return (node.attrs as unknown as ParameterAttrs).shape;
}

function nameFor(a: GraphAnalysis, members: readonly string[], output: string): string {
  const group = a.graph.node(output).group;
  if (group === undefined) return output;
  const inGroup = a.graph.nodes.filter((n) => n.group === group).map((n) => n.id);
  const same = inGroup.length === members.length && inGroup.every((id) => members.includes(id));
  return same ? group : output;
}

function linearLayer(a: GraphAnalysis, n: GraphNode): Layer | null {
  const [x, wId, bId] = n.inputs;
  const w = ownedParam(a, wId, n);
  if (!w || shapeOf(w).length !== 2) return null;
  const b = bId === undefined ? null : ownedParam(a, bId, n);
  if (bId !== undefined && !b) return null;
  const [outFeatures, inFeatures] = shapeOf(w) as [number, number];
  const members = [w.id, ...(b ? [b.id] : []), n.id];
  return {
    kind: 'linear',
    name: nameFor(a, members, n.id),
    output: n.id,
    input: x!,
    members,
    params: { weight: w.id, ...(b ? { bias: b.id } : {}) },
    inFeatures,
    outFeatures,
  };
}

interface ConvAttrs {
  readonly stride: readonly number[];
  readonly padding: readonly number[];
  readonly dilation: readonly number[];
  readonly groups: number;
}

function convLayer(
  a: GraphAnalysis,
  conv: GraphNode,
  bias: { add: GraphNode; view: GraphNode; param: GraphNode } | null,
): Layer | null {
  const w = ownedParam(a, conv.inputs[1], conv);
  if (!w) return null;
  const attrs = conv.attrs as unknown as ConvAttrs;
  const [t, l, b, r] = attrs.padding as [number, number, number, number];
  if (t !== b || l !== r) return null; // nn.Conv2d pads symmetrically
  const [cout, cinPerGroup, kh, kw] = shapeOf(w) as [number, number, number, number];
  const members = bias
    ? [w.id, bias.param.id, conv.id, bias.view.id, bias.add.id]
    : [w.id, conv.id];
  const output = bias ? bias.add.id : conv.id;
  return {
    kind: 'conv2d',
    name: nameFor(a, members, output),
    output,
    input: conv.inputs[0]!,
    members,
    params: { weight: w.id, ...(bias ? { bias: bias.param.id } : {}) },
    inChannels: cinPerGroup * attrs.groups,
    outChannels: cout,
    kernel: [kh, kw],
    stride: attrs.stride,
    padding: [t, l],
    dilation: attrs.dilation,
    groups: attrs.groups,
  };
}

/** add(conv2d(x, W), reshape(b, [1, C, 1, 1])) in either operand order. */
function convWithBias(a: GraphAnalysis, add: GraphNode): Layer | null {
  for (const [ci, vi] of [
    [0, 1],
    [1, 0],
  ] as const) {
    const conv = a.graph.node(add.inputs[ci]!);
    const view = a.graph.node(add.inputs[vi]!);
    if (conv.op !== 'conv2d' || view.op !== 'reshape') continue;
    if (!onlyFeeds(a, conv.id, add) || !onlyFeeds(a, view.id, add)) continue;
    const param = ownedParam(a, view.inputs[0], view);
    if (!param || shapeOf(param).length !== 1) continue;
    const c = shapeOf(param)[0]!;
    const target = (view.attrs as { shape: readonly number[] }).shape;
    if (
      target.length !== 4 ||
      target[0] !== 1 ||
      target[1] !== c ||
      target[2] !== 1 ||
      target[3] !== 1
    )
      continue;
    const w = a.graph.node(conv.inputs[1]!);
    if (w.op !== 'parameter' || shapeOf(w)[0] !== c) continue;
    const layer = convLayer(a, conv, { add, view, param });
    if (layer) return layer;
  }
  return null;
}

function layerNormLayer(a: GraphAnalysis, n: GraphNode): Layer | null {
  const [x, gId, bId] = n.inputs;
  const attrs = n.attrs as { normalizedShape: readonly number[]; eps?: number };
  const g = ownedParam(a, gId, n);
  const b = ownedParam(a, bId, n);
  // nn.LayerNorm has both affine parameters or neither (a bias-only form does not exist).
  if (n.inputs.length === 2 || (n.inputs.length === 3 && (!g || !b))) return null;
  const members = [...(g ? [g.id] : []), ...(b ? [b.id] : []), n.id];
  return {
    kind: 'layerNorm',
    name: nameFor(a, members, n.id),
    output: n.id,
    input: x!,
    members,
    params: g && b ? { weight: g.id, bias: b.id } : {},
    normalizedShape: attrs.normalizedShape,
    eps: attrs.eps ?? 1e-5,
  };
}

function embeddingLayer(a: GraphAnalysis, n: GraphNode): Layer | null {
  if ((n.attrs as { axis: number }).axis !== 0) return null;
  const w = ownedParam(a, n.inputs[0], n);
  if (!w || shapeOf(w).length !== 2) return null;
  const [count, dim] = shapeOf(w) as [number, number];
  const members = [w.id, n.id];
  return {
    kind: 'embedding',
    name: nameFor(a, members, n.id),
    output: n.id,
    input: n.inputs[1]!,
    members,
    params: { weight: w.id },
    count,
    dim,
  };
}

/**
 * batchNorm over [N, C], [N, C, L] or [N, C, H, W] whose four per-channel tensors are parameters
 * it alone reads (the running statistics may be `trainable: false`).
 */
function batchNormLayer(a: GraphAnalysis, n: GraphNode): Layer | null {
  const [x, wId, bId, mId, vId] = n.inputs;
  const rank = a.meta(x!).shape.length;
  if (rank < 2 || rank > 4) return null;
  const owned = [wId, bId, mId, vId].map((id) => ownedParam(a, id, n));
  if (owned.some((p) => !p || shapeOf(p).length !== 1)) return null;
  const [w, b, m, v] = owned as [GraphNode, GraphNode, GraphNode, GraphNode];
  const attrs = n.attrs as { training: boolean; momentum?: number; eps?: number };
  const members = [w.id, b.id, m.id, v.id, n.id];
  return {
    kind: 'batchNorm',
    name: nameFor(a, members, n.id),
    output: n.id,
    input: x!,
    members,
    params: { weight: w.id, bias: b.id, running_mean: m.id, running_var: v.id },
    dims: rank === 4 ? 2 : 1,
    features: shapeOf(w)[0]!,
    eps: attrs.eps ?? 1e-5,
    momentum: attrs.momentum ?? 0.1,
    training: attrs.training,
  };
}

/** The layers of the needed nodes, each node in at most one layer. */
export function findLayers(a: GraphAnalysis): Layer[] {
  const layers: Layer[] = [];
  const used = new Set<string>();
  for (const n of a.nodes) {
    let layer: Layer | null = null;
    if (n.op === 'linear') layer = linearLayer(a, n);
    else if (n.op === 'add') layer = convWithBias(a, n);
    else if (n.op === 'layerNorm') layer = layerNormLayer(a, n);
    else if (n.op === 'gather') layer = embeddingLayer(a, n);
    else if (n.op === 'batchNorm') layer = batchNormLayer(a, n);
    if (!layer || layer.members.some((m) => used.has(m))) continue;
    layers.push(layer);
    for (const m of layer.members) used.add(m);
  }
  // A convolution without a bias, once the biased ones have claimed theirs.
  for (const n of a.nodes)
    if (n.op === 'conv2d' && !used.has(n.id)) {
      const layer = convLayer(a, n, null);
      if (!layer) continue;
      layers.push(layer);
      for (const m of layer.members) used.add(m);
    }
  return layers;
}

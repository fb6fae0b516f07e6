/**
 * Layers as groups of graph nodes, built exactly as the engine's `GraphBuilder.linear` and
 * `.conv2d` build them (same node ids, ops, attributes, PyTorch default init and seeds), so a
 * model made on the canvas is the same document as one made in code. The renderer cannot run
 * engine code, hence this port of the node construction; renderer/state/templates.test.ts
 * checks it against the example files that GraphBuilder wrote.
 *
 * A layer's group id is the id of its output node (`fc1` for the linear node `fc1` with
 * parameters `fc1.weight` and `fc1.bias`). Its configuration (features, channels, kernel …)
 * lives in its parameters' shapes and its ops' attributes: `readLayerConfig` reads it back and
 * `buildLayer` rebuilds the nodes for a new one, keeping ids, seeds and the input connection.
 */

import type { SymbolicShape } from '../../engine/protocol/messages.js';
import type { EditorDocument, NodeJSON } from './document.js';

export type LayerConfig =
  | { readonly kind: 'linear'; readonly inFeatures: number; readonly outFeatures: number }
  | {
      readonly kind: 'conv2d';
      readonly inChannels: number;
      readonly outChannels: number;
      readonly kernelSize: number;
      readonly stride: number;
      readonly padding: number;
    }
  | { readonly kind: 'layerNorm'; readonly features: number }
  | { readonly kind: 'embedding'; readonly numEmbeddings: number; readonly embeddingDim: number }
  | {
      readonly kind: 'batchNorm';
      /** 1: BatchNorm1d over [N, C] or [N, C, L]; 2: BatchNorm2d over [N, C, H, W]. */
      readonly dims: 1 | 2;
      readonly features: number;
    };

export type LayerKind = LayerConfig['kind'];

/** Parameter seeds of a layer, in creation order (weight, bias). */
export type Seeds = readonly [number, number];

function parameter(
  id: string,
  group: string,
  shape: readonly number[],
  seed: number,
  init: Readonly<Record<string, string | number | boolean>>,
): NodeJSON {
  return {
    id,
    op: 'parameter',
    inputs: [],
    attrs: { shape: [...shape], dtype: 'f32', seed, ...init },
    group,
  };
}

function op(
  id: string,
  group: string,
  name: string,
  inputs: readonly string[],
  attrs: NodeJSON['attrs'] = {},
): NodeJSON {
  return { id, op: name, inputs: [...inputs], attrs, group };
}

/** The nodes of a layer with group id `id` reading input `x` ('' when unconnected). */
export function buildLayer(id: string, x: string, config: LayerConfig, seeds: Seeds): NodeJSON[] {
  switch (config.kind) {
    case 'linear': {
      // y = x·Wᵀ + b with W [out, in], as torch.nn.Linear (uniform ±1/√in init).
      const fanIn = config.inFeatures;
      const init = { init: 'kaimingUniform', fanIn };
      return [
        parameter(`${id}.weight`, id, [config.outFeatures, config.inFeatures], seeds[0], init),
        parameter(`${id}.bias`, id, [config.outFeatures], seeds[1], init),
        op(id, id, 'linear', [x, `${id}.weight`, `${id}.bias`]),
      ];
    }
    case 'conv2d': {
      const { inChannels: cin, outChannels: cout, kernelSize: k, stride: s, padding: p } = config;
      const fanIn = cin * k * k;
      return [
        parameter(`${id}.weight`, id, [cout, cin, k, k], seeds[0], {
          init: 'kaimingUniform',
          fanIn,
        }),
        parameter(`${id}.bias`, id, [cout], seeds[1], { init: 'kaimingUniform', fanIn }),
        op(`${id}.conv`, id, 'conv2d', [x, `${id}.weight`], {
          stride: [s, s],
          padding: [p, p, p, p],
          dilation: [1, 1],
          groups: 1,
        }),
        op(`${id}.bias_view`, id, 'reshape', [`${id}.bias`], { shape: [1, cout, 1, 1] }),
        op(id, id, 'add', [`${id}.conv`, `${id}.bias_view`]),
      ];
    }
    case 'layerNorm':
      // torch.nn.LayerNorm: gamma starts at ones, beta at zeros.
      return [
        parameter(`${id}.weight`, id, [config.features], seeds[0], { init: 'ones' }),
        parameter(`${id}.bias`, id, [config.features], seeds[1], { init: 'zeros' }),
        op(id, id, 'layerNorm', [x, `${id}.weight`, `${id}.bias`], {
          normalizedShape: [config.features],
          eps: 1e-5,
        }),
      ];
    case 'embedding':
      // torch.nn.Embedding: a [num, dim] table initialised N(0, 1); the layer's input (i32
      // indices of any shape) picks rows: [N, …] → [N, …, dim].
      return [
        parameter(`${id}.weight`, id, [config.numEmbeddings, config.embeddingDim], seeds[0], {
          init: 'normal',
          std: 1,
        }),
        { ...op(id, id, 'gather', [`${id}.weight`, x], { axis: 0 }), name: 'Embedding' },
      ];
    case 'batchNorm': {
      // torch.nn.BatchNorm1d/2d: weight ones, bias zeros; the running mean (zeros) and
      // variance (ones) are state, not trained (the trainer updates them from each batch).
      const c = [config.features];
      return [
        parameter(`${id}.weight`, id, c, seeds[0], { init: 'ones' }),
        parameter(`${id}.bias`, id, c, seeds[1], { init: 'zeros' }),
        parameter(`${id}.running_mean`, id, c, seeds[0], { init: 'zeros', trainable: false }),
        parameter(`${id}.running_var`, id, c, seeds[1], { init: 'ones', trainable: false }),
        {
          ...op(
            id,
            id,
            'batchNorm',
            [x, `${id}.weight`, `${id}.bias`, `${id}.running_mean`, `${id}.running_var`],
            { training: true, momentum: 0.1, eps: 1e-5 },
          ),
          name: batchNormName(config.dims),
        },
      ];
    }
    default:
      return config satisfies never;
  }
}

const batchNormName = (dims: 1 | 2): string => `BatchNorm${dims}d`;

function shapeOf(node: NodeJSON | undefined): number[] | null {
  const shape = node?.attrs.shape;
  return Array.isArray(shape) && shape.every((d) => typeof d === 'number')
    ? (shape as number[])
    : null;
}

function seedOf(node: NodeJSON | undefined): number | null {
  return typeof node?.attrs.seed === 'number' ? node.attrs.seed : null;
}

export interface LayerInfo {
  readonly config: LayerConfig;
  readonly seeds: Seeds;
  /** The node and input index where the layer's input x enters. */
  readonly entry: { readonly node: string; readonly index: number };
  /** What x is connected to ('' when nothing). */
  readonly x: string;
}

/**
 * The configuration of the layer group `group`, or null when the group is not one of the
 * layers above (a group from an imported file): such groups are shown but not reconfigured.
 */
export function readLayer(doc: EditorDocument, group: string): LayerInfo | null {
  const members = new Map(doc.graph.nodes.filter((n) => n.group === group).map((n) => [n.id, n]));
  const out = members.get(group);
  const weight = members.get(`${group}.weight`);
  const bias = members.get(`${group}.bias`);
  const w = shapeOf(weight);
  const tableSeed = seedOf(weight);
  if (out?.op === 'gather' && w?.length === 2 && members.size === 2 && tableSeed !== null)
    return {
      config: { kind: 'embedding', numEmbeddings: w[0]!, embeddingDim: w[1]! },
      seeds: [tableSeed, tableSeed + 1],
      entry: { node: group, index: 1 },
      x: out.inputs[1] ?? '',
    };
  const seeds = [seedOf(weight), seedOf(bias)] as const;
  if (!out || !w || seeds[0] === null || seeds[1] === null) return null;
  const known: Seeds = [seeds[0], seeds[1]];
  if (out.op === 'linear' && w.length === 2 && members.size === 3)
    return {
      config: { kind: 'linear', inFeatures: w[1]!, outFeatures: w[0]! },
      seeds: known,
      entry: { node: group, index: 0 },
      x: out.inputs[0] ?? '',
    };
  if (out.op === 'layerNorm' && w.length === 1 && members.size === 3)
    return {
      config: { kind: 'layerNorm', features: w[0]! },
      seeds: known,
      entry: { node: group, index: 0 },
      x: out.inputs[0] ?? '',
    };
  if (
    out.op === 'batchNorm' &&
    w.length === 1 &&
    members.size === 5 &&
    members.has(`${group}.running_mean`) &&
    members.has(`${group}.running_var`)
  )
    return {
      config: {
        kind: 'batchNorm',
        dims: out.name === batchNormName(1) ? 1 : 2,
        features: w[0]!,
      },
      seeds: known,
      entry: { node: group, index: 0 },
      x: out.inputs[0] ?? '',
    };
  const conv = members.get(`${group}.conv`);
  if (out.op === 'add' && conv?.op === 'conv2d' && w.length === 4 && members.size === 5) {
    const stride = conv.attrs.stride;
    const padding = conv.attrs.padding;
    return {
      config: {
        kind: 'conv2d',
        inChannels: w[1]!,
        outChannels: w[0]!,
        kernelSize: w[2]!,
        stride: Array.isArray(stride) && typeof stride[0] === 'number' ? stride[0] : 1,
        padding: Array.isArray(padding) && typeof padding[0] === 'number' ? padding[0] : 0,
      },
      seeds: known,
      entry: { node: `${group}.conv`, index: 0 },
      x: conv.inputs[0] ?? '',
    };
  }
  return null;
}

/** The document with the layer `group` rebuilt for `config` (same ids, seeds and input). */
export function reconfigureLayer(
  doc: EditorDocument,
  group: string,
  config: LayerConfig,
): EditorDocument | null {
  const layer = readLayer(doc, group);
  if (!layer || layer.config.kind !== config.kind) return null;
  const rebuilt = new Map(buildLayer(group, layer.x, config, layer.seeds).map((n) => [n.id, n]));
  const nodes = doc.graph.nodes.map((n) => {
    const next = rebuilt.get(n.id);
    return next && JSON.stringify(next) !== JSON.stringify(n) ? next : n;
  });
  if (nodes.every((n, i) => n === doc.graph.nodes[i])) return doc;
  return { ...doc, graph: { ...doc.graph, nodes } };
}

/** Static dimensions of a symbolic shape after the batch, or null if any is symbolic. */
function featureDims(shape: SymbolicShape): number[] | null {
  if (shape[0] !== 'N') return null;
  const rest = shape.slice(1);
  return rest.every((d): d is number => typeof d === 'number') ? rest : null;
}

/**
 * How a layer would adapt to an input of this shape, as Keras layers and PyTorch's Lazy
 * modules infer their input size: a Linear takes the features of a [N, F] input, a Conv2d the
 * channels of [N, C, H, W], a LayerNorm the last dimension, a BatchNorm the channels (axis 1)
 * of its input, a Flatten the size of everything
 * after the batch. Inputs of another rank are left alone (a [N, 1, 28, 28] image into a Linear
 * is almost always a forgotten Flatten, which the error and its suggested fix then say).
 */
export function adaptedLayer(layer: LayerInfo, shape: SymbolicShape): LayerConfig | null {
  const dims = featureDims(shape);
  if (!dims) return null;
  const c = layer.config;
  switch (c.kind) {
    case 'linear':
      return dims.length === 1 && dims[0] !== c.inFeatures ? { ...c, inFeatures: dims[0]! } : null;
    case 'conv2d':
      return dims.length === 3 && dims[0] !== c.inChannels ? { ...c, inChannels: dims[0]! } : null;
    case 'layerNorm': {
      const last = dims[dims.length - 1];
      return last !== undefined && last !== c.features ? { ...c, features: last } : null;
    }
    case 'embedding':
      // Indices say nothing about the table's size.
      return null;
    case 'batchNorm': {
      // The channels of [N, C, H, W] (2d) or of [N, C] / [N, C, L] (1d).
      const fits = c.dims === 2 ? dims.length === 3 : dims.length === 1 || dims.length === 2;
      return fits && dims[0] !== c.features ? { ...c, features: dims[0]! } : null;
    }
    default:
      return c satisfies never;
  }
}

/** The display name that marks a reshape as a Flatten (made by the palette or a fix). */
export const FLATTEN_NAME = 'Flatten';

export function isFlatten(node: NodeJSON): boolean {
  return node.op === 'reshape' && node.name === FLATTEN_NAME;
}

/** The reshape shape that flattens an input of this shape to [N, features], if known. */
export function flattenShape(shape: SymbolicShape): number[] | null {
  const dims = featureDims(shape);
  return dims ? [-1, dims.reduce((a, b) => a * b, 1)] : null;
}

/** The name a layer kind shows under (PyTorch's). */
export function layerLabel(kind: LayerKind): string {
  switch (kind) {
    case 'linear':
      return 'Linear';
    case 'conv2d':
      return 'Conv2d';
    case 'layerNorm':
      return 'LayerNorm';
    case 'batchNorm':
      return 'BatchNorm';
    case 'embedding':
      return 'Embedding';
    default:
      return kind satisfies never;
  }
}

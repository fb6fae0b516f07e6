/**
 * Device placement: `placeGraph(graph, policy, { pins, costModel })` gives every node a device.
 * Pins win: the `pins` option first, then a node's own `device` field in the document. The
 * policies 'cpu' and 'webgpu' put every other node there. 'auto' is earliest-finish-time list
 * scheduling (HEFT without the ranking; the TensorFlow whitepaper's simulated placer): nodes
 * are visited in topological order, every device is a queue that is free from some time on,
 * and a node goes to the device where it would finish first, where its start waits for its
 * device and for each input to arrive: at once on the same device, after a transfer (link
 * latency plus bytes over bandwidth) from another. A tensor moved to a device once is there for
 * every later reader, as the executed plan has one transfer per (tensor, destination). Ties
 * go to the CPU. Inputs start on the CPU, where the caller's data is; parameters and constants
 * are free wherever their first reader runs and live there (later readers elsewhere pay the
 * transfer). Link contention is not modelled.
 */

import type { DeviceName } from '../backend/backend.js';
import { GraphError } from '../core/errors.js';
import { sizeOf } from '../core/shape.js';
import { bytesPerElement } from '../core/dtype.js';
import { Graph, type GraphNode } from '../graph/graph.js';
import type { TensorMeta } from '../ops/registry.js';
import { type CostModel, estimateOpCost } from './cost-model.js';

export type PlacementPolicy = 'cpu' | 'webgpu' | 'auto';

/** The device of every node, by node id. */
export type Placement = ReadonlyMap<string, DeviceName>;

export interface PlaceOptions {
  /** Devices chosen by the user, by node id; they override the policy and the document. */
  readonly pins?: Readonly<Record<string, DeviceName>>;
  /** Needed by 'auto' (see `measureCostModel`). */
  readonly costModel?: CostModel;
  /** The batch size the costs are estimated at (default 1). */
  readonly batch?: number;
}

const SOURCE_OPS = new Set(['input', 'parameter', 'constant']);

function checkPins(graph: Graph, pins: Readonly<Record<string, DeviceName>>): void {
  for (const [id, device] of Object.entries(pins)) {
    if (!graph.hasNode(id))
      throw new GraphError(`placeGraph: pins names '${id}', which is not a node of the graph`);
    if (device !== 'cpu' && device !== 'webgpu')
      throw new GraphError(
        `placeGraph: pin '${String(device)}' is not a device; use 'cpu' or 'webgpu'`,
        { node: id, op: graph.node(id).op },
      );
  }
}

/** The pinned device of a node, if any. */
function pinOf(
  node: GraphNode,
  pins: Readonly<Record<string, DeviceName>>,
): DeviceName | undefined {
  return pins[node.id] ?? node.device;
}

/** Every node's device under `policy`; see the file comment. */
export function placeGraph(
  graph: Graph,
  policy: PlacementPolicy,
  options: PlaceOptions = {},
): Map<string, DeviceName> {
  const pins = options.pins ?? {};
  checkPins(graph, pins);
  if (policy === 'cpu' || policy === 'webgpu')
    return new Map(graph.nodes.map((n) => [n.id, pinOf(n, pins) ?? policy]));
  if (policy !== 'auto')
    throw new GraphError(
      `placeGraph: unknown policy '${String(policy)}'; use 'cpu', 'webgpu' or 'auto'`,
    );
  const model = options.costModel;
  if (!model)
    throw new GraphError(
      "placeGraph: policy 'auto' needs a costModel (await measureCostModel(), or a CostModel " +
        'with fixed numbers)',
    );
  return scheduleEarliestFinish(graph, pins, model, options.batch ?? 1).placement;
}

export interface PlacementSchedule {
  readonly placement: Map<string, DeviceName>;
  /** Estimated finish time of every node, in seconds from the start. */
  readonly finish: Map<string, number>;
}

/** Earliest-finish-time list scheduling over the topological order (see the file comment). */
export function scheduleEarliestFinish(
  graph: Graph,
  pins: Readonly<Record<string, DeviceName>>,
  model: CostModel,
  batch = 1,
): PlacementSchedule {
  checkPins(graph, pins);
  const metas = graph.inferShapes({ batch });
  const devices = model.devices;
  const placement = new Map<string, DeviceName>();
  const finish = new Map<string, number>();
  /** When each tensor is available on each device it has been moved to. */
  const arrivals = new Map<string, Map<DeviceName, number>>();
  const freeAt = new Map<DeviceName, number>(devices.map((d) => [d, 0]));
  const bytesOf = (m: TensorMeta): number => sizeOf(m.shape) * bytesPerElement(m.dtype);

  // Parameters and constants wait for their first reader to choose their device.
  const floating = (id: string): boolean => {
    const node = graph.node(id);
    return (node.op === 'parameter' || node.op === 'constant') && !placement.has(id);
  };
  const arrival = (id: string, device: DeviceName): number => {
    if (floating(id)) return 0;
    const known = arrivals.get(id)!.get(device);
    if (known !== undefined) return known;
    return (
      finish.get(id)! + model.transferSeconds(bytesOf(metas.get(id)!), placement.get(id)!, device)
    );
  };
  const settle = (id: string, device: DeviceName, at: number): void => {
    placement.set(id, device);
    finish.set(id, at);
    arrivals.set(id, new Map([[device, at]]));
  };

  for (const node of graph.nodes) {
    const pin = pinOf(node, pins);
    if (pin !== undefined && !devices.includes(pin))
      throw new GraphError(
        `placeGraph: pinned to '${pin}', which the cost model does not know (it knows ` +
          `${devices.join(', ')})`,
        { node: node.id, op: node.op },
      );
    if (SOURCE_OPS.has(node.op)) {
      // Inputs come from the caller, on the CPU; pinned sources are placed now.
      if (pin !== undefined || node.op === 'input') settle(node.id, pin ?? 'cpu', 0);
      continue;
    }
    const cost = estimateOpCost(
      node.op,
      node.inputs.map((i) => metas.get(i)!),
      metas.get(node.id)!,
      node.attrs,
    );
    let best: { device: DeviceName; start: number; end: number } | null = null;
    for (const device of pin !== undefined ? [pin] : devices) {
      const ready = node.inputs.reduce((t, i) => Math.max(t, arrival(i, device)), 0);
      const start = Math.max(ready, freeAt.get(device)!);
      const end = start + model.opSeconds(cost, device);
      if (!best || end < best.end) best = { device, start, end };
    }
    const { device, end } = best!;
    for (const i of node.inputs) {
      if (floating(i)) settle(i, device, 0);
      const at = arrivals.get(i)!;
      if (!at.has(device)) at.set(device, arrival(i, device));
    }
    freeAt.set(device, end);
    settle(node.id, device, end);
  }
  // Sources nobody reads stay on the CPU.
  for (const node of graph.nodes) if (!placement.has(node.id)) settle(node.id, 'cpu', 0);
  return { placement: new Map(graph.nodes.map((n) => [n.id, placement.get(n.id)!])), finish };
}

/**
 * The graph with every node's `device` field set from `placement`, so the document carries it
 * (and loading it again pins every node). A new graph draws its parameters again from their
 * init rules and seeds; pass the old values as `params` to keep trained ones.
 */
export function applyPlacement(graph: Graph, placement: Placement): Graph {
  const json = graph.toJSON();
  return Graph.fromJSON({
    ...json,
    nodes: json.nodes.map((n) => {
      const device = placement.get(n.id);
      return device === undefined ? n : { ...n, device };
    }),
  });
}

/**
 * The executed plan of a placed graph, which is also what the canvas draws: every node as an
 * op step on its device, and an explicit `TransferNode` for every edge that crosses devices,
 * one per (tensor, destination device) however many readers there are on that device. Steps
 * are in an order the runner can follow (each after the values it reads); each transfer comes
 * just after the node it moves. Op steps read values by id: a node id when the value is on
 * the same device, a transfer id (`<node>@<device>`) when it was moved.
 */

import type { DeviceName } from '../backend/backend.js';
import { GraphError } from '../core/errors.js';
import type { Graph, GraphNode } from '../graph/graph.js';
import type { Placement } from './place.js';

/** A graph node run on its device. */
export interface PlacedOpStep {
  readonly kind: 'op';
  /** The node's id, also the id of the value it makes. */
  readonly id: string;
  readonly node: GraphNode;
  readonly device: DeviceName;
  /** The value ids it reads, one per node input: node ids or transfer ids. */
  readonly inputs: readonly string[];
}

/** A copy of one node's value onto another device. */
export interface TransferNode {
  readonly kind: 'transfer';
  /** `<source>@<to>`, the id its readers use. */
  readonly id: string;
  /** The node whose value moves. */
  readonly source: string;
  readonly from: DeviceName;
  readonly to: DeviceName;
  /** The op steps that read the moved value. */
  readonly readers: readonly string[];
}

export type PlacedStep = PlacedOpStep | TransferNode;

export interface PlacedPlan {
  readonly graph: Graph;
  readonly placement: Placement;
  readonly steps: readonly PlacedStep[];
  /** The transfer steps alone, for drawing. */
  readonly transfers: readonly TransferNode[];
  /** The graph's outputs: each is its node's value, on that node's device. */
  readonly outputs: readonly { readonly name: string; readonly value: string }[];
}

export const transferId = (source: string, device: DeviceName): string => `${source}@${device}`;

/** The plan of `graph` under `placement`; see the file comment. */
export function planExecution(graph: Graph, placement: Placement): PlacedPlan {
  const deviceOf = (id: string): DeviceName => {
    const device = placement.get(id);
    if (device === undefined)
      throw new GraphError(
        'planExecution: the placement has no device for this node; place the graph with ' +
          'placeGraph first',
        { node: id, op: graph.node(id).op },
      );
    return device;
  };
  for (const id of placement.keys())
    if (!graph.hasNode(id))
      throw new GraphError(`planExecution: the placement names '${id}', not a node of the graph`);

  // Readers of each (tensor, destination) pair, in topological order.
  const readers = new Map<string, { source: string; to: DeviceName; readers: string[] }>();
  for (const node of graph.nodes) {
    const device = deviceOf(node.id);
    for (const input of node.inputs) {
      if (deviceOf(input) === device) continue;
      const id = transferId(input, device);
      const entry = readers.get(id) ?? { source: input, to: device, readers: [] };
      if (!entry.readers.includes(node.id)) entry.readers.push(node.id);
      readers.set(id, entry);
    }
  }
  const bySource = new Map<string, TransferNode[]>();
  for (const [id, e] of readers) {
    const t: TransferNode = {
      kind: 'transfer',
      id,
      source: e.source,
      from: deviceOf(e.source),
      to: e.to,
      readers: e.readers,
    };
    bySource.set(e.source, [...(bySource.get(e.source) ?? []), t]);
  }

  const steps: PlacedStep[] = [];
  for (const node of graph.nodes) {
    const device = deviceOf(node.id);
    steps.push({
      kind: 'op',
      id: node.id,
      node,
      device,
      inputs: node.inputs.map((i) => (deviceOf(i) === device ? i : transferId(i, device))),
    });
    steps.push(...(bySource.get(node.id) ?? []));
  }
  return {
    graph,
    placement,
    steps,
    transfers: steps.filter((s): s is TransferNode => s.kind === 'transfer'),
    outputs: graph.outputs.map((o) => ({ name: o.name, value: o.node })),
  };
}

/**
 * Auto-layout with ELK's layered algorithm (elkjs): nodes in layers along the data flow, edge
 * crossings minimised, long edges routed around cards. The canvas's data flows down (inputs on
 * a card's top edge, its output at the bottom), so the app lays out `DOWN`; `RIGHT` is there for
 * left-to-right views. ELK runs in the page from `elk.bundled.js` (its in-thread worker stand-in:
 * no worker script to locate and no `eval`, so it works in the bundle under the app's CSP).
 * Card sizes come from the canvas's measurements where it has them, else an estimate.
 */

import ELK from 'elkjs/lib/elk.bundled.js';
import { estimatedHeight } from './auto-layout.js';
import type { Point } from './document.js';
import type { DocumentView } from './view.js';

export type LayoutDirection = 'DOWN' | 'RIGHT';

export interface Size {
  readonly width: number;
  readonly height: number;
}

export interface ElkLayoutOptions {
  readonly direction?: LayoutDirection;
  /** Measured card sizes by canvas node id. */
  readonly sizes?: ReadonlyMap<string, Size>;
}

/** A card's width on the canvas (styles.css `.wg-node`). */
const CARD_WIDTH = 196;

let elk: InstanceType<typeof ELK> | null = null;

/** Positions (top-left corners) of every view node, laid out by ELK layered. */
export async function elkLayout(
  view: DocumentView,
  options: ElkLayoutOptions = {},
): Promise<Record<string, Point>> {
  if (view.nodes.length === 0) return {};
  const direction = options.direction ?? 'DOWN';
  elk ??= new ELK();
  const ids = new Set(view.nodes.map((n) => n.id));
  const inSide = direction === 'DOWN' ? 'NORTH' : 'WEST';
  const outSide = direction === 'DOWN' ? 'SOUTH' : 'EAST';
  const graph = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': direction,
      // Room between layers for an edge and its shape label.
      'elk.layered.spacing.nodeNodeBetweenLayers': direction === 'DOWN' ? '64' : '90',
      'elk.spacing.nodeNode': '40',
      'elk.spacing.componentComponent': '60',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.edgeRouting': 'SPLINES',
    },
    children: view.nodes.map((n) => {
      const size = options.sizes?.get(n.id);
      // Ports in the card's order (inputs left to right on the top edge, the output below),
      // so ELK orders neighbours to match and edges into a card do not cross.
      return {
        id: n.id,
        width: size?.width ?? CARD_WIDTH,
        height: size?.height ?? estimatedHeight(n),
        layoutOptions: { 'elk.portConstraints': 'FIXED_ORDER' },
        ports: [
          ...n.ports.map((_, i) => ({
            id: `${n.id}\u0000in-${i}`,
            layoutOptions: { 'elk.port.side': inSide, 'elk.port.index': String(i) },
          })),
          {
            id: `${n.id}\u0000out`,
            layoutOptions: { 'elk.port.side': outSide, 'elk.port.index': String(n.ports.length) },
          },
        ],
      };
    }),
    edges: view.edges
      .filter((e) => e.source !== e.target && ids.has(e.source) && ids.has(e.target))
      .map((e) => ({
        id: e.id,
        sources: [`${e.source}\u0000out`],
        targets: [`${e.target}\u0000in-${e.port}`],
      })),
  };
  const laid = await elk.layout(graph);
  const positions: Record<string, Point> = {};
  for (const child of laid.children ?? [])
    positions[child.id] = { x: Math.round(child.x ?? 0), y: Math.round(child.y ?? 0) };
  return positions;
}

/**
 * The worker's diagnostics, placed on what the canvas draws: each graph node's problem goes to
 * the view node that shows it (a layer collects its members'), and each problem on a node marks
 * the edges into it. Where the fix is obvious it is offered as a command: a Flatten inserted
 * before a Linear (or matmul, or a loss) that got an image, a layer's input size set to what
 * arrives. Suggestions read shapes the worker inferred; nothing here infers shapes itself.
 */

import type { GraphCheck, SymbolicShape } from '../../engine/protocol/messages.js';
import type { CommandArgs } from './commands.js';
import { type EditorDocument, nodeById } from './document.js';
import { adaptedLayer, readLayer } from './layers.js';
import type { DocumentView, ViewNode } from './view.js';

export interface NodeProblem {
  /** The engine's message without the `node 'id', ` prefix (the canvas shows it on the node). */
  readonly message: string;
  /** 'incomplete': an input not connected yet, shown quietly; 'error': something wrong. */
  readonly severity: 'error' | 'incomplete';
  /** Index into the view node's ports, when one input is at fault. */
  readonly port?: number;
}

/** A suggested fix: a label for its button and the command that applies it. */
export type Fix =
  | {
      readonly label: string;
      readonly command: 'insertFlatten';
      readonly args: Omit<CommandArgs<'insertFlatten'>, 'position'>;
    }
  | {
      readonly label: string;
      readonly command: 'setLayerConfig';
      readonly args: CommandArgs<'setLayerConfig'>;
    };

export function displayMessage(message: string, node: string | null): string {
  const prefix = node === null ? '' : `node '${node}', `;
  return prefix && message.startsWith(prefix) ? message.slice(prefix.length) : message;
}

/** Problems by view node id; document-level problems under ''. */
export function problemsByViewNode(
  check: GraphCheck | null,
  view: DocumentView,
): ReadonlyMap<string, readonly NodeProblem[]> {
  const out = new Map<string, NodeProblem[]>();
  for (const d of check?.diagnostics ?? []) {
    const owner = d.node === null ? '' : (view.owner.get(d.node) ?? d.node);
    let port: number | undefined;
    if (d.port !== undefined && d.node !== null) {
      const index = view.byId
        .get(owner)
        ?.ports.findIndex((p) => p.node === d.node && p.index === d.port);
      if (index !== undefined && index >= 0) port = index;
    }
    const problem: NodeProblem = {
      message: displayMessage(d.message, d.node),
      severity: d.severity,
      ...(port !== undefined ? { port } : {}),
    };
    out.set(owner, [...(out.get(owner) ?? []), problem]);
  }
  return out;
}

function rank(shape: SymbolicShape | undefined): number {
  return shape ? shape.length : -1;
}

/** Ops whose first input must be [N, features]: an image there needs a Flatten first. */
const WANTS_MATRIX = new Set(['linear', 'matmul', 'crossEntropy']);

/** Fixes for a view node that has a problem. */
export function fixesFor(node: ViewNode, doc: EditorDocument, check: GraphCheck | null): Fix[] {
  if (!check) return [];
  const shapeOf = (id: string): SymbolicShape | undefined => check.shapes[id]?.shape;
  const fixes: Fix[] = [];
  const port = node.ports[0];
  if (!port || port.source === '') return fixes;
  const inShape = shapeOf(port.source);
  if (!inShape) return fixes;
  const memberOp = nodeById(doc.graph.nodes, port.node)?.op;
  if (
    memberOp &&
    WANTS_MATRIX.has(memberOp) &&
    port.index === 0 &&
    rank(inShape) > 2 &&
    inShape[0] === 'N'
  )
    fixes.push({
      label: 'Insert Flatten',
      command: 'insertFlatten',
      args: { target: port.node, index: port.index, sourceShape: inShape },
    });
  if (node.kind === 'layer') {
    const layer = readLayer(doc, node.id);
    const config = layer ? adaptedLayer(layer, inShape) : null;
    if (config) {
      const what =
        config.kind === 'linear'
          ? `in features to ${config.inFeatures}`
          : config.kind === 'conv2d'
            ? `in channels to ${config.inChannels}`
            : config.kind === 'batchNorm'
              ? `channels to ${config.features}`
              : config.kind === 'embedding'
                ? `table size to ${config.numEmbeddings}`
                : `features to ${config.features}`;
      fixes.push({
        label: `Set ${what}`,
        command: 'setLayerConfig',
        args: { group: node.id, config },
      });
    }
  }
  return fixes;
}

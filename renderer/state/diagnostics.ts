/**
 * The worker's diagnostics, placed on what the canvas draws: each graph node's problem goes to
 * the view node that shows it (a layer collects its members'), and each problem on a node marks
 * the edges into it. Where the fix is obvious it is offered as a command: a Flatten inserted
 * before a Linear (or matmul, or a loss) that got an image, a layer's input size set to what
 * arrives. Suggestions read shapes the worker inferred; nothing here infers shapes itself.
 * One check is the document's own: parameters too large for any device to hold (the worker's
 * shape check is symbolic and would let a 65-billion-value Linear through until training).
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

/**
 * The most values a model's parameters may have: 250 million f32 values are 1 GB, and training
 * keeps about four times that (the values, their gradients and the optimizer's two moments),
 * which is all the CPU device's 4 GB of memory.
 */
export const MAX_PARAMETER_VALUES = 250_000_000;

/** A byte count in decimal units, to two significant digits ("about 1 TB"). */
function approxBytes(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${Number(value.toPrecision(2))} ${units[unit]}`;
}

/** What to make smaller in the layer (or node) that holds an oversized parameter. */
function shrinkHint(doc: EditorDocument, group: string | undefined): string {
  const config = group ? readLayer(doc, group)?.config : undefined;
  switch (config?.kind) {
    case 'linear':
      return config.outFeatures >= config.inFeatures ? 'reduce out features' : 'reduce in features';
    case 'conv2d':
      return 'reduce its channels or kernel size';
    case 'embedding':
      return 'reduce its vocabulary or dimension';
    case undefined:
      return 'make its shape smaller';
    default:
      return 'reduce its features';
  }
}

/**
 * Parameters too large to train: the largest parameter over MAX_PARAMETER_VALUES of each view
 * node, on that node (a layer for its weight), or, when none is that large alone but together they are,
 * one document-level problem under ''.
 */
export function sizeProblems(
  doc: EditorDocument,
  view: DocumentView,
): ReadonlyMap<string, readonly NodeProblem[]> {
  const out = new Map<string, NodeProblem[]>();
  /** The largest oversized parameter of each view node: one problem says enough. */
  const largest = new Map<string, number>();
  let total = 0;
  for (const node of doc.graph.nodes) {
    if (node.op !== 'parameter' || !Array.isArray(node.attrs.shape)) continue;
    const values = (node.attrs.shape as unknown[]).reduce<number>(
      (n, d) => n * (typeof d === 'number' && d > 0 ? d : 0),
      1,
    );
    total += values;
    if (values <= MAX_PARAMETER_VALUES) continue;
    const group = node.group;
    const name =
      group && node.id.startsWith(`${group}.`)
        ? `${group}'s ${node.id.slice(group.length + 1)}`
        : `'${node.id}'`;
    const owner = view.owner.get(node.id) ?? node.id;
    if ((largest.get(owner) ?? 0) >= values) continue;
    largest.set(owner, values);
    const message =
      `${name} has ${values.toLocaleString('en-US')} values (about ${approxBytes(values * 4)} ` +
      `as f32); the CPU device holds about 4 GB: ${shrinkHint(doc, group)}`;
    out.set(owner, [{ message, severity: 'error' }]);
  }
  if (out.size === 0 && total > MAX_PARAMETER_VALUES)
    out.set('', [
      {
        message:
          `the model's parameters have ${total.toLocaleString('en-US')} values (about ` +
          `${approxBytes(total * 4)} as f32, and training keeps about four times that); the CPU ` +
          'device holds about 4 GB: make the largest layers smaller',
        severity: 'error',
      },
    ]);
  return out;
}

/**
 * Problems by view node id; document-level problems under ''. With the document, parameters too
 * large to train are problems too (sizeProblems).
 */
export function problemsByViewNode(
  check: GraphCheck | null,
  view: DocumentView,
  doc?: EditorDocument,
): ReadonlyMap<string, readonly NodeProblem[]> {
  const out = new Map<string, NodeProblem[]>();
  if (doc) for (const [id, list] of sizeProblems(doc, view)) out.set(id, [...list]);
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

/**
 * What the teacher needs to start on the current document: a value for every input and the
 * value to differentiate, or, in words, why this graph cannot be taught. A lesson document
 * (state/lessons.ts) gives its inputs' values; any other graph gets seeded ones (the same on
 * every run: a hash of the input's id and position, rounded to two decimals so they read well;
 * class labels counted modulo the classes of the loss that reads them). The teacher shows every
 * number, so a graph is refused when one of its values would hold more than MAX_VALUE_SIZE
 * numbers or it has more than MAX_NODES nodes.
 */

import type { GraphCheck, TensorData } from '../../engine/protocol/messages.js';
import type { EditorDocument, NodeJSON } from '../state/document.js';
import { lessonMeta } from '../state/lessons.js';

/** The most numbers one value may hold for the teacher. */
export const MAX_VALUE_SIZE = 256;
/** The most graph nodes the teacher walks. */
export const MAX_NODES = 80;
/** The batch size of `-1` (N) dimensions when the document does not say. */
export const TEACH_BATCH = 2;

export interface TeachSetup {
  readonly inputs: Readonly<Record<string, TensorData>>;
  /** The output name (or node id) differentiated. */
  readonly root: string;
}

export type TeachPlan = { readonly setup: TeachSetup } | { readonly problem: string };

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, d) => a * d, 1);

/** A number in [−1, 1] with two decimals, from the id and index (FNV-1a, then scaled). */
export function seededValue(id: string, index: number): number {
  let h = 0x811c9dc5;
  const text = `${id}#${index}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return Math.round(((h / 0xffffffff) * 2 - 1) * 100) / 100;
}

/** The number of classes of the loss reading label input `id`, from the logits' shape. */
function classesFor(doc: EditorDocument, check: GraphCheck | null, id: string): number {
  for (const node of doc.graph.nodes) {
    if (node.inputs[1] !== id || !['crossEntropy', 'oneHot', 'gather'].includes(node.op)) continue;
    const logits = node.inputs[0];
    const shape = logits !== undefined ? check?.shapes[logits]?.shape : undefined;
    const last = shape?.[shape.length - 1];
    if (typeof last === 'number' && last > 0) return last;
  }
  return 1;
}

function seededInput(node: NodeJSON, classes: number): TensorData {
  const attrs = node.attrs as { shape?: readonly number[]; dtype?: string; role?: string };
  const shape = (attrs.shape ?? []).map((d) => (d < 0 ? TEACH_BATCH : d));
  const dtype = attrs.dtype ?? 'f32';
  const n = sizeOf(shape);
  const values = Array.from({ length: n }, (_, i) =>
    dtype === 'i32' ? i % classes : dtype === 'bool' ? i % 2 : seededValue(node.id, i),
  );
  return { shape, dtype, values };
}

function describe(node: NodeJSON): string {
  return node.name ? `'${node.name}' (${node.id})` : `'${node.id}'`;
}

/** The inputs and root for teaching `doc`, or why it cannot be taught. */
export function planTeaching(doc: EditorDocument, check: GraphCheck | null): TeachPlan {
  const { nodes, outputs } = doc.graph;
  if (nodes.length === 0)
    return { problem: 'The canvas is empty. Open a lesson below, or build a small graph.' };
  if (nodes.length > MAX_NODES)
    return {
      problem:
        `This graph is too large for the teacher: it has ${nodes.length} nodes, and the ` +
        `teacher walks at most ${MAX_NODES}. Open a lesson below, or a smaller graph.`,
    };
  const errors = check?.diagnostics.filter((d) => d.severity === 'error') ?? [];
  const open = check?.diagnostics.filter((d) => d.severity === 'incomplete') ?? [];
  if (errors.length > 0 || open.length > 0) {
    const first = errors[0] ?? open[0]!;
    return {
      problem:
        `Fix the graph first: ${first.node ? `${first.node}: ` : ''}${first.message}` +
        (errors.length + open.length > 1 ? ` (and ${errors.length + open.length - 1} more)` : ''),
    };
  }
  if (outputs.length === 0)
    return { problem: 'The graph has no outputs: mark the value to differentiate as an output.' };

  const meta = lessonMeta(doc);
  const batch = (meta && Object.values(meta.inputs)[0]?.shape[0]) || TEACH_BATCH;
  for (const node of nodes) {
    const shape = check?.shapes[node.id]?.shape;
    if (!shape) continue;
    const size = sizeOf(shape.map((d) => (d === 'N' ? batch : d)));
    if (size > MAX_VALUE_SIZE)
      return {
        problem:
          `This graph is too large for the teacher: ${describe(node)} holds ${size} numbers, and ` +
          `the teacher shows at most ${MAX_VALUE_SIZE} per value. Open a lesson below, or ` +
          'make the layers smaller.',
      };
  }

  const inputs: Record<string, TensorData> = {};
  for (const node of nodes) {
    if (node.op !== 'input') continue;
    const given = meta?.inputs[node.id];
    inputs[node.id] = given
      ? { shape: [...given.shape], dtype: given.dtype, values: [...given.values] }
      : seededInput(node, classesFor(doc, check, node.id));
  }
  const root =
    meta?.root ?? (outputs.find((o) => o.name === 'loss') ?? outputs[outputs.length - 1]!).name;
  return { setup: { inputs, root } };
}

/**
 * The `placeholder` op: a node that stands for an op this build cannot run — an unknown op in
 * a notebook written by a newer Wiregrad, or an ONNX op with no Wiregrad equivalent. It keeps
 * the graph connected and loadable (and, when the output shape is known, shape inference
 * going), names what it stands for, and fails with a clear message if run, so the user can
 * replace it. One op serves both readers.
 */

import { type DType, isDType } from '../core/dtype.js';
import { ShapeError, WiregradError } from '../core/errors.js';
import { defineOp } from '../ops/registry.js';

export const PLACEHOLDER = 'placeholder';

export interface PlaceholderAttrs {
  /** What the node stands for: the original op name (ONNX ops as `onnx:<OpType>`). */
  readonly op: string;
  /** The original attributes, as JSON text, so writing the document back loses nothing. */
  readonly attrs?: string;
  /** The output shape, where the source declared it; -1 follows the batch of input 0. */
  readonly shape?: readonly number[];
  readonly dtype?: DType;
}

defineOp<PlaceholderAttrs>({
  name: PLACEHOLDER,
  arity: 'variadic',
  attrs: {
    op: { kind: 'string', doc: 'the op this node stands for' },
    attrs: { kind: 'string', optional: true, doc: 'its attributes, as JSON' },
    shape: { kind: 'ints', optional: true, doc: 'its output shape, when known' },
    dtype: { kind: 'dtype', optional: true, doc: 'its output dtype, when known' },
  },
  doc:
    'Stands for an op Wiregrad cannot run (unknown here, or an ONNX op without an equivalent); ' +
    'replace it with Wiregrad ops.',
  inferShape(inputs, a) {
    if (!a.shape || !a.dtype || !isDType(a.dtype))
      throw new ShapeError(
        `unknown op '${a.op}': replace this node (its output shape is not known)`,
        { op: PLACEHOLDER },
      );
    const batch = inputs[0]?.shape[0] ?? 1;
    return { shape: a.shape.map((d) => (d === -1 ? batch : d)), dtype: a.dtype };
  },
  decompose: (_inputs, a) => {
    throw new WiregradError(
      `cannot run: this node stands for the op '${a.op}', which this Wiregrad does not ` +
        `support; replace it with Wiregrad ops`,
      { op: PLACEHOLDER },
    );
  },
});

/**
 * Composite ops: losses, layers and normalisations that graph documents name as one node
 * (`linear`, `crossEntropy` …) but that run as compositions of primitive ops, so autodiff,
 * placement and every device see only primitives. Their shapes are inferred by running the
 * decomposition on symbolic tensors (a dry-run trace that records nothing), so the shape rules
 * can never drift from what the composition does.
 */

import { noGrad } from '../autograd/grad.js';
import type { DeviceName } from '../backend/backend.js';
import { state, type Tracer } from '../runtime/state.js';
import { Tensor } from '../tensor.js';
import { type AttrSpec, type OpDef, type TensorMeta, defineOp } from './registry.js';
import {
  batchNormPure,
  crossEntropy,
  dropout,
  layerNorm,
  linear,
  mseLoss,
  type Reduction,
} from './nn.js';
import { WiregradError } from '../core/errors.js';

/** Records nothing: every op just yields a symbolic tensor of its inferred shape. */
const dryRun: Tracer = {
  record: (_def: OpDef, inputs: readonly Tensor[], _attrs: object, meta: TensorMeta) =>
    new Tensor(meta.shape, meta.dtype, null, inputs[0]?.device ?? ('cpu' as DeviceName)),
};

function inferByDecomposition<A extends object>(
  decompose: (inputs: readonly Tensor[], attrs: A) => Tensor,
) {
  return (inputs: readonly TensorMeta[], attrs: A): TensorMeta => {
    const saved = state.tracer;
    const observers = state.observers;
    state.tracer = dryRun;
    state.observers = []; // a dry run is not an execution: observers must not see it
    try {
      const out = noGrad(() =>
        decompose(
          inputs.map((m) => new Tensor(m.shape, m.dtype, null, 'cpu')),
          attrs,
        ),
      );
      return { shape: out.shape, dtype: out.dtype };
    } finally {
      state.tracer = saved;
      state.observers = observers;
    }
  };
}

function defineComposite<A extends object>(def: {
  name: string;
  arity: number | 'variadic';
  attrs: Record<string, AttrSpec>;
  doc: string;
  decompose: (inputs: readonly Tensor[], attrs: A) => Tensor;
}): void {
  defineOp<A>({ ...def, inferShape: inferByDecomposition(def.decompose) });
}

const reduction = (a: { reduction?: string }): Reduction => {
  const r = a.reduction ?? 'mean';
  if (r !== 'mean' && r !== 'sum' && r !== 'none')
    throw new WiregradError(`unknown reduction '${r}'; use 'mean', 'sum' or 'none'`);
  return r;
};

defineComposite<{ reduction?: string; labelSmoothing?: number }>({
  name: 'crossEntropy',
  arity: 2,
  attrs: {
    reduction: { kind: 'string', optional: true, doc: "'mean' (default), 'sum' or 'none'" },
    labelSmoothing: { kind: 'float', optional: true, doc: 'ε in [0, 1]' },
  },
  doc: 'Cross-entropy of logits [N, C] against integer labels [N]: −log softmax(logits)[label].',
  decompose: ([logits, labels], a) =>
    crossEntropy(logits!, labels!, {
      reduction: reduction(a),
      labelSmoothing: a.labelSmoothing ?? 0,
    }),
});

defineComposite<{ reduction?: string }>({
  name: 'mseLoss',
  arity: 2,
  attrs: {
    reduction: { kind: 'string', optional: true, doc: "'mean' (default), 'sum' or 'none'" },
  },
  doc: 'Mean squared error (pred − target)².',
  decompose: ([pred, target], a) => mseLoss(pred!, target!, { reduction: reduction(a) }),
});

defineComposite({
  name: 'linear',
  arity: 'variadic',
  attrs: {},
  doc: 'Affine layer x·Wᵀ + b with W [out, in] (PyTorch layout); inputs x, W and optionally b.',
  decompose: (inputs) => {
    if (inputs.length < 2 || inputs.length > 3)
      throw new WiregradError(`takes x, W and optionally b; got ${inputs.length} inputs`, {
        op: 'linear',
      });
    return linear(inputs[0]!, inputs[1]!, inputs[2]);
  },
});

defineComposite<{ normalizedShape: readonly number[]; eps?: number }>({
  name: 'layerNorm',
  arity: 'variadic',
  attrs: {
    normalizedShape: { kind: 'ints', doc: 'the trailing dimensions to normalise over' },
    eps: { kind: 'float', optional: true },
  },
  doc: 'Layer normalisation over the trailing axes; inputs x and optionally gamma and beta.',
  decompose: ([x, gamma, beta], a) =>
    layerNorm(x!, a.normalizedShape, {
      ...(gamma ? { gamma } : {}),
      ...(beta ? { beta } : {}),
      eps: a.eps ?? 1e-5,
    }),
});

defineComposite<{ training: boolean; momentum?: number; eps?: number }>({
  name: 'batchNorm',
  arity: 5,
  attrs: {
    training: {
      kind: 'bool',
      doc: "normalise with the batch's statistics (on) or the running ones",
    },
    momentum: {
      kind: 'float',
      optional: true,
      doc: 'weight of each batch in the running statistics (default 0.1); read by the trainer',
    },
    eps: { kind: 'float', optional: true, doc: 'added to the variance (default 1e-5)' },
  },
  doc:
    'Batch normalisation per channel (axis 1) of x [N, C, …]; inputs x, weight, bias, running ' +
    'mean and running variance [C]. Pure: training uses the batch mean and biased variance ' +
    'and leaves the running statistics unchanged.',
  decompose: ([x, weight, bias, runningMean, runningVar], a) => {
    if (a.momentum !== undefined && !(a.momentum >= 0 && a.momentum <= 1))
      throw new WiregradError(`momentum must be in [0, 1], got ${a.momentum}`, {
        op: 'batchNorm',
      });
    if (a.eps !== undefined && !(a.eps > 0))
      throw new WiregradError(`eps must be positive, got ${a.eps}`, { op: 'batchNorm' });
    return batchNormPure(x!, weight!, bias!, runningMean!, runningVar!, {
      training: a.training,
      eps: a.eps ?? 1e-5,
    });
  },
});

defineComposite<{ p: number; seed?: number; training?: boolean }>({
  name: 'dropout',
  arity: 1,
  attrs: {
    p: { kind: 'float', doc: 'drop probability' },
    seed: { kind: 'int', optional: true, doc: 'same seed, same mask' },
    training: { kind: 'bool', optional: true, doc: 'off: identity (default on)' },
  },
  doc: 'Zeroes each element with probability p and scales the rest by 1/(1 − p).',
  decompose: ([x], a) =>
    dropout(x!, a.p, {
      training: a.training ?? true,
      ...(a.seed === undefined ? {} : { seed: a.seed }),
    }),
});

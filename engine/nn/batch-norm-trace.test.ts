/**
 * Tracing the batch-norm layers: `wg.trace` of `nn.BatchNorm1d/2d` records the registered
 * `batchNorm` op as one node on the weight, bias and running statistics (state: parameters with
 * `trainable: false`), the same graph `GraphBuilder.batchNorm` (and the canvas's BatchNorm
 * layer) makes; the traced graph computes exactly what the module computes; with gradients
 * taken through it inside the trace it records the decomposition, and the gradients still match.
 */

import { describe, expect, it } from 'vitest';
import * as wg from '../index.js';
import type { Graph, Tensor } from '../index.js';
import { GraphBuilder } from '../graph/builder.js';
import { canonicalHash } from '../graph/canonical.js';
import type { GraphJSON } from '../graph/ir.js';
import { BatchNorm1d, BatchNorm2d } from './index.js';

type Norm = BatchNorm1d | BatchNorm2d;

/** The document without parameter seeds: traced weights are seeded by id, built ones by count. */
function unseeded(doc: GraphJSON): GraphJSON {
  return {
    ...doc,
    nodes: doc.nodes.map((n) => {
      if (n.op !== 'parameter') return n;
      const { seed: _seed, ...attrs } = n.attrs;
      return { ...n, attrs };
    }),
  };
}

function traceNorm(bn: Norm, shape: readonly number[], grads = false): Graph {
  const run = () => wg.trace((x: Tensor) => bn.forward(x), [{ shape }], { inputNames: ['x'] });
  return grads ? run() : wg.noGrad(run);
}

/** Seeded values in [lo, hi), as a tensor. */
function uniform(shape: readonly number[], lo: number, hi: number, seed: number): Tensor {
  return wg.tidy(() =>
    wg
      .rand(shape, { seed })
      .mul(hi - lo)
      .add(lo),
  );
}

/** A layer whose weight, bias and running statistics are all away from their initial values. */
function trainedNorm(make: () => Norm, batches: readonly (readonly number[])[]): Norm {
  const bn = make();
  batches.forEach((shape, k) => wg.tidy(() => bn.forward(uniform(shape, -1 - k, 2 + k, 10 + k))));
  const c = [bn.numFeatures];
  bn.weight!.assign(uniform(c, 0.5, 1.5, 1));
  bn.bias!.assign(uniform(c, -0.5, 0.5, 2));
  return bn;
}

const CASES = [
  { name: 'BatchNorm2d', dims: 2, shape: [-1, 3, 4, 5], make: () => new BatchNorm2d(3) },
  {
    name: 'BatchNorm1d over [N, C]',
    dims: 1,
    shape: [-1, 5],
    make: () => new BatchNorm1d(5, { momentum: 0.3, eps: 1e-3 }),
  },
  {
    name: 'BatchNorm1d over [N, C, L]',
    dims: 1,
    shape: [-1, 4, 6],
    make: () => new BatchNorm1d(4),
  },
] as const;

describe('tracing nn.BatchNorm1d/2d', () => {
  it.each(CASES)('$name records one batchNorm node, as GraphBuilder.batchNorm', (c) => {
    for (const training of [true, false]) {
      const bn = c.make();
      if (!training) bn.eval();
      const traced = traceNorm(bn, c.shape);
      const ops = traced.nodes.map((n) => n.op).sort();
      expect(ops).toEqual([
        'batchNorm',
        'input',
        'parameter',
        'parameter',
        'parameter',
        'parameter',
      ]);
      const node = traced.nodes.find((n) => n.op === 'batchNorm')!;
      const trainable = node.inputs
        .slice(1)
        .map((id) => (traced.node(id).attrs as { trainable?: boolean }).trainable);
      expect(trainable).toEqual([undefined, undefined, false, false]);
      expect(node.attrs).toEqual({ training, momentum: bn.momentum, eps: bn.eps });

      const b = new GraphBuilder('built');
      const x = b.input('x', c.shape, 'f32', 'data');
      const options = { dims: c.dims, training, momentum: bn.momentum!, eps: bn.eps };
      b.output('output', b.batchNorm(x, bn.numFeatures, 'bn', options));
      const built = b.toJSON();
      expect(canonicalHash(unseeded(traced.toJSON()))).toBe(canonicalHash(unseeded(built)));
    }
  });

  it.each(CASES)('$name: the traced graph computes what the module computes', (c) => {
    const batch = c.shape.map((d) => (d === -1 ? 6 : d));
    const bn = trainedNorm(c.make, [batch, batch]);
    for (const training of [false, true]) {
      if (training) bn.train();
      else bn.eval();
      const traced = traceNorm(bn, c.shape);
      const x = uniform(batch, -2, 3, 7);
      const params = traced.initParameters();
      // The graph holds the module's own running statistics, not a copy of their first values.
      const stats = [...params.values()].filter((t) => t === bn.runningMean || t === bn.runningVar);
      expect(stats).toHaveLength(2);
      const fromGraph = wg.noGrad(() => traced.run({ x }, { params }).output!.dataSync());
      const eager = wg.noGrad(() => bn.forward(x).dataSync());
      expect(Array.from(fromGraph)).toEqual(Array.from(eager));
    }
  });

  it('records the decomposition when gradients are taken through it, with the same gradients', () => {
    const bn = trainedNorm(() => new BatchNorm2d(2), [[4, 2, 3, 3]]);
    const w = uniform([4, 2, 3, 3], -1, 1, 3);
    const loss = (x: Tensor) => bn.forward(x).mul(w).sum();
    // A weight that requires gradients, grad enabled: no batchNorm node, as for every composite op.
    expect(traceNorm(bn, [-1, 2, 3, 3], true).nodes.some((n) => n.op === 'batchNorm')).toBe(false);
    const traced = wg.trace((x: Tensor) => wg.grad(loss)(x), [{ shape: [4, 2, 3, 3] }], {
      inputNames: ['x'],
    });
    const x = uniform([4, 2, 3, 3], -1, 2, 8);
    const fromGraph = traced.run({ x }, { params: traced.initParameters() }).output!.dataSync();
    const eager = wg.grad(loss)(x).dataSync();
    expect(Array.from(fromGraph)).toEqual(Array.from(eager));
  });

  it('traces a layer without affine parameters and a cumulative average', () => {
    const bn = new BatchNorm1d(3, { affine: false, momentum: null });
    const traced = traceNorm(bn, [-1, 3]);
    const node = traced.nodes.find((n) => n.op === 'batchNorm')!;
    // No fixed momentum to record: the node leaves it at the op's default.
    expect(node.attrs).toEqual({ training: true, eps: 1e-5 });
    const x = uniform([5, 3], -1, 1, 4);
    const fromGraph = traced.run({ x }, { params: traced.initParameters() }).output!.dataSync();
    expect(Array.from(fromGraph)).toEqual(Array.from(bn.forward(x).dataSync()));
  });
});

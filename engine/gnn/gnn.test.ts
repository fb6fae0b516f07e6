import { describe, expect, it } from 'vitest';
import { expectClose, gradcheck, uniform } from '../../test/helpers/numeric.js';
import * as wg from '../index.js';
import {
  GATConv,
  GCNConv,
  GraphData,
  KARATE_EDGES,
  KARATE_FACTIONS,
  SAGEConv,
  TwoLayerGCN,
  edgeIndexFrom,
  gcnNorm,
  karateClub,
  nodeAccuracy,
  propagate,
  scatterMean,
  segmentSoftmax,
  trainNodeClassifier,
} from './index.js';

// A small directed graph: 0→1, 0→2, 1→2, 2→0, 3→2 (node 3 receives nothing).
const PAIRS: [number, number][] = [
  [0, 1],
  [0, 2],
  [1, 2],
  [2, 0],
  [3, 2],
];
const N = 4;
const ei = () => edgeIndexFrom(PAIRS);

const rows = (t: wg.Tensor) => t.arraySync() as number[][];
/** Dense matrix product, for independent references. */
const matmul = (a: number[][], b: number[][]) =>
  a.map((r) => b[0]!.map((_, j) => r.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
const transpose = (a: number[][]) => a[0]!.map((_, j) => a.map((r) => r[j]!));

describe('message passing', () => {
  it('propagate sums (or averages) source rows into target rows', () => {
    const x = wg.tensor([[1], [10], [100], [1000]]);
    expect(rows(propagate(x, ei()))).toEqual([[100], [1], [1011], [0]]);
    expect(rows(propagate(x, ei(), { aggregate: 'mean' }))).toEqual([[100], [1], [337], [0]]);
    const w = wg.tensor([1, 2, 3, 4, 5]);
    expect(rows(propagate(x, ei(), { weight: w }))).toEqual([[400], [1], [5032], [0]]);
    expect(
      rows(scatterMean(wg.tensor([[2], [4]]), wg.tensor([1, 1], { dtype: 'i32' }), 3)),
    ).toEqual([[0], [3], [0]]);
  });

  it('gcnNorm weighs edge j→i by 1/√(d_i d_j) with self loops (the dense D^-½(A+I)D^-½)', () => {
    const { edgeIndex, edgeWeight } = gcnNorm(ei(), N);
    expect(edgeIndex.shape).toEqual([2, 9]);
    // In-degrees with self loops: node 0: 2, 1: 2, 2: 4, 3: 1.
    const d = [2, 2, 4, 1];
    const expected = [...PAIRS, [0, 0], [1, 1], [2, 2], [3, 3]].map(
      ([j, i]) => 1 / Math.sqrt(d[i!]! * d[j!]!),
    );
    expectClose(edgeWeight.dataSync(), expected);
  });

  it('segmentSoftmax normalises over the edges into each node, stably', () => {
    const dst = wg.tensor([0, 0, 1, 0], { dtype: 'i32' });
    const s = segmentSoftmax(wg.tensor([1, 2, 5, 3]), dst, 2);
    const z = Math.exp(1) + Math.exp(2) + Math.exp(3);
    expectClose(s.dataSync(), [Math.exp(1) / z, Math.exp(2) / z, 1, Math.exp(3) / z]);
    // Huge scores would overflow exp without the shift.
    const big = segmentSoftmax(
      wg.tensor([1000, 1000, 999]),
      wg.tensor([0, 0, 1], { dtype: 'i32' }),
      2,
    );
    expectClose(big.dataSync(), [0.5, 0.5, 1]);
  });

  it('gradients through gather/scatter message passing match finite differences (f64)', () => {
    const edges = ei();
    const dst = wg.tensor([1, 2, 2, 0, 2], { dtype: 'i32' });
    gradcheck(
      (x, scores, w) => {
        const att = segmentSoftmax(scores, dst, N);
        const h = wg.ops.matmul(x, w);
        return propagate(h, edges, { weight: att, aggregate: 'sum' }).tanh();
      },
      [uniform([N, 3], 1), uniform([5], 2), uniform([3, 2], 3)],
    );
    // Through the degree normalisation too: gradients reach learnable edge weights.
    gradcheck(
      (x, w) => {
        const g = gcnNorm(edges, N, { weight: w });
        return propagate(x, g.edgeIndex, { weight: g.edgeWeight });
      },
      [uniform([N, 2], 4), uniform([5], 5, 0.5, 2)],
    );
  });
});

describe('layers against dense references', () => {
  const x = uniform([N, 3], 7);
  const X = rows(x);

  it('GCNConv = D^-½(A+I)D^-½ · X · Wᵀ + b', () => {
    const conv = new GCNConv(3, 2, { seed: 1 });
    conv.bias!.assign(wg.tensor([0.5, -0.5]));
    const A = Array.from({ length: N }, (_, i) =>
      Array.from({ length: N }, (_, j) =>
        i === j || PAIRS.some(([s, t]) => s === j && t === i) ? 1 : 0,
      ),
    );
    const deg = A.map((r) => r.reduce<number>((p, q) => p + q, 0));
    const norm = A.map((r, i) => r.map((v, j) => v / Math.sqrt(deg[i]! * deg[j]!)));
    const xw = matmul(X, transpose(rows(conv.weight)));
    const expected = matmul(norm, xw).map((r) => [r[0]! + 0.5, r[1]! - 0.5]);
    expectClose(conv.forward(x, ei()).dataSync(), expected.flat(), { atol: 1e-6 });
    // Glorot bound √(6/(3+2)) ≈ 1.095.
    expect(Math.max(...conv.weight.dataSync().map(Math.abs))).toBeLessThanOrEqual(1.0955);
  });

  it('SAGEConv = W_n · mean of in-neighbours + b + W_r · x', () => {
    const conv = new SAGEConv(3, 2, { seed: 2 });
    const mean = Array.from({ length: N }, (_, i) => {
      const nbrs = PAIRS.filter(([, t]) => t === i).map(([s]) => X[s]!);
      return [0, 1, 2].map((k) =>
        nbrs.length ? nbrs.reduce((p, r) => p + r[k]!, 0) / nbrs.length : 0,
      );
    });
    const wn = transpose(rows(conv.linNeighbors.weight));
    const b = Array.from(conv.linNeighbors.bias!.dataSync());
    const wr = transpose(rows(conv.linRoot!.weight));
    const expected = matmul(mean, wn).map((r, i) =>
      r.map((v, j) => v + b[j]! + matmul([X[i]!], wr)[0]![j]!),
    );
    expectClose(conv.forward(x, ei()).dataSync(), expected.flat(), { atol: 1e-6 });
    expect(conv.namedParameters().map(([n]) => n)).toEqual([
      'linNeighbors.weight',
      'linNeighbors.bias',
      'linRoot.weight',
    ]);
  });

  it('GATConv attends over in-edges and self loops, per head, as the paper’s formula', () => {
    for (const concat of [true, false]) {
      const heads = 2;
      const conv = new GATConv(3, 2, { heads, concat, seed: 3 });
      const { out, attention, edgeIndex } = conv.forwardWithAttention(x, ei());
      expect(edgeIndex.shape).toEqual([2, 9]);
      expect(out.shape).toEqual(concat ? [N, 4] : [N, 2]);
      const W = rows(conv.weight);
      const h = X.map((xi) => W.map((wr) => wr.reduce((s, v, k) => s + v * xi[k]!, 0))); // [n, H·F]
      const aS = rows(conv.attSrc);
      const aD = rows(conv.attDst);
      const edges = [...PAIRS, [0, 0], [1, 1], [2, 2], [3, 3]] as [number, number][];
      const expected: number[][] = [];
      const att = rows(attention);
      for (let i = 0; i < N; i++) {
        const perHead: number[][] = [];
        for (let k = 0; k < heads; k++) {
          const hk = (n: number) => h[n]!.slice(2 * k, 2 * k + 2);
          const dot = (a: number[], b: number[]) => a.reduce((s, v, j) => s + v * b[j]!, 0);
          const into = edges.map((e, idx) => [e, idx] as const).filter(([[, t]]) => t === i);
          const scores = into.map(([[s]]) => {
            const e = dot(aS[k]!, hk(s)) + dot(aD[k]!, hk(i));
            return e > 0 ? e : 0.2 * e;
          });
          const z = scores.reduce((p, q) => p + Math.exp(q), 0);
          const alpha = scores.map((e) => Math.exp(e) / z);
          into.forEach(([, idx], m) => expect(att[idx]![k]).toBeCloseTo(alpha[m]!, 6));
          perHead.push(
            [0, 1].map((f) => into.reduce((p, [[s]], m) => p + alpha[m]! * hk(s)[f]!, 0)),
          );
        }
        expected.push(
          concat ? perHead.flat() : [0, 1].map((f) => (perHead[0]![f]! + perHead[1]![f]!) / 2),
        );
      }
      expectClose(out.dataSync(), expected.flat(), { atol: 1e-6 });
    }
  });

  it('a GAT layer trains: gradients reach every parameter', () => {
    const conv = new GATConv(3, 2, { heads: 2, seed: 4 });
    const loss = conv.forward(x, ei()).pow(2).sum();
    loss.backward();
    for (const [name, p] of conv.namedParameters())
      expect(Math.max(...p.grad!.dataSync().map(Math.abs)), name).toBeGreaterThan(0);
  });

  it('names the problem in bad graph data', () => {
    expect(
      () => new GraphData({ x: wg.zeros([3, 2]), edgeIndex: edgeIndexFrom([[0, 3]]) }),
    ).toThrow(/edge 0 has target node 3, outside \[0, 3\) for a graph of 3 nodes/);
    expect(
      () => new GraphData({ x: wg.zeros([3, 2]), edgeIndex: wg.zeros([3, 2], { dtype: 'i32' }) }),
    ).toThrow(/must have shape \[2, e\].*got \[3, 2\]/);
    expect(() => new GCNConv(3, 2).forward(wg.zeros([4, 5]), ei())).toThrow(
      /GCNConv: node features must be \[nodes, 3\], got \[4, 5\]/,
    );
  });
});

describe("Zachary's karate club", () => {
  it('has 34 members, 78 distinct friendships and two factions of 17', () => {
    const keys = new Set(KARATE_EDGES.map(([a, b]) => `${Math.min(a, b)}-${Math.max(a, b)}`));
    expect([KARATE_EDGES.length, keys.size, KARATE_FACTIONS.length]).toEqual([78, 78, 34]);
    const deg = new Array<number>(34).fill(0);
    for (const [a, b] of KARATE_EDGES) {
      deg[a]!++;
      deg[b]!++;
    }
    // The well-known degrees: the instructor 16, the administrator 17, member 32 has 12.
    expect([deg[0], deg[33], deg[32], deg[11]]).toEqual([16, 17, 12, 1]);
    expect(KARATE_FACTIONS.filter((f) => f === 1).length).toBe(17);
    const g = karateClub();
    expect([g.numNodes, g.numEdges, g.numFeatures]).toEqual([34, 156, 34]);
  });

  it('a 2-layer GCN from one labelled member per faction classifies >= 90% of the other 32', () => {
    const data = karateClub();
    const model = new TwoLayerGCN(34, 2, { seed: 0 });
    const losses = trainNodeClassifier(model, data, { labelled: [0, 33], epochs: 200 });
    expect(losses.at(-1)!).toBeLessThan(losses[0]! / 10);
    const others = Array.from({ length: 34 }, (_, i) => i).filter((i) => i !== 0 && i !== 33);
    const before = wg.memory().tensors;
    const accuracy = wg.tidy(() =>
      nodeAccuracy(model.forward(data.x, data.edgeIndex), data.y!, others),
    );
    expect(wg.memory().tensors).toBe(before);
    expect(accuracy).toBeGreaterThanOrEqual(0.9);
  });
});

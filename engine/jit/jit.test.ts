import { afterEach, describe, expect, it, vi } from 'vitest';
import * as wg from '../index.js';
import { cpuBackend } from '../backend/cpu/index.js';
import { expectClose, gradcheck, uniform } from '../../test/helpers/numeric.js';

type T = wg.Tensor;

/** Exact equality, element by element, telling -0 from +0 and NaN equal to NaN. */
function expectIdentical(actual: T, expected: T): void {
  expect(actual.shape).toEqual(expected.shape);
  expect(actual.dtype).toBe(expected.dtype);
  expect(Array.from(actual.dataSync())).toEqual(Array.from(expected.dataSync()));
}

/** Counts backend.run calls (kernel dispatches) while `fn` runs. */
function countDispatches(fn: () => unknown): { count: number; ops: string[] } {
  const spy = vi.spyOn(cpuBackend, 'run');
  try {
    wg.tidy(fn);
    return { count: spy.mock.calls.length, ops: spy.mock.calls.map((c) => c[0]) };
  } finally {
    spy.mockRestore();
  }
}

afterEach(() => {
  cpuBackend.variant = 'fast';
});

// Eight exactly rounded elementwise ops: a jitted result must equal eager bit for bit.
const chain8 = (x: T, y: T): T => x.add(y).mul(0.5).sub(y).maximum(x).div(y).abs().neg().relu();

describe('jit: results equal eager execution', () => {
  it('an 8-op chain gives bit-identical results, including NaN, ±Inf, ±0 and subnormals', () => {
    const specials = [NaN, Infinity, -Infinity, 0, -0, 1e-40, -1e-40, 3.4e38, -3.4e38, 1, -1];
    const n = 1027; // not a multiple of 4: the SIMD kernel's one-element tail runs too
    const xs = Float32Array.from({ length: n }, (_, i) => specials[i % 11]! * (1 + (i % 7)));
    const ys = Float32Array.from({ length: n }, (_, i) => specials[(i * 5 + 3) % 11]!);
    const x = wg.tensor(xs);
    const y = wg.tensor(ys);
    const f = wg.jit(chain8);
    expectIdentical(f(x, y), chain8(x, y));
    expectIdentical(f(uniform([n], 1), uniform([n], 2)), chain8(uniform([n], 1), uniform([n], 2)));
  });

  it('broadcasts a scalar tensor, a row, a column and a 0-d constant inside a fused group', () => {
    const fn = (x: T, row: T, col: T, s: T): T =>
      x.mul(row).add(col).sub(s).maximum(wg.scalar(0.25)).div(row);
    const x = uniform([5, 6], 3);
    const row = uniform([6], 4, 0.5, 2);
    const col = uniform([5, 1], 5); // not a row: the interpreter runs this group
    const s = wg.scalar(0.125);
    const f = wg.jit(fn);
    expectIdentical(f(x, row, col, s), fn(x, row, col, s));
    // Row and scalar only: the SIMD kernel's row layout (6 columns: a tail in every row).
    const g = wg.jit((a: T, r: T, t: T) => a.mul(r).add(t).relu());
    const eager = x.mul(row).add(s).relu();
    expectIdentical(g(x, row, s), eager);
    expect(g.inspect(x, row, s).fused).toBe(1);
  });

  it('comparisons, where and casts to and from bool fuse and match eager exactly', () => {
    const fn = (x: T, y: T): T => {
      const mask = x.greater(y);
      const picked = wg.ops.where(mask, x, y.neg());
      return picked.add(wg.ops.cast(x.less(0), 'f32')).mul(wg.ops.cast(mask, 'f32'));
    };
    const x = wg.tensor([NaN, 1, -2, 0, -0, Infinity, 3, -Infinity, 5]);
    const y = wg.tensor([0, NaN, -3, -0, 0, Infinity, 2, 1, -5]);
    const f = wg.jit(fn);
    expectIdentical(f(x, y), fn(x, y));
    expect(f.inspect(x, y).kernels).toBe(1);
    // A bool result and a bool input.
    const h = wg.jit((a: T, m: T) => wg.ops.where(m, a.abs(), a).greater(1));
    const m = x.less(1);
    expectIdentical(h(x, m), wg.ops.where(m, x.abs(), x).greater(1));
  });

  it('chains with exp, log, tanh and sigmoid stay within 4e-6 relative; erf, gelu, pow are exact', () => {
    // Positive terms only, so that no cancellation magnifies the ops' own errors.
    const approx = (x: T): T =>
      x.mul(0.1).exp().mul(x.sigmoid()).add(x.tanh().abs()).mul(x.abs().add(1).log());
    const x = uniform([4099], 7, -30, 30);
    const f = wg.jit(approx);
    expect(f.inspect(x).kernels).toBe(1);
    expectClose(f(x).dataSync(), approx(x).dataSync(), { rtol: 4e-6, atol: 0 });
    // leakyRelu multiplies in float64 as the reference does; erf/gelu/pow run in the
    // interpreter, which rounds exactly as the unfused kernels do.
    const exact = (a: T): T => a.leakyRelu(0.2).mul(2).gelu().add(wg.ops.erf(a)).pow(2).sub(1);
    expectIdentical(wg.jit(exact)(x), exact(x));
  });

  it('the interpreter (no WebAssembly) gives the same bits as eager reference kernels', () => {
    cpuBackend.variant = 'reference';
    const fn = (x: T, y: T): T => x.mul(y).exp().add(y.tanh()).sigmoid().log().sub(x.sqrt());
    const x = uniform([3, 129], 8, 0, 4);
    const y = uniform([129], 9, -2, 2);
    expectIdentical(wg.jit(fn)(x, y), fn(x, y));
  });

  it('returns arrays and objects, passes inputs through, and takes static arguments', () => {
    const f = wg.jit((x: T, k: number) => ({ y: x.mul(k).add(1), same: x, z: x.neg().exp() }));
    const x = uniform([8], 10);
    const out = f(x, 3);
    expect(out.same).toBe(x);
    expectIdentical(out.y, x.mul(3).add(1));
    expectClose(out.z.dataSync(), x.neg().exp().dataSync(), { rtol: 2e-6 });
    f(x, 4); // a new static value is a new key
    expect(f.stats()).toMatchObject({ misses: 2, hits: 0 });
    const g = wg.jit((a: T, b: T) => [a.add(b), a.sub(b)]);
    const [s, d] = g(x, x);
    expectIdentical(s!, x.add(x));
    expectIdentical(d!, x.sub(x));
  });
});

describe('jit: fusion', () => {
  it('runs the 8-op elementwise chain as one kernel dispatch (eager: one per op)', () => {
    const x = uniform([1000], 1);
    const y = uniform([1000], 2, 1, 2);
    const f = wg.jit(chain8);
    f(x, y); // compile outside the count
    const eager = countDispatches(() => chain8(x, y));
    const jitted = countDispatches(() => f(x, y));
    expect(eager.ops.filter((op) => op !== 'fill')).toHaveLength(8);
    expect(jitted).toEqual({ count: 1, ops: ['fusedElementwise'] });
    const info = f.inspect(x, y);
    expect(info.groups).toHaveLength(1);
    expect(info.groups[0]!.ops).toEqual([
      'add',
      'mul',
      'sub',
      'maximum',
      'div',
      'abs',
      'neg',
      'relu',
    ]);
    expect(info.groups[0]!.program).toBe(
      'add(x0, x1); mul(t0, 0.5); sub(t1, x1); maximum(t2, x0); div(t3, x1); abs(t4); ' +
        'neg(t5); relu(t6)',
    );
  });

  it('with fuse: false replays the traced graph op by op', () => {
    const x = uniform([10], 1);
    const y = uniform([10], 2, 1, 2);
    const f = wg.jit(chain8, { fuse: false });
    // Eight ops and the fill that makes the scalar 0.5.
    expect(f.inspect(x, y)).toMatchObject({ kernels: 9, fused: 0, groups: [] });
    expectIdentical(f(x, y), chain8(x, y));
    expect(countDispatches(() => f(x, y)).ops.filter((op) => op !== 'fill')).toHaveLength(8);
  });

  it('execution events show the fused chain as one op, named after its last node', () => {
    const x = uniform([64], 1);
    const y = uniform([64], 2, 1, 2);
    const f = wg.jit(chain8);
    f(x, y);
    const recorder = new wg.ExecutionRecorder().start();
    f(x, y);
    const events = recorder.stop().events();
    expect(events.map((e) => [e.op, e.node])).toEqual([['fusedElementwise', 'relu_1']]);
  });

  it('does not fuse across a value read elsewhere, or across non-elementwise ops', () => {
    const fn = (x: T, w: T): { h: T; s: T } => {
      const a = x.mul(2).add(1); // read twice below: a group output
      const h = a.relu().matmul(w).tanh().mul(3);
      return { h, s: a.sigmoid().sum() };
    };
    const x = uniform([4, 3], 11);
    const w = uniform([3, 2], 12);
    const info = wg.jit(fn).inspect(x, w);
    const fused = info.graph.nodes.filter((n) => n.op === 'fusedElementwise');
    expect(fused.map((n) => n.attrs.program).sort()).toEqual([
      'mul(x0, 2); add(t0, 1)',
      'tanh(x0); mul(t0, 3)',
    ]);
    // Single ops stay as they are (relu, sigmoid), and the graph is still a JSON document.
    expect(info.graph.nodes.map((n) => n.op)).toEqual(
      expect.arrayContaining(['relu', 'sigmoid', 'matmul', 'sum']),
    );
    const again = wg.Graph.fromJSON(JSON.parse(JSON.stringify(info.graph.toJSON())));
    const out = again.run({ arg0: x, arg1: w });
    const eager = fn(x, w);
    expectClose(out.h!.dataSync(), eager.h.dataSync(), { rtol: 2e-6 });
    expectIdentical(out.s!, eager.s);
  });

  it('frees intermediates as it goes: repeated calls keep memory flat', () => {
    const f = wg.jit((x: T, w: T) => x.matmul(w).add(1).relu().matmul(w.transpose()).sum());
    const x = uniform([16, 8], 13);
    const w = uniform([8, 8], 14);
    wg.dispose(f(x, w));
    const before = { ...wg.memory(), heap: cpuBackend.heap.allocatedBytes };
    for (let i = 0; i < 20; i++) wg.dispose(f(x, w));
    expect({ ...wg.memory(), heap: cpuBackend.heap.allocatedBytes }).toEqual(before);
  });
});

describe('jit: gradients', () => {
  function mlp(seed: number): { params: T[]; forward: (x: T) => T } {
    const w1 = uniform([6, 16], seed, -0.5, 0.5);
    const b1 = uniform([16], seed + 1, -0.1, 0.1);
    const w2 = uniform([16, 3], seed + 2, -0.5, 0.5);
    const b2 = uniform([3], seed + 3, -0.1, 0.1);
    const params = [w1, b1, w2, b2];
    for (const p of params) p.requiresGrad = true;
    const forward = (x: T): T => x.matmul(w1).add(b1).relu().matmul(w2).add(b2);
    return { params, forward };
  }

  it('an MLP with a squared-error loss: jitted forward and backward equal eager bit for bit', () => {
    const { params, forward } = mlp(20);
    const x = uniform([8, 6], 30);
    const target = uniform([8, 3], 31);
    const loss = (a: T, t: T): T => {
      const d = forward(a).sub(t);
      return d.mul(d).mean();
    };
    const eagerLoss = loss(x, target);
    eagerLoss.backward();
    const eagerGrads = params.map((p) => p.grad!.dataSync());
    for (const p of params) p.grad = null;
    const f = wg.jit(loss);
    const jitLoss = f(x, target);
    expect(f.inspect(x, target).fused).toBeGreaterThan(0);
    jitLoss.backward();
    expect(jitLoss.item()).toBe(eagerLoss.item());
    params.forEach((p, i) =>
      expect(Array.from(p.grad!.dataSync())).toEqual(Array.from(eagerGrads[i]!)),
    );
  });

  it('an MLP with tanh and cross-entropy: gradients match eager within 1e-5', () => {
    const { params, forward } = mlp(40);
    const x = uniform([8, 6], 50);
    const labels = wg.tensor(Int32Array.from([0, 1, 2, 0, 1, 2, 2, 1]));
    const loss = (a: T, y: T): T => wg.ops.crossEntropy(forward(a).tanh().mul(2), y);
    const eagerLoss = loss(x, labels);
    eagerLoss.backward();
    const eagerGrads = params.map((p) => p.grad!.dataSync());
    for (const p of params) p.grad = null;
    const jitLoss = wg.jit(loss)(x, labels);
    jitLoss.backward();
    expectClose([jitLoss.item()], [eagerLoss.item()], { rtol: 1e-6 });
    params.forEach((p, i) =>
      expectClose(p.grad!.dataSync(), eagerGrads[i]!, { rtol: 1e-5, atol: 1e-7 }),
    );
  });

  it('gradients flow to broadcast inputs; grad of grad works through a fused node', () => {
    const fn = (x: T, b: T): T => x.mul(b).add(1).mul(x).sub(b);
    const x = uniform([3, 4], 60);
    const b = uniform([4], 61);
    const f = wg.jit(fn);
    const [gx, gb] = wg.grad((u: T, v: T) => f(u, v).sum(), [0, 1])(x, b);
    const [ex, eb] = wg.grad((u: T, v: T) => fn(u, v).sum(), [0, 1])(x, b);
    expectIdentical(gx!, ex!);
    expectIdentical(gb!, eb!);
    // d²/dx² of sum(x·b·x + x) is 2b, through the fused node's recompute rule.
    const second = wg.grad((u: T) =>
      wg
        .grad((v: T) => f(v, b).sum())(u)
        .sum(),
    )(x);
    const expected = b.mul(2).expand([3, 4]);
    expectIdentical(second, wg.ops.add(expected, 0));
  });

  it("the fused op's gradient rule agrees with float64 central differences", () => {
    const program = 'mul(x0, x1); tanh(t0); add(t1, x0); maximum(t2, x1); sigmoid(t3); div(t4, x1)';
    gradcheck(
      (a: T, b: T) => runFused([a, b], program),
      [uniform([3, 4], 70), uniform([4], 71, 0.5, 1.5)],
    );
  });
});

function runFused(inputs: T[], program: string): T {
  return wg.runOp('fusedElementwise', inputs, { program });
}

describe('jit: cache', () => {
  it('recompiles on a new shape and reuses plans for seen ones', () => {
    const f = wg.jit((x: T) => x.mul(2).add(1));
    f(uniform([4], 1));
    f(uniform([4], 2));
    f(uniform([2, 4], 3));
    f(uniform([4], 4));
    expect(f.stats()).toEqual({ hits: 2, misses: 2, evictions: 0, size: 2, capacity: 16 });
    // requiresGrad is part of the key: a differentiable call compiles its own variant.
    const xg = uniform([4], 5);
    xg.requiresGrad = true;
    f(xg);
    expect(f.stats().misses).toBe(3);
  });

  it('is bounded: the least recently used plan goes first', () => {
    const f = wg.jit((x: T) => x.neg().exp(), { cacheSize: 2 });
    const a = uniform([1], 1);
    const b = uniform([2], 1);
    const c = uniform([3], 1);
    f(a);
    f(b);
    f(a); // a is now the most recent
    f(c); // evicts b
    f(a);
    expect(f.stats()).toEqual({ hits: 2, misses: 3, evictions: 1, size: 2, capacity: 2 });
    f(b);
    expect(f.stats()).toMatchObject({ misses: 4, evictions: 2 });
  });

  it('keeps the LRU order exact when repeated calls take the same-shapes shortcut', () => {
    const f = wg.jit((x: T) => x.neg().exp(), { cacheSize: 2 });
    const a = uniform([1], 1);
    const b = uniform([2], 1);
    const c = uniform([3], 1);
    f(b);
    f(a);
    f(a);
    f(a); // a, repeated: the shortcut
    f(b); // b is the most recent now, a the one before
    f(c); // evicts a, not b
    expect(f.stats()).toEqual({ hits: 3, misses: 3, evictions: 1, size: 2, capacity: 2 });
    f(b);
    expect(f.stats().misses).toBe(3);
    f(a);
    expect(f.stats().misses).toBe(4);
    // The shortcut still refuses a disposed argument with the usual message.
    const d = uniform([1], 2);
    f(d);
    d.dispose();
    expect(() => f(d)).toThrow(/disposed/);
    // And compiles anew when gradients are off (a noGrad plan is its own variant).
    const before = f.stats().misses;
    wg.noGrad(() => f(a));
    expect(f.stats().misses).toBe(before + 1);
  });

  it('sees in-place updates of captured parameters (optimiser steps)', () => {
    const w = uniform([3], 80);
    w.requiresGrad = true;
    const f = wg.jit((x: T) => x.mul(w).add(w));
    const x = uniform([3], 81);
    const opt = new wg.optim.SGD([w], { lr: 0.1 });
    for (let i = 0; i < 3; i++) {
      opt.zeroGrad();
      f(x).sum().backward();
      opt.step();
      expectIdentical(
        wg.noGrad(() => f(x)),
        x.mul(w).add(w),
      );
    }
  });
});

describe('jit: errors', () => {
  it('a shape error inside the function names the op and both shapes', () => {
    const f = wg.jit(function badMatmul(x: T, w: T) {
      return x.matmul(w).relu();
    });
    expect(() => f(uniform([2, 3], 1), uniform([4, 5], 2))).toThrow(
      /op 'matmul'.*\[2, 3\].*\[4, 5\]/,
    );
  });

  it('a kernel error at run time names the node and the op', () => {
    const f = wg.jit((x: T, i: T) => wg.ops.gather(x.mul(2), i, 0));
    const x = uniform([4], 1);
    expect(() => f(x, wg.tensor(Int32Array.from([0, 1])))).not.toThrow();
    expect(() => f(x, wg.tensor(Int32Array.from([0, 9])))).toThrow(/node 'gather_1', op 'gather'/);
  });

  it('refuses random ops, non-tensor arguments and disposed captured tensors', () => {
    expect(() => wg.jit((x: T) => x.add(wg.rand([2])))(uniform([2], 1))).toThrow(
      /draws random numbers.*pass them in as arguments/,
    );
    const f = wg.jit((x: T) => x.mul(2));
    expect(() => (f as unknown as (a: unknown) => T)([1, 2])).toThrow(/argument 0 is an array/);
    const w = uniform([2], 3);
    w.requiresGrad = true;
    const g = wg.jit((x: T) => x.mul(w).add(1));
    g(uniform([2], 4));
    w.dispose();
    expect(() => g(uniform([2], 4))).toThrow(/captured tensor .* was disposed/);
  });
});

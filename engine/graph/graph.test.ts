import { describe, expect, it } from 'vitest';
import * as wg from '../index.js';
import {
  Graph,
  differentiate,
  trace,
  type GraphJSON,
  type NodeJSON,
  type Tensor,
} from '../index.js';
import { expectClose, uniform } from '../../test/helpers/numeric.js';

const f64 = (t: Tensor): Tensor => t.cast('f64');
/** Through JSON text and back, as a file on disk would go. */
const reload = (g: Graph): Graph => Graph.fromJSON(JSON.parse(JSON.stringify(g.toJSON())));
const values = (t: Tensor): number[] => Array.from(t.dataSync());

/** A two-layer perceptron; its weights are closure-captured, as in a notebook cell. */
function makeMlp(requiresGrad: boolean, dtype: 'f32' | 'f64' = 'f32') {
  const cast = (t: Tensor): Tensor => {
    const c = dtype === 'f64' ? f64(t) : t;
    c.requiresGrad = requiresGrad;
    return c;
  };
  const w1 = cast(uniform([4, 8], 1));
  const b1 = cast(uniform([8], 2));
  const w2 = cast(uniform([8, 3], 3));
  w1.name = 'w1';
  const mlp = (x: Tensor): Tensor => x.matmul(w1).add(b1).relu().matmul(w2).sum();
  return { mlp, w1, b1, w2 };
}

describe('trace', () => {
  it('records an MLP with readable ids; JSON round trip and run give the eager numbers', () => {
    const { mlp } = makeMlp(false);
    const x = uniform([5, 4], 4);
    const g = trace(mlp, [x], { inputNames: ['x'] });
    expect(g.nodes.map((n) => n.id)).toEqual([
      'input_1',
      'constant_1',
      'matmul_1',
      'constant_2',
      'add_1',
      'relu_1',
      'constant_3',
      'matmul_2',
      'sum_1',
    ]);
    expect(g.outputs).toEqual([{ name: 'output', node: 'sum_1' }]);
    expect(g.node('input_1').attrs).toEqual({ shape: [5, 4], dtype: 'f32', role: 'data' });

    const json = g.toJSON();
    const loaded = reload(g);
    expect(loaded.toJSON()).toEqual(json);
    const expected = mlp(x).item();
    expect(loaded.run({ x }).output!.item()).toBe(expected);
    expect(g.run({ input_1: x }).output!.item()).toBe(expected);
  });

  it('captured weights that require gradients become parameters the graph runs with', () => {
    const { mlp, w1, b1, w2 } = makeMlp(true);
    const x = uniform([2, 4], 5);
    const g = trace(mlp, [x]);
    expect(g.parameters.map((p) => [p.id, p.name])).toEqual([
      ['parameter_1', 'w1'],
      ['parameter_2', undefined],
      ['parameter_3', undefined],
    ]);
    // The traced values stay the graph's values: the graph trains the same tensors.
    const params = g.initParameters();
    expect(params.get('parameter_1')).toBe(w1);
    expect(params.get('parameter_2')).toBe(b1);
    expect(params.get('parameter_3')).toBe(w2);
    // The document describes a re-initialisation with the same scale (w1 is U(-1, 1): rms 1/√3).
    const init = g.node('parameter_1').attrs;
    expect(init.init).toBe('normal');
    expect(init.std as number).toBeGreaterThan(0.4);
    expect(init.std as number).toBeLessThan(0.75);
    expect(w1.grad).toBeNull();

    const expected = mlp(x).item();
    expect(g.run({ input_1: x }).output!.item()).toBe(expected);
    // A loaded document has the init rule only; given the trained values it computes the same.
    const loaded = reload(g);
    expect(loaded.run({ input_1: x }, { params }).output!.item()).toBe(expected);
    expect(loaded.run({ input_1: x }).output!.item()).not.toBe(expected);
  });

  it('infers the eager shapes of every node without data', () => {
    const record =
      (seen: Tensor[]) =>
      (x: Tensor, y: Tensor): Tensor => {
        const steps = [
          x.matmul(y),
          x.sum(1, true),
          x.transpose(),
          x.reshape([2, -1]),
          x.mean(0),
          x.expand([3, 4, 6]),
          y.max(0),
          x.greater(0.5),
          x.argmax(1),
        ];
        seen.push(...steps);
        return steps[0]!.sum();
      };
    const x = uniform([4, 6], 6);
    const y = uniform([6, 2], 7);
    const eager: Tensor[] = [];
    record(eager)(x, y);
    const symbolic: Tensor[] = [];
    const g = trace(record(symbolic), [x, y], { prune: false });
    const shapes = g.inferShapes();
    expect(symbolic.length).toBe(eager.length);
    symbolic.forEach((s, i) => {
      expect(s.isSymbolic).toBe(true);
      expect(shapes.get(s.traceNode!)).toEqual({ shape: eager[i]!.shape, dtype: eager[i]!.dtype });
    });
    expect(g.check()).toEqual([]);
  });

  it('marks the batch dimension N, and infers any batch size', () => {
    const { mlp } = makeMlp(false);
    const perRow = (x: Tensor) => ({ rows: x.matmul(makeMlp(false).w1).sum(1), total: mlp(x) });
    const g = trace(perRow, [{ shape: [-1, 4], name: 'x' }]);
    expect(g.node('input_1').attrs.shape).toEqual([-1, 4]);
    const shapes = g.symbolicShapes();
    expect(shapes.get('input_1')).toEqual({ shape: ['N', 4], dtype: 'f32' });
    expect(shapes.get('matmul_1')).toEqual({ shape: ['N', 8], dtype: 'f32' });
    expect(shapes.get(g.outputs[0]!.node)).toEqual({ shape: ['N'], dtype: 'f32' });
    expect(shapes.get(g.outputs[1]!.node)).toEqual({ shape: [], dtype: 'f32' });
    expect(g.inferShapes({ batch: 7 }).get('matmul_1')!.shape).toEqual([7, 8]);
    // It runs at any batch size, and checks that every -1 agrees.
    const x = uniform([9, 4], 8);
    expectClose(g.run({ x }).total!.dataSync(), [mlp(x).item()], { rtol: 1e-6 });
    expect(g.run({ x: uniform([1, 4], 9) }).rows!.shape).toEqual([1]);
  });

  it('puts the backward pass of grad() inside a traced function into the graph', () => {
    const cube = (x: Tensor): Tensor => wg.grad((u) => u.mul(u).mul(u).sum())(x);
    const g = trace(cube, [{ shape: [3], dtype: 'f64' }]);
    expect(g.nodes.length).toBeGreaterThan(4);
    const x = wg.tensor([-1, 0.5, 2], { dtype: 'f64' });
    expectClose(reload(g).run({ input_1: x }).output!.dataSync(), [3, 0.75, 12], { rtol: 1e-12 });
  });

  it('backward() inside a trace leaves the captured weights untouched', () => {
    const w = wg.tensor([1, 2, 3], { requiresGrad: true });
    const g = trace(
      (x: Tensor) => {
        const loss = x.mul(w).sum();
        loss.backward();
        return { loss, dw: w.grad! };
      },
      [wg.tensor([4, 5, 6])],
    );
    expect(w.grad).toBeNull();
    expect(values(g.run({ input_1: wg.tensor([4, 5, 6]) }).dw!)).toEqual([4, 5, 6]);
  });

  it('keeps the seeds of random ops and dropout, and non-finite attributes', () => {
    const fn = (x: Tensor) =>
      wg.ops
        .dropout(x, 0.5, { seed: 42 })
        .add(wg.rand([6], { seed: 7 }))
        .maximum(-Infinity);
    const x = wg.tensor([1, 2, 3, 4, 5, 6]);
    const g = trace(fn, [x]);
    const seeds = g.nodes.filter((n) => n.op === 'randomUniform').map((n) => n.attrs.seed);
    expect(seeds.sort()).toEqual([42, 7].sort());
    const json = JSON.parse(JSON.stringify(g.toJSON())) as GraphJSON;
    expect(json.nodes.some((n) => n.op === 'fill' && n.attrs.value === '-Infinity')).toBe(true);
    const loaded = Graph.fromJSON(json);
    expect(loaded.toJSON()).toEqual(json);
    const eager = values(fn(x));
    expect(values(loaded.run({ input_1: x }).output!)).toEqual(eager);
    expect(values(loaded.run({ input_1: x }).output!)).toEqual(eager);
  });

  it('restores the dispatcher after an error, and refuses to read symbolic values', () => {
    expect(() => trace((x: Tensor) => wg.scalar(x.sum().item()), [{ shape: [2] }])).toThrow(
      /cannot read a symbolic tensor while tracing/,
    );
    expect(() =>
      trace(() => {
        throw new Error('boom');
      }, []),
    ).toThrow('boom');
    expect(wg.ones([2]).sum().item()).toBe(2);
    expect(() => trace(() => 3 as unknown as Tensor, [])).toThrow(
      /returned number; return a tensor/,
    );
    let leaked: Tensor | null = null;
    trace((x: Tensor) => (leaked = x.relu()), [{ shape: [2] }]);
    expect(() => trace(() => leaked!.add(1), [])).toThrow(/another trace/);
  });

  it('runs inside tidy without leaking, once parameters exist', () => {
    const { mlp } = makeMlp(false);
    const g = trace(mlp, [{ shape: [-1, 4] }]);
    const x = uniform([3, 4], 10);
    wg.tidy(() => g.run({ input_1: x }));
    const before = wg.memory();
    for (let i = 0; i < 5; i++) wg.tidy(() => g.run({ input_1: x }).output!.item());
    expect(wg.memory()).toEqual(before);
  });
});

// ---- documents ------------------------------------------------------------------------------

function doc(nodes: NodeJSON[], outputs = [{ name: 'y', node: nodes[nodes.length - 1]!.id }]) {
  return { format: 'wiregrad.graph', version: 1, nodes, outputs };
}
const input = (id: string, shape: number[] = [2, 3]): NodeJSON => ({
  id,
  op: 'input',
  inputs: [],
  attrs: { shape, dtype: 'f32', role: 'data' },
});
const relu = (id: string, from: string): NodeJSON => ({
  id,
  op: 'relu',
  inputs: [from],
  attrs: {},
});

describe('Graph.fromJSON', () => {
  it('sorts nodes topologically and round-trips the document exactly', () => {
    const json = {
      format: 'wiregrad.graph',
      version: 1,
      name: 'tiny',
      nodes: [
        relu('r', 'x'),
        { id: 's', op: 'sum', inputs: ['r'], attrs: { axes: [1], keepDims: false }, group: 'head' },
        { ...input('x'), name: 'pixels', device: 'cpu' as const },
      ],
      outputs: [{ name: 'y', node: 's' }],
      meta: { layout: { r: [10, 20] } },
    };
    const g = Graph.fromJSON(json);
    expect(g.nodes.map((n) => n.id)).toEqual(['x', 'r', 's']);
    expect(g.inputs.map((n) => n.name)).toEqual(['pixels']);
    expect(Graph.fromJSON(g.toJSON()).toJSON()).toEqual(g.toJSON());
    expect(g.toJSON()).toEqual({ ...json, nodes: [json.nodes[2], json.nodes[0], json.nodes[1]] });
    expect(
      values(
        g.run({
          pixels: wg.tensor([
            [1, -2, 3],
            [-4, 5, 6],
          ]),
        }).y!,
      ),
    ).toEqual([4, 11]);
  });

  const rejects = (json: unknown, message: RegExp) =>
    expect(() => Graph.fromJSON(json)).toThrow(message);

  it('rejects malformed documents with messages that say where', () => {
    rejects(null, /a graph document must be a JSON object, got null/);
    rejects([1, 2], /must be a JSON object, got an array/);
    rejects('{"format":"wiregrad.graph"}', /must be a JSON object, got string/);
    rejects(
      { ...doc([input('x')]), format: 'onnx' },
      /not a Wiregrad graph document: format is 'onnx'/,
    );
    rejects({ ...doc([input('x')]), nodes: {} }, /'nodes' must be an array, got object/);
    rejects({ ...doc([input('x')]), outputs: 'x' }, /'outputs' must be an array/);
    rejects({ ...doc([input('x')]), extra: 1 }, /unknown top-level field 'extra'/);
    rejects(
      doc([input('x'), 7 as unknown as NodeJSON]),
      /nodes\[1\] must be an object, got number/,
    );
    rejects(doc([{ ...input('x'), id: '' }]), /nodes\[0\] needs an id/);
    rejects(
      doc([{ ...input('x'), colour: 'red' } as NodeJSON]),
      /node 'x'.*unknown field 'colour'/,
    );
    rejects(doc([input('x')], [{ name: 'y', node: 'nope' }]), /output 'y' refers to node 'nope'/);
  });

  it('refuses newer versions and migrates older ones', () => {
    rejects(
      { ...doc([input('x')]), version: 2 },
      /written by a newer Wiregrad \(format version 2; this version reads up to 1\)/,
    );
    rejects({ ...doc([input('x')]), version: 0 }, /no migration from graph format version 0 to 1/);
    rejects({ ...doc([input('x')]), version: '1' }, /version must be a non-negative integer/);
    // A version-0 draft called the node list `ops`: a migration renames it.
    wg.registerGraphMigration(0, ({ ops, ...rest }) => ({ ...rest, nodes: ops }));
    const old = {
      format: 'wiregrad.graph',
      version: 0,
      ops: [input('x')],
      outputs: [{ name: 'y', node: 'x' }],
    };
    expect(Graph.fromJSON(old).toJSON()).toEqual(doc([input('x')]));
  });

  it('names the node and op of an unknown op, a wrong arity and a dangling edge', () => {
    rejects(
      doc([input('x'), { id: 'n2', op: 'frobnicate', inputs: ['x'], attrs: {} }]),
      /node 'n2', op 'frobnicate': unknown op 'frobnicate'/,
    );
    rejects(
      doc([input('x'), { id: 'r', op: 'relu', inputs: ['x', 'x'], attrs: {} }]),
      /node 'r', op 'relu': takes 1 input, but 2 are connected/,
    );
    rejects(
      doc([input('x'), { id: 'a', op: 'add', inputs: ['x'], attrs: {} }]),
      /node 'a', op 'add': takes 2 inputs, but 1 is connected/,
    );
    rejects(
      doc([input('x'), relu('r', 'ghost')]),
      /node 'r', op 'relu': input 0 refers to node 'ghost', which does not exist/,
    );
    try {
      Graph.fromJSON(doc([input('x'), relu('r', 'ghost')]));
    } catch (e) {
      expect(e).toBeInstanceOf(wg.GraphError);
      expect((e as wg.GraphError).node).toBe('r');
    }
  });

  it('finds duplicate ids and cycles', () => {
    rejects(
      doc([input('x'), relu('x', 'x')]),
      /node 'x'.*duplicate node id: nodes\[0\] and nodes\[1\]/,
    );
    rejects(
      doc([
        input('x'),
        { id: 'a', op: 'add', inputs: ['x', 'c'], attrs: {} },
        relu('b', 'a'),
        relu('c', 'b'),
      ]),
      /the graph has a cycle: a -> c -> b -> a/,
    );
    rejects(doc([relu('self', 'self')]), /cycle: self -> self/);
  });

  it("checks attributes against the op's spec", () => {
    const sum = (attrs: Record<string, unknown>): NodeJSON =>
      ({ id: 's', op: 'sum', inputs: ['x'], attrs }) as NodeJSON;
    rejects(
      doc([input('x'), sum({ axes: 'zero', keepDims: false })]),
      /node 's', op 'sum': attribute 'axes' must be a list of integers, got 'zero'/,
    );
    rejects(
      doc([input('x'), sum({ axes: [0.5], keepDims: false })]),
      /attribute 'axes' must be a list of integers, got \[0.5\]/,
    );
    rejects(
      doc([input('x'), sum({ axes: [0], keepDims: 1 })]),
      /attribute 'keepDims' must be true or false/,
    );
    rejects(
      doc([input('x'), sum({ axes: [0] })]),
      /node 's', op 'sum': missing attribute 'keepDims'/,
    );
    rejects(
      doc([input('x'), sum({ axes: [0], keepDims: true, fast: true })]),
      /unknown attribute 'fast'; op 'sum' takes 'axes', 'keepDims'/,
    );
    rejects(
      doc([{ ...relu('r', 'x'), attrs: { alpha: 1 } }, input('x')]),
      /op 'relu' takes no attributes/,
    );
    rejects(doc([{ id: 'r', op: 'relu', inputs: [] } as unknown as NodeJSON]), /takes 1 input/);
    rejects(
      doc([{ ...input('x'), attrs: { shape: [2], dtype: 'f16', role: 'data' } }]),
      /attribute 'dtype' must be a dtype \(f32, f64, i32, bool\), got 'f16'/,
    );
    rejects(
      doc([{ ...input('x'), attrs: { shape: [2], dtype: 'f32', role: 'weights' } }]),
      /node 'x', op 'input': role must be one of data, label/,
    );
    rejects(
      doc([
        {
          id: 'p',
          op: 'parameter',
          inputs: [],
          attrs: { shape: [2], dtype: 'f32', init: 'constant', seed: 1 },
        },
      ]),
      /node 'p', op 'parameter': init 'constant' needs a value attribute/,
    );
  });
});

describe('shape inference and checks', () => {
  const bad = doc([
    input('x', [2, 3]),
    input('b', [4]),
    { id: 'add_1', op: 'add', inputs: ['x', 'b'], attrs: {} },
    relu('after', 'add_1'),
    { id: 'ok', op: 'sum', inputs: ['x'], attrs: { axes: [0, 1], keepDims: false } },
  ]);

  it('throws the op’s error class, naming the node, op and both shapes', () => {
    const g = Graph.fromJSON(bad);
    let caught: unknown;
    try {
      g.inferShapes();
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(wg.ShapeError);
    const err = caught as wg.ShapeError;
    expect(err.node).toBe('add_1');
    expect(err.op).toBe('add');
    expect(err.message).toMatch(
      /^node 'add_1', op 'add': shapes \[2, 3\] and \[4\] cannot be broadcast/,
    );
    expect(() => g.validate()).toThrow(/node 'add_1'/);
  });

  it('check() collects one diagnostic per failing node, skipping what follows from it', () => {
    const diagnostics = Graph.fromJSON(bad).check();
    expect(diagnostics).toHaveLength(1);
    expect(diagnostics[0]!.node).toBe('add_1');
    expect(diagnostics[0]!.message).toMatch(/cannot be broadcast/);
    const constant = doc([
      {
        id: 'c',
        op: 'constant',
        inputs: [],
        attrs: { shape: [2, 2], dtype: 'f32', data: [1, 2, 3] },
      },
    ]);
    expect(Graph.fromJSON(constant).check()).toEqual([
      {
        node: 'c',
        message: "node 'c', op 'constant': holds 3 values but its shape [2, 2] needs 4",
      },
    ]);
  });

  it('checks run inputs against the declared shapes and dtypes, naming the input', () => {
    const g = Graph.fromJSON(
      doc([
        { ...input('x', [-1, 3]), name: 'pixels' },
        input('y', [-1]),
        { id: 'a', op: 'add', inputs: ['x', 'x'], attrs: {} },
      ]),
    );
    const x = wg.zeros([2, 3]);
    const y = wg.zeros([2]);
    expect(() => g.run({ pixels: wg.zeros([2, 4]), y })).toThrow(
      /node 'x', op 'input': input 'pixels' has shape \[2, 4\], but the graph declares \[N, 3\]/,
    );
    expect(() => g.run({ pixels: wg.zeros([2, 3], { dtype: 'i32' }), y })).toThrow(
      /input 'pixels' has dtype i32, but the graph declares f32/,
    );
    expect(() => g.run({ pixels: x })).toThrow(
      /input 'y' \[N\] f32 is missing: pass it as inputs\['y'\]/,
    );
    expect(() => g.run({ pixels: x, y, z: x })).toThrow(
      /no input named 'z'; the graph's inputs are 'pixels' \(x\), 'y'/,
    );
    expect(() => g.run({ pixels: x, y: wg.zeros([3]) })).toThrow(
      /input 'y' has batch size 3 .* but input 'pixels' has 2/,
    );
    expect(g.run({ x, y }).y!.shape).toEqual([2, 3]);
  });
});

describe('parameters', () => {
  const param = (attrs: Record<string, unknown>): GraphJSON =>
    doc([
      {
        id: 'w',
        op: 'parameter',
        inputs: [],
        attrs: { dtype: 'f64', seed: 3, ...attrs } as NodeJSON['attrs'],
      },
    ]) as GraphJSON;
  const stats = (t: Tensor) => {
    const v = values(t);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length;
    return { max: Math.max(...v.map(Math.abs)), mean, variance };
  };

  it("follows PyTorch's Linear/Conv2d defaults for kaimingUniform and xavierUniform", () => {
    // nn.Linear(256, 64): weight [64, 256] ~ U(-1/16, 1/16), variance bound²/3.
    const kaiming = Graph.fromJSON(param({ shape: [64, 256], init: 'kaimingUniform' }))
      .initParameters()
      .get('w')!;
    const k = stats(kaiming);
    expect(k.max).toBeLessThanOrEqual(1 / 16);
    expect(k.max).toBeGreaterThan(0.99 / 16);
    expect(k.variance * 3 * 16 ** 2).toBeCloseTo(1, 1); // sampling error ≈ 0.7%
    expect(kaiming.requiresGrad).toBe(true);
    // Its bias uses the weight's fan-in.
    const bias = Graph.fromJSON(param({ shape: [64], init: 'kaimingUniform', fanIn: 256 }))
      .initParameters()
      .get('w')!;
    expect(stats(bias).max).toBeLessThanOrEqual(1 / 16);
    expect(stats(bias).max).toBeGreaterThan(0.8 / 16);
    // Conv2d weight [out 8, in 4, 3, 3]: fan-in 36, fan-out 72.
    const xavier = Graph.fromJSON(param({ shape: [8, 4, 3, 3], init: 'xavierUniform' }))
      .initParameters()
      .get('w')!;
    const bound = Math.sqrt(6 / (36 + 72));
    expect(stats(xavier).max).toBeLessThanOrEqual(bound);
    expect(stats(xavier).max).toBeGreaterThan(0.95 * bound);
  });

  it('is deterministic in its seed, and made once per graph', () => {
    const g = Graph.fromJSON(param({ shape: [1000], init: 'normal', std: 0.5 }));
    const a = g.initParameters().get('w')!;
    expect(g.initParameters().get('w')).toBe(a);
    const again = Graph.fromJSON(param({ shape: [1000], init: 'normal', std: 0.5 }));
    expect(values(again.initParameters().get('w')!)).toEqual(values(a));
    expect(Math.sqrt(stats(a).variance)).toBeCloseTo(0.5, 1);
    const other = Graph.fromJSON(param({ shape: [1000], init: 'normal', std: 0.5, seed: 4 }));
    expect(values(other.initParameters().get('w')!)).not.toEqual(values(a));
    expect(values(g.initParameters({ reset: true }).get('w')!)).toEqual(values(a));
    expect(
      values(
        Graph.fromJSON(param({ shape: [2], init: 'constant', value: 2.5 }))
          .initParameters()
          .get('w')!,
      ),
    ).toEqual([2.5, 2.5]);
  });

  it('rejects parameter values of the wrong shape, naming the parameter', () => {
    const g = Graph.fromJSON(param({ shape: [2], init: 'zeros' }));
    expect(() => g.run({}, { params: new Map([['w', wg.zeros([3], { dtype: 'f64' })]]) })).toThrow(
      /node 'w', op 'parameter': parameter 'w' has shape \[3\], but the graph declares \[2\]/,
    );
  });
});

describe('differentiate', () => {
  /** Central differences of the graph's loss in each parameter entry (f64). */
  function numericGrad(g: Graph, x: Tensor, id: string): number[] {
    const params = g.initParameters();
    const base = values(params.get(id)!);
    const eps = 1e-6;
    return base.map((_, k) => {
      const at = (delta: number): number =>
        wg.noGrad(() => {
          const moved = Float64Array.from(base);
          moved[k]! += delta;
          const p = new Map(params);
          p.set(id, wg.tensor(moved, { shape: params.get(id)!.shape, dtype: 'f64' }));
          return g.run({ input_1: x }, { params: p }).output!.item();
        });
      return (at(eps) - at(-eps)) / (2 * eps);
    });
  }

  it('gives the gradients of eager backward() and of finite differences', () => {
    const { mlp, w1, b1, w2 } = makeMlp(true, 'f64');
    const x = f64(uniform([5, 4], 11));
    const g = trace(mlp, [x]);
    const dg = reload(differentiate(g, { loss: 'output' }));
    expect(dg.outputs.map((o) => o.name)).toEqual([
      'output',
      'grad:parameter_1',
      'grad:parameter_2',
      'grad:parameter_3',
    ]);
    // The forward nodes keep their ids; the backward pass is more nodes of the same ops.
    for (const n of g.nodes) expect(dg.node(n.id).op).toBe(n.op);
    expect(dg.nodes.filter((n) => n.op === 'matmul').length).toBeGreaterThanOrEqual(5);

    mlp(x).backward();
    const out = dg.run({ input_1: x }, { params: g.initParameters() });
    expect(out.output!.item()).toBeCloseTo(mlp(x).item(), 12);
    const weights = [w1, b1, w2];
    weights.forEach((w, i) => {
      const id = `parameter_${i + 1}`;
      const grad = out[`grad:${id}`]!;
      expect(grad.shape).toEqual(w.shape);
      expectClose(grad.dataSync(), w.grad!.dataSync(), { rtol: 1e-12, atol: 1e-14 }, id);
      expectClose(grad.dataSync(), numericGrad(g, x, id), { rtol: 1e-6, atol: 1e-8 }, id);
    });
  });

  it('differentiates a document by its init rules, for inputs too, at a chosen batch', () => {
    const g = Graph.fromJSON({
      format: 'wiregrad.graph',
      version: 1,
      nodes: [
        { id: 'x', op: 'input', inputs: [], attrs: { shape: [-1, 3], dtype: 'f64', role: 'data' } },
        {
          id: 'w',
          op: 'parameter',
          inputs: [],
          attrs: { shape: [2, 3], dtype: 'f64', init: 'kaimingUniform', seed: 9 },
        },
        {
          id: 'h',
          op: 'matmul',
          inputs: ['x', 'w'],
          attrs: { transposeA: false, transposeB: true },
        },
        { id: 't', op: 'tanh', inputs: ['h'], attrs: {} },
        { id: 'loss', op: 'sum', inputs: ['t'], attrs: { axes: [0, 1], keepDims: false } },
      ],
      outputs: [{ name: 'loss', node: 'loss' }],
    });
    const dg = differentiate(g, { loss: 'loss', wrt: ['w', 'x'], batch: 4 });
    expect(dg.node('x').attrs.shape).toEqual([4, 3]);
    const x = f64(uniform([4, 3], 12));
    const out = dg.run({ x });
    // Eager reference: the same graph run eagerly, then backward().
    const xg = f64(x);
    xg.requiresGrad = true;
    g.run({ x: xg }).loss!.backward();
    const w = g.initParameters().get('w')!;
    expectClose(out['grad:w']!.dataSync(), w.grad!.dataSync(), { rtol: 1e-12, atol: 1e-14 });
    expectClose(out['grad:x']!.dataSync(), xg.grad!.dataSync(), { rtol: 1e-12, atol: 1e-14 });
    // And by hand: d/dx sum(tanh(x wᵀ)) = (1 - tanh²(x wᵀ)) w.
    const h = x.matmul(w.transpose()).tanh();
    const expected = wg.ops.sub(1, h.mul(h)).matmul(w);
    expectClose(out['grad:x']!.dataSync(), expected.dataSync(), { rtol: 1e-12, atol: 1e-14 });
  });

  it('differentiates its own result again (second derivatives, graph to graph)', () => {
    const g = trace((x: Tensor) => x.mul(x).mul(x).sum(), [{ shape: [3], dtype: 'f64' }]);
    const dg = differentiate(g, { loss: 'output', wrt: ['input_1'] }).toJSON();
    // Edit the document as the canvas would: sum the gradient into a new scalar output.
    const gradNode = dg.outputs.find((o) => o.name === 'grad:input_1')!.node;
    const summed = Graph.fromJSON({
      ...dg,
      nodes: [
        ...dg.nodes,
        { id: 'gsum', op: 'sum', inputs: [gradNode], attrs: { axes: [0], keepDims: false } },
      ],
      outputs: [{ name: 'gsum', node: 'gsum' }],
    });
    const d2 = differentiate(summed, { loss: 'gsum', wrt: ['input_1'] });
    const x = wg.tensor([-1, 0.5, 2], { dtype: 'f64' });
    // d/dx Σ 3x² = 6x.
    expectClose(d2.run({ input_1: x })['grad:input_1']!.dataSync(), [-6, 3, 12], { rtol: 1e-12 });
  });

  it('explains what it cannot differentiate', () => {
    const g = trace((x: Tensor) => x.mul(2), [{ shape: [2] }]);
    expect(() => differentiate(g, { loss: 'output' })).toThrow(/has no parameters; pass wrt/);
    expect(() => differentiate(g, { loss: 'output', wrt: ['input_1'] })).toThrow(
      /node 'mul_1', op 'mul': differentiate: the loss must be a scalar, got \[2\]/,
    );
    expect(() => differentiate(g, { loss: 'nope' })).toThrow(
      /loss 'nope' is neither an output name \('output'\)/,
    );
    expect(() => differentiate(g, { loss: 'output', wrt: ['mul_1'] })).toThrow(
      /only differentiate with respect to input and parameter/,
    );
  });
});

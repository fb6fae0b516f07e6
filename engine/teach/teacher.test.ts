import { describe, expect, it } from 'vitest';
import * as wg from '../index.js';
import { expectClose, uniform } from '../../test/helpers/numeric.js';
import type { Lesson } from './lesson.js';
import { Teacher, teachState } from './teacher.js';

const values = (t: wg.Tensor): number[] => Array.from(t.dataSync());

/** The backward step of the forward step labelled `label`. */
function backwardOf(lesson: Lesson, label: string) {
  const step = lesson.forward.find((s) => s.label === label);
  if (!step) throw new Error(`no step labelled ${label}`);
  const b = lesson.backward.find((s) => s.id === step.id);
  if (!b) throw new Error(`no backward step for ${label}`);
  return b;
}

const named = (t: wg.Tensor, name: string): wg.Tensor => {
  t.name = name;
  return t;
};

describe('the autodiff teacher', () => {
  it('steps through (a*b + c).tanh() with the numbers backward() gives, bit for bit', () => {
    const [av, bv, cv] = [0.5, -1.5, 1];
    const f = (a: wg.Tensor, b: wg.Tensor, c: wg.Tensor): wg.Tensor => a.mul(b).add(c).tanh();
    const leaves = () => [
      named(wg.tensor(av, { dtype: 'f64', requiresGrad: true }), 'a'),
      named(wg.tensor(bv, { dtype: 'f64', requiresGrad: true }), 'b'),
      named(wg.tensor(cv, { dtype: 'f64', requiresGrad: true }), 'c'),
    ];
    const [a, b, c] = leaves() as [wg.Tensor, wg.Tensor, wg.Tensor];
    const s = a.mul(b).add(c);
    const out = s.tanh();
    const [ds] = wg.gradients(out, [s]);
    out.backward();

    const teacher = Teacher.fromFunction(f, leaves());
    expect(teacher.state().phase).toBe('start');
    // Forward: a, b, mul, c, add, tanh (sources in the order the trace met them).
    const ops: string[] = [];
    for (let st = teacher.stepForward(); st.phase === 'forward'; st = teacher.stepForward()) {
      ops.push(st.current!.op);
      if (teacher.cursor === teacher.lesson.forward.length) break;
    }
    expect(ops.filter((o) => !['input'].includes(o))).toEqual(['mul', 'add', 'tanh']);
    const fwd = teacher.state();
    expect(fwd.current!.op).toBe('tanh');
    expect(fwd.current!.inputs[0]!.value.values).toEqual([av * bv + cv]);
    expect(fwd.current!.output.values).toEqual([Math.tanh(0.25)]);

    // Backward: tanh, add, then the leaves and mul in reverse topological order.
    const first = teacher.stepBackward();
    expect(first.phase).toBe('backward');
    expect(first.current!.op).toBe('tanh');
    expect(first.current!.gradientDoc).toMatch(/tanh/);
    const g = first.current!.gradient!;
    expect(g.upstream.values).toEqual([1]);
    const dtanh = 1 - Math.tanh(0.25) ** 2;
    expectClose(g.inputGradients[0]!.value!.values, [dtanh], { rtol: 1e-15, atol: 0 });
    expect(g.inputGradients[0]!.value!.values).toEqual(values(ds!));

    const lesson = teacher.lesson;
    expect(backwardOf(lesson, 'a').upstream.values).toEqual(values(a.grad!));
    expect(backwardOf(lesson, 'b').upstream.values).toEqual(values(b.grad!));
    expect(backwardOf(lesson, 'c').upstream.values).toEqual(values(c.grad!));
    // Hand-computed: d/da = (1 − tanh²)·b, d/db = (1 − tanh²)·a, d/dc = 1 − tanh².
    expectClose(backwardOf(lesson, 'a').upstream.values, [dtanh * bv], { rtol: 1e-15, atol: 0 });
    expectClose(backwardOf(lesson, 'b').upstream.values, [dtanh * av], { rtol: 1e-15, atol: 0 });
    expectClose(backwardOf(lesson, 'c').upstream.values, [dtanh], { rtol: 1e-15, atol: 0 });

    // The mul step shows its inputs, output, upstream and the two input gradients.
    const mulState = teacher.jumpTo(lesson.forward.find((s) => s.op === 'mul')!.id, 'backward');
    expect(mulState.current!.inputs.map((i) => i.label)).toEqual(['a', 'b']);
    expect(mulState.current!.inputs.map((i) => i.value.values[0])).toEqual([av, bv]);
    expect(mulState.current!.output.values).toEqual([av * bv]);
    expect(mulState.current!.gradient!.upstream.values).toEqual(values(ds!));
    expect(mulState.current!.gradient!.inputGradients.map((x) => x.value!.values)).toEqual([
      values(a.grad!),
      values(b.grad!),
    ]);

    // Walking to the end reaches 'done'; stepBack undoes one step.
    while (teacher.state().phase !== 'done') teacher.stepBackward();
    expect(teacher.cursor).toBe(teacher.total);
    expect(teacher.stepBack().phase).toBe('backward');
    expect(teacher.stepBack().cursor).toBe(teacher.total - 2);
  });

  it('shows the contributions of a value used by several consumers, and their sum', () => {
    const x = wg.tensor([1, 2, 3], { requiresGrad: true });
    const teacher = Teacher.fromFunction((t) => t.mul(t).add(t).sum(), [named(x, 'x')]);
    const st = teacher.jumpTo(teacher.lesson.forward[0]!.id, 'backward');
    expect(st.current!.label).toBe('x');
    const g = st.current!.gradient!;
    expect(g.kind).toBe('leaf');
    // d/dx (x² + x) = 2x + 1; add passes 1 to x, mul passes x to each of its two uses.
    expect(
      g.contributions.map((c) => [
        teacher.lesson.forward.find((s) => s.id === c.from)!.op,
        c.inputIndex,
        c.value.values,
      ]),
    ).toEqual([
      ['add', 1, [1, 1, 1]],
      ['mul', 0, [1, 2, 3]],
      ['mul', 1, [1, 2, 3]],
    ]);
    expect(g.sum!.values).toEqual([3, 5, 7]);
    x.mul(x).add(x).sum().backward();
    expect(g.sum!.values).toEqual(values(x.grad!));
    // The mul step shows the running total of x's gradient after each contribution.
    const mul = teacher.jumpTo(teacher.lesson.forward.find((s) => s.op === 'mul')!.id);
    expect(mul.current!.gradient!.inputGradients.map((i) => i.accumulated!.values)).toEqual([
      [2, 3, 4],
      [3, 5, 7],
    ]);
  });

  it('teaches an MLP graph at the primitive level, matching backward() bit for bit', () => {
    const b = new wg.GraphBuilder('mlp');
    const x = b.input('x', [-1, 2], 'f32', 'data');
    const y = b.input('y', [-1], 'i32', 'label');
    const h = b.op('relu', [b.linear(x, 2, 4, 'fc1')], {}, 'relu1');
    const logits = b.linear(h, 4, 3, 'fc2');
    b.output('logits', logits);
    b.output('loss', b.op('crossEntropy', [logits, y], {}, 'loss'));
    const graph = b.build();
    const xs = uniform([5, 2], 7, -1, 1);
    const ys = wg.tensor([0, 2, 1, 1, 0], { dtype: 'i32' });

    const teacher = Teacher.fromGraph(graph, { x: xs, y: ys });
    const lesson = teacher.lesson;
    const opsSeen = new Set(lesson.forward.map((s) => s.op));
    expect(opsSeen.has('linear')).toBe(false);
    expect(opsSeen.has('crossEntropy')).toBe(false);
    expect(opsSeen.has('matmul')).toBe(true);
    expect(lesson.forward.some((s) => s.group === 'fc1' && s.op === 'matmul')).toBe(true);
    expect(lesson.forward.every((s) => s.kind !== 'op' || s.doc.length > 0)).toBe(true);
    // Every rule step has a gradient rule in words.
    for (const s of lesson.backward)
      if (s.kind === 'rule')
        expect(lesson.forward.find((f) => f.id === s.id)!.gradientDoc, s.id).toBeTruthy();

    // The same computation with autodiff: the graph's own parameters, the data requiring grad.
    const params = graph.initParameters();
    const xg = wg.tensor(xs.dataSync(), { shape: [5, 2], requiresGrad: true });
    const out = graph.run({ x: xg, y: ys });
    out['loss']!.backward();
    expect(lesson.forward.find((s) => s.id === lesson.root)!.value.values).toEqual(
      values(out['loss']!),
    );
    for (const [id, p] of params) {
      const step = lesson.backward.find((s) => s.id === lesson.nodes[id]);
      expect(step!.upstream.values, id).toEqual(values(p.grad!));
    }
    expect(lesson.backward.find((s) => s.id === 'x')!.upstream.values).toEqual(values(xg.grad!));
    // The labels get no gradient.
    expect(lesson.backward.some((s) => s.id === 'y')).toBe(false);
    // The lesson and every state are plain data.
    expect(structuredClone(lesson)).toEqual(lesson);
    const last = teachState(lesson, teacher.total);
    expect(JSON.parse(JSON.stringify(last))).toEqual(last);
    for (const p of params.values()) p.grad = null;
  });

  it('teaches a 4×4 convolution, matching backward() and finite differences', () => {
    const x = uniform([1, 1, 4, 4], 3, -1, 1);
    const w = uniform([2, 1, 3, 3], 4, -1, 1);
    const f = (xi: wg.Tensor, wi: wg.Tensor): wg.Tensor =>
      wg.ops.conv2d(xi, wi, { padding: 1 }).tanh().sum();
    const xr = wg.tensor(x.dataSync(), { shape: [1, 1, 4, 4], dtype: 'f64', requiresGrad: true });
    const wr = wg.tensor(w.dataSync(), { shape: [2, 1, 3, 3], dtype: 'f64', requiresGrad: true });
    const teacher = Teacher.fromFunction(f, [named(xr, 'x'), named(wr, 'w')]);
    f(xr, wr).backward();
    const lesson = teacher.lesson;
    expect(backwardOf(lesson, 'x').upstream.values).toEqual(values(xr.grad!));
    expect(backwardOf(lesson, 'w').upstream.values).toEqual(values(wr.grad!));
    const conv = lesson.backward.find(
      (s) => lesson.forward.find((f) => f.id === s.id)!.op === 'conv2d',
    )!;
    expect(conv.inputGradients.map((g) => g.value!.shape)).toEqual([
      [1, 1, 4, 4],
      [2, 1, 3, 3],
    ]);
    // Central differences in f64 for one weight.
    const h = 1e-6;
    const at = (delta: number): number => {
      const wd = wr.dataSync().slice();
      wd[4] = wd[4]! + delta;
      return wg.noGrad(() => f(xr, wg.tensor(wd, { shape: [2, 1, 3, 3], dtype: 'f64' })).item());
    };
    expectClose([backwardOf(lesson, 'w').upstream.values[4]!], [(at(h) - at(-h)) / (2 * h)], {
      rtol: 1e-6,
      atol: 1e-8,
    });
  });

  it('jumps to a node, plays to the end, and refuses unknown nodes with a clear error', () => {
    const a = named(wg.tensor(2, { requiresGrad: true }), 'a');
    const teacher = Teacher.fromFunction((t) => t.mul(3).exp(), [a]);
    const jumped = teacher.jumpTo(teacher.lesson.forward.find((s) => s.op === 'exp')!.id);
    expect(jumped.phase).toBe('forward');
    expect(jumped.evaluated.length).toBe(jumped.cursor);
    let st = teacher.state();
    while (st.phase !== 'done') st = teacher.next();
    expect(st.differentiated.length).toBe(teacher.lesson.backward.length);
    expect(() => teacher.jumpTo('nope')).toThrow(/no node or step 'nope'/);
    expect(teacher.reset().phase).toBe('start');
  });

  it('leaves no tensors behind', () => {
    const a = wg.tensor([1, 2], { requiresGrad: true });
    Teacher.fromFunction((t) => t.mul(t).sum(), [a]); // warm the op caches
    const before = wg.memory().tensors;
    Teacher.fromFunction((t) => t.mul(t).sum(), [a]);
    expect(wg.memory().tensors).toBe(before);
  });
});
